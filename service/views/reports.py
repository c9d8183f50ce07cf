"""Service reports (issue acceptance item 10): KPIs, charts and breakdowns of a period, read from the daily
rollups (service.selectors_reports), with XLSX and PDF exports of the same filter.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from crm.htmx import HtmxHttpRequest
from service import reports as report_files
from service import selectors_reports
from service.forms_reports import ReportFilterForm
from service.selectors_reports import ServiceReport

VIEW = "service.view_servicedailyrollup"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report(request: HtmxHttpRequest) -> tuple[ReportFilterForm, ServiceReport | None]:
    """The filter form and its report (None while the filter has errors)."""
    form = ReportFilterForm(request.GET or None, user=request.user)
    kwargs = form.report_kwargs()
    report = selectors_reports.service_report(user=request.user, **kwargs) if kwargs is not None else None
    return form, report


def _context(form: ReportFilterForm, report: ServiceReport | None) -> dict[str, Any]:
    query = form.query_string()
    return {
        "form": form,
        "report": report,
        "report_url": reverse("service:reports"),
        "xlsx_url": f"{reverse('service:reports-xlsx')}?{query}",
        "pdf_url": f"{reverse('service:reports-pdf')}?{query}",
    }


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def reports(request: HtmxHttpRequest) -> HttpResponse:
    form, report = _report(request)
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    template = "service/reports.html" + ("#htmx-results" if partial else "")
    # An invalid filter answers 200 with its errors: HTMX does not swap 4xx responses.
    return render(request, template, _context(form, report))


def _download(request: HtmxHttpRequest, extension: str, content_type: str) -> HttpResponse:
    form, report = _report(request)
    if report is None:  # a tampered link: the page shows what is wrong with the filter
        return render(request, "service/reports.html", _context(form, report), status=400)
    render_file = report_files.report_xlsx if extension == "xlsx" else report_files.report_pdf
    response = HttpResponse(render_file(report, filters=form.filter_labels()), content_type=content_type)
    name = report_files.export_file_name(report, extension)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def reports_xlsx(request: HtmxHttpRequest) -> HttpResponse:
    return _download(request, "xlsx", XLSX)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def reports_pdf(request: HtmxHttpRequest) -> HttpResponse:
    return _download(request, "pdf", "application/pdf")


urlpatterns = [
    path("reports/", reports, name="reports"),
    path("reports/export.xlsx", reports_xlsx, name="reports-xlsx"),
    path("reports/export.pdf", reports_pdf, name="reports-pdf"),
]
