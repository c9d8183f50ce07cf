"""Writes of the supplier side (issue #6, item 6): supplier profile, offers, purchase deliveries.

Suppliers are a shared catalogue (see deals/selectors_suppliers.py): the actor needs the model permission
(procurement, director, administrator), not ownership of the company; the company needs the supplier role.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from contacts.models import Company, CompanyRole
from crm.models import User
from deals.models import Product, PurchaseDelivery, SupplierOffer, SupplierProfile

ZERO = Decimal(0)


def _require(actor: User, permission: str) -> None:
    if not actor.is_active or not actor.has_perm(permission):
        raise PermissionDenied


def _require_supplier(company: Company) -> None:
    if CompanyRole.SUPPLIER not in (company.roles or []):
        raise ValidationError(
            _("“%(company)s” is not a supplier: add the “Supplier” role on the company card first.")
            % {"company": company}
        )


def _full_clean(instance: Any, errors: dict[str, list[str]], exclude: list[str] | None = None) -> None:
    """Model validation merged with the service's own errors; raises when there is any."""
    try:
        instance.full_clean(exclude=[*errors, *(exclude or [])])
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _dates_error(start: date | None, end: date | None, errors: dict[str, list[str]], field: str) -> None:
    if start and end and end < start:
        errors.setdefault(field, []).append(_("The end date cannot be before the start date."))


# --- profile ---------------------------------------------------------------------------------------------


@transaction.atomic
def supplier_profile_upsert(*, actor: User, company: Company, **fields: Any) -> SupplierProfile:
    """Create or update the supplier profile of `company` (delivery and payment terms, minimum order, regions,
    promised lead time). PermissionDenied without deals.change_supplierprofile; ValidationError when the
    company has no supplier role or a field is wrong."""
    _require(actor, "deals.change_supplierprofile")
    _require_supplier(company)
    # The row lock keeps two simultaneous first saves from both inserting (the OneToOne would refuse one).
    profile = SupplierProfile.objects.select_for_update(no_key=True).filter(company=company).first()
    if profile is None:
        _require(actor, "deals.add_supplierprofile")
        profile = SupplierProfile(company=company)
    for name, value in fields.items():
        setattr(profile, name, value)
    errors: dict[str, list[str]] = {}
    if profile.minimum_order is not None and profile.minimum_order < 0:
        errors["minimum_order"] = [_("The value cannot be negative.")]
    _full_clean(profile, errors, exclude=["company"])
    profile._history_user = actor  # type: ignore[attr-defined]
    profile.save()
    return profile


# --- offers ----------------------------------------------------------------------------------------------


def _offer_errors(offer: SupplierOffer) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if offer.price is not None and offer.price < 0:
        errors["price"] = [_("The price cannot be negative.")]
    _dates_error(offer.valid_from, offer.valid_until, errors, "valid_until")
    return errors


@transaction.atomic
def supplier_offer_create(*, actor: User, supplier: Company, product: Product, **fields: Any) -> SupplierOffer:
    """A supplier's offer for a product: price (≥ 0, 2 decimals) in a currency, lead time, validity dates."""
    _require(actor, "deals.add_supplieroffer")
    _require_supplier(supplier)
    offer = SupplierOffer(supplier=supplier, product=product, **fields)
    _full_clean(offer, _offer_errors(offer))
    offer._history_user = actor  # type: ignore[attr-defined]
    offer.save()
    return offer


@transaction.atomic
def supplier_offer_update(*, actor: User, offer: SupplierOffer, **fields: Any) -> SupplierOffer:
    """Change an offer's price, currency, lead time, SKU or dates (each save is a row of its history)."""
    _require(actor, "deals.change_supplieroffer")
    fields.pop("supplier", None)  # an offer stays with its supplier
    for name, value in fields.items():
        setattr(offer, name, value)
    _full_clean(offer, _offer_errors(offer))
    offer._history_user = actor  # type: ignore[attr-defined]
    offer.save()
    return offer


# --- purchase deliveries ---------------------------------------------------------------------------------


def _delivery_errors(delivery: PurchaseDelivery) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if delivery.ordered_on and delivery.promised_on and delivery.promised_on < delivery.ordered_on:
        errors["promised_on"] = [_("The promised date cannot be before the order date.")]
    if delivery.ordered_on and delivery.delivered_on and delivery.delivered_on < delivery.ordered_on:
        errors["delivered_on"] = [_("The delivery date cannot be before the order date.")]
    if delivery.quantity_ordered is not None and delivery.quantity_ordered <= 0:
        errors["quantity_ordered"] = [_("The quantity must be above zero.")]
    received = delivery.quantity_received
    if received is not None and received < 0:
        errors["quantity_received"] = [_("The value cannot be negative.")]
    elif received and delivery.quantity_ordered and received > delivery.quantity_ordered:
        errors["quantity_received"] = [_("More than was ordered: record the extra as another delivery.")]
    elif received and not delivery.delivered_on:
        errors["delivered_on"] = [_("Set the delivery date of the received quantity.")]
    if (
        delivery.offer_id
        and delivery.offer
        and (delivery.offer.supplier_id != delivery.supplier_id or delivery.offer.product_id != delivery.product_id)
    ):
        errors["offer"] = [_("The offer is for another supplier or product.")]
    return errors


@transaction.atomic
def purchase_delivery_record(
    *,
    actor: User,
    supplier: Company,
    product: Product,
    ordered_on: date,
    promised_on: date,
    quantity_ordered: Decimal,
    offer: SupplierOffer | None = None,
    delivered_on: date | None = None,
    quantity_received: Decimal | None = None,
) -> PurchaseDelivery:
    """A purchase from a supplier: ordered and promised dates and quantity; delivered date and received quantity
    when it has already arrived (or later, with purchase_delivery_receive)."""
    _require(actor, "deals.add_purchasedelivery")
    _require_supplier(supplier)
    delivery = PurchaseDelivery(
        supplier=supplier,
        product=product,
        offer=offer,
        ordered_on=ordered_on,
        promised_on=promised_on,
        delivered_on=delivered_on,
        quantity_ordered=quantity_ordered,
        quantity_received=quantity_received if quantity_received is not None else ZERO,
    )
    _full_clean(delivery, _delivery_errors(delivery))
    delivery.save()
    return delivery


@transaction.atomic
def purchase_delivery_receive(
    *, actor: User, delivery: PurchaseDelivery, delivered_on: date, quantity_received: Decimal
) -> PurchaseDelivery:
    """Record the arrival of a purchase: the date and the quantity actually received (0 … ordered)."""
    _require(actor, "deals.change_purchasedelivery")
    # Re-read under a lock: two people receiving the same delivery at once must not both write.
    locked = PurchaseDelivery.objects.select_for_update(no_key=True).get(pk=delivery.pk)
    locked.delivered_on = delivered_on
    locked.quantity_received = quantity_received
    errors = _delivery_errors(locked)
    if delivered_on is None:
        errors.setdefault("delivered_on", []).append(_("Set the delivery date."))
    _full_clean(locked, errors)
    locked.save(update_fields=["delivered_on", "quantity_received", "updated_at"])
    return locked
