"""Campaign effectiveness (issue 12, item 8): the report of one campaign from its rollups, its recompute, its
XLSX / PDF exports, and campaigns side by side. Every view reads through Campaign.objects.visible_to (404)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from crm.htmx import HtmxHttpRequest
from marketing import exports_reports, selectors_reports, services_reports

VIEW = "marketing.view_campaignreport"
CHANGE = "marketing.change_campaign"


def _context(request: HtmxHttpRequest, pk: int) -> dict[str, Any]:
    report = selectors_reports.campaign_report_get(user=request.user, campaign_id=pk)
    return {
        "report": report,
        "job": services_reports.campaign_report_running_job(campaign=report.campaign),
        "can_recompute": request.user.has_perm(CHANGE),
        "products_shown": selectors_reports.PRODUCTS_SHOWN,
        "report_url": reverse("marketing:campaign-report", args=[pk]),
        "groups_url": reverse("marketing:campaign-report-groups", args=[pk]),
        "recompute_url": reverse("marketing:campaign-report-recompute", args=[pk]),
        "xlsx_url": reverse("marketing:campaign-report-xlsx", args=[pk]),
        "pdf_url": reverse("marketing:campaign-report-pdf", args=[pk]),
        "compare_url": reverse("marketing:campaign-compare") + f"?ids={pk}",
    }


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def campaign_report(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    template = "marketing/campaign_report.html" + ("#report-body" if partial else "")
    return render(request, template, _context(request, pk))


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def campaign_report_recompute(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    report = selectors_reports.campaign_report_get(user=request.user, campaign_id=pk)
    services_reports.campaign_report_request(campaign=report.campaign, actor=request.user)
    if request.htmx:
        return render(request, "marketing/campaign_report.html#report-body", _context(request, pk))
    return redirect("marketing:campaign-report", pk=pk)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def campaign_report_groups(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The target group × region rows after the first GROUPS_SHOWN, for the report's table."""
    report = selectors_reports.campaign_report_get(user=request.user, campaign_id=pk)
    context = {
        "groups": report.groups_rest,
        "start": selectors_reports.GROUPS_SHOWN,
        "rest": [],
        "rest_label": "",
        "rest_url": "",
    }
    return render(request, "marketing/report_groups.html", context, using="jinja2")


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def campaign_report_products(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The products of one target group × region (?segment=<id or empty>&region=<code>): rows for the table."""
    campaign = selectors_reports.campaign_get_for_report(user=request.user, campaign_id=pk)
    segment = request.GET.get("segment", "")
    if segment and not (segment.isdigit() and int(segment) < 2**31):
        raise Http404
    products = selectors_reports.campaign_report_group_products(
        campaign=campaign, segment_id=int(segment) if segment else None, region=request.GET.get("region", "")[:32]
    )
    return render(request, "marketing/campaign_report.html#group-products", {"products": products})


def _download(request: HtmxHttpRequest, pk: int, extension: str) -> HttpResponse:
    report = selectors_reports.campaign_report_get(user=request.user, campaign_id=pk, products_shown=None)
    if extension == "xlsx":
        response = HttpResponse(exports_reports.report_xlsx(report), content_type=exports_reports.XLSX)
    else:
        response = HttpResponse(exports_reports.report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{exports_reports.export_file_name(report, extension)}"'
    return response


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def campaign_report_xlsx(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _download(request, pk, "xlsx")


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def campaign_report_pdf(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _download(request, pk, "pdf")


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def campaign_compare(request: HtmxHttpRequest) -> HttpResponse:
    ids = selectors_reports.compare_ids(request.GET.getlist("ids"))
    context = {
        "compared": selectors_reports.campaign_compare(user=request.user, campaign_ids=ids),
        "choices": selectors_reports.compare_choices(user=request.user),
        "selected": ids,
        "max": selectors_reports.COMPARE_MAX,
    }
    return render(request, "marketing/campaign_compare.html", context)


urlpatterns = [
    path("campaigns/compare/", campaign_compare, name="campaign-compare"),
    path("campaigns/<int:pk>/report/", campaign_report, name="campaign-report"),
    path("campaigns/<int:pk>/report/groups/", campaign_report_groups, name="campaign-report-groups"),
    path("campaigns/<int:pk>/report/products/", campaign_report_products, name="campaign-report-products"),
    path("campaigns/<int:pk>/report/recompute/", campaign_report_recompute, name="campaign-report-recompute"),
    path("campaigns/<int:pk>/report/export.xlsx", campaign_report_xlsx, name="campaign-report-xlsx"),
    path("campaigns/<int:pk>/report/export.pdf", campaign_report_pdf, name="campaign-report-pdf"),
]
