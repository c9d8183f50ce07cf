"""Activities demo data (issue 5, item 12): `seed_demo --size S` adds activities, reminders and plans."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Max, Min, Q
from django.urls import reverse
from django.utils import timezone

from contacts import seed as contacts_seed
from contacts import seed_activities
from contacts.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    AssignmentState,
    Person,
    PlanPeriod,
    Reminder,
    WorkPlan,
)
from contacts.seed import DEMO_REP_EMAIL
from contacts.selectors_plans import Period
from crm.models import Role, User
from crm.seed import DEMO_USERS

pytestmark = pytest.mark.django_db

DEMO_EMAILS = [email for email, *_rest in DEMO_USERS]


def _seed_s() -> None:
    call_command("seed_demo", size="S", no_progress=True)


def _overdue(now):
    return Q(status=ActivityStatus.PLANNED) & (Q(ends_at__lt=now) | Q(ends_at=None, starts_at__lt=now))


def _schema() -> tuple[list, list]:
    tables = list(seed_activities.TABLES)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1", [tables])
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1",
            [tables],
        )
        return indexes, cursor.fetchall()


def test_seed_demo_s_creates_activities_over_eight_months():
    _seed_s()
    now = timezone.now()
    sales = User.objects.get(email=DEMO_REP_EMAIL)

    assert Activity.objects.count() == 2_400
    assert Activity.objects.filter(assignee=sales).count() >= 1_000
    assert set(Activity.objects.values_list("kind", flat=True).distinct()) == set(ActivityKind.values)
    span = Activity.objects.aggregate(first=Min("starts_at"), last=Max("starts_at"))
    assert now - timedelta(days=190) < span["first"] < now - timedelta(days=170)
    assert now + timedelta(days=50) < span["last"] < now + timedelta(days=62)
    # Staff plan their own work with their own clients (the demo client is the demo team's).
    assert (
        not Activity.objects.filter(company__isnull=False)
        .exclude(company__owner=F("assignee"))
        .exclude(company__team=F("assignee__team"), assignee__email="manager@example.com")
    )
    assert not Activity.objects.filter(person__isnull=False).exclude(person__company=F("company")).exists()
    assert not Activity.objects.exclude(team=F("assignee__team")).exclude(team=None, assignee__team=None).exists()
    subjects = set(Activity.objects.values_list("subject", flat=True))
    assert all(any("а" <= ch <= "я" or ch in "іїєґ" for ch in subject.lower()) for subject in subjects)


def test_seeded_activity_states_are_consistent():
    _seed_s()
    now = timezone.now()

    done = Activity.objects.filter(status=ActivityStatus.DONE)
    assert done.count() > 1_000
    assert not done.filter(Q(completed_at=None) | Q(actual_duration=None) | Q(completed_at__gt=now)).exists()
    assert not Activity.objects.exclude(status=ActivityStatus.DONE).filter(completed_at__isnull=False).exists()
    assert not done.filter(starts_at__gt=now).exists()
    # Some overdue (open past their time), mostly recent; the demo representative has some.
    overdue = Activity.objects.filter(_overdue(now))
    assert 10 <= overdue.count() <= 150
    assert overdue.filter(assignee__email=DEMO_REP_EMAIL).exists()
    assert overdue.filter(starts_at__gte=now - timedelta(days=14)).count() > overdue.count() / 3
    assert Activity.objects.filter(status=ActivityStatus.PLANNED, starts_at__gt=now).count() > 400
    assert Activity.objects.filter(status=ActivityStatus.CANCELLED).exists()


def test_seeded_assignments_between_demo_users_in_every_state():
    _seed_s()

    assignments = Activity.objects.filter(kind=ActivityKind.ASSIGNMENT)
    between_demo = assignments.filter(assignee__email__in=DEMO_EMAILS, created_by__email__in=DEMO_EMAILS).exclude(
        created_by=F("assignee")
    )
    assert set(between_demo.values_list("assignment_state", flat=True)) == set(AssignmentState.values[1:])
    assert not assignments.filter(created_by=F("assignee")).exists()
    assert not assignments.filter(assignment_state=AssignmentState.DECLINED).exclude(
        status=ActivityStatus.CANCELLED, response__gt=""
    )
    assert not assignments.filter(assignment_state=AssignmentState.DONE).exclude(status=ActivityStatus.DONE)
    assert not assignments.filter(assignment_state__in=[AssignmentState.PENDING, AssignmentState.ACCEPTED]).exclude(
        status=ActivityStatus.PLANNED
    )
    assert not Activity.objects.exclude(kind=ActivityKind.ASSIGNMENT).exclude(assignment_state="").exists()
    # Older overdue assignments count as announced: the overdue task tells only about new ones.
    old = assignments.filter(status=ActivityStatus.PLANNED, starts_at__lt=timezone.now() - timedelta(days=2))
    assert not old.filter(overdue_notified_at=None).exists()


def test_seeded_reminders_are_due_in_the_next_hour_and_none_are_late():
    _seed_s()
    now = timezone.now()

    next_hour = Reminder.objects.filter(sent_at=None, remind_at__gte=now, remind_at__lt=now + timedelta(hours=1))
    assert next_hour.filter(activity__assignee__email=DEMO_REP_EMAIL).count() >= 2
    assert next_hour.exclude(activity__assignee__email=DEMO_REP_EMAIL).exists()
    # Already due ones are marked sent (a fresh worker sends nothing "late"); open ones are all planned.
    assert not Reminder.objects.filter(sent_at=None, remind_at__lt=now - timedelta(minutes=1)).exists()
    assert not Reminder.objects.filter(sent_at=None).exclude(activity__status=ActivityStatus.PLANNED).exists()
    assert not Reminder.objects.filter(remind_at__gte=F("activity__starts_at")).exists()
    assert Reminder.objects.filter(sent_at__isnull=False).exists()
    assert Reminder.objects.filter(sent_at=None, remind_at__gt=now + timedelta(days=7)).exists()


def test_seeded_work_plans_and_a_weekly_series():
    _seed_s()
    sales = User.objects.get(email=DEMO_REP_EMAIL)
    month = Period.current(PlanPeriod.MONTH)
    week = Period.current(PlanPeriod.WEEK)

    planned_people = User.objects.filter(groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER]).distinct()
    for n in range(4):
        starts_on = month.shift(-n).starts_on
        assert WorkPlan.objects.filter(period="month", starts_on=starts_on).count() == planned_people.count()
    assert WorkPlan.objects.filter(user=sales, period="week").count() == 5
    assert WorkPlan.objects.filter(user=sales, period="week", starts_on=week.starts_on).exists()
    assert not WorkPlan.objects.exclude(team=F("user__team")).exists()
    assert not WorkPlan.objects.filter(created_by=F("user")).exists()

    series = Activity.objects.filter(assignee=sales, series__isnull=False)
    assert series.count() > 30
    assert series.values("series").distinct().count() == 1
    assert series.filter(pk=F("series")).count() == 1


def test_seeded_plan_pages_open_for_the_demo_logins(client):
    _seed_s()
    manager = User.objects.get(email="manager@example.com")
    client.force_login(manager)
    team = client.get(reverse("contacts:plan-team"))
    assert team.status_code == 200
    assert len(team.context["plans"].rows) == User.objects.filter(team=manager.team).count() >= 3
    assert all(row.plan is not None for row in team.context["plans"].rows)

    client.force_login(User.objects.get(email=DEMO_REP_EMAIL))
    mine = client.get(reverse("contacts:plan-mine"))
    assert mine.status_code == 200
    assert {m.key: m.actual for m in mine.context["progress"].metrics}["hours"] > 0


def test_seeded_birthdays_spread_over_the_year_including_february_29():
    _seed_s()
    months = set(Person.objects.exclude(birth_month=None).values_list("birth_month", flat=True))
    assert months == set(range(1, 13))
    assert Person.objects.filter(birth_month=2, birth_day=29).exists()


def test_bulk_load_of_activities_rebuilds_the_indexes_and_foreign_keys(monkeypatch):
    """At M and L activities and reminders load without secondary indexes and foreign keys."""
    before = _schema()
    monkeypatch.setattr(contacts_seed, "BULK_LOAD_SIZES", ("S",))
    _seed_s()
    assert _schema() == before
    assert Activity.objects.count() == 2_400
    assert Reminder.objects.exists()
