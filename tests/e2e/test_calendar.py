"""Browser: the calendar's month view and rescheduling an activity by dragging it to another day."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm.models import Role
from tests.conftest import make_user
from tests.contacts.factories import ActivityFactory
from tests.crm.factories import TeamFactory
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def drag(page: Page, source, target) -> None:
    """A real pointer drag: FullCalendar starts dragging only after the pointer has moved a few pixels."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 10, start["y"] + start["height"] / 2 + 10, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=20)
    page.mouse.up()


def test_drag_an_event_to_another_day(page: Page, live_server):
    owner = make_user(Role.SALES_REP, team=TeamFactory())
    today = timezone.localdate()
    first, target_day = date(today.year, today.month, 10), date(today.year, today.month, 17)
    activity = ActivityFactory(
        assignee=owner,
        subject="Зустріч з клієнтом",
        starts_at=timezone.make_aware(datetime.combine(first, time(10))),
        ends_at=timezone.make_aware(datetime.combine(first, time(11))),
    )
    login(page, live_server, owner)

    page.goto(f"{live_server.url}/contacts/calendar/")
    event = page.locator(f'.fc-daygrid-day[data-date="{first}"] [data-testid=calendar-event]')
    expect(event).to_contain_text("Зустріч з клієнтом")
    expect(page.locator(".fc-dayGridMonth-view")).to_be_visible()
    target = page.locator(f'.fc-daygrid-day[data-date="{target_day}"] .fc-daygrid-day-frame')
    with page.expect_response(lambda r: r.url.endswith(f"/calendar/events/{activity.pk}/move/")) as moved:
        drag(page, event, target)

    assert moved.value.status == 200
    activity.refresh_from_db()
    assert timezone.localtime(activity.starts_at) == timezone.make_aware(datetime.combine(target_day, time(10)))
    assert activity.ends_at - activity.starts_at == timedelta(hours=1)
    page.reload()
    moved_event = page.locator(f'.fc-daygrid-day[data-date="{target_day}"] [data-testid=calendar-event]')
    expect(moved_event).to_contain_text("Зустріч з клієнтом")
    expect(page.locator(f'.fc-daygrid-day[data-date="{first}"] [data-testid=calendar-event]')).to_have_count(0)


def test_a_refused_move_puts_the_event_back(page: Page, live_server, console_errors):
    owner = make_user(Role.SALES_REP, team=TeamFactory())
    today = timezone.localdate()
    first, target_day = date(today.year, today.month, 10), date(today.year, today.month, 17)
    activity = ActivityFactory(assignee=owner, starts_at=timezone.make_aware(datetime.combine(first, time(9))))
    login(page, live_server, owner)
    page.goto(f"{live_server.url}/contacts/calendar/")
    event = page.locator(f'.fc-daygrid-day[data-date="{first}"] [data-testid=calendar-event]')
    expect(event).to_be_visible()
    owner.groups.clear()  # the role (and the right to change activities) is taken away meanwhile

    target = page.locator(f'.fc-daygrid-day[data-date="{target_day}"] .fc-daygrid-day-frame')
    with page.expect_response(lambda r: r.url.endswith(f"/calendar/events/{activity.pk}/move/")) as moved:
        drag(page, event, target)

    assert moved.value.status == 403
    expect(page.get_by_test_id("calendar-error")).to_be_visible()
    expect(page.locator(f'.fc-daygrid-day[data-date="{first}"] [data-testid=calendar-event]')).to_have_count(1)
    activity.refresh_from_db()
    assert timezone.localdate(activity.starts_at) == first
    # Chromium logs every non-2xx fetch; this 403 is the expected answer, not a page error.
    console_errors[:] = [error for error in console_errors if "403 (Forbidden)" not in error]


def test_manager_switches_to_the_team_calendar(page: Page, live_server):
    team = TeamFactory()
    manager = make_user(Role.SALES_MANAGER, team=team)
    rep = make_user(Role.SALES_REP, team=team, full_name="Олена Коваль")
    day = timezone.localdate().replace(day=12)
    starts_at = timezone.make_aware(datetime.combine(day, time(9)))
    ActivityFactory(assignee=rep, subject="Дзвінок Олени", starts_at=starts_at)
    login(page, live_server, manager)
    page.goto(f"{live_server.url}/contacts/calendar/")
    expect(page.locator(".fc-dayGridMonth-view")).to_be_visible()
    expect(page.get_by_test_id("calendar-event")).to_have_count(0)

    page.locator("label[for=scope-team]").click()

    event = page.get_by_test_id("calendar-event")
    expect(event).to_contain_text("Дзвінок Олени")
    expect(event).to_have_attribute("title", re.compile(r"^Олена Коваль: Дзвінок Олени"))
    page.get_by_test_id("calendar-member").select_option(str(manager.pk))
    expect(page.get_by_test_id("calendar-event")).to_have_count(0)
