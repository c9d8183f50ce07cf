"""The daily plan rollup (contacts_planday) that database triggers keep: it must equal a count of the rows
themselves after every kind of write, and the plan pages read it."""

import importlib
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from contacts.merge import company_merge
from contacts.models import Activity, ActivityStatus, Interaction, InteractionChannel, PlanDay
from contacts.selectors_plans import Period, plan_actuals
from contacts.services_activities import activity_complete
from tests.contacts.factories import ActivityFactory, CompanyFactory, InteractionFactory, PersonFactory

pytestmark = pytest.mark.django_db

KYIV = ZoneInfo("Europe/Kyiv")
MIGRATION = importlib.import_module("contacts.migrations.0011_plan_day")

RAW = """
SELECT user_id, day, sum(calls), sum(meetings), sum(visits), sum(spent) FROM (
    SELECT user_id, (occurred_at AT TIME ZONE 'Europe/Kyiv')::date AS day,
        count(*) FILTER (WHERE channel IN ('call_in', 'call_out')) AS calls,
        count(*) FILTER (WHERE channel = 'meeting') AS meetings,
        count(*) FILTER (WHERE channel = 'visit') AS visits, interval '0' AS spent
    FROM contacts_interaction WHERE user_id IS NOT NULL GROUP BY 1, 2
    UNION ALL
    SELECT assignee_id, (completed_at AT TIME ZONE 'Europe/Kyiv')::date, 0, 0, 0, COALESCE(sum(actual_duration), '0')
    FROM contacts_activity WHERE status = 'done' GROUP BY 1, 2
) AS rows GROUP BY 1, 2
"""


def raw() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(RAW)
        return {
            (u, d): (c, m, v, s) for u, d, c, m, v, s in cursor.fetchall() if (c, m, v, s) != (0, 0, 0, timedelta(0))
        }


def rollup() -> dict:
    rows = PlanDay.objects.values_list("user_id", "day", "calls", "meetings", "visits", "spent")
    return {(u, d): (c, m, v, s) for u, d, c, m, v, s in rows if (c, m, v, s) != (0, 0, 0, timedelta(0))}


def assert_in_step():
    assert rollup() == raw()


def test_plan_day_counts_every_write_to_interactions(owner, teammate):
    company, other = CompanyFactory(owner=owner), CompanyFactory(owner=owner)
    person = PersonFactory(company=company, owner=owner)
    late_evening = timezone.now().astimezone(KYIV).replace(hour=23, minute=30)  # a Kyiv day, not the UTC one
    calls = [InteractionFactory(company=company, user=owner, occurred_at=late_evening) for _ in range(3)]
    meeting = InteractionFactory(company=company, person=person, user=owner, channel=InteractionChannel.MEETING)
    InteractionFactory(company=company, user=owner, channel=InteractionChannel.EMAIL_OUT)  # not a plan metric
    InteractionFactory(company=company, user=None)
    Interaction.objects.bulk_create(
        [Interaction(company=other, user=teammate, channel=InteractionChannel.VISIT, occurred_at=late_evening,
                     subject="visit") for _ in range(4)]
    )  # fmt: skip
    assert_in_step()
    assert PlanDay.objects.get(user=owner, day=late_evening.date()).calls == 3

    calls[0].channel = InteractionChannel.VISIT
    calls[0].save()
    calls[1].occurred_at -= timedelta(days=3)
    calls[1].save()
    calls[2].user = teammate
    calls[2].save()
    Interaction.objects.filter(company=other).update(occurred_at=late_evening - timedelta(days=40))
    meeting.subject = "nothing the plans count"
    meeting.save()
    assert_in_step()

    calls[0].delete()
    company_merge(actor=owner, survivor=other, duplicate=company, values={})  # moves the history
    assert_in_step()
    assert PlanDay.objects.filter(user=teammate).exists()

    other.delete()  # the interactions go with the company
    assert_in_step()
    assert not rollup()


def test_plan_day_sums_hours_of_done_activities(owner, teammate):
    first = ActivityFactory(assignee=owner, starts_at=timezone.now() - timedelta(hours=3))
    second = ActivityFactory(assignee=owner, starts_at=timezone.now() - timedelta(hours=2))
    ActivityFactory(assignee=teammate)  # planned: no hours
    activity_complete(activity=first, actor=owner, actual_duration=timedelta(minutes=45))
    activity_complete(activity=second, actor=owner)  # no duration
    assert_in_step()

    Activity.objects.filter(pk=first.pk).update(actual_duration=timedelta(hours=2))
    Activity.objects.filter(pk=second.pk).update(assignee=teammate, actual_duration=timedelta(minutes=30))
    assert_in_step()
    Activity.objects.filter(pk=first.pk).update(status=ActivityStatus.PLANNED)  # reopened
    assert_in_step()
    Activity.objects.filter(pk__in=[first.pk, second.pk]).delete()
    assert_in_step()
    assert not rollup()


def test_plan_day_backfill_counts_existing_rows(owner):
    company = CompanyFactory(owner=owner)
    for day in range(5):
        InteractionFactory(company=company, user=owner, occurred_at=timezone.now() - timedelta(days=day))
    activity = ActivityFactory(assignee=owner, starts_at=timezone.now() - timedelta(hours=1))
    activity_complete(activity=activity, actor=owner, actual_duration=timedelta(minutes=20))
    expected = rollup()
    PlanDay.objects.all().delete()

    with connection.cursor() as cursor:
        cursor.execute(MIGRATION.BACKFILL)

    assert rollup() == expected == raw()


def test_plan_actuals_read_the_rollup_for_whole_days_and_the_rows_otherwise(owner, django_assert_num_queries):
    company = CompanyFactory(owner=owner)
    month = Period.current("month")
    InteractionFactory(company=company, user=owner, occurred_at=month.start + timedelta(hours=1))
    InteractionFactory(company=company, user=owner, occurred_at=month.start + timedelta(hours=5))

    with django_assert_num_queries(2):  # the rollup with new clients, the won amount
        whole = plan_actuals(users=[owner], start=month.start, end=month.end)[owner.pk]
    part = plan_actuals(users=[owner], start=month.start + timedelta(hours=2), end=month.end)[owner.pk]

    assert (whole.calls, part.calls) == (2, 1)
