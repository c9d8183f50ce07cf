"""Reads of orders: the monitoring list (keyset pages, per-status counts), the order card, its field history,
the company card's "Orders" tab. Every read starts from `Order.objects.visible_to(user)`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from contacts.models import Company, Interaction, Person
from crm.history import ChangeEntry, history_entries, latest_records, load_names
from crm.lib.cached import cached_aggregate, scope_key
from crm.models import Scope, Team, User
from crm.templatetags.crm_urls import pk_url
from deals import aggregates
from deals.filters_orders import OrderFilter
from deals.formatting import Money, day
from deals.models import (
    OPEN_ORDER_STATUSES,
    Deal,
    FailureReason,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    PaymentStatus,
    Product,
)
from deals.selectors_deals import INTERACTION_COLUMNS
from deals.services_orders import allowed_statuses

PAGE_SIZE = 25  # rows a list page shows, as every list (contacts.selectors_lists.PAGE_SIZE)
COUNTS_DAYS = 90  # the per-status counts cover orders created in this many days unless a period is chosen
CARD_INTERACTIONS = 20
COMPANY_TAB_LIMIT = 20
CHANGES_LIMIT = 50


# --- the monitoring list -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sort:
    """A keyset order: `column` then `id` as the tie-breaker, each ascending or descending."""

    key: str
    column: str
    descending: bool
    id_descending: bool
    kind: str  # "datetime", "date" or "id"


# Newest first, ties by id ascending: exactly the order of deals_order_owner_idx / _team_idx / _status_idx
# (…, -created_at, id), so a representative's, a team's or one status's page is an index range scan.
NEWEST = Sort("newest", "created_at", descending=True, id_descending=False, kind="datetime")
# Everyone's orders with no owner, team, status or company filter (director): no index leads with
# created_at, so the newest are read by the primary key (ids grow with creation time).
NEWEST_BY_ID = Sort("id", "id", descending=True, id_descending=True, kind="id")
# Overdue, most overdue first: the partial deals_order_overdue_idx (expected_date, id) for a director; for a
# representative or a manager one walk per part of their scope (see _overdue_ids).
MOST_OVERDUE = Sort("overdue", "expected_date", descending=False, id_descending=False, kind="date")
LEADING_FILTERS = ("status", "owner", "team", "company")


@dataclass(frozen=True)
class OrderRow:
    """A row of the order list, ready to print (strings formatted once here, URL from one reverse)."""

    pk: int
    created_at: datetime
    expected_date: date | None
    id: int
    url: str
    number: str
    company_name: str
    status: str
    status_label: str
    status_badge: str
    total: str
    payment_label: str
    expected_label: str
    is_overdue: bool
    owner_name: str
    created_label: str


@dataclass
class OrderPage:
    rows: list[OrderRow]
    next_cursor: str | None
    is_first: bool


# The badge colour of each status (deals/includes/order_status_badge.html on the card).
STATUS_BADGES = {
    OrderStatus.COMPLETED: "text-bg-success",
    OrderStatus.DELIVERED: "text-bg-success",
    OrderStatus.FAILED: "text-bg-danger",
    OrderStatus.CANCELLED: "text-bg-danger",
    OrderStatus.NEW: "text-bg-secondary",
}
_ROW_FIELDS = (
    "id",
    "created_at",
    "number",
    "company__name",
    "status",
    "total",
    "payment_status",
    "expected_date",
    "owner__full_name",
    "owner__email",
)


def _order_rows(rows: list[tuple]) -> list[OrderRow]:
    money = Money()
    statuses = {status.value: str(status.label) for status in OrderStatus}
    payments = {status.value: str(status.label) for status in PaymentStatus}
    today = timezone.localdate()
    result = []
    for pk, created, number, company, status, total, payment, expected, owner_name, owner_email in rows:
        result.append(
            OrderRow(
                pk=pk,
                created_at=created,
                expected_date=expected,
                id=pk,
                url=pk_url("deals:order-detail", pk),
                number=number,
                company_name=company,
                status=status,
                status_label=statuses.get(status, status),
                status_badge=STATUS_BADGES.get(status, "text-bg-primary"),
                total=money(total),
                payment_label=payments.get(payment, payment),
                expected_label=day(expected),
                is_overdue=bool(status in OPEN_ORDER_STATUSES and expected and expected < today),
                owner_name=owner_name or owner_email,
                created_label=day(timezone.localtime(created).date()),
            )
        )
    return result


def _encode(sort: Sort, value: Any, pk: int) -> str:
    raw = json.dumps({"s": sort.key, "v": value if sort.kind == "id" else value.isoformat(), "id": pk})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, sort: Sort) -> tuple[Any, int] | None:
    """The cursor's value and id, or None for a malformed or foreign cursor (then the first page is shown)."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["s"] != sort.key or not isinstance(data["id"], int):
            return None
        if sort.kind == "id":
            return (data["v"], data["id"]) if isinstance(data["v"], int) else None
        value = date.fromisoformat(data["v"]) if sort.kind == "date" else datetime.fromisoformat(data["v"])
        if sort.kind == "datetime" and timezone.is_naive(value):
            return None
        return value, data["id"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        return None


def order_sort(filterset: OrderFilter) -> Sort:
    """The list's order: newest first, or most overdue first with the overdue filter (see the Sort constants)."""
    everyone = filterset.user.scope == Scope.ALL
    if filterset.is_overdue:
        return MOST_OVERDUE
    data = filterset.form.cleaned_data if filterset.is_bound and filterset.form.is_valid() else {}
    if everyone and not any(data.get(name) for name in LEADING_FILTERS):
        return NEWEST_BY_ID
    return NEWEST


def order_queryset(*, filterset: OrderFilter, cursor: str | None = None) -> tuple[QuerySet[Order], Sort, bool]:
    """The page's query before its LIMIT: (queryset, sort, whether the cursor was used)."""
    sort = order_sort(filterset)
    qs = filterset.qs.select_related("company", "owner")
    decoded = _decode(cursor, sort) if cursor else None
    column, op = sort.column, "lt" if sort.descending else "gt"
    if decoded is not None:
        value, pk = decoded
        id_op = "lt" if sort.id_descending else "gt"
        after = (
            Q(**{f"id__{id_op}": pk})
            if sort.kind == "id"
            else Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{id_op}": pk})
        )
        # The leading `column <= value` gives the planner an index bound; the OR alone would scan from the start.
        qs = qs.filter(Q(**{f"{column}__{op}e": value}), after)
    order = [F(column).desc() if sort.descending else F(column).asc()]
    if sort.kind != "id":
        order.append(F("id").desc() if sort.id_descending else F("id").asc())
    return qs.order_by(*order), sort, decoded is not None


def order_page(*, filterset: OrderFilter, cursor: str | None = None, limit: int = PAGE_SIZE) -> OrderPage:
    """One page of the filtered orders after `cursor` as plain rows: one query, no COUNT, no OFFSET."""
    qs, sort, used_cursor = order_queryset(filterset=filterset, cursor=cursor)
    if sort is MOST_OVERDUE:
        ids = _overdue_ids(qs, _scope_parts(filterset.user), limit + 1)
        found = {row[0]: row for row in Order.objects.filter(pk__in=ids).values_list(*_ROW_FIELDS)}
        rows = _order_rows([found[pk] for pk in ids if pk in found])
    else:
        rows = _order_rows(list(qs.values_list(*_ROW_FIELDS)[: limit + 1]))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode(sort, getattr(last, sort.column), last.pk)
    return OrderPage(rows=rows[:limit], next_cursor=next_cursor, is_first=not used_cursor)


def _scope_parts(user: User) -> list[Q]:
    """The parts of `visible_to(user)` (crm.models.ScopedQuerySet.visibility); everyone's orders are one part."""
    scope = user.scope
    if scope == Scope.ALL:
        return [Q()]
    parts = [Q(owner_id=user.pk)]
    if scope == Scope.TEAM:
        parts += [Q(team_id=pk) for pk in sorted(user.team_ids)]
    return parts


def _overdue_ids(qs: QuerySet[Order], parts: list[Q], limit: int) -> list[int]:
    """The first `limit` ids of the ordered overdue `qs` (keyset bound applied), most overdue first.

    Walking all overdue orders in date order for one owner or team would read every other's first, and
    sorting the scope's ones costs ~30 ms at size L (4.5k overdue of a team). So each part of the scope (the
    user's own orders, each team's) walks its partial index deals_order_owner_overdue_idx /
    _team_overdue_idx in order and stops after `limit`: one UNION ALL of LIMIT-ed index scans, merged here
    (an order in two parts is counted once). A director's one part walks deals_order_overdue_idx. Ids and
    dates only, no joins: a join would let the planner start from the (small) users table instead.
    """
    ordered = qs.filter(expected_date__isnull=False).values_list("id", "expected_date")
    walks = [ordered.filter(part)[:limit] for part in parts]
    combined = walks[0].union(*walks[1:], all=True) if len(walks) > 1 else walks[0]
    keys = sorted(set(combined), key=lambda row: (row[1], row[0]))
    return [pk for pk, _ in keys[:limit]]


@dataclass
class StatusCounts:
    counts: dict[str, int]
    start: date
    end: date | None  # inclusive; None: up to now
    is_default_period: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def items(self) -> list[tuple[str, str, int]]:
        return [(status.value, str(status.label), self.counts.get(status.value, 0)) for status in OrderStatus]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def status_counts_queryset(*, user: User, start: date, end: date | None) -> QuerySet:
    """(status, count) rows of the visible orders created in [start, end]."""
    qs = Order.objects.visible_to(user).filter(created_at__gte=_day_start(start))
    if end is not None:
        qs = qs.filter(created_at__lt=_day_start(end + timedelta(days=1)))
    return qs.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")


def order_status_counts(*, user: User, start: date | None = None, end: date | None = None) -> StatusCounts:
    """Orders per status among those the user sees, created in [start, end] (default: the last 90 days).

    One GROUP BY query. At 1M orders a count over every visible order would scan them all, so the counts
    are bounded by the creation period (the list's own filters other than the period do not apply) and the
    page says so. Served by the (owner|team|status, -created_at, id) indexes. Cached (crm.lib.cached) per
    scope and period: a director's 90 days are ~36k orders (~25 ms); every write of an order invalidates.
    """
    is_default = start is None and end is None
    if start is None:
        start = timezone.localdate() - timedelta(days=COUNTS_DAYS - 1)
    counts = cached_aggregate(
        aggregates.ORDERS,
        ("status-counts", scope_key(user), start, end),
        lambda: dict(status_counts_queryset(user=user, start=start, end=end)),
    )
    return StatusCounts(counts=counts, start=start, end=end, is_default_period=is_default)


@dataclass(frozen=True)
class LineQuote:
    price: Any
    discount: Any
    rule: str


def line_quote(*, user: User, company_id: str, product_id: str) -> LineQuote | None:
    """The pre-filled price of a product for a company the user sees (deals.pricing); None if either is unknown."""
    if not (str(company_id).isdigit() and str(product_id).isdigit()):
        return None
    company = Company.objects.visible_to(user).filter(pk=company_id).first()
    product = Product.objects.filter(pk=product_id, is_active=True).first()
    if company is None or product is None:
        return None
    try:
        from deals.pricing import price_for
    except ImportError:  # pragma: no cover - the catalogue's module is part of the same issue
        return LineQuote(product.base_price, Decimal("0.00"), "")
    quote = price_for(company=company, product=product, on=timezone.localdate())
    return LineQuote(quote.price, quote.discount_percent, quote.rule)


# --- the order card -----------------------------------------------------------------------------------------


def order_get(*, user: User, pk: int) -> Order:
    """An order the user may see, with what its header shows; Http404 otherwise.

    The deal and the failure reason load on access, only when the order has one: joining all six related
    tables cost ~2 ms of planning at size L (7 relations), more than the order's own query.
    """
    qs = Order.objects.visible_to(user).select_related("company", "person", "owner", "team")
    return get_object_or_404(qs, pk=pk)


def order_line_get(*, user: User, pk: int) -> OrderLine:
    """A line of an order the user may see; Http404 otherwise."""
    visible = Order.objects.visible_to(user).values("pk")
    return get_object_or_404(OrderLine.objects.select_related("order", "product").filter(order__in=visible), pk=pk)


@dataclass
class OrderCard:
    order: Order
    lines: list[OrderLine]
    timeline: list[OrderStatusChange]
    next_statuses: list[OrderStatus]
    interactions: list[Interaction]
    more_interactions: bool
    reasons: list[FailureReason] = field(default_factory=list)

    @property
    def lines_editable(self) -> bool:
        return self.order.status == OrderStatus.NEW

    @property
    def progress_statuses(self) -> list[OrderStatus]:
        return [s for s in self.next_statuses if s not in (OrderStatus.CANCELLED, OrderStatus.FAILED)]

    @property
    def failure_statuses(self) -> list[OrderStatus]:
        return [s for s in self.next_statuses if s in (OrderStatus.CANCELLED, OrderStatus.FAILED)]


def order_interactions(*, order: Order, limit: int = CARD_INTERACTIONS) -> list[Interaction]:
    """Contacts logged against the order (contacts_inter_object_idx), newest first; `limit + 1` rows."""
    content_type = ContentType.objects.get_for_model(Order)
    qs = Interaction.objects.filter(content_type=content_type, object_id=order.pk).select_related("user", "person")
    qs = qs.only(*INTERACTION_COLUMNS)  # what the card prints: interactions are wide rows of another app
    return list(qs.order_by("-occurred_at", "-id")[: limit + 1])


def order_card(*, user: User, pk: int) -> OrderCard:
    """Everything the order card shows (a constant number of queries); Http404 for an order the user may not see."""
    order = order_get(user=user, pk=pk)
    lines = list(order.lines.select_related("product").order_by("id"))
    timeline = list(order.status_changes.select_related("changed_by").order_by("changed_at", "id"))
    interactions = order_interactions(order=order)
    next_statuses = allowed_statuses(order)
    failing = any(s in (OrderStatus.CANCELLED, OrderStatus.FAILED) for s in next_statuses)
    return OrderCard(
        order=order,
        lines=lines,
        timeline=timeline,
        next_statuses=next_statuses,
        interactions=interactions[:CARD_INTERACTIONS],
        more_interactions=len(interactions) > CARD_INTERACTIONS,
        reasons=failure_reasons() if failing else [],
    )


def failure_reasons() -> list[FailureReason]:
    return list(FailureReason.objects.filter(is_active=True).order_by("name"))


# --- field history ("Changes") -------------------------------------------------------------------------------

_NOT_SHOWN = {"id", "created_at", "updated_at", "number", "status_changed_at"}
_FK_MODELS: dict[str, type] = {
    "company": Company,
    "person": Person,
    "owner": User,
    "team": Team,
    "deal": Deal,
    "failure_reason": FailureReason,
}


def order_changes(*, user: User, pk: int, limit: int = CHANGES_LIMIT) -> tuple[Order, list[ChangeEntry]]:
    """The latest `limit` field changes of an order (django-simple-history), newest first."""
    order = order_get(user=user, pk=pk)
    records = latest_records(order.history.all(), limit + 1)
    return order, history_entries(records, limit=limit, names=load_names(records, _FK_MODELS), hidden=_NOT_SHOWN)


# --- the company card's "Orders" tab ---------------------------------------------------------------------------


@dataclass
class CompanyOrders:
    rows: list[Order]
    more: bool


def company_orders(*, user: User, company: Company, limit: int = COMPANY_TAB_LIMIT) -> CompanyOrders:
    """The company's orders the user sees, newest first (deals_order_company_idx), at most `limit`."""
    qs = Order.objects.visible_to(user).filter(company=company).select_related("owner")
    rows = list(qs.order_by("-created_at", "-id")[: limit + 1])
    return CompanyOrders(rows=rows[:limit], more=len(rows) > limit)
