"""Reads of target groups (segments): their members, the list and card pages, the export rows.

Which rows a segment covers (issue #12, item 4). A dynamic group is the query string of the contacts company
or people list, applied with contacts' own FilterSets (contacts/filters.py) — so it gives exactly the rows that
list gives for that query. The base it filters is the *segment owner's audience*:

- an owner who sees all marketing (marketing staff, directors, administrators: `sees_all_marketing`) targets
  the whole client base, every company and person. The marketing role's contacts scope is OWN (its company
  list shows only its own clients), but a target group is about the market, not about whose client it is;
- any other owner targets what `Company.objects.visible_to(owner)` / `Person.objects.visible_to(owner)` give,
  i.e. what that owner's list shows.

Using the owner (not the viewer) keeps the group the same for every reader, for the Celery count and for a
campaign's members. What a *viewer* reads of it (the preview, the export) is further cut to the viewer's own
audience (`segment_people_for`), so a sales manager reading a team's group never sees a client beyond
their scope. A static group is its SegmentMember rows (frozen with the owner's audience, added by id within
the actor's audience).

A dynamic group whose filter is no longer valid (an owner or industry that is gone) matches nobody rather
than silently dropping the broken condition (which would widen it to everybody); the card says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.formats import number_format

from contacts.filters import CompanyFilter, ListFilterSet, PersonFilter
from contacts.models import Company, Consent, ContactPoint, ContactPointKind, Person, SavedFilter
from crm.models import Team, User
from crm.templatetags.crm_urls import pk_url
from marketing.models import Campaign, Segment, SegmentKind, SegmentMember, SegmentTarget, sees_all_marketing

LIST_PAGE_SIZE = 50
PREVIEW_SIZE = 50
CAMPAIGNS_SHOWN = 20


# --- the audience and the FilterSets -------------------------------------------------------------


def audience_companies(user: User) -> QuerySet[Company]:
    """Every company for a user who sees all marketing; otherwise the companies the user's list shows."""
    return Company.objects.all() if sees_all_marketing(user) else Company.objects.visible_to(user)


def audience_people(user: User) -> QuerySet[Person]:
    """Every person for a user who sees all marketing; otherwise the people the user's list shows."""
    return Person.objects.all() if sees_all_marketing(user) else Person.objects.visible_to(user)


class _AudienceMixin:
    """contacts' list filters over the owner's audience; an all-seeing owner may filter by any owner or team."""

    def __init__(self, data: QueryDict | None = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, user=user, **kwargs)  # type: ignore[call-arg]
        if sees_all_marketing(user):
            filters = self.filters  # type: ignore[attr-defined]
            filters["owner"].queryset = User.objects.filter(is_active=True).order_by("full_name", "pk")
            filters["team"].queryset = Team.objects.order_by("name")


class SegmentCompanyFilter(_AudienceMixin, CompanyFilter):
    @classmethod
    def base_queryset(cls, user: User) -> QuerySet[Company]:
        return audience_companies(user)


class SegmentPersonFilter(_AudienceMixin, PersonFilter):
    @classmethod
    def base_queryset(cls, user: User) -> QuerySet[Person]:
        return audience_people(user)


SEGMENT_FILTERSETS: dict[str, type[ListFilterSet]] = {
    SegmentTarget.COMPANY: SegmentCompanyFilter,
    SegmentTarget.PERSON: SegmentPersonFilter,
}


def segment_filterset(*, target: str, query: str, owner: User) -> ListFilterSet:
    """The list's FilterSet for `query` over `owner`'s audience (unbound, i.e. everybody, for an empty query)."""
    data = QueryDict(query) if query else None
    return SEGMENT_FILTERSETS[target](data, user=owner)


def filter_errors(*, target: str, query: str, owner: User) -> list[str]:
    """Why a list query is not a valid group filter ("Owner: Select a valid choice…"); [] when it is valid."""
    filterset = segment_filterset(target=target, query=query, owner=owner)
    if not filterset.is_bound or filterset.form.is_valid():
        return []
    form = filterset.form
    return [
        f"{form.fields[name].label}: {' '.join(errors)}" if name in form.fields else " ".join(errors)
        for name, errors in form.errors.items()
    ]


def _nobody(qs: QuerySet) -> QuerySet:
    # Not `.none()`: callers compile the queryset into an INSERT … SELECT (campaign_members_add, the freeze),
    # and an EmptyResultSet cannot be compiled. A primary key is never NULL.
    return qs.filter(pk__isnull=True)


def _dynamic_rows(segment: Segment) -> QuerySet:
    filterset = segment_filterset(target=segment.target, query=segment.query, owner=segment.owner)
    if filterset.is_bound and not filterset.form.is_valid():
        return _nobody(filterset.queryset)
    return filterset.qs


def segment_rows(*, segment: Segment) -> QuerySet:
    """The group's own rows: companies for a company group, people for a person group (unordered)."""
    if segment.kind == SegmentKind.DYNAMIC:
        return _dynamic_rows(segment)
    if segment.target == SegmentTarget.COMPANY:
        members = SegmentMember.objects.filter(segment=segment, company__isnull=False).values("company_id")
        return Company.objects.filter(pk__in=members)
    members = SegmentMember.objects.filter(segment=segment, person__isnull=False).values("person_id")
    return Person.objects.filter(pk__in=members)


def segment_people(*, segment: Segment) -> QuerySet[Person]:
    """The people of the group; for a company group, the people of those companies (within the owner's
    audience). A queryset that compiles to SQL (also for a group that matches nobody)."""
    rows = segment_rows(segment=segment)
    if segment.target == SegmentTarget.PERSON:
        return rows
    return audience_people(segment.owner).filter(company__in=rows.order_by().values("pk"))


def segment_companies(*, segment: Segment) -> QuerySet[Company]:
    """The companies of the group; for a person group, the companies those people work for."""
    rows = segment_rows(segment=segment)
    if segment.target == SegmentTarget.COMPANY:
        return rows
    return Company.objects.filter(pk__in=rows.order_by().filter(company__isnull=False).values("company_id"))


def segment_people_for(*, segment: Segment, user: User) -> QuerySet[Person]:
    """The group's people that `user` may read (the preview and the export): cut to the user's audience."""
    people = segment_people(segment=segment)
    if sees_all_marketing(user):
        return people
    return people.filter(pk__in=Person.objects.visible_to(user).values("pk"))


def segment_rows_for(*, segment: Segment, user: User) -> QuerySet:
    rows = segment_rows(segment=segment)
    if sees_all_marketing(user):
        return rows
    model = Company if segment.target == SegmentTarget.COMPANY else Person
    return rows.filter(pk__in=model.objects.visible_to(user).values("pk"))


def segment_count(*, segment: Segment) -> int:
    """How many rows the group has (companies or people, as its target): the Celery task's COUNT."""
    return segment_rows(segment=segment).order_by().count()


# --- pages ---------------------------------------------------------------------------------------


def segment_get(*, user: User, pk: int) -> Segment:
    """A group the user may see; Http404 otherwise."""
    return get_object_or_404(Segment.objects.visible_to(user).select_related("owner", "saved_filter", "team"), pk=pk)


@dataclass
class SegmentRow:
    pk: int
    name: str
    url: str
    kind_label: str
    target_label: str
    owner_name: str
    member_count: int | None
    count_label: str
    counted_at: datetime | None


def _count_label(count: int | None) -> str:
    return number_format(count, force_grouping=True) if count is not None else ""


def segment_row(segment: Segment) -> SegmentRow:
    return SegmentRow(
        pk=segment.pk,
        name=segment.name,
        url=pk_url("marketing:segment-detail", segment.pk),
        kind_label=segment.get_kind_display(),
        target_label=segment.get_target_display(),
        owner_name=str(segment.owner),
        member_count=segment.member_count,
        count_label=_count_label(segment.member_count),
        counted_at=segment.counted_at,
    )


@dataclass
class SegmentPage:
    rows: list[SegmentRow]
    next_cursor: str = ""


def segment_list(*, user: User, query: str = "", after: str = "") -> SegmentPage:
    """The user's groups by name, LIST_PAGE_SIZE at a time: keyset on (name, id), `after` is "name|id"."""
    qs = Segment.objects.visible_to(user).select_related("owner").order_by("name", "id")
    if query:
        qs = qs.filter(name__icontains=query)
    if after:
        name, _sep, last_id = after.rpartition("|")
        if last_id.isdigit():
            qs = qs.filter(Q(name__gt=name) | Q(name=name, id__gt=int(last_id)))
    segments = list(qs[: LIST_PAGE_SIZE + 1])
    cursor = ""
    if len(segments) > LIST_PAGE_SIZE:
        segments = segments[:LIST_PAGE_SIZE]
        cursor = f"{segments[-1].name}|{segments[-1].pk}"
    return SegmentPage(rows=[segment_row(segment) for segment in segments], next_cursor=cursor)


@dataclass
class MemberRow:
    pk: int
    name: str
    url: str
    detail: str  # a person's position and company; a company's region and city


@dataclass
class SegmentCard:
    segment: Segment
    row: SegmentRow
    members: list[MemberRow]
    has_more: bool
    campaigns: list[dict[str, Any]]
    filter_errors: list[str] = field(default_factory=list)
    list_url: str = ""  # the contacts list with the group's filter applied


def _member_rows(segment: Segment, user: User) -> tuple[list[MemberRow], bool]:
    """The first PREVIEW_SIZE rows by id (keyset-ready: the primary key index; no COUNT)."""
    rows = segment_rows_for(segment=segment, user=user).order_by("pk")
    if segment.target == SegmentTarget.COMPANY:
        companies = list(rows.only("name", "region", "city")[: PREVIEW_SIZE + 1])
        members = [
            MemberRow(
                pk=company.pk,
                name=company.name,
                url=pk_url("contacts:company-detail", company.pk),
                detail=", ".join(part for part in (company.get_region_display(), company.city) if part),
            )
            for company in companies[:PREVIEW_SIZE]
        ]
        return members, len(companies) > PREVIEW_SIZE
    people = list(
        rows.select_related("company").only("last_name", "first_name", "patronymic", "position", "company__name")[
            : PREVIEW_SIZE + 1
        ]
    )
    members = [
        MemberRow(
            pk=person.pk,
            name=str(person),
            url=pk_url("contacts:person-detail", person.pk),
            detail=", ".join(part for part in (person.position, person.company.name if person.company else "") if part),
        )
        for person in people[:PREVIEW_SIZE]
    ]
    return members, len(people) > PREVIEW_SIZE


def segment_card(*, user: User, segment: Segment) -> SegmentCard:
    """The card: stored count, the first members, the campaigns (that the user sees) using the group."""
    members, has_more = _member_rows(segment, user)
    campaigns = [
        {"name": campaign.name, "url": pk_url("marketing:campaign-detail", campaign.pk), "status": label}
        for campaign, label in (
            (campaign, campaign.get_status_display())
            for campaign in Campaign.objects.visible_to(user)
            .filter(segments=segment)
            .only("name", "status", "starts_on")
            .order_by("-starts_on", "-id")[:CAMPAIGNS_SHOWN]
        )
    ]
    errors: list[str] = []
    list_url = ""
    if segment.kind == SegmentKind.DYNAMIC:
        errors = filter_errors(target=segment.target, query=segment.query, owner=segment.owner)
        name = "contacts:company-list" if segment.target == SegmentTarget.COMPANY else "contacts:person-list"
        list_url = reverse(name) + (f"?{segment.query}" if segment.query else "")
    return SegmentCard(
        segment=segment,
        row=segment_row(segment),
        members=members,
        has_more=has_more,
        campaigns=campaigns,
        filter_errors=errors,
        list_url=list_url,
    )


def saved_filters_for(*, user: User) -> QuerySet[SavedFilter]:
    """The saved filters the user may build a group from (own and shared with the user's teams)."""
    # Not sliced: the form's choice field validates with .get() (a user has tens of saved filters, not more).
    return SavedFilter.objects.visible_to(user).select_related("owner").order_by("target", "name", "pk")


# --- the export ----------------------------------------------------------------------------------


def export_people(*, segment: Segment, user: User, consented_only: bool = False) -> QuerySet[Person]:
    """The group's people the user may read, in id order, with company, primary e-mail / phone and
    e-mail consent as one query (subqueries; no N+1). `consented_only`: only people whose e-mail consent
    (contacts.Consent, channel e-mail) is granted."""
    points = ContactPoint.objects.filter(person=OuterRef("pk"), is_primary=True)
    phone_kinds = [ContactPointKind.PHONE, ContactPointKind.MOBILE]
    consent = Consent.objects.filter(person=OuterRef("pk"), channel=Consent.Channel.EMAIL, is_granted=True)
    qs = (
        segment_people_for(segment=segment, user=user)
        .select_related("company")
        .only(
            *("last_name", "first_name", "patronymic", "position"),
            *("company__name", "company__edrpou", "company__region", "company__city"),
        )
        .annotate(
            # contacts_cp_person_idx (person, kind); a landline before a mobile, as the contacts export.
            primary_phone=Subquery(points.filter(kind__in=phone_kinds).order_by("-kind").values("normalized")[:1]),
            primary_email=Subquery(points.filter(kind=ContactPointKind.EMAIL).values("normalized")[:1]),
            email_consent=Exists(consent),
        )
    )
    if consented_only:
        qs = qs.filter(email_consent=True)
    return qs.order_by("pk")


def count_up_to(qs: QuerySet, limit: int) -> int:
    """min(count, limit): a bounded count that stops reading after `limit` rows."""
    return qs.order_by()[:limit].count()
