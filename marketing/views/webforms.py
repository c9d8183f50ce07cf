"""Web-to-lead forms: the staff pages that configure them, and the public page /marketing/forms/<slug>/.

The public POST is CSRF-exempt (it is posted from other sites, by the embedded snippet) and guarded instead by
the form's own token, a honeypot field and a rate limit per IP address:
- over MARKETING_FORM_RATE posts a minute from one address → 429, nothing saved;
- a filled honeypot → the thank-you page (bots learn nothing), nothing saved;
- a wrong or missing token → 400 with a message, nothing saved.
The page may be framed by any site (it holds no session and changes nothing but adding a lead).
"""

from __future__ import annotations

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from crm.htmx import HtmxHttpRequest, add_service_errors
from marketing import selectors_leads as selectors
from marketing import services_leads
from marketing.forms_webforms import HONEYPOT, UTM_KEYS, PublicLeadForm, WebFormForm

VIEW, ADD, CHANGE = "marketing.view_webform", "marketing.add_webform", "marketing.change_webform"
EMBEDDABLE_CSP = {"frame-ancestors": ["*"]}


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def webform_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "marketing/webform_list.html", {"forms": selectors.web_form_list(user=request.user)})


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
def webform_create(request: HtmxHttpRequest) -> HttpResponse:
    form = WebFormForm(request.POST or None, user=request.user, initial={"fields": ["first_name", "email", "phone"]})
    if request.method == "POST" and form.is_valid():
        try:
            web_form = services_leads.web_form_create(actor=request.user, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The web form is saved."))
            return redirect("marketing:webform-detail", web_form.pk)
    return render(request, "marketing/webform_form.html", {"form": form, "title": _("New web form")})


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def webform_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    web_form = selectors.web_form_get(user=request.user, pk=pk)
    form = WebFormForm(request.POST or None, user=request.user, instance=web_form)
    if request.method == "POST" and form.is_valid():
        try:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            services_leads.web_form_update(web_form=web_form, actor=request.user, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The web form is saved."))
            return redirect("marketing:webform-detail", pk)
    context = {"form": form, "web_form": web_form, "title": web_form.name}
    return render(request, "marketing/webform_form.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def webform_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    web_form = selectors.web_form_get(user=request.user, pk=pk)
    hosted_url = request.build_absolute_uri(reverse("marketing:webform-public", args=[web_form.slug]))
    snippet_form = PublicLeadForm(web_form=web_form, initial={"token": web_form.token})
    snippet = render_to_string(
        "marketing/webform_snippet.html",
        {"web_form": web_form, "form": snippet_form, "hosted_url": hosted_url, "honeypot": HONEYPOT},
    )
    context = {"web_form": web_form, "hosted_url": hosted_url, "snippet": snippet.strip()}
    return render(request, "marketing/webform_detail.html", context)


def _client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client sends unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR") or None


def _initial(request: HttpRequest, web_form) -> dict[str, str]:
    initial = {key: request.GET.get(key, "")[:100] for key in UTM_KEYS}
    initial["referrer"] = request.META.get("HTTP_REFERER", "")[:500]
    initial["token"] = web_form.token
    return initial


@csrf_exempt
@xframe_options_exempt
@csp_replace(EMBEDDABLE_CSP)
@require_http_methods(["GET", "POST"])
def webform_public(request: HttpRequest, slug: str) -> HttpResponse:
    web_form = selectors.web_form_public_get(slug=slug)
    page = "marketing/webform_public.html"
    if request.method == "GET":
        form = PublicLeadForm(initial=_initial(request, web_form), web_form=web_form)
        return render(request, page, {"web_form": web_form, "form": form})
    ip = _client_ip(request)
    if not services_leads.web_form_rate_allows(ip=ip):
        return render(request, page, {"web_form": web_form, "too_many": True}, status=429)
    data = request.POST.copy()
    for key in UTM_KEYS:  # the snippet may carry the tags in its action URL instead of hidden fields
        if not data.get(key) and request.GET.get(key):
            data[key] = request.GET[key]
    if not data.get("referrer"):
        data["referrer"] = request.META.get("HTTP_REFERER", "")[:500]
    form = PublicLeadForm(data, web_form=web_form)
    if form.is_bot:
        return render(request, page, {"web_form": web_form, "done": True})
    if not form.token_ok:
        return render(request, page, {"web_form": web_form, "bad_token": True}, status=400)
    if form.is_valid():
        try:
            services_leads.lead_create(data=form.lead_data(), actor=None, web_form=web_form, ip=ip, utm=form.utm())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return render(request, page, {"web_form": web_form, "done": True})
    return render(request, page, {"web_form": web_form, "form": form}, status=422)


urlpatterns = [
    path("webforms/", webform_list, name="webform-list"),
    path("webforms/new/", webform_create, name="webform-create"),
    path("webforms/<int:pk>/", webform_detail, name="webform-detail"),
    path("webforms/<int:pk>/edit/", webform_update, name="webform-update"),
    path("forms/<slug:slug>/", webform_public, name="webform-public"),
]
