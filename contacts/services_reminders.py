"""Automatic notices of the activities issue: reminders, overdue assignments, birthdays.

Called by the Celery beat tasks in contacts/tasks.py. Each function is safe to run twice and from
two workers or two beat processes at once:

- reminders and overdue assignments are claimed with SELECT … FOR UPDATE SKIP LOCKED in batches;
  the bell notification and the "sent" mark are written in the claiming transaction, so a worker
  killed mid-batch releases its rows (nothing of the batch is committed) and another worker sends
  them; a committed batch is never sent again. The e-mail is queued only after that commit
  (crm.tasks.notification_email_task retries on its own), so a failing mail server never undoes
  or blocks the bell notification and the sent mark;
- birthdays insert BirthdayNotice(person, year) with INSERT … ON CONFLICT DO NOTHING RETURNING and
  notify only the rows this run inserted: the unique constraint makes it once per person and year.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    AssignmentState,
    BirthdayNotice,
    Person,
    Reminder,
)
from contacts.selectors_birthdays import birthday_people_on
from crm.models import NotificationKind, Team, User
from crm.services import notify

# A reminder sent more than this after its time says it is late (workers were down).
LATE_AFTER = timedelta(minutes=5)
BIRTHDAY_CHUNK = 500


def activity_url(activity_id: int) -> str:
    return reverse("contacts:activity-detail", args=[activity_id])


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


def reminders_send_due(*, now: datetime | None = None, batch: int = 200) -> int:
    """Send every reminder due at `now`; returns how many were notified.

    Reminders of cancelled or done activities are marked sent without a notification (instead of
    being excluded), so they leave the small partial index contacts_reminder_due_idx.
    """
    now = now or timezone.now()
    total = 0
    while True:
        claimed, notified = _reminders_send_batch(now=now, batch=batch)
        total += notified
        if claimed < batch:
            return total


@transaction.atomic
def _reminders_send_batch(*, now: datetime, batch: int) -> tuple[int, int]:
    reminders = list(
        Reminder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(sent_at__isnull=True, remind_at__lte=now)
        .select_related("activity__assignee")
        .order_by("remind_at", "pk")[:batch]
    )
    late: list[int] = []
    on_time: list[int] = []
    notified = 0
    for reminder in reminders:
        is_late = now - reminder.remind_at > LATE_AFTER
        (late if is_late else on_time).append(reminder.pk)
        if reminder.activity.status == ActivityStatus.PLANNED:
            _reminder_notify(reminder=reminder, is_late=is_late, now=now)
            notified += 1
    Reminder.objects.filter(pk__in=late).update(sent_at=now, is_late=True)
    Reminder.objects.filter(pk__in=on_time).update(sent_at=now)
    return len(reminders), notified


def _reminder_notify(*, reminder: Reminder, is_late: bool, now: datetime) -> None:
    activity = reminder.activity
    recipient = activity.assignee
    with translation.override(recipient.language):
        title = _("Reminder: %(subject)s at %(time)s") % {
            "subject": activity.subject,
            "time": _local(activity.starts_at),
        }
        body = activity.get_kind_display()
        if is_late:
            body += "\n" + _("Sent late: this reminder was due at %(time)s.") % {"time": _local(reminder.remind_at)}
    notify(
        recipient=recipient,
        kind=NotificationKind.REMINDER,
        title=title,
        body=body,
        url=activity_url(activity.pk),
        now=now,
    )


def assignments_notify_overdue(*, now: datetime | None = None, batch: int = 200) -> int:
    """Tell the creator and the assignee's team manager, once, about each overdue open assignment.

    Returns the number of assignments announced. Declined assignments are marked without a notice
    (the creator already heard the refusal), so they leave the partial index contacts_act_overdue_idx.
    """
    now = now or timezone.now()
    total = 0
    while True:
        claimed, notified = _overdue_batch(now=now, batch=batch)
        total += notified
        if claimed < batch:
            return total


@transaction.atomic
def _overdue_batch(*, now: datetime, batch: int) -> tuple[int, int]:
    # Due = end, or start without an end; ends_at >= starts_at, so starts_at < now lets the index narrow it.
    assignments = list(
        Activity.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            kind=ActivityKind.ASSIGNMENT,
            status=ActivityStatus.PLANNED,
            overdue_notified_at__isnull=True,
            starts_at__lt=now,
        )
        .filter(Q(ends_at__isnull=True) | Q(ends_at__lt=now))
        .select_related("created_by", "assignee__team__manager")
        .order_by("starts_at", "pk")[:batch]
    )
    notified = 0
    for assignment in assignments:
        if assignment.assignment_state != AssignmentState.DECLINED:
            _overdue_notify(assignment=assignment, now=now)
            notified += 1
    Activity.objects.filter(pk__in=[a.pk for a in assignments]).update(overdue_notified_at=now)
    return len(assignments), notified


def _overdue_notify(*, assignment: Activity, now: datetime) -> None:
    assignee = assignment.assignee
    manager = assignee.team.manager if assignee.team else None
    recipients = {user.pk: user for user in (assignment.created_by, manager) if user and user.pk != assignee.pk}
    for recipient in recipients.values():
        if not recipient.is_active:
            continue
        with translation.override(recipient.language):
            title = _("Overdue assignment: %(subject)s") % {"subject": assignment.subject}
            body = _("%(assignee)s has not completed it; it was due %(time)s.") % {
                "assignee": assignee,
                "time": _local(assignment.due_at),
            }
        notify(
            recipient=recipient,
            kind=NotificationKind.ASSIGNMENT,
            title=title,
            body=body,
            url=activity_url(assignment.pk),
            now=now,
        )


def birthdays_notify(*, today: date | None = None, chunk: int = BIRTHDAY_CHUNK) -> int:
    """Announce today's birthdays (Europe/Kyiv date) once per person and year; returns people announced.

    The owner is told, and the owner's team when it shares birthdays. Safe to run twice or in
    parallel: only the BirthdayNotice rows this run inserted are announced.
    """
    today = today or timezone.localdate()
    person_ids = list(birthday_people_on(today).order_by("pk").values_list("pk", flat=True))
    members: dict[int, list[User]] = {}
    announced = 0
    for start in range(0, len(person_ids), chunk):
        announced += _birthdays_chunk(person_ids=person_ids[start : start + chunk], today=today, members=members)
    return announced


@transaction.atomic
def _birthdays_chunk(*, person_ids: list[int], today: date, members: dict[int, list[User]]) -> int:
    # Sorted ids in every run: two concurrent runs wait on each other's rows in one order (no deadlock),
    # and the later one inserts nothing for the rows the earlier one committed.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BirthdayNotice._meta.db_table} (person_id, year, created_at) "  # table name only
            "SELECT unnest(%s::bigint[]), %s, %s ON CONFLICT (person_id, year) DO NOTHING RETURNING person_id",
            [person_ids, today.year, timezone.now()],
        )
        new_ids = [row[0] for row in cursor.fetchall()]
    people = Person.objects.filter(pk__in=new_ids).select_related("company", "owner__team").order_by("pk")
    for person in people:
        for recipient in _birthday_recipients(person=person, members=members):
            _birthday_notify_one(person=person, recipient=recipient, today=today)
    return len(new_ids)


def _birthday_recipients(*, person: Person, members: dict[int, list[User]]) -> list[User]:
    owner = person.owner
    team: Team | None = owner.team
    recipients = [owner] if owner.is_active else []
    if team is not None and team.share_birthdays:
        if team.pk not in members:
            members[team.pk] = list(User.objects.filter(team=team, is_active=True).order_by("pk"))
        recipients += [user for user in members[team.pk] if user.pk != owner.pk]
    return recipients


def _birthday_notify_one(*, person: Person, recipient: User, today: date) -> None:
    with translation.override(recipient.language):
        name = str(person)
        if person.company_id:
            title = _("Birthday: %(person)s (%(company)s)") % {"person": name, "company": person.company}
        else:
            title = _("Birthday: %(person)s") % {"person": name}
        if person.birth_year:
            body = _("%(person)s turns %(age)s today.") % {"person": name, "age": today.year - person.birth_year}
        else:
            body = _("%(person)s has a birthday today.") % {"person": name}
        body += "\n" + _("Open the card and press “Congratulate” to plan a call or an e-mail.")
    notify(
        recipient=recipient,
        kind=NotificationKind.BIRTHDAY,
        title=title,
        body=body,
        url=reverse("contacts:person-detail", args=[person.pk]),
    )
