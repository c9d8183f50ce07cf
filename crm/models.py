"""Core models: users, teams, roles, notifications and the row-level access mechanism."""

from __future__ import annotations

from functools import cache, cached_property
from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


@cache
def _choice_labels(field: models.Field) -> dict:
    return dict(field.flatchoices)


class ChoiceDisplayMixin:
    """`get_FOO_display()` from a dict built once per field.

    Django's own builds a dict of every choice on each call and hashes each lazy label, which
    translates it: ~0.1 ms a call, the largest single cost of a 50-row list page.
    """

    def _get_FIELD_display(self, field: models.Field) -> str:
        value = getattr(self, field.attname)
        try:
            label = _choice_labels(field).get(value, value)
        except TypeError:  # an unhashable value (a list, a dict) is its own label, as in Django
            label = value
        return force_str(label, strings_only=True)


class BaseModel(ChoiceDisplayMixin, models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class Role(models.TextChoices):
    """Roles are auth Groups named by these values (created by migration 0002)."""

    SALES_REP = "sales_representative", _("Sales representative")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    MARKETING = "marketing", _("Marketing")
    SERVICE_AGENT = "service_agent", _("Service agent")
    PROCUREMENT = "procurement", _("Procurement")
    DIRECTOR = "director", _("Director")
    ADMINISTRATOR = "administrator", _("Administrator")


class Scope(models.IntegerChoices):
    """How much of the owned data a user sees; a user with several roles gets the widest."""

    OWN = 1, _("own records")
    TEAM = 2, _("team records")
    ALL = 3, _("all records")


ROLE_SCOPE: dict[str, Scope] = {
    Role.SALES_REP: Scope.OWN,
    Role.SALES_MANAGER: Scope.TEAM,
    Role.MARKETING: Scope.OWN,
    Role.SERVICE_AGENT: Scope.OWN,
    Role.PROCUREMENT: Scope.OWN,
    Role.DIRECTOR: Scope.ALL,
    Role.ADMINISTRATOR: Scope.ALL,
}


class ScopedQuerySet(models.QuerySet):
    """Row-level access for owned records: the one place that decides who sees what.

    Subclasses name their fields; every staff list and detail starts from `visible_to(user)`:
    a representative sees own records (plus team records flagged as shared, when the model has
    such a flag), a manager sees the records of the teams they belong to or manage, a director
    or administrator sees everything.
    """

    owner_field = "owner"
    team_field = "team"
    shared_field: str | None = None

    def visible_to(self, user: User | AnonymousUser) -> Self:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        condition = self.visibility(user)
        return self if condition is None else self.filter(condition)

    def visibility(self, user: User) -> Q | None:
        """The condition `visible_to` applies; None means everything (director, administrator)."""
        scope = user.scope
        if scope == Scope.ALL:
            return None
        visible = Q(**{self.owner_field: user})
        if scope == Scope.TEAM:
            visible |= Q(**{f"{self.team_field}__in": user.team_ids})
        elif self.shared_field and user.team_id:
            visible |= Q(**{self.team_field: user.team_id, self.shared_field: True})
        return visible


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, email: str | None) -> User:
        # Case-insensitive login; the unique constraint on Lower(email) makes this exact.
        return self.get(email__iexact=email)

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class TeamQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> Self:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.scope == Scope.ALL:
            return self
        return self.filter(pk__in=user.team_ids)


class Team(BaseModel):
    name = models.CharField(_("name"), max_length=150, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    share_birthdays = models.BooleanField(
        _("announce clients' birthdays to the whole team"),
        default=False,
        help_text=_("Otherwise only the contact's owner is told."),
    )
    history = HistoricalRecords()

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]  # backed by the unique index on name

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    email_notifications = models.BooleanField(
        _("e-mail notifications"), default=True, help_text=_("Also send notifications by e-mail.")
    )
    # E-mails due in these hours (Europe/Kyiv) wait until the end; the bell still shows them.
    quiet_hours_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_hours_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("can use the admin site"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="crm_user_email_ci_unique"),
            models.CheckConstraint(
                condition=Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="crm_user_language_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @cached_property
    def roles(self) -> frozenset[str]:
        from crm.access import roles_of

        return roles_of(self)

    @property
    def role_labels(self) -> list[str]:
        return [Role(role).label for role in sorted(self.roles) if role in Role.values]

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.roles.intersection(roles))

    @cached_property
    def scope(self) -> Scope:
        if self.is_superuser:
            return Scope.ALL
        return max((ROLE_SCOPE.get(role, Scope.OWN) for role in self.roles), default=Scope.OWN)

    @cached_property
    def team_ids(self) -> frozenset[int]:
        """The user's own team and every team they manage."""
        from crm.access import team_ids_of

        return team_ids_of(self)


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> Self:
        # Notifications are personal: nobody, not even a director, reads another user's.
        if not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> Self:
        return self.filter(read_at__isnull=True)


class Notification(BaseModel):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    # A free slug, not choices: each app adds its kinds (reminder, assignment, birthday, ...).
    kind = models.SlugField(_("kind"), max_length=32, default="system")
    title = models.CharField(_("title"), max_length=255)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # notification_list: keyset pagination of one user's notifications, newest first.
            models.Index(fields=["recipient", "-id"], name="crm_notification_list_idx"),
            # The bell: unread count of one user, read on every page.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="crm_notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationKind(models.TextChoices):
    """Kinds a user can tune; other kinds (system, import, ...) follow the user's e-mail switch."""

    REMINDER = "reminder", _("Reminders")
    ASSIGNMENT = "assignment", _("Assignments")
    BIRTHDAY = "birthday", _("Birthdays")
    ORDER = "order", _("Order status changes")
    CONTRACT = "contract", _("Expiring contracts")
    TICKET = "ticket", _("Tickets assigned to me")
    ESCALATION = "escalation", _("SLA breaches")


class NotificationPreference(models.Model):
    """How one user wants one kind of notification: in the bell, by e-mail, or both."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notification_prefs"
    )
    kind = models.SlugField(_("kind"), max_length=32, choices=NotificationKind)
    in_app = models.BooleanField(_("in the bell"), default=True)
    by_email = models.BooleanField(_("by e-mail"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="crm_notificationpref_unique")]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind}"


class IntegrationTokenQuerySet(models.QuerySet):
    def active(self) -> Self:
        return self.filter(revoked_at__isnull=True)


class IntegrationToken(BaseModel):
    """A secret for a machine client (e.g. the phone system); it acts with `user`'s visibility.

    Only a SHA-256 hash is stored: the key is shown once, when the administrator creates it.
    """

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acts as"),
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The token sees exactly what this user sees."),
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    objects = IntegrationTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("integration token")
        verbose_name_plural = _("integration tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Job(BaseModel):
    """A long import or export run by Celery; the UI polls its progress and downloads its file."""

    Status = JobStatus

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="jobs"
    )
    kind = models.SlugField(_("kind"), max_length=32)
    status = models.CharField(_("status"), max_length=16, choices=JobStatus, default=JobStatus.PENDING)
    progress = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    file = models.FileField(_("file"), upload_to="jobs/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [models.Index(fields=["owner", "-id"], name="crm_job_owner_idx")]
        constraints = [models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="crm_job_status_valid")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def percent(self) -> int:
        return min(100, self.progress * 100 // self.total) if self.total else 0
