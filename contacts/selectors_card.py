"""Reads of the 360° card: the card itself, its timeline, field history, contact points and the dossier.

Every read starts from `visible_to(user)`; a record the user may not see raises Http404. Each function
returns render-ready data with a number of queries that does not grow with the rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contacts import registry
from contacts.models import (
    PHONE_KINDS,
    Company,
    CompanyRole,
    Consent,
    ContactPoint,
    ContactPointKind,
    Employment,
    Industry,
    Interaction,
    InteractionAttachment,
    InteractionChannel,
    Person,
)
from contacts.selectors import company_get, person_get
from contacts.selectors_birthdays import celebrated_pairs
from crm.history import ChangeEntry, history_entries, latest_records, load_names, related_entry
from crm.models import Team, User

TIMELINE_PAGE_SIZE = 20
CHANGES_LIMIT = 50
CARD_PEOPLE_LIMIT = 100
CARD_POINTS_LIMIT = 50
DOSSIER_INTERACTIONS = 200
DOSSIER_PEOPLE_LIMIT = 500

CHANNEL_ICONS = {
    InteractionChannel.VISIT: "geo-alt",
    InteractionChannel.CALL_IN: "telephone-inbound",
    InteractionChannel.CALL_OUT: "telephone-outbound",
    InteractionChannel.LETTER: "envelope-paper",
    InteractionChannel.FAX: "printer",
    InteractionChannel.EMAIL_IN: "envelope-arrow-down",
    InteractionChannel.EMAIL_OUT: "envelope-arrow-up",
    InteractionChannel.WEB_FORM: "ui-checks",
    InteractionChannel.MESSENGER: "chat-dots",
    InteractionChannel.MEETING: "people",
    InteractionChannel.PORTAL: "window",
}
POINT_ICONS = {
    ContactPointKind.PHONE: "telephone",
    ContactPointKind.MOBILE: "phone",
    ContactPointKind.EMAIL: "envelope",
    ContactPointKind.FAX: "printer",
    ContactPointKind.TELEGRAM: "telegram",
    ContactPointKind.VIBER: "chat",
    ContactPointKind.WHATSAPP: "whatsapp",
    ContactPointKind.WEBSITE: "globe",
    ContactPointKind.ADDRESS: "mailbox",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR_RE = re.compile(r"^(-?[0-9]{1,20})_([0-9]{1,19})$")


# --- the timeline ------------------------------------------------------------------------------------


@dataclass
class TimelinePage:
    rows: list[Interaction]
    next_cursor: str
    channel: str

    @property
    def channels(self) -> list[tuple[str, str, str]]:
        """(value, label, icon) of every channel, for the filter buttons."""
        return [(value, label, CHANNEL_ICONS[value]) for value, label in InteractionChannel.choices]


def encode_cursor(row: Interaction) -> str:
    return f"{(row.occurred_at - _EPOCH) // timedelta(microseconds=1)}_{row.pk}"


def decode_cursor(value: str) -> tuple[datetime, int] | None:
    """The (occurred_at, id) of the last row shown, or None for a missing or malformed cursor."""
    match = _CURSOR_RE.match(value or "")
    if not match:
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(match[1])), int(match[2])
    except OverflowError:
        return None


def decorate_interaction(row: Interaction) -> Interaction:
    """Render-ready extras, made once here rather than by template filters and tags on every row."""
    row.icon = CHANNEL_ICONS.get(row.channel, "chat")  # type: ignore[attr-defined]
    minutes = int(row.duration.total_seconds() // 60) if row.duration is not None else None
    row.duration_minutes = minutes  # type: ignore[attr-defined]
    row.duration_label = (  # type: ignore[attr-defined]
        "" if minutes is None else ngettext("%(minutes)s min", "%(minutes)s min", minutes) % {"minutes": minutes}
    )
    local = timezone.localtime(row.occurred_at)
    row.when, row.when_iso = local.strftime("%d.%m.%Y %H:%M"), local.isoformat()  # type: ignore[attr-defined]
    return row


# What a timeline row (includes/timeline.html), the dossier and the cursor read; the card's own holder
# (the company of a company timeline, the person of a person's) is set on the rows, not joined.
TIMELINE_FIELDS = (
    *("channel", "direction", "occurred_at", "duration", "subject", "body", "outcome", "company", "person", "user"),
    *("user__full_name", "user__email"),
)
# What the people section of a company card shows.
CARD_PERSON_FIELDS = ("last_name", "first_name", "patronymic", "position", "company")


def timeline_queryset(
    *, user: User, company: Company | None = None, person: Person | None = None, channel: str = "", before: str = ""
) -> QuerySet[Interaction]:
    """Interactions of a company (or a person) after the cursor, newest first.

    Keyset on (occurred_at, id): `occurred_at <= t` is the index range start of contacts_inter_company_idx
    (contacts_inter_comp_chan_idx with a channel, contacts_inter_person_idx for a person), so page 1,000
    costs what page 1 costs. An unknown channel or a malformed cursor is ignored.

    The caller read the holder through visible_to. A company's history is all visible with it; a person's
    may span former companies, so it keeps only the interactions of companies the user sees.
    """
    qs = Interaction.objects.select_related("user").prefetch_related("attachments")
    if person is not None:
        qs = qs.visible_to(user).filter(person=person).select_related("company")
        qs = qs.only(*TIMELINE_FIELDS, "company__name", "company__short_name")
    else:
        qs = qs.filter(company=company).select_related("person")
        qs = qs.only(*TIMELINE_FIELDS, "person__last_name", "person__first_name", "person__patronymic")
    if channel in InteractionChannel.values:
        qs = qs.filter(channel=channel)
    cursor = decode_cursor(before)
    if cursor is not None:
        occurred_at, pk = cursor
        qs = qs.filter(occurred_at__lte=occurred_at).filter(Q(occurred_at__lt=occurred_at) | Q(pk__lt=pk))
    return qs.order_by("-occurred_at", "-id")


def timeline_page(
    *,
    user: User,
    company: Company | None = None,
    person: Person | None = None,
    channel: str = "",
    before: str = "",
    limit: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """One page of the timeline (see timeline_queryset) and the cursor of the next page ("" at the end)."""
    qs = timeline_queryset(user=user, company=company, person=person, channel=channel, before=before)
    rows = list(qs[: limit + 1])
    for row in rows:  # the holder itself, not joined (timeline_queryset)
        if person is not None:
            row.person = person
        else:
            row.company = company
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else ""
    channel = channel if channel in InteractionChannel.values else ""
    return TimelinePage([decorate_interaction(row) for row in rows[:limit]], next_cursor, channel)


# --- contact points ----------------------------------------------------------------------------------


def _points_queryset() -> QuerySet[ContactPoint]:
    return ContactPoint.objects.order_by("-is_primary", "kind", "id")


def points_for(*, company: Company | None = None, person: Person | None = None) -> list[ContactPoint]:
    """Contact points of a holder the caller has already fetched through visible_to."""
    qs = _points_queryset().filter(company=company) if company else _points_queryset().filter(person=person)
    return [_decorate_point(point) for point in qs[:CARD_POINTS_LIMIT]]


def _decorate_point(point: ContactPoint) -> ContactPoint:
    point.icon = POINT_ICONS.get(point.kind, "dot")  # type: ignore[attr-defined]  # render-ready extra
    return point


def key_points(points: list[ContactPoint]) -> list[ContactPoint]:
    """The primary phone-like and the primary e-mail point, for the card header."""
    phone = next((p for p in points if p.kind in PHONE_KINDS and p.is_primary), None) or next(
        (p for p in points if p.kind in PHONE_KINDS), None
    )
    email = next((p for p in points if p.kind == ContactPointKind.EMAIL and p.is_primary), None) or next(
        (p for p in points if p.kind == ContactPointKind.EMAIL), None
    )
    return [p for p in (phone, email) if p is not None]


def contact_point_get(*, user: User, pk: int) -> ContactPoint:
    """A contact point of a company or person the user sees; Http404 otherwise."""
    visible = Q(company__in=Company.objects.visible_to(user).values("pk")) | Q(
        person__in=Person.objects.visible_to(user).values("pk")
    )
    return get_object_or_404(ContactPoint.objects.filter(visible).select_related("company", "person"), pk=pk)


def attachment_get(*, user: User, pk: int) -> InteractionAttachment:
    """A file of an interaction of a company the user sees; Http404 otherwise."""
    visible = InteractionAttachment.objects.filter(interaction__in=Interaction.objects.visible_to(user).values("pk"))
    return get_object_or_404(visible, pk=pk)


def still_visible(*, user: User, holder: Company | Person) -> bool:
    """After an edit that may hand the record to someone else (owner, team, sharing)."""
    return type(holder).objects.visible_to(user).filter(pk=holder.pk).exists()


def employment_get(*, user: User, pk: int) -> Employment:
    return get_object_or_404(
        Employment.objects.filter(person__in=Person.objects.visible_to(user).values("pk")).select_related("person"),
        pk=pk,
    )


def company_options(*, user: User, query: str, limit: int = 20) -> list[Company]:
    """Companies for a picker: by EDRPOU, by name (3+ letters, trigram index), or the first by name."""
    query = " ".join(query.split())
    qs = Company.objects.visible_to(user)
    if re.fullmatch(r"[0-9]{8}", query):
        qs = qs.filter(edrpou=query)
    elif len(query) >= 3:
        qs = qs.filter(Q(name__icontains=query) | Q(short_name__icontains=query))
    return list(qs.order_by("name", "id")[:limit])


def role_labels(company: Company) -> list[str]:
    return [str(CompanyRole(r).label) for r in company.roles if r in CompanyRole.values]


# --- the cards ---------------------------------------------------------------------------------------


@dataclass
class CompanyCard:
    company: Company
    points: list[ContactPoint]
    key_points: list[ContactPoint]
    people_count: int  # up to CARD_PEOPLE_LIMIT + 1 (shown as "100+"); the People tab loads the rows
    timeline: TimelinePage
    tabs: list[tuple[registry.CardTab, str]] = field(default_factory=list)

    @property
    def role_labels(self) -> list[str]:
        return role_labels(self.company)


@dataclass
class PersonCard:
    person: Person
    points: list[ContactPoint]
    key_points: list[ContactPoint]
    consents: list[Consent]
    employments: list[Employment]
    timeline: TimelinePage
    tabs: list[tuple[registry.CardTab, str]] = field(default_factory=list)

    @property
    def consent_rows(self) -> list[tuple[str, Consent | None]]:
        """Every consent channel with its recorded consent (or None)."""
        by_channel = {c.channel: c for c in self.consents}
        return [(str(label), by_channel.get(value)) for value, label in Consent.Channel.choices]

    @property
    def birthday(self) -> str:
        p = self.person
        if not (p.birth_day and p.birth_month):
            return ""
        return f"{p.birth_day:02d}.{p.birth_month:02d}" + (f".{p.birth_year}" if p.birth_year else "")

    @property
    def is_birthday_today(self) -> bool:
        """Celebrated today in Kyiv (Feb 29 births on Feb 28 of a non-leap year): the card offers "Congratulate"."""
        return (self.person.birth_month, self.person.birth_day) in celebrated_pairs(timezone.localdate())


def company_people(*, company: Company, limit: int = CARD_PEOPLE_LIMIT) -> list[Person]:
    """People of a company with their contact points (two queries); `limit + 1` rows tell if there are more."""
    points = Prefetch("points", queryset=_points_queryset(), to_attr="point_list")
    people = company.people.only(*CARD_PERSON_FIELDS).order_by("last_name", "first_name", "id")
    people = list(people.prefetch_related(points)[: limit + 1])
    for person in people:
        person.point_list = [_decorate_point(p) for p in person.point_list]  # type: ignore[attr-defined]
        phone_and_email = key_points(person.point_list)
        person.key_phone = next((p for p in phone_and_email if p.kind in PHONE_KINDS), None)  # type: ignore[attr-defined]
        person.key_email = next((p for p in phone_and_email if p.kind == ContactPointKind.EMAIL), None)  # type: ignore[attr-defined]
    return people


def company_card(*, user: User, pk: int, channel: str = "", before: str = "") -> CompanyCard:
    """Everything the company card shows; Http404 for a company the user may not see."""
    company = company_get(user=user, pk=pk)
    points = points_for(company=company)
    return CompanyCard(
        company=company,
        points=points,
        key_points=key_points(points),
        people_count=company.people.values("pk")[: CARD_PEOPLE_LIMIT + 1].count(),
        timeline=timeline_page(user=user, company=company, channel=channel, before=before),
        tabs=[(tab, tab.url(company.pk)) for tab in registry.tabs()],
    )


def person_employments(*, person: Person) -> list[Employment]:
    """Former (or parallel) companies of a person the caller fetched through visible_to, latest first."""
    return list(person.employments.select_related("company").order_by("-ended_on", "-started_on", "-id"))


def person_card(*, user: User, pk: int, channel: str = "", before: str = "") -> PersonCard:
    """Everything the person card shows; Http404 for a person the user may not see."""
    person = person_get(user=user, pk=pk)
    points = points_for(person=person)
    return PersonCard(
        person=person,
        points=points,
        key_points=key_points(points),
        consents=list(person.consents.order_by("channel")),
        employments=person_employments(person=person),
        timeline=timeline_page(user=user, person=person, channel=channel, before=before),
        tabs=[(tab, tab.url(person.pk)) for tab in registry.tabs(for_person=True)],
    )


# --- field history ("Changes") -------------------------------------------------------------------------

# Denormalised or derived fields: their history is noise.
_NOT_SHOWN = {"last_contact_at", "full_name", "digits_reversed", "normalized", "created_at", "updated_at", "id"}
_FK_MODELS: dict[str, type] = {"owner": User, "team": Team, "industry": Industry, "company": Company}


def company_changes(*, user: User, pk: int, limit: int = CHANGES_LIMIT) -> tuple[Company, list[ChangeEntry]]:
    """The latest `limit` changes of a company and of its contact points, newest first."""
    company = company_get(user=user, pk=pk)
    own = latest_records(company.history.all(), limit + 1)
    points = latest_records(ContactPoint.history.filter(company_id=company.pk), limit + 1)
    return company, _merge_changes(own, points, limit)


def person_changes(*, user: User, pk: int, limit: int = CHANGES_LIMIT) -> tuple[Person, list[ChangeEntry]]:
    """The latest `limit` changes of a person, their contact points and consents, newest first."""
    person = person_get(user=user, pk=pk)
    own = latest_records(person.history.all(), limit + 1)
    points = latest_records(ContactPoint.history.filter(person_id=person.pk), limit + 1)
    consents = latest_records(Consent.history.filter(person_id=person.pk), limit + 1)
    return person, _merge_changes(own, [*points, *consents], limit)


def _merge_changes(own: list[Any], related: list[Any], limit: int) -> list[ChangeEntry]:
    """Field diffs of the main object's records; contact points and consents show their new value."""
    entries = history_entries(own, limit=limit, names=load_names(own, _FK_MODELS), hidden=_NOT_SHOWN)
    entries += [related_entry(record, _related_summary(record)) for record in related]
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]


def _related_summary(record: Any) -> str:
    if record.instance_type is ContactPoint:
        return f"{record.get_kind_display()}: {record.value}" + (f" ({record.label})" if record.label else "")
    granted = _("granted") if record.is_granted else _("withdrawn")
    return f"{record.get_channel_display()}: {granted} — {record.source}"


# --- the dossier ---------------------------------------------------------------------------------------


@dataclass
class Dossier:
    company: Company
    points: list[ContactPoint]
    people: list[Person]
    interactions: list[Interaction]
    generated_at: datetime

    @property
    def role_labels(self) -> list[str]:
        return role_labels(self.company)


def company_dossier(*, user: User, pk: int) -> Dossier:
    """The card, the people with their contact points and the last 200 interactions of one company."""
    company = company_get(user=user, pk=pk)
    return Dossier(
        company=company,
        points=points_for(company=company),
        people=company_people(company=company, limit=DOSSIER_PEOPLE_LIMIT)[:DOSSIER_PEOPLE_LIMIT],
        interactions=timeline_page(user=user, company=company, limit=DOSSIER_INTERACTIONS).rows,
        generated_at=timezone.now(),
    )
