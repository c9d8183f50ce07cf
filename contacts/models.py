"""Counterparties (companies), their people, contact points and the history of every contact."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.models import BaseModel, ScopedQuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from crm.models import User


class Region(models.TextChoices):
    """Oblasts of Ukraine plus the two cities with special status and Crimea."""

    VINNYTSIA = "vinnytsia", _("Vinnytsia Oblast")
    VOLYN = "volyn", _("Volyn Oblast")
    DNIPROPETROVSK = "dnipropetrovsk", _("Dnipropetrovsk Oblast")
    DONETSK = "donetsk", _("Donetsk Oblast")
    ZHYTOMYR = "zhytomyr", _("Zhytomyr Oblast")
    ZAKARPATTIA = "zakarpattia", _("Zakarpattia Oblast")
    ZAPORIZHZHIA = "zaporizhzhia", _("Zaporizhzhia Oblast")
    IVANO_FRANKIVSK = "ivano_frankivsk", _("Ivano-Frankivsk Oblast")
    KYIV_OBLAST = "kyiv_oblast", _("Kyiv Oblast")
    KIROVOHRAD = "kirovohrad", _("Kirovohrad Oblast")
    LUHANSK = "luhansk", _("Luhansk Oblast")
    LVIV = "lviv", _("Lviv Oblast")
    MYKOLAIV = "mykolaiv", _("Mykolaiv Oblast")
    ODESA = "odesa", _("Odesa Oblast")
    POLTAVA = "poltava", _("Poltava Oblast")
    RIVNE = "rivne", _("Rivne Oblast")
    SUMY = "sumy", _("Sumy Oblast")
    TERNOPIL = "ternopil", _("Ternopil Oblast")
    KHARKIV = "kharkiv", _("Kharkiv Oblast")
    KHERSON = "kherson", _("Kherson Oblast")
    KHMELNYTSKYI = "khmelnytskyi", _("Khmelnytskyi Oblast")
    CHERKASY = "cherkasy", _("Cherkasy Oblast")
    CHERNIVTSI = "chernivtsi", _("Chernivtsi Oblast")
    CHERNIHIV = "chernihiv", _("Chernihiv Oblast")
    KYIV_CITY = "kyiv_city", _("Kyiv (city)")
    SEVASTOPOL = "sevastopol", _("Sevastopol (city)")
    CRIMEA = "crimea", _("Autonomous Republic of Crimea")


class CompanyRole(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    PROSPECT = "prospect", _("Prospect")
    SUPPLIER = "supplier", _("Supplier")
    PARTNER = "partner", _("Partner")


class CompanyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("Micro (up to 10)")
    SMALL = "small", _("Small (10–49)")
    MEDIUM = "medium", _("Medium (50–249)")
    LARGE = "large", _("Large (250+)")


class LegalForm(models.TextChoices):
    TOV = "tov", _("LLC (ТОВ)")
    PP = "pp", _("Private enterprise (ПП)")
    FOP = "fop", _("Sole proprietor (ФОП)")
    AT = "at", _("Joint-stock company (АТ)")
    DP = "dp", _("State enterprise (ДП)")
    KP = "kp", _("Municipal enterprise (КП)")
    GO = "go", _("Non-governmental organisation (ГО)")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    WEBSITE = "website", _("Website")
    REFERRAL = "referral", _("Referral")
    EXHIBITION = "exhibition", _("Exhibition")
    COLD_CALL = "cold_call", _("Cold call")
    CAMPAIGN = "campaign", _("Campaign")
    PORTAL = "portal", _("Customer portal")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    """How a person prefers to be contacted, and the marketing consent channels."""

    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    MESSENGER = "messenger", _("Messenger")
    VISIT = "visit", _("Visit")


class Industry(BaseModel):
    """Reference data an administrator keeps in the admin."""

    name = models.CharField(_("name"), max_length=150, unique=True)

    class Meta:
        verbose_name = _("industry")
        verbose_name_plural = _("industries")
        ordering = ["name"]  # backed by the unique index

    def __str__(self) -> str:
        return self.name


class CompanyQuerySet(ScopedQuerySet):
    shared_field = "is_shared"


class Company(BaseModel):
    name = models.CharField(_("name"), max_length=300)
    short_name = models.CharField(_("short name"), max_length=150, blank=True)
    legal_form = models.CharField(_("legal form"), max_length=16, choices=LegalForm, blank=True)
    edrpou = models.CharField(_("EDRPOU code"), max_length=8, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=12, blank=True)
    roles = ArrayField(
        models.CharField(max_length=16, choices=CompanyRole), verbose_name=_("roles"), default=list, blank=True
    )
    status = models.CharField(_("status"), max_length=16, choices=CompanyStatus, default=CompanyStatus.ACTIVE)
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    size = models.CharField(_("size"), max_length=16, choices=CompanySize, blank=True)
    region = models.CharField(_("region"), max_length=32, choices=Region, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    legal_address = models.TextField(_("legal address"), blank=True)
    delivery_address = models.TextField(_("delivery address"), blank=True)
    website = models.URLField(_("website"), blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source, blank=True)
    tags = ArrayField(models.CharField(max_length=50), verbose_name=_("tags"), default=list, blank=True)
    needs = models.TextField(_("needs and interests"), blank=True)
    interests = ArrayField(
        models.CharField(max_length=100), verbose_name=_("product interests"), default=list, blank=True
    )
    notes = models.TextField(_("notes"), blank=True, help_text=_("Basic formatting is kept; scripts are removed."))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_shared = models.BooleanField(_("shared with the team"), default=False)
    # Denormalised by interaction_log: lists filter and sort by it without touching interactions.
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    history = HistoricalRecords()

    objects = CompanyQuerySet.as_manager()

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        constraints = [
            models.CheckConstraint(
                condition=Q(edrpou="") | Q(edrpou__regex=r"^[0-9]{8}$"),
                name="contacts_company_edrpou_digits",
                violation_error_message=_("The EDRPOU code has 8 digits."),
            ),
            models.CheckConstraint(condition=Q(status__in=CompanyStatus.values), name="contacts_company_status_valid"),
            models.CheckConstraint(
                condition=Q(roles__contained_by=CompanyRole.values), name="contacts_company_roles_valid"
            ),
        ]
        indexes = [
            # Global search and the name filter: the ORM's icontains emits UPPER(name) LIKE UPPER(%s).
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="contacts_company_name_trgm_idx"),
            GinIndex(OpClass(Upper("short_name"), name="gin_trgm_ops"), name="contacts_co_short_trgm_idx"),
            models.Index(fields=["edrpou"], name="contacts_company_edrpou_idx", condition=~Q(edrpou="")),
            # Company list: keyset by (name, id) and by (last contact, id), scoped by owner or team.
            models.Index(fields=["name", "id"], name="contacts_company_name_idx"),
            models.Index(fields=["owner", "name", "id"], name="contacts_co_owner_name_idx"),
            models.Index(fields=["team", "name", "id"], name="contacts_company_team_name_idx"),
            # visible_to() for representatives: the team's shared companies.
            models.Index(fields=["team"], condition=Q(is_shared=True), name="contacts_co_team_shared_idx"),
            models.Index(fields=["last_contact_at", "id"], name="contacts_company_last_idx"),
            models.Index(fields=["created_at", "id"], name="contacts_company_created_idx"),
            # Work plans: new clients of one owner in a period.
            models.Index(fields=["owner", "created_at"], name="contacts_co_owner_created_idx"),
            models.Index(fields=["region", "city"], name="contacts_company_region_idx"),
            # The city filter matches case-insensitively: UPPER(city) = UPPER(%s).
            models.Index(Upper("city"), name="contacts_company_city_idx"),
            GinIndex(fields=["roles"], name="contacts_company_roles_idx"),
            GinIndex(fields=["tags"], name="contacts_company_tags_idx"),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name


class PersonQuerySet(ScopedQuerySet):
    shared_field = "is_shared"


class Person(BaseModel):
    last_name = models.CharField(_("last name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    full_name = models.GeneratedField(
        expression=models.functions.Concat(
            "last_name", models.Value(" "), "first_name", models.Value(" "), "patronymic"
        ),
        output_field=models.CharField(max_length=302),
        db_persist=True,
    )
    position = models.CharField(_("position"), max_length=150, blank=True)
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    # Birthday with an optional year: month and day drive the daily birthday query (indexed).
    birth_day = models.PositiveSmallIntegerField(_("birth day"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("birth month"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    language = models.CharField(_("preferred language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    preferred_channel = models.CharField(_("preferred channel"), max_length=16, choices=Channel, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_shared = models.BooleanField(_("shared with the team"), default=False)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["full_name"])

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_month__isnull=True, birth_day__isnull=True)
                | Q(birth_month__range=(1, 12), birth_day__range=(1, 31)),
                name="contacts_person_birthday_valid",
                violation_error_message=_("A birthday needs both a day and a month."),
            ),
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_month__isnull=False),
                name="contacts_person_birth_year_needs_date",
            ),
        ]
        indexes = [
            GinIndex(OpClass(Upper("full_name"), name="gin_trgm_ops"), name="contacts_person_name_trgm_idx"),
            models.Index(fields=["last_name", "first_name", "id"], name="contacts_person_name_idx"),
            models.Index(fields=["owner", "last_name", "first_name", "id"], name="contacts_person_owner_name_idx"),
            models.Index(fields=["team", "last_name", "id"], name="contacts_person_team_name_idx"),
            models.Index(fields=["company", "last_name"], name="contacts_person_company_idx"),
            # Birthdays today / this month (activities issue) without scanning a million people.
            models.Index(fields=["birth_month", "birth_day"], name="contacts_person_birthday_idx"),
            # ... and among the people a user sees (ScopedQuerySet.visibility: own, or the team's / shared ones):
            # My day reads a few rows, not the ~2,700 birthdays of the day.
            models.Index(fields=["owner", "birth_month", "birth_day"], name="contacts_person_owner_bday_idx"),
            models.Index(
                fields=["team", "birth_month", "birth_day", "is_shared"], name="contacts_person_team_bday_idx"
            ),
            models.Index(fields=["last_contact_at", "id"], name="contacts_person_last_idx"),
            models.Index(fields=["created_at", "id"], name="contacts_person_created_idx"),
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.patronymic) if part)


class Employment(BaseModel):
    """A person's former (or parallel) company, with dates."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="employments")
    company = models.ForeignKey(Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="+")
    position = models.CharField(_("position"), max_length=150, blank=True)
    started_on = models.DateField(_("from"), null=True, blank=True)
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("employment")
        verbose_name_plural = _("employments")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(ended_on__gte=models.F("started_on")),
                name="contacts_employment_dates_ordered",
                violation_error_message=_("The end date cannot be before the start date."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.company}"


class Consent(BaseModel):
    """A person's marketing consent for one channel: when and how it was given or withdrawn."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        PHONE = "phone", _("Phone")

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel)
    is_granted = models.BooleanField(_("granted"), default=True)
    given_at = models.DateTimeField(_("when"))
    source = models.CharField(_("how"), max_length=200, help_text=_("E.g. signed form, web form, phone call."))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("marketing consent")
        verbose_name_plural = _("marketing consents")
        constraints = [models.UniqueConstraint(fields=["person", "channel"], name="contacts_consent_one_per_channel")]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_channel_display()}"


class ContactPointKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    MOBILE = "mobile", _("Mobile")
    EMAIL = "email", _("E-mail")
    FAX = "fax", _("Fax")
    TELEGRAM = "telegram", _("Telegram")
    VIBER = "viber", _("Viber")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WEBSITE = "website", _("Website")
    ADDRESS = "address", _("Postal address")


PHONE_KINDS = frozenset({ContactPointKind.PHONE, ContactPointKind.MOBILE, ContactPointKind.FAX,
                         ContactPointKind.VIBER, ContactPointKind.WHATSAPP})  # fmt: skip


class ContactPoint(BaseModel):
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.CASCADE, related_name="points"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), null=True, blank=True, on_delete=models.CASCADE, related_name="points"
    )
    kind = models.CharField(_("type"), max_length=16, choices=ContactPointKind)
    label = models.CharField(_("label"), max_length=50, blank=True)
    value = models.CharField(_("value"), max_length=300)
    # Phones in E.164, e-mails lower-cased, the rest as entered.
    normalized = models.CharField(_("normalised value"), max_length=300)
    # Phone digits reversed: "ends with these digits" becomes an indexed prefix search.
    digits_reversed = models.CharField(max_length=20, blank=True, editable=False)
    is_primary = models.BooleanField(_("primary"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, person__isnull=True) | Q(company__isnull=True, person__isnull=False),
                name="contacts_contactpoint_one_owner",
                violation_error_message=_("A contact point belongs to a company or to a person."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ContactPointKind.values), name="contacts_contactpoint_kind_valid"
            ),
        ]
        indexes = [
            # Phone search and caller lookup (any format, or the last digits).
            models.Index(
                OpClass("digits_reversed", name="varchar_pattern_ops"),
                name="contacts_cp_digits_idx",
                condition=~Q(digits_reversed=""),
            ),
            models.Index(fields=["normalized"], name="contacts_cp_normalized_idx"),
            models.Index(fields=["company", "kind"], name="contacts_cp_company_idx"),
            models.Index(fields=["person", "kind"], name="contacts_cp_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    @property
    def href(self) -> str:
        """A clickable link for the kind, or "" when there is none."""
        match self.kind:
            case ContactPointKind.EMAIL:
                return f"mailto:{self.normalized}"
            case ContactPointKind.PHONE | ContactPointKind.MOBILE | ContactPointKind.FAX:
                return f"tel:{self.normalized}"
            case ContactPointKind.VIBER:
                return f"viber://chat?number={self.normalized.replace('+', '%2B')}"
            case ContactPointKind.WHATSAPP:
                return f"https://wa.me/{self.normalized.lstrip('+')}"
            case ContactPointKind.TELEGRAM:
                return f"https://t.me/{self.normalized.lstrip('@')}"
            case ContactPointKind.WEBSITE:
                return self.normalized
        return ""


class InteractionChannel(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL_IN = "call_in", _("Incoming call")
    CALL_OUT = "call_out", _("Outgoing call")
    LETTER = "letter", _("Letter")
    FAX = "fax", _("Fax")
    EMAIL_IN = "email_in", _("Incoming e-mail")
    EMAIL_OUT = "email_out", _("Outgoing e-mail")
    WEB_FORM = "web_form", _("Web form")
    MESSENGER = "messenger", _("Messenger")
    MEETING = "meeting", _("Meeting")
    PORTAL = "portal", _("Portal")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")
    NONE = "", _("—")


class InteractionQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> Self:
        """An interaction is visible when its company is (the history belongs to the client)."""
        return self.filter(company__in=Company.objects.visible_to(user).values("pk"))


class Interaction(BaseModel):
    channel = models.CharField(_("channel"), max_length=16, choices=InteractionChannel)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction, blank=True)
    occurred_at = models.DateTimeField(_("when"))
    duration = models.DurationField(_("duration"), null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    # db_index=False: the composite timeline indexes below start with these columns.
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="interactions", db_index=False
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
        db_index=False,
    )
    # Empty for what the client did on their own (an e-mail to the service desk, a portal message).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A deal, order or ticket of a higher app (contacts imports nothing above it).
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject_object = GenericForeignKey("content_type", "object_id")
    history = HistoricalRecords()

    objects = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=InteractionChannel.values), name="contacts_interaction_channel_valid"
            ),
        ]
        indexes = [
            # The card's timeline: keyset by (occurred_at, id) per company / person, optionally by channel.
            models.Index(fields=["company", "-occurred_at", "-id"], name="contacts_inter_company_idx"),
            models.Index(fields=["company", "channel", "-occurred_at", "-id"], name="contacts_inter_comp_chan_idx"),
            models.Index(fields=["person", "-occurred_at", "-id"], name="contacts_inter_person_idx"),
            models.Index(fields=["person", "channel", "-occurred_at", "-id"], name="contacts_inter_pers_chan_idx"),
            models.Index(fields=["content_type", "object_id"], name="contacts_inter_object_idx"),
            # Work plans: one user's calls, meetings and visits in a period (index-only count by channel).
            models.Index(fields=["user", "occurred_at", "channel"], name="contacts_inter_user_idx"),
        ]

    def __str__(self) -> str:
        return self.subject


class SavedFilterQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> Self:
        """The user's own filters and those shared with a team the user belongs to or manages."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(owner=user) | Q(is_shared=True, team__in=user.team_ids))


class SavedFilter(BaseModel):
    class Target(models.TextChoices):
        COMPANY = "company", _("Companies")
        PERSON = "person", _("People")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100)
    target = models.CharField(_("list"), max_length=16, choices=Target)
    query = models.CharField(_("filter"), max_length=2000, help_text=_("The list's query string."))
    is_shared = models.BooleanField(_("shared with the team"), default=False)

    objects = SavedFilterQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        indexes = [models.Index(fields=["owner", "target"], name="contacts_savedfilter_owner_idx")]

    def __str__(self) -> str:
        return self.name


class InteractionAttachment(BaseModel):
    """A file attached to an interaction; type and size are checked by the service."""

    interaction = models.ForeignKey(
        Interaction, verbose_name=_("interaction"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="interactions/%Y/%m/")
    name = models.CharField(_("name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size, bytes"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


# --- Activities: planned work, assignments, reminders, birthdays, work plans -------------------


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    VISIT = "visit", _("Visit")
    EMAIL = "email", _("E-mail")
    TASK = "task", _("Task")
    EVENT = "event", _("Event")
    ASSIGNMENT = "assignment", _("Assignment")


# Completing one of these kinds logs an Interaction with this channel in the contact history.
KIND_CHANNEL: dict[str, str] = {
    ActivityKind.CALL: InteractionChannel.CALL_OUT,
    ActivityKind.MEETING: InteractionChannel.MEETING,
    ActivityKind.VISIT: InteractionChannel.VISIT,
    ActivityKind.EMAIL: InteractionChannel.EMAIL_OUT,
}


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class AssignmentState(models.TextChoices):
    """The assignee's answer to an assignment; blank for every other kind."""

    NONE = "", _("—")
    PENDING = "pending", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    DONE = "done", _("Completed")


class Recurrence(models.TextChoices):
    NONE = "", _("Does not repeat")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class ActivityQuerySet(ScopedQuerySet):
    owner_field = "assignee"

    def visibility(self, user: User) -> Q | None:
        """Scoped by assignee and team like owned records; the creator also sees what they assigned."""
        condition = super().visibility(user)
        return None if condition is None else condition | Q(created_by=user)

    def open(self) -> Self:
        return self.filter(status=ActivityStatus.PLANNED)


class Activity(BaseModel):
    """A planned call, meeting, visit, e-mail, task, event or assignment of one user.

    `starts_at` is the start of a meeting or the due moment of a task; an open activity whose end
    (or start, without an end) has passed is overdue. A recurring series is stored as one row per
    occurrence, all pointing at the first through `series`.
    """

    Kind = ActivityKind
    Status = ActivityStatus

    kind = models.CharField(_("type"), max_length=16, choices=ActivityKind, default=ActivityKind.TASK)
    subject = models.CharField(_("subject"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("start / due"))
    ends_at = models.DateTimeField(_("end"), null=True, blank=True)
    is_all_day = models.BooleanField(_("all day"), default=False)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority, default=Priority.NORMAL)
    planned_duration = models.DurationField(_("planned duration"), null=True, blank=True)
    actual_duration = models.DurationField(_("actual duration"), null=True, blank=True)
    # db_index=False here and below: the composite indexes in Meta start with these columns.
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,
    )
    # A deal, order or ticket of a higher app (contacts imports nothing above it).
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject_object = GenericForeignKey("content_type", "object_id")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    # The assignee's team when the activity was planned: a manager's calendar and plan view use it.
    team = models.ForeignKey(
        "crm.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=16, choices=ActivityStatus, default=ActivityStatus.PLANNED)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    assignment_state = models.CharField(
        _("answer"), max_length=16, choices=AssignmentState, default=AssignmentState.NONE, blank=True
    )
    response = models.TextField(_("assignee's comment"), blank=True, help_text=_("Reason for declining, or a note."))
    # Set once by the overdue-assignment task: creator and manager are told only once.
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    recurrence = models.CharField(_("repeats"), max_length=8, choices=Recurrence, default=Recurrence.NONE, blank=True)
    recurrence_until = models.DateField(_("repeat until"), null=True, blank=True)
    series = models.ForeignKey(
        "self", verbose_name=_("series"), null=True, blank=True, on_delete=models.CASCADE, related_name="occurrences"
    )
    # The history entry logged when a call, meeting, visit or e-mail is completed (once).
    interaction = models.OneToOneField(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="activity", editable=False
    )
    history = HistoricalRecords()

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ActivityKind.values), name="contacts_activity_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=ActivityStatus.values), name="contacts_activity_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="contacts_activity_ends_after_start",
                violation_error_message=_("The end cannot be before the start."),
            ),
            models.CheckConstraint(
                condition=Q(kind=ActivityKind.ASSIGNMENT, assignment_state__in=AssignmentState.values[1:])
                | (~Q(kind=ActivityKind.ASSIGNMENT) & Q(assignment_state="")),
                name="contacts_activity_assignment_state_valid",
            ),
        ]
        indexes = [
            # My day and the own calendar: one assignee's activities by time (open ones first of all).
            models.Index(fields=["assignee", "starts_at"], name="contacts_act_assignee_idx"),
            models.Index(
                fields=["assignee", "starts_at"],
                condition=Q(status=ActivityStatus.PLANNED),
                name="contacts_act_assignee_open_idx",
            ),
            # Work plans: hours of one user's completed activities in a period.
            models.Index(
                fields=["assignee", "completed_at"],
                include=["actual_duration"],  # the hours sum reads the index alone
                condition=Q(status=ActivityStatus.DONE),
                name="contacts_act_done_idx",
            ),
            # The team calendar and the manager's plan view.
            models.Index(fields=["team", "starts_at"], name="contacts_act_team_idx"),
            # My day's "waiting for your answer": one assignee's pending assignments by time (a few among
            # thousands of open activities at size L).
            models.Index(
                fields=["assignee", "starts_at"],
                condition=Q(
                    kind=ActivityKind.ASSIGNMENT,
                    status=ActivityStatus.PLANNED,
                    assignment_state=AssignmentState.PENDING,
                ),
                name="contacts_act_pending_idx",
            ),
            # Assignments I gave, and the overdue-assignment task.
            models.Index(
                fields=["created_by", "starts_at"],
                condition=Q(kind=ActivityKind.ASSIGNMENT),
                name="contacts_act_assigned_by_idx",
            ),
            models.Index(
                fields=["starts_at"],
                condition=Q(kind=ActivityKind.ASSIGNMENT, status=ActivityStatus.PLANNED, overdue_notified_at=None),
                name="contacts_act_overdue_idx",
            ),
            # The card's activity tab.
            models.Index(fields=["company", "starts_at"], name="contacts_act_company_idx"),
            models.Index(fields=["person", "starts_at"], name="contacts_act_person_idx"),
            models.Index(fields=["content_type", "object_id"], name="contacts_act_object_idx"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def due_at(self) -> datetime:
        return self.ends_at or self.starts_at

    @property
    def is_overdue(self) -> bool:
        return self.status == ActivityStatus.PLANNED and self.due_at < timezone.now()


class Reminder(BaseModel):
    """One reminder of an activity: `remind_at` = start − offset; `sent_at` is set exactly once.

    The reminder task claims due rows with SELECT … FOR UPDATE SKIP LOCKED and marks them sent in the
    same transaction as the bell notification, so two workers never send one reminder twice and a
    killed worker's claim is released with its transaction.
    """

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="reminders"
    )
    offset = models.DurationField(_("before the start"))
    remind_at = models.DateTimeField(_("remind at"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Sent after its time (the workers were down): the notification says so.
    is_late = models.BooleanField(_("sent late"), default=False)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["activity", "offset"], name="contacts_reminder_unique_offset"),
            models.CheckConstraint(
                condition=Q(offset__gte=timedelta(0)),
                name="contacts_reminder_offset_positive",
                violation_error_message=_("A reminder comes before the start."),
            ),
        ]
        indexes = [
            # The every-minute claim: due, unsent reminders only (a small partial index).
            models.Index(fields=["remind_at"], condition=Q(sent_at=None), name="contacts_reminder_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.activity} − {self.offset}"


class BirthdayNotice(models.Model):
    """A person's birthday was announced for this year: the unique key makes it exactly once."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("birthday notice")
        verbose_name_plural = _("birthday notices")
        constraints = [models.UniqueConstraint(fields=["person", "year"], name="contacts_birthdaynotice_once")]

    def __str__(self) -> str:
        return f"{self.person} {self.year}"


class CalendarFeed(BaseModel):
    """A user's secret iCal feed URL; regenerating replaces the token, so the old URL answers 404."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)


class PlanPeriod(models.TextChoices):
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")


class WorkPlanQuerySet(ScopedQuerySet):
    owner_field = "user"


class WorkPlan(BaseModel):
    """A user's targets for a week or a month; actual values are computed, never stored here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("employee"), on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    period = models.CharField(_("period"), max_length=8, choices=PlanPeriod, default=PlanPeriod.MONTH)
    starts_on = models.DateField(_("from"), help_text=_("Monday of the week or the 1st of the month."))
    calls = models.PositiveIntegerField(_("calls"), default=0)
    meetings = models.PositiveIntegerField(_("meetings"), default=0)
    visits = models.PositiveIntegerField(_("visits"), default=0)
    new_clients = models.PositiveIntegerField(_("new clients"), default=0)
    won_amount = models.DecimalField(_("won deals, UAH"), max_digits=14, decimal_places=2, default=Decimal(0))
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1, default=Decimal(0))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    objects = WorkPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("work plan")
        verbose_name_plural = _("work plans")
        constraints = [
            models.UniqueConstraint(fields=["user", "period", "starts_on"], name="contacts_workplan_one_per_period"),
            models.CheckConstraint(condition=Q(period__in=PlanPeriod.values), name="contacts_workplan_period_valid"),
            models.CheckConstraint(
                condition=Q(won_amount__gte=0) & Q(hours__gte=0), name="contacts_workplan_amounts_positive"
            ),
        ]
        indexes = [
            # The team plan page: one period of every member of a team.
            models.Index(fields=["team", "period", "starts_on"], name="contacts_workplan_team_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_period_display()} {self.starts_on:%Y-%m-%d}"


class PlanDay(models.Model):
    """Work plan actuals of one user on one local (TIME_ZONE) day: calls, meetings and visits logged by the
    user, hours spent on the user's activities completed that day.

    Kept by database triggers on contacts_interaction and contacts_activity (migration 0011), so every
    write path counts: services, admin, imports, merges, cascaded deletes, raw SQL, COPY. Plan pages sum
    a few dozen rows per person instead of counting a month of interactions (~30 ms for a team at size L).
    Days are dates in settings.TIME_ZONE as of the migration: changing TIME_ZONE means rebuilding the table.
    """

    # No foreign key constraint: the triggers write rows for any user id, also while a user is deleted;
    # no index of its own: the unique constraint starts with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    day = models.DateField()
    calls = models.IntegerField(default=0, db_default=0)
    meetings = models.IntegerField(default=0, db_default=0)
    visits = models.IntegerField(default=0, db_default=0)
    spent = models.DurationField(default=timedelta(0), db_default=timedelta(0))

    class Meta:
        constraints = [
            # Also the index of the plan pages' read: some users, a range of days.
            models.UniqueConstraint(fields=["user", "day"], name="contacts_planday_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day:%Y-%m-%d}"
