"""A reminder arrives in the bell without a reload (issue 5, item 14).

A representative plans a meeting in five minutes with a "10 minutes before" reminder through the
form; the reminder task goes through the broker to a real worker process, and the bell, polling
every BELL_POLL_SECONDS, shows the notification on the page that is already open.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import Activity, Reminder
from contacts.tasks import reminders_send_due_task
from crm.celery import app as celery_app
from crm.models import Notification, Role
from tests import workers
from tests.conftest import make_user
from tests.crm.factories import TeamFactory
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

start_worker = workers.start_worker  # the real-worker fixture


def test_meeting_reminder_arrives_in_the_bell_without_reload(page: Page, live_server, settings, start_worker):
    # given: a worker on the broker, a short bell interval, a signed-in representative
    settings.BELL_POLL_SECONDS = 2
    start_worker("e2e")
    start_worker.wait_ready(1)
    rep = make_user(Role.SALES_REP, team=TeamFactory(), email_notifications=False)
    login(page, live_server, rep)

    # when: a meeting in 5 minutes with a reminder 10 minutes before, through the form
    page.goto(f"{live_server.url}/contacts/activities/new/")
    form = page.get_by_test_id("activity-form")
    form.locator("#id_kind").select_option("meeting")
    form.locator("#id_subject").fill("Зустріч щодо поставки")
    starts = timezone.localtime() + timedelta(minutes=5)
    form.locator("#id_starts_at").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    form.locator('input[name="reminders"][value="10"]').check()
    form.get_by_test_id("save").click()
    meeting = Activity.objects.get(subject="Зустріч щодо поставки")
    expect(page).to_have_url(f"{live_server.url}/contacts/activities/{meeting.pk}/")
    reminder = Reminder.objects.get(activity=meeting)
    assert reminder.remind_at == meeting.starts_at - timedelta(minutes=10)
    expect(page.get_by_test_id("bell-count")).to_have_count(0)

    # and: the beat's task goes through the broker to the real worker (not run eagerly here)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(celery_app.conf, "task_always_eager", False)
        assert reminders_send_due_task.delay().get(timeout=20) == 1

    # then: the bell shows it on the open page, without a reload
    expect(page.get_by_test_id("bell-count")).to_have_text("1", timeout=15_000)
    notification = Notification.objects.get(recipient=rep)
    assert notification.kind == "reminder"
    page.get_by_test_id("bell").click()
    entry = page.get_by_test_id("notification").first
    expect(entry).to_contain_text("Reminder: Зустріч щодо поставки")
    expect(entry).to_contain_text(timezone.localtime(meeting.starts_at).strftime("%H:%M"))
    reminder.refresh_from_db()
    assert reminder.sent_at is not None
