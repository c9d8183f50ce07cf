from datetime import datetime, time
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from crm import selectors, services
from crm.models import NotificationKind, NotificationPreference
from crm.tasks import notification_email_task
from tests.crm.factories import NotificationFactory

pytestmark = pytest.mark.django_db

KYIV = ZoneInfo("Europe/Kyiv")
UTC = ZoneInfo("UTC")


@pytest.fixture
def queued(django_capture_on_commit_callbacks):
    """Run notify() and return the (args, kwargs) of every e-mail task queued on commit."""

    def run(**kwargs):
        with (
            mock.patch.object(notification_email_task, "apply_async") as apply_async,
            django_capture_on_commit_callbacks(execute=True),
        ):
            notification = services.notify(**kwargs)
        return notification, [call.kwargs for call in apply_async.call_args_list]

    return run


def test_bell_off_still_records_the_notification_as_read(owner, queued):
    NotificationPreference.objects.create(user=owner, kind="reminder", in_app=False, by_email=True)

    notification, calls = queued(recipient=owner, title="Meeting", kind="reminder")

    notification.refresh_from_db()
    assert notification.read_at is not None
    assert selectors.notification_unread_count(user=owner) == 0
    assert len(calls) == 1


def test_email_off_for_a_kind_wins_over_the_users_switch(owner, queued):
    owner.email_notifications = True
    owner.save()
    NotificationPreference.objects.create(user=owner, kind="birthday", in_app=True, by_email=False)

    notification, calls = queued(recipient=owner, title="Birthday", kind="birthday")

    assert calls == []
    assert notification.read_at is None
    _other, calls = queued(recipient=owner, title="Reminder", kind="reminder")  # no row: the switch
    assert len(calls) == 1


def test_email_on_for_a_kind_wins_over_the_users_switch(owner, queued):
    owner.email_notifications = False
    owner.save()
    NotificationPreference.objects.create(user=owner, kind="assignment", in_app=True, by_email=True)

    _n, calls = queued(recipient=owner, title="Assigned", kind="assignment")
    assert len(calls) == 1
    _n, calls = queued(recipient=owner, title="System", kind="system")
    assert calls == []


@pytest.mark.parametrize(
    ("start", "end", "local_now", "expected_end"),
    [
        (time(22), time(7), datetime(2027, 5, 10, 23, 30), datetime(2027, 5, 11, 7, 0)),  # wraps midnight
        (time(22), time(7), datetime(2027, 5, 11, 3, 0), datetime(2027, 5, 11, 7, 0)),
        (time(22), time(7), datetime(2027, 5, 11, 7, 0), None),
        (time(22), time(7), datetime(2027, 5, 11, 12, 0), None),
        (time(13), time(14), datetime(2027, 5, 11, 13, 15), datetime(2027, 5, 11, 14, 0)),
        (time(13), time(14), datetime(2027, 5, 11, 12, 59), None),
        # The night the clocks go forward: 07:00 is 04:00 UTC (EEST), not 05:00.
        (time(22), time(7), datetime(2026, 3, 28, 23, 0), datetime(2026, 3, 29, 7, 0)),
    ],
)
def test_quiet_hours_end(owner, start, end, local_now, expected_end):
    owner.quiet_hours_start, owner.quiet_hours_end = start, end
    at = local_now.replace(tzinfo=KYIV)

    result = services.quiet_hours_end(user=owner, at=at.astimezone(UTC))

    assert result == (expected_end.replace(tzinfo=KYIV) if expected_end else None)


def test_quiet_hours_end_on_the_dst_night_is_the_right_instant(owner):
    owner.quiet_hours_start, owner.quiet_hours_end = time(22), time(7)
    end = services.quiet_hours_end(user=owner, at=datetime(2026, 3, 28, 21, 0, tzinfo=UTC))
    assert end.astimezone(UTC) == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)


def test_email_during_quiet_hours_waits_for_their_end_but_the_bell_shows_at_once(owner, queued):
    owner.quiet_hours_start, owner.quiet_hours_end = time(22), time(7)
    owner.save()
    now = datetime(2027, 5, 10, 23, 30, tzinfo=KYIV)

    notification, calls = queued(recipient=owner, title="Late meeting", kind="reminder", now=now)

    assert calls == [{"eta": datetime(2027, 5, 11, 7, 0, tzinfo=KYIV)}]
    assert notification.read_at is None
    assert selectors.notification_unread_count(user=owner) == 1


def test_email_outside_quiet_hours_goes_at_once(owner, queued):
    owner.quiet_hours_start, owner.quiet_hours_end = time(22), time(7)
    owner.save()

    _n, calls = queued(recipient=owner, title="Day meeting", now=datetime(2027, 5, 10, 12, 0, tzinfo=KYIV))

    assert len(calls) == 1
    assert "eta" not in calls[0]


def test_email_task_retries_on_smtp_errors_and_then_sends(owner, monkeypatch):
    from smtplib import SMTPServerDisconnected

    notification = NotificationFactory(recipient=owner)
    real_send = services.send_mail
    attempts = []

    def flaky(**kwargs):
        attempts.append(1)
        if len(attempts) < 3:
            raise SMTPServerDisconnected("try later")
        return real_send(**kwargs)

    with mock.patch.object(services, "send_mail", side_effect=flaky):
        # Eager apply() replays each retry in place; propagating would stop at the first Retry.
        monkeypatch.setitem(notification_email_task.app.conf, "task_eager_propagates", False)
        result = notification_email_task.apply(args=(notification.pk,))
    assert result.get() is True
    assert len(attempts) == 3
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert notification_email_task.retry_backoff


# --- The preferences page ---------------------------------------------------------------


def test_page_shows_a_row_per_kind_with_defaults(client, owner, django_assert_max_num_queries):
    owner.email_notifications = False
    owner.save()
    NotificationPreference.objects.create(user=owner, kind="birthday", in_app=False, by_email=True)
    client.force_login(owner)

    with django_assert_max_num_queries(8):  # session, user, preferences, shell (roles, teams, unread)
        response = client.get(reverse("crm:notification-preferences"))

    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('data-testid="kind-row"') == len(NotificationKind)
    assert 'name="reminder-in_app" id="id_reminder-in_app" aria-label="Reminders in the bell" checked' in content
    assert 'name="reminder-by_email" id="id_reminder-by_email" aria-label="Reminders by e-mail">' in content
    assert 'id="id_birthday-in_app" aria-label="Birthdays in the bell">' in content
    assert 'id="id_birthday-by_email" aria-label="Birthdays by e-mail" checked' in content
    assert reverse("crm:notification-preferences") in content  # the user menu links here


def test_saving_stores_channels_and_quiet_hours(client, owner):
    client.force_login(owner)

    response = client.post(
        reverse("crm:notification-preferences"),
        {
            "reminder-in_app": "on",
            "reminder-by_email": "on",
            "assignment-in_app": "on",
            "birthday-by_email": "on",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:30",
        },
    )

    assert response.status_code == 302
    assert selectors.notification_channels(user=owner) == {
        "reminder": (True, True),
        "assignment": (True, False),
        "birthday": (False, True),
        "order": (False, False),
        "contract": (False, False),
        "ticket": (False, False),
        "escalation": (False, False),
    }
    owner.refresh_from_db()
    assert (owner.quiet_hours_start, owner.quiet_hours_end) == (time(22), time(7, 30))
    assert owner.email_notifications is False
    page = client.get(reverse("crm:notification-preferences")).content.decode()
    assert 'value="22:00"' in page
    assert "Notification settings saved." in page


def test_half_set_quiet_hours_show_an_error_next_to_the_field_and_save_nothing(client, owner):
    client.force_login(owner)

    response = client.post(
        reverse("crm:notification-preferences"), {"reminder-in_app": "on", "quiet_hours_start": "22:00"}
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="id_quiet_hours_end_error"' in content
    assert "Set both the start and the end of the quiet hours, or neither." in content
    assert not NotificationPreference.objects.filter(user=owner).exists()
    owner.refresh_from_db()
    assert owner.quiet_hours_start is None


def test_bad_time_is_reported_next_to_the_field(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("crm:notification-preferences"), {"quiet_hours_start": "25:99", "quiet_hours_end": "07:00"}
    )
    assert response.status_code == 200
    assert b'id="id_quiet_hours_start_error"' in response.content
    assert not NotificationPreference.objects.filter(user=owner).exists()


def test_htmx_post_returns_the_form_partial(client, owner):
    client.force_login(owner)

    response = client.post(
        reverse("crm:notification-preferences"), {"birthday-in_app": "on"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="preferences-form"' in response.content
    assert b'hx-swap-oob="beforeend"' in response.content  # the "saved" toast
    assert selectors.notification_channels(user=owner)["birthday"] == (True, False)
    assert response["Vary"]
    assert "HX-Request" in response["Vary"]


def test_user_without_roles_manages_own_settings(client, readonly):
    client.force_login(readonly)
    assert client.get(reverse("crm:notification-preferences")).status_code == 200


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("crm:notification-preferences"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_bell_polls_at_the_configured_interval(client, owner, settings):
    settings.BELL_POLL_SECONDS = 2
    client.force_login(owner)
    assert b"every 2s" in client.get(reverse("crm:notification-bell")).content
