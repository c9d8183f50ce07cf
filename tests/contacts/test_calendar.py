"""The calendar (issue 5, items 4 and 5): JSON events scoped by visible_to, drag-to-reschedule, the iCal feed."""

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from contacts import selectors_calendar, services_calendar
from contacts.models import ActivityKind, ActivityStatus, CalendarFeed, Reminder
from crm.models import Role
from tests.conftest import make_user
from tests.contacts.factories import ActivityFactory, CompanyFactory

pytestmark = pytest.mark.django_db

KYIV = ZoneInfo("Europe/Kyiv")
HTMX = {"HX-Request": "true"}
EVENTS = reverse("contacts:calendar-events")


def kyiv(*args: int) -> datetime:
    return datetime(*args, tzinfo=KYIV)


def events(client: Client, start: str = "2026-10-01", end: str = "2026-11-01", **params: str):
    response = client.get(EVENTS, {"start": start, "end": end, **params})
    assert response.status_code == 200, response.content
    return response.json()


def subjects(payload: list[dict]) -> set[str]:
    return {event["title"] for event in payload}


@pytest.fixture
def october(owner, teammate, manager, outsider):
    """One activity per user in October 2026 (Kyiv), plus one of the owner's outside the month."""
    return {
        "own": ActivityFactory(assignee=owner, subject="own", starts_at=kyiv(2026, 10, 5, 10)),
        "teammate": ActivityFactory(assignee=teammate, subject="teammate", starts_at=kyiv(2026, 10, 6, 11)),
        "manager": ActivityFactory(assignee=manager, subject="manager", starts_at=kyiv(2026, 10, 7, 12)),
        "outsider": ActivityFactory(assignee=outsider, subject="outsider", starts_at=kyiv(2026, 10, 8, 9)),
        "november": ActivityFactory(assignee=owner, subject="november", starts_at=kyiv(2026, 11, 1, 0)),
    }


# --- page ----------------------------------------------------------------------------------------------


def test_calendar_page_shows_the_calendar_and_the_feed(client, owner):
    client.force_login(owner)

    response = client.get(reverse("contacts:calendar"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-events-url="/contacts/calendar/events/"' in html
    assert 'data-time-zone="Europe/Kyiv"' in html
    assert "vendor/fullcalendar/index.global.min.js" in html
    assert "js/calendar.js" in html
    feed = CalendarFeed.objects.get(user=owner)
    assert f"/contacts/calendar/feed/{feed.token}.ics" in html
    assert 'name="calendar-scope"' not in html  # a representative has no team calendar
    assert 'href="/contacts/activities/new/?next=/contacts/calendar/"' in html
    assert "<script>" not in html  # no inline scripts (CSP)
    # FullCalendar's empty <style> element is allowed on this page only, by the empty string's hash.
    assert "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "sha256-" not in client.get(reverse("crm:home"))["Content-Security-Policy"]  # this page only


def test_calendar_page_in_ukrainian_loads_the_locale(client, owner):
    owner.language = "uk"
    owner.save(update_fields=["language"])
    client.force_login(owner)

    html = client.get(reverse("contacts:calendar")).content.decode()

    assert 'data-locale="uk"' in html
    assert "vendor/fullcalendar-locales/uk.global.min.js" in html


def test_calendar_page_has_a_team_toggle_for_managers(client, manager, owner, outsider):
    client.force_login(manager)

    html = client.get(reverse("contacts:calendar")).content.decode()

    assert 'name="calendar-scope"' in html
    assert f'<option value="{owner.pk}">' in html
    assert f'<option value="{outsider.pk}">' not in html


def test_calendar_needs_login(client):
    response = client.get(reverse("contacts:calendar"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_calendar_is_in_the_navigation(client, owner):
    client.force_login(owner)

    html = client.get(reverse("crm:home")).content.decode()

    assert 'data-nav="calendar"' in html
    assert "bi-calendar3" in html


# --- JSON events ---------------------------------------------------------------------------------------


def test_events_mine_are_only_my_activities_in_the_range(client, owner, october):
    client.force_login(owner)

    assert subjects(events(client)) == {"own"}


def test_events_representative_asking_for_the_team_gets_only_own(client, owner, teammate, october):
    client.force_login(owner)

    assert subjects(events(client, scope="team")) == {"own"}
    assert subjects(events(client, scope="team", user=str(teammate.pk))) == {"own"}


def test_events_manager_sees_the_team_but_never_an_outsider(client, manager, owner, outsider, october):
    client.force_login(manager)

    assert subjects(events(client)) == {"manager"}
    assert subjects(events(client, scope="team")) == {"own", "teammate", "manager"}
    assert subjects(events(client, scope="team", user=str(owner.pk))) == {"own"}
    assert subjects(events(client, scope="team", user=str(outsider.pk))) == set()


def test_events_team_view_names_the_assignee(client, manager, owner, october):
    client.force_login(manager)

    own = next(event for event in events(client, scope="team") if event["title"] == "own")

    assert own["extendedProps"]["assignee"] == owner.full_name


def test_events_director_sees_every_team(client, director, outsider, october):
    client.force_login(director)

    assert subjects(events(client, scope="team")) == {"own", "teammate", "manager", "outsider"}
    assert subjects(events(client, scope="team", user=str(outsider.pk))) == {"outsider"}


def test_events_are_render_ready(client, owner):
    now = timezone.now()
    overdue = ActivityFactory(assignee=owner, subject="late", starts_at=now - timedelta(hours=2))
    done = ActivityFactory(
        assignee=owner, subject="done", kind=ActivityKind.MEETING, starts_at=now - timedelta(hours=3),
        ends_at=now - timedelta(hours=2), status=ActivityStatus.DONE,
    )  # fmt: skip
    tomorrow = timezone.make_aware(datetime.combine(timezone.localdate(now) + timedelta(days=1), time.min))
    all_day = ActivityFactory(
        assignee=owner, subject="trip", kind=ActivityKind.VISIT, is_all_day=True,
        starts_at=tomorrow, ends_at=tomorrow + timedelta(days=1),
    )  # fmt: skip
    client.force_login(owner)
    today = timezone.localdate(now)

    payload = {e["id"]: e for e in events(client, str(today - timedelta(days=3)), str(today + timedelta(days=5)))}

    late = payload[overdue.pk]
    assert late["url"] == f"/contacts/activities/{overdue.pk}/"
    assert {"fc-kind-call", "fc-status-planned", "fc-overdue"} <= set(late["classNames"])
    assert late["extendedProps"]["overdue"] is True
    assert late["editable"] is True
    assert late["start"] == timezone.localtime(overdue.starts_at).strftime("%Y-%m-%dT%H:%M:%S")
    assert "fc-overdue" not in payload[done.pk]["classNames"]
    assert "fc-status-done" in payload[done.pk]["classNames"]
    assert payload[done.pk]["editable"] is False
    trip = payload[all_day.pk]
    assert trip["allDay"] is True
    assert trip["start"] == str(today + timedelta(days=1))
    assert trip["end"] == str(today + timedelta(days=3))  # exclusive
    assert trip["durationEditable"] is False


@pytest.mark.parametrize("scope", ["mine", "team"])
def test_events_built_by_the_database_match_the_python_event(client, manager, scope):
    # The feed is one JSON text from PostgreSQL (calendar_events_json); a moved event is built in Python
    # (calendar_event): both must give FullCalendar the same objects.
    moment = timezone.now().replace(microsecond=0)
    # 25 October 2026: the clocks go back in Kyiv, so a local midnight is not 24 hours after the previous one.
    autumn = kyiv(2026, 10, 25)
    shapes = [
        {"starts_at": moment - timedelta(hours=2)},
        {"starts_at": moment + timedelta(hours=2), "ends_at": moment + timedelta(hours=3, minutes=30)},
        {"starts_at": moment - timedelta(hours=3), "ends_at": moment - timedelta(hours=1)},
        {"starts_at": moment - timedelta(hours=3), "ends_at": moment + timedelta(hours=1)},
        {"starts_at": moment - timedelta(days=1), "status": ActivityStatus.DONE, "kind": ActivityKind.MEETING},
        {"starts_at": moment - timedelta(days=2), "status": ActivityStatus.CANCELLED},
        {"starts_at": autumn, "is_all_day": True},
        {"starts_at": autumn, "ends_at": autumn + timedelta(days=2), "is_all_day": True},
        {"starts_at": timezone.make_aware(datetime.combine(timezone.localdate(), time.min)), "is_all_day": True},
        {"starts_at": kyiv(2026, 10, 24, 23, 30), "ends_at": kyiv(2026, 10, 25, 3, 15)},
        {"starts_at": moment + timedelta(days=1), "subject": 'Say "hi" \\ <b>Привіт</b>\n'},
    ]
    activities = [ActivityFactory(assignee=manager, **shape) for shape in shapes]
    client.force_login(manager)
    start, end = str(timezone.localdate() - timedelta(days=40)), str(timezone.localdate() + timedelta(days=20))

    payload = {e["id"]: e for e in events(client, start, end, scope=scope)}
    payload.update({e["id"]: e for e in events(client, "2026-10-20", "2026-10-30", scope=scope)})

    for activity in activities:
        expected = selectors_calendar.calendar_event(user=manager, activity=activity)
        if scope == "team":
            expected["extendedProps"]["assignee"] = manager.full_name
        assert payload[activity.pk] == expected


def test_events_range_takes_kyiv_wall_clock_times(client, owner):
    ActivityFactory(assignee=owner, subject="late evening", starts_at=kyiv(2026, 10, 31, 23, 30))
    client.force_login(owner)

    # FullCalendar (named time zone, no plugin) sends local times without an offset.
    assert subjects(events(client, "2026-10-01T00:00:00", "2026-11-01T00:00:00")) == {"late evening"}
    assert subjects(events(client, "2026-11-01T00:00:00", "2026-11-02T00:00:00")) == set()
    assert subjects(events(client, "2026-10-31T21:00:00Z", "2026-10-31T22:00:00Z")) == {"late evening"}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start": "2026-10-01"},
        {"start": "yesterday", "end": "2026-11-01"},
        {"start": "2026-10-01", "end": "2026-13-01"},
        {"start": "2026-11-01", "end": "2026-10-01"},
        {"start": "2026-01-01", "end": "2026-12-31"},
        {"start": "2026-10-01", "end": "2026-11-01", "scope": "everyone"},
        {"start": "2026-10-01", "end": "2026-11-01", "scope": "team", "user": "me"},
        {"start": "2026-10-01", "end": "2026-11-01", "scope": "team", "user": "9" * 30},
    ],
)
def test_events_bad_range_is_a_400_with_a_message(client, owner, params):
    client.force_login(owner)

    response = client.get(EVENTS, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_events_need_login(client):
    response = client.get(EVENTS, {"start": "2026-10-01", "end": "2026-11-01"})

    assert response.status_code == 302


@pytest.mark.parametrize("scope", ["mine", "team"])
def test_events_run_a_constant_number_of_queries(
    client, manager, owner, teammate, scope, django_assert_max_num_queries
):
    company = CompanyFactory(owner=owner)
    client.force_login(manager)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            events(client, scope=scope)
        return len(queries)

    for day in range(1, 4):
        ActivityFactory(assignee=manager, starts_at=kyiv(2026, 10, day, 9), company=company)
        ActivityFactory(assignee=owner, starts_at=kyiv(2026, 10, day, 10))
    count()  # the first request also loads the user's roles and teams into the cache (crm.access)
    three = count()
    for day in range(4, 20):
        ActivityFactory(assignee=manager, starts_at=kyiv(2026, 10, day, 9))
        ActivityFactory(assignee=teammate, starts_at=kyiv(2026, 10, day, 10))

    assert count() == three
    with django_assert_max_num_queries(6):
        assert len(events(client, scope=scope)) == (19 if scope == "mine" else 38)


# --- drag to reschedule --------------------------------------------------------------------------------


def move_url(activity) -> str:
    return reverse("contacts:calendar-move", args=[activity.pk])


def test_move_reschedules_the_activity_and_its_unsent_reminders(client, owner):
    activity = ActivityFactory(assignee=owner, starts_at=kyiv(2030, 3, 10, 9), ends_at=kyiv(2030, 3, 10, 10))
    unsent = Reminder.objects.create(
        activity=activity, offset=timedelta(minutes=10), remind_at=kyiv(2030, 3, 10, 8, 50)
    )
    sent = Reminder.objects.create(
        activity=activity, offset=timedelta(days=1), remind_at=kyiv(2030, 3, 9, 9), sent_at=kyiv(2030, 3, 9, 9)
    )
    client.force_login(owner)

    response = client.post(move_url(activity), {"start": "2030-03-12T09:00:00"})

    assert response.status_code == 200
    activity.refresh_from_db()
    unsent.refresh_from_db()
    assert activity.starts_at == kyiv(2030, 3, 12, 9)
    assert activity.ends_at == kyiv(2030, 3, 12, 10)  # the duration is kept
    assert unsent.remind_at == kyiv(2030, 3, 12, 8, 50)
    sent.refresh_from_db()
    assert sent.remind_at == kyiv(2030, 3, 9, 9)  # already delivered: left as it was
    assert response.json()["id"] == activity.pk
    assert response.json()["start"] == "2030-03-12T09:00:00"


def test_move_resize_sets_the_end(client, owner):
    activity = ActivityFactory(assignee=owner, starts_at=kyiv(2030, 3, 10, 9), ends_at=kyiv(2030, 3, 10, 10))
    client.force_login(owner)

    response = client.post(move_url(activity), {"start": "2030-03-10T09:00:00", "end": "2030-03-10T11:30:00"})

    assert response.status_code == 200
    activity.refresh_from_db()
    assert activity.ends_at == kyiv(2030, 3, 10, 11, 30)


def test_move_all_day_event_to_a_day_keeps_its_time_of_day(client, owner):
    activity = ActivityFactory(assignee=owner, is_all_day=True, starts_at=kyiv(2030, 3, 10, 0))
    client.force_login(owner)

    response = client.post(move_url(activity), {"start": "2030-03-15"})

    assert response.status_code == 200
    activity.refresh_from_db()
    assert activity.starts_at == kyiv(2030, 3, 15, 0)
    assert response.json()["allDay"] is True


def test_move_by_a_manager_of_the_team(client, manager, owner):
    activity = ActivityFactory(assignee=owner, starts_at=kyiv(2030, 3, 10, 9))
    client.force_login(manager)

    response = client.post(move_url(activity), {"start": "2030-03-11T09:00:00"})

    assert response.status_code == 200


def test_move_without_permission_is_a_403_and_changes_nothing(client, readonly):
    activity = ActivityFactory(assignee=readonly, starts_at=kyiv(2030, 3, 10, 9))
    client.force_login(readonly)

    response = client.post(move_url(activity), {"start": "2030-03-11T09:00:00"})

    assert response.status_code == 403
    assert response.json()["error"]
    activity.refresh_from_db()
    assert activity.starts_at == kyiv(2030, 3, 10, 9)


def test_move_an_outsiders_activity_is_a_404(client, owner, outsider):
    activity = ActivityFactory(assignee=outsider, starts_at=kyiv(2030, 3, 10, 9))
    client.force_login(owner)

    assert client.post(move_url(activity), {"start": "2030-03-11T09:00:00"}).status_code == 404
    assert client.post("/contacts/calendar/events/999999999/move/", {"start": "2030-03-11"}).status_code == 404
    activity.refresh_from_db()
    assert activity.starts_at == kyiv(2030, 3, 10, 9)


@pytest.mark.parametrize(
    "data", [{}, {"start": "soon"}, {"start": "2030-03-11T09:00:00", "end": "2030-03-11T08:00:00"}]
)
def test_move_bad_input_is_a_400_with_a_message(client, owner, data):
    activity = ActivityFactory(assignee=owner, starts_at=kyiv(2030, 3, 10, 9))
    client.force_login(owner)

    response = client.post(move_url(activity), data)

    assert response.status_code == 400
    assert response.json()["error"]
    activity.refresh_from_db()
    assert activity.starts_at == kyiv(2030, 3, 10, 9)


def test_move_a_completed_activity_is_a_400(client, owner):
    activity = ActivityFactory(assignee=owner, starts_at=kyiv(2030, 3, 10, 9), status=ActivityStatus.DONE)
    client.force_login(owner)

    response = client.post(move_url(activity), {"start": "2030-03-11T09:00:00"})

    assert response.status_code == 400
    assert "completed" in response.json()["error"]


def test_move_needs_the_csrf_header(owner):
    activity = ActivityFactory(assignee=owner, starts_at=kyiv(2030, 3, 10, 9))
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    page = client.get(reverse("contacts:calendar")).content.decode()
    token = json.loads(page.split("hx-headers='", 1)[1].split("'", 1)[0])["X-CSRFToken"]

    assert client.post(move_url(activity), {"start": "2030-03-11T09:00:00"}).status_code == 403
    response = client.post(move_url(activity), {"start": "2030-03-11T09:00:00"}, headers={"X-CSRFToken": token})

    assert response.status_code == 200


def test_move_is_post_only(client, owner):
    activity = ActivityFactory(assignee=owner)
    client.force_login(owner)

    assert client.get(move_url(activity)).status_code == 405


# --- iCal feed -----------------------------------------------------------------------------------------


def feed_url(token: str) -> str:
    return reverse("contacts:calendar-feed", args=[token])


def read_feed(client: Client, token: str) -> Calendar:
    response = client.get(feed_url(token))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def by_summary(calendar: Calendar) -> dict[str, object]:
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


@time_machine.travel(datetime(2026, 10, 1, 9, tzinfo=UTC), tick=False)
def test_feed_has_the_users_activities_from_a_month_back_to_a_year_ahead(client, owner, teammate):
    company = CompanyFactory(owner=owner, name="ТОВ «Ромашка»")
    ActivityFactory(assignee=owner, subject="past", starts_at=kyiv(2026, 9, 5, 10))
    ActivityFactory(
        assignee=owner, subject="meeting", kind=ActivityKind.MEETING, starts_at=kyiv(2026, 10, 26, 9),
        ends_at=kyiv(2026, 10, 26, 10, 30), description="Обговорити договір", company=company,
    )  # fmt: skip
    ActivityFactory(assignee=owner, subject="next year", starts_at=kyiv(2027, 9, 20, 10))
    ActivityFactory(assignee=owner, subject="too old", starts_at=kyiv(2026, 8, 30, 10))
    ActivityFactory(assignee=owner, subject="too far", starts_at=kyiv(2027, 10, 2, 10))
    ActivityFactory(assignee=owner, subject="called off", starts_at=kyiv(2026, 10, 3, 10), status="cancelled")
    trip = ActivityFactory(
        assignee=owner, subject="trip", is_all_day=True, starts_at=kyiv(2026, 10, 14), ends_at=kyiv(2026, 10, 15)
    )
    ActivityFactory(assignee=teammate, subject="teammate's", starts_at=kyiv(2026, 10, 5, 10))
    token = services_calendar.calendar_feed_get_or_create(user=owner).token

    events_ = by_summary(read_feed(client, token))  # no login needed

    assert set(events_) == {"past", "meeting", "next year", "called off", "trip"}
    meeting = events_["meeting"]
    # DST: 09:00 in Kyiv on 2026-10-26 (winter time since Oct 25) is 07:00 UTC.
    assert meeting.decoded("DTSTART") == datetime(2026, 10, 26, 7, tzinfo=UTC)
    assert meeting["DTSTART"].to_ical() == b"20261026T070000Z"
    assert meeting.decoded("DTEND") == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)
    assert "Обговорити договір" in str(meeting["DESCRIPTION"])
    assert "ТОВ «Ромашка»" in str(meeting["DESCRIPTION"])
    assert str(meeting["STATUS"]) == "CONFIRMED"
    assert str(meeting["URL"]).endswith(f"/contacts/activities/{meeting_pk(events_)}/")
    assert str(events_["called off"]["STATUS"]) == "CANCELLED"
    assert events_["trip"].decoded("DTSTART") == date(2026, 10, 14)
    assert events_["trip"].decoded("DTEND") == date(2026, 10, 16)  # exclusive
    assert str(events_["trip"]["UID"]).startswith(f"activity-{trip.pk}@")


def meeting_pk(events_: dict) -> int:
    return int(str(events_["meeting"]["UID"]).split("@")[0].removeprefix("activity-"))


@time_machine.travel(datetime(2026, 6, 1, 9, tzinfo=UTC), tick=False)
def test_feed_summer_time_and_stable_uids(client, owner):
    ActivityFactory(assignee=owner, subject="summer", starts_at=kyiv(2026, 7, 1, 9))
    token = services_calendar.calendar_feed_get_or_create(user=owner).token

    first, second = read_feed(client, token), read_feed(client, token)

    assert first.walk("VEVENT")[0]["DTSTART"].to_ical() == b"20260701T060000Z"  # UTC+3 in summer
    assert [str(e["UID"]) for e in first.walk("VEVENT")] == [str(e["UID"]) for e in second.walk("VEVENT")]


def test_feed_is_bounded(owner):
    now = timezone.now()
    ActivityFactory.create_batch(4, assignee=owner, starts_at=now + timedelta(days=1))
    original = selectors_calendar.FEED_MAX_EVENTS
    selectors_calendar.FEED_MAX_EVENTS = 3
    try:
        ics = selectors_calendar.calendar_feed_ics(user=owner, absolute_url=lambda path: f"http://testserver{path}")
    finally:
        selectors_calendar.FEED_MAX_EVENTS = original

    assert len(Calendar.from_ical(ics).walk("VEVENT")) == 3


def test_feed_runs_a_constant_number_of_queries(client, owner, django_assert_max_num_queries):
    token = services_calendar.calendar_feed_get_or_create(user=owner).token
    company = CompanyFactory(owner=owner)
    ActivityFactory.create_batch(5, assignee=owner, company=company)

    with django_assert_max_num_queries(3):
        assert len(read_feed(client, token).walk("VEVENT")) == 5


@pytest.mark.parametrize("token", ["wrong-token", "a" * 43, "x"])
def test_feed_wrong_token_is_a_404(client, owner, token):
    services_calendar.calendar_feed_get_or_create(user=owner)

    assert client.get(feed_url(token)).status_code == 404


def test_feed_odd_paths_are_404(client):
    assert client.get("/contacts/calendar/feed/.ics").status_code == 404
    assert client.get("/contacts/calendar/feed/a%27b.ics").status_code == 404


def test_feed_of_an_inactive_user_is_a_404(client, owner):
    token = services_calendar.calendar_feed_get_or_create(user=owner).token
    owner.is_active = False
    owner.save(update_fields=["is_active"])

    assert client.get(feed_url(token)).status_code == 404


def test_feed_get_or_create_keeps_the_token(owner):
    first = services_calendar.calendar_feed_get_or_create(user=owner)
    second = services_calendar.calendar_feed_get_or_create(user=owner)

    assert first.pk == second.pk
    assert first.token == second.token
    assert len(first.token) >= 40


def test_regenerate_makes_the_old_url_404(client, owner):
    old = services_calendar.calendar_feed_get_or_create(user=owner).token
    client.force_login(owner)

    response = client.post(reverse("contacts:calendar-feed-regenerate"))

    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:calendar")
    new = CalendarFeed.objects.get(user=owner).token
    assert new != old
    client.logout()
    assert client.get(feed_url(old)).status_code == 404
    assert client.get(feed_url(new)).status_code == 200


def test_regenerate_htmx_returns_the_panel_with_the_new_url(client, owner):
    old = services_calendar.calendar_feed_get_or_create(user=owner).token
    client.force_login(owner)

    response = client.post(reverse("contacts:calendar-feed-regenerate"), headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    new = CalendarFeed.objects.get(user=owner).token
    assert html.lstrip().startswith('<div class="card" id="calendar-feed"')
    assert feed_url(new) in html
    assert feed_url(old) not in html
    assert "<html" not in html


def test_regenerate_without_a_feed_creates_one(owner):
    feed = services_calendar.calendar_feed_regenerate(user=owner)

    assert CalendarFeed.objects.get(user=owner).token == feed.token


def test_regenerate_is_post_only_and_needs_login(client, owner):
    assert client.post(reverse("contacts:calendar-feed-regenerate")).status_code == 302  # to the login page
    client.force_login(owner)
    assert client.get(reverse("contacts:calendar-feed-regenerate")).status_code == 405


def test_readonly_user_still_has_an_own_calendar(client):
    user = make_user()
    ActivityFactory(assignee=user, subject="mine", starts_at=kyiv(2026, 10, 5, 10))
    client.force_login(user)

    assert client.get(reverse("contacts:calendar")).status_code == 200
    assert subjects(events(client)) == {"mine"}
    assert Role.SALES_REP not in user.roles
