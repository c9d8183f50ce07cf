"""Writes of the contacts app: one function per use case, atomic, with readable errors."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import nh3
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Greatest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import (
    PHONE_KINDS,
    Company,
    Consent,
    ContactPoint,
    ContactPointKind,
    Employment,
    Interaction,
    InteractionAttachment,
    Person,
)
from contacts.selectors import assignable_owners
from contacts.validators import normalize_email, normalize_phone
from crm.models import User

# Rich-text notes keep simple formatting; nh3 drops scripts, handlers and unknown tags.
NOTE_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "a", "blockquote", "h3", "h4"}


def sanitize_notes(html: str) -> str:
    return nh3.clean(html, tags=NOTE_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer")


def _save(
    instance: Company | Person | ContactPoint | Interaction | Consent | Employment, fields: dict[str, Any]
) -> None:
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()


def _check_can_edit(*, actor: User, instance: Company | Person) -> None:
    if not type(instance).objects.visible_to(actor).filter(pk=instance.pk).exists():
        raise PermissionDenied


def _hand_over(*, actor: User, instance: Company | Person, fields: dict[str, Any]) -> None:
    """A new owner must be an active user of the actor's teams; the record follows the owner's team."""
    owner: User | None = fields.get("owner")
    if owner is None or owner.pk == instance.owner_id:
        return
    if not assignable_owners(actor).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("Choose an active user of your team.")})
    fields.setdefault("team", owner.team)


@transaction.atomic
def company_create(*, actor: User, **fields: Any) -> Company:
    """Create a company owned by `owner` (default: the actor) in the owner's team."""
    fields.setdefault("owner", actor)
    fields.setdefault("team", fields["owner"].team)
    fields["notes"] = sanitize_notes(fields.get("notes", ""))
    company = Company()
    _save(company, fields)
    return company


@transaction.atomic
def company_update(*, actor: User, company: Company, **fields: Any) -> Company:
    """Save a company's fields; a new owner takes the company into the owner's team (unless `team` is given)."""
    _check_can_edit(actor=actor, instance=company)
    _hand_over(actor=actor, instance=company, fields=fields)
    if "notes" in fields:
        fields["notes"] = sanitize_notes(fields["notes"])
    _save(company, fields)
    return company


@dataclass(frozen=True)
class ConsentInput:
    """A marketing consent as the user recorded it: granted or withdrawn, when and how."""

    is_granted: bool
    given_at: datetime
    source: str


@transaction.atomic
def person_create(*, actor: User, consents: dict[str, ConsentInput | None] | None = None, **fields: Any) -> Person:
    """Create a person; owner and team default to the company's (or the actor's).

    `consents` maps a Consent.Channel value to its consent (None: nothing recorded).
    """
    company: Company | None = fields.get("company")
    fields.setdefault("owner", company.owner if company else actor)
    fields.setdefault("team", company.team if company else fields["owner"].team)
    fields["notes"] = sanitize_notes(fields.get("notes", ""))
    person = Person()
    _save(person, fields)
    if consents is not None:
        _set_consents(person=person, consents=consents)
    return person


@transaction.atomic
def person_update(
    *, actor: User, person: Person, consents: dict[str, ConsentInput | None] | None = None, **fields: Any
) -> Person:
    """Save a person's fields (and consents, when given); a new owner brings the owner's team.

    Moving the person to another company keeps the old one as a former employment ending today.
    """
    _check_can_edit(actor=actor, instance=person)
    _hand_over(actor=actor, instance=person, fields=fields)
    if "notes" in fields:
        fields["notes"] = sanitize_notes(fields["notes"])
    old = Person.objects.filter(pk=person.pk).values("company_id", "position").first() or {}
    _save(person, fields)
    if old.get("company_id") and old["company_id"] != person.company_id:
        employment = Employment()
        _save(
            employment,
            {
                "person": person,
                "company_id": old["company_id"],
                "position": old["position"],
                "ended_on": timezone.localdate(),
            },
        )
    if consents is not None:
        _set_consents(person=person, consents=consents)
    return person


def _set_consents(*, person: Person, consents: dict[str, ConsentInput | None]) -> None:
    existing = {consent.channel: consent for consent in person.consents.all()}
    for channel, given in consents.items():
        consent = existing.get(channel)
        if given is None:
            if consent is not None:
                consent.delete()
            continue
        if consent is not None and (consent.is_granted, consent.given_at, consent.source) == (
            given.is_granted,
            given.given_at,
            given.source,
        ):
            continue  # unchanged: no history row
        try:
            _save(
                consent or Consent(person=person, channel=channel),
                {"is_granted": given.is_granted, "given_at": given.given_at, "source": given.source.strip()},
            )
        except ValidationError as error:
            raise ValidationError({f"consent_{channel}": error.messages}) from None


@transaction.atomic
def employment_add(
    *,
    actor: User,
    person: Person,
    company: Company,
    position: str = "",
    started_on: date | None = None,
    ended_on: date | None = None,
) -> Employment:
    """Record a former (or parallel) company of a person; the actor must see both."""
    _check_can_edit(actor=actor, instance=person)
    if not Company.objects.visible_to(actor).filter(pk=company.pk).exists():
        raise ValidationError({"company": _("Choose a company from your list.")})
    employment = Employment()
    _save(
        employment,
        {"person": person, "company": company, "position": position, "started_on": started_on, "ended_on": ended_on},
    )
    return employment


@transaction.atomic
def employment_remove(*, actor: User, employment: Employment) -> None:
    _check_can_edit(actor=actor, instance=employment.person)
    employment.delete()


def contact_point_values(kind: str, value: str) -> dict[str, str]:
    """Normalised value and searchable digits for a contact point; raises ValidationError on `value`."""
    value = value.strip()
    if not value:
        raise ValidationError({"value": _("Enter a value.")})
    try:
        if kind in PHONE_KINDS:
            normalized = normalize_phone(value)
            return {"value": value, "normalized": normalized, "digits_reversed": normalized.lstrip("+")[::-1]}
        if kind == ContactPointKind.EMAIL:
            return {"value": value, "normalized": normalize_email(value), "digits_reversed": ""}
    except ValidationError as error:
        raise ValidationError({"value": error.messages}) from None
    return {"value": value, "normalized": value, "digits_reversed": ""}


@transaction.atomic
def contact_point_add(
    *,
    actor: User,
    kind: str,
    value: str,
    company: Company | None = None,
    person: Person | None = None,
    label: str = "",
    is_primary: bool = False,
) -> ContactPoint:
    """Add a phone, e-mail, messenger, … to a company or a person; the first of a kind is primary."""
    holder = company or person
    if holder is None:
        raise ValidationError(_("A contact point belongs to a company or to a person."))
    _check_can_edit(actor=actor, instance=holder)
    siblings = ContactPoint.objects.filter(company=company, person=person, kind=kind)
    is_primary = is_primary or not siblings.exists()
    if is_primary:
        siblings.filter(is_primary=True).update(is_primary=False)
    point = ContactPoint()
    _save(
        point,
        {
            "company": company,
            "person": person,
            "kind": kind,
            "label": label,
            "is_primary": is_primary,
            **contact_point_values(kind, value),
        },
    )
    return point


@transaction.atomic
def contact_point_remove(*, actor: User, point: ContactPoint) -> None:
    _check_can_edit(actor=actor, instance=point.company or point.person)
    point.delete()


@transaction.atomic
def interaction_log(
    *,
    actor: User,
    company: Company,
    channel: str,
    subject: str,
    occurred_at: Any = None,
    person: Person | None = None,
    direction: str = "",
    duration: timedelta | None = None,
    body: str = "",
    outcome: str = "",
    related: Any = None,
    attachments: Sequence[UploadedFile] = (),
    trusted: bool = False,
) -> Interaction:
    """Record a contact with a client and move the client's "last contact" forward.

    Raises ValidationError when the person works for another company or an attachment is not allowed
    (see attachment_check); PermissionDenied when the actor cannot see the company. `related` is an
    optional deal, order or ticket. `trusted`: the caller decided the access itself (the service desk
    records a ticket's e-mails in the history of a client the agent does not own).
    """
    if not trusted:
        _check_can_edit(actor=actor, instance=company)
    if person is not None and person.company_id != company.pk:
        raise ValidationError({"person": _("This person does not work for %(company)s.") % {"company": company}})
    checked = attachments_check(attachments)  # before any row is written
    interaction = Interaction(user=actor, subject_object=related)
    _save(
        interaction,
        {
            "company": company,
            "person": person,
            "channel": channel,
            "direction": direction,
            "occurred_at": occurred_at or timezone.now(),
            "duration": duration,
            "subject": subject,
            "body": body,
            "outcome": outcome,
        },
    )
    # Greatest(): logging an old letter must not move "last contact" backwards.
    last_contact = Greatest("last_contact_at", Value(interaction.occurred_at))
    Company.objects.filter(pk=company.pk).update(last_contact_at=last_contact)
    if person is not None:
        Person.objects.filter(pk=person.pk).update(last_contact_at=last_contact)
    for upload, (name, content_type) in zip(attachments, checked, strict=True):
        attachment = InteractionAttachment(
            interaction=interaction, name=name, content_type=content_type, size=upload.size
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()
    return interaction


# Attachments of interactions: what a representative attaches to a call or a letter. The type is decided
# by the extension and confirmed by the file's first bytes (a renamed .exe is no PDF); text types must
# hold no NUL byte. The stored content type is ours, never the browser's claim.
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_MAX_FILES = 5
_ZIP, _OLE = (b"PK\x03\x04",), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP),
    "odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    "doc": ("application/msword", _OLE),
    "xls": ("application/vnd.ms-excel", _OLE),
    "msg": ("application/vnd.ms-outlook", _OLE),
    "txt": ("text/plain", None),
    "csv": ("text/csv", None),
    "eml": ("message/rfc822", None),
}


def attachments_check(files: Sequence[UploadedFile]) -> list[tuple[str, str]]:
    """(file name, content type) of each upload; ValidationError on `attachments` naming the bad file."""
    if len(files) > ATTACHMENT_MAX_FILES:
        raise ValidationError({"attachments": _("Attach at most %(count)d files.") % {"count": ATTACHMENT_MAX_FILES}})
    return [_attachment_check(upload) for upload in files]


def _attachment_check(upload: UploadedFile) -> tuple[str, str]:
    name = os.path.basename((upload.name or "").replace("\\", "/")).strip()[-255:] or "file"
    params = {"name": name, "max": filesizeformat(ATTACHMENT_MAX_BYTES)}
    if upload.size is None or upload.size > ATTACHMENT_MAX_BYTES:
        raise ValidationError({"attachments": _("%(name)s is larger than %(max)s.") % params})
    if upload.size == 0:
        raise ValidationError({"attachments": _("%(name)s is empty.") % params})
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ATTACHMENT_TYPES:
        allowed = ", ".join(sorted(ATTACHMENT_TYPES))
        raise ValidationError(
            {"attachments": _("%(name)s: this file type is not allowed (allowed: %(allowed)s).")
             % {**params, "allowed": allowed}}
        )  # fmt: skip
    content_type, signatures = ATTACHMENT_TYPES[extension]
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    looks_right = b"\x00" not in head if signatures is None else head.startswith(signatures)
    if extension == "webp":
        looks_right = looks_right and head[8:12] == b"WEBP"
    if not looks_right:
        raise ValidationError(
            {"attachments": _("%(name)s is not really a .%(extension)s file.") % {**params, "extension": extension}}
        )
    return name, content_type
