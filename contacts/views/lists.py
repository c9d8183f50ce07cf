"""Company and person lists: filters, keyset pages, saved filters, bulk actions and export (issue 4, items 6, 12)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from contacts import exports, selectors_lists, services_lists
from contacts.filters import BulkForm, SavedFilterForm, list_filter, list_query
from contacts.models import SavedFilter
from crm.htmx import HtmxHttpRequest, keyset_urls
from crm.models import User

COMPANY, PERSON = SavedFilter.Target.COMPANY, SavedFilter.Target.PERSON
LIST_URLS = {COMPANY: "contacts:company-list", PERSON: "contacts:person-list"}
URLS = {
    COMPANY: {
        "export": "contacts:company-export",
        "bulk": "contacts:company-bulk",
        "filter_form": "contacts:company-filter-form",
        "bulk_controls": "contacts:company-bulk-controls",
        "saved_filters": "contacts:company-saved-filters",
    },
    PERSON: {
        "export": "contacts:person-export",
        "bulk": "contacts:person-bulk",
        "filter_form": "contacts:person-filter-form",
        "bulk_controls": "contacts:person-bulk-controls",
        "saved_filters": "contacts:person-saved-filters",
    },
}
TEMPLATES = {COMPANY: "contacts/company_list.html", PERSON: "contacts/person_list.html"}


def _list_url(target: str, query: str = "") -> str:
    return reverse(LIST_URLS[target]) + (f"?{query}" if query else "")


def _join(query: str, **extra: str) -> str:
    return "&".join(part for part in (query, urlencode(extra)) if part)


def _sort_links(target: str, query: str, current: str) -> dict[str, str]:
    """Column header links: the first click sorts ascending (last contact: newest first), the next reverses."""
    rest = QueryDict(query, mutable=True)
    rest.pop("sort", None)
    links = {}
    for key, first in (("name", "name"), ("last_contact", "-last_contact")):
        sort = first if current not in (key, f"-{key}") else ("-" + current).replace("--", "")
        links[key] = _list_url(target, _join(rest.urlencode(), sort=sort))
    return links


def _render_list(
    request: HtmxHttpRequest, target: str, data: QueryDict, *, bulk_form: BulkForm | None = None, status: int = 200
) -> HttpResponse:
    """The list page, or for an HTMX request its results (plus the filter form, swapped out of band)."""
    user = request.user
    filterset = list_filter(target=target, user=user, data=data)
    page = selectors_lists.list_page(filterset=filterset, target=target, cursor=data.get("cursor"))
    query = list_query(target=target, data=data)
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    filter_url = reverse(URLS[target]["filter_form"])
    context = {
        "target": target,
        "filter": filterset,
        "page": page,
        "query": query,
        "list_url": _list_url(target),
        # A valid filter shows as chips above the rows; its form loads when the panel opens. A filter with
        # errors opens the panel with the form, so each message is next to its field.
        "filter_open": filterset.is_bound and not filterset.form.is_valid(),
        "filter_form_url": f"{filter_url}?{query}" if query else filter_url,
        "current_sort": filterset.current_sort,
        "sort_links": _sort_links(target, query, filterset.current_sort),
        **keyset_urls(_list_url(target), query, page.next_cursor),
        "export_csv_url": f"{reverse(URLS[target]['export'])}?{_join(query, format='csv')}",
        "export_xlsx_url": f"{reverse(URLS[target]['export'])}?{_join(query, format='xlsx')}",
        "bulk_url": reverse(URLS[target]["bulk"]),
        # Only a refused bulk action renders its form here; otherwise its controls load on the first checked row.
        "bulk_form": bulk_form,
        "bulk_controls_url": reverse(URLS[target]["bulk_controls"]),
        "selected_ids": {int(pk) for pk in bulk_form.data.getlist("ids") if pk.isdigit()} if bulk_form else set(),
        "saved_form": SavedFilterForm(initial={"target": target, "query": query}),
        "saved_filters_url": reverse(URLS[target]["saved_filters"]),
    }
    template = TEMPLATES[target] + ("#htmx-results" if partial else "")
    return render(request, template, context, status=status)


def _download(qs: QuerySet, target: str, fmt: str) -> HttpResponse:
    content = exports.render_export(qs, target=target, fmt=fmt)
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{exports.file_name(target, fmt)}"'
    return response


def _export(request: HtmxHttpRequest, target: str) -> HttpResponse:
    """Up to SYNC_EXPORT_LIMIT rows as a download; more become a background job with a progress page."""
    filterset = list_filter(target=target, user=request.user, data=request.GET)
    fmt = request.GET.get("format", "csv")
    if fmt not in services_lists.EXPORT_FORMATS or (filterset.is_bound and not filterset.is_valid()):
        return redirect(_list_url(target, list_query(target=target, data=request.GET)))  # the list shows why
    if selectors_lists.count_up_to(filterset.qs, exports.SYNC_EXPORT_LIMIT + 1) > exports.SYNC_EXPORT_LIMIT:
        job = services_lists.list_export_start(
            actor=request.user, target=target, query=request.GET.urlencode(), fmt=fmt
        )
        return redirect("crm:job-detail", job.pk)
    return _download(selectors_lists.export_queryset(filterset=filterset, target=target), target, fmt)


def _bulk_apply(user: User, target: str, data: dict[str, Any]) -> int:
    action, ids = data["action"], data["ids"]
    if action == BulkForm.OWNER:
        change_owner = (
            services_lists.company_bulk_change_owner if target == COMPANY else services_lists.person_bulk_change_owner
        )
        return change_owner(actor=user, ids=ids, owner=data["owner"])
    return services_lists.company_bulk_tags(actor=user, ids=ids, tag=data["tag"], remove=action == BulkForm.TAG_REMOVE)


def _bulk(request: HtmxHttpRequest, target: str) -> HttpResponse:
    form = BulkForm(request.POST, user=request.user, target=target)
    query = QueryDict(request.POST.get("query", ""))
    if form.is_valid():
        data = form.cleaned_data
        if data["action"] in (BulkForm.EXPORT_CSV, BulkForm.EXPORT_XLSX):
            qs = selectors_lists.export_selected_queryset(user=request.user, target=target, ids=data["ids"])
            return _download(qs, target, "csv" if data["action"] == BulkForm.EXPORT_CSV else "xlsx")
        try:
            count = _bulk_apply(request.user, target, data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, ngettext("%(count)d row changed.", "%(count)d rows changed.", count) % {"count": count}
            )
            return redirect(_list_url(target, list_query(target=target, data=query)))
    return _render_list(request, target, query, bulk_form=form)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def company_list(request: HtmxHttpRequest) -> HttpResponse:
    return _render_list(request, COMPANY, request.GET)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def person_list(request: HtmxHttpRequest) -> HttpResponse:
    return _render_list(request, PERSON, request.GET)


@login_required
@require_GET
def list_filter_form(request: HtmxHttpRequest, target: str) -> HttpResponse:
    """The filter form (with the list's current filter), fetched when the collapsed filter panel opens."""
    filterset = list_filter(target=target, user=request.user, data=request.GET)
    context = {"filter": filterset, "list_url": _list_url(target)}
    return render(request, f"{TEMPLATES[target]}#filter-form", context)


@login_required
@require_GET
def list_bulk_controls(request: HtmxHttpRequest, target: str) -> HttpResponse:
    """The bulk action controls, fetched when the first row of a list page is checked."""
    context = {"bulk_form": BulkForm(user=request.user, target=target)}
    return render(request, "contacts/includes/list_bulk_controls.html", context)


@login_required
@require_GET
def list_saved_filters(request: HtmxHttpRequest, target: str) -> HttpResponse:
    """The items of the saved-filter menu, fetched when it first opens."""
    context = {"saved_filters": selectors_lists.saved_filter_list(user=request.user, target=target)}
    return render(request, "contacts/includes/list_saved_filters.html", context)


@login_required
@require_GET
def company_export(request: HtmxHttpRequest) -> HttpResponse:
    return _export(request, COMPANY)


@login_required
@require_GET
def person_export(request: HtmxHttpRequest) -> HttpResponse:
    return _export(request, PERSON)


@login_required
@require_POST
def company_bulk(request: HtmxHttpRequest) -> HttpResponse:
    return _bulk(request, COMPANY)


@login_required
@require_POST
def person_bulk(request: HtmxHttpRequest) -> HttpResponse:
    return _bulk(request, PERSON)


@login_required
@require_POST
def saved_filter_create(request: HtmxHttpRequest) -> HttpResponse:
    form = SavedFilterForm(request.POST)
    if form.is_valid():
        try:
            saved = services_lists.saved_filter_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The filter “%(name)s” is saved.") % {"name": saved.name})
            return redirect(_list_url(saved.target, saved.query))
    return render(request, "contacts/savedfilter_form.html", {"form": form, "target": form.data.get("target")})


@login_required
@require_GET
def saved_filter_apply(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    saved = selectors_lists.saved_filter_get(user=request.user, pk=pk)
    return redirect(_list_url(saved.target, saved.query))


@login_required
@require_POST
def saved_filter_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    try:
        saved = services_lists.saved_filter_delete(actor=request.user, pk=pk)
    except SavedFilter.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The filter “%(name)s” is deleted.") % {"name": saved.name})
    return redirect(_list_url(saved.target))


urlpatterns = [
    path("companies/", company_list, name="company-list"),
    path("companies/export/", company_export, name="company-export"),
    path("companies/filter-form/", list_filter_form, {"target": COMPANY}, name="company-filter-form"),
    path("companies/bulk/", company_bulk, name="company-bulk"),
    path("companies/bulk/controls/", list_bulk_controls, {"target": COMPANY}, name="company-bulk-controls"),
    path("companies/saved-filters/", list_saved_filters, {"target": COMPANY}, name="company-saved-filters"),
    path("people/", person_list, name="person-list"),
    path("people/export/", person_export, name="person-export"),
    path("people/filter-form/", list_filter_form, {"target": PERSON}, name="person-filter-form"),
    path("people/bulk/", person_bulk, name="person-bulk"),
    path("people/bulk/controls/", list_bulk_controls, {"target": PERSON}, name="person-bulk-controls"),
    path("people/saved-filters/", list_saved_filters, {"target": PERSON}, name="person-saved-filters"),
    path("saved-filters/new/", saved_filter_create, name="saved-filter-create"),
    path("saved-filters/<int:pk>/", saved_filter_apply, name="saved-filter-apply"),
    path("saved-filters/<int:pk>/delete/", saved_filter_delete, name="saved-filter-delete"),
]
