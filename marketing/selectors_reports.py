"""Campaign effectiveness pages (issue 12, item 8): read from the CampaignReport rollups only, never the members.

`campaign_report_get` turns one campaign's rows into the page's figures. A big campaign has tens of thousands
of rows (target group × product × region: 43,000 for the L seed's million members), so the compute also stores
their sums (CampaignReportTotal) and each row's rank in its group: the page reads the group sums and the
PRODUCTS_SHOWN products with most leads overall (two index reads), and loads a group's PRODUCTS_SHOWN
products when the user opens it (`campaign_report_group_products`); the exports read every row.
`campaign_compare` sums the rows of up to COMPARE_MAX campaigns in one grouped query.
How the rows are computed: marketing.services_reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import Max, Sum
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import numberformat, translation
from django.utils.formats import get_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from contacts.models import Region
from crm.models import User
from marketing.models import Campaign, CampaignReport, CampaignReportTotal

COMPARE_MAX = 5
PRODUCTS_SHOWN = 10  # per target group × region, and in the product breakdown, on the report page
GROUPS_SHOWN = 30  # target group × region rows the page renders; the rest load when asked
ZERO = Decimal(0)
CENT, TENTH = Decimal("0.01"), Decimal("0.1")
COUNTS = ("members", "sent", "delivered", "opened", "clicked", "responded", "unsubscribed", "bounced", "leads",
          "clients", "deals_won")  # fmt: skip
AMOUNTS = ("revenue", "cost")


def _ratio(part: Decimal | int, whole: Decimal | int, *, scale: int = 1, places: Decimal = CENT) -> Decimal | None:
    """part / whole (× scale), rounded; None when whole is zero (shown as "—", never a ZeroDivisionError)."""
    if not whole:
        return None
    return (Decimal(part) * scale / Decimal(whole)).quantize(places, rounding=ROUND_HALF_UP)


@lru_cache(maxsize=8)
def _separators(language: str | None) -> tuple[str, str, Any]:
    """The language's decimal and thousand separators and grouping: `number_format` looks them up on every call,
    and a report prints a thousand numbers."""
    with translation.override(language):
        return get_format("DECIMAL_SEPARATOR"), get_format("THOUSAND_SEPARATOR"), get_format("NUMBER_GROUPING")


def _number(value: Decimal, places: int) -> str:
    decimal_sep, thousand_sep, grouping = _separators(get_language())
    return numberformat.format(
        value, decimal_sep, decimal_pos=places, grouping=grouping, thousand_sep=thousand_sep, force_grouping=True,
        use_l10n=True,
    )  # fmt: skip


def money_text(value: Decimal | None) -> str:
    """ "1 234,50" in Ukrainian, "1,234.50" in English; "—" for none."""
    return "—" if value is None else _number(value, 2)


def percent_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{_number(value, 1)} %"


@dataclass(frozen=True)
class Figures:
    """Sums of report rows. Ratios are Decimal or None when undefined (no leads, no clients, no cost)."""

    members: int = 0
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    responded: int = 0
    unsubscribed: int = 0
    bounced: int = 0
    leads: int = 0
    clients: int = 0
    deals_won: int = 0
    revenue: Decimal = ZERO
    cost: Decimal = ZERO

    def __add__(self, other: Figures) -> Figures:
        return Figures(**{name: getattr(self, name) + getattr(other, name) for name in FIGURE_NAMES})

    @classmethod
    def of(cls, row: dict[str, Any]) -> Figures:
        return cls(
            **{name: row[name] or 0 for name in COUNTS},
            **{name: Decimal(row[name] or 0) for name in AMOUNTS},
        )

    @property
    def has_outcome(self) -> bool:
        """Leads, clients, won deals or revenue: what a product row of the report carries."""
        return bool(self.leads or self.clients or self.deals_won or self.revenue)

    @property
    def conversion_percent(self) -> Decimal | None:
        """Leads that became clients, %."""
        return _ratio(self.clients, self.leads, scale=100, places=TENTH)

    @property
    def delivered_percent(self) -> Decimal | None:
        return _ratio(self.delivered, self.sent, scale=100, places=TENTH)

    @property
    def opened_percent(self) -> Decimal | None:
        return _ratio(self.opened, self.delivered, scale=100, places=TENTH)

    @property
    def cost_per_lead(self) -> Decimal | None:
        return _ratio(self.cost, self.leads) if self.cost else None

    @property
    def cost_per_client(self) -> Decimal | None:
        return _ratio(self.cost, self.clients) if self.cost else None

    @property
    def roi_percent(self) -> Decimal | None:
        """(revenue − cost) / cost, %; None without costs."""
        return _ratio(self.revenue - self.cost, self.cost, scale=100, places=TENTH)

    @property
    def conversion_text(self) -> str:
        return percent_text(self.conversion_percent)

    @property
    def cost_per_lead_text(self) -> str:
        return money_text(self.cost_per_lead)

    @property
    def cost_per_client_text(self) -> str:
        return money_text(self.cost_per_client)

    @property
    def roi_text(self) -> str:
        return percent_text(self.roi_percent)

    @property
    def revenue_text(self) -> str:
        return money_text(self.revenue)

    @property
    def cost_text(self) -> str:
        return money_text(self.cost)


FIGURE_NAMES = tuple(f.name for f in fields(Figures))


@dataclass(frozen=True)
class ProductRow:
    product: str
    figures: Figures


@dataclass(frozen=True)
class GroupRow:
    """One target group × region: its funnel and costs, and its outcomes in all and per product (the exports:
    every product; the page loads a group's first PRODUCTS_SHOWN from `products_url` when asked)."""

    segment: str
    region: str
    figures: Figures
    products: list[ProductRow] = field(default_factory=list)
    products_url: str = ""


@dataclass(frozen=True)
class LabelledFigures:
    label: str
    figures: Figures


@dataclass(frozen=True)
class CampaignReportData:
    campaign: Campaign
    totals: Figures
    groups: list[GroupRow]
    by_segment: list[LabelledFigures]
    by_product: list[LabelledFigures]
    by_region: list[LabelledFigures]
    computed_at: datetime | None

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def groups_shown(self) -> list[GroupRow]:
        """The largest GROUPS_SHOWN groups: what the page renders with it."""
        return self.groups[:GROUPS_SHOWN]

    @property
    def groups_rest(self) -> list[GroupRow]:
        """The other groups, loaded by the page on demand (`campaign_report_groups`)."""
        return self.groups[GROUPS_SHOWN:]

    @property
    def groups_rest_label(self) -> str:
        count = len(self.groups_rest)
        return ngettext(
            "Show %(count)d more target group and region", "Show %(count)d more target groups and regions", count
        ) % {"count": count}

    @property
    def funnel(self) -> list[tuple[str, int]]:
        t = self.totals
        return [
            (_("Members"), t.members),
            (_("Sent"), t.sent),
            (_("Delivered"), t.delivered),
            (_("Opened"), t.opened),
            (_("Clicked"), t.clicked),
            (_("Responses"), t.responded),
            (_("Leads"), t.leads),
            (_("Clients"), t.clients),
            (_("Deals won"), t.deals_won),
        ]

    def chart_data(self) -> dict[str, Any]:
        """What static/js/marketing_reports.js draws: the funnel, revenue and cost per target group."""
        return {
            "funnel": {"labels": [label for label, _n in self.funnel], "values": [n for _l, n in self.funnel]},
            "segments": {
                "labels": [row.label for row in self.by_segment],
                "revenue": [float(row.figures.revenue) for row in self.by_segment],
                "cost": [float(row.figures.cost) for row in self.by_segment],
            },
            "text": {"funnel": _("People"), "revenue": _("Revenue, UAH"), "cost": _("Cost, UAH")},
        }

    def chart_json(self) -> str:
        """`chart_data` as JSON for the page's data-chart attribute (escaped there by the template engine)."""
        return json.dumps(self.chart_data(), ensure_ascii=False)


def _product_label(row: dict[str, Any], english: bool) -> str:
    if row["product_id"] is None:
        return _("No product")
    name = row["product__name_en"] if english and row["product__name_en"] else row["product__name_uk"]
    return f"{row['product__sku']} {name}"


def _segment_label(row: dict[str, Any]) -> str:
    return row["segment__name"] if row["segment_id"] is not None else _("No target group")


REGION_LABELS = dict(Region.choices)


def _region_label(value: str) -> str:
    label = REGION_LABELS.get(value)
    return str(label) if label is not None else _("No region")


def _labelled(items: dict[Any, tuple[str, Figures]]) -> list[LabelledFigures]:
    rows = [LabelledFigures(label, figures) for label, figures in items.values()]
    return sorted(rows, key=lambda r: (-r.figures.members, -r.figures.leads, -r.figures.revenue, r.label))


def report_rows(rows: Iterable[dict[str, Any]]) -> tuple[Figures, list[GroupRow], dict[str, list[LabelledFigures]]]:
    """Totals, the target group × region rows (largest first) with their products, and the breakdowns."""
    english = (get_language() or "").startswith("en")
    totals = Figures()
    groups: dict[tuple[int | None, str], dict[str, Any]] = {}
    by: dict[str, dict[Any, tuple[str, Figures]]] = {"segment": {}, "product": {}, "region": {}}
    for row in rows:
        figures = Figures.of(row)
        totals += figures
        key = (row["segment_id"], row["region"])
        group = groups.setdefault(
            key, {"segment": _segment_label(row), "region": _region_label(row["region"]), "figures": Figures(),
                  "products": {}},
        )  # fmt: skip
        group["figures"] += figures
        for name, value, label in (
            ("segment", row["segment_id"], _segment_label(row)),
            ("region", row["region"], group["region"]),
        ):
            old = by[name].get(value, (label, Figures()))
            by[name][value] = (label, old[1] + figures)
        if figures.has_outcome:
            label = _product_label(row, english)
            old = group["products"].get(row["product_id"], Figures())
            group["products"][row["product_id"]] = old + figures
            old_product = by["product"].get(row["product_id"], (label, Figures()))
            by["product"][row["product_id"]] = (label, old_product[1] + figures)
    product_labels = {key: label for key, (label, _f) in by["product"].items()}
    result = [
        GroupRow(
            segment=g["segment"],
            region=g["region"],
            figures=g["figures"],
            products=sorted(
                (ProductRow(product_labels[pk], f) for pk, f in g["products"].items()),
                key=lambda p: (-p.figures.leads, -p.figures.revenue, p.product),
            ),
        )
        for g in groups.values()
    ]
    result.sort(key=lambda g: (-g.figures.members, -g.figures.leads, g.segment, g.region))
    return totals, result, {name: _labelled(items) for name, items in by.items()}


REPORT_FIELDS = ("segment_id", "segment__name", "product_id", "product__sku", "product__name_uk", "product__name_en",
                 "region", *COUNTS, *AMOUNTS)  # fmt: skip


PRODUCT_FIELDS = ("product_id", "product__sku", "product__name_uk", "product__name_en")
FIGURE_FIELDS = (*COUNTS, *AMOUNTS)


def _bounded_report(campaign: Campaign, shown: int) -> tuple[Figures, list[GroupRow], dict[str, list[LabelledFigures]]]:
    """What report_rows gives, from the stored sums: the target group × region totals (each with the URL of
    its products) and the `shown` products with most leads overall. Two index reads."""
    english = (get_language() or "").startswith("en")
    totals = Figures()
    groups: list[GroupRow] = []
    by: dict[str, dict[Any, tuple[str, Figures]]] = {"segment": {}, "region": {}}
    sums = CampaignReportTotal.objects.filter(campaign=campaign)
    products_url = reverse("marketing:campaign-report-products", args=[campaign.pk])
    for row in sums.filter(kind=CampaignReportTotal.Kind.GROUP).values(
        "segment_id", "segment__name", "region", *FIGURE_FIELDS
    ):
        figures = Figures.of(row)
        totals += figures
        query = urlencode({"segment": row["segment_id"] or "", "region": row["region"]})
        group = GroupRow(
            segment=_segment_label(row), region=_region_label(row["region"]), figures=figures,
            products_url=f"{products_url}?{query}" if figures.has_outcome else "",
        )  # fmt: skip
        groups.append(group)
        for name, key, label in (
            ("segment", row["segment_id"], group.segment),
            ("region", row["region"], group.region),
        ):
            old = by[name].get(key, (label, Figures()))
            by[name][key] = (label, old[1] + figures)
    products = sums.filter(kind=CampaignReportTotal.Kind.PRODUCT, rank__lte=shown).order_by("rank")
    by_product = [
        LabelledFigures(_product_label(row, english), Figures.of(row))
        for row in products.values(*PRODUCT_FIELDS, *FIGURE_FIELDS)
    ]
    groups.sort(key=lambda g: (-g.figures.members, -g.figures.leads, g.segment, g.region))
    return totals, groups, {**{name: _labelled(items) for name, items in by.items()}, "product": by_product}


def campaign_report_group_products(
    *, campaign: Campaign, segment_id: int | None, region: str, shown: int = PRODUCTS_SHOWN
) -> list[ProductRow]:
    """The `shown` products with most leads of one target group × region of the report (their stored rank),
    best first. The caller has read `campaign` through campaign_report_get (visible_to)."""
    english = (get_language() or "").startswith("en")
    rows = (
        CampaignReport.objects.filter(campaign=campaign, segment_id=segment_id, region=region, rank__lte=shown)
        .values(*PRODUCT_FIELDS, *FIGURE_FIELDS)
        .order_by("rank")
    )
    return [ProductRow(_product_label(row, english), Figures.of(row)) for row in rows]


def campaign_get_for_report(*, user: User, campaign_id: int) -> Campaign:
    """The campaign `user` sees (Http404 otherwise)."""
    return get_object_or_404(Campaign.objects.visible_to(user).select_related("owner"), pk=campaign_id)


def campaign_report_get(
    *, user: User, campaign_id: int, products_shown: int | None = PRODUCTS_SHOWN
) -> CampaignReportData:
    """The report of a campaign `user` sees (Http404 otherwise), from its CampaignReport rows only: with
    `products_shown` products per group and overall (the page), or every row (None: the exports).
    The caller checks marketing.view_campaignreport."""
    campaign = campaign_get_for_report(user=user, campaign_id=campaign_id)
    if products_shown is None:
        rows = CampaignReport.objects.filter(campaign=campaign).values(*REPORT_FIELDS).order_by("id")
        totals, groups, by = report_rows(rows)
    else:
        totals, groups, by = _bounded_report(campaign, products_shown)
    return CampaignReportData(
        campaign=campaign,
        totals=totals,
        groups=groups,
        by_segment=by["segment"],
        by_product=by["product"],
        by_region=by["region"],
        computed_at=campaign.report_computed_at,
    )


@dataclass(frozen=True)
class ComparedCampaign:
    campaign: Campaign
    figures: Figures
    computed_at: datetime | None


def compare_ids(values: Sequence[str]) -> list[int]:
    """The campaign ids of the compare page's ?ids=…: integers, first COMPARE_MAX distinct, others ignored."""
    ids: list[int] = []
    for value in values:
        if value.strip().isdigit() and int(value) not in ids and int(value) < 2**31:
            ids.append(int(value))
    return ids[:COMPARE_MAX]


def campaign_compare(*, user: User, campaign_ids: Sequence[int]) -> list[ComparedCampaign]:
    """Totals of the given campaigns that `user` sees (others are left out), in the order asked; two queries."""
    ids = list(campaign_ids)[:COMPARE_MAX]
    campaigns = {c.pk: c for c in Campaign.objects.visible_to(user).filter(pk__in=ids).select_related("owner")}
    sums = (
        CampaignReport.objects.filter(campaign_id__in=list(campaigns))
        .values("campaign_id")
        .annotate(**{name: Sum(name) for name in (*COUNTS, *AMOUNTS)}, computed=Max("computed_at"))
        .order_by()
    )
    by_campaign = {row["campaign_id"]: Figures.of(row) for row in sums}
    return [
        ComparedCampaign(campaigns[pk], by_campaign.get(pk, Figures()), campaigns[pk].report_computed_at)
        for pk in ids
        if pk in campaigns
    ]


def compare_choices(*, user: User, limit: int = 50) -> list[Campaign]:
    """The latest campaigns `user` sees, for the compare page's picker (bounded)."""
    return list(Campaign.objects.visible_to(user).order_by("-starts_on", "-id").only("id", "name", "starts_on")[:limit])
