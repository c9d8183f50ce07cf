import signal
import subprocess
import threading
import time as monotonic_time
from collections import Counter
from datetime import datetime, timedelta
from smtplib import SMTPServerDisconnected
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from contacts.models import Activity, ActivityKind, ActivityStatus, AssignmentState, Reminder
from contacts.services_reminders import assignments_notify_overdue, reminders_send_due
from contacts.tasks import assignments_notify_overdue_task, birthdays_notify_task, reminders_send_due_task
from crm import services
from crm.celery import app as celery_app
from crm.models import Notification
from crm.tasks import notification_email_task
from tests import workers
from tests.conftest import make_user
from tests.contacts.factories import ActivityFactory

start_worker = workers.start_worker  # the real-worker fixture
KYIV = ZoneInfo("Europe/Kyiv")
UTC = ZoneInfo("UTC")


def _reminder(activity, offset=timedelta(minutes=10)):
    # In UTC: aware datetime − timedelta is wall-clock arithmetic in the datetime's own zone (wrong on DST days).
    return Reminder.objects.create(
        activity=activity, offset=offset, remind_at=activity.starts_at.astimezone(UTC) - offset
    )


# --- Sending ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_due_reminder_notifies_the_assignee_once(owner):
    starts = datetime(2027, 5, 10, 14, 30, tzinfo=KYIV)
    activity = ActivityFactory(
        assignee=owner, kind=ActivityKind.MEETING, subject="Зустріч з ТОВ Ромашка", starts_at=starts
    )
    reminder = _reminder(activity)
    _reminder(ActivityFactory(assignee=owner, starts_at=starts + timedelta(hours=1)))  # not due yet
    now = starts - timedelta(minutes=9)

    assert reminders_send_due(now=now) == 1
    assert reminders_send_due(now=now) == 0

    notification = Notification.objects.get(recipient=owner)
    assert notification.kind == "reminder"
    assert notification.title == "Reminder: Зустріч з ТОВ Ромашка at 10.05.2027 14:30"
    assert notification.url == f"/contacts/activities/{activity.pk}/"
    assert "late" not in notification.body
    reminder.refresh_from_db()
    assert reminder.sent_at == now
    assert reminder.is_late is False
    assert Reminder.objects.filter(sent_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_reminders_of_done_or_cancelled_activities_are_closed_silently(owner):
    done = _reminder(ActivityFactory(assignee=owner, status=ActivityStatus.DONE))
    cancelled = _reminder(ActivityFactory(assignee=owner, status=ActivityStatus.CANCELLED))

    assert reminders_send_due(now=timezone.now() + timedelta(days=2)) == 0

    assert not Notification.objects.exists()
    assert Reminder.objects.filter(pk__in=[done.pk, cancelled.pk], sent_at__isnull=False).count() == 2


@pytest.mark.django_db
def test_missed_reminders_after_downtime_are_sent_once_and_marked_late(owner):
    now = timezone.now()
    missed = [_reminder(ActivityFactory(assignee=owner, starts_at=now - timedelta(hours=h))) for h in (1, 2, 3)]
    fresh = _reminder(ActivityFactory(assignee=owner, starts_at=now + timedelta(minutes=8)))  # due 2 min ago

    assert reminders_send_due(now=now, batch=2) == 4  # several batches in one run
    assert reminders_send_due(now=now + timedelta(minutes=1)) == 0

    for reminder in missed:
        reminder.refresh_from_db()
        assert reminder.is_late
        assert reminder.sent_at == now
    fresh.refresh_from_db()
    assert not fresh.is_late
    bodies = Counter("Sent late" in body for body in Notification.objects.values_list("body", flat=True))
    assert bodies == {True: 3, False: 1}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("local_start", "fold", "offset", "fire_utc"),
    [
        # Spring forward, 2026-03-29 03:00 EET → 04:00 EEST: a 04:30 meeting with a 1-hour reminder
        # is reminded at 00:30 UTC (02:30 local, before the gap), not 01:30 UTC.
        (datetime(2026, 3, 29, 4, 30), 0, timedelta(hours=1), datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        # Fall back, 2026-10-25 04:00 EEST → 03:00 EET: 03:30 happens twice; the second (fold=1) is 01:30 UTC.
        (datetime(2026, 10, 25, 3, 30), 1, timedelta(minutes=10), datetime(2026, 10, 25, 1, 20, tzinfo=UTC)),
        (datetime(2026, 10, 25, 3, 30), 0, timedelta(minutes=10), datetime(2026, 10, 25, 0, 20, tzinfo=UTC)),
    ],
)
def test_reminder_on_a_dst_change_day_fires_once_at_the_right_instant(owner, local_start, fold, offset, fire_utc):
    starts_at = local_start.replace(tzinfo=KYIV, fold=fold)
    reminder = _reminder(ActivityFactory(assignee=owner, starts_at=starts_at), offset=offset)
    sent_at = []

    # Beat every minute from 23:00 UTC the evening before to 04:00 UTC.
    moment = datetime.combine(starts_at.astimezone(UTC).date() - timedelta(days=1), datetime.min.time(), UTC)
    moment += timedelta(hours=23)
    with time_machine.travel(moment, tick=False) as traveller:
        for _minute in range(5 * 60):
            if reminders_send_due_task.delay().get():
                sent_at.append(timezone.now())
            moment += timedelta(minutes=1)
            traveller.move_to(moment)

    assert sent_at == [fire_utc]
    reminder.refresh_from_db()
    assert reminder.sent_at == fire_utc
    assert not reminder.is_late
    title = Notification.objects.get(recipient=owner).title
    assert title.endswith(f"at {starts_at.strftime('%d.%m.%Y %H:%M')}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("local_start", "offset", "fire_utc"),
    [
        (datetime(2026, 3, 29, 4, 30), timedelta(hours=1), datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        (datetime(2026, 10, 25, 4, 30), timedelta(hours=1), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
    ],
)
def test_reminders_planned_through_the_service_on_dst_days_are_due_at_the_right_instant(
    owner, local_start, offset, fire_utc
):
    from contacts.services_activities import activity_create

    # A form gives the start as Kyiv wall time; the reminder is "offset" of real time before it.
    activity = activity_create(
        actor=owner,
        kind=ActivityKind.MEETING,
        subject="DST",
        starts_at=local_start.replace(tzinfo=KYIV),
        reminder_offsets=[offset],
    )

    reminder = activity.reminders.get()
    assert reminder.remind_at == fire_utc
    assert reminders_send_due(now=fire_utc - timedelta(seconds=1)) == 0
    assert reminders_send_due(now=fire_utc) == 1


@pytest.mark.django_db
def test_smtp_failure_keeps_the_bell_and_the_sent_mark_and_the_email_retries(
    owner, monkeypatch, django_capture_on_commit_callbacks
):
    owner.email_notifications = True
    owner.save()
    reminder = _reminder(ActivityFactory(assignee=owner, starts_at=timezone.now() + timedelta(minutes=5)))
    attempts = []

    def broken(**kwargs):
        attempts.append(1)
        raise SMTPServerDisconnected("mail server down")

    monkeypatch.setitem(notification_email_task.app.conf, "task_eager_propagates", False)  # replay the retries
    with (
        mock.patch.object(services, "send_mail", side_effect=broken),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        sent = reminders_send_due()

    assert sent == 1
    assert len(callbacks) == 1  # the e-mail is queued only after the reminder's transaction commits
    assert len(attempts) == notification_email_task.max_retries + 1
    reminder.refresh_from_db()
    assert reminder.sent_at is not None
    notification = Notification.objects.get(recipient=owner, kind="reminder")
    assert notification.read_at is None
    assert notification.emailed_at is None


# --- Overdue assignments --------------------------------------------------------------------------


def _assignment(*, creator, assignee, due, state=AssignmentState.PENDING, **fields):
    return ActivityFactory(
        kind=ActivityKind.ASSIGNMENT,
        assignment_state=state,
        created_by=creator,
        assignee=assignee,
        starts_at=due,
        subject="Підготувати КП",
        **fields,
    )


@pytest.mark.django_db
def test_overdue_assignment_notifies_creator_and_manager_once(owner, manager, director):
    now = timezone.now()
    overdue = _assignment(creator=director, assignee=owner, due=now - timedelta(hours=1))
    _assignment(creator=director, assignee=owner, due=now + timedelta(hours=1))  # not yet due
    _assignment(  # ends later: not overdue yet
        creator=director, assignee=owner, due=now - timedelta(hours=2), ends_at=now + timedelta(hours=1)
    )
    _assignment(creator=director, assignee=owner, due=now - timedelta(days=1), status=ActivityStatus.DONE)

    assert assignments_notify_overdue(now=now) == 1
    assert assignments_notify_overdue(now=now + timedelta(minutes=1)) == 0

    told = Counter(Notification.objects.values_list("recipient", flat=True))
    assert told == {director.pk: 1, manager.pk: 1}
    notification = Notification.objects.get(recipient=manager)
    assert notification.kind == "assignment"
    assert "Підготувати КП" in notification.title
    assert str(owner) in notification.body
    assert notification.url == f"/contacts/activities/{overdue.pk}/"
    overdue.refresh_from_db()
    assert overdue.overdue_notified_at == now


@pytest.mark.django_db
def test_overdue_assignment_by_the_manager_tells_them_once(owner, manager):
    _assignment(creator=manager, assignee=owner, due=timezone.now() - timedelta(minutes=1))

    assert assignments_notify_overdue() == 1

    assert list(Notification.objects.values_list("recipient", flat=True)) == [manager.pk]


@pytest.mark.django_db
def test_declined_or_accepted_overdue_assignments(owner, manager, director):
    now = timezone.now()
    declined = _assignment(
        creator=director, assignee=owner, due=now - timedelta(hours=1), state=AssignmentState.DECLINED
    )
    _assignment(creator=director, assignee=owner, due=now - timedelta(hours=1), state=AssignmentState.ACCEPTED)

    assert assignments_notify_overdue(now=now) == 1

    assert Notification.objects.count() == 2  # the accepted one: creator and manager
    declined.refresh_from_db()
    assert declined.overdue_notified_at == now  # closed without a notice


@pytest.mark.django_db
def test_overdue_task_runs_the_service(owner, director):
    _assignment(creator=director, assignee=owner, due=timezone.now() - timedelta(hours=1))
    assert assignments_notify_overdue_task.delay().get() == 1


# --- Tasks and schedule ---------------------------------------------------------------------------


def test_tasks_retry_transient_errors_with_backoff():
    for task in (reminders_send_due_task, assignments_notify_overdue_task, birthdays_notify_task):
        assert OperationalError in task.autoretry_for
        assert OSError in task.autoretry_for
        assert task.retry_backoff
        assert task.max_retries
        assert task.soft_time_limit < task.time_limit


def test_beat_runs_reminders_every_minute_and_birthdays_at_eight():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["contacts.tasks.reminders_send_due_task"] == 60
    assert schedule["contacts.tasks.assignments_notify_overdue_task"] == 60
    assert schedule["contacts.tasks.birthdays_notify_task"] == crontab(hour=8, minute=0)
    assert settings.CELERY_TIMEZONE == "Europe/Kyiv"


# --- Concurrency ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_claim_skips_reminders_locked_by_another_worker(owner):
    now = timezone.now()
    reminders = [_reminder(ActivityFactory(assignee=owner, starts_at=now - timedelta(minutes=m))) for m in range(4)]
    locked = {r.pk for r in reminders[:2]}
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        with transaction.atomic():
            list(Reminder.objects.select_for_update().filter(pk__in=locked))
            holding.set()
            release.wait(timeout=30)
        connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        assert reminders_send_due(now=now) == 2  # does not wait for the locked rows
        assert set(Reminder.objects.filter(sent_at__isnull=True).values_list("pk", flat=True)) == locked
    finally:
        release.set()
        thread.join(timeout=30)
    assert reminders_send_due(now=now) == 2
    assert Notification.objects.count() == 4


def _send_reminder_tasks(count: int, batch: int) -> None:
    # send_task goes through the broker even though the test settings run .delay() eagerly.
    for _ in range(count):
        celery_app.send_task("contacts.tasks.reminders_send_due_task", kwargs={"batch": batch})


def _claimed_by(worker: str) -> list[int] | None:
    """Reminders locked by the worker's open transaction, or None when it is between transactions."""
    with connection.cursor() as cursor:
        cursor.execute(
            # "idle in transaction" while the client is frozen: no query (not even COMMIT) is in flight.
            "SELECT backend_xid FROM pg_stat_activity"
            " WHERE application_name = %s AND state = 'idle in transaction' AND backend_xid IS NOT NULL",
            [f"test-worker-{worker}"],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        # FOR UPDATE stamps the locker's transaction id into xmax of each locked row. A row another worker
        # sent while this one was claiming stays locked too (PostgreSQL locks the newer version before it
        # re-checks the WHERE and skips it), so only rows still unsent from here count as the batch.
        cursor.execute("SELECT id FROM contacts_reminder WHERE xmax = %s::xid AND sent_at IS NULL", [row[0]])
        return [pk for (pk,) in cursor.fetchall()]


def _freeze_mid_batch(process: subprocess.Popen, worker: str, timeout: float = 20) -> list[int]:
    """SIGSTOP the worker at a moment it holds claimed reminders in an open transaction; return their ids."""
    deadline = monotonic_time.monotonic() + timeout
    while True:
        assert monotonic_time.monotonic() < deadline, "the worker never claimed a batch"
        process.send_signal(signal.SIGSTOP)
        monotonic_time.sleep(0.02)  # let a statement already sent finish
        claimed = _claimed_by(worker)
        if claimed:
            return claimed
        process.send_signal(signal.SIGCONT)
        monotonic_time.sleep(0.005)


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # send_task always uses the broker
def test_two_real_workers_send_each_of_1000_reminders_exactly_once_despite_sigkill(start_worker):
    users = [make_user(email_notifications=False) for _ in range(5)]
    due = timezone.now() - timedelta(minutes=1)
    activities = Activity.objects.bulk_create(
        Activity(
            kind=ActivityKind.CALL,
            subject=f"Дзвінок {i}",
            starts_at=due + timedelta(minutes=10),
            assignee=users[i % 5],
            created_by=users[i % 5],
        )
        for i in range(1000)
    )
    Reminder.objects.bulk_create(
        Reminder(activity=a, offset=timedelta(minutes=10), remind_at=due - timedelta(seconds=i))
        for i, a in enumerate(activities)
    )
    started = monotonic_time.monotonic()
    victim = start_worker("victim")
    survivor = start_worker("survivor")
    start_worker.wait_ready(2)

    # Many small-batch runs, so both workers claim batches side by side.
    _send_reminder_tasks(40, batch=5)
    deadline = monotonic_time.monotonic() + 30
    while Reminder.objects.filter(sent_at__isnull=False).count() < 100:
        assert monotonic_time.monotonic() < deadline, "workers made no progress"
        monotonic_time.sleep(0.02)
    in_flight = _freeze_mid_batch(victim, "victim")
    in_flight_urls = {
        f"/contacts/activities/{pk}/"
        for pk in Reminder.objects.filter(pk__in=in_flight).values_list("activity", flat=True)
    }
    # Frozen with its locks held: its batch (notifications and sent marks) is not committed.
    assert not Notification.objects.filter(url__in=in_flight_urls).exists()
    victim.send_signal(signal.SIGKILL)  # mid-batch: its transaction rolls back and its row locks go
    victim.wait(timeout=10)
    assert survivor.poll() is None

    start_worker("restarted")
    start_worker.wait_ready(2)
    _send_reminder_tasks(10, batch=5)
    deadline = monotonic_time.monotonic() + 40
    while Reminder.objects.filter(sent_at__isnull=True).exists():
        assert monotonic_time.monotonic() < deadline, "reminders left unsent"
        monotonic_time.sleep(0.2)

    assert Reminder.objects.filter(sent_at__isnull=True).count() == 0
    assert Notification.objects.filter(kind="reminder").count() == 1000
    per_activity = Counter(Notification.objects.values_list("url", flat=True))
    assert len(per_activity) == 1000
    assert set(per_activity.values()) == {1}
    assert all(per_activity[url] == 1 for url in in_flight_urls)  # the killed batch was sent by the others
    assert monotonic_time.monotonic() - started < 60
