"""Global search (the navigation bar's box) and the caller lookup (people and phone systems)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from contacts import selectors_search
from crm import search as global_search
from crm.auth_tokens import token_authenticate


@login_required
@require_GET
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    """The full results page, or (HTMX) the navbar dropdown; one match on the full page opens its card."""
    query = global_search.clean_query(request.GET.get("q", ""))
    groups = global_search.search_all(request.user, query)
    context = {"query": query, "groups": groups, "too_short": 0 < len(query) < selectors_search.NAME_MIN_LENGTH}
    if request.htmx:
        return render(request, "contacts/search_results.html#search-dropdown", context)
    if global_search.result_count(groups) == 1:
        return redirect(groups[0].results[0].url)
    return render(request, "contacts/search_results.html", context)


@require_GET
@never_cache
@vary_on_headers("Accept", "HX-Request")
def lookup(request: HttpRequest) -> HttpResponse:
    """Who is calling: HTML for a signed-in user; JSON (`Accept: application/json`) for an integration token."""
    if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
        return _lookup_json(request)
    return _lookup_page(request)


@login_required
def _lookup_page(request: HttpRequest) -> HttpResponse:
    phone = request.GET.get("phone")
    context: dict[str, object] = {"phone": phone or ""}
    if phone is not None:
        try:
            context["result"] = selectors_search.caller_lookup(user=request.user, phone=phone)
        except ValidationError as error:
            context["error"] = error.messages[0]
    template = "contacts/lookup.html#lookup-results" if request.htmx else "contacts/lookup.html"
    return render(request, template, context)


def _lookup_json(request: HttpRequest) -> JsonResponse:
    # Only a token authorises JSON: a session cookie alone would let any page the user visits read it.
    user = token_authenticate(request)
    if user is None:
        response = JsonResponse({"error": _("A valid integration token is required.")}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="crm"'
        return response
    try:
        result = selectors_search.caller_lookup(user=user, phone=request.GET.get("phone", ""))
    except ValidationError as error:
        return JsonResponse({"error": error.messages[0]}, status=400)
    return JsonResponse(
        selectors_search.caller_lookup_json(result, absolute_url=request.build_absolute_uri),
        json_dumps_params={"ensure_ascii": False},
    )


urlpatterns = [
    path("search/", search, name="search"),
    path("lookup/", lookup, name="lookup"),
]
