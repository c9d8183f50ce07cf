"""Contracts (issue #6, item 5): create and update with readable errors, and the daily expiry notice.

The signed copy is a PDF only: the name ends in .pdf and the first bytes are the %PDF magic (a renamed
file is refused), at most 10 MB. The expiry task tells a contract's owner once: the row is claimed with
SELECT … FOR UPDATE SKIP LOCKED and marked `expiry_notified_at` in the same transaction as the notice.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import date as date_format
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.models import Company
from crm.models import NotificationKind, User
from crm.services import notify
from deals.models import Contract, ContractStatus

SIGNED_FILE_MAX_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF"
EXPIRY_DAYS = 30
EXPIRY_BATCH = 200
FIELDS = ("company", "number", "starts_on", "ends_on", "amount", "status", "service_level", "signed_file", "owner")


def signed_file_check(upload: UploadedFile) -> None:
    """Raises ValidationError (key "signed_file") unless the upload is a PDF of at most 10 MB."""
    if upload.size is not None and upload.size > SIGNED_FILE_MAX_BYTES:
        raise ValidationError({"signed_file": _("The file is larger than 10 MB.")})
    if not (upload.name or "").lower().endswith(".pdf"):
        raise ValidationError({"signed_file": _("Attach the signed copy as a PDF file.")})
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if head != PDF_MAGIC:
        raise ValidationError({"signed_file": _("This file is not a PDF document.")})


def _check(*, actor: User, fields: dict[str, Any], contract: Contract | None) -> None:
    company: Company | None = fields.get("company")
    if company is None or not Company.objects.visible_to(actor).filter(pk=company.pk).exists():
        raise ValidationError({"company": _("Choose a company you can see.")})
    number = str(fields.get("number") or "").strip()
    if not number:
        raise ValidationError({"number": _("Enter the contract number.")})
    fields["number"] = number
    starts_on, ends_on = fields.get("starts_on"), fields.get("ends_on")
    if starts_on is None:
        raise ValidationError({"starts_on": _("Enter the start date.")})
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The end date cannot be before the start date.")})
    amount = fields.get("amount")
    if amount is not None:
        amount = Decimal(amount)
        if amount < 0:
            raise ValidationError({"amount": _("The amount cannot be negative.")})
        if amount != amount.quantize(Decimal("0.01")):
            raise ValidationError({"amount": _("Use at most 2 decimal places (kopecks) for the amount.")})
    if fields.get("status", ContractStatus.DRAFT) not in ContractStatus.values:
        raise ValidationError({"status": _("Choose one of the offered statuses.")})
    same_number = Contract.objects.filter(company=company, number__iexact=number)
    if contract is not None:
        same_number = same_number.exclude(pk=contract.pk)
    if same_number.exists():
        raise ValidationError({"number": _("This company already has a contract with this number.")})
    upload = fields.get("signed_file")
    if isinstance(upload, UploadedFile):
        signed_file_check(upload)


def _save(contract: Contract, fields: dict[str, Any]) -> Contract:
    upload = fields.pop("signed_file", "keep")
    for name, value in fields.items():
        setattr(contract, name, value)
    if upload is None:
        contract.signed_file = ""
    elif isinstance(upload, UploadedFile):
        contract.signed_file.save(upload.name or "contract.pdf", upload, save=False)
    contract.full_clean(exclude=["signed_file"])
    contract.save()
    return contract


@transaction.atomic
def contract_create(*, actor: User, **fields: Any) -> Contract:
    """Create a contract owned by the actor (in the actor's team).

    Fields: company, number, starts_on, ends_on, amount, status, signed_file (an upload). Raises
    PermissionDenied without deals.add_contract; ValidationError keyed by field.
    """
    if not actor.has_perm("deals.add_contract"):
        raise PermissionDenied
    fields = {k: v for k, v in fields.items() if k in FIELDS and k != "owner"}
    _check(actor=actor, fields=fields, contract=None)
    return _save(Contract(owner=actor, team_id=actor.team_id), fields)


@transaction.atomic
def contract_update(*, contract: Contract, actor: User, **fields: Any) -> Contract:
    """Change a contract's fields (signed_file: an upload replaces, None removes, absent keeps)."""
    if not actor.has_perm("deals.change_contract"):
        raise PermissionDenied
    locked = Contract.objects.visible_to(actor).select_for_update(no_key=True).filter(pk=contract.pk).first()
    if locked is None:
        raise PermissionDenied
    merged = {name: getattr(locked, name) for name in ("company", "number", "starts_on", "ends_on", "amount", "status")}
    merged.update({k: v for k, v in fields.items() if k in FIELDS and k != "owner"})
    _check(actor=actor, fields=merged, contract=locked)
    if merged["ends_on"] != locked.ends_on:
        locked.expiry_notified_at = None  # a prolonged contract is announced again when it nears its new end
    _save(locked, merged)
    for field in locked._meta.concrete_fields:
        setattr(contract, field.attname, getattr(locked, field.attname))
    return contract


def contracts_notify_expiring(*, today: date | None = None, batch: int = EXPIRY_BATCH) -> int:
    """Tell each owner once about an active contract that ends within 30 days; returns how many were told.

    Safe to run twice or in parallel: each batch is claimed with SKIP LOCKED (another worker takes other
    rows), and `expiry_notified_at` is set in the claim's transaction, so a committed notice is never
    repeated and a crashed batch is retried whole. Served by the partial deals_contract_expiry_idx.
    """
    today = today or timezone.localdate()
    horizon = today + timedelta(days=EXPIRY_DAYS)
    told = 0
    while True:
        with transaction.atomic():
            contracts = list(
                Contract.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    status=ContractStatus.ACTIVE,
                    expiry_notified_at__isnull=True,
                    ends_on__gte=today,
                    ends_on__lte=horizon,
                )
                .select_related("owner", "company")
                .order_by("ends_on", "id")[:batch]
            )
            if not contracts:
                return told
            now = timezone.now()
            for contract in contracts:
                _notify_expiring(contract)
                contract.expiry_notified_at = now
            Contract.objects.bulk_update(contracts, ["expiry_notified_at"])
            told += len(contracts)


def _notify_expiring(contract: Contract) -> None:
    owner = contract.owner
    if not owner.is_active:
        return
    with translation.override(owner.language):
        title = _("Contract %(number)s ends on %(date)s") % {
            "number": contract.number,
            "date": date_format(contract.ends_on, "d.m.Y"),
        }
        body = _("%(company)s: renew the contract or let it end.") % {"company": contract.company}
    notify(
        recipient=owner,
        kind=NotificationKind.CONTRACT,
        title=title,
        body=body,
        url=reverse("deals:contract-detail", args=[contract.pk]),
    )
