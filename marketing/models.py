"""Marketing: every appeal of a potential client (Lead), the web forms that collect them, target groups
(Segment), campaigns with their members and costs, the consent log, e-mail suppressions, attribution of
leads, deals and orders to campaigns, and the computed campaign-effectiveness rollups (CampaignReport).

Row access: marketing staff, directors and administrators see every lead, form, segment and campaign
(marketing works the whole funnel); sales staff see the leads assigned to them (managers: their teams'),
and the campaigns they are responsible for or whose team is theirs.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from contacts.models import Company, Person, Region, SavedFilter, Source
from crm.models import BaseModel, ChoiceDisplayMixin, Role, Scope, ScopedQuerySet
from deals.models import Deal, Order, Product

if TYPE_CHECKING:
    from crm.models import User

MONEY = {"max_digits": 14, "decimal_places": 2}


def sees_all_marketing(user: User) -> bool:
    """Marketing staff, directors and administrators see every marketing record."""
    return user.scope == Scope.ALL or Role.MARKETING in user.roles


class MarketingQuerySet(ScopedQuerySet):
    """Owned marketing rows: all for marketing staff (and directors), otherwise by owner / team."""

    def visibility(self, user: User) -> Q | None:
        if sees_all_marketing(user):
            return None
        return super().visibility(user)


# --- Leads ---------------------------------------------------------------------------------------


class LeadChannel(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail")
    EVENT = "event", _("Event")
    ADS = "ads", _("Advertising")
    PARTNER = "partner", _("Partner")
    MESSENGER = "messenger", _("Messenger")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    WORKING = "working", _("In progress")
    QUALIFIED = "qualified", _("Qualified")
    CONVERTED = "converted", _("Converted")
    DISQUALIFIED = "disqualified", _("Disqualified")


OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED)


class DisqualifyReason(models.TextChoices):
    NOT_INTERESTED = "not_interested", _("Not interested")
    NO_BUDGET = "no_budget", _("No budget")
    COMPETITOR = "competitor", _("Chose a competitor")
    DUPLICATE = "duplicate", _("Duplicate")
    WRONG_CONTACT = "wrong_contact", _("Wrong contact details")
    SPAM = "spam", _("Spam")
    OTHER = "other", _("Other")


class LeadQuerySet(MarketingQuerySet):
    pass


class Lead(BaseModel):
    """One appeal of a potential client: a web form, a call, an e-mail, a visit at an event..."""

    status = models.CharField(_("status"), max_length=16, choices=LeadStatus, default=LeadStatus.NEW)
    # Who appealed, as they told it.
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    position = models.CharField(_("position"), max_length=150, blank=True)
    company_name = models.CharField(_("company"), max_length=300, blank=True)
    edrpou = models.CharField(_("EDRPOU code"), max_length=10, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # E.164 digits of a valid phone ("" when there is none or it is invalid): the duplicate check's key.
    phone_digits = models.CharField(max_length=20, blank=True, editable=False)
    region = models.CharField(_("region"), max_length=32, choices=Region, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    message = models.TextField(_("message"), blank=True)
    product = models.ForeignKey(
        Product, verbose_name=_("product interest"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where it came from.
    source = models.CharField(_("source"), max_length=16, choices=Source, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=LeadChannel, default=LeadChannel.WEB_FORM)
    campaign = models.ForeignKey(
        "Campaign", verbose_name=_("campaign"), null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    web_form = models.ForeignKey(
        "WebForm", verbose_name=_("web form"), null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    utm_source = models.CharField("utm_source", max_length=100, blank=True)
    utm_medium = models.CharField("utm_medium", max_length=100, blank=True)
    utm_campaign = models.CharField("utm_campaign", max_length=100, blank=True)
    utm_term = models.CharField("utm_term", max_length=100, blank=True)
    utm_content = models.CharField("utm_content", max_length=100, blank=True)
    referrer = models.CharField(_("referring page"), max_length=500, blank=True)
    submitted_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # Consent given with the appeal (the consent log holds the text version shown).
    consent_email = models.BooleanField(_("agreed to marketing e-mails"), default=False)
    # Problems with the data as given ("the phone number is not valid"): kept, shown, never dropped.
    warnings = ArrayField(models.CharField(max_length=200), verbose_name=_("warnings"), default=list, blank=True)
    # The duplicate check: an existing client this appeal is probably from.
    matched_company = models.ForeignKey(
        Company, verbose_name=_("matching company"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_person = models.ForeignKey(
        Person, verbose_name=_("matching person"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The outcome.
    company = models.ForeignKey(
        Company, verbose_name=_("client"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("contact person"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    disqualify_reason = models.CharField(_("disqualified because"), max_length=16, choices=DisqualifyReason, blank=True)
    disqualify_note = models.CharField(_("note"), max_length=500, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    history = HistoricalRecords()

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=LeadStatus.values), name="marketing_lead_status_valid"),
            # Not the client itself: lead_convert sets it, but a client merged away or erased later sets it NULL.
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.CONVERTED) | Q(converted_at__isnull=False),
                name="marketing_lead_converted_has_time",
                violation_error_message=_("A converted lead needs its conversion time."),
            ),
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.DISQUALIFIED) | ~Q(disqualify_reason=""),
                name="marketing_lead_disqualified_has_reason",
                violation_error_message=_("Say why the lead is disqualified."),
            ),
        ]
        indexes = [
            # The lead list: newest first (keyset by created_at, id), scoped by owner or team; by status.
            models.Index(fields=["-created_at", "-id"], name="marketing_lead_created_idx"),
            models.Index(fields=["owner", "-created_at", "-id"], name="marketing_lead_owner_idx"),
            models.Index(fields=["team", "-created_at", "-id"], name="marketing_lead_team_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="marketing_lead_status_idx"),
            models.Index(fields=["campaign", "-created_at"], name="marketing_lead_campaign_idx"),
            models.Index(fields=["web_form", "-created_at"], name="marketing_lead_form_idx"),
            models.Index(fields=["region", "-created_at"], name="marketing_lead_region_idx"),
            models.Index(fields=["source", "-created_at"], name="marketing_lead_source_idx"),
            models.Index(fields=["channel", "-created_at"], name="marketing_lead_channel_idx"),
            # Attribution: the lead that brought a client.
            models.Index(fields=["company"], name="marketing_lead_company_idx", condition=Q(company__isnull=False)),
            # The list's search box (icontains emits UPPER(col) LIKE UPPER(%s)).
            GinIndex(OpClass(Upper("company_name"), name="gin_trgm_ops"), name="marketing_lead_coname_trgm_idx"),
            GinIndex(OpClass(Upper("last_name"), name="gin_trgm_ops"), name="marketing_lead_lname_trgm_idx"),
            # Duplicate check of a new appeal against earlier ones.
            models.Index(Lower("email"), name="marketing_lead_email_idx", condition=~Q(email="")),
            models.Index(fields=["phone_digits"], name="marketing_lead_phone_idx", condition=~Q(phone_digits="")),
        ]

    def __str__(self) -> str:
        name = " ".join(part for part in (self.last_name, self.first_name) if part)
        return " — ".join(part for part in (name, self.company_name) if part) or self.email or f"#{self.pk}"


class AssignmentRule(BaseModel):
    """Leads of a region and/or product category go to a team; inside the team, round robin.

    Rules are tried by `position`; the first whose non-empty conditions all match wins."""

    name = models.CharField(_("name"), max_length=150)
    position = models.PositiveSmallIntegerField(_("order"), default=100)
    region = models.CharField(_("region"), max_length=32, choices=Region, blank=True)
    category = models.ForeignKey(
        "deals.Category",
        verbose_name=_("product category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    team = models.ForeignKey("crm.Team", verbose_name=_("team"), on_delete=models.CASCADE, related_name="+")
    is_active = models.BooleanField(_("active"), default=True)
    # Round robin: the member who got this team's last lead (advanced under a row lock).
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["last_assignee"])

    class Meta:
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")
        ordering = ["position", "id"]  # a handful of rows

    def __str__(self) -> str:
        return self.name


# --- Web forms -----------------------------------------------------------------------------------


class FormField(models.TextChoices):
    """The fields a web form may ask for (each maps to a Lead field)."""

    FIRST_NAME = "first_name", _("First name")
    LAST_NAME = "last_name", _("Last name")
    COMPANY_NAME = "company_name", _("Company")
    EDRPOU = "edrpou", _("EDRPOU code")
    POSITION = "position", _("Position")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    REGION = "region", _("Region")
    CITY = "city", _("City")
    PRODUCT = "product", _("Product of interest")
    MESSAGE = "message", _("Message")


def _form_token() -> str:
    return secrets.token_urlsafe(24)


class WebFormQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> WebFormQuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_all_marketing(user):
            return self
        return self.filter(Q(owner=user) | Q(team__in=user.team_ids))


class WebForm(BaseModel):
    """A web-to-lead form: hosted at /marketing/forms/<slug>/ and embeddable as plain HTML."""

    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    fields = ArrayField(
        models.CharField(max_length=16, choices=FormField), verbose_name=_("fields"), default=list, blank=True
    )
    required_fields = ArrayField(
        models.CharField(max_length=16, choices=FormField), verbose_name=_("required fields"), default=list, blank=True
    )
    consent_text = models.TextField(_("consent text"), blank=True)
    # Bumped by web_form_update whenever the consent text changes: the consent log names the version shown.
    consent_version = models.PositiveIntegerField(_("consent text version"), default=1, editable=False)
    thank_you_text = models.TextField(_("thank-you text"), blank=True)
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team for the leads"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    campaign = models.ForeignKey(
        "Campaign", verbose_name=_("campaign"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(_("source"), max_length=16, choices=Source, default=Source.WEBSITE)
    # The hidden token every post must carry (the form is CSRF-exempt, since it is posted from other sites).
    token = models.CharField(_("token"), max_length=64, default=_form_token, editable=False)
    is_published = models.BooleanField(_("published"), default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="+")  # fmt: skip
    history = HistoricalRecords()

    objects = WebFormQuerySet.as_manager()

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        constraints = [
            models.CheckConstraint(
                condition=Q(required_fields__contained_by=models.F("fields")),
                name="marketing_webform_required_are_fields",
                violation_error_message=_("A required field must be one of the form's fields."),
            )
        ]

    def __str__(self) -> str:
        return self.name


# --- Consent -------------------------------------------------------------------------------------


class ConsentChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")


class ConsentEvent(ChoiceDisplayMixin, models.Model):
    """The append-only consent log: every grant and withdrawal, with its source and the text shown.

    A database trigger (migration 0002) refuses DELETE and any UPDATE but re-pointing person / lead.
    contacts.Consent holds the current state per person and channel; consent_record writes both."""

    # SET NULL (the one update the trigger allows) keeps the entry when a person is merged away or erased.
    person = models.ForeignKey(
        Person, verbose_name=_("person"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead = models.ForeignKey(Lead, verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="consent_events")  # fmt: skip
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=ConsentChannel)
    is_granted = models.BooleanField(_("granted"))
    at = models.DateTimeField(_("when"))
    source = models.CharField(_("how"), max_length=200)
    text = models.TextField(_("consent text"), blank=True)
    text_version = models.CharField(_("text version"), max_length=50, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")  # fmt: skip

    class Meta:
        verbose_name = _("consent log entry")
        verbose_name_plural = _("consent log")
        indexes = [
            models.Index(fields=["person", "channel", "-at"], name="marketing_consent_person_idx"),
            models.Index(Lower("email"), name="marketing_consent_email_idx", condition=~Q(email="")),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {'+' if self.is_granted else '−'} {self.at:%Y-%m-%d}"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINT = "complaint", _("Complained")


class EmailSuppression(BaseModel):
    """An address no campaign may write to: unsubscribed, hard-bounced or complained."""

    email = models.CharField(_("e-mail"), max_length=254)
    reason = models.CharField(_("reason"), max_length=16, choices=SuppressionReason)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    campaign = models.ForeignKey(
        "Campaign", verbose_name=_("campaign"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("e-mail suppression")
        verbose_name_plural = _("e-mail suppressions")
        constraints = [models.UniqueConstraint(Lower("email"), name="marketing_suppression_email_unique")]

    def __str__(self) -> str:
        return self.email


# --- Target groups -------------------------------------------------------------------------------


class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", _("Dynamic (a saved filter)")
    STATIC = "static", _("Static list")


class SegmentTarget(models.TextChoices):
    COMPANY = "company", _("Companies")
    PERSON = "person", _("People")


class SegmentQuerySet(MarketingQuerySet):
    pass


class Segment(BaseModel):
    """A target group: the query of a company or people list (dynamic), or a frozen list of members (static)."""

    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=SegmentKind, default=SegmentKind.DYNAMIC)
    target = models.CharField(_("list"), max_length=8, choices=SegmentTarget, default=SegmentTarget.PERSON)
    saved_filter = models.ForeignKey(
        SavedFilter, verbose_name=_("saved filter"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The list's query string (copied from the saved filter, so deleting the filter keeps the group).
    query = models.CharField(_("filter"), max_length=2000, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="+")  # fmt: skip
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Computed by segment_count_task; shown with its age.
    member_count = models.PositiveIntegerField(_("members"), null=True, blank=True)
    counted_at = models.DateTimeField(_("counted"), null=True, blank=True)
    history = HistoricalRecords()

    objects = SegmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("target group")
        verbose_name_plural = _("target groups")
        indexes = [models.Index(fields=["owner", "name"], name="marketing_segment_owner_idx")]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A member of a static target group (a company or a person)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("target group member")
        verbose_name_plural = _("target group members")
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, person__isnull=True) | Q(company__isnull=True, person__isnull=False),
                name="marketing_segmentmember_one_kind",
            ),
            models.UniqueConstraint(fields=["segment", "company"], name="marketing_segmentmember_company_unique"),
            models.UniqueConstraint(fields=["segment", "person"], name="marketing_segmentmember_person_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}: {self.company_id or self.person_id}"


# --- Campaigns -----------------------------------------------------------------------------------


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    CALLS = "calls", _("Calls")
    EVENT = "event", _("Event")
    ADS = "ads", _("Advertising")
    MAIL = "mail", _("Post")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class SendStatus(models.TextChoices):
    """The e-mail send of a campaign (launched once: draft → queued is a conditional update)."""

    NOT_STARTED = "", _("Not started")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Sent")
    PAUSED = "paused", _("Paused")


class CampaignQuerySet(MarketingQuerySet):
    pass


class Campaign(BaseModel):
    name = models.CharField(_("name"), max_length=200)
    goal = models.TextField(_("goal"), blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=CampaignChannel, default=CampaignChannel.EMAIL)
    status = models.CharField(_("status"), max_length=16, choices=CampaignStatus, default=CampaignStatus.DRAFT)
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    budget = models.DecimalField(_("budget, UAH"), default=0, validators=[MinValueValidator(0)], **MONEY)
    # Sum of the campaign's cost lines (CampaignCost), kept by campaign_cost_add.
    actual_cost = models.DecimalField(_("actual costs, UAH"), default=0, editable=False, **MONEY)
    segments = models.ManyToManyField(Segment, verbose_name=_("target groups"), blank=True, related_name="campaigns")
    products = models.ManyToManyField(Product, verbose_name=_("products"), blank=True, related_name="+")
    regions = ArrayField(
        models.CharField(max_length=32, choices=Region), verbose_name=_("regions"), default=list, blank=True
    )
    utm_campaign = models.SlugField(_("utm_campaign tag"), max_length=100, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("responsible"), on_delete=models.PROTECT,
                              related_name="+")  # fmt: skip
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The e-mail: subject and plain-text body with {{ placeholders }} (marketing.personalise).
    email_subject = models.CharField(_("e-mail subject"), max_length=200, blank=True)
    email_body = models.TextField(_("e-mail text"), blank=True)
    email_product = models.ForeignKey(
        Product,
        verbose_name=_("product whose price the e-mail quotes"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    send_rate = models.PositiveIntegerField(
        _("send rate, e-mails per minute"), default=600, validators=[MinValueValidator(1)]
    )
    send_status = models.CharField(_("sending"), max_length=8, choices=SendStatus, blank=True, default="")
    send_total = models.PositiveIntegerField(_("to send"), default=0)
    send_done = models.PositiveIntegerField(_("sent"), default=0)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    report_computed_at = models.DateTimeField(_("report computed"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["send_done", "report_computed_at"])

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CampaignStatus.values), name="marketing_campaign_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(starts_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="marketing_campaign_dates_ordered",
                violation_error_message=_("The campaign cannot end before it starts."),
            ),
            models.CheckConstraint(condition=Q(budget__gte=0), name="marketing_campaign_budget_positive"),
        ]
        indexes = [
            # The campaign list: newest first, by status, by owner / team.
            models.Index(fields=["-starts_on", "-id"], name="marketing_campaign_start_idx"),
            models.Index(fields=["status", "-starts_on", "-id"], name="marketing_campaign_status_idx"),
            models.Index(fields=["owner", "-starts_on", "-id"], name="marketing_campaign_owner_idx"),
            models.Index(fields=["team", "-starts_on", "-id"], name="marketing_campaign_team_idx"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="marketing_camp_name_trgm_idx"),
            models.Index(fields=["utm_campaign"], name="marketing_campaign_utm_idx", condition=~Q(utm_campaign="")),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignCost(BaseModel):
    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="costs")
    spent_on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount, UAH"), validators=[MinValueValidator(0)], **MONEY)
    note = models.CharField(_("what for"), max_length=200)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("campaign cost")
        verbose_name_plural = _("campaign costs")
        indexes = [models.Index(fields=["campaign", "spent_on"], name="marketing_cost_campaign_idx")]

    def __str__(self) -> str:
        return f"{self.note}: {self.amount}"


class MemberStatus(models.TextChoices):
    """A member's furthest step; the *_at fields keep each step's time."""

    PLANNED = "planned", _("Planned")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    OPENED = "opened", _("Opened")
    CLICKED = "clicked", _("Clicked")
    RESPONDED = "responded", _("Responded")
    CONVERTED = "converted", _("Converted")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCED = "bounced", _("Bounced")
    SKIPPED = "skipped", _("Skipped (no consent)")


class CampaignMember(ChoiceDisplayMixin, models.Model):
    """One addressee of a campaign (a person, with their company), and what came of it.

    Two million rows at size L: no history (the *_at fields are the member's timeline), no per-row
    updates outside the send claim and the tracking endpoints."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # The target group that brought the member and the company's region, frozen when members are added:
    # the report's dimensions.
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    region = models.CharField(max_length=32, choices=Region, blank=True)
    email = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=16, choices=MemberStatus, default=MemberStatus.PLANNED)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    # A call campaign's activity for this member (its result is the member's response).
    activity = models.ForeignKey(
        "contacts.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "person"], name="marketing_member_person_unique"),
            models.CheckConstraint(condition=Q(status__in=MemberStatus.values), name="marketing_member_status_valid"),
        ]
        indexes = [
            # The send claims planned members of a campaign in id order (small once sent).
            models.Index(fields=["campaign", "id"], name="marketing_member_planned_idx", condition=Q(status="planned")),
            # The campaign's member list, by status.
            models.Index(fields=["campaign", "status", "id"], name="marketing_member_status_idx"),
            # Attribution and the client card: the campaigns that touched a company.
            models.Index(fields=["company", "campaign"], name="marketing_member_company_idx"),
            models.Index(fields=["person"], name="marketing_member_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.email or self.person_id}"


# --- Attribution and the computed report ---------------------------------------------------------


class Touch(models.TextChoices):
    FIRST = "first", _("First touch")
    LAST = "last", _("Last touch")


class Attribution(models.Model):
    """A lead, deal or order attributed to the campaign that brought it (computed by attribution_compute)."""

    class Kind(models.TextChoices):
        LEAD = "lead", _("Lead")
        DEAL = "deal", _("Deal")
        ORDER = "order", _("Order")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="attributions")
    touch = models.CharField(max_length=5, choices=Touch)
    kind = models.CharField(max_length=5, choices=Kind)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    revenue = models.DecimalField(default=0, **MONEY)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("attribution")
        verbose_name_plural = _("attributions")
        constraints = [
            models.UniqueConstraint(fields=["lead", "touch"], name="marketing_attr_lead_unique"),
            models.UniqueConstraint(fields=["deal", "touch"], name="marketing_attr_deal_unique"),
            models.UniqueConstraint(fields=["order", "touch"], name="marketing_attr_order_unique"),
        ]
        indexes = [models.Index(fields=["campaign", "touch", "kind"], name="marketing_attr_campaign_idx")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.campaign_id} ({self.touch})"


class ReportFigures(models.Model):
    """The counts and amounts of a campaign-report rollup row."""

    members = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)
    responded = models.PositiveIntegerField(default=0)
    unsubscribed = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    leads = models.PositiveIntegerField(default=0)
    clients = models.PositiveIntegerField(default=0)
    deals_won = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(default=0, **MONEY)
    cost = models.DecimalField(default=0, **MONEY)
    computed_at = models.DateTimeField()

    class Meta:
        abstract = True


class CampaignReport(ReportFigures):
    """Campaign effectiveness rolled up by target group × product × region (campaign_report_compute).

    Rows with product NULL carry the members' funnel (reached … unsubscribed); rows with a product carry
    the leads, clients, won deals and revenue of that product, and `rank`: its place in its target group ×
    region by leads, revenue (1 = most). The exports read these rows; the page reads CampaignReportTotal, and
    a group's rows of rank ≤ PRODUCTS_SHOWN when the user opens the group."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="report_rows")
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    region = models.CharField(max_length=32, choices=Region, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("campaign report row")
        verbose_name_plural = _("campaign report")
        indexes = [
            models.Index(fields=["campaign"], name="marketing_report_campaign_idx"),
            models.Index(
                fields=["campaign", "segment", "region", "rank"],
                name="marketing_report_rank_idx",
                condition=Q(rank__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.segment_id}/{self.product_id}/{self.region}"


class CampaignReportTotal(ReportFigures):
    """The sums of a campaign's CampaignReport rows that its report page shows (campaign_report_compute):
    per target group × region (kind "group"), and per product over all groups (kind "product", with `rank`
    by leads, revenue: the page shows the first PRODUCTS_SHOWN)."""

    class Kind(models.TextChoices):
        GROUP = "group", _("Target group × region")
        PRODUCT = "product", _("Product")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="report_totals")
    kind = models.CharField(max_length=8, choices=Kind)
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    region = models.CharField(max_length=32, choices=Region, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("campaign report total")
        verbose_name_plural = _("campaign report totals")
        indexes = [models.Index(fields=["campaign", "kind", "rank"], name="marketing_rtotal_campaign_idx")]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.kind} {self.segment_id}/{self.product_id}/{self.region}"


# --- Lead conversion rollup ----------------------------------------------------------------------


class ConversionLevel(models.TextChoices):
    """Who reads a LeadConversion row: those who see every lead, a team's readers, or one owner."""

    ALL = "all", _("All leads")
    TEAM = "team", _("Team")
    OWNER = "owner", _("Team and owner")


class LeadConversion(models.Model):
    """Leads per Kyiv month × one dimension value (source, channel, campaign, region, owner), at three levels:
    all leads (team and owner empty), per team, and per team × owner (conversion_rollup_compute). The
    conversion page reads only these rows: those who see every lead the "all" (or, filtered by team, the "team")
    rows; others the "team" rows of their teams and the "owner" rows of their own leads in other teams.
    `days` / `day_counts`: how many converted leads took each whole number of days (the median)."""

    level = models.CharField(max_length=5, choices=ConversionLevel)
    dimension = models.CharField(max_length=8)
    month = models.DateField()
    team = models.ForeignKey("crm.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=32, blank=True)
    leads = models.PositiveIntegerField(default=0)
    converted = models.PositiveIntegerField(default=0)
    won = models.PositiveIntegerField(default=0)
    convert_seconds = models.BigIntegerField(default=0)
    days = ArrayField(models.PositiveIntegerField(), default=list)
    day_counts = ArrayField(models.PositiveIntegerField(), default=list)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("lead conversion rollup")
        verbose_name_plural = _("lead conversion rollups")
        indexes = [
            models.Index(fields=["level", "dimension", "month"], name="marketing_conv_month_idx"),
            models.Index(fields=["team", "level", "dimension", "month"], name="marketing_conv_team_idx"),
            models.Index(fields=["owner", "dimension", "month"], name="marketing_conv_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.dimension}={self.key} {self.month:%Y-%m}"
