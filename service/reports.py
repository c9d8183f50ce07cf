"""Service reports: the daily rollups that Celery computes from the tickets, and the report's XLSX / PDF files.

The report page (service.selectors_reports) reads ServiceDailyRollup only. `rollups_compute` rebuilds the rows
of a range of Kyiv days from the tickets in one set-based statement: beat runs it every 30 minutes for
yesterday and today (CELERY_BEAT_SCHEDULE "service-rollups"), the seed once for its whole history.

What a row counts, per ticket, under the ticket's *current* team, assignee, category and product:
- created: on the Kyiv day of created_at;
- resolved, sla_kept (resolved with neither breach flag), resolution_minutes (created_at → resolved_at):
  on the day of resolved_at;
- first_response_minutes (created_at → first_responded_at): on the day of first_responded_at;
- reopened: one per status change to "reopened", on the day of the change (TicketStatusChange);
- csat_count / csat_sum: on the day of csat_at.
Minutes are wall-clock minutes (not business minutes), floored, never negative. Days outside the range
recomputed keep the figures they had: a ticket reassigned or reopened later changes only the days rebuilt.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib.spreadsheet import escape_formula
from service.models import ServiceDailyRollup, Ticket, TicketStatus, TicketStatusChange
from service.sla import KYIV

if TYPE_CHECKING:
    from service.selectors_reports import Figures, ServiceReport

# pg_advisory_xact_lock key of the rollup rebuild ("svc-roll" in ASCII): two runs (beat and a manual one, or a
# task redelivered under acks_late) take turns instead of deleting each other's fresh rows.
ROLLUP_LOCK_KEY = 0x7376_632D_726F_6C6C

# One row per event of a ticket in [lo, hi); the outer query groups them into one rollup row per
# day × team × agent × category × product. Each branch filters on one timestamp, so a one-day run uses the
# created_at / resolved_at indexes (first_responded_at, csat_at and changed_at are scanned: a few ms per
# 100k rows).
ROLLUP_SQL = """
INSERT INTO {rollup} (day, team_id, agent_id, category_id, product_id, created, resolved, sla_kept, reopened,
                      csat_count, csat_sum, first_response_minutes, resolution_minutes, computed_at)
SELECT e.day, e.team_id, e.agent_id, e.category_id, e.product_id,
       sum(e.created), sum(e.resolved), sum(e.sla_kept), sum(e.reopened), sum(e.csat_count), sum(e.csat_sum),
       coalesce(array_agg(e.first_minutes) FILTER (WHERE e.first_minutes IS NOT NULL), '{{}}'),
       coalesce(array_agg(e.resolution_minutes) FILTER (WHERE e.resolution_minutes IS NOT NULL), '{{}}'),
       %(now)s
FROM (
    SELECT (t.created_at AT TIME ZONE %(tz)s)::date AS day, t.team_id, t.assignee_id AS agent_id, t.category_id,
           t.product_id, 1 AS created, 0 AS resolved, 0 AS sla_kept, 0 AS reopened, 0 AS csat_count, 0 AS csat_sum,
           NULL::integer AS first_minutes, NULL::integer AS resolution_minutes
    FROM {ticket} t
    WHERE t.created_at >= %(lo)s AND t.created_at < %(hi)s
  UNION ALL
    SELECT (t.resolved_at AT TIME ZONE %(tz)s)::date, t.team_id, t.assignee_id, t.category_id, t.product_id,
           0, 1, CASE WHEN t.first_response_breached OR t.resolution_breached THEN 0 ELSE 1 END, 0, 0, 0,
           NULL, greatest(0, floor(extract(epoch FROM t.resolved_at - t.created_at) / 60))::integer
    FROM {ticket} t
    WHERE t.resolved_at >= %(lo)s AND t.resolved_at < %(hi)s
  UNION ALL
    SELECT (t.first_responded_at AT TIME ZONE %(tz)s)::date, t.team_id, t.assignee_id, t.category_id, t.product_id,
           0, 0, 0, 0, 0, 0,
           greatest(0, floor(extract(epoch FROM t.first_responded_at - t.created_at) / 60))::integer, NULL
    FROM {ticket} t
    WHERE t.first_responded_at >= %(lo)s AND t.first_responded_at < %(hi)s
  UNION ALL
    SELECT (t.csat_at AT TIME ZONE %(tz)s)::date, t.team_id, t.assignee_id, t.category_id, t.product_id,
           0, 0, 0, 0, 1, t.csat_rating, NULL, NULL
    FROM {ticket} t
    WHERE t.csat_at >= %(lo)s AND t.csat_at < %(hi)s AND t.csat_rating IS NOT NULL
  UNION ALL
    SELECT (c.changed_at AT TIME ZONE %(tz)s)::date, t.team_id, t.assignee_id, t.category_id, t.product_id,
           0, 0, 0, 1, 0, 0, NULL, NULL
    FROM {change} c JOIN {ticket} t ON t.id = c.ticket_id
    WHERE c.to_status = %(reopened)s AND c.changed_at >= %(lo)s AND c.changed_at < %(hi)s
) e
GROUP BY e.day, e.team_id, e.agent_id, e.category_id, e.product_id
"""


def _as_date(value: date | str | None, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a date or an ISO date string, not {value!r}") from None


def rollup_range(
    *, day: date | str | None = None, start: date | str | None = None, end: date | str | None = None
) -> tuple[date, date]:
    """The first and last Kyiv day that `rollups_compute` rebuilds for these arguments.

    `day` alone: that day. `start` and/or `end`: that range (a missing start is `end`, a missing end today).
    Nothing: yesterday and today. Raises ValueError for `day` with a range, a reversed range or a bad string.
    """
    one, first, last = _as_date(day, "day"), _as_date(start, "start"), _as_date(end, "end")
    if one is not None:
        if first is not None or last is not None:
            raise ValueError("give either day or start/end, not both")
        return one, one
    today = timezone.localdate(timezone.now(), KYIV)
    if first is None and last is None:
        return today - timedelta(days=1), today
    last = last or today
    first = first or last
    if first > last:
        raise ValueError(f"start {first} is after end {last}")
    return first, last


def rollups_compute(
    *, day: date | str | None = None, start: date | str | None = None, end: date | str | None = None
) -> int:
    """Rebuild the ServiceDailyRollup rows of one day or a range of Kyiv days (see `rollup_range`) and return
    the number of rows written.

    Idempotent and safe to run concurrently: in one transaction, under a transaction-level advisory lock, the
    range's rows are deleted and recomputed from the tickets by a single INSERT … SELECT … GROUP BY, so readers
    see either the old or the new rows and a second run writes the same rows again. Two years of 200,000 tickets
    (~360k rows) take ~10 s on PostgreSQL 15, most of it index upkeep and the rows' foreign-key checks; a one-day
    run ~0.1 s. Raises ValueError as `rollup_range`.
    """
    first, last = rollup_range(day=day, start=start, end=end)
    lo = datetime.combine(first, time.min, tzinfo=KYIV)
    hi = datetime.combine(last + timedelta(days=1), time.min, tzinfo=KYIV)
    sql = ROLLUP_SQL.format(
        rollup=ServiceDailyRollup._meta.db_table,
        ticket=Ticket._meta.db_table,
        change=TicketStatusChange._meta.db_table,
    )
    params = {
        "lo": lo,
        "hi": hi,
        "tz": str(KYIV),
        "now": timezone.now(),
        "reopened": TicketStatus.REOPENED.value,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK_KEY])
        cursor.execute(
            f"DELETE FROM {ServiceDailyRollup._meta.db_table} WHERE day >= %s AND day <= %s",
            [first, last],
        )
        cursor.execute(sql, params)
        return cursor.rowcount


# --- export ------------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """A spreadsheet cell: numbers and dates as they are, everything else as escaped text (no formulas)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal | date):
        return value
    return escape_formula(str(value))


def _figure_header() -> list[str]:
    return [
        _("Created"),
        _("Resolved"),
        _("SLA kept, %"),
        _("Median first answer, min"),
        _("Median resolution, h"),
        _("Reopened"),
        _("Reopen rate, %"),
        _("CSAT average"),
        _("CSAT ratings"),
    ]


def _figure_cells(figures: Figures) -> list[Any]:
    return [
        figures.created,
        figures.resolved,
        figures.sla_kept_percent,
        figures.first_response_minutes,
        figures.resolution_hours,
        figures.reopened,
        figures.reopen_rate_percent,
        figures.csat_average,
        figures.csat_count,
    ]


def report_xlsx(report: ServiceReport, *, filters: Sequence[tuple[str, str]] = ()) -> bytes:
    """The report as a workbook: the period, `filters` (label, value) and totals, the series, one sheet per
    breakdown. Every text cell goes through `escape_formula`, so a name such as "=1+2" stays text."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def append(sheet: Any, row: list[Any]) -> None:
        cells = [_cell(value) for value in row]
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value for value in cells])

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Summary"))
    append(sheet, [_("Service report")])
    append(sheet, [_("Period"), report.start, report.end])
    for label, value in filters:
        append(sheet, [label, value])
    append(sheet, [_("Computed at"), timezone.localtime(report.computed_at, KYIV).replace(tzinfo=None)
                   if report.computed_at else ""])  # fmt: skip
    append(sheet, [])
    for label, value in zip(_figure_header(), _figure_cells(report.totals), strict=True):
        append(sheet, [label, value])

    sheet = workbook.create_sheet(_("By week") if report.by_week else _("By day"))
    append(sheet, [_("Week from") if report.by_week else _("Day"), *_figure_header()])
    for point in report.series:
        append(sheet, [point.start, *_figure_cells(point.figures)])

    for title, rows in report.breakdowns:
        sheet = workbook.create_sheet(str(title)[:31])
        append(sheet, [title, *_figure_header()])
        for row in rows:
            append(sheet, [row.label, *_figure_cells(row.figures)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_pdf(report: ServiceReport, *, filters: Sequence[tuple[str, str]] = ()) -> bytes:
    """The report as an A4 PDF (service/reports_pdf.html): the period, `filters`, the totals, the series and
    the breakdowns as tables."""
    from weasyprint import HTML  # heavy import: only when a PDF is asked for
    from weasyprint.urls import URLFetcher

    html = render_to_string("service/reports_pdf.html", {"report": report, "filters": filters, "now": timezone.now()})
    # Names in the report come from users: WeasyPrint must never fetch a URL (no SSRF, no tracking).
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf()


def export_file_name(report: ServiceReport, extension: str) -> str:
    return f"service-report-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{extension}"
