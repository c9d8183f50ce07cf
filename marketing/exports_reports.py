"""The campaign report as files: XLSX (openpyxl, every text cell formula-escaped) and PDF (WeasyPrint)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib.spreadsheet import escape_formula
from marketing.selectors_reports import CampaignReportData, Figures

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    """Numbers and dates as they are, everything else as escaped text (a name "=cmd()" stays text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal | date):
        return value
    return escape_formula(str(value))


def _header() -> list[str]:
    return [
        _("Members"), _("Sent"), _("Delivered"), _("Opened"), _("Clicked"), _("Responses"), _("Unsubscribed"),
        _("Bounced"), _("Leads"), _("Clients"), _("Conversion, %"), _("Deals won"), _("Revenue, UAH"),
        _("Cost, UAH"), _("Cost per lead, UAH"), _("Cost per client, UAH"), _("ROI, %"),
    ]  # fmt: skip


def _figures(f: Figures) -> list[Any]:
    return [f.members, f.sent, f.delivered, f.opened, f.clicked, f.responded, f.unsubscribed, f.bounced, f.leads,
            f.clients, f.conversion_percent, f.deals_won, f.revenue, f.cost, f.cost_per_lead, f.cost_per_client,
            f.roi_percent]  # fmt: skip


def report_xlsx(report: CampaignReportData) -> bytes:
    """Summary, the target group × product × region rows, and the breakdowns, one sheet each."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def append(sheet: Any, row: list[Any]) -> None:
        cells = [_cell(value) for value in row]
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in cells])

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Summary"))
    campaign = report.campaign
    append(sheet, [_("Campaign"), campaign.name])
    append(sheet, [_("Period"), campaign.starts_on, campaign.ends_on])
    computed = timezone.localtime(report.computed_at).replace(tzinfo=None) if report.computed_at else ""
    append(sheet, [_("Computed at"), computed])
    append(sheet, [])
    for label, value in zip(_header(), _figures(report.totals), strict=True):
        append(sheet, [label, value])

    sheet = workbook.create_sheet(_("Target group × product × region"))
    append(sheet, [_("Target group"), _("Region"), _("Product"), *_header()])
    for group in report.groups:
        append(sheet, [group.segment, group.region, _("All products"), *_figures(group.figures)])
        for product in group.products:
            append(sheet, [group.segment, group.region, product.product, *_figures(product.figures)])

    for title, rows in (
        (_("By target group"), report.by_segment),
        (_("By product"), report.by_product),
        (_("By region"), report.by_region),
    ):
        sheet = workbook.create_sheet(title[:31])
        append(sheet, [title, *_header()])
        for row in rows:
            append(sheet, [row.label, *_figures(row.figures)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_pdf(report: CampaignReportData) -> bytes:
    """The report as an A4 landscape PDF (marketing/campaign_report_pdf.html; DejaVu Sans covers Cyrillic)."""
    from weasyprint import HTML  # heavy import: only when a PDF is asked for
    from weasyprint.urls import URLFetcher

    html = render_to_string("marketing/campaign_report_pdf.html", {"report": report, "now": timezone.now()})
    # Names come from users: WeasyPrint must never fetch a URL (no SSRF, no tracking).
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf()


def export_file_name(report: CampaignReportData, extension: str) -> str:
    return f"campaign-{report.campaign.pk}-report.{extension}"
