"""Reads of leads and web forms: the lead list (keyset pages), the lead card, its history and consent log, the
web form list and the public form.

Every staff read starts from `visible_to(user)`; the public form is looked up by slug among published forms.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from contacts.models import Company, Person, Region, Source
from crm.history import ChangeEntry, history_entries, latest_records, load_names
from crm.models import Team, User
from deals.models import Deal, Product
from marketing.filters import LeadFilter
from marketing.models import OPEN_LEAD_STATUSES, Campaign, ConsentEvent, Lead, LeadChannel, LeadStatus, WebForm
from marketing.services_leads import WARNING_MESSAGES

PAGE_SIZE = 50
CHANGES_LIMIT = 50
CONSENT_LIMIT = 50


@dataclass(frozen=True)
class LeadRow:
    """A list row, render-ready: display strings and the card URL from the selector."""

    pk: int
    url: str
    name: str
    company_name: str
    email: str
    phone: str
    status: str
    status_label: str
    channel_label: str
    source_label: str
    campaign: str
    region_label: str
    owner: str
    created_iso: str
    created_label: str  # "dd.mm.yyyy hh:mm" in the current zone
    has_warnings: bool
    has_match: bool


@dataclass
class LeadPage:
    rows: list[LeadRow]
    next_cursor: str
    is_first: bool


LIST_FIELDS = (
    "status", "first_name", "last_name", "company_name", "email", "phone", "channel", "source", "region",
    "created_at", "warnings", "matched_company_id", "matched_person_id", "campaign__name", "owner__full_name",
    "owner__email",
)  # fmt: skip


def _labels(choices: type[models.TextChoices]) -> dict[str, str]:
    """Value → label in the current language, translated once per page rather than once per row."""
    return {value: str(label) for value, label in choices.choices}


def _rows(leads: list[Lead]) -> list[LeadRow]:
    statuses, channels, sources, regions = (_labels(c) for c in (LeadStatus, LeadChannel, Source, Region))
    rows = []
    for lead in leads:
        local = timezone.localtime(lead.created_at)
        rows.append(
            LeadRow(
                pk=lead.pk,
                url=reverse("marketing:lead-detail", args=[lead.pk]),
                name=" ".join(part for part in (lead.last_name, lead.first_name) if part),
                company_name=lead.company_name,
                email=lead.email,
                phone=lead.phone,
                status=lead.status,
                status_label=statuses.get(lead.status, lead.status),
                channel_label=channels.get(lead.channel, lead.channel),
                source_label=sources.get(lead.source, lead.source),
                campaign=lead.campaign.name if lead.campaign_id else "",
                region_label=regions.get(lead.region, lead.region),
                owner=str(lead.owner) if lead.owner_id else "",
                created_iso=local.isoformat(),
                created_label=local.strftime("%d.%m.%Y %H:%M"),
                has_warnings=bool(lead.warnings),
                has_match=bool(lead.matched_company_id or lead.matched_person_id),
            )
        )
    return rows


def _after(qs: QuerySet[Lead], cursor: str | None) -> QuerySet[Lead]:
    """Rows after the cursor "<created_at ISO>|<id>" in (-created_at, -id) order; a broken cursor is ignored."""
    if not cursor or "|" not in cursor:
        return qs
    moment_text, _sep, pk_text = cursor.partition("|")
    try:
        moment = parse_datetime(moment_text.replace(" ", "+"))
    except ValueError:  # well-formed but impossible ("2024-13-45T…")
        moment = None
    if moment is None or not pk_text.isdigit():
        return qs
    return qs.filter(Q(created_at__lt=moment) | Q(created_at=moment, id__lt=int(pk_text)))


def lead_page(*, filterset: LeadFilter, cursor: str | None = None, limit: int = PAGE_SIZE) -> LeadPage:
    """Newest first, keyset-paginated (served by the (…, -created_at, -id) indexes): one query, no COUNT."""
    qs = filterset.qs.select_related("campaign", "owner").only(*LIST_FIELDS)
    leads = list(_after(qs, cursor).order_by("-created_at", "-id")[: limit + 1])
    next_cursor = ""
    if len(leads) > limit:
        last = leads[limit - 1]
        next_cursor = f"{last.created_at.isoformat()}|{last.pk}"
    return LeadPage(rows=_rows(leads[:limit]), next_cursor=next_cursor, is_first=not cursor)


def lead_get(*, user: User, pk: int) -> Lead:
    """A lead the user sees, with what its card shows beside it; Http404 otherwise."""
    return get_object_or_404(
        Lead.objects.visible_to(user).select_related(
            "product",
            "campaign",
            "web_form",
            "owner",
            "team",
            "matched_company",
            "matched_person",
            "company",
            "person",
            "deal",
        ),
        pk=pk,
    )


@dataclass(frozen=True)
class Link:
    label: str
    url: str  # "" when the user may not open it


@dataclass
class LeadCard:
    lead: Lead
    warnings: list[str]
    matched_company: Link | None
    matched_person: Link | None
    company: Link | None
    person: Link | None
    deal: Link | None
    consent_log: list[ConsentEvent]
    is_open: bool
    can_change: bool


def _link(user: User, obj: Company | Person | Deal | None, model: type, url_name: str) -> Link | None:
    if obj is None:
        return None
    visible = model.objects.visible_to(user).filter(pk=obj.pk).exists()
    return Link(str(obj), reverse(url_name, args=[obj.pk]) if visible else "")


def lead_card(*, user: User, lead: Lead) -> LeadCard:
    """The card of a lead from lead_get: warnings in the reader's language, links to the matching and the resulting
    client (a link only where the user may open it), the consent log. A constant number of queries."""
    return LeadCard(
        lead=lead,
        warnings=[str(WARNING_MESSAGES.get(code, code)) for code in lead.warnings],
        matched_company=_link(user, lead.matched_company, Company, "contacts:company-detail"),
        matched_person=_link(user, lead.matched_person, Person, "contacts:person-detail"),
        company=_link(user, lead.company, Company, "contacts:company-detail"),
        person=_link(user, lead.person, Person, "contacts:person-detail"),
        deal=_link(user, lead.deal, Deal, "deals:deal-detail"),
        consent_log=lead_consent_log(lead=lead),
        is_open=lead.status in OPEN_LEAD_STATUSES,
        can_change=user.has_perm("marketing.change_lead"),
    )


def lead_consent_log(*, lead: Lead, limit: int = CONSENT_LIMIT) -> list[ConsentEvent]:
    """The consent log entries of the lead and of the person it became (read-only), newest first."""
    condition = Q(lead=lead)
    if lead.person_id:
        condition |= Q(person_id=lead.person_id)
    return list(ConsentEvent.objects.filter(condition).select_related("actor").order_by("-at", "-id")[:limit])


_FK_MODELS: dict[str, type] = {
    "product": Product,
    "campaign": Campaign,
    "web_form": WebForm,
    "owner": User,
    "team": Team,
    "matched_company": Company,
    "matched_person": Person,
    "company": Company,
    "person": Person,
    "deal": Deal,
}
_HIDDEN = {"id", "created_at", "updated_at", "phone_digits", "submitted_ip"}


def lead_changes(*, lead: Lead, limit: int = CHANGES_LIMIT) -> list[ChangeEntry]:
    """The latest field changes of a lead the caller fetched through lead_get."""
    records = latest_records(lead.history.all(), limit + 1)
    return history_entries(records, limit=limit, names=load_names(records, _FK_MODELS), hidden=_HIDDEN)


# --- Web forms -----------------------------------------------------------------------------------


def web_form_list(*, user: User) -> list[WebForm]:
    """The forms the user sees (tens at most), by name."""
    return list(WebForm.objects.visible_to(user).select_related("team", "campaign").order_by("name", "id")[:500])


def web_form_get(*, user: User, pk: int) -> WebForm:
    return get_object_or_404(WebForm.objects.visible_to(user).select_related("team", "campaign", "owner"), pk=pk)


def web_form_public_get(*, slug: str) -> WebForm:
    """A published form by its address; Http404 for an unknown or unpublished one."""
    form = WebForm.objects.filter(slug=slug, is_published=True).first()
    if form is None:
        raise Http404
    return form


def web_form_products(*, web_form: WebForm) -> QuerySet[Product]:
    """The products a public form offers for "product of interest" (active ones, by name)."""
    return Product.objects.filter(is_active=True).only("name_uk", "sku").order_by("name_uk")


def lead_consent_person(*, user: User, lead: Lead) -> Person | None:
    """The person a consent recorded on the lead card is for: the client it became, else the matching person
    when the user sees them (a consent stays with the lead and its e-mail otherwise)."""
    person_id = lead.person_id or lead.matched_person_id
    return Person.objects.visible_to(user).filter(pk=person_id).first() if person_id else None


def lead_is_visible(*, user: User, pk: int) -> bool:
    return Lead.objects.visible_to(user).filter(pk=pk).exists()
