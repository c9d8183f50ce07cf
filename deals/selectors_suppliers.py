"""Reads of the supplier side: supplier lists, the supplier page, a product's supplier comparison and the
reliability figures that purchase deliveries give (issue #6, item 6).

Who sees suppliers: suppliers are a shared catalogue, not customer data. Procurement users have the OWN
scope on companies (they would see only the companies they own), but comparing suppliers is their job, so
every company with the supplier role is shown to users with deals.view_supplieroffer (procurement,
director, administrator). Anyone else sees supplier data only of companies visible to them through
Company.objects.visible_to(user), and the supplier pages themselves need that permission.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Company, CompanyRole, Region
from crm.history import ACTIONS, ChangeEntry, history_entries, latest_records, record_changes
from crm.models import User
from deals.models import Currency, Product, PurchaseDelivery, SupplierOffer, SupplierProfile
from deals.selectors_catalogue import decorate_product

VIEW_SUPPLIERS = "deals.view_supplieroffer"
PAGE_SIZE = 25  # rows a list page shows, as every list (contacts.selectors_lists.PAGE_SIZE)
OFFERS_LIMIT = 100
DELIVERIES_LIMIT = 20
COMPARISON_LIMIT = 200
CHANGES_LIMIT = 50
ONE = Decimal("0.1")


def supplier_companies(*, user: User) -> QuerySet[Company]:
    """Companies with the supplier role the user may see (see the module docstring; GIN index on roles)."""
    # A shared catalogue: with the permission, every supplier whatever the user's row scope.
    shared = user.is_active and user.has_perm(VIEW_SUPPLIERS)
    qs = Company.objects.all() if shared else Company.objects.visible_to(user)
    return qs.filter(roles__contains=[CompanyRole.SUPPLIER])


def company_for_supplier_tab(*, user: User, pk: int) -> Company:
    """The company of the card's "Supplier" tab: one the user sees, or any supplier for procurement (else 404)."""
    company = Company.objects.visible_to(user).filter(pk=pk).first()
    if company is None:
        company = supplier_companies(user=user).filter(pk=pk).first()
    if company is None:
        raise Http404
    return company


# --- reliability figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reliability:
    """What purchase deliveries say about a supplier (or a supplier of one product).

    Counted among delivered purchases: on-time % (delivered on or before the promised date), fill rate
    (Σ received / Σ ordered), the average delay of the late ones, the average actual and promised lead
    times (delivered − ordered, promised − ordered). Open purchases are only counted.
    """

    delivered: int = 0
    on_time: int = 0
    open: int = 0
    overdue: int = 0
    on_time_percent: Decimal | None = None
    fill_rate_percent: Decimal | None = None
    average_delay_days: Decimal | None = None
    actual_lead_days: Decimal | None = None
    promised_lead_days: Decimal | None = None

    @property
    def has_data(self) -> bool:
        return self.delivered > 0

    @property
    def lead_gap_days(self) -> Decimal | None:
        """How many days longer than promised purchases actually take, on average."""
        if self.actual_lead_days is None or self.promised_lead_days is None:
            return None
        return self.actual_lead_days - self.promised_lead_days


def _days(value: timedelta | Decimal | int | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = Decimal(value.total_seconds()) / Decimal(86400)
    return Decimal(value).quantize(ONE, rounding=ROUND_HALF_UP)


def _percent(part: Decimal | int | None, whole: Decimal | int | None) -> Decimal | None:
    if not whole or part is None:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE, rounding=ROUND_HALF_UP)


def _span(end: str, start: str) -> ExpressionWrapper:
    # date − date: PostgreSQL gives whole days; Django wraps it as an interval, Avg() keeps the fraction.
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _aggregates(today: date) -> dict[str, Any]:
    delivered = Q(delivered_on__isnull=False)
    late = delivered & Q(delivered_on__gt=F("promised_on"))
    return {
        "delivered": Count("id", filter=delivered),
        "on_time": Count("id", filter=delivered & Q(delivered_on__lte=F("promised_on"))),
        "open": Count("id", filter=Q(delivered_on__isnull=True)),
        "overdue": Count("id", filter=Q(delivered_on__isnull=True, promised_on__lt=today)),
        "received": Sum("quantity_received", filter=delivered),
        "ordered": Sum("quantity_ordered", filter=delivered),
        "delay": Avg(_span("delivered_on", "promised_on"), filter=late),
        "actual_lead": Avg(_span("delivered_on", "ordered_on"), filter=delivered),
        "promised_lead": Avg(_span("promised_on", "ordered_on"), filter=delivered),
    }


def _reliability(row: dict[str, Any]) -> Reliability:
    return Reliability(
        delivered=row["delivered"],
        on_time=row["on_time"],
        open=row["open"],
        overdue=row["overdue"],
        on_time_percent=_percent(row["on_time"], row["delivered"]),
        fill_rate_percent=_percent(row["received"], row["ordered"]),
        average_delay_days=_days(row["delay"]),
        actual_lead_days=_days(row["actual_lead"]),
        promised_lead_days=_days(row["promised_lead"]),
    )


def reliability_by_supplier(*, supplier_ids: list[int], product: Product | None = None) -> dict[int, Reliability]:
    """supplier id → Reliability, overall or for one product: one GROUP BY query for all the suppliers
    (deals_delivery_supplier_idx, or deals_delivery_product_idx for one product). Missing → no deliveries."""
    if not supplier_ids:
        return {}
    qs = PurchaseDelivery.objects.filter(supplier_id__in=supplier_ids)
    if product is not None:
        qs = qs.filter(product=product)
    rows = qs.order_by().values("supplier_id").annotate(**_aggregates(timezone.localdate()))
    return {row["supplier_id"]: _reliability(row) for row in rows}


def reliability_by_product(*, supplier: Company, limit: int = OFFERS_LIMIT) -> dict[int, Reliability]:
    """product id → Reliability of one supplier per product it delivered (one GROUP BY query)."""
    rows = (
        PurchaseDelivery.objects.filter(supplier=supplier)
        .order_by()
        .values("product_id")
        .annotate(**_aggregates(timezone.localdate()))[:limit]
    )
    return {row["product_id"]: _reliability(row) for row in rows}


# --- supplier list ---------------------------------------------------------------------------------------


@dataclass
class SupplierRow:
    company: Company
    profile: SupplierProfile | None
    figures: Reliability


@dataclass
class SupplierPage:
    rows: list[SupplierRow]
    next_cursor: str | None
    is_first: bool


def _encode_cursor(name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([name, pk], ensure_ascii=False).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int] | None:
    try:
        name, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None
    return (name, pk) if isinstance(name, str) and isinstance(pk, int) else None


def supplier_list_page(
    *, user: User, query: str = "", cursor: str | None = None, limit: int = PAGE_SIZE
) -> SupplierPage:
    """A page of suppliers by name with their profiles and figures: 2 queries (companies + profiles, figures),
    keyset-paginated (no COUNT, no OFFSET)."""
    qs = supplier_companies(user=user).select_related("supplier_profile")
    query = " ".join(query.split())
    if len(query) >= 3:
        qs = qs.filter(Q(name__icontains=query) | Q(short_name__icontains=query))
    decoded = _decode_cursor(cursor) if cursor else None
    if decoded:
        qs = qs.filter(Q(name__gt=decoded[0]) | Q(name=decoded[0], pk__gt=decoded[1]))
    companies = list(qs.order_by("name", "pk")[: limit + 1])
    next_cursor = _encode_cursor(companies[limit - 1].name, companies[limit - 1].pk) if len(companies) > limit else None
    companies = companies[:limit]
    figures = reliability_by_supplier(supplier_ids=[c.pk for c in companies])
    rows = [SupplierRow(c, getattr(c, "supplier_profile", None), figures.get(c.pk, Reliability())) for c in companies]
    return SupplierPage(rows=rows, next_cursor=next_cursor, is_first=decoded is None)


# --- supplier page ---------------------------------------------------------------------------------------


@dataclass
class OfferRow:
    offer: SupplierOffer
    is_current: bool
    figures: Reliability


@dataclass
class SupplierCard:
    company: Company
    profile: SupplierProfile | None
    figures: Reliability
    offers: list[OfferRow]
    more_offers: bool
    deliveries: list[PurchaseDelivery]
    region_labels: list[str] = field(default_factory=list)
    can_open_card: bool = False  # the company card itself follows the user's row scope


def supplier_get(*, user: User, pk: int) -> Company:
    """A supplier company the user may see (Http404 otherwise, also for a company without the supplier role)."""
    company = supplier_companies(user=user).filter(pk=pk).first()
    if company is None:
        raise Http404
    return company


def supplier_profile_get(*, company: Company) -> SupplierProfile | None:
    """The profile of a supplier the caller fetched through supplier_get (None before the first save)."""
    return SupplierProfile.objects.filter(company=company).first()


def offer_is_current(offer: SupplierOffer, today: date) -> bool:
    return (offer.valid_from is None or offer.valid_from <= today) and (
        offer.valid_until is None or offer.valid_until >= today
    )


def supplier_card(*, user: User, pk: int) -> SupplierCard:
    """Everything the supplier page shows, in a constant number of queries (6)."""
    company = supplier_get(user=user, pk=pk)
    profile = supplier_profile_get(company=company)
    today = timezone.localdate()
    offers = list(
        SupplierOffer.objects.filter(supplier=company)
        .select_related("product")
        .order_by("product__name_uk", "-valid_from", "-pk")[: OFFERS_LIMIT + 1]
    )
    by_product = reliability_by_product(supplier=company)
    rows = []
    for offer in offers[:OFFERS_LIMIT]:
        decorate_product(offer.product)
        rows.append(OfferRow(offer, offer_is_current(offer, today), by_product.get(offer.product_id, Reliability())))
    deliveries = list(
        PurchaseDelivery.objects.filter(supplier=company)
        .select_related("product")
        .order_by("-ordered_on", "-pk")[:DELIVERIES_LIMIT]
    )
    for delivery in deliveries:
        decorate_product(delivery.product)
        delivery.is_late = bool(  # type: ignore[attr-defined]
            (delivery.delivered_on and delivery.delivered_on > delivery.promised_on)
            or (delivery.delivered_on is None and delivery.promised_on < today)
        )
    labels = dict(Region.choices)
    return SupplierCard(
        company=company,
        profile=profile,
        figures=reliability_by_supplier(supplier_ids=[company.pk]).get(company.pk, Reliability()),
        offers=rows,
        more_offers=len(offers) > OFFERS_LIMIT,
        deliveries=deliveries,
        region_labels=[str(labels.get(r, r)) for r in (profile.delivery_regions if profile else [])],
        can_open_card=Company.objects.visible_to(user).filter(pk=company.pk).exists(),
    )


def supplier_offer_get(*, user: User, pk: int) -> SupplierOffer:
    offer = (
        SupplierOffer.objects.filter(pk=pk, supplier__in=supplier_companies(user=user))
        .select_related("supplier", "product")
        .first()
    )
    if offer is None:
        raise Http404
    decorate_product(offer.product)
    return offer


def purchase_delivery_get(*, user: User, pk: int) -> PurchaseDelivery:
    delivery = (
        PurchaseDelivery.objects.filter(pk=pk, supplier__in=supplier_companies(user=user))
        .select_related("supplier", "product")
        .first()
    )
    if delivery is None:
        raise Http404
    return delivery


# Bookkeeping fields whose history is noise.
_NOT_SHOWN = {"created_at", "updated_at", "id", "image"}


def supplier_changes(*, user: User, pk: int, limit: int = CHANGES_LIMIT) -> tuple[Company, list[ChangeEntry]]:
    """The latest changes of a supplier's profile and offers (django-simple-history), newest first: 4 queries."""
    company = supplier_get(user=user, pk=pk)
    profile_records = latest_records(SupplierProfile.history.filter(company_id=company.pk), limit + 1)
    subject = str(SupplierProfile._meta.verbose_name).capitalize()
    entries = history_entries(profile_records, limit=limit, names={}, hidden=_NOT_SHOWN, subject=subject)
    offer_records = latest_records(SupplierOffer.history.filter(supplier_id=company.pk), limit + 1)
    skus = dict(Product.objects.filter(pk__in={r.product_id for r in offer_records}).values_list("pk", "sku"))
    subject = str(SupplierOffer._meta.verbose_name).capitalize()
    by_offer: dict[int, list[Any]] = {}
    for record in offer_records:
        by_offer.setdefault(record.id, []).append(record)
    for records in by_offer.values():
        for record, changes in record_changes(records, limit=limit, names={}, hidden=_NOT_SHOWN):
            summary = _("%(sku)s: %(price)s %(currency)s, %(days)s days") % {
                "sku": skus.get(record.product_id, f"#{record.product_id}"),
                "price": record.price,
                "currency": record.currency,
                "days": record.lead_days,
            }
            action = str(ACTIONS[record.history_type])
            entries.append(ChangeEntry(record.history_date, record.history_user, action, subject, changes, summary))
    entries.sort(key=lambda e: e.when, reverse=True)
    return company, entries[:limit]


# --- a product's suppliers -------------------------------------------------------------------------------


@dataclass
class ComparisonRow:
    supplier: Company
    offer: SupplierOffer
    is_current: bool
    figures: Reliability  # deliveries of this product
    overall: Reliability  # all the supplier's deliveries


COMPARISON_SORTS = ("price", "lead", "reliability")


def _reliability_key(row: ComparisonRow) -> tuple:
    f = row.figures if row.figures.has_data else row.overall
    return (
        not f.has_data,  # suppliers without delivered purchases last
        -(f.on_time_percent or 0),
        -(f.fill_rate_percent or 0),
        f.average_delay_days or 0,
        row.supplier.name,
    )


def _sort_key(sort: str) -> Callable[[ComparisonRow], tuple]:
    if sort == "lead":
        return lambda r: (not r.is_current, r.offer.lead_days, r.offer.price, r.supplier.name)
    if sort == "reliability":
        return _reliability_key
    # Prices in UAH are compared; other currencies (no exchange rates here) come after, by currency and price.
    return lambda r: (
        not r.is_current,
        r.offer.currency != Currency.UAH,
        r.offer.currency,
        r.offer.price,
        r.supplier.name,
    )


def product_suppliers(*, user: User, product: Product, sort: str = "price") -> list[ComparisonRow]:
    """The product's suppliers, one row each with its current offer (or its latest one, marked not current),
    and their reliability for this product and overall: 3 queries, sorted by price, lead time or reliability."""
    today = timezone.localdate()
    offers = list(
        SupplierOffer.objects.filter(product=product, supplier__in=supplier_companies(user=user))
        .select_related("supplier")
        .order_by("supplier_id", F("valid_from").desc(nulls_last=True), "-pk")[:COMPARISON_LIMIT]
    )
    chosen: dict[int, tuple[SupplierOffer, bool]] = {}
    for offer in offers:  # per supplier: the first current offer, else the newest one
        current = offer_is_current(offer, today)
        if offer.supplier_id not in chosen or (current and not chosen[offer.supplier_id][1]):
            chosen[offer.supplier_id] = (offer, current)
    ids = list(chosen)
    per_product = reliability_by_supplier(supplier_ids=ids, product=product)
    overall = reliability_by_supplier(supplier_ids=ids)
    rows = [
        ComparisonRow(
            offer.supplier, offer, current, per_product.get(sid, Reliability()), overall.get(sid, Reliability())
        )
        for sid, (offer, current) in chosen.items()
    ]
    rows.sort(key=_sort_key(sort if sort in COMPARISON_SORTS else "price"))
    return rows
