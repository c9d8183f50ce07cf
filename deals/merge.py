"""The sales app's part of a company merge (registered with contacts.registry.register_merge_handler).

`company_merge` (contacts/merge.py) calls `move_company_rows(duplicate, survivor, actor)` inside its
transaction, with both companies locked, before it deletes the duplicate. Deals, orders and contracts
(PROTECT) and price lists, discounts, supplier offers and deliveries (CASCADE) move to the survivor;
customer group memberships are united; the survivor keeps its supplier profile, or takes the
duplicate's when it has none. Each move is one UPDATE; history rows are written in batches.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from contacts.models import Company
from crm.models import User
from deals.models import (
    Contract,
    CustomerGroup,
    Deal,
    Discount,
    Order,
    PriceList,
    PurchaseDelivery,
    SupplierOffer,
    SupplierProfile,
)

# (model, company field): the rows of these models follow the company.
MOVED: tuple[tuple[type[models.Model], str], ...] = (
    (Deal, "company"),
    (Order, "company"),
    (Contract, "company"),
    (PriceList, "company"),
    (Discount, "company"),
    (SupplierOffer, "supplier"),
    (PurchaseDelivery, "supplier"),
)


def move_company_rows(duplicate: Company, survivor: Company, actor: User) -> None:
    """Re-point the sales rows of `duplicate` to `survivor` (see the module docstring).

    Raises ValidationError when both companies have a contract with the same number (the unique
    number per company would break); the merge then rolls back whole.
    """
    _check_contract_numbers(duplicate, survivor)
    now = timezone.now()
    reason = Truncator(f"{_('Merged from')} #{duplicate.pk} {duplicate.name}").chars(100)
    for model, field in MOVED:
        _move(model, field, duplicate, survivor, actor, now, reason)
    _move_groups(duplicate, survivor)
    _move_supplier_profile(duplicate, survivor, actor, now, reason)


def _move(
    model: type[models.Model], field: str, duplicate: Company, survivor: Company, actor: User, now: Any, reason: str
) -> None:
    rows = list(model._default_manager.filter(**{field: duplicate}).order_by("pk"))
    if not rows:
        return
    values: dict[str, Any] = {field: survivor}
    if any(f.name == "updated_at" for f in model._meta.fields):
        values["updated_at"] = now
    model._default_manager.filter(**{field: duplicate}).update(**values)
    history = getattr(model, "history", None)
    if history is None:
        return
    for row in rows:
        for name, value in values.items():
            setattr(row, name, value)
    history.bulk_history_create(rows, batch_size=500, update=True, default_user=actor, default_change_reason=reason)


def _move_groups(duplicate: Company, survivor: Company) -> None:
    """The survivor joins every customer group of the duplicate (once)."""
    through = CustomerGroup.companies.through
    joined = through.objects.filter(company_id=survivor.pk).values("customergroup_id")
    through.objects.filter(company_id=duplicate.pk, customergroup_id__in=joined).delete()
    through.objects.filter(company_id=duplicate.pk).update(company_id=survivor.pk)


def _move_supplier_profile(duplicate: Company, survivor: Company, actor: User, now: Any, reason: str) -> None:
    """Keep the survivor's profile; a survivor without one takes the duplicate's (else it goes with it)."""
    if SupplierProfile.objects.filter(company=survivor).exists():
        return
    profile = SupplierProfile.objects.filter(company=duplicate).first()
    if profile is None:
        return
    profile.company, profile.updated_at = survivor, now
    profile._history_user = actor  # type: ignore[attr-defined]  # read by django-simple-history
    profile._change_reason = reason  # type: ignore[attr-defined]
    profile.save(update_fields=["company", "updated_at"])


def _check_contract_numbers(duplicate: Company, survivor: Company) -> None:
    survivor_numbers = Contract.objects.filter(company=survivor).values("number")
    clashes = sorted(
        Contract.objects.filter(company=duplicate, number__in=survivor_numbers).values_list("number", flat=True)
    )
    if clashes:
        raise ValidationError(
            _("Both companies have contracts numbered %(numbers)s: renumber one of them before merging.")
            % {"numbers": ", ".join(clashes)}
        )
