"""Marketing consent (issue #12 item 10): the append-only log (ConsentEvent) and the current state per person
and channel (contacts.Consent), written together by `consent_record`.

The log is never updated nor deleted (a trigger of migration 0002 refuses it); a withdrawal is a new entry.
Sends and exports ask `consent_allows` (one recipient) or filter with `consent_granted` (set-based).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Consent, Person
from marketing.models import ConsentChannel, ConsentEvent, Lead

if TYPE_CHECKING:
    from crm.models import User

SOURCE_MAX = 200  # ConsentEvent.source / Consent.source


@transaction.atomic
def consent_record(
    *,
    channel: str,
    is_granted: bool,
    source: str,
    person: Person | None = None,
    lead: Lead | None = None,
    email: str = "",
    text: str = "",
    text_version: str = "",
    ip: str | None = None,
    actor: User | None = None,
    at: datetime | None = None,
) -> ConsentEvent:
    """Append a grant or withdrawal to the consent log; for a person, make it their current consent too.

    Raises ValidationError keyed by `channel` or `source`."""
    if channel not in ConsentChannel.values:
        raise ValidationError({"channel": _("Choose a channel from the list.")})
    source = (source or "").strip()[:SOURCE_MAX]
    if not source:
        raise ValidationError({"source": _("Say how the consent was given or withdrawn.")})
    at = at or timezone.now()
    event = ConsentEvent.objects.create(
        person=person,
        lead=lead,
        email=(email or "").strip().lower()[:254],
        channel=channel,
        is_granted=is_granted,
        at=at,
        source=source,
        text=text or "",
        text_version=str(text_version or "")[:50],
        ip=ip or None,
        actor=actor,
    )
    if person is not None:
        _set_current(person=person, channel=channel, is_granted=is_granted, at=at, source=source)
    return event


def _set_current(*, person: Person, channel: str, is_granted: bool, at: datetime, source: str) -> None:
    # Lock the current row: two grants / withdrawals at once must leave the later one in force.
    current = Consent.objects.select_for_update(no_key=True).filter(person=person, channel=channel).first()
    if current is not None and current.given_at > at:
        return  # an older entry recorded late does not override a newer decision
    consent = current or Consent(person=person, channel=channel)
    consent.is_granted, consent.given_at, consent.source = is_granted, at, source
    consent.save()


@transaction.atomic
def consent_attach_person(*, lead: Lead, person: Person) -> int:
    """Give the person of a converted lead the consent the lead gave (its log entries are re-pointed: the one
    change the append-only trigger allows). Returns the number of entries re-pointed."""
    events = list(ConsentEvent.objects.filter(lead=lead, person__isnull=True).order_by("at", "id"))
    if not events:
        return 0
    ConsentEvent.objects.filter(pk__in=[e.pk for e in events]).update(person=person)
    latest: dict[str, ConsentEvent] = {event.channel: event for event in events}
    for event in latest.values():
        _set_current(person=person, channel=event.channel, is_granted=event.is_granted, at=event.at,
                     source=event.source)  # fmt: skip
    return len(events)


def consent_allows(*, person_id: int | None, email: str, channel: str) -> bool:
    """May this person / address get marketing on this channel? The most recent decision wins: the person's
    current consent (contacts.Consent) or the latest log entry for the address; no decision means no."""
    decisions: list[tuple[datetime, bool]] = []
    if person_id:
        current = Consent.objects.filter(person_id=person_id, channel=channel).values_list("given_at", "is_granted")
        decisions += list(current[:1])
    email = (email or "").strip().lower()
    if email:
        # marketing_consent_email_idx (Lower(email), non-empty).
        latest = (
            ConsentEvent.objects.exclude(email="")
            .filter(email__iexact=email, channel=channel)
            .order_by("-at", "-id")
            .values_list("at", "is_granted")
        )
        decisions += list(latest[:1])
    if not decisions:
        return False
    return max(decisions, key=lambda decision: decision[0])[1]


def consent_granted(*, channel: str, person_ref: str = "person_id") -> Exists:
    """A set-based check for a send or an export: `qs.filter(consent_granted(channel="email"))` keeps the rows
    whose person (`person_ref` names the outer column) currently consents on the channel."""
    return Exists(Consent.objects.filter(person_id=OuterRef(person_ref), channel=channel, is_granted=True))
