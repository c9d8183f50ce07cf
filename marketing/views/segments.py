"""Target groups (issue #12, item 4): the list, create from a saved filter, the card with the stored count,
a preview of the first members and the campaigns using the group, edit, freeze, static members, recount
and the export of the potential clients (CSV / Excel; big groups through a crm.Job with a progress bar).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from crm.htmx import HtmxHttpRequest, call_service, keyset_urls
from marketing import exports
from marketing import selectors_segments as sel
from marketing import services_segments as services
from marketing.forms_segments import (
    SegmentCreateForm,
    SegmentExportForm,
    SegmentFreezeForm,
    SegmentMembersForm,
    SegmentUpdateForm,
)
from marketing.models import Segment

VIEW, ADD, CHANGE = services.VIEW, services.ADD, services.CHANGE
COUNT_POLL_FOR = timedelta(minutes=5)  # a recount still not stored after this stops polling (worker down)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def segment_list(request: HtmxHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:150]
    page = sel.segment_list(user=request.user, query=query, after=request.GET.get("after", "")[:200])
    list_url = reverse("marketing:segment-list")
    urls = keyset_urls(list_url, urlencode({"q": query}) if query else "", page.next_cursor, cursor="after")
    context = {"page": page, "query": query, "list_url": list_url, **urls, "now": timezone.now()}
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, "marketing/segment_list.html" + ("#segment-results" if partial else ""), context)


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def segment_create(request: HtmxHttpRequest) -> HttpResponse:
    initial = {"saved_filter": request.GET.get("saved_filter")} if request.GET.get("saved_filter", "").isdigit() else {}
    form = SegmentCreateForm(request.POST if request.method == "POST" else None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        segment = call_service(form, services.segment_create, actor=request.user, **form.service_kwargs())
        if segment is not None:
            messages.success(request, _("The target group “%(name)s” is saved.") % {"name": segment.name})
            return redirect("marketing:segment-detail", segment.pk)
    context = {"form": form, "segment": None, "title": _("New target group")}
    return render(request, "marketing/segment_form.html" + ("#segment-form" if request.htmx else ""), context)


def _since(request: HtmxHttpRequest) -> datetime | None:
    try:
        return datetime.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        return None


def _count_context(segment: Segment, since: datetime | None) -> dict:
    now = timezone.now()
    waiting = since is not None and now - since < COUNT_POLL_FOR
    counting = waiting and (segment.counted_at is None or segment.counted_at < since)
    poll_url = reverse("marketing:segment-detail", args=[segment.pk])
    poll_url += "?" + urlencode({"part": "count", "since": since.isoformat()}) if since else ""
    return {"row": sel.segment_row(segment), "segment": segment, "counting": counting, "poll_url": poll_url}


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def segment_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    segment = sel.segment_get(user=request.user, pk=pk)
    if request.htmx and request.GET.get("part") == "count":
        return render(request, "marketing/segment_detail.html#segment-count", _count_context(segment, _since(request)))
    card = sel.segment_card(user=request.user, segment=segment)
    context = {
        "card": card,
        **_count_context(segment, None),
        "export_form": SegmentExportForm(),
        "freeze_form": SegmentFreezeForm(),
        "members_form": SegmentMembersForm(initial={"action": SegmentMembersForm.ADD}),
    }
    return render(request, "marketing/segment_detail.html", context)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def segment_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    segment = sel.segment_get(user=request.user, pk=pk)
    form = SegmentUpdateForm(request.POST if request.method == "POST" else None, instance=segment)
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        if call_service(form, services.segment_update, segment=segment, actor=request.user, **kwargs) is not None:
            messages.success(request, _("The target group is saved."))
            return redirect("marketing:segment-detail", pk)
    context = {"form": form, "segment": segment, "title": str(segment)}
    return render(request, "marketing/segment_form.html" + ("#segment-form" if request.htmx else ""), context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def segment_recount(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    segment = sel.segment_get(user=request.user, pk=pk)
    since = timezone.now()
    services.segment_recount(segment=segment, actor=request.user)
    if request.htmx:
        segment.refresh_from_db(fields=["member_count", "counted_at"])  # an eager or quick worker is done already
        return render(request, "marketing/segment_detail.html#segment-count", _count_context(segment, since))
    messages.success(request, _("The recount is queued; the number updates in a moment."))
    return redirect("marketing:segment-detail", pk)


@login_required
@permission_required(ADD, raise_exception=True)
@require_POST
def segment_freeze(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    segment = sel.segment_get(user=request.user, pk=pk)
    form = SegmentFreezeForm(request.POST)
    if form.is_valid():
        copy = call_service(form, services.segment_freeze, segment=segment, actor=request.user, **form.cleaned_data)
        if copy is not None:
            messages.success(request, _("The static copy “%(name)s” is made.") % {"name": copy.name})
            return redirect("marketing:segment-detail", copy.pk)
    for error in form.non_field_errors() + form.errors.get("name", []):
        messages.error(request, error)
    return redirect("marketing:segment-detail", pk)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def segment_members(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    segment = sel.segment_get(user=request.user, pk=pk)
    form = SegmentMembersForm(request.POST)
    if form.is_valid():
        remove = form.cleaned_data["action"] == SegmentMembersForm.REMOVE
        service = services.segment_members_remove if remove else services.segment_members_add
        count = call_service(form, service, segment=segment, actor=request.user, ids=form.cleaned_data["ids"])
        if count is not None:
            text = (
                ngettext("%(count)d member removed.", "%(count)d members removed.", count)
                if remove
                else ngettext("%(count)d member added.", "%(count)d members added.", count)
            )
            messages.success(request, text % {"count": count})
            return redirect("marketing:segment-detail", pk)
    card = sel.segment_card(user=request.user, segment=segment)
    context = {
        "card": card,
        **_count_context(segment, None),
        "export_form": SegmentExportForm(),
        "freeze_form": SegmentFreezeForm(),
        "members_form": form,
    }
    return render(request, "marketing/segment_detail.html", context, status=400)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def segment_export(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Up to MARKETING_EXPORT_INLINE_LIMIT people stream as a download; more become a job with a progress page."""
    segment = sel.segment_get(user=request.user, pk=pk)
    form = SegmentExportForm(request.GET)
    if not form.is_valid():
        messages.error(request, _("Choose CSV or Excel."))
        return redirect("marketing:segment-detail", pk)
    fmt, consented_only = form.cleaned_data["format"], form.cleaned_data["consented_only"]
    qs = sel.export_people(segment=segment, user=request.user, consented_only=consented_only)
    limit = exports.inline_limit()
    if sel.count_up_to(qs, limit + 1) > limit:
        job = services.segment_export_start(segment=segment, actor=request.user, fmt=fmt, consented_only=consented_only)
        return redirect("crm:job-detail", job.pk)
    if fmt == "csv":
        response: HttpResponse = StreamingHttpResponse(
            exports.stream_csv(exports.export_rows(qs)), content_type=exports.CONTENT_TYPES["csv"]
        )
    else:
        response = HttpResponse(exports.render_export(qs, fmt=fmt), content_type=exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{exports.file_name(segment, fmt)}"'
    return response


urlpatterns = [
    path("segments/", segment_list, name="segment-list"),
    path("segments/new/", segment_create, name="segment-create"),
    path("segments/<int:pk>/", segment_detail, name="segment-detail"),
    path("segments/<int:pk>/edit/", segment_update, name="segment-update"),
    path("segments/<int:pk>/recount/", segment_recount, name="segment-recount"),
    path("segments/<int:pk>/freeze/", segment_freeze, name="segment-freeze"),
    path("segments/<int:pk>/members/", segment_members, name="segment-members"),
    path("segments/<int:pk>/export/", segment_export, name="segment-export"),
]
