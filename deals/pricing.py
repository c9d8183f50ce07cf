"""Prices for a company: price lists, discounts and loyalty rules (issue #6, item 1).

`price_for` answers one product (product card, line prefill); `price_for_many` answers the lines of a
deal or an order with a constant number of queries, whatever the number of products.

Rules, in this order:
1. The list price is the product's base price, unless an active price list valid on the date has the
   product: a list for the company beats a list for a customer group the company belongs to; among
   several lists of the same kind the one with the latest `valid_from` wins (an open start counts as the
   earliest), then the newest list.
2. The discount is the highest of: discounts valid on the date for the company and the product's
   category or any of its ancestors, for the company alone, for the category (or an ancestor) alone;
   and the active loyalty rules the company qualifies for (orders in the last `period_days`, without
   cancelled or failed ones: count ≥ `min_orders` or sum of totals ≥ `min_amount`). Ties keep the more
   specific discount (company + category, then company, then category, then loyalty).
3. final price = price × (1 − discount / 100), rounded half-up to kopecks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from contacts.models import Company
from deals.models import (
    FAILURE_STATUSES,
    Category,
    CustomerGroup,
    Discount,
    LoyaltyRule,
    Order,
    PriceListItem,
    Product,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PriceQuote:
    """The price of one product for one company on one date, with the rule that produced it."""

    base_price: Decimal
    price: Decimal  # the list price after price lists
    discount_percent: Decimal
    final_price: Decimal
    rule: str  # human text: which price list and which discount / loyalty rule applied

    @property
    def discount_amount(self) -> Decimal:
        return self.price - self.final_price


def quantize_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def apply_discount(price: Decimal, percent: Decimal) -> Decimal:
    return quantize_money(price * (HUNDRED - percent) / HUNDRED)


def _valid_on(on: date, prefix: str = "") -> Q:
    return (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": on})) & (
        Q(**{f"{prefix}valid_until__isnull": True}) | Q(**{f"{prefix}valid_until__gte": on})
    )


def _category_ancestors(category_ids: set[int]) -> dict[int, list[int]]:
    """For each category id: itself and its ancestors, nearest first (one query: the tree is small)."""
    if not category_ids:
        return {}
    parents = dict(Category.objects.values_list("id", "parent_id"))
    chains: dict[int, list[int]] = {}
    for category_id in category_ids:
        chain: list[int] = []
        current: int | None = category_id
        while current is not None and current not in chain:  # `not in`: guard against a cycle in bad data
            chain.append(current)
            current = parents.get(current)
        chains[category_id] = chain
    return chains


def _list_prices(*, company: Company, product_ids: list[int], on: date) -> dict[int, tuple[Decimal, str]]:
    """product id → (price, price list name) from the winning price list (one query)."""
    group_ids = CustomerGroup.companies.through.objects.filter(company_id=company.pk).values("customergroup_id")
    items = (
        PriceListItem.objects.filter(
            Q(price_list__company_id=company.pk) | Q(price_list__customer_group_id__in=group_ids),
            _valid_on(on, "price_list__"),
            product_id__in=product_ids,
            price_list__is_active=True,
        )
        .values_list(
            "product_id",
            "price",
            "price_list__name",
            "price_list__company_id",
            "price_list__valid_from",
            "price_list_id",
        )
        .order_by()
    )
    best: dict[int, tuple[tuple[int, date, int], Decimal, str]] = {}
    for product_id, price, list_name, list_company_id, valid_from, list_id in items:
        key = (1 if list_company_id else 0, valid_from or date.min, list_id)
        if product_id not in best or key > best[product_id][0]:
            best[product_id] = (key, price, list_name)
    return {product_id: (price, name) for product_id, (_key, price, name) in best.items()}


def _discounts(*, company: Company, category_ids: set[int], on: date) -> list[Discount]:
    """Every discount valid on the date that may apply to the company or to one of the categories (one query)."""
    return list(
        Discount.objects.filter(
            Q(company_id=company.pk, category__isnull=True)
            | Q(company_id=company.pk, category_id__in=category_ids)
            | Q(company__isnull=True, category_id__in=category_ids),
            _valid_on(on),
        )
        .select_related("category")
        .order_by("-percent", "id")
    )


def _loyalty(*, company: Company, on: date) -> tuple[Decimal, LoyaltyRule | None]:
    """The best active loyalty rule the company qualifies for: (percent, rule).

    Two queries at most: the rules (a handful), then one aggregate over the company's orders of the
    longest period, with a filtered count and sum per distinct period, served by deals_order_loyalty_idx.
    """
    rules = list(LoyaltyRule.objects.filter(is_active=True).order_by("-percent", "id"))
    if not rules:
        return ZERO, None
    end = timezone.make_aware(datetime.combine(on + timedelta(days=1), time.min))
    periods = sorted({rule.period_days for rule in rules})
    aggregates: dict[str, Count | Sum] = {}
    for days in periods:
        since = end - timedelta(days=days)
        aggregates[f"n{days}"] = Count("id", filter=Q(created_at__gte=since))
        aggregates[f"s{days}"] = Sum("total", filter=Q(created_at__gte=since))
    start = end - timedelta(days=periods[-1])
    figures = (
        Order.objects.filter(company_id=company.pk, created_at__gte=start, created_at__lt=end)
        .exclude(status__in=FAILURE_STATUSES)
        .aggregate(**aggregates)
    )
    for rule in rules:  # highest percent first
        count = figures[f"n{rule.period_days}"] or 0
        amount = figures[f"s{rule.period_days}"] or ZERO
        if (rule.min_orders is not None and count >= rule.min_orders) or (
            rule.min_amount is not None and amount >= rule.min_amount
        ):
            return rule.percent, rule
    return ZERO, None


def _category_name(category: Category | None) -> str:
    if category is None:
        return ""
    english = (get_language() or "").startswith("en")
    return category.name_en if english and category.name_en else category.name_uk


def _best_discount(
    *, chain: list[int], discounts: list[Discount], loyalty: tuple[Decimal, LoyaltyRule | None]
) -> tuple[Decimal, str]:
    """(percent, explanation) of the best discount for a product whose category chain is `chain`."""
    candidates: list[tuple[Decimal, int, str]] = []
    in_chain = set(chain)
    for discount in discounts:
        if discount.category_id is not None and discount.category_id not in in_chain:
            continue
        if discount.company_id and discount.category_id:
            text = _("discount %(percent)s %% for this company on category “%(category)s”") % {
                "percent": localize(discount.percent),
                "category": _category_name(discount.category),
            }
            specificity = 3
        elif discount.company_id:
            text = _("discount %(percent)s %% for this company") % {"percent": localize(discount.percent)}
            specificity = 2
        else:
            text = _("discount %(percent)s %% on category “%(category)s”") % {
                "percent": localize(discount.percent),
                "category": _category_name(discount.category),
            }
            specificity = 1
        candidates.append((discount.percent, specificity, text))
    loyalty_percent, rule = loyalty
    if rule is not None:
        text = _("loyalty rule “%(name)s”: %(percent)s %%") % {"name": rule.name, "percent": localize(rule.percent)}
        candidates.append((loyalty_percent, 0, text))
    if not candidates:
        return ZERO, _("no discount")
    percent, _specificity, text = max(candidates, key=lambda c: (c[0], c[1]))
    if percent <= 0:
        return ZERO, _("no discount")
    return percent, text


def price_for_many(*, company: Company, products: Iterable[Product], on: date) -> dict[int, PriceQuote]:
    """Quotes for several products of one company on one date: product id → PriceQuote.

    A constant number of queries (at most 5) whatever the number of products. Callers pass Product
    instances (only `pk`, `base_price` and `category_id` are read).
    """
    products = list(products)
    if not products:
        return {}
    category_ids = {p.category_id for p in products if p.category_id is not None}
    chains = _category_ancestors(category_ids)
    all_category_ids = {c for chain in chains.values() for c in chain}
    list_prices = _list_prices(company=company, product_ids=[p.pk for p in products], on=on)
    discounts = _discounts(company=company, category_ids=all_category_ids, on=on)
    loyalty = _loyalty(company=company, on=on)
    quotes: dict[int, PriceQuote] = {}
    for product in products:
        if product.pk in list_prices:
            price, list_name = list_prices[product.pk]
            price_text = _("price list “%(name)s”") % {"name": list_name}
        else:
            price, price_text = product.base_price, _("base price")
        chain = chains.get(product.category_id, []) if product.category_id else []
        percent, discount_text = _best_discount(chain=chain, discounts=discounts, loyalty=loyalty)
        quotes[product.pk] = PriceQuote(
            base_price=product.base_price,
            price=price,
            discount_percent=percent,
            final_price=apply_discount(price, percent),
            rule=f"{price_text}; {discount_text}",
        )
    return quotes


def price_for(*, company: Company, product: Product, on: date) -> PriceQuote:
    """The price of `product` for `company` on `on` (see the module docstring for the rules)."""
    return price_for_many(company=company, products=[product], on=on)[product.pk]
