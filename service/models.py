"""Service desk: tickets with SLA deadlines, their messages (e-mail thread and internal notes), the knowledge
base, inbound mail bookkeeping and the daily rollups the service reports read.

Row access (TicketQuerySet.visible_to): service agents and managers work their team's queue (and what is
assigned to them); sales staff see the tickets of the clients they can see (read-only by permissions);
directors and administrators see everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from contacts.models import Company, Person
from crm.models import BaseModel, ChoiceDisplayMixin, Role, Scope
from deals.models import Contract, Order, Product, ServiceLevel

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from crm.models import User

# The PostgreSQL text search configuration of the knowledge base (migration 0001): `simple` with unaccent,
# since Ukrainian has no stock snowball dictionary.
SEARCH_CONFIG = "crm_simple_unaccent"


class TicketChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    PORTAL = "portal", _("Portal")
    WEB_FORM = "web_form", _("Web form")
    MESSENGER = "messenger", _("Messenger")


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting for the client")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


# Statuses in which the clock runs toward the deadlines (the queue's partial indexes hold only these).
ACTIVE_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.REOPENED)
OPEN_STATUSES = (*ACTIVE_STATUSES, TicketStatus.WAITING)
DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class TicketPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TicketCategory(BaseModel):
    """Reference data kept in the admin (billing, delivery, defect, ...)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["name"]  # backed by the unique index

    def __str__(self) -> str:
        return self.name


class SlaPolicy(BaseModel):
    """Deadlines of tickets: targets per priority (SlaTarget), counted in business hours (Europe/Kyiv,
    Mon–Fri, Ukrainian public holidays from the `holidays` package) or around the clock.

    A ticket takes the active policy of its contract's service level, else the default policy.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    service_level = models.CharField(
        _("contract service level"),
        max_length=16,
        choices=ServiceLevel,
        blank=True,
        help_text=_("Tickets under a contract of this level follow this policy; empty: tickets without one."),
    )
    is_default = models.BooleanField(_("default policy"), default=False)
    business_hours_only = models.BooleanField(
        _("business hours only"), default=True, help_text=_("Otherwise the clock runs around the clock.")
    )
    day_starts = models.TimeField(_("working day starts"), default="09:00")
    day_ends = models.TimeField(_("working day ends"), default="18:00")
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="service_sla_one_default"
            ),
            models.UniqueConstraint(
                fields=["service_level"],
                condition=Q(is_active=True) & ~Q(service_level=""),
                name="service_sla_one_per_level",
                violation_error_message=_("Another active policy already serves this contract level."),
            ),
            models.CheckConstraint(
                condition=Q(day_ends__gt=models.F("day_starts")),
                name="service_sla_day_ordered",
                violation_error_message=_("The working day must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    policy = models.ForeignKey(SlaPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(_("priority"), max_length=8, choices=TicketPriority)
    first_response_minutes = models.PositiveIntegerField(_("first answer within, minutes"))
    resolution_minutes = models.PositiveIntegerField(_("resolution within, minutes"))

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="service_slatarget_unique"),
            models.CheckConstraint(
                condition=Q(first_response_minutes__gt=0, resolution_minutes__gte=models.F("first_response_minutes")),
                name="service_slatarget_ordered",
                violation_error_message=_("The resolution target cannot be shorter than the first-answer target."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.priority}"


class TicketNumber(models.Model):
    """The last ticket number of a year: the ticket service locks the row, so numbers never repeat."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ticket number counter")
        verbose_name_plural = _("ticket number counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> Self:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        condition = self.visibility(user)
        return self if condition is None else self.filter(condition)

    def visibility(self, user: User) -> Q | None:
        """None for everything. Service agents and managers: their teams' queue, unrouted tickets and their
        own; everybody else: the tickets of the companies they see (one subquery, no OR over a join)."""
        if user.scope == Scope.ALL:
            return None
        if user.has_role(Role.SERVICE_AGENT) or user.scope == Scope.TEAM:
            queue = Q(assignee=user) | Q(team__in=user.team_ids) | Q(team__isnull=True)
            if not user.has_role(Role.SALES_REP, Role.SALES_MANAGER):
                return queue
            return queue | self._client_visible(user)
        return self._client_visible(user)

    @staticmethod
    def _client_visible(user: User) -> Q:
        # A correlated EXISTS (a primary-key probe per ticket) rather than `company IN (subquery)`: with
        # an OR the planner runs the IN as a hashed subplan over every visible company (250k at size L),
        # even for one ticket's card.
        return Q(Exists(Company.objects.visible_to(user).filter(pk=OuterRef("company_id"))))

    def open(self) -> Self:
        return self.filter(status__in=OPEN_STATUSES)


class Ticket(BaseModel):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    # Empty for mail from an unknown sender until an agent qualifies it.
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=TicketChannel, default=TicketChannel.PHONE)
    category = models.ForeignKey(
        TicketCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    priority = models.CharField(_("priority"), max_length=8, choices=TicketPriority, default=TicketPriority.NORMAL)
    subject = models.CharField(_("subject"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=TicketStatus, default=TicketStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        "crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sla_policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("SLA policy"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_response_due_at = models.DateTimeField(_("first answer due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # While waiting for the client the SLA clock stops; resuming moves the resolution deadline on.
    sla_paused_at = models.DateTimeField(_("SLA paused since"), null=True, blank=True)
    first_response_breached = models.BooleanField(_("first answer late"), default=False)
    resolution_breached = models.BooleanField(_("resolution late"), default=False)
    # Set once by the escalation task in the transaction that notifies: never escalated twice.
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True, editable=False)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # A reply to a ticket closed long ago starts a new ticket that links the old one.
    previous = models.ForeignKey(
        "self", verbose_name=_("follows ticket"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    needs_qualification = models.BooleanField(
        _("to qualify"), default=False, help_text=_("From an unknown sender: link the right company and person.")
    )
    # Replies come back to support+<number>.<reply_key>@…: the key makes the address unguessable.
    reply_key = models.CharField(max_length=16, editable=False)
    csat_rating = models.PositiveSmallIntegerField(
        _("client's rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    csat_comment = models.TextField(_("client's comment"), blank=True)
    csat_at = models.DateTimeField(_("rated"), null=True, blank=True)
    # The rating request e-mail, sent once per resolution (the task claims the ticket row and sets it).
    rating_requested_at = models.DateTimeField(_("rating requested"), null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["reply_key", "updated_at"])

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=TicketStatus.values), name="service_ticket_status_valid"),
            models.CheckConstraint(
                condition=Q(priority__in=TicketPriority.values), name="service_ticket_priority_valid"
            ),
            models.CheckConstraint(condition=Q(channel__in=TicketChannel.values), name="service_ticket_channel_valid"),
            models.CheckConstraint(
                condition=Q(csat_rating__isnull=True) | Q(csat_rating__range=(1, 5)),
                name="service_ticket_csat_range",
                violation_error_message=_("A rating is from 1 to 5."),
            ),
        ]
        indexes = [
            # The queue: open tickets by time left (resolution deadline), per team / per assignee / all.
            models.Index(
                fields=["team", "resolution_due_at", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="service_ticket_team_queue_idx",
            ),
            models.Index(
                fields=["assignee", "resolution_due_at", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="service_ticket_mine_queue_idx",
            ),
            models.Index(
                fields=["resolution_due_at", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="service_ticket_queue_idx",
            ),
            # Escalation (every 5 minutes): active tickets not yet escalated, by the nearer deadline.
            models.Index(
                fields=["first_response_due_at"],
                condition=Q(status__in=ACTIVE_STATUSES, escalated_at__isnull=True, first_responded_at__isnull=True),
                name="service_ticket_first_due_idx",
            ),
            models.Index(
                fields=["resolution_due_at"],
                condition=Q(status__in=ACTIVE_STATUSES, escalated_at__isnull=True),
                name="service_ticket_res_due_idx",
            ),
            # Every ticket, newest first, with or without a status (closed tickets are most of the table).
            models.Index(fields=["status", "-id"], name="service_ticket_status_idx"),
            models.Index(fields=["team", "-id"], name="service_ticket_team_idx"),
            models.Index(fields=["assignee", "-id"], name="service_ticket_assignee_idx"),
            # The company / person card's "Tickets" tab and the rep's scope (tickets of visible companies).
            models.Index(fields=["company", "-id"], name="service_ticket_company_idx"),
            models.Index(fields=["person", "-id"], name="service_ticket_person_idx"),
            GinIndex(OpClass(Upper("subject"), name="gin_trgm_ops"), name="service_ticket_subj_trgm_idx"),
            # The rollup task reads one day's resolved / created tickets.
            models.Index(fields=["resolved_at"], name="service_ticket_resolved_idx"),
            models.Index(fields=["created_at"], name="service_ticket_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_breached(self) -> bool:
        return self.first_response_breached or self.resolution_breached


class TicketStatusChange(ChoiceDisplayMixin, models.Model):
    """The ticket's status timeline, written by the services in the same transaction as the change."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=TicketStatus, blank=True)
    to_status = models.CharField(max_length=16, choices=TicketStatus)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()
    comment = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("ticket status change")
        verbose_name_plural = _("ticket status changes")
        indexes = [models.Index(fields=["ticket", "changed_at"], name="service_statchange_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_status} → {self.to_status}"


class MessageKind(models.TextChoices):
    INBOUND = "inbound", _("From the client")
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")


class TicketMessage(ChoiceDisplayMixin, models.Model):
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=8, choices=MessageKind)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    person = models.ForeignKey(
        Person, verbose_name=_("client"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_email = models.EmailField(_("from"), blank=True)
    # Sanitised by nh3 in the service; `body_text` is the plain-text part sent and searched.
    body_html = models.TextField(_("text"))
    body_text = models.TextField(_("plain text"), blank=True)
    # The e-mail's Message-ID (inbound, and outbound once generated): threads replies.
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("written"), db_index=False)
    # A public reply is e-mailed once: the send task claims the row and sets this.
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MessageKind.values), name="service_message_kind_valid"),
            models.UniqueConstraint(
                fields=["message_id"], condition=~Q(message_id=""), name="service_message_message_id_unique"
            ),
        ]
        indexes = [
            # The ticket card's thread, oldest first.
            models.Index(fields=["ticket", "created_at", "id"], name="service_message_thread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.kind}"


class TicketAttachment(BaseModel):
    message = models.ForeignKey(
        TicketMessage, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="tickets/%Y/%m/")
    name = models.CharField(_("name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size, bytes"))

    class Meta:
        verbose_name = _("ticket attachment")
        verbose_name_plural = _("ticket attachments")
        indexes = [models.Index(fields=["message"], name="service_attachment_message_idx")]

    def __str__(self) -> str:
        return self.name


class Escalation(models.Model):
    """One notice of a breached ticket to one recipient: the unique pair makes each notice go out once."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [models.UniqueConstraint(fields=["ticket", "recipient"], name="service_escalation_once")]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.recipient_id}"


class InboundOutcome(models.TextChoices):
    TICKET = "ticket", _("New ticket")
    REPLY = "reply", _("Added to a ticket")
    AUTO_REPLY = "auto_reply", _("Auto-reply, ignored")
    LOOP = "loop", _("Mail loop, ignored")
    BOUNCE = "bounce", _("Bounce, ignored")


class InboundEmail(models.Model):
    """Every message read from the service mailbox, once: the unique Message-ID makes a second read a no-op."""

    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    mailbox_uid = models.PositiveBigIntegerField(_("IMAP UID"), null=True, blank=True)
    from_email = models.CharField(_("from"), max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=InboundOutcome)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    received_at = models.DateTimeField(_("read"))

    class Meta:
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mails")
        indexes = [models.Index(fields=["-received_at"], name="service_inbound_received_idx")]

    def __str__(self) -> str:
        return self.message_id


class MailboxState(models.Model):
    """Where the IMAP reader stopped and how the last attempt went (shown on /health/)."""

    name = models.CharField(max_length=100, unique=True)
    uidvalidity = models.PositiveBigIntegerField(null=True, blank=True)
    last_uid = models.PositiveBigIntegerField(default=0)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("mailbox state")
        verbose_name_plural = _("mailbox states")

    def __str__(self) -> str:
        return self.name


# --- knowledge base -------------------------------------------------------------------------------------


class ArticleQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> Self:
        """Staff read every article (internal ones too); anonymous and portal readers only public ones."""
        if user.is_authenticated and user.is_active:
            return self
        return self.public()

    def public(self) -> Self:
        return self.filter(is_public=True, is_published=True)


class KnowledgeArticle(BaseModel):
    title_uk = models.CharField(_("title (Ukrainian)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    problem_uk = models.TextField(_("problem (Ukrainian)"))
    problem_en = models.TextField(_("problem (English)"), blank=True)
    symptoms_uk = models.TextField(_("symptoms (Ukrainian)"), blank=True)
    symptoms_en = models.TextField(_("symptoms (English)"), blank=True)
    solution_uk = models.TextField(_("solution (Ukrainian)"))
    solution_en = models.TextField(_("solution (English)"), blank=True)
    category = models.ForeignKey(
        TicketCategory, verbose_name=_("category"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    products = models.ManyToManyField(Product, verbose_name=_("products"), blank=True, related_name="+")
    is_public = models.BooleanField(_("public"), default=False, help_text=_("Public articles are shown to clients."))
    is_published = models.BooleanField(_("published"), default=True)
    solved_count = models.PositiveIntegerField(_("solved tickets"), default=0, editable=False)
    # Kept by the article service: both languages, titles weighted A, problem and symptoms B, solution C.
    search_vector = SearchVectorField(null=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["search_vector", "solved_count"])

    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("knowledge base article")
        verbose_name_plural = _("knowledge base articles")
        indexes = [
            GinIndex(fields=["search_vector"], name="service_article_search_idx"),
            # Typos: trigram similarity on the titles.
            GinIndex(OpClass(Upper("title_uk"), name="gin_trgm_ops"), name="service_art_title_uk_trgm_idx"),
            GinIndex(OpClass(Upper("title_en"), name="gin_trgm_ops"), name="service_art_title_en_trgm_idx"),
            models.Index(fields=["-solved_count", "id"], name="service_article_popular_idx"),
        ]

    def __str__(self) -> str:
        return self.title_uk


class ArticleUse(models.Model):
    """ "This solved it" for one ticket: the unique pair counts an article once per ticket."""

    article = models.ForeignKey(KnowledgeArticle, on_delete=models.CASCADE, related_name="uses")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="article_uses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("article use")
        verbose_name_plural = _("article uses")
        constraints = [models.UniqueConstraint(fields=["article", "ticket"], name="service_articleuse_once")]

    def __str__(self) -> str:
        return f"{self.article_id} @ {self.ticket_id}"


# --- reports --------------------------------------------------------------------------------------------


class ServiceDailyRollup(models.Model):
    """One day × team × agent × category × product of service work, computed by Celery (service.reports).

    Medians cannot be summed, so the day's minutes to first answer and to resolution are kept as arrays:
    the report's median over a period is percentile_cont over the unnested arrays of its rows.
    """

    day = models.DateField(_("day"))
    team = models.ForeignKey("crm.Team", null=True, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(TicketCategory, null=True, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, null=True, on_delete=models.CASCADE, related_name="+")
    created = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    sla_kept = models.PositiveIntegerField(default=0)  # of `resolved`: no deadline missed
    reopened = models.PositiveIntegerField(default=0)
    csat_count = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    first_response_minutes = ArrayField(models.PositiveIntegerField(), default=list)
    resolution_minutes = ArrayField(models.PositiveIntegerField(), default=list)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("service daily rollup")
        verbose_name_plural = _("service daily rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "team", "agent", "category", "product"],
                nulls_distinct=False,
                name="service_rollup_unique",
            ),
        ]
        indexes = [models.Index(fields=["day"], name="service_rollup_day_idx")]

    def __str__(self) -> str:
        return f"{self.day}"
