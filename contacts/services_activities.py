"""Writes of activities (issue 5): plan, edit, reschedule, snooze, complete and cancel; assignments; congratulations.

Every function is atomic; read-modify-write paths lock the activity row first
(`SELECT … FOR NO KEY UPDATE`), so a double click or two tabs never log an interaction twice or
answer an assignment twice. django-simple-history records each write with the actor as its user.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dateutil import rrule
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from contacts.models import (
    KIND_CHANNEL,
    Activity,
    ActivityKind,
    ActivityStatus,
    AssignmentState,
    Channel,
    Company,
    Direction,
    InteractionChannel,
    Person,
    Priority,
    Recurrence,
    Reminder,
)
from contacts.selectors import assignable_owners
from contacts.services import interaction_log
from crm.models import Scope, User
from crm.services import notify

# A series is materialised as rows: five years of a daily activity is ~1,800 rows, the most we write at once.
MAX_RECURRENCE = relativedelta(years=5)
YEARS = (1900, 2999)  # a start outside is a typo; it would also overflow start − reminder offset
RRULE_FREQ = {Recurrence.DAILY: rrule.DAILY, Recurrence.WEEKLY: rrule.WEEKLY, Recurrence.MONTHLY: rrule.MONTHLY}
OUTBOUND_CHANNELS = {InteractionChannel.CALL_OUT, InteractionChannel.EMAIL_OUT}
# Fields `activity_update` may change (a series' recurrence is fixed when it is planned).
EDITABLE = (
    "kind", "subject", "description", "starts_at", "ends_at", "is_all_day", "priority", "planned_duration",
    "company", "person", "assignee",
)  # fmt: skip


class Snooze(models.TextChoices):
    MINUTES_15 = "15m", gettext_lazy("15 minutes")
    HOUR = "1h", gettext_lazy("1 hour")
    TOMORROW = "tomorrow", gettext_lazy("Tomorrow")


# --- permission ----------------------------------------------------------------------------------------


def activity_can_change(*, activity: Activity, user: User) -> bool:
    """The assignee, the creator, or a manager / director who sees the activity may change it."""
    if not user.is_authenticated or not user.is_active or not user.has_perm("contacts.change_activity"):
        return False
    if user.pk in (activity.assignee_id, activity.created_by_id):
        return True
    return user.scope >= Scope.TEAM and Activity.objects.visible_to(user).filter(pk=activity.pk).exists()


def _locked(activity: Activity, actor: User) -> Activity:
    """The activity re-read under a row lock; PermissionDenied when the actor may not change it."""
    locked = (
        Activity.objects.select_for_update(no_key=True, of=("self",))
        .select_related("assignee", "created_by", "company", "person")
        .get(pk=activity.pk)
    )
    if not activity_can_change(activity=locked, user=actor):
        raise PermissionDenied
    return locked


def _check_open(activity: Activity) -> None:
    if activity.status != ActivityStatus.PLANNED:
        raise ValidationError(_("This activity is already completed or cancelled."))


def _save(activity: Activity, actor: User, fields: Iterable[str] | None = None) -> None:
    activity._history_user = actor  # type: ignore[attr-defined]  # read by django-simple-history
    activity.full_clean()
    if fields is None:
        activity.save()
    else:
        activity.save(update_fields=[*fields, "updated_at"])


def _url(activity: Activity) -> str:
    return reverse("contacts:activity-detail", args=[activity.pk])


# --- validation ----------------------------------------------------------------------------------------


def _validate(
    *,
    actor: User,
    values: dict[str, Any],
    reminder_offsets: Iterable[timedelta],
    recurrence: str = "",
    recurrence_until: date | None = None,
    references: Iterable[str] = ("assignee", "company", "person"),
) -> None:
    """Every rule of a planned activity at once, as one ValidationError keyed by field.

    `references`: which of assignee, company and person to check against the actor's access (an edit
    checks only the ones it changes).
    """
    errors: dict[str, str] = {}
    starts_at: datetime = values["starts_at"]
    ends_at: datetime | None = values["ends_at"]
    errors.update(_time_errors(starts_at, ends_at))
    if any(offset < timedelta(0) for offset in reminder_offsets):
        errors["reminders"] = _("A reminder must come before the start, not after it.")
    if recurrence:
        start_day = timezone.localdate(starts_at, timezone.get_default_timezone())
        if recurrence not in RRULE_FREQ:
            errors["recurrence"] = _("Choose daily, weekly or monthly.")
        elif recurrence_until is None:
            errors["recurrence_until"] = _("Choose the date the repetition ends.")
        elif recurrence_until < start_day:
            errors["recurrence_until"] = _("The repetition cannot end before the first date.")
        elif recurrence_until > start_day + MAX_RECURRENCE:
            errors["recurrence_until"] = _("A repetition can last at most 5 years.")
    errors.update(_reference_errors(actor, values, set(references)))
    if errors:
        raise ValidationError(errors)


def _time_errors(starts_at: datetime, ends_at: datetime | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is not None and not YEARS[0] <= value.year <= YEARS[1]:
            errors[name] = _("Choose a date between %(first)d and %(last)d.") % {"first": YEARS[0], "last": YEARS[1]}
    if ends_at is not None and ends_at < starts_at:
        errors["ends_at"] = _("The end cannot be before the start.")
    return errors


def _reference_errors(actor: User, values: dict[str, Any], check: set[str]) -> dict[str, str]:
    """The assignee must be active and in the actor's team; company and person visible and matching."""
    assignee: User = values["assignee"]
    company: Company | None = values["company"]
    person: Person | None = values["person"]
    delegated = assignee.pk != actor.pk
    errors: dict[str, str] = {}
    if "assignee" in check and not assignee.is_active:
        errors["assignee"] = _("%(user)s is no longer active; choose someone else.") % {"user": assignee}
    elif "assignee" in check and delegated and not assignable_owners(actor).filter(pk=assignee.pk).exists():
        errors["assignee"] = _("You can assign work only to people of your team.")
    if company is not None and "company" in check and not _sees(actor, company):
        errors["company"] = _("Choose a company from your list.")
    # Completing logs the contact as the assignee, who must see the client.
    if (
        check & {"assignee", "company"}
        and company is not None
        and delegated
        and not errors
        and not _sees(assignee, company)
    ):
        errors["assignee"] = _("%(user)s cannot see %(company)s: share the company or choose someone else.") % {
            "user": assignee,
            "company": company,
        }
    if person is not None and "person" in check and not _sees(actor, person):
        errors["person"] = _("Choose a person from your list.")
    elif person is not None and company is not None and person.company_id != company.pk and check - {"assignee"}:
        errors["person"] = _("This person does not work for %(company)s.") % {"company": company}
    return errors


def _sees(user: User, record: Company | Person) -> bool:
    return type(record).objects.visible_to(user).filter(pk=record.pk).exists()


def _default_company(actor: User, company: Company | None, person: Person | None) -> Company | None:
    """A person's company when none is chosen (and the actor sees it): completing then logs the contact."""
    if company is None and person is not None and person.company_id:
        return Company.objects.visible_to(actor).filter(pk=person.company_id).first()
    return company


# --- reminders and series ------------------------------------------------------------------------------


def _reminders(activity: Activity, offsets: Iterable[timedelta]) -> list[Reminder]:
    # In UTC: arithmetic on a Kyiv-aware datetime is wall-clock arithmetic, an hour off on DST days.
    starts_at = activity.starts_at.astimezone(UTC)
    return [Reminder(activity=activity, offset=offset, remind_at=starts_at - offset) for offset in offsets]


def _set_reminders(activity: Activity, offsets: Iterable[timedelta]) -> None:
    """Keep the reminders with these offsets (unsent ones follow the start), drop the others, add the new ones."""
    wanted = set(offsets)
    activity.reminders.exclude(offset__in=wanted).delete()
    _move_reminders(activity)
    existing = set(activity.reminders.values_list("offset", flat=True))
    Reminder.objects.bulk_create(_reminders(activity, sorted(wanted - existing)))


def _move_reminders(activity: Activity) -> None:
    # A plain UPDATE … WHERE sent_at IS NULL: a reminder the sender has claimed (locked) is waited for and,
    # once sent, skipped, so a sent reminder is never moved back into the queue.
    activity.reminders.filter(sent_at=None).update(remind_at=Value(activity.starts_at) - F("offset"))


def _occurrence_starts(starts_at: datetime, recurrence: str, until: date) -> list[datetime]:
    """Starts after the first, generated in Europe/Kyiv wall-clock time: 09:00 stays 09:00 across DST."""
    zone = timezone.get_default_timezone()
    local = timezone.localtime(starts_at, zone)
    rule = rrule.rrule(
        RRULE_FREQ[recurrence], dtstart=local.replace(tzinfo=None), until=datetime.combine(until, time.max)
    )
    return [moment.replace(tzinfo=zone) for moment in list(rule)[1:]]


def _materialise_series(first: Activity, actor: User, offsets: list[timedelta]) -> None:
    first.series = first
    _save(first, actor, ["series"])
    assert first.recurrence_until is not None
    duration = first.ends_at - first.starts_at if first.ends_at else None
    rows = []
    for start in _occurrence_starts(first.starts_at, first.recurrence, first.recurrence_until):
        row = Activity(
            **{field.attname: getattr(first, field.attname) for field in Activity._meta.concrete_fields},
        )
        row.pk = row.id = None
        row.starts_at = start
        row.ends_at = start + duration if duration is not None else None
        rows.append(row)
    created = bulk_create_with_history(rows, Activity, default_user=actor)
    Reminder.objects.bulk_create([r for row in created for r in _reminders(row, offsets)])


# --- notifications -------------------------------------------------------------------------------------


def _tell(recipient: User, actor: User, activity: Activity, title: Any, body: Any = "") -> None:
    if recipient.pk != actor.pk:
        notify(recipient=recipient, title=title, body=body, url=_url(activity), kind="assignment")


def _tell_assignee(activity: Activity, actor: User) -> None:
    title = format_lazy(gettext_lazy("New assignment from {actor}: {subject}"), actor=actor, subject=activity.subject)
    _tell(activity.assignee, actor, activity, title, activity.description)


# --- plan and edit -------------------------------------------------------------------------------------


@transaction.atomic
def activity_create(
    *,
    actor: User,
    kind: str,
    subject: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    is_all_day: bool = False,
    description: str = "",
    priority: str = Priority.NORMAL,
    planned_duration: timedelta | None = None,
    company: Company | None = None,
    person: Person | None = None,
    assignee: User | None = None,
    reminder_offsets: Iterable[timedelta] = (),
    recurrence: str = "",
    recurrence_until: date | None = None,
    content_object: models.Model | None = None,
) -> Activity:
    """Plan an activity for `assignee` (default: the actor), with reminders and an optional series.

    Raises ValidationError keyed by field (ends_at, reminders, recurrence_until, assignee, company,
    person); PermissionDenied for a user without the right to plan work. An assignment waits for
    the assignee's answer, who is notified.
    """
    if not actor.has_perm("contacts.add_activity"):
        raise PermissionDenied
    offsets = sorted(set(reminder_offsets))
    values: dict[str, Any] = {
        "kind": kind,
        "subject": subject.strip(),
        "description": description,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "is_all_day": is_all_day,
        "priority": priority,
        "planned_duration": planned_duration,
        "company": _default_company(actor, company, person),
        "person": person,
        "assignee": assignee or actor,
    }
    _validate(
        actor=actor, values=values, reminder_offsets=offsets, recurrence=recurrence, recurrence_until=recurrence_until
    )
    activity = Activity(
        **values,
        created_by=actor,
        team=values["assignee"].team,
        assignment_state=AssignmentState.PENDING if kind == ActivityKind.ASSIGNMENT else AssignmentState.NONE,
        recurrence=recurrence,
        recurrence_until=recurrence_until if recurrence else None,
    )
    if content_object is not None:
        activity.subject_object = content_object
    _save(activity, actor)
    Reminder.objects.bulk_create(_reminders(activity, offsets))
    if recurrence:
        _materialise_series(activity, actor, offsets)
    if kind == ActivityKind.ASSIGNMENT:
        _tell_assignee(activity, actor)
    return activity


@transaction.atomic
def activity_update(
    *, activity: Activity, actor: User, reminder_offsets: Iterable[timedelta] | None = None, **changes: Any
) -> Activity:
    """Change a planned activity (this occurrence only); unsent reminders follow a new start.

    `changes` are fields of EDITABLE. A new assignee of an assignment must answer it again and is
    notified. Raises like activity_create; ValidationError for a completed or cancelled activity.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"activity_update() cannot change {sorted(unknown)}")
    activity = _locked(activity, actor)
    _check_open(activity)
    values = {name: getattr(activity, name) for name in EDITABLE} | changes
    values["company"] = _default_company(actor, values["company"], values["person"])
    offsets = sorted(set(reminder_offsets)) if reminder_offsets is not None else None
    changed = [name for name in ("assignee", "company", "person") if values[name] != getattr(activity, name)]
    _validate(actor=actor, values=values, reminder_offsets=offsets or (), references=changed)
    old_assignee, old_kind = activity.assignee_id, activity.kind
    for name, value in values.items():
        setattr(activity, name, value)
    if activity.assignee_id != old_assignee:
        activity.team = activity.assignee.team
    newly_assigned = activity.kind == ActivityKind.ASSIGNMENT and (
        old_kind != ActivityKind.ASSIGNMENT or activity.assignee_id != old_assignee
    )
    if newly_assigned:
        activity.assignment_state, activity.response = AssignmentState.PENDING, ""
    elif activity.kind != ActivityKind.ASSIGNMENT:
        activity.assignment_state = AssignmentState.NONE
    _save(activity, actor)
    if offsets is not None:
        _set_reminders(activity, offsets)
    else:
        _move_reminders(activity)
    if newly_assigned:
        _tell_assignee(activity, actor)
    return activity


@transaction.atomic
def activity_reschedule(
    *, activity: Activity, actor: User, starts_at: datetime, ends_at: datetime | None = None
) -> Activity:
    """Move a planned activity; without `ends_at` it keeps its duration. Unsent reminders move with it.

    Raises PermissionDenied when the actor may not change it; ValidationError (ends_at) for an end
    before the start, or for a completed or cancelled activity.
    """
    activity = _locked(activity, actor)
    _check_open(activity)
    if ends_at is None and activity.ends_at is not None and YEARS[0] <= starts_at.year <= YEARS[1]:
        ends_at = starts_at + (activity.ends_at - activity.starts_at)
    errors = _time_errors(starts_at, ends_at)
    if errors:
        raise ValidationError(errors)
    activity.starts_at, activity.ends_at = starts_at, ends_at
    _save(activity, actor, ["starts_at", "ends_at"])
    _move_reminders(activity)
    return activity


def snooze_target(activity: Activity, by: str, now: datetime | None = None) -> datetime:
    """Where a snooze moves the start: 15 minutes or an hour from now (or from a later start), or tomorrow."""
    now = now or timezone.now()
    if by == Snooze.MINUTES_15:
        return max(now, activity.starts_at) + timedelta(minutes=15)
    if by == Snooze.HOUR:
        return max(now, activity.starts_at) + timedelta(hours=1)
    if by == Snooze.TOMORROW:
        zone = timezone.get_default_timezone()
        tomorrow = timezone.localdate(now, zone) + timedelta(days=1)
        return datetime.combine(tomorrow, timezone.localtime(activity.starts_at, zone).time(), tzinfo=zone)
    raise ValidationError({"by": _("Choose 15 minutes, 1 hour or tomorrow.")})


@transaction.atomic
def activity_snooze(*, activity: Activity, actor: User, by: str, now: datetime | None = None) -> Activity:
    """Put a planned activity off by `by` (a Snooze value); raises like activity_reschedule."""
    activity = _locked(activity, actor)  # the target is computed from the current start, not a stale copy
    return activity_reschedule(activity=activity, actor=actor, starts_at=snooze_target(activity, by, now))


# --- complete and cancel -------------------------------------------------------------------------------


def _complete(activity: Activity, actor: User, result: str, actual_duration: timedelta | None) -> Activity:
    """Mark done (the row is locked); log the contact once for a call, meeting, visit or e-mail with a company."""
    now = timezone.now()
    activity.status, activity.completed_at = ActivityStatus.DONE, now
    activity.result, activity.actual_duration = result, actual_duration
    fields = ["status", "completed_at", "result", "actual_duration"]
    channel = KIND_CHANNEL.get(activity.kind)
    if channel and activity.company_id and activity.interaction_id is None:
        activity.interaction = interaction_log(
            actor=actor,
            company=activity.company,
            person=activity.person,
            channel=channel,
            direction=Direction.OUTBOUND if channel in OUTBOUND_CHANNELS else Direction.NONE,
            subject=activity.subject,
            occurred_at=now,
            duration=actual_duration,
            body=result,
            related=activity.subject_object if activity.content_type_id else None,
        )
        fields.append("interaction")
    if activity.kind == ActivityKind.ASSIGNMENT:
        activity.assignment_state, activity.response = AssignmentState.DONE, result
        fields += ["assignment_state", "response"]
    _save(activity, actor, fields)
    activity.reminders.filter(sent_at=None).delete()  # nothing to remind of any more
    if activity.kind == ActivityKind.ASSIGNMENT:
        title = format_lazy(
            gettext_lazy("{actor} completed the assignment: {subject}"), actor=actor, subject=activity.subject
        )
        _tell(activity.created_by, actor, activity, title, result)
    return activity


@transaction.atomic
def activity_complete(
    *, activity: Activity, actor: User, result: str = "", actual_duration: timedelta | None = None
) -> Activity:
    """Mark an activity done; a call, meeting, visit or e-mail with a company is logged in the contact history.

    Completing a done activity again changes nothing (and logs nothing). Raises PermissionDenied when
    the actor may not change it; ValidationError for a cancelled activity or a negative duration.
    """
    activity = _locked(activity, actor)
    if activity.status == ActivityStatus.DONE:
        return activity
    _check_open(activity)
    if actual_duration is not None and actual_duration < timedelta(0):
        raise ValidationError({"actual_duration": _("The duration cannot be negative.")})
    return _complete(activity, actor, result.strip(), actual_duration)


@transaction.atomic
def activity_cancel(*, activity: Activity, actor: User) -> Activity:
    """Cancel a planned activity and its unsent reminders; the assignee of an assignment is told."""
    activity = _locked(activity, actor)
    if activity.status == ActivityStatus.CANCELLED:
        return activity
    _check_open(activity)
    activity.status = ActivityStatus.CANCELLED
    _save(activity, actor, ["status"])
    activity.reminders.filter(sent_at=None).delete()
    if activity.kind == ActivityKind.ASSIGNMENT:
        title = format_lazy(gettext_lazy("The assignment is cancelled: {subject}"), subject=activity.subject)
        _tell(activity.assignee, actor, activity, title)
    return activity


# --- assignments: the assignee's answers ---------------------------------------------------------------


def _answerable(activity: Activity, actor: User, states: Iterable[str]) -> Activity:
    """The locked assignment, when the actor is its assignee and it is in one of `states`."""
    activity = _locked(activity, actor)
    if activity.kind != ActivityKind.ASSIGNMENT or activity.assignee_id != actor.pk:
        raise PermissionDenied
    if activity.status != ActivityStatus.PLANNED:
        raise ValidationError(_("This assignment is already closed."))
    if activity.assignment_state not in states:
        raise ValidationError(
            _("This assignment is already answered: %(state)s.") % {"state": activity.get_assignment_state_display()}
        )
    return activity


@transaction.atomic
def assignment_accept(*, activity: Activity, actor: User) -> Activity:
    """The assignee takes the assignment; the creator is notified. PermissionDenied for anyone else."""
    activity = _answerable(activity, actor, [AssignmentState.PENDING])
    activity.assignment_state = AssignmentState.ACCEPTED
    _save(activity, actor, ["assignment_state"])
    title = format_lazy(
        gettext_lazy("{actor} accepted the assignment: {subject}"), actor=actor, subject=activity.subject
    )
    _tell(activity.created_by, actor, activity, title)
    return activity


@transaction.atomic
def assignment_decline(*, activity: Activity, actor: User, reason: str) -> Activity:
    """The assignee refuses, with a reason (required); the assignment is closed and the creator notified."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why you decline the assignment.")})
    activity = _answerable(activity, actor, [AssignmentState.PENDING, AssignmentState.ACCEPTED])
    activity.assignment_state, activity.response = AssignmentState.DECLINED, reason.strip()
    activity.status = ActivityStatus.CANCELLED  # off every "open" list; the state tells why
    _save(activity, actor, ["assignment_state", "response", "status"])
    activity.reminders.filter(sent_at=None).delete()
    title = format_lazy(
        gettext_lazy("{actor} declined the assignment: {subject}"), actor=actor, subject=activity.subject
    )
    _tell(activity.created_by, actor, activity, title, activity.response)
    return activity


@transaction.atomic
def assignment_complete(
    *, activity: Activity, actor: User, comment: str = "", actual_duration: timedelta | None = None
) -> Activity:
    """The assignee reports the assignment done (accepting it on the way); the creator is notified."""
    activity = _answerable(activity, actor, [AssignmentState.PENDING, AssignmentState.ACCEPTED])
    return _complete(activity, actor, comment.strip(), actual_duration)


# --- birthdays -----------------------------------------------------------------------------------------


@transaction.atomic
def birthday_congratulate(*, person: Person, actor: User) -> Activity:
    """Plan today's congratulation of `person` for the person's owner: a call, or an e-mail when they prefer e-mail.

    Clicking twice returns the activity planned the first time. Raises PermissionDenied when the
    actor does not see the person (or may not plan work), ValidationError like activity_create.
    """
    if not Person.objects.visible_to(actor).filter(pk=person.pk).exists():
        raise PermissionDenied
    kind = ActivityKind.EMAIL if person.preferred_channel == Channel.EMAIL else ActivityKind.CALL
    zone = timezone.get_default_timezone()
    today = timezone.localdate(timezone.now(), zone)
    day_start = datetime.combine(today, time.min, tzinfo=zone)
    existing = Activity.objects.filter(
        person=person, kind=kind, is_all_day=True, starts_at=day_start, status=ActivityStatus.PLANNED
    ).first()
    if existing is not None:
        return existing
    owner = person.owner if person.owner.is_active else actor
    return activity_create(
        actor=actor,
        kind=kind,
        subject=_("Congratulate %(person)s on the birthday") % {"person": person},
        starts_at=day_start,
        ends_at=datetime.combine(today, time(23, 59), tzinfo=zone),
        is_all_day=True,
        priority=Priority.HIGH,
        person=person,  # the company follows when the actor sees it
        assignee=owner,
    )
