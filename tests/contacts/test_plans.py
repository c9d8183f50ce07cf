"""Work plans (issue 5, item 9): actual values, my plan, the team page, history, setting a plan."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template.defaultfilters import floatformat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.formats import localize

from contacts import registry
from contacts.models import ActivityStatus, Company, InteractionChannel, PlanPeriod, WorkPlan
from contacts.selectors_plans import NumberText, Period, my_plan, plan_actuals, plan_history, team_plans
from contacts.services_plans import workplan_save
from crm.models import Role
from tests.conftest import make_user
from tests.contacts.factories import ActivityFactory, CompanyFactory, InteractionFactory
from tests.crm.factories import TeamFactory

pytestmark = pytest.mark.django_db

KYIV = ZoneInfo("Europe/Kyiv")
MINE = reverse("contacts:plan-mine")
TEAM = reverse("contacts:plan-team")
HISTORY = reverse("contacts:plan-history")
EDIT = reverse("contacts:plan-edit")
HTMX = {"HX-Request": "true"}
# March 2025 in Kyiv: from 1 March 00:00 EET (UTC+2) to 1 April 00:00 EEST (UTC+3; DST began on 30 March).
MARCH = Period(PlanPeriod.MONTH, date(2025, 3, 1))
MARCH_START = datetime(2025, 2, 28, 22, 0, tzinfo=UTC)
MARCH_END = datetime(2025, 3, 31, 21, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def plan_values(**overrides):
    values = {
        "calls": 10,
        "meetings": 4,
        "visits": 2,
        "new_clients": 3,
        "won_amount": Decimal("100000.00"),
        "hours": Decimal("40.0"),
    }
    return {**values, **overrides}


def form_data(user, period="month", starts_on="2025-03-01", **overrides):
    data = {"user": user.pk, "period": period, "starts_on": starts_on, **plan_values()}
    return {**data, **overrides}


def touch(company, when):
    Company.objects.filter(pk=company.pk).update(created_at=when)


@pytest.fixture(autouse=True)
def without_won_provider():
    """These tests see contacts alone: the deals app's won-amount provider is set aside and put back."""
    installed = registry.plan_metric("won_amount")
    registry.unregister_plan_metric("won_amount")
    yield
    if installed is not None:
        registry.register_plan_metric("won_amount", installed)
    else:
        registry.unregister_plan_metric("won_amount")


@pytest.fixture
def provider(without_won_provider):
    """A won-amount provider like the deals app registers; it records its calls."""
    calls = []

    def won(users, start, end):
        calls.append(([u.pk for u in users], start, end))
        return {u.pk: Decimal("1500.50") + u.pk for u in users}

    registry.register_plan_metric("won_amount", won)
    return calls


# --- periods and actual values -------------------------------------------------------------------------


def test_periods_are_local_weeks_and_months_as_aware_datetimes():
    week = Period.of(PlanPeriod.WEEK, date(2025, 4, 2))  # a Wednesday
    assert week.starts_on == date(2025, 3, 31)
    assert week.start == datetime(2025, 3, 30, 21, 0, tzinfo=UTC)  # Monday 00:00 EEST
    assert week.end - week.start == timedelta(days=7)
    assert Period.of(PlanPeriod.MONTH, date(2025, 3, 17)) == MARCH
    assert (MARCH.start, MARCH.end) == (MARCH_START, MARCH_END)
    assert MARCH.shift(-3).starts_on == date(2024, 12, 1)
    assert week.shift(1).starts_on == date(2025, 4, 7)
    assert MARCH.elapsed() == 1
    assert MARCH.elapsed(MARCH_START - SECOND) == 0


def test_actuals_count_each_metric_inside_the_kyiv_period_only(owner, teammate):
    client_co = CompanyFactory(owner=teammate)  # the owner's contacts with a teammate's client still count
    inside = [MARCH_START, MARCH_START + timedelta(days=10), MARCH_END - SECOND]
    for when in inside:
        InteractionFactory(company=client_co, user=owner, occurred_at=when, channel=InteractionChannel.CALL_OUT)
    InteractionFactory(company=client_co, user=owner, occurred_at=inside[1], channel=InteractionChannel.CALL_IN)
    InteractionFactory(company=client_co, user=owner, occurred_at=inside[1], channel=InteractionChannel.MEETING)
    InteractionFactory(company=client_co, user=owner, occurred_at=inside[2], channel=InteractionChannel.VISIT)
    InteractionFactory(company=client_co, user=owner, occurred_at=inside[1], channel=InteractionChannel.EMAIL_OUT)
    for when in (MARCH_START - SECOND, MARCH_END):  # the local midnights just outside
        InteractionFactory(company=client_co, user=owner, occurred_at=when, channel=InteractionChannel.CALL_OUT)
    InteractionFactory(company=client_co, user=teammate, occurred_at=inside[1])
    for when in (MARCH_START, MARCH_END - SECOND, MARCH_END, MARCH_START - SECOND):
        touch(CompanyFactory(owner=owner), when)
    touch(client_co, inside[1])  # the teammate's new client
    done = {"assignee": owner, "status": ActivityStatus.DONE, "starts_at": inside[1]}
    ActivityFactory(**done, completed_at=MARCH_START, actual_duration=timedelta(minutes=90))
    ActivityFactory(**done, completed_at=MARCH_END - SECOND, actual_duration=timedelta(minutes=45))
    ActivityFactory(**done, completed_at=MARCH_END, actual_duration=timedelta(hours=5))
    ActivityFactory(**done, completed_at=inside[1], actual_duration=None)
    ActivityFactory(assignee=owner, starts_at=inside[1], actual_duration=timedelta(hours=7))  # planned
    ActivityFactory(
        assignee=owner,
        starts_at=inside[1],
        status=ActivityStatus.CANCELLED,
        completed_at=inside[1],
        actual_duration=timedelta(hours=7),
    )

    actuals = plan_actuals(users=[owner, teammate], start=MARCH.start, end=MARCH.end)

    mine = actuals[owner.pk]
    assert (mine.calls, mine.meetings, mine.visits, mine.new_clients) == (4, 1, 1, 2)
    assert mine.hours == Decimal("2.3")  # 135 minutes
    assert mine.won_amount is None  # no provider: shown as "—"
    theirs = actuals[teammate.pk]
    assert (theirs.calls, theirs.meetings, theirs.new_clients, theirs.hours) == (1, 0, 1, 0)


def test_won_amount_comes_from_the_registered_provider(owner, teammate, provider):
    actuals = plan_actuals(users=[owner, teammate], start=MARCH.start, end=MARCH.end)

    assert actuals[owner.pk].won_amount == Decimal("1500.50") + owner.pk
    assert actuals[teammate.pk].won_amount == Decimal("1500.50") + teammate.pk
    assert provider == [([owner.pk, teammate.pk], MARCH_START, MARCH_END)]  # once for everyone


def test_actuals_run_a_constant_number_of_queries(team, provider):
    def count(n):
        users = [make_user(Role.SALES_REP, team=team) for _ in range(n)]
        for user in users:
            InteractionFactory(user=user, occurred_at=MARCH_START + timedelta(days=2))
        with CaptureQueriesContext(connection) as queries:
            plan_actuals(users=users, start=MARCH.start, end=MARCH.end)
        return len(queries)

    assert count(3) == count(10) == 1  # the daily rollup and new clients together (the provider here runs none)


# --- plan vs actual and "behind" ----------------------------------------------------------------------


def test_behind_compares_the_share_done_with_the_share_of_the_period_gone(owner, manager):
    workplan_save(actor=manager, user=owner, period=PlanPeriod.MONTH, starts_on=date(2025, 3, 1), **plan_values())
    for day in range(4):
        InteractionFactory(user=owner, occurred_at=MARCH_START + timedelta(days=day, hours=10))
    for day in range(2):
        InteractionFactory(user=owner, occurred_at=MARCH_START + timedelta(days=day), channel=InteractionChannel.VISIT)

    # Half of March gone: 4 of 10 calls (40%) is within 10 points of 50%; 0 meetings of 4 is behind.
    with time_machine.travel(datetime(2025, 3, 16, tzinfo=KYIV), tick=False):
        progress = my_plan(user=owner, period=PlanPeriod.MONTH, starts_on=date(2025, 3, 20))
    metrics = {m.key: m for m in progress.metrics}
    assert progress.period == MARCH
    assert progress.elapsed_percent == 48
    assert (metrics["calls"].actual, metrics["calls"].plan, metrics["calls"].percent) == (4, 10, 40)
    assert not metrics["calls"].is_behind
    assert metrics["meetings"].is_behind
    assert metrics["visits"].percent == 100
    assert not metrics["visits"].is_behind
    assert metrics["won_amount"].actual is None
    assert not metrics["won_amount"].is_behind
    assert progress.is_behind

    # Before the month starts nobody is behind; a past month needs 90%.
    with time_machine.travel(datetime(2025, 2, 20, tzinfo=KYIV), tick=False):
        assert not my_plan(user=owner, period=PlanPeriod.MONTH, starts_on=date(2025, 3, 1)).is_behind
    metrics = {m.key: m for m in my_plan(user=owner, period=PlanPeriod.MONTH, starts_on=date(2025, 3, 1)).metrics}
    assert metrics["calls"].is_behind
    assert not metrics["visits"].is_behind


def test_team_plans_lists_members_with_plan_actual_and_behind(owner, teammate, manager, provider):
    period = Period.current(PlanPeriod.MONTH)
    workplan_save(actor=manager, user=owner, period=period.kind, starts_on=period.starts_on, **plan_values(calls=1))
    InteractionFactory(user=owner)

    plans = team_plans(viewer=manager, period=PlanPeriod.MONTH, starts_on=period.starts_on)

    assert plans.team == owner.team
    rows = {row.user: row for row in plans.rows}
    assert set(rows) == {owner, teammate, manager}
    assert rows[owner].plan.calls == 1
    assert {m.key: m.actual for m in rows[owner].metrics}["calls"] == 1
    assert {m.key: m.actual for m in rows[owner].metrics}["won_amount"] == Decimal("1500.50") + owner.pk
    assert rows[teammate].plan is None
    assert not rows[teammate].is_behind
    assert all(row.can_edit for row in plans.rows)


def test_plan_history_shows_past_periods_newest_first(owner, manager):
    current = Period.current(PlanPeriod.MONTH)
    last = current.shift(-1)
    workplan_save(actor=manager, user=owner, period=last.kind, starts_on=last.starts_on, **plan_values(calls=2))
    InteractionFactory(user=owner, occurred_at=last.start + timedelta(days=3))
    InteractionFactory(user=owner, occurred_at=last.start - timedelta(days=3))  # the month before
    InteractionFactory(user=owner, occurred_at=current.start + timedelta(hours=1))  # this month: not history

    with CaptureQueriesContext(connection) as queries:
        rows = plan_history(user=owner, period=PlanPeriod.MONTH)

    assert len(queries) == 3  # plans + two grouped actual queries (the daily rollup, new clients)
    assert [row.period for row in rows] == [current.shift(-n) for n in range(1, 13)]
    metrics = {m.key: m for m in rows[0].metrics}
    assert (metrics["calls"].actual, metrics["calls"].plan, metrics["calls"].percent) == (1, 2, 50)
    assert rows[0].is_behind  # a finished month at 50%
    assert {m.key: m.actual for m in rows[1].metrics}["calls"] == 1
    assert rows[1].plan is None


# --- workplan_save -------------------------------------------------------------------------------------


def test_workplan_save_creates_then_updates_one_row_per_period(owner, manager):
    plan = workplan_save(actor=manager, user=owner, period="month", starts_on=date(2025, 3, 1), **plan_values())
    assert (plan.team, plan.created_by, plan.calls, plan.won_amount) == (owner.team, manager, 10, Decimal("100000"))

    again = workplan_save(
        actor=manager, user=owner, period="month", starts_on=date(2025, 3, 1), **plan_values(calls=25)
    )

    assert again.pk == plan.pk
    assert WorkPlan.objects.get().calls == 25
    week = workplan_save(actor=manager, user=owner, period="week", starts_on=date(2025, 3, 3), **plan_values())
    assert week.pk != plan.pk


@pytest.mark.parametrize(
    ("period", "starts_on", "values", "field"),
    [
        ("week", date(2025, 3, 4), {}, "starts_on"),  # a Tuesday
        ("month", date(2025, 3, 2), {}, "starts_on"),
        ("month", date(2025, 3, 1), {"calls": -1}, "calls"),
        ("month", date(2025, 3, 1), {"won_amount": Decimal("-5")}, "won_amount"),
        ("month", date(2025, 3, 1), {"won_amount": Decimal("10.005")}, "won_amount"),
        ("month", date(2025, 3, 1), {"hours": Decimal("1.25")}, "hours"),
        ("month", date(2025, 3, 1), {"won_amount": Decimal("1e15")}, "won_amount"),
        ("year", date(2025, 3, 1), {}, "period"),
    ],
)
def test_workplan_save_rejects_bad_input_by_field(owner, manager, period, starts_on, values, field):
    with pytest.raises(ValidationError) as error:
        workplan_save(actor=manager, user=owner, period=period, starts_on=starts_on, **plan_values(**values))

    assert field in error.value.message_dict
    assert not WorkPlan.objects.exists()


def test_only_managers_of_the_team_directors_and_admins_set_plans(owner, teammate, manager, outsider, director):
    args = {"period": "month", "starts_on": date(2025, 3, 1), **plan_values()}
    for actor in (owner, outsider, make_user(), make_user(Role.MARKETING, team=owner.team)):
        with pytest.raises(PermissionDenied):
            workplan_save(actor=actor, user=teammate, **args)
    other_manager = make_user(Role.SALES_MANAGER, team=outsider.team)
    with pytest.raises(PermissionDenied):
        workplan_save(actor=other_manager, user=owner, **args)
    assert not WorkPlan.objects.exists()

    workplan_save(actor=director, user=outsider, **args)
    workplan_save(actor=make_user(Role.ADMINISTRATOR), user=owner, **args)
    workplan_save(actor=manager, user=teammate, **args)
    assert WorkPlan.objects.count() == 3


# --- pages ---------------------------------------------------------------------------------------------


def test_my_plan_page_shows_progress_bars_and_its_htmx_fragment(client, owner, manager):
    period = Period.current(PlanPeriod.MONTH)
    workplan_save(actor=manager, user=owner, period="month", starts_on=period.starts_on, **plan_values(calls=4))
    InteractionFactory(user=owner)
    client.force_login(owner)

    page = client.get(MINE)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-nav="plans"' in html
    assert 'data-percent="25"' in html  # 1 of 4 calls
    assert "style=" not in html.split("<main", 1)[1]  # CSP: widths come from data-percent (app.js)
    assert period.label in html
    assert page.headers["Vary"].count("HX-Request") == 1
    assert page.context["progress"].plan.calls == 4

    week = client.get(MINE, {"period": "week", "date": "2025-03-05"}, headers=HTMX)
    body = week.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="plan-progress"')
    assert week.context["progress"].period == Period(PlanPeriod.WEEK, date(2025, 3, 3))
    assert "date=2025-02-24" in body
    assert "date=2025-03-10" in body
    assert 'data-testid="no-plan"' in body


def test_my_plan_shows_a_dash_without_a_won_amount_provider(client, owner):
    client.force_login(owner)
    html = client.get(MINE).content.decode()
    won = re.search(r'data-metric="won_amount".*?data-testid="actual">([^<]*)<', html, re.S)
    assert won.group(1).strip() == "—"


def test_team_page_marks_who_is_behind(client, owner, teammate, manager):
    period = Period.current(PlanPeriod.MONTH).shift(-1)  # a finished month: below 90% is behind
    args = {"period": "month", "starts_on": period.starts_on}
    workplan_save(actor=manager, user=owner, **args, **plan_values(calls=10))
    workplan_save(actor=manager, user=teammate, **args, **plan_values(calls=1, meetings=0, visits=0, new_clients=0))
    WorkPlan.objects.filter(user=teammate).update(won_amount=0, hours=0)
    InteractionFactory(user=teammate, occurred_at=period.start + timedelta(days=1))
    client.force_login(manager)

    page = client.get(TEAM, {"period": "month", "date": period.starts_on.isoformat()})

    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(rf'<tr class="table-warning" data-behind="true" data-user="{owner.pk}"', html)
    assert not re.search(rf'data-behind="true" data-user="{teammate.pk}"', html)
    assert f"{EDIT}?user={owner.pk}&amp;period=month&amp;starts_on={period.starts_on.isoformat()}" in html

    partial = client.get(TEAM, {"period": "week"}, headers=HTMX)
    assert partial.content.decode().lstrip().startswith('<div id="team-plans"')


def test_team_page_query_count_does_not_grow_with_the_team(client, director, provider):
    period = Period.current(PlanPeriod.MONTH)

    def page_queries(size):
        team = TeamFactory()
        for _ in range(size):
            member = make_user(Role.SALES_REP, team=team)
            workplan_save(actor=director, user=member, period="month", starts_on=period.starts_on, **plan_values())
            InteractionFactory(user=member)
            ActivityFactory(
                assignee=member,
                status=ActivityStatus.DONE,
                completed_at=period.start,
                actual_duration=timedelta(hours=1),
            )
        client.force_login(director)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(TEAM, {"team": team.pk})
        assert response.status_code == 200
        assert len(response.context["plans"].rows) == size
        return len(queries)

    small = page_queries(3)
    assert page_queries(10) == small
    assert small <= 12


def test_director_picks_any_team(client, director, owner, outsider):
    client.force_login(director)

    page = client.get(TEAM, {"team": outsider.team_id})

    assert page.status_code == 200
    assert [row.user for row in page.context["plans"].rows] == [outsider]
    assert 'data-testid="team-select"' in page.content.decode()


def test_representative_sees_only_own_plan(client, owner, teammate, manager, outsider):
    client.force_login(owner)
    assert client.get(MINE).status_code == 200
    assert client.get(TEAM).status_code == 403
    assert client.get(TEAM, {"team": outsider.team_id}).status_code == 403
    assert client.get(HISTORY).status_code == 200
    assert client.get(HISTORY, {"user": teammate.pk}).status_code == 404
    assert 'data-testid="plan-team-link"' not in client.get(MINE).content.decode()


def test_manager_cannot_open_another_team(client, manager, outsider, owner):
    client.force_login(manager)
    assert client.get(TEAM, {"team": outsider.team_id}).status_code == 404
    assert client.get(HISTORY, {"user": outsider.pk}).status_code == 404
    assert client.get(HISTORY, {"user": owner.pk}).status_code == 200


def test_users_without_a_role_get_403(client, readonly):
    client.force_login(readonly)
    for url in (MINE, TEAM, HISTORY, EDIT):
        assert client.get(url).status_code == 403


def test_representative_cannot_set_plans(client, owner, teammate):
    client.force_login(owner)

    assert client.get(EDIT, {"user": teammate.pk}).status_code == 403
    assert client.post(EDIT, form_data(teammate)).status_code == 403
    assert client.post(EDIT, form_data(owner)).status_code == 403
    assert not WorkPlan.objects.exists()


def test_manager_sets_a_plan_through_the_form(client, owner, manager):
    client.force_login(manager)

    form = client.get(EDIT, {"user": owner.pk, "period": "week", "starts_on": "2025-03-05"})
    assert form.status_code == 200
    assert form.context["form"].initial["starts_on"] == date(2025, 3, 3)
    response = client.post(f"{EDIT}?user={owner.pk}", form_data(owner))

    assert response.status_code == 302
    assert response.url == f"{TEAM}?period=month&date=2025-03-01&team={owner.team_id}"
    plan = WorkPlan.objects.get()
    assert (plan.user, plan.team, plan.created_by, plan.hours) == (owner, owner.team, manager, Decimal("40.0"))
    # The form of an existing plan starts from its values.
    again = client.get(EDIT, {"user": owner.pk, "period": "month", "starts_on": "2025-03-01"})
    assert again.context["form"].initial["calls"] == 10


def test_manager_cannot_set_plans_of_another_team(client, manager, outsider):
    client.force_login(manager)

    assert client.get(EDIT, {"user": outsider.pk}).status_code == 403
    response = client.post(EDIT, form_data(outsider))

    assert response.status_code == 200
    assert "user" in response.context["form"].errors
    assert not WorkPlan.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"period": "week", "starts_on": "2025-03-04"}, "starts_on", "A weekly plan starts on a Monday."),
        ({"starts_on": "2025-03-15"}, "starts_on", "A monthly plan starts on the 1st of the month."),
        ({"meetings": "-2"}, "meetings", "Enter a whole number of 0 or more."),
        ({"won_amount": "12.345"}, "won_amount", "Use at most 2 decimal places."),
        ({"hours": "-1"}, "hours", "The amount cannot be negative."),
        ({"calls": "many"}, "calls", "Enter a whole number."),
    ],
)
def test_bad_plan_input_shows_a_message_next_to_the_field(client, owner, manager, overrides, field, message):
    client.force_login(manager)

    response = client.post(EDIT, form_data(owner, **overrides))

    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    html = response.content.decode()
    assert re.search(rf'id="error_\d+_id_{field}"', html)  # crispy renders it under the field
    assert not WorkPlan.objects.exists()


def test_plan_form_htmx_get_returns_the_form_fragment(client, owner, manager):
    client.force_login(manager)
    response = client.get(EDIT, {"user": owner.pk}, headers=HTMX)
    assert response.content.decode().lstrip().startswith('<form method="post"')


def test_history_page_lists_past_periods(client, owner, manager):
    last = Period.current(PlanPeriod.MONTH).shift(-1)
    workplan_save(actor=manager, user=owner, period="month", starts_on=last.starts_on, **plan_values())
    client.force_login(manager)

    page = client.get(HISTORY, {"user": owner.pk})

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-period="{last.starts_on.isoformat()}"' in html
    assert str(owner) in html


@pytest.mark.parametrize("language", ["uk", "en"])
def test_plan_values_are_written_as_floatformat_writes_them(language):
    # NumberText replaces `floatformat:"-2g"` (amounts) and `{{ value }}` (counts) on the plan pages.
    values = ["0", "1", "0.1", "12.5", "999.99", "1000", "1234.5", "1234567.891", "1500.505", "0.005", "20000.00"]
    with translation.override(language):
        text = NumberText()
        for value in map(Decimal, values):
            assert text(value, is_amount=True) == floatformat(value, "-2g"), value
        for count in (0, 7, 1234, 1234567):
            assert text(count, is_amount=False) == str(localize(count))
        assert text(None, is_amount=True) == "—"
