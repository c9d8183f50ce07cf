"""The service report (/service/reports/): figures of a period read from ServiceDailyRollup only, never the tickets.

One query answers the whole page: the rollup rows of the period and scope are unpivoted into their counts and
their minute arrays (unnest), then grouped by GROUPING SETS into the totals, the series (by day, or by ISO week
for a period over SERIES_DAYS days) and the breakdowns by team, agent, category and product (the top
BREAKDOWN_SIZE by volume each); medians are percentile_cont over the unnested minutes.

Scope (`report_team_ids`): directors and administrators read every team (and tickets of no team); managers the
teams in `user.team_ids`; anybody else (service agents) their own team.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crm.models import Role, Scope, Team, User
from deals.models import Product
from service.models import ServiceDailyRollup, TicketCategory
from service.sla import KYIV

DEFAULT_DAYS = 30
SERIES_DAYS = 62  # a longer period is charted by week
MAX_DAYS = 3 * 366  # the form refuses longer periods
BREAKDOWN_SIZE = 20
ONE, TENTH, HUNDREDTH = Decimal(1), Decimal("0.1"), Decimal("0.01")

# GROUPING(bucket, team_id, agent_id, category_id, product_id): a bit is set for each column not grouped by.
TOTAL, SERIES, BY_TEAM, BY_AGENT, BY_CATEGORY, BY_PRODUCT = 0b11111, 0b01111, 0b10111, 0b11011, 0b11101, 0b11110

REPORT_SQL = """
WITH r AS (
    SELECT {bucket} AS bucket, team_id, agent_id, category_id, product_id, created, resolved, sla_kept, reopened,
           csat_count, csat_sum, first_response_minutes, resolution_minutes
    FROM {rollup}
    WHERE {where}
), x AS (
    SELECT bucket, team_id, agent_id, category_id, product_id, created, resolved, sla_kept, reopened,
           csat_count, csat_sum, NULL::integer AS first_minutes, NULL::integer AS resolution_minutes
    FROM r
  UNION ALL
    SELECT bucket, team_id, agent_id, category_id, product_id, 0, 0, 0, 0, 0, 0, m, NULL
    FROM r CROSS JOIN LATERAL unnest(r.first_response_minutes) AS m
  UNION ALL
    SELECT bucket, team_id, agent_id, category_id, product_id, 0, 0, 0, 0, 0, 0, NULL, m
    FROM r CROSS JOIN LATERAL unnest(r.resolution_minutes) AS m
), g AS (
    SELECT GROUPING(bucket, team_id, agent_id, category_id, product_id) AS kind,
           bucket, team_id, agent_id, category_id, product_id,
           coalesce(sum(created), 0)::bigint AS created, coalesce(sum(resolved), 0)::bigint AS resolved,
           coalesce(sum(sla_kept), 0)::bigint AS sla_kept, coalesce(sum(reopened), 0)::bigint AS reopened,
           coalesce(sum(csat_count), 0)::bigint AS csat_count, coalesce(sum(csat_sum), 0)::bigint AS csat_sum,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY first_minutes) AS first_median,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_minutes) AS resolution_median
    FROM x
    GROUP BY GROUPING SETS ((), (bucket), (team_id), (agent_id), (category_id), (product_id))
), ranked AS (
    SELECT g.*, row_number() OVER (
        PARTITION BY kind ORDER BY created DESC, resolved DESC, team_id, agent_id, category_id, product_id
    ) AS rank
    FROM g
)
SELECT k.kind, k.bucket, k.team_id, k.agent_id, k.category_id, k.product_id, k.created, k.resolved, k.sla_kept,
       k.reopened, k.csat_count, k.csat_sum, k.first_median, k.resolution_median,
       team.name, agent.full_name, agent.email, category.name, product.sku, product.name_uk, product.name_en,
       (SELECT max(computed_at) FROM {rollup}
        WHERE day >= (SELECT max(day) FROM {rollup}) - 2) AS last_computed,
       k.rank
FROM ranked k
LEFT JOIN {team} team ON team.id = k.team_id
LEFT JOIN {user} agent ON agent.id = k.agent_id
LEFT JOIN {category} category ON category.id = k.category_id
LEFT JOIN {product} product ON product.id = k.product_id
WHERE k.kind IN ({total}, {series}) OR k.rank <= %(top)s
"""


# --- figures -------------------------------------------------------------------------------------------


def _ratio(part: int, whole: int, scale: int = 100, places: Decimal = TENTH) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * scale / Decimal(whole)).quantize(places, rounding=ROUND_HALF_UP)


def _round(value: float | Decimal | None, places: Decimal = TENTH) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)


def duration_text(minutes: Decimal | None) -> str:
    """A median for people: "45 min" under an hour, "3.5 h" (localised) from an hour; "—" without one."""
    if minutes is None:
        return "—"
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": number_format(minutes.quantize(ONE, rounding=ROUND_HALF_UP))}
    hours = (minutes / 60).quantize(TENTH, rounding=ROUND_HALF_UP)
    return _("%(hours)s h") % {"hours": number_format(hours, decimal_pos=1)}


def percent_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{number_format(value, decimal_pos=1)} %"


@dataclass(frozen=True)
class Figures:
    """The figures of a set of rollup rows. Percentages and averages are Decimal (None when undefined)."""

    created: int = 0
    resolved: int = 0
    sla_kept: int = 0
    reopened: int = 0
    csat_count: int = 0
    csat_sum: int = 0
    first_response_minutes: Decimal | None = None  # median, minutes (0.1)
    resolution_minutes: Decimal | None = None  # median, minutes (0.1)

    @property
    def sla_kept_percent(self) -> Decimal | None:
        """Share of the resolved tickets with no deadline missed, % (0.1)."""
        return _ratio(self.sla_kept, self.resolved)

    @property
    def reopen_rate_percent(self) -> Decimal | None:
        """Reopenings per resolved ticket, % (0.1); above 100 when tickets bounce more than once."""
        return _ratio(self.reopened, self.resolved)

    @property
    def csat_average(self) -> Decimal | None:
        """Average rating, 1–5 (0.01)."""
        return _ratio(self.csat_sum, self.csat_count, scale=1, places=HUNDREDTH)

    @property
    def first_response_hours(self) -> Decimal | None:
        return None if self.first_response_minutes is None else _round(self.first_response_minutes / 60, HUNDREDTH)

    @property
    def resolution_hours(self) -> Decimal | None:
        return None if self.resolution_minutes is None else _round(self.resolution_minutes / 60, HUNDREDTH)

    @property
    def first_response_text(self) -> str:
        return duration_text(self.first_response_minutes)

    @property
    def resolution_text(self) -> str:
        return duration_text(self.resolution_minutes)

    @property
    def sla_kept_text(self) -> str:
        return percent_text(self.sla_kept_percent)

    @property
    def reopen_rate_text(self) -> str:
        return percent_text(self.reopen_rate_percent)

    @property
    def csat_text(self) -> str:
        average = self.csat_average
        return "—" if average is None else number_format(average, decimal_pos=2)


@dataclass(frozen=True)
class SeriesPoint:
    start: date  # the day, or the Monday of the week
    label: str  # "05.03" (with the year when the period spans years)
    figures: Figures


@dataclass(frozen=True)
class BreakdownRow:
    key: int | None  # the team / agent / category / product id; None for "no team", "unassigned"…
    label: str
    figures: Figures


@dataclass(frozen=True)
class ServiceReport:
    start: date
    end: date
    by_week: bool
    totals: Figures
    series: list[SeriesPoint]
    by_team: list[BreakdownRow]
    by_agent: list[BreakdownRow]
    by_category: list[BreakdownRow]
    by_product: list[BreakdownRow]
    computed_at: datetime | None  # the latest rollup run (None: never computed)

    @property
    def breakdowns(self) -> list[tuple[str, list[BreakdownRow]]]:
        return [
            (_("By team"), self.by_team),
            (_("By agent"), self.by_agent),
            (_("By category"), self.by_category),
            (_("By product"), self.by_product),
        ]

    @property
    def is_empty(self) -> bool:
        t = self.totals
        return not (t.created or t.resolved or t.reopened or t.csat_count or t.first_response_minutes is not None)

    def chart_json(self) -> str:
        """`chart_data` as JSON for the page's data-chart attribute (escaped there by the template engine)."""
        return json.dumps(self.chart_data(), ensure_ascii=False)

    def chart_data(self) -> dict[str, Any]:
        """What static/js/service_reports.js draws (through json_script): labels, series and their names."""

        def numbers(values: list[Decimal | None]) -> list[float | None]:
            return [None if v is None else float(v) for v in values]

        points = [p.figures for p in self.series]
        return {
            "labels": [p.label for p in self.series],
            "created": [f.created for f in points],
            "resolved": [f.resolved for f in points],
            "sla_kept_percent": numbers([f.sla_kept_percent for f in points]),
            "first_response_hours": numbers([f.first_response_hours for f in points]),
            "resolution_hours": numbers([f.resolution_hours for f in points]),
            "text": {
                "created": _("Created"),
                "resolved": _("Resolved"),
                "sla_kept_percent": _("SLA kept, %"),
                "first_response_hours": _("Median first answer, h"),
                "resolution_hours": _("Median resolution, h"),
            },
        }


# --- scope and choices ---------------------------------------------------------------------------------


def report_team_ids(user: User) -> frozenset[int] | None:
    """The teams whose rollups `user` reads: None for all (directors, administrators, superusers), the teams
    they belong to or manage for managers, their own team for anybody else (empty without a team)."""
    if user.scope == Scope.ALL:
        return None
    if user.scope == Scope.TEAM:
        return user.team_ids
    return frozenset({user.team_id}) if user.team_id else frozenset()


def report_teams(*, user: User) -> QuerySet[Team]:
    """The teams the report filter offers `user`."""
    scope = report_team_ids(user)
    teams = Team.objects.all() if scope is None else Team.objects.filter(pk__in=scope)
    return teams.order_by("name").only("id", "name")


def report_agents(*, user: User) -> QuerySet[User]:
    """The agents the filter offers: members of the teams in scope; for a director the service agents and
    managers (the roles that work tickets)."""
    scope = report_team_ids(user)
    if scope is None:
        users = User.objects.filter(groups__name__in=[Role.SERVICE_AGENT, Role.SALES_MANAGER]).distinct()
    else:
        users = User.objects.filter(team__in=scope)
    return users.filter(is_active=True).order_by("full_name", "id").only("id", "full_name", "email")


def report_categories() -> QuerySet[TicketCategory]:
    return TicketCategory.objects.order_by("name").only("id", "name")


def report_products() -> QuerySet[Product]:
    """Every product (the catalogue has no row scope); the form renders only a bounded list of them."""
    return Product.objects.all()


# --- the report ----------------------------------------------------------------------------------------


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last DEFAULT_DAYS Kyiv days, today included."""
    today = today or timezone.localdate(timezone.now(), KYIV)
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def _buckets(start: date, end: date, by_week: bool) -> list[date]:
    first = start - timedelta(days=start.weekday()) if by_week else start
    step = timedelta(days=7 if by_week else 1)
    days = []
    while first <= end:
        days.append(first)
        first += step
    return days


def _figures(row: tuple[Any, ...]) -> Figures:
    created, resolved, sla_kept, reopened, csat_count, csat_sum, first_median, resolution_median = row[6:14]
    return Figures(
        created=created,
        resolved=resolved,
        sla_kept=sla_kept,
        reopened=reopened,
        csat_count=csat_count,
        csat_sum=csat_sum,
        first_response_minutes=_round(first_median),
        resolution_minutes=_round(resolution_median),
    )


def _label(kind: int, row: tuple[Any, ...]) -> str:
    team, full_name, email, category, sku, name_uk, name_en = row[14:21]
    if kind == BY_TEAM:
        return team if row[2] is not None else _("No team")
    if kind == BY_AGENT:
        return (full_name or email) if row[3] is not None else _("Unassigned")
    if kind == BY_CATEGORY:
        return category if row[4] is not None else _("No category")
    if row[5] is None:
        return _("No product")
    english = (get_language() or "").startswith("en")
    return f"{sku} {(name_en if english and name_en else name_uk)}"


BREAKDOWN_KEY = {BY_TEAM: 2, BY_AGENT: 3, BY_CATEGORY: 4, BY_PRODUCT: 5}  # the row's column of each dimension


def service_report(
    *,
    user: User,
    start: date,
    end: date,
    team_id: int | None = None,
    agent_id: int | None = None,
    category_id: int | None = None,
    product_id: int | None = None,
) -> ServiceReport:
    """The report of the Kyiv days start..end (inclusive) within `user`'s scope (`report_team_ids`), narrowed by
    the optional ids. One SQL query over ServiceDailyRollup (and the names of the teams, users, categories and
    products it shows); never reads the tickets. The caller checks service.view_servicedailyrollup.
    Raises ValueError for a reversed period."""
    if start > end:
        raise ValueError("start is after end")
    by_week = (end - start).days + 1 > SERIES_DAYS
    where, params = ["day >= %(start)s", "day <= %(end)s"], {"start": start, "end": end, "top": BREAKDOWN_SIZE}
    scope = report_team_ids(user)
    if scope is not None:
        where.append("team_id = ANY(%(scope)s)")
        params["scope"] = sorted(scope)
    for column, value in (
        ("team_id", team_id),
        ("agent_id", agent_id),
        ("category_id", category_id),
        ("product_id", product_id),
    ):
        if value is not None:
            where.append(f"{column} = %({column})s")
            params[column] = value
    sql = REPORT_SQL.format(
        bucket="date_trunc('week', day)::date" if by_week else "day",
        rollup=ServiceDailyRollup._meta.db_table,
        where=" AND ".join(where),
        team=Team._meta.db_table,
        user=User._meta.db_table,
        category=TicketCategory._meta.db_table,
        product=Product._meta.db_table,
        total=TOTAL,
        series=SERIES,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner guesses 10 elements per unnest, overrates the query and JIT-compiles it (+40 ms); the sorts
        # of the grouping sets fit in memory with a little more work_mem. Both only for this transaction.
        cursor.execute("SELECT set_config('jit', 'off', true), set_config('work_mem', '32MB', true)")
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    totals, computed_at = Figures(), None
    by_bucket: dict[date, Figures] = {}
    breakdowns: dict[int, list[tuple[int, BreakdownRow]]] = {kind: [] for kind in BREAKDOWN_KEY}
    for row in rows:
        kind = row[0]
        computed_at = row[21]
        if kind == TOTAL:
            totals = _figures(row)
        elif kind == SERIES:
            by_bucket[row[1]] = _figures(row)
        elif kind in breakdowns:
            breakdowns[kind].append((row[22], BreakdownRow(row[BREAKDOWN_KEY[kind]], _label(kind, row), _figures(row))))
    span_years = start.year != end.year
    series = [
        SeriesPoint(day, day.strftime("%d.%m.%Y" if span_years else "%d.%m"), by_bucket.get(day, Figures()))
        for day in _buckets(start, end, by_week)
    ]

    def ordered(kind: int) -> list[BreakdownRow]:
        # The query ranked them by volume (row_number); the joins do not keep that order.
        return [row for _rank, row in sorted(breakdowns[kind], key=lambda item: item[0])]

    return ServiceReport(
        start=start,
        end=end,
        by_week=by_week,
        totals=totals,
        series=series,
        by_team=ordered(BY_TEAM),
        by_agent=ordered(BY_AGENT),
        by_category=ordered(BY_CATEGORY),
        by_product=ordered(BY_PRODUCT),
        computed_at=computed_at,
    )
