"""Activities (issue 5, items 1–3): the services' rules, My day, assignments, the card tab and their views."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from contacts import registry, selectors_activities
from contacts import services_activities as services
from contacts.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    AssignmentState,
    Channel,
    Interaction,
    InteractionChannel,
    Recurrence,
    Reminder,
)
from crm.models import Notification, Role
from crm.navigation import items_for
from tests.conftest import make_user
from tests.contacts.factories import ActivityFactory, CompanyFactory, PersonFactory

pytestmark = pytest.mark.django_db

KYIV = ZoneInfo("Europe/Kyiv")
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def english():
    """Service messages are checked in English (the users of the view tests speak English too)."""
    with translation.override("en"):
        yield


def kyiv(*args: int) -> datetime:
    return datetime(*args, tzinfo=KYIV)


def today_at(hour: int, days: int = 0) -> datetime:
    """A Kyiv wall-clock time `days` from today: stays in the same My day section whenever the test runs."""
    return datetime.combine(timezone.localdate() + timedelta(days=days), time(hour), tzinfo=KYIV)


def url(name: str, *args: int) -> str:
    return reverse(f"contacts:{name}", args=args)


@pytest.fixture
def company(owner):
    return CompanyFactory(owner=owner, name="ТОВ Весна")


@pytest.fixture
def person(company):
    return PersonFactory(company=company, last_name="Петренко", first_name="Іван")


def plan(actor, **fields) -> Activity:
    values = {"kind": ActivityKind.CALL, "subject": "Дзвінок", "starts_at": kyiv(2030, 3, 10, 9)} | fields
    return services.activity_create(actor=actor, **values)


def assignment(manager, owner, **fields) -> Activity:
    return plan(manager, kind=ActivityKind.ASSIGNMENT, subject="Підготувати КП", assignee=owner, **fields)


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- create: the rules -----------------------------------------------------------------------------------


def test_create_defaults_to_the_actor_and_their_team_with_reminders_before_the_start(owner, company, person):
    activity = plan(
        owner,
        company=company,
        person=person,
        ends_at=kyiv(2030, 3, 10, 10),
        reminder_offsets=[timedelta(minutes=10), timedelta(days=1)],
    )

    assert activity.assignee == owner
    assert activity.created_by == owner
    assert activity.team == owner.team
    assert activity.status == ActivityStatus.PLANNED
    assert activity.assignment_state == AssignmentState.NONE
    reminders = {r.offset: r.remind_at for r in activity.reminders.all()}
    assert reminders == {timedelta(minutes=10): kyiv(2030, 3, 10, 8, 50), timedelta(days=1): kyiv(2030, 3, 9, 9)}
    record = activity.history.get()
    assert record.history_type == "+"
    assert record.history_user == owner


def test_create_takes_the_persons_company_when_none_is_chosen(owner, company, person):
    assert plan(owner, person=person).company == company


def test_end_before_start_is_an_error_on_ends_at_and_nothing_is_saved(owner):
    with pytest.raises(ValidationError) as excinfo:
        plan(owner, ends_at=kyiv(2030, 3, 10, 8), reminder_offsets=[timedelta(minutes=10)])

    assert "The end cannot be before the start." in errors_of(excinfo)["ends_at"]
    assert not Activity.objects.exists()
    assert not Reminder.objects.exists()


def test_reminder_after_the_start_is_an_error_on_reminders(owner):
    with pytest.raises(ValidationError) as excinfo:
        plan(owner, reminder_offsets=[timedelta(minutes=10), timedelta(minutes=-5)])

    assert "before the start" in errors_of(excinfo)["reminders"][0]
    assert not Activity.objects.exists()


def test_recurrence_needs_an_end(owner):
    with pytest.raises(ValidationError) as excinfo:
        plan(owner, recurrence=Recurrence.WEEKLY)

    assert "recurrence_until" in errors_of(excinfo)
    assert not Activity.objects.exists()


def test_recurrence_longer_than_5_years_is_refused(owner):
    with pytest.raises(ValidationError) as excinfo:
        plan(owner, recurrence=Recurrence.DAILY, recurrence_until=date(2035, 3, 11))

    assert "5 years" in errors_of(excinfo)["recurrence_until"][0]
    assert not Activity.objects.exists()


def test_recurrence_of_exactly_5_years_is_materialised(owner):
    first = plan(owner, recurrence=Recurrence.MONTHLY, recurrence_until=date(2035, 3, 10))

    series = Activity.objects.filter(series=first).order_by("starts_at")
    assert series.count() == 61  # 5 years of months, the first included
    assert series.last().starts_at == kyiv(2035, 3, 10, 9)


@pytest.mark.parametrize(
    ("start", "until", "utc_hours"),
    [
        # Summer time starts on 29 March 2026: 09:00 Kyiv is 07:00 UTC before and 06:00 UTC after.
        (kyiv(2026, 3, 20, 9), date(2026, 4, 10), [7, 7, 6, 6]),
        # And ends on 25 October 2026.
        (kyiv(2026, 10, 16, 9), date(2026, 11, 6), [6, 6, 7, 7]),
    ],
)
def test_weekly_series_keeps_its_wall_clock_time_across_dst(owner, start, until, utc_hours):
    first = plan(
        owner,
        subject="Планерка",
        kind=ActivityKind.MEETING,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        recurrence=Recurrence.WEEKLY,
        recurrence_until=until,
        reminder_offsets=[timedelta(minutes=10)],
    )

    rows = list(Activity.objects.filter(series=first).order_by("starts_at").prefetch_related("reminders"))
    assert [row.starts_at.astimezone(UTC).hour for row in rows] == utc_hours
    assert {timezone.localtime(row.starts_at, KYIV).time() for row in rows} == {time(9)}
    assert {row.ends_at - row.starts_at for row in rows} == {timedelta(hours=1)}
    assert [r.remind_at for row in rows for r in row.reminders.all()] == [
        row.starts_at - timedelta(minutes=10) for row in rows
    ]
    assert all(row.history.filter(history_type="+").exists() for row in rows)


def test_assignment_to_an_inactive_user_is_refused(manager):
    gone = make_user(Role.SALES_REP, team=manager.team, is_active=False)

    with pytest.raises(ValidationError) as excinfo:
        assignment(manager, gone)

    assert "no longer active" in errors_of(excinfo)["assignee"][0]
    assert not Activity.objects.exists()


def test_assignment_outside_the_actors_team_is_refused(manager, outsider):
    with pytest.raises(ValidationError) as excinfo:
        assignment(manager, outsider)

    assert "assignee" in errors_of(excinfo)


def test_assignee_must_see_the_company(manager, teammate, owner, company):
    with pytest.raises(ValidationError) as excinfo:
        assignment(manager, teammate, company=company)  # owner's company, not shared

    assert "cannot see" in errors_of(excinfo)["assignee"][0]


def test_a_company_or_person_the_actor_cannot_see_is_refused(owner, outsider):
    theirs = CompanyFactory(owner=outsider)

    with pytest.raises(ValidationError) as excinfo:
        plan(owner, company=theirs, person=PersonFactory(company=theirs))

    assert "company" in errors_of(excinfo)
    assert "person" in errors_of(excinfo)


def test_person_must_work_for_the_chosen_company(owner, company):
    other = CompanyFactory(owner=owner)

    with pytest.raises(ValidationError) as excinfo:
        plan(owner, company=company, person=PersonFactory(company=other))

    assert "does not work for" in errors_of(excinfo)["person"][0]


def test_a_user_without_a_role_cannot_plan(readonly):
    with pytest.raises(PermissionDenied):
        plan(readonly)


# --- assignments -----------------------------------------------------------------------------------------


def test_assignment_waits_for_an_answer_and_notifies_the_assignee(manager, owner):
    activity = assignment(manager, owner)

    assert activity.assignment_state == AssignmentState.PENDING
    assert activity.team == owner.team
    note = Notification.objects.get(recipient=owner)
    assert note.kind == "assignment"
    assert note.url == url("activity-detail", activity.pk)
    assert "Підготувати КП" in note.title
    assert not Notification.objects.filter(recipient=manager).exists()


def test_assignment_accept_then_complete_tells_the_creator_each_step(manager, owner):
    activity = assignment(manager, owner)

    services.assignment_accept(activity=activity, actor=owner)
    activity.refresh_from_db()
    assert activity.assignment_state == AssignmentState.ACCEPTED
    accepted = Notification.objects.get(recipient=manager)
    assert "accepted" in accepted.title
    assert accepted.url == url("activity-detail", activity.pk)

    services.assignment_complete(activity=activity, actor=owner, comment="КП надіслано")
    activity.refresh_from_db()
    assert (activity.status, activity.assignment_state) == (ActivityStatus.DONE, AssignmentState.DONE)
    assert activity.response == "КП надіслано"
    assert activity.completed_at is not None
    done = Notification.objects.filter(recipient=manager).latest("pk")
    assert "completed" in done.title
    assert done.body == "КП надіслано"
    assert [r.history_user for r in activity.history.order_by("history_id")] == [manager, owner, owner]


def test_assignment_decline_needs_a_reason_and_tells_the_creator(manager, owner):
    activity = assignment(manager, owner, reminder_offsets=[timedelta(minutes=10)])

    with pytest.raises(ValidationError) as excinfo:
        services.assignment_decline(activity=activity, actor=owner, reason="  ")
    assert "reason" in errors_of(excinfo)
    activity.refresh_from_db()
    assert activity.assignment_state == AssignmentState.PENDING

    services.assignment_decline(activity=activity, actor=owner, reason="У відпустці")
    activity.refresh_from_db()
    assert activity.assignment_state == AssignmentState.DECLINED
    assert activity.status == ActivityStatus.CANCELLED
    assert activity.response == "У відпустці"
    assert not activity.reminders.exists()
    declined = Notification.objects.get(recipient=manager)
    assert "declined" in declined.title
    assert declined.body == "У відпустці"


def test_only_the_assignee_answers_an_assignment(manager, owner, director):
    activity = assignment(manager, owner)

    for who in (manager, director):
        with pytest.raises(PermissionDenied):
            services.assignment_accept(activity=activity, actor=who)


def test_an_answered_assignment_cannot_be_answered_again(manager, owner):
    activity = assignment(manager, owner)
    services.assignment_accept(activity=activity, actor=owner)

    with pytest.raises(ValidationError, match="already answered"):
        services.assignment_accept(activity=activity, actor=owner)


def test_reassigning_asks_the_new_assignee(manager, owner, teammate):
    activity = assignment(manager, owner)
    services.assignment_accept(activity=activity, actor=owner)

    services.activity_update(activity=activity, actor=manager, assignee=teammate)

    activity.refresh_from_db()
    assert activity.assignee == teammate
    assert activity.assignment_state == AssignmentState.PENDING
    assert Notification.objects.filter(recipient=teammate, kind="assignment").count() == 1


def test_cancelling_an_assignment_tells_the_assignee(manager, owner):
    activity = assignment(manager, owner)

    services.activity_cancel(activity=activity, actor=manager)

    assert Notification.objects.filter(recipient=owner).count() == 2  # assigned, cancelled
    with pytest.raises(ValidationError):
        services.assignment_accept(activity=activity, actor=owner)


# --- complete, reschedule, snooze, cancel ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "channel", "direction"),
    [
        (ActivityKind.CALL, InteractionChannel.CALL_OUT, "out"),
        (ActivityKind.MEETING, InteractionChannel.MEETING, ""),
        (ActivityKind.VISIT, InteractionChannel.VISIT, ""),
        (ActivityKind.EMAIL, InteractionChannel.EMAIL_OUT, "out"),
    ],
)
def test_completing_a_contact_logs_one_interaction(owner, company, person, kind, channel, direction):
    activity = plan(owner, kind=kind, subject="Обговорити договір", company=company, person=person)

    done = services.activity_complete(
        activity=activity, actor=owner, result="Домовились", actual_duration=timedelta(minutes=25)
    )
    again = services.activity_complete(activity=activity, actor=owner, result="Ще раз")

    interaction = Interaction.objects.get()
    assert done.interaction == interaction
    assert again.interaction == interaction
    assert (interaction.channel, interaction.direction) == (channel, direction)
    assert (interaction.company, interaction.person, interaction.user) == (company, person, owner)
    assert (interaction.subject, interaction.body) == ("Обговорити договір", "Домовились")
    assert interaction.duration == timedelta(minutes=25)
    assert abs(interaction.occurred_at - timezone.now()) < timedelta(minutes=1)
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.DONE
    assert activity.result == "Домовились"
    company.refresh_from_db()
    assert company.last_contact_at == interaction.occurred_at


def test_completing_a_task_or_a_call_without_company_logs_nothing(owner, company):
    services.activity_complete(activity=plan(owner, kind=ActivityKind.TASK, company=company), actor=owner)
    services.activity_complete(activity=plan(owner), actor=owner)

    assert not Interaction.objects.exists()
    assert Activity.objects.filter(status=ActivityStatus.DONE).count() == 2


def test_completing_drops_unsent_reminders_and_a_cancelled_one_cannot_be_completed(owner):
    activity = plan(owner, reminder_offsets=[timedelta(minutes=10)])
    services.activity_cancel(activity=activity, actor=owner)

    assert not activity.reminders.exists()
    with pytest.raises(ValidationError, match="cancelled"):
        services.activity_complete(activity=activity, actor=owner)


def test_reschedule_keeps_the_duration_and_moves_unsent_reminders_only(owner):
    activity = plan(owner, ends_at=kyiv(2030, 3, 10, 10), reminder_offsets=[timedelta(minutes=10), timedelta(days=1)])
    activity.reminders.filter(offset=timedelta(days=1)).update(sent_at=timezone.now())

    moved = services.activity_reschedule(activity=activity, actor=owner, starts_at=kyiv(2030, 3, 12, 14))

    assert (moved.starts_at, moved.ends_at) == (kyiv(2030, 3, 12, 14), kyiv(2030, 3, 12, 15))
    reminders = {r.offset: r.remind_at for r in activity.reminders.all()}
    assert reminders[timedelta(minutes=10)] == kyiv(2030, 3, 12, 13, 50)
    assert reminders[timedelta(days=1)] == kyiv(2030, 3, 9, 9)  # already sent: left alone


def test_reschedule_end_before_start_is_an_error(owner):
    activity = plan(owner)

    with pytest.raises(ValidationError) as excinfo:
        services.activity_reschedule(
            activity=activity, actor=owner, starts_at=kyiv(2030, 3, 12, 14), ends_at=kyiv(2030, 3, 12, 13)
        )

    assert "ends_at" in errors_of(excinfo)


def test_snooze_moves_from_now_or_to_the_same_time_tomorrow(owner):
    now = timezone.now()
    overdue = plan(owner, starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=2) + timedelta(hours=1))

    snoozed = services.activity_snooze(activity=overdue, actor=owner, by="15m", now=now)
    assert snoozed.starts_at == now + timedelta(minutes=15)
    assert snoozed.ends_at == now + timedelta(minutes=75)

    later = plan(owner, starts_at=now + timedelta(hours=3))
    assert services.activity_snooze(activity=later, actor=owner, by="1h", now=now).starts_at == later.starts_at + (
        timedelta(hours=1)
    )

    morning = plan(owner, starts_at=today_at(9, days=-3))
    tomorrow = services.activity_snooze(activity=morning, actor=owner, by="tomorrow")
    assert tomorrow.starts_at == today_at(9, days=1)

    with pytest.raises(ValidationError):
        services.activity_snooze(activity=morning, actor=owner, by="forever")


def test_update_changes_fields_and_reminders_and_is_recorded(owner):
    activity = plan(owner, reminder_offsets=[timedelta(minutes=10), timedelta(hours=1)])

    services.activity_update(
        activity=activity,
        actor=owner,
        subject="Новий зміст",
        starts_at=kyiv(2030, 3, 11, 9),
        reminder_offsets=[timedelta(hours=1), timedelta(days=1)],
    )

    activity.refresh_from_db()
    assert activity.subject == "Новий зміст"
    assert {r.offset: r.remind_at for r in activity.reminders.all()} == {
        timedelta(hours=1): kyiv(2030, 3, 11, 8),
        timedelta(days=1): kyiv(2030, 3, 10, 9),
    }
    changes = selectors_activities.activity_changes(activity=activity)
    assert changes[0].who == owner
    assert {c.label for c in changes[0].changes} >= {"Subject", "Start / due"}


def test_update_rejects_bad_input_and_saves_nothing(owner):
    activity = plan(owner)

    with pytest.raises(ValidationError):
        services.activity_update(activity=activity, actor=owner, subject="X", ends_at=kyiv(2030, 3, 9, 9))

    activity.refresh_from_db()
    assert activity.subject == "Дзвінок"


def test_who_may_change_an_activity(owner, teammate, manager, director, outsider, readonly):
    activity = plan(owner)
    given = assignment(manager, owner)

    assert services.activity_can_change(activity=activity, user=owner)
    assert services.activity_can_change(activity=activity, user=manager)  # the team's manager
    assert services.activity_can_change(activity=activity, user=director)
    assert services.activity_can_change(activity=given, user=manager)  # the creator
    for stranger in (teammate, outsider, readonly):
        assert not services.activity_can_change(activity=activity, user=stranger)
        with pytest.raises(PermissionDenied):
            services.activity_reschedule(activity=activity, actor=stranger, starts_at=kyiv(2030, 3, 11, 9))
        with pytest.raises(PermissionDenied):
            services.activity_complete(activity=activity, actor=stranger)
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PLANNED


# --- birthdays -------------------------------------------------------------------------------------------


def test_congratulate_plans_a_call_today_for_the_owner_once(teammate, owner, company):
    company.is_shared = True
    company.save()
    person = PersonFactory(company=company, is_shared=True, birth_month=5, birth_day=1)

    first = services.birthday_congratulate(person=person, actor=teammate)
    second = services.birthday_congratulate(person=person, actor=teammate)

    assert first == second
    assert first.kind == ActivityKind.CALL
    assert first.assignee == owner
    assert first.created_by == teammate
    assert (first.person, first.company) == (person, company)
    assert timezone.localdate(first.starts_at, KYIV) == timezone.localdate()
    assert first.is_all_day
    assert not first.is_overdue


def test_congratulate_by_e_mail_when_the_person_prefers_it(owner, company):
    person = PersonFactory(company=company, preferred_channel=Channel.EMAIL)

    assert services.birthday_congratulate(person=person, actor=owner).kind == ActivityKind.EMAIL


def test_congratulate_someone_not_visible_is_refused(owner, outsider):
    with pytest.raises(PermissionDenied):
        services.birthday_congratulate(person=PersonFactory(company=CompanyFactory(owner=outsider)), actor=owner)


# --- My day ----------------------------------------------------------------------------------------------


@pytest.fixture
def busy_day(owner, manager, company):
    """Three rows in every My day section of `owner` (and rows that must not show)."""
    people = []
    rows = {"overdue": [], "today": [], "week": [], "pending": [], "given": []}
    for index in range(3):
        rows["overdue"].append(ActivityFactory(assignee=owner, company=company, starts_at=today_at(10, -1 - index)))
        rows["today"].append(ActivityFactory(assignee=owner, company=company, starts_at=today_at(8 + index)))
        rows["week"].append(ActivityFactory(assignee=owner, starts_at=today_at(9, 1 + index)))
        rows["pending"].append(assignment(manager, owner, starts_at=today_at(12, index)))
        helper = make_user(Role.SALES_REP, team=owner.team)
        rows["given"].append(
            services.activity_create(
                actor=owner, kind=ActivityKind.ASSIGNMENT, subject="Доручення", starts_at=today_at(15), assignee=helper
            )
        )
    ActivityFactory(assignee=owner, starts_at=today_at(9, 9))  # beyond the week
    ActivityFactory(assignee=owner, starts_at=today_at(9), status=ActivityStatus.DONE)
    ActivityFactory(assignee=manager, starts_at=today_at(9))  # someone else's
    today = timezone.localdate()
    for offset in (0, 0, 0, 2, 3, 4):
        day = today + timedelta(days=offset)
        people.append(PersonFactory(company=company, birth_month=day.month, birth_day=day.day, birth_year=1990))
    return rows, people


def test_my_day_has_every_section_bounded_and_preloaded(owner, busy_day, django_assert_max_num_queries):
    rows, people = busy_day

    # Five sections in two queries (their first ids, then the rows), then birthdays one query per day of the
    # week (stopping once enough are found), whatever the rows.
    with django_assert_max_num_queries(9):
        day = selectors_activities.my_day(user=owner)
        rendered = [(row.company, row.person) for key in ("overdue", "today_rows", "week") for row in day[key].rows]
        rendered += [(row.company, row.created_by) for row in day["pending"].rows]
        rendered += [(row.company, row.assignee) for row in day["given"].rows]

    assert len(rendered) == 15
    # Plain rows (ActivityRow), not model instances: the same activities in the same order, with the names.
    for key, expected in (("overdue", "overdue"), ("today_rows", "today"), ("week", "week")):  # overdue newest first
        assert [row.pk for row in day[key].rows] == [activity.pk for activity in rows[expected]]
    assert [row.pk for row in day["pending"].rows] == [activity.pk for activity in rows["pending"]]
    assert [row.pk for row in day["given"].rows] == [activity.pk for activity in rows["given"]]
    for row in (*day["overdue"].rows, *day["given"].rows):
        activity = Activity.objects.select_related("company", "person", "assignee", "created_by").get(pk=row.pk)
        assert (row.company, row.person) == (str(activity.company or ""), str(activity.person or ""))
        assert (row.assignee, row.created_by) == (str(activity.assignee), str(activity.created_by))
    assert set(day["birthdays_today"]) == set(people[:3])
    assert [person for _day, person in day["birthdays_week"]] == people[3:]
    assert day["birthdays_today"][0].turns == timezone.localdate().year - 1990


def test_my_day_pending_assignments_are_the_unanswered_ones_soonest_first(
    owner, manager, django_assert_max_num_queries
):
    later = assignment(manager, owner, starts_at=today_at(12, 2))
    sooner = assignment(manager, owner, starts_at=today_at(12, 1))
    services.assignment_accept(activity=assignment(manager, owner, starts_at=today_at(9)), actor=owner)
    ActivityFactory(assignee=owner, starts_at=today_at(10))  # not an assignment

    with django_assert_max_num_queries(2):  # the rows (and the user's scope, unless cached)
        rows = list(selectors_activities.pending_assignments(user=owner)[:11])

    assert [row[0] for row in rows] == [sooner.pk, later.pk]


def test_my_day_overdue_is_capped_with_a_count_of_the_rest(owner):
    Activity.objects.bulk_create(
        ActivityFactory.build(assignee=owner, starts_at=today_at(9, -1) - timedelta(minutes=i))
        for i in range(selectors_activities.SECTION_SIZE + 3)
    )

    day = selectors_activities.my_day(user=owner)

    assert len(day["overdue"].rows) == selectors_activities.SECTION_SIZE
    assert day["overdue"].more == 3


def test_my_day_page_renders_every_section_in_bounded_queries(client, owner, busy_day, django_assert_max_num_queries):
    client.force_login(owner)

    with django_assert_max_num_queries(14):  # session, user, roles, bell, nav + my_day's (sections in two)
        response = client.get(url("my-day"))

    assert response.status_code == 200
    html = response.content.decode()
    for key in ("overdue", "today", "week", "pending", "given", "birthdays"):
        assert f'data-testid="section-{key}"' in html
    assert html.count('data-testid="activity-row"') == 15
    assert html.count('data-testid="congratulate"') == 3
    assert html.count('data-testid="accept"') == 3


def test_my_day_birthday_item_and_congratulating_it_in_place(client, owner, busy_day):
    _rows, people = busy_day
    person = people[0]
    client.force_login(owner)

    html = client.get(url("my-day")).content.decode()
    assert f'id="birthday-{person.pk}"' in html
    assert f'<a href="/contacts/people/{person.pk}/">{person}</a>' in html
    assert 'data-testid="age"' in html
    assert "csrfmiddlewaretoken" in html

    response = client.post(url("person-congratulate", person.pk), headers=HTMX)

    assert response.status_code == 200
    fragment = response.content.decode()
    assert f'id="birthday-{person.pk}"' in fragment
    assert 'data-testid="congratulation-planned"' in fragment
    assert f'<a href="/contacts/people/{person.pk}/">{person}</a>' in fragment
    assert 'data-testid="age"' in fragment
    assert 'data-testid="congratulate"' not in fragment.split('hx-swap-oob="afterbegin:#section-today-rows"')[0]


def test_my_day_htmx_returns_the_fragment(client, owner, busy_day):
    client.force_login(owner)

    response = client.get(url("my-day"), headers=HTMX)

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="my-day"' in response.content
    assert "HX-Request" in response["Vary"]


def test_my_day_is_in_the_navigation_first(owner):
    keys = [item.key for item in items_for(owner)]

    assert keys.index("my-day") < keys.index("companies")
    assert "assignments" in keys


# --- views: in place with HTMX ---------------------------------------------------------------------------


def test_complete_form_opens_in_the_row(client, owner):
    activity = ActivityFactory(assignee=owner, starts_at=today_at(9))
    client.force_login(owner)

    response = client.get(url("activity-complete", activity.pk) + "?section=today", headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-testid="action-form"' in html
    assert 'name="result"' in html
    assert 'name="section" value="today"' in html


def test_complete_from_my_day_removes_the_row_and_logs_the_contact(client, owner, company):
    activity = ActivityFactory(assignee=owner, company=company, starts_at=today_at(9))
    client.force_login(owner)

    response = client.post(
        url("activity-complete", activity.pk),
        {"section": "today", "result": "Домовились", "actual_minutes": "15"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#activity-{activity.pk}"
    assert response["HX-Reswap"] == "outerHTML"
    assert 'data-testid="activity-row"' not in response.content.decode()
    assert "The activity is done." in response.content.decode()
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.DONE
    assert activity.interaction.body == "Домовились"
    assert activity.interaction.duration == timedelta(minutes=15)


def test_snooze_from_overdue_moves_the_row_to_today(client, owner):
    activity = ActivityFactory(assignee=owner, starts_at=timezone.now() - timedelta(days=3))
    client.force_login(owner)

    response = client.post(url("activity-snooze", activity.pk), {"section": "overdue", "by": "15m"}, headers=HTMX)

    html = response.content.decode()
    activity.refresh_from_db()
    assert activity.starts_at > timezone.now()
    expected = selectors_activities.section_of(activity, owner)
    assert f'hx-swap-oob="beforeend:#section-{expected}-rows"' in html
    assert html.count('data-testid="activity-row"') == 1


def test_snooze_within_the_section_updates_the_row_in_place(client, owner):
    activity = ActivityFactory(assignee=owner, starts_at=today_at(9, 3))
    client.force_login(owner)

    response = client.post(url("activity-snooze", activity.pk), {"section": "week", "by": "1h"}, headers=HTMX)

    html = response.content.decode()
    assert f'id="activity-{activity.pk}"' in html
    assert "#section-" not in html
    assert timezone.localtime(today_at(10, 3)).strftime("%H:%M") in html


def test_row_buttons_escape_the_section_and_carry_the_csrf_field(owner):
    # The buttons carry the section the request came from.
    activity = ActivityFactory(assignee=owner, starts_at=today_at(9, 3))
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    client.get(reverse("contacts:my-day"))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value

    section = '"><script>alert(1)</script>'
    response = client.post(
        url("activity-snooze", activity.pk), {"section": section, "by": "1h"}, headers={**HTMX, "X-CSRFToken": token}
    )

    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert re.search(r"\?section=(&quot;|&#34;)&gt;&lt;script&gt;", html)  # either engine's quote entity
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'data-testid="snooze-tomorrow"' in html


def test_reschedule_in_place_and_bad_input_stays_in_the_form(client, owner):
    activity = ActivityFactory(assignee=owner, starts_at=today_at(9, 2))
    client.force_login(owner)

    bad = client.post(url("activity-reschedule", activity.pk), {"section": "week", "starts_at": "soon"}, headers=HTMX)
    assert bad.status_code == 200
    assert 'data-testid="action-form"' in bad.content.decode()
    assert "invalid-feedback" in bad.content.decode()

    new_start = (timezone.localdate() + timedelta(days=4)).isoformat() + "T11:30"
    good = client.post(
        url("activity-reschedule", activity.pk), {"section": "week", "starts_at": new_start}, headers=HTMX
    )
    assert good.status_code == 200
    activity.refresh_from_db()
    assert activity.starts_at == today_at(11, 4) + timedelta(minutes=30)


def test_decline_without_a_reason_shows_the_message_next_to_the_field(client, manager, owner):
    activity = assignment(manager, owner)
    client.force_login(owner)

    response = client.post(url("assignment-decline", activity.pk), {"section": "pending", "reason": ""}, headers=HTMX)

    assert response.status_code == 200
    assert "Say why you decline the assignment." in response.content.decode()
    activity.refresh_from_db()
    assert activity.assignment_state == AssignmentState.PENDING


def test_accept_from_my_day_moves_the_row_to_its_day(client, manager, owner):
    activity = assignment(manager, owner, starts_at=today_at(17))
    client.force_login(owner)

    response = client.post(url("assignment-accept", activity.pk), {"section": "pending"}, headers=HTMX)

    assert 'hx-swap-oob="beforeend:#section-today-rows"' in response.content.decode()
    activity.refresh_from_db()
    assert activity.assignment_state == AssignmentState.ACCEPTED


def test_assignment_answers_are_the_assignees_only(client, manager, owner):
    activity = assignment(manager, owner)
    client.force_login(manager)

    assert client.post(url("assignment-accept", activity.pk)).status_code == 403
    assert client.get(url("assignment-decline", activity.pk)).status_code == 403
    activity.refresh_from_db()
    assert activity.assignment_state == AssignmentState.PENDING


def test_cancel_without_javascript_redirects_to_the_detail(client, owner):
    activity = ActivityFactory(assignee=owner)
    client.force_login(owner)

    response = client.post(url("activity-cancel", activity.pk))

    assert response.status_code == 302
    assert response["Location"] == url("activity-detail", activity.pk)
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.CANCELLED


def test_congratulate_button_plans_the_call_and_adds_it_to_today(client, owner, company):
    person = PersonFactory(company=company)
    client.force_login(owner)

    response = client.post(url("person-congratulate", person.pk), headers=HTMX)

    html = response.content.decode()
    activity = Activity.objects.get(person=person)
    assert response["HX-Retarget"] == f"#birthday-{person.pk}"
    assert 'data-testid="congratulation-planned"' in html
    assert 'hx-swap-oob="afterbegin:#section-today-rows"' in html
    assert f'id="activity-{activity.pk}"' in html
    no_js = client.post(url("person-congratulate", person.pk))
    assert no_js["Location"] == url("activity-detail", activity.pk)
    assert Activity.objects.filter(person=person).count() == 1


# --- views: forms ----------------------------------------------------------------------------------------


def activity_post(**overrides) -> dict:
    data = {"kind": "call", "subject": "Дзвінок клієнту", "starts_at": "2030-03-10T09:00", "priority": "normal"}
    return data | overrides


def test_create_form_is_prefilled_from_the_card(client, owner, company, person):
    client.force_login(owner)

    response = client.get(url("activity-create") + f"?company={company.pk}&person={person.pk}&kind=meeting")

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["company"] == company.pk
    assert form.initial["person"] == person.pk
    assert form.initial["kind"] == "meeting"
    assert f'<option value="{person.pk}" selected>' in response.content.decode()


def test_create_form_plans_the_activity_with_reminders(client, owner, company, person):
    client.force_login(owner)

    response = client.post(
        url("activity-create"),
        activity_post(company=company.pk, person=person.pk, reminders=["10", "1440"], ends_at="2030-03-10T09:30"),
    )

    activity = Activity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("activity-detail", activity.pk)
    assert activity.starts_at == kyiv(2030, 3, 10, 9)
    assert (activity.company, activity.person, activity.assignee) == (company, person, owner)
    assert sorted(r.offset for r in activity.reminders.all()) == [timedelta(minutes=10), timedelta(days=1)]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"ends_at": "2030-03-10T08:00"}, "ends_at", "The end cannot be before the start."),
        ({"recurrence": "daily", "recurrence_until": "2036-01-01"}, "recurrence_until", "at most 5 years"),
        ({"recurrence": "weekly"}, "recurrence_until", "Choose the date the repetition ends."),
        ({"subject": ""}, "subject", "This field is required."),
        ({"starts_at": "0001-01-01T00:00", "reminders": ["1440"]}, "starts_at", "Choose a date between 1900 and 2999."),
    ],
)
def test_create_form_bad_input_is_shown_next_to_the_field_and_nothing_saved(client, owner, overrides, field, message):
    client.force_login(owner)

    response = client.post(url("activity-create"), activity_post(**overrides))

    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert message in response.content.decode()
    assert not Activity.objects.exists()


def test_create_form_assigning_to_an_inactive_user_is_an_error_on_the_field(client, manager):
    gone = make_user(Role.SALES_REP, team=manager.team, is_active=False)
    client.force_login(manager)

    response = client.post(url("activity-create"), activity_post(kind="assignment", assignee=gone.pk))

    assert response.status_code == 200
    assert "no longer active" in response.context["form"].errors["assignee"][0]
    assert not Activity.objects.exists()


def test_edit_form_saves_and_forbids_those_who_may_not_change(client, owner, manager, teammate):
    activity = ActivityFactory(assignee=owner, starts_at=kyiv(2030, 3, 10, 9))
    client.force_login(manager)

    response = client.post(url("activity-update", activity.pk), activity_post(subject="Змінено", assignee=owner.pk))

    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.subject == "Змінено"
    client.force_login(teammate)
    assert client.get(url("activity-update", activity.pk)).status_code == 404


def test_readonly_user_cannot_open_the_planning_form(client, readonly):
    client.force_login(readonly)

    assert client.get(url("activity-create")).status_code == 403
    assert client.post(url("activity-create"), activity_post()).status_code == 403
    assert not Activity.objects.exists()


def test_detail_shows_the_activity_and_its_changes(client, owner, django_assert_max_num_queries):
    activity = plan(owner, reminder_offsets=[timedelta(minutes=10)])
    services.activity_reschedule(activity=activity, actor=owner, starts_at=kyiv(2030, 3, 11, 9))
    services.activity_update(activity=activity, actor=owner, subject="Новий")
    client.force_login(owner)

    with django_assert_max_num_queries(12):
        response = client.get(url("activity-detail", activity.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="change"') == 3
    assert "10.03.2030 09:00" in html
    assert "11.03.2030 09:00" in html


def test_person_options_are_the_companys_people(client, owner, company, person):
    PersonFactory(company=CompanyFactory(owner=owner), last_name="Інший")
    client.force_login(owner)

    response = client.get(url("activity-person-options") + f"?company={company.pk}")

    assert f'value="{person.pk}"' in response.content.decode()
    assert "Інший" not in response.content.decode()


def test_assignment_list_shows_incoming_and_outgoing_with_state(client, manager, owner, django_assert_max_num_queries):
    for _ in range(3):
        assignment(manager, owner)
    accepted = assignment(manager, owner)
    services.assignment_accept(activity=accepted, actor=owner)
    client.force_login(manager)

    with django_assert_max_num_queries(9):
        response = client.get(url("assignment-list"))

    html = response.content.decode()
    assert html.count('data-testid="assignment-state"') == 4
    assert "Accepted" in html
    assert "Waiting for an answer" in html
    client.force_login(owner)
    filtered = client.get(url("assignment-list") + "?state=pending", headers=HTMX)
    assert filtered.content.decode().count('data-testid="accept"') == 3
    assert b"<html" not in filtered.content


# --- the card tab ----------------------------------------------------------------------------------------


def test_cards_have_an_activities_tab():
    assert "activities" in [tab.key for tab in registry.tabs()]
    assert "person-activities" in [tab.key for tab in registry.tabs(for_person=True)]


def test_company_tab_lists_open_and_past_activities_with_a_plan_button(
    client, owner, company, django_assert_max_num_queries
):
    for index in range(3):
        ActivityFactory(assignee=owner, company=company, starts_at=today_at(9, index + 1))
        ActivityFactory(assignee=owner, company=company, starts_at=today_at(9, -index - 1), status=ActivityStatus.DONE)
    client.force_login(owner)
    card = client.get(url("company-detail", company.pk)).content.decode()
    assert url("company-activities", company.pk) in card

    with django_assert_max_num_queries(8):
        response = client.get(url("company-activities", company.pk), headers=HTMX)

    html = response.content.decode()
    assert html.count('data-testid="activity-row"') == 6
    assert f"?company={company.pk}" in html
    assert 'data-testid="plan-activity"' in html
    assert client.get(url("company-activities", company.pk))["Location"] == url("company-detail", company.pk)


def test_tab_pages_past_activities_by_cursor(client, owner, company):
    for index in range(selectors_activities.TAB_SIZE + 2):
        ActivityFactory(assignee=owner, company=company, starts_at=today_at(9, -index - 1), status=ActivityStatus.DONE)
    client.force_login(owner)

    first = client.get(url("company-activities", company.pk), headers=HTMX).content.decode()
    cursor = re.search(r"\?before=([0-9_]+)", first)[1]
    second = client.get(url("company-activities", company.pk) + f"?before={cursor}", headers=HTMX).content.decode()

    assert first.count('data-testid="activity-row"') == selectors_activities.TAB_SIZE
    assert second.count('data-testid="activity-row"') == 2
    assert 'data-testid="load-more"' not in second


def test_person_tab_lists_the_persons_activities(client, owner, person):
    ActivityFactory(assignee=owner, person=person, company=person.company)
    client.force_login(owner)

    response = client.get(url("person-activities", person.pk), headers=HTMX)

    assert response.content.decode().count('data-testid="activity-row"') == 1
    assert f"?person={person.pk}" in response.content.decode()


# --- outsiders -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("activity-detail", "get"),
        ("activity-update", "get"),
        ("activity-update", "post"),
        ("activity-complete", "get"),
        ("activity-complete", "post"),
        ("activity-reschedule", "post"),
        ("activity-snooze", "post"),
        ("activity-cancel", "post"),
        ("assignment-accept", "post"),
        ("assignment-decline", "post"),
        ("assignment-complete", "post"),
    ],
)
def test_outsider_gets_404_on_every_activity_url(client, manager, owner, outsider, name, method):
    activity = assignment(manager, owner)
    client.force_login(outsider)

    response = getattr(client, method)(url(name, activity.pk), {"by": "15m", "reason": "x"})

    assert response.status_code == 404
    activity.refresh_from_db()
    assert (activity.status, activity.assignment_state) == (ActivityStatus.PLANNED, AssignmentState.PENDING)


@pytest.mark.parametrize("name", ["company-activities", "person-activities", "person-congratulate"])
def test_outsider_gets_404_on_card_urls(client, outsider, person, name):
    client.force_login(outsider)
    pk = person.company_id if name.startswith("company") else person.pk

    response = (client.post if name == "person-congratulate" else client.get)(url(name, pk), headers=HTMX)

    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_an_activity_about_a_deal_logs_the_contact_about_it_too(owner, company):
    related = CompanyFactory(owner=owner)  # any model stands for a deal, order or ticket of a higher app
    activity = plan(owner, company=company, content_object=related)

    done = services.activity_complete(activity=activity, actor=owner)

    assert activity.subject_object == related
    assert done.interaction.subject_object == related


def test_person_card_offers_congratulate_on_the_birthday(client, owner):
    today = timezone.localdate()
    person = PersonFactory(company=CompanyFactory(owner=owner), birth_day=today.day, birth_month=today.month)
    other = PersonFactory(company=person.company, birth_day=1 if today.day != 1 else 2, birth_month=today.month)
    client.force_login(owner)

    card = client.get(reverse("contacts:person-detail", args=[person.pk])).content.decode()
    assert reverse("contacts:person-congratulate", args=[person.pk]) in card
    other_card = client.get(reverse("contacts:person-detail", args=[other.pk])).content.decode()
    assert 'data-testid="congratulate"' not in other_card

    response = client.post(reverse("contacts:person-congratulate", args=[person.pk]))
    activity = Activity.objects.get(person=person)
    assert response.status_code == 302
    assert activity.assignee == owner
    assert activity.kind in (ActivityKind.CALL, ActivityKind.EMAIL)
