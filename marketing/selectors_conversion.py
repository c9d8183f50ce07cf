"""Lead conversion (issue #12 item 2, /marketing/leads/conversion/) and the campaigns' attributed totals (item 7).

`lead_conversion` answers the page with one query over the LeadConversion rollup (computed by Celery:
marketing.services_conversion), never the leads: the rows of the period's Kyiv months (whole months) and of the
user's visibility are grouped by one dimension and, through GROUPING SETS, in total: leads, converted to a
client (status converted, client set), converted whose client won a deal created after the lead, and the mean
and median time from the lead to its conversion (the median in whole days, from the rows' day counts). Who
reads which rows mirrors `Lead.objects.visible_to`: those who see every lead read the "all" rows (with a team
filter, that team's rows); others the rows of their teams and of their own leads in other teams. Labels of
campaigns and owners are joined; no per-row queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.models import Region, Source
from crm.models import Scope, Team, User
from deals.models import DealStatus
from marketing.models import (
    Attribution,
    Campaign,
    ConversionLevel,
    LeadChannel,
    LeadConversion,
    Touch,
    sees_all_marketing,
)

DEFAULT_MONTHS = 12
MAX_DAYS = 3 * 366  # the form refuses longer periods
TOP = 50  # rows of a breakdown other than by month (campaigns, owners: hundreds at size L)
TENTH = Decimal("0.1")
DAY_SECONDS = Decimal(86400)

DIMENSIONS: dict[str, Any] = {
    "month": gettext_lazy("Month"),
    "source": gettext_lazy("Source"),
    "channel": gettext_lazy("Channel"),
    "campaign": gettext_lazy("Campaign"),
    "region": gettext_lazy("Region"),
    "owner": gettext_lazy("Owner"),
}
CONVERSION_SQL = """
WITH r AS (
    SELECT r.* FROM {rollup} r
    WHERE r.dimension = %(dimension)s AND r.month >= %(start)s AND r.month <= %(end)s AND ({scope})
), g AS (
    SELECT GROUPING({key}) AS is_total, {key} AS key, sum(r.leads) AS leads, sum(r.converted) AS converted,
           sum(r.won) AS won, sum(r.convert_seconds) AS seconds, max(r.computed_at) AS computed_at
    FROM r
    GROUP BY GROUPING SETS (({key}), ())
), h AS (
    SELECT GROUPING({key}) AS is_total, {key} AS key, u.days, sum(u.n) AS n
    FROM r CROSS JOIN LATERAL unnest(r.days, r.day_counts) AS u(days, n)
    GROUP BY GROUPING SETS (({key}, u.days), (u.days))
), c AS (
    SELECT h.*, sum(h.n) OVER (PARTITION BY h.is_total, h.key ORDER BY h.days) AS cum,
           sum(h.n) OVER (PARTITION BY h.is_total, h.key) AS total
    FROM h
), m AS (
    -- The median: the mean of the two middle days (one when the count is odd).
    SELECT c.is_total, c.key, (min(c.days) FILTER (WHERE c.cum >= floor((c.total + 1) / 2))
                               + min(c.days) FILTER (WHERE c.cum >= floor(c.total / 2) + 1)) / 2.0 AS median_days
    FROM c
    GROUP BY c.is_total, c.key
), ranked AS (
    SELECT g.*, row_number() OVER (PARTITION BY g.is_total ORDER BY g.leads DESC, g.key) AS rank,
           count(*) OVER (PARTITION BY g.is_total) AS groups
    FROM g
)
SELECT r.is_total, r.key, r.leads, r.converted, r.won, r.seconds, m.median_days, r.rank, r.groups, r.computed_at,
       {label}
FROM ranked r
LEFT JOIN m ON m.is_total = r.is_total AND m.key IS NOT DISTINCT FROM r.key
{join}
WHERE r.is_total = 1 OR r.rank <= {top:d}
"""
LABEL_JOIN = {
    "campaign": ("c.name", "LEFT JOIN {campaign} c ON c.id = nullif(r.key, '')::bigint"),
    "owner": ("coalesce(nullif(u.full_name, ''), u.email)", "LEFT JOIN {user} u ON u.id = nullif(r.key, '')::bigint"),
}


def _ratio(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def _days(seconds: float | Decimal | None) -> Decimal | None:
    if seconds is None:
        return None
    return (Decimal(str(seconds)) / DAY_SECONDS).quantize(TENTH, rounding=ROUND_HALF_UP)


def percent_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{number_format(value, decimal_pos=1)} %"


def days_text(value: Decimal | None) -> str:
    return "—" if value is None else _("%(days)s d") % {"days": number_format(value, decimal_pos=1)}


@dataclass(frozen=True)
class ConversionRow:
    """The figures of one group (or of the whole period): counts, shares (% of the leads) and days to convert."""

    key: str
    label: str
    leads: int = 0
    converted: int = 0
    won: int = 0
    mean_days: Decimal | None = None
    median_days: Decimal | None = None

    @property
    def converted_percent(self) -> Decimal | None:
        return _ratio(self.converted, self.leads)

    @property
    def won_percent(self) -> Decimal | None:
        return _ratio(self.won, self.leads)

    @property
    def converted_text(self) -> str:
        return percent_text(self.converted_percent)

    @property
    def won_text(self) -> str:
        return percent_text(self.won_percent)

    @property
    def mean_text(self) -> str:
        return days_text(self.mean_days)

    @property
    def median_text(self) -> str:
        return days_text(self.median_days)


@dataclass(frozen=True)
class ConversionReport:
    by: str
    start: date
    end: date
    totals: ConversionRow
    rows: list[ConversionRow] = field(default_factory=list)
    truncated: bool = False  # more groups than TOP: the largest TOP are shown
    computed_at: datetime | None = None  # when the rollup read was computed (None: no rows in the period)

    @property
    def dimension_label(self) -> str:
        return str(DIMENSIONS[self.by])

    @property
    def top(self) -> int:
        return TOP

    def chart_json(self) -> str:
        """`chart_data` as JSON for the page's data-chart attribute (escaped there by the template engine)."""
        return json.dumps(self.chart_data(), ensure_ascii=False)

    def chart_data(self) -> dict[str, Any]:
        """What static/js/marketing_charts.js draws: one chart config per canvas id."""

        def numbers(values: list[Decimal | None]) -> list[float | None]:
            return [None if v is None else float(v) for v in values]

        labels = [row.label for row in self.rows]
        kind = "line" if self.by == "month" else "bar"
        return {
            "chart-conversion": {
                "type": kind,
                "labels": labels,
                "percent": True,
                "datasets": [
                    {"label": _("Became clients, %"), "data": numbers([r.converted_percent for r in self.rows])},
                    {"label": _("Won a deal, %"), "data": numbers([r.won_percent for r in self.rows])},
                ],
            },
            "chart-time": {
                "type": kind,
                "labels": labels,
                "datasets": [
                    {"label": _("Mean days to convert"), "data": numbers([r.mean_days for r in self.rows])},
                    {"label": _("Median days to convert"), "data": numbers([r.median_days for r in self.rows])},
                ],
            },
        }


# --- period and choices --------------------------------------------------------------------------------


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last DEFAULT_MONTHS Kyiv calendar months, the current one included (up to today)."""
    today = today or timezone.localdate()
    month = today.month - (DEFAULT_MONTHS - 1)
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1), today


def conversion_teams(*, user: User) -> QuerySet[Team]:
    """The teams the filter offers: every team to those who see every lead, otherwise the user's teams."""
    teams = Team.objects.all() if sees_all_marketing(user) else Team.objects.visible_to(user)
    return teams.order_by("name").only("id", "name")


def _months(start: date, end: date) -> list[date]:
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def _choice_label(by: str, key: Any) -> str:
    if key in (None, ""):
        return {
            "source": _("No source"),
            "region": _("No region"),
            "campaign": _("No campaign"),
            "owner": _("Unassigned"),
        }.get(by, "—")
    choices = {"source": Source, "channel": LeadChannel, "region": Region}.get(by)
    if choices is not None:
        try:
            return str(choices(key).label)
        except ValueError:
            return str(key)
    return str(key)


# --- the report ----------------------------------------------------------------------------------------


def _scope(user: User, team_id: int | None) -> tuple[str, dict[str, Any]]:
    """The rollup rows `user` reads (see LeadConversion): the SQL condition and its parameters."""
    team = " AND r.team_id = %(team_id)s" if team_id is not None else ""
    params: dict[str, Any] = {"team_id": team_id, "user_id": user.pk}
    if sees_all_marketing(user):
        if team_id is None:
            return "r.level = %(all)s", {**params, "all": ConversionLevel.ALL.value}
        return "r.level = %(team)s" + team, {**params, "team": ConversionLevel.TEAM.value}
    teams = sorted(user.team_ids) if user.scope == Scope.TEAM else []
    own = "r.level = %(owner)s AND r.owner_id = %(user_id)s AND (r.team_id IS NULL OR NOT r.team_id = ANY(%(teams)s))"
    condition = f"(r.level = %(team)s AND r.team_id = ANY(%(teams)s) OR {own}){team}"
    return condition, {
        **params,
        "teams": teams,
        "team": ConversionLevel.TEAM.value,
        "owner": ConversionLevel.OWNER.value,
    }


def _last_day(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def lead_conversion(*, user: User, by: str, start: date, end: date, team_id: int | None = None) -> ConversionReport:
    """Conversion of `user`'s visible leads created in the Kyiv months of start..end (whole months: the report's
    start and end are the first and last day of those months), grouped by `by` (a key of DIMENSIONS), optionally
    of one team. One SQL query over the LeadConversion rollup. The caller checks marketing.view_lead.
    Raises ValueError for an unknown dimension or a reversed period."""
    if by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}")
    if start > end:
        raise ValueError("start is after end")
    first, last = start.replace(day=1), end.replace(day=1)
    empty = ConversionReport(by=by, start=first, end=_last_day(last), totals=ConversionRow(key="", label=_("Total")))
    if not user.is_authenticated or not user.is_active:
        return empty
    scope, params = _scope(user, team_id)
    label, join = LABEL_JOIN.get(by, ("NULL", ""))
    sql = CONVERSION_SQL.format(
        rollup=LeadConversion._meta.db_table,
        scope=scope,
        key="r.month" if by == "month" else "r.key",
        label=label,
        join=join.format(campaign=Campaign._meta.db_table, user=User._meta.db_table),
        top=10_000 if by == "month" else TOP,
    )
    params.update(dimension="channel" if by == "month" else by, start=first, end=last)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        result = cursor.fetchall()

    totals, computed_at = empty.totals, None
    groups: list[tuple[int, ConversionRow]] = []
    group_count = 0
    for is_total, key, count, converted, won, seconds, median, rank, of_groups, computed, name in result:
        count, converted, won = int(count or 0), int(converted or 0), int(won or 0)  # sums: NULL over no rows
        mean = _days(Decimal(seconds) / converted) if converted else None
        median_days = None if median is None else Decimal(median).quantize(TENTH, rounding=ROUND_HALF_UP)
        if is_total:
            totals = ConversionRow("", _("Total"), count, converted, won, mean, median_days)
            computed_at = computed
            continue
        group_count = of_groups
        if by == "month":
            text = date_format(key, "YEAR_MONTH_FORMAT")
        elif by in LABEL_JOIN:
            text = name if key else _choice_label(by, None)
        else:
            text = _choice_label(by, key)
        row = ConversionRow("" if key is None else str(key), text, count, converted, won, mean, median_days)
        groups.append((rank, row))
    if by == "month":
        # Every month of the period, in order, with zeros where no lead came.
        present = {row.key: row for _rank, row in groups}
        rows = [
            present.get(month.isoformat(), ConversionRow(month.isoformat(), date_format(month, "YEAR_MONTH_FORMAT")))
            for month in _months(first, last)
        ]
    else:
        rows = [row for _rank, row in sorted(groups, key=lambda item: item[0])]
    return ConversionReport(
        by=by,
        start=first,
        end=_last_day(last),
        totals=totals,
        rows=rows,
        truncated=len(rows) < group_count,
        computed_at=computed_at,
    )


# --- attributed totals of a campaign -------------------------------------------------------------------


def campaign_attribution_totals(campaign: Campaign) -> dict[str, dict[str, Any]]:
    """What attribution_compute attributed to `campaign`, per touch ("first", "last"): leads, deals, deals won,
    orders, the won deals' revenue, the orders' revenue and revenue (both; Decimal). One aggregate query over
    marketing_attr_campaign_idx. The caller checks that the user may see the campaign."""
    kind = Attribution.Kind
    rows = (
        Attribution.objects.filter(campaign=campaign)
        .values("touch")
        .annotate(
            leads=Count("id", filter=Q(kind=kind.LEAD)),
            deals=Count("id", filter=Q(kind=kind.DEAL)),
            deals_won=Count("id", filter=Q(kind=kind.DEAL, deal__status=DealStatus.WON)),
            orders=Count("id", filter=Q(kind=kind.ORDER)),
            deal_revenue=Sum("revenue", filter=Q(kind=kind.DEAL), default=Decimal("0")),
            order_revenue=Sum("revenue", filter=Q(kind=kind.ORDER), default=Decimal("0")),
        )
        .order_by("touch")
    )
    empty = {"leads": 0, "deals": 0, "deals_won": 0, "orders": 0, "deal_revenue": Decimal("0.00"),
             "order_revenue": Decimal("0.00")}  # fmt: skip
    totals = {touch.value: {**empty} for touch in Touch}
    for row in rows:
        totals[row.pop("touch")] = row
    for figures in totals.values():
        figures["revenue"] = figures["deal_revenue"] + figures["order_revenue"]
    return totals
