"""Writes of leads (issue #12 item 1) and of the web forms that collect them (item 3).

`lead_create` keeps every appeal: data that does not check out (a phone or e-mail that is not valid, an EDRPOU
code with a wrong check digit) is stored as typed with a warning code in `Lead.warnings`, never dropped. It
links the probable existing client (EDRPOU, e-mail, phone digits), assigns the lead by the assignment rules
(round robin inside the team) and records the consent given with it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import phonenumbers
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import services as contact_services
from contacts.models import Company, CompanyRole, ContactPoint, ContactPointKind, Person
from contacts.validators import DEFAULT_REGION, edrpou_is_valid
from crm.models import Team, User
from crm.services import notify
from deals.models import Category, Product
from deals.services_deals import deal_create
from marketing.models import (
    OPEN_LEAD_STATUSES,
    AssignmentRule,
    Campaign,
    ConsentChannel,
    DisqualifyReason,
    FormField,
    Lead,
    LeadChannel,
    LeadStatus,
    WebForm,
)
from marketing.services_consent import consent_attach_person, consent_record

NOTIFICATION_KIND = "lead"  # crm.NotificationKind has no lead kind: it follows the user's e-mail switch

# What a caller may pass in `data` (plus "consent"); the rest of a lead is the service's.
INPUT_FIELDS = frozenset({
    "first_name", "last_name", "position", "company_name", "edrpou", "email", "phone", "region", "city",
    "message", "product", "source", "channel", "referrer",
})  # fmt: skip
EDITABLE_FIELDS = INPUT_FIELDS - {"referrer"} | {"owner"}
CONTACT_FIELDS = frozenset({"edrpou", "email", "phone"})
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

# Warning codes kept in Lead.warnings; the card shows them in the reader's language.
WARNING_PHONE = "phone_invalid"
WARNING_EMAIL = "email_invalid"
WARNING_EDRPOU = "edrpou_invalid"
WARNING_MESSAGES = {
    WARNING_PHONE: gettext_lazy("The phone number is not a valid number: check it with the client."),
    WARNING_EMAIL: gettext_lazy("The e-mail address is not valid: check it with the client."),
    WARNING_EDRPOU: gettext_lazy("The EDRPOU code has a wrong check digit or length: check it for a typo."),
}


def _text(value: Any, field: str) -> str:
    limit = Lead._meta.get_field(field).max_length
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", str(value or "")).strip()
    return text[:limit] if limit else text


def _check_perm(actor: User, lead: Lead) -> None:
    if not actor.has_perm("marketing.change_lead") or not Lead.objects.visible_to(actor).filter(pk=lead.pk).exists():
        raise PermissionDenied


def _normalise(lead: Lead) -> None:
    """Normalise e-mail, phone and EDRPOU code in place; record what does not check out as warnings."""
    warnings = [w for w in lead.warnings if w not in (WARNING_PHONE, WARNING_EMAIL, WARNING_EDRPOU)]
    lead.email = lead.email.strip()
    if lead.email:
        try:
            validate_email(lead.email)
            lead.email = lead.email.lower()
        except ValidationError:
            warnings.append(WARNING_EMAIL)
    lead.phone_digits = ""
    if lead.phone:
        try:
            number = phonenumbers.parse(lead.phone, DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            lead.phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            lead.phone_digits = lead.phone.lstrip("+")
        else:
            warnings.append(WARNING_PHONE)
    lead.edrpou = re.sub(r"\s", "", lead.edrpou)
    if lead.edrpou and not edrpou_is_valid(lead.edrpou):
        warnings.append(WARNING_EDRPOU)
    lead.warnings = warnings


def _dedupe(lead: Lead) -> None:
    """Link the probable existing client: a company by EDRPOU code, a person by e-mail or phone digits."""
    company_id = person_id = None
    if re.fullmatch(r"[0-9]{8}", lead.edrpou):
        # contacts_company_edrpou_idx
        company_id = Company.objects.filter(edrpou=lead.edrpou).order_by("pk").values_list("pk", flat=True).first()
    points = ContactPoint.objects.none()
    if lead.email and WARNING_EMAIL not in lead.warnings:
        points = ContactPoint.objects.filter(kind=ContactPointKind.EMAIL, normalized=lead.email)  # cp_normalized_idx
    if lead.phone_digits:
        # The explicit `<> ''` lets the planner use the partial index contacts_cp_digits_idx.
        phones = ContactPoint.objects.exclude(digits_reversed="").filter(digits_reversed=lead.phone_digits[::-1])
        points = points | phones
    matches = list(
        points.order_by("-is_primary", "pk").values_list("person_id", "company_id", "person__company_id")[:20]
    )
    person_id = next((p for p, _c, _pc in matches if p), None)
    if company_id is None:
        company_id = next((c or pc for p, c, pc in matches if (c or pc) and (not person_id or p == person_id)), None)
    lead.matched_company_id, lead.matched_person_id = company_id, person_id


def _category_chain(product: Product | None) -> set[int]:
    if product is None or product.category_id is None:
        return set()
    parents = dict(Category.objects.values_list("id", "parent_id"))  # a few hundred rows at most
    chain: set[int] = set()
    current: int | None = product.category_id
    while current is not None and current not in chain:  # `not in`: a cycle in bad data ends the walk
        chain.add(current)
        current = parents.get(current)
    return chain


def _next_member(team: Team, after_id: int | None) -> User | None:
    members = list(User.objects.filter(team=team, is_active=True).order_by("pk"))
    if not members:
        return None
    following = [m for m in members if after_id is not None and m.pk > after_id]
    return following[0] if following else members[0]


def _assign(lead: Lead, web_form: WebForm | None) -> None:
    """The first active rule (by position) whose non-empty region / category match gives the team; inside it,
    round robin. Without a rule, the web form's team (round robin after the team's latest lead)."""
    rules = list(AssignmentRule.objects.filter(is_active=True).order_by("position", "id"))
    chain = _category_chain(lead.product) if any(rule.category_id for rule in rules) else set()
    for rule in rules:
        if rule.region and rule.region != lead.region:
            continue
        if rule.category_id and rule.category_id not in chain:
            continue
        # The row lock serialises concurrent leads of the rule: each gets the next member.
        locked = AssignmentRule.objects.select_for_update(no_key=True).get(pk=rule.pk)
        lead.team_id = locked.team_id
        assignee = _next_member(locked.team, locked.last_assignee_id)
        lead.owner = assignee
        if assignee is not None:
            locked.last_assignee = assignee
            locked.save(update_fields=["last_assignee", "updated_at"])
        return
    if web_form is not None and web_form.team_id:
        team = Team.objects.select_for_update(no_key=True).get(pk=web_form.team_id)
        last = (
            Lead.objects.filter(team=team, owner__isnull=False)  # marketing_lead_team_idx
            .order_by("-created_at", "-id")
            .values_list("owner_id", flat=True)
            .first()
        )
        lead.team_id, lead.owner = team.pk, _next_member(team, last)


def _notify_owner(lead: Lead) -> None:
    if lead.owner is None:
        return
    notify(
        recipient=lead.owner,
        kind=NOTIFICATION_KIND,
        title=gettext_lazy("New lead: %(lead)s") % {"lead": str(lead)},
        body=lead.message[:500],
        url=reverse("marketing:lead-detail", args=[lead.pk]),
    )


def _save(lead: Lead, actor: User | None) -> None:
    try:
        lead.full_clean(exclude=["product", "campaign", "web_form", "owner", "team", "matched_company",
                                 "matched_person", "company", "person", "deal"])  # fmt: skip
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
    lead._history_user = actor  # type: ignore[attr-defined]  # read by django-simple-history
    lead.save()


@transaction.atomic
def lead_create(
    *,
    data: dict[str, Any],
    actor: User | None,
    web_form: WebForm | None = None,
    campaign: Campaign | None = None,
    ip: str | None = None,
    utm: dict[str, str] | None = None,
) -> Lead:
    """Register an appeal: from a web form (actor None), or typed in by staff after a call, an e-mail, an event.

    `data` holds Lead field names (INPUT_FIELDS, "owner" for staff) and "consent" (bool, the form's consent
    box). Raises ValidationError keyed by field when there is nothing to contact the person by, or a value
    does not fit; a phone, e-mail or EDRPOU code that does not check out is kept with a warning."""
    data = dict(data)
    consent = bool(data.pop("consent", False))
    owner = data.pop("owner", None)
    unknown = set(data) - INPUT_FIELDS
    if unknown:
        raise ValueError(f"lead_create cannot set {sorted(unknown)}")
    if actor is not None and not actor.has_perm("marketing.add_lead"):
        raise PermissionDenied
    lead = Lead(product=data.pop("product", None))
    for name, value in data.items():
        setattr(lead, name, _text(value, name))
    if not any((lead.email, lead.phone, lead.last_name, lead.first_name, lead.company_name)):
        raise ValidationError(_("Give at least a name, a company, an e-mail or a phone."))
    if web_form is not None:
        lead.web_form = web_form
        lead.channel = LeadChannel.WEB_FORM
        lead.source = lead.source or web_form.source
        campaign = campaign or web_form.campaign
    for name in UTM_FIELDS:
        setattr(lead, name, _text((utm or {}).get(name, ""), name))
    if campaign is None and lead.utm_campaign:
        campaign = Campaign.objects.filter(utm_campaign=lead.utm_campaign).order_by("-id").first()  # utm_idx
    lead.campaign = campaign
    lead.submitted_ip = ip or None
    lead.consent_email = consent and bool(lead.email)
    _normalise(lead)
    _dedupe(lead)
    if owner is not None:
        lead.owner, lead.team_id = owner, owner.team_id
    else:
        _assign(lead, web_form)
        if lead.owner is None and lead.team_id is None and actor is not None:
            lead.owner, lead.team_id = actor, actor.team_id
    _save(lead, actor)
    if lead.consent_email:
        consent_record(
            channel=ConsentChannel.EMAIL,
            is_granted=True,
            source=_("Web form “%(form)s”") % {"form": web_form.name} if web_form else _("Appeal recorded by staff"),
            lead=lead,
            email=lead.email,
            text=web_form.consent_text if web_form else "",
            text_version=str(web_form.consent_version) if web_form else "",
            ip=ip,
            actor=actor,
        )
    if lead.owner_id and lead.owner_id != getattr(actor, "pk", None):
        _notify_owner(lead)
    return lead


def _lock(lead: Lead) -> Lead:
    return Lead.objects.select_for_update(no_key=True).get(pk=lead.pk)


def _check_open(lead: Lead) -> None:
    if lead.status not in OPEN_LEAD_STATUSES:
        raise ValidationError(
            _("This lead is already %(status)s: only open leads can change.") % {"status": lead.get_status_display()}
        )


@transaction.atomic
def lead_update(*, lead: Lead, actor: User, **fields: Any) -> Lead:
    """Save edited fields of an open lead; a changed phone, e-mail or EDRPOU code is checked and matched again.

    Raises PermissionDenied, ValidationError keyed by field."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"lead_update cannot change {sorted(unknown)}")
    _check_perm(actor, lead)
    current = _lock(lead)
    _check_open(current)
    if "owner" in fields:
        owner = fields.pop("owner")
        if owner is not None and owner.pk != current.owner_id:
            from contacts.selectors import assignable_owners

            if not assignable_owners(actor).filter(pk=owner.pk).exists():
                raise ValidationError({"owner": _("Choose an active user of your team.")})
            current.team_id = owner.team_id
        current.owner = owner
    if "product" in fields:
        current.product = fields.pop("product")
    for name, value in fields.items():
        setattr(current, name, _text(value, name))
    if CONTACT_FIELDS & set(fields):
        _normalise(current)
        _dedupe(current)
    if current.status == LeadStatus.NEW:
        current.status = LeadStatus.WORKING
    _save(current, actor)
    return current


@transaction.atomic
def lead_qualify(*, lead: Lead, actor: User) -> Lead:
    """Mark an open lead as qualified (a real potential client, ready to convert)."""
    _check_perm(actor, lead)
    current = _lock(lead)
    _check_open(current)
    if current.status == LeadStatus.QUALIFIED:
        raise ValidationError(_("The lead is already qualified."))
    current.status = LeadStatus.QUALIFIED
    _save(current, actor)
    return current


@transaction.atomic
def lead_disqualify(*, lead: Lead, actor: User, reason: str, note: str = "") -> Lead:
    """Close an open lead with a reason (DisqualifyReason). Raises ValidationError keyed by `reason`."""
    _check_perm(actor, lead)
    if reason not in DisqualifyReason.values:
        raise ValidationError({"reason": _("Say why the lead is disqualified.")})
    current = _lock(lead)
    _check_open(current)
    current.status = LeadStatus.DISQUALIFIED
    current.disqualify_reason = reason
    current.disqualify_note = _text(note, "disqualify_note")
    current.closed_at = timezone.now()
    _save(current, actor)
    return current


def _visible(model: type[Company] | type[Person], actor: User, pk: int | None) -> Any:
    return model.objects.visible_to(actor).filter(pk=pk).first() if pk else None


def _convert_company(lead: Lead, actor: User, owner: User) -> Company:
    if lead.matched_company_id:
        company = _visible(Company, actor, lead.matched_company_id)
        if company is None:
            raise ValidationError(
                _("The matching company belongs to another team: ask its owner to take the lead, or clear the match.")
            )
        return company
    name = lead.company_name or " ".join(part for part in (lead.last_name, lead.first_name) if part)
    if not name:
        raise ValidationError({"company_name": _("Enter the company's name before converting the lead.")})
    return contact_services.company_create(
        actor=actor,
        owner=owner,
        name=name,
        edrpou=lead.edrpou if WARNING_EDRPOU not in lead.warnings else "",
        region=lead.region,
        city=lead.city,
        source=lead.source,
        roles=[CompanyRole.PROSPECT],
        needs=lead.message,
    )


def _convert_person(lead: Lead, actor: User, owner: User, company: Company) -> Person | None:
    if lead.matched_person_id:
        person = _visible(Person, actor, lead.matched_person_id)
        if person is not None:
            return person
    if not (lead.last_name or lead.first_name):
        return None
    if not (lead.last_name and lead.first_name):
        raise ValidationError({"last_name": _("Enter both the first and the last name to create the contact person.")})
    person = contact_services.person_create(
        actor=actor,
        owner=owner,
        company=company,
        last_name=lead.last_name,
        first_name=lead.first_name,
        position=lead.position,
    )
    # contact_point_add checks that its actor may edit the holder: the new person is the owner's.
    if lead.email and WARNING_EMAIL not in lead.warnings:
        contact_services.contact_point_add(actor=owner, person=person, kind=ContactPointKind.EMAIL, value=lead.email)
    if lead.phone_digits:
        contact_services.contact_point_add(actor=owner, person=person, kind=ContactPointKind.MOBILE, value=lead.phone)
    return person


@transaction.atomic
def lead_convert(
    *, lead: Lead, actor: User, create_deal: bool, deal_title: str = "", deal_amount: Decimal | None = None
) -> Lead:
    """Turn an open lead into a client in one transaction: the matching (or a new prospect) company, the contact
    person with the lead's e-mail and phone, optionally a deal. Owner: the lead's owner, else the actor.

    Raises PermissionDenied, ValidationError (a closed lead; keyed by company_name, last_name, deal_title,
    deal_amount) — and then nothing is saved."""
    _check_perm(actor, lead)
    current = _lock(lead)
    _check_open(current)
    owner = current.owner if current.owner and current.owner.is_active else actor
    company = _convert_company(current, actor, owner)
    person = _convert_person(current, actor, owner, company)
    deal = None
    if create_deal:
        title = (deal_title or "").strip() or current.company_name or str(company)
        try:
            deal = deal_create(
                actor=actor,
                title=title,
                company=company,
                person=person,
                owner=owner if owner.pk != actor.pk else None,
                amount=deal_amount if deal_amount is not None else Decimal(0),
                source=_deal_source(current),
            )
        except PermissionDenied:
            raise ValidationError({"create_deal": _("You may not open deals: convert without a deal.")}) from None
        except ValidationError as error:
            mapping = {"title": "deal_title", "amount": "deal_amount"}
            if hasattr(error, "error_dict"):
                raise ValidationError({mapping.get(k, "create_deal"): v for k, v in error.error_dict.items()}) from None
            raise
    now = timezone.now()
    current.company, current.person, current.deal = company, person, deal
    current.status = LeadStatus.CONVERTED
    current.converted_at = current.closed_at = now
    _save(current, actor)
    if person is not None:
        consent_attach_person(lead=current, person=person)
    return current


def _deal_source(lead: Lead) -> str:
    from deals.models import DealSource

    for wanted in (lead.source, {LeadChannel.WEB_FORM: "website", LeadChannel.CALL: "cold_call"}.get(lead.channel)):
        if wanted in DealSource.values:
            return wanted
    return ""


# --- Web forms -----------------------------------------------------------------------------------

WEB_FORM_FIELDS = frozenset({
    "name", "slug", "title", "intro", "fields", "required_fields", "consent_text", "thank_you_text", "team",
    "campaign", "source", "is_published",
})  # fmt: skip


def _form_save(form: WebForm, actor: User) -> None:
    form.fields = [f for f in FormField.values if f in form.fields]  # the order of the form's fields
    form.required_fields = [f for f in form.fields if f in form.required_fields]
    try:
        form.full_clean(exclude=["owner", "team", "campaign"])
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
    form._history_user = actor  # type: ignore[attr-defined]
    form.save()


def _check_form_perm(actor: User, perm: str) -> None:
    if not actor.has_perm(f"marketing.{perm}_webform"):
        raise PermissionDenied


@transaction.atomic
def web_form_create(*, actor: User, **fields: Any) -> WebForm:
    """A new web-to-lead form owned by the actor. Raises PermissionDenied, ValidationError keyed by field."""
    _check_form_perm(actor, "add")
    unknown = set(fields) - WEB_FORM_FIELDS
    if unknown:
        raise ValueError(f"web_form_create cannot set {sorted(unknown)}")
    form = WebForm(owner=actor, **fields)
    _form_save(form, actor)
    return form


@transaction.atomic
def web_form_update(*, web_form: WebForm, actor: User, **fields: Any) -> WebForm:
    """Save a form; a changed consent text gets the next version (the consent log names the version shown)."""
    _check_form_perm(actor, "change")
    if not WebForm.objects.visible_to(actor).filter(pk=web_form.pk).exists():
        raise PermissionDenied
    unknown = set(fields) - WEB_FORM_FIELDS
    if unknown:
        raise ValueError(f"web_form_update cannot change {sorted(unknown)}")
    current = WebForm.objects.select_for_update(no_key=True).get(pk=web_form.pk)
    if "consent_text" in fields and fields["consent_text"].strip() != current.consent_text.strip():
        current.consent_version += 1
    for name, value in fields.items():
        setattr(current, name, value)
    _form_save(current, actor)
    return current


# --- The public form's flood guard ---------------------------------------------------------------

RATE_WINDOW = 60  # seconds


def web_form_rate_allows(*, ip: str | None) -> bool:
    """Count a post from this IP address in the current minute; False once it is over MARKETING_FORM_RATE
    (posts per minute per IP, default 5). Kept in the shared cache, so every web process counts together."""
    from django.conf import settings
    from django.core.cache import cache

    limit = settings.MARKETING_FORM_RATE
    window = int(timezone.now().timestamp() // RATE_WINDOW)
    key = f"marketing:form-rate:{ip or 'unknown'}:{window}"
    if cache.add(key, 1, timeout=RATE_WINDOW * 2):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=RATE_WINDOW * 2)
            count = 1
    return count <= limit
