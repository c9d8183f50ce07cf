"""Customer orders (issue #6, item 4): numbering, lines and totals, status flow, payment, conversion from a deal.

Money rule, "round per line, then sum": for each line
    gross = quantize_money(quantity × price, 0.01)
    net   = quantize_money(quantity × price × (1 − discount / 100), 0.01)
    vat   = quantize_money(net × vat_rate / 100, 0.01)
    total = net + vat
and the order's subtotal (without VAT), discount_total (Σ gross − net), vat_total and total are the sums of
the line values. So the order always equals the sum of its printed lines, kopeck for kopeck (a VAT computed
on the order's net sum could differ from the sum of the lines' VAT by a kopeck or two).

Numbers are "YYYY-NNNNNN", sequential per year (Europe/Kyiv): the year's OrderNumber row is locked
(SELECT … FOR UPDATE) and incremented inside the order's own transaction, so a rolled-back order gives its
number back and two concurrent orders wait for each other: no gaps, no repeats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.models import Company, Person
from crm.lib.cached import bump
from crm.models import NotificationKind, User
from crm.services import notify
from deals import aggregates, pricing
from deals.models import (
    FAILURE_STATUSES,
    ORDER_TRANSITIONS,
    Deal,
    DealStatus,
    FailureReason,
    Order,
    OrderLine,
    OrderNumber,
    OrderSource,
    OrderStatus,
    OrderStatusChange,
    PaymentStatus,
    Product,
)
from deals.pricing import apply_discount, quantize_money

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
MAX_LINES = 200  # an order form never has more; a bigger payload is refused, not half-processed
QUANTITY_PLACES = 3
MONEY_LIMIT = Decimal("999999999999.99")  # max_digits=14, decimal_places=2


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal  # quantity × price, before the discount
    net: Decimal
    vat: Decimal
    total: Decimal

    @property
    def discount(self) -> Decimal:
        return self.gross - self.net


def line_amounts(*, quantity: Decimal, price: Decimal, discount_percent: Decimal, vat_rate: Decimal) -> LineAmounts:
    """One line's amounts by the module's rounding rule."""
    gross_exact = quantity * price
    net = apply_discount(gross_exact, discount_percent)
    vat = quantize_money(net * vat_rate / HUNDRED)
    return LineAmounts(gross=quantize_money(gross_exact), net=net, vat=vat, total=net + vat)


@dataclass(frozen=True)
class LineInput:
    """A line as a caller gives it; price and discount None → from deals.pricing for the company."""

    product: Product
    quantity: Decimal | int | str
    price: Decimal | str | None = None
    discount: Decimal | str | None = None


LineLike = LineInput | Sequence[Any]


# --- checks ------------------------------------------------------------------------------------------


def _decimal(value: Any, field: str, message: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: message}) from None
    if not number.is_finite():
        raise ValidationError({field: message})
    return number


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def check_quantity(value: Any) -> Decimal:
    quantity = _decimal(value, "quantity", _("Enter the quantity as a number."))
    if quantity <= 0:
        raise ValidationError({"quantity": _("The quantity must be above zero.")})
    if _places(quantity) > QUANTITY_PLACES:
        raise ValidationError({"quantity": _("Use at most 3 decimal places for the quantity.")})
    if quantity >= Decimal("1000000000"):
        raise ValidationError({"quantity": _("The quantity is too large.")})
    return quantity


def check_price(value: Any) -> Decimal:
    price = _decimal(value, "price", _("Enter the price as a number."))
    if price < 0:
        raise ValidationError({"price": _("The price cannot be negative.")})
    if _places(price) > 2:
        raise ValidationError({"price": _("Use at most 2 decimal places (kopecks) for the price.")})
    if price > MONEY_LIMIT:
        raise ValidationError({"price": _("The price is too large.")})
    return price.quantize(CENT)


def check_discount(value: Any) -> Decimal:
    discount = _decimal(value, "discount_percent", _("Enter the discount as a number."))
    if discount < 0 or discount > 100:
        raise ValidationError({"discount_percent": _("The discount is a percentage between 0 and 100.")})
    if _places(discount) > 2:
        raise ValidationError({"discount_percent": _("Use at most 2 decimal places for the discount.")})
    return discount.quantize(CENT)


def _check_perm(actor: User, perm: str) -> None:
    if not actor.is_active or not actor.has_perm(perm):
        raise PermissionDenied


def _as_input(line: LineLike) -> LineInput:
    if isinstance(line, LineInput):
        return line
    values = list(line)
    if not 2 <= len(values) <= 4:
        raise ValidationError({"lines": _("Each line needs a product and a quantity.")})
    return LineInput(*values)


@dataclass
class _Line:
    product: Product
    quantity: Decimal
    price: Decimal
    discount: Decimal
    vat_rate: Decimal

    @property
    def amounts(self) -> LineAmounts:
        return line_amounts(
            quantity=self.quantity, price=self.price, discount_percent=self.discount, vat_rate=self.vat_rate
        )


def _prepare_lines(*, company: Company, lines: Iterable[LineLike], on: date) -> list[_Line]:
    """Checked lines with prices and discounts filled in (one pricing call for all of them).

    Raises ValidationError keyed by "lines" with the line's number, so a form can show where it is.
    """
    inputs = [_as_input(line) for line in lines]
    if not inputs:
        raise ValidationError({"lines": _("Add at least one product.")})
    if len(inputs) > MAX_LINES:
        raise ValidationError({"lines": _("An order can have at most %(count)d lines.") % {"count": MAX_LINES}})
    prepared: list[_Line] = []
    needs_quote = [i.product for i in inputs if i.price is None or i.discount is None]
    quotes = _quotes(company=company, products=needs_quote, on=on) if needs_quote else {}
    for number, item in enumerate(inputs, start=1):
        try:
            if not isinstance(item.product, Product) or item.product.pk is None:
                raise ValidationError({"product": _("Choose a product.")})
            if not item.product.is_active:
                raise ValidationError({"product": _("This product is no longer sold.")})
            quantity = check_quantity(item.quantity)
            quote = quotes.get(item.product.pk)
            price = check_price(item.price) if item.price is not None else quote[0]  # type: ignore[index]
            if item.discount is not None:
                discount = check_discount(item.discount)
            else:
                # A price typed by hand is taken as is; the automatic discount goes with the automatic price.
                discount = quote[1] if item.price is None and quote else ZERO  # type: ignore[index]
        except ValidationError as error:
            messages = [m for ms in error.message_dict.values() for m in ms]
            raise ValidationError(
                {"lines": [_("Line %(number)d: %(error)s") % {"number": number, "error": m} for m in messages]}
            ) from None
        prepared.append(_Line(item.product, quantity, price, discount, item.product.vat_percent))
    for number, line in enumerate(prepared, start=1):
        if line.amounts.total > MONEY_LIMIT:
            raise ValidationError({"lines": _("Line %(number)d: the amount is too large.") % {"number": number}})
    return prepared


def _quotes(*, company: Company, products: list[Product], on: date) -> dict[int, tuple[Decimal, Decimal]]:
    """product id → (list price, discount %) from the catalogue's pricing."""
    quotes = pricing.price_for_many(company=company, products=products, on=on)
    return {pk: (quote.price, quote.discount_percent) for pk, quote in quotes.items()}


def line_defaults(
    *, company: Company, products: list[Product], on: date | None = None
) -> dict[int, tuple[Decimal, Decimal]]:
    """What the order form pre-fills for each product: product id → (price, discount %)."""
    return _quotes(company=company, products=products, on=on or timezone.localdate()) if products else {}


# --- numbering -------------------------------------------------------------------------------------------


def order_number_next(*, year: int) -> str:
    """The next number of `year`; call inside the transaction that saves the order (the row stays locked)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("order_number_next must run inside the order's transaction")
    # INSERT … ON CONFLICT DO NOTHING: the first order of a year creates the row without an IntegrityError.
    OrderNumber.objects.bulk_create([OrderNumber(year=year, last=0)], ignore_conflicts=True)
    counter = OrderNumber.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{year}-{counter.last:06d}"


# --- orders ------------------------------------------------------------------------------------------------


def _recompute_totals(order: Order) -> None:
    """Totals from the lines (round per line, then sum); saves the order's total fields."""
    subtotal = discount = vat = total = ZERO
    for line in order.lines.all().order_by("id"):
        amounts = line_amounts(
            quantity=line.quantity, price=line.price, discount_percent=line.discount_percent, vat_rate=line.vat_rate
        )
        subtotal += amounts.net
        discount += amounts.discount
        vat += amounts.vat
        total += amounts.total
    order.subtotal, order.discount_total, order.vat_total, order.total = subtotal, discount, vat, total
    order.save(update_fields=["subtotal", "discount_total", "vat_total", "total", "updated_at"])


def _write_lines(order: Order, lines: list[_Line]) -> None:
    rows = []
    for line in lines:
        amounts = line.amounts
        rows.append(
            OrderLine(
                order=order,
                product=line.product,
                quantity=line.quantity,
                price=line.price,
                discount_percent=line.discount,
                vat_rate=line.vat_rate,
                net_amount=amounts.net,
                vat_amount=amounts.vat,
                total_amount=amounts.total,
            )
        )
    OrderLine.objects.bulk_create(rows)


def _place(
    *,
    company: Company,
    person: Person | None,
    owner: User,
    team_id: int | None,
    lines: list[_Line],
    source: str,
    deal: Deal | None,
    expected_date: date | None,
    comment: str,
    actor: User,
) -> Order:
    """Save a checked order: number, row, lines, totals and its first status row (one transaction)."""
    order = Order(
        company=company,
        person=person,
        owner=owner,
        team_id=team_id,
        deal=deal,
        source=source,
        status=OrderStatus.NEW,
        expected_date=expected_date,
        comment=comment,
    )
    order.number = "0000-000000"  # placeholder for full_clean; the real number is taken last
    order.full_clean(exclude=["number"])
    now = timezone.now()
    # The number is taken after every check, so the counter row is locked only for the inserts below.
    order.number = order_number_next(year=timezone.localdate(now).year)
    order.status_changed_at = now
    order.save()
    bump(aggregates.ORDERS)  # the order list's cached counts (crm.lib.cached)
    _write_lines(order, lines)
    _recompute_totals(order)
    OrderStatusChange.objects.create(
        order=order, from_status="", to_status=OrderStatus.NEW, changed_by=actor, changed_at=now
    )
    return order


@transaction.atomic
def order_create(
    *,
    actor: User,
    company: Company,
    lines: Iterable[LineLike],
    person: Person | None = None,
    expected_date: date | None = None,
    source: str = OrderSource.STAFF,
    deal: Deal | None = None,
    comment: str = "",
) -> Order:
    """Create an order of `company` owned by the actor: lines are (product, quantity[, price[, discount]]).

    Raises PermissionDenied without deals.add_order; ValidationError (keyed by company, person, lines,
    source) for a company the actor cannot see, a person of another company, a bad line. Nothing is saved
    then, and no number is used up.
    """
    _check_perm(actor, "deals.add_order")
    if company is None or not Company.objects.visible_to(actor).filter(pk=company.pk).exists():
        raise ValidationError({"company": _("Choose a company you can see.")})
    if person is not None and person.company_id != company.pk:
        raise ValidationError({"person": _("This person does not work for %(company)s.") % {"company": company}})
    if source not in OrderSource.values:
        raise ValidationError({"source": _("Choose one of the offered sources.")})
    visible_deals = Deal.objects.visible_to(actor)
    if deal is not None and (deal.company_id != company.pk or not visible_deals.filter(pk=deal.pk).exists()):
        raise ValidationError({"deal": _("Choose a deal of this company.")})
    prepared = _prepare_lines(company=company, lines=lines, on=timezone.localdate())
    return _place(
        company=company,
        person=person,
        owner=actor,
        team_id=actor.team_id,
        lines=prepared,
        source=source,
        deal=deal,
        expected_date=expected_date,
        comment=comment,
        actor=actor,
    )


@transaction.atomic
def order_create_from_deal(*, deal: Deal, actor: User) -> Order:
    """The order of a won deal, with the deal's lines (price and discount as agreed in the deal).

    Idempotent: the deal row is locked, so a double click or a second call returns the order already made
    (a deal has at most one order made this way). Raises PermissionDenied (cannot see the deal, no
    deals.add_order) or ValidationError: the deal is not won, or has no lines ("add products first").
    """
    _check_perm(actor, "deals.add_order")
    locked = Deal.objects.visible_to(actor).select_for_update(no_key=True).filter(pk=deal.pk).first()
    if locked is None:
        raise PermissionDenied
    existing = locked.orders.order_by("id").first()
    if existing is not None:
        return existing
    if locked.status != DealStatus.WON:
        raise ValidationError(_("Only a won deal can become an order. Mark the deal won first."))
    deal_lines = list(locked.lines.select_related("product").order_by("id"))
    if not deal_lines:
        raise ValidationError(
            _("This deal has no products. Add the products to the deal first: the order is made of its lines.")
        )
    prepared = [
        _Line(line.product, line.quantity, line.price, line.discount_percent, line.product.vat_percent)
        for line in deal_lines
    ]
    person = locked.person if locked.person and locked.person.company_id == locked.company_id else None
    return _place(
        company=locked.company,
        person=person,
        owner=locked.owner,
        team_id=locked.team_id,
        lines=prepared,
        source=OrderSource.DEAL,
        deal=locked,
        expected_date=None,
        comment="",
        actor=actor,
    )


def _lock(order: Order, actor: User, perm: str = "deals.change_order") -> Order:
    """The order row locked for a read-modify-write, after the permission and visibility checks."""
    _check_perm(actor, perm)
    bump(aggregates.ORDERS)  # every change of an order locks it first
    locked = Order.objects.visible_to(actor).select_for_update(no_key=True).filter(pk=order.pk).first()
    if locked is None:
        raise PermissionDenied
    return locked


def _refresh(order: Order, locked: Order) -> Order:
    """Copy the saved values onto the caller's instance (it may be the one a view renders next)."""
    for field in locked._meta.concrete_fields:
        setattr(order, field.attname, getattr(locked, field.attname))
    return order


@transaction.atomic
def order_change_status(
    *,
    order: Order,
    actor: User,
    status: str,
    reason: FailureReason | None = None,
    comment: str = "",
) -> Order:
    """Move the order along ORDER_TRANSITIONS and record who did it, when, from and to which status, and why.

    Cancelled and failed need an active FailureReason (kept on the order with the comment); delivered sets
    the delivery date. The owner is notified when someone else changes the status. Raises
    ValidationError (keyed "status" or "reason") or PermissionDenied.
    """
    locked = _lock(order, actor)
    current = locked.status
    if status not in OrderStatus.values or status not in ORDER_TRANSITIONS[OrderStatus(current)]:
        requested = OrderStatus(status).label if status in OrderStatus.values else status
        raise ValidationError(
            {
                "status": _("An order cannot go from “%(current)s” to “%(requested)s”.")
                % {"current": OrderStatus(current).label, "requested": requested}
            }
        )
    comment = comment.strip()
    fields = ["status", "status_changed_at", "updated_at"]
    if status in FAILURE_STATUSES:
        if reason is None:
            raise ValidationError({"reason": _("Choose why the order is cancelled or failed.")})
        if not FailureReason.objects.filter(pk=reason.pk, is_active=True).exists():
            raise ValidationError({"reason": _("This reason is no longer used. Choose another one.")})
        locked.failure_reason = reason
        locked.failure_comment = comment
        fields += ["failure_reason", "failure_comment"]
    now = timezone.now()
    if status == OrderStatus.DELIVERED:
        locked.delivered_on = timezone.localdate(now)
        fields.append("delivered_on")
    locked.status = status
    locked.status_changed_at = now
    locked.save(update_fields=fields)
    OrderStatusChange.objects.create(
        order=locked, from_status=current, to_status=status, changed_by=actor, changed_at=now, comment=comment
    )
    if locked.owner_id != actor.pk:
        _notify_owner(order=locked, actor=actor, old=current, reason=reason, comment=comment)
    return _refresh(order, locked)


def _notify_owner(*, order: Order, actor: User, old: str, reason: FailureReason | None, comment: str) -> None:
    """Tell the order's owner (in the owner's language) that someone else moved it."""
    owner = User.objects.get(pk=order.owner_id)
    if not owner.is_active:
        return
    with translation.override(owner.language):
        new = OrderStatus(order.status)
        body = _("%(actor)s: “%(old)s” → “%(new)s”.") % {
            "actor": actor,
            "old": OrderStatus(old).label,
            "new": new.label,
        }
        if reason is not None and order.status in FAILURE_STATUSES:
            body += " " + _("Reason: %(reason)s.") % {"reason": reason}
        if comment:
            body += " " + comment
        title = _("Order %(number)s: %(status)s") % {"number": order.number, "status": new.label}
    notify(
        recipient=owner,
        kind=NotificationKind.ORDER,
        title=title,
        body=body,
        url=reverse("deals:order-detail", args=[order.pk]),
    )


def allowed_statuses(order: Order) -> list[OrderStatus]:
    """The statuses the order can move to next, in the flow's order."""
    allowed = ORDER_TRANSITIONS[OrderStatus(order.status)]
    return [status for status in OrderStatus if status in allowed]


@transaction.atomic
def order_set_payment_status(*, order: Order, actor: User, payment_status: str) -> Order:
    """Raises ValidationError (key "payment_status") for an unknown value; PermissionDenied."""
    if payment_status not in PaymentStatus.values:
        raise ValidationError({"payment_status": _("Choose one of the offered payment statuses.")})
    locked = _lock(order, actor)
    if locked.payment_status != payment_status:
        locked.payment_status = payment_status
        locked.save(update_fields=["payment_status", "updated_at"])
    return _refresh(order, locked)


@transaction.atomic
def order_update(
    *, order: Order, actor: User, expected_date: date | None, person: Person | None = None, comment: str = ""
) -> Order:
    """Expected delivery date, contact person and comment (any status but a final one)."""
    locked = _lock(order, actor)
    if not ORDER_TRANSITIONS[OrderStatus(locked.status)]:
        raise ValidationError(_("A completed, cancelled or failed order cannot be changed."))
    if person is not None and person.company_id != locked.company_id:
        raise ValidationError({"person": _("This person does not work for %(company)s.") % {"company": locked.company}})
    locked.expected_date, locked.person, locked.comment = expected_date, person, comment
    locked.save(update_fields=["expected_date", "person", "comment", "updated_at"])
    return _refresh(order, locked)


# --- lines of a new order ----------------------------------------------------------------------------------


def _lock_new(order: Order, actor: User) -> Order:
    locked = _lock(order, actor)
    if locked.status != OrderStatus.NEW:
        raise ValidationError(
            _("Lines can be changed only while the order is new; this one is “%(status)s”.")
            % {"status": OrderStatus(locked.status).label}
        )
    return locked


def _checked_line(*, order: Order, product: Product, quantity: Any, price: Any, discount: Any) -> _Line:
    """One line's checks with field keys (quantity, price, discount_percent), for the line forms."""
    if not product.is_active:
        raise ValidationError({"product": _("This product is no longer sold.")})
    checked_quantity = check_quantity(quantity)
    quote = None
    if price is None or discount is None:
        quote = _quotes(company=order.company, products=[product], on=timezone.localdate()).get(product.pk)
    checked_price = check_price(price) if price is not None else quote[0]  # type: ignore[index]
    if discount is not None:
        checked_discount = check_discount(discount)
    else:
        checked_discount = quote[1] if price is None and quote else ZERO
    line = _Line(product, checked_quantity, checked_price, checked_discount, product.vat_percent)
    if line.amounts.total > MONEY_LIMIT:
        raise ValidationError({"quantity": _("The amount is too large.")})
    return line


@transaction.atomic
def order_line_add(
    *, order: Order, actor: User, product: Product, quantity: Any, price: Any = None, discount: Any = None
) -> OrderLine:
    """Add a line to a new order and recompute its totals; ValidationError keyed by the line's fields."""
    locked = _lock_new(order, actor)
    line = _checked_line(order=locked, product=product, quantity=quantity, price=price, discount=discount)
    _write_lines(locked, [line])
    _recompute_totals(locked)
    _refresh(order, locked)
    return locked.lines.order_by("-id").first()  # type: ignore[return-value]


@transaction.atomic
def order_line_update(*, line: OrderLine, actor: User, quantity: Any, price: Any, discount: Any = ZERO) -> OrderLine:
    """Change a line of a new order (quantity, price, discount); VAT stays the line's."""
    locked = _lock_new(line.order, actor)
    checked = _checked_line(order=locked, product=line.product, quantity=quantity, price=price, discount=discount)
    amounts = line_amounts(
        quantity=checked.quantity, price=checked.price, discount_percent=checked.discount, vat_rate=line.vat_rate
    )
    line.quantity, line.price, line.discount_percent = checked.quantity, checked.price, checked.discount
    line.net_amount, line.vat_amount, line.total_amount = amounts.net, amounts.vat, amounts.total
    line.save()
    _recompute_totals(locked)
    _refresh(line.order, locked)
    return line


@transaction.atomic
def order_line_remove(*, line: OrderLine, actor: User) -> Order:
    """Remove a line of a new order; the last line cannot go (cancel the order instead)."""
    locked = _lock_new(line.order, actor)
    if locked.lines.count() <= 1:
        raise ValidationError(_("An order needs at least one line. Cancel the order instead."))
    line.delete()
    _recompute_totals(locked)
    return _refresh(line.order, locked)
