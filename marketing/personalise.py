"""E-mail personalisation: the `{{ placeholder }}` language of a campaign's subject and text.

The language is deliberately tiny — plain string substitution of a fixed list of names, no tags, no
filters, no attribute lookups — so a marketer cannot reach anything but the member's own fields.
`placeholders_check` refuses an unknown name on save; `personalise` fills the plain text (the subject
and the text part), `personalise_html` escapes every value for the HTML part. `member_context` builds
the contexts of a whole batch of members with a constant number of queries (the send and the preview).

`{{ unsubscribe_url }}` is filled by the sender (marketing.services_send), which passes it in the context.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from deals.formatting import Money
from deals.models import FAILURE_STATUSES, CustomerGroup, Discount, LoyaltyRule, Order, PriceListItem, Product
from deals.pricing import ZERO, PriceQuote, _best_discount, _category_ancestors, _valid_on, apply_discount
from marketing.models import Campaign, CampaignMember

PLACEHOLDERS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "full_name",
    "company",
    "position",
    "product",
    "price",
    "unsubscribe_url",
)
# Anything between double braces is a placeholder: a typo such as {{ first name }} is refused too.
PLACEHOLDER_RE = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)


def placeholders_used(text: str) -> list[str]:
    """The placeholder names in `text`, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in PLACEHOLDER_RE.finditer(text or ""):
        seen.setdefault(match.group(1), None)
    return list(seen)


def placeholders_check(text: str) -> None:
    """Raise ValidationError naming the first unknown placeholder of `text` (None when all are known)."""
    for name in placeholders_used(text):
        if name not in PLACEHOLDERS:
            raise ValidationError(
                _("Unknown placeholder {{ %(name)s }}. Known: %(known)s."),
                code="unknown_placeholder",
                params={"name": name, "known": ", ".join(f"{{{{ {known} }}}}" for known in PLACEHOLDERS)},
            )


def personalise(*, template: str, context: Mapping[str, str]) -> str:
    """The template with each known placeholder replaced by its context value ("" when missing).

    Plain text: nothing is escaped. Unknown placeholders are left as typed (the form refuses them)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        return str(context.get(name, "") or "")

    return PLACEHOLDER_RE.sub(replace, template or "")


def personalise_html(*, template: str, context: Mapping[str, str]) -> str:
    """Like `personalise`, for text that goes into HTML: the template and every value are escaped.

    The result is safe to mark safe and wrap in paragraphs (marketing/email/campaign_message.html)."""
    return personalise(template=escape(template or ""), context={k: escape(v) for k, v in context.items()})


def product_name(product: Product | None) -> str:
    if product is None:
        return ""
    english = (get_language() or "").startswith("en")
    return product.name_en if english and product.name_en else product.name_uk


def prices_for_companies(*, companies: Iterable[int], product: Product, on: date) -> dict[int, PriceQuote]:
    """The quote of one product for each of many companies: company id → PriceQuote.

    The same rules as deals.pricing.price_for (whose helpers it reuses), batched over companies: at most
    six queries whatever the number of companies (price_for_many is batched over products of one company,
    which would cost five queries per company of a send batch). tests/marketing/test_personalise.py checks
    that both agree.
    """
    company_ids = sorted(set(companies))
    if not company_ids:
        return {}
    chain = _category_ancestors({product.category_id}).get(product.category_id, []) if product.category_id else []
    groups: dict[int, set[int]] = defaultdict(set)
    for company_id, group_id in CustomerGroup.companies.through.objects.filter(company_id__in=company_ids).values_list(
        "company_id", "customergroup_id"
    ):
        groups[company_id].add(group_id)
    all_groups = {g for ids in groups.values() for g in ids}
    items = list(
        PriceListItem.objects.filter(
            Q(price_list__company_id__in=company_ids) | Q(price_list__customer_group_id__in=all_groups),
            _valid_on(on, "price_list__"),
            product_id=product.pk,
            price_list__is_active=True,
        )
        .values_list(
            "price",
            "price_list__name",
            "price_list__company_id",
            "price_list__customer_group_id",
            "price_list__valid_from",
            "price_list_id",
        )
        .order_by()
    )
    discounts = list(
        Discount.objects.filter(
            Q(company_id__in=company_ids, category__isnull=True)
            | Q(company_id__in=company_ids, category_id__in=chain)
            | Q(company__isnull=True, category_id__in=chain),
            _valid_on(on),
        )
        .select_related("category")
        .order_by("-percent", "id")
    )
    loyalty = _loyalty_many(company_ids=company_ids, on=on)
    quotes: dict[int, PriceQuote] = {}
    for company_id in company_ids:
        best: tuple[tuple[int, date, int], Decimal, str] | None = None
        for price, list_name, list_company, list_group, valid_from, list_id in items:
            if list_company != company_id and list_group not in groups[company_id]:
                continue
            key = (1 if list_company else 0, valid_from or date.min, list_id)
            if best is None or key > best[0]:
                best = (key, price, list_name)
        if best is not None:
            price, price_text = best[1], str(_("price list “%(name)s”") % {"name": best[2]})
        else:
            price, price_text = product.base_price, str(_("base price"))
        own = [d for d in discounts if d.company_id in (None, company_id)]
        percent, discount_text = _best_discount(
            chain=chain, discounts=own, loyalty=loyalty.get(company_id, (ZERO, None))
        )
        quotes[company_id] = PriceQuote(
            base_price=product.base_price,
            price=price,
            discount_percent=percent,
            final_price=apply_discount(price, percent),
            rule=f"{price_text}; {discount_text}",
        )
    return quotes


def _loyalty_many(*, company_ids: list[int], on: date) -> dict[int, tuple[Decimal, LoyaltyRule | None]]:
    """deals.pricing._loyalty for many companies: the rules, then one grouped aggregate of their orders."""
    rules = list(LoyaltyRule.objects.filter(is_active=True).order_by("-percent", "id"))
    if not rules:
        return {}
    end = timezone.make_aware(datetime.combine(on + timedelta(days=1), time.min))
    periods = sorted({rule.period_days for rule in rules})
    aggregates: dict[str, Count | Sum] = {}
    for days in periods:
        since = end - timedelta(days=days)
        aggregates[f"n{days}"] = Count("id", filter=Q(created_at__gte=since))
        aggregates[f"s{days}"] = Sum("total", filter=Q(created_at__gte=since))
    start = end - timedelta(days=periods[-1])
    rows = (
        Order.objects.filter(company_id__in=company_ids, created_at__gte=start, created_at__lt=end)
        .exclude(status__in=FAILURE_STATUSES)
        .values("company_id")
        .annotate(**aggregates)
        .order_by()
    )
    result: dict[int, tuple[Decimal, LoyaltyRule | None]] = {}
    for figures in rows:
        for rule in rules:  # highest percent first
            count = figures[f"n{rule.period_days}"] or 0
            amount = figures[f"s{rule.period_days}"] or ZERO
            if (rule.min_orders is not None and count >= rule.min_orders) or (
                rule.min_amount is not None and amount >= rule.min_amount
            ):
                result[figures["company_id"]] = (rule.percent, rule)
                break
    return result


def member_context(
    *, members: Iterable[CampaignMember], campaign: Campaign, on: date | None = None
) -> dict[int, dict[str, str]]:
    """member id → placeholder values, for a batch of members of `campaign`.

    Constant queries: the members' people and companies in one query, the prices of the campaign's
    e-mail product for all their companies in at most six (prices_for_companies). `unsubscribe_url` is
    left to the sender. Members without a person (or company) get empty values, never an error."""
    members = list(members)
    ids = [m.pk for m in members]
    rows = (
        CampaignMember.objects.filter(pk__in=ids)
        .select_related("person", "company")
        .only(
            "person__first_name",
            "person__last_name",
            "person__position",
            "company__name",
            "company__short_name",
        )
    )
    by_id = {m.pk: m for m in rows}
    product = campaign.email_product
    prices: dict[int, PriceQuote] = {}
    if product is not None:
        company_ids = [m.company_id for m in by_id.values() if m.company_id]
        prices = prices_for_companies(companies=company_ids, product=product, on=on or timezone.localdate())
    money = Money()
    name = product_name(product)
    contexts: dict[int, dict[str, str]] = {}
    for member_id in ids:
        member = by_id.get(member_id)
        if member is None:
            continue
        person, company = member.person, member.company
        first, last = (person.first_name, person.last_name) if person else ("", "")
        quote = prices.get(member.company_id) if member.company_id else None
        price: Decimal | None = None
        if product is not None:  # a person without a company pays the base price
            price = quote.final_price if quote else product.base_price
        contexts[member_id] = {
            "first_name": first,
            "last_name": last,
            "full_name": " ".join(part for part in (first, last) if part),
            "company": str(company) if company else "",
            "position": person.position if person else "",
            "product": name,
            "price": f"{money(price)} ₴" if price is not None else "",
        }
    return contexts
