"""Needs analysis (issue #12 item 9, /marketing/needs/): what a target group asked for and what it bought.

"Asked for X": a product category X named in a company's product interests (contacts.Company.interests, matched
to a category's Ukrainian or English name, case-insensitively), or the category of the product of interest of a
lead of that company (its client, else its matching company) created in the period. The free-text "needs" are
not counted: they name no category. "Bought": the categories of the lines of the company's orders created in
the period (cancelled and failed orders left out); buying in a subcategory of X counts as buying X.

One SQL query answers the page: the group's companies (marketing.selectors_segments.segment_companies, cut to
the user's visible companies unless they see every marketing record; at most MAX_COMPANIES of them, by id), their
asked and bought categories, and two aggregates (UNION ALL): per asked category the companies that bought it /
bought only something else / bought nothing, and the asked × bought (top-level category) matrix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from contacts.models import Company
from crm.models import User
from deals.models import FAILURE_STATUSES, Category, Order, OrderLine, Product
from marketing.models import Lead, Segment, sees_all_marketing
from marketing.selectors_segments import segment_companies

MAX_COMPANIES = 50_000  # a bigger group is analysed on its first MAX_COMPANIES companies (by id)
MATRIX_COLUMNS = 6  # the most bought top-level categories shown as columns; the rest are "other"
TENTH = Decimal("0.1")

NEEDS_SQL = """
WITH RECURSIVE members (id) AS MATERIALIZED ({companies}),
up (id, ancestor, parent_id) AS (
    SELECT id, id, parent_id FROM {category}
  UNION ALL
    SELECT up.id, c.id, c.parent_id FROM up JOIN {category} c ON c.id = up.parent_id
), tree AS (  -- every category with each of its ancestors (itself included) and its top-level category
    SELECT up.id, up.ancestor, top.ancestor AS root
    FROM up JOIN up top ON top.id = up.id AND top.parent_id IS NULL
), names AS (
    SELECT id, upper(name_uk) AS name FROM {category}
  UNION
    SELECT id, upper(name_en) FROM {category} WHERE name_en <> ''
), asked AS (
    SELECT m.id AS company_id, n.id AS category_id
    FROM members m
    JOIN {company} c ON c.id = m.id
    CROSS JOIN LATERAL unnest(c.interests) AS i (name)
    JOIN names n ON n.name = upper(btrim(i.name))
  UNION
    SELECT coalesce(l.company_id, l.matched_company_id), p.category_id
    FROM {lead} l
    JOIN {product} p ON p.id = l.product_id
    WHERE coalesce(l.company_id, l.matched_company_id) IN (SELECT id FROM members)
      AND p.category_id IS NOT NULL AND l.created_at >= %(since)s AND l.created_at < %(until)s
), bought AS (
    SELECT DISTINCT o.company_id, p.category_id
    FROM {order} o
    JOIN {line} ol ON ol.order_id = o.id
    JOIN {product} p ON p.id = ol.product_id
    WHERE o.company_id IN (SELECT id FROM members)
      AND o.created_at >= %(since)s AND o.created_at < %(until)s AND NOT (o.status = ANY(%(failed)s))
      AND p.category_id IS NOT NULL
), pair AS (
    -- within: the bought category is X or under X; NULL when the company bought nothing.
    SELECT a.company_id, a.category_id AS asked, b.category_id AS bought,
           CASE WHEN b.category_id IS NULL THEN NULL ELSE t.id IS NOT NULL END AS within
    FROM asked a
    LEFT JOIN bought b ON b.company_id = a.company_id
    LEFT JOIN tree t ON t.id = b.category_id AND t.ancestor = a.category_id
), per_company AS (
    SELECT company_id, asked, bool_or(within) AS bought_it, bool_or(NOT within) AS bought_other
    FROM pair GROUP BY company_id, asked
)
SELECT 'summary', asked, NULL::bigint, count(*),
       count(*) FILTER (WHERE bought_it),
       count(*) FILTER (WHERE bought_other AND NOT bought_it),
       count(*) FILTER (WHERE bought_it IS NULL)
FROM per_company GROUP BY asked
UNION ALL
SELECT 'matrix', p.asked, t.root, count(DISTINCT p.company_id), 0, 0, 0
FROM pair p JOIN tree t ON t.id = p.bought AND t.ancestor = p.bought
GROUP BY p.asked, t.root
UNION ALL
SELECT 'members', NULL, NULL, count(*), 0, 0, 0 FROM members
"""


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def _percent_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{number_format(value, decimal_pos=1)} %"


@dataclass(frozen=True)
class MatrixCell:
    companies: int
    share: Decimal | None

    @property
    def share_text(self) -> str:
        return _percent_text(self.share)


@dataclass(frozen=True)
class NeedsRow:
    """One asked category: the companies that asked for it, and what they bought in the period."""

    category_id: int
    label: str
    asked: int
    bought_it: int
    bought_other: int  # only other categories
    bought_nothing: int
    cells: list[MatrixCell] = field(default_factory=list)  # the matrix columns, in NeedsReport.columns order

    @property
    def bought_it_share(self) -> Decimal | None:
        return _share(self.bought_it, self.asked)

    @property
    def bought_other_share(self) -> Decimal | None:
        return _share(self.bought_other, self.asked)

    @property
    def bought_nothing_share(self) -> Decimal | None:
        return _share(self.bought_nothing, self.asked)

    @property
    def bought_it_text(self) -> str:
        return _percent_text(self.bought_it_share)

    @property
    def bought_other_text(self) -> str:
        return _percent_text(self.bought_other_share)

    @property
    def bought_nothing_text(self) -> str:
        return _percent_text(self.bought_nothing_share)


@dataclass(frozen=True)
class NeedsReport:
    segment: Segment
    start: date
    end: date
    companies: int  # the companies analysed
    truncated: bool  # the group has more than MAX_COMPANIES companies: the first ones were analysed
    rows: list[NeedsRow]
    columns: list[str]  # the matrix's bought top-level categories

    @property
    def max_companies(self) -> int:
        return MAX_COMPANIES

    def chart_json(self) -> str:
        """`chart_data` as JSON for the page's data-chart attribute (escaped there by the template engine)."""
        return json.dumps(self.chart_data(), ensure_ascii=False)

    def chart_data(self) -> dict[str, Any]:
        """What static/js/marketing_charts.js draws: a 100 % stacked bar per asked category."""

        def numbers(values: list[Decimal | None]) -> list[float]:
            return [float(v or 0) for v in values]

        return {
            "chart-needs": {
                "type": "bar",
                "horizontal": True,
                "stacked": True,
                "percent": True,
                "labels": [row.label for row in self.rows],
                "datasets": [
                    {"label": _("Bought it, %"), "data": numbers([r.bought_it_share for r in self.rows])},
                    {
                        "label": _("Bought only something else, %"),
                        "data": numbers([r.bought_other_share for r in self.rows]),
                    },
                    {"label": _("Bought nothing, %"), "data": numbers([r.bought_nothing_share for r in self.rows])},
                ],
            }
        }


def _category_label(category: Category | None) -> str:
    if category is None:
        return "—"
    english = (get_language() or "").startswith("en")
    return category.name_en if english and category.name_en else category.name_uk


def needs_analysis(*, user: User, segment: Segment, start: date, end: date) -> NeedsReport:
    """The "asked for X, bought Y" figures of `segment`'s companies (those `user` may see) for the Kyiv days
    start..end (the rules are in the module docstring). One aggregate query, plus one for the names of the
    categories shown. The caller checks marketing.view_segment and that `segment` is visible to `user`."""
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    companies = segment_companies(segment=segment)
    if not sees_all_marketing(user):
        companies = companies.filter(pk__in=Company.objects.visible_to(user).values("pk"))
    companies = companies.order_by("pk").values("pk")[:MAX_COMPANIES]
    empty = NeedsReport(segment=segment, start=start, end=end, companies=0, truncated=False, rows=[], columns=[])
    try:
        companies_sql, companies_params = companies.query.sql_with_params()
    except EmptyResultSet:
        return empty
    # The members' SQL has positional %s; make the rest of the query positional too, in order.
    named = {"since": since, "until": until, "failed": sorted(str(status) for status in FAILURE_STATUSES)}
    sql = NEEDS_SQL.format(
        companies="{companies}",
        category=Category._meta.db_table,
        company=Company._meta.db_table,
        lead=Lead._meta.db_table,
        product=Product._meta.db_table,
        order=Order._meta.db_table,
        line=OrderLine._meta.db_table,
    )
    head, tail = sql.split("{companies}")
    params: list[Any] = list(companies_params)
    for name in _named_order(tail):
        params.append(named[name])
    sql = head + companies_sql + _positional(tail)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        result = cursor.fetchall()

    summary: dict[int, tuple[int, int, int, int]] = {}
    matrix: dict[tuple[int, int], int] = {}
    analysed = 0
    for kind, asked, bought, count, bought_it, other, nothing in result:
        if kind == "summary":
            summary[asked] = (count, bought_it, other, nothing)
        elif kind == "matrix":
            matrix[(asked, bought)] = count
        else:
            analysed = count
    totals: dict[int, int] = {}
    for (_asked, bought), count in matrix.items():
        totals[bought] = totals.get(bought, 0) + count
    column_ids = [cid for cid, _n in sorted(totals.items(), key=lambda item: (-item[1], item[0]))][:MATRIX_COLUMNS]
    names = Category.objects.in_bulk({*summary, *column_ids})
    rows = [
        NeedsRow(
            category_id=category_id,
            label=_category_label(names.get(category_id)),
            asked=asked,
            bought_it=bought_it,
            bought_other=other,
            bought_nothing=nothing,
            cells=[
                MatrixCell(matrix.get((category_id, cid), 0), _share(matrix.get((category_id, cid), 0), asked))
                for cid in column_ids
            ],
        )
        for category_id, (asked, bought_it, other, nothing) in sorted(
            summary.items(), key=lambda item: (-item[1][0], _category_label(names.get(item[0])))
        )
    ]
    return NeedsReport(
        segment=segment,
        start=start,
        end=end,
        companies=analysed,
        truncated=analysed >= MAX_COMPANIES,
        rows=rows,
        columns=[_category_label(names.get(cid)) for cid in column_ids],
    )


NAMED = re.compile(r"%\((\w+)\)s")


def _named_order(sql: str) -> list[str]:
    return NAMED.findall(sql)


def _positional(sql: str) -> str:
    return NAMED.sub("%s", sql)
