import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm import selectors, services
from crm.models import Notification
from crm.tasks import notification_email_task
from tests.crm.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_notify_renders_lazy_text_in_recipients_language(owner, django_capture_on_commit_callbacks):
    from django.utils.translation import gettext_lazy as _

    owner.language = "uk"
    owner.save()
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(recipient=owner, title=_("Notifications"), url="/x/")
    assert notification.title == "Сповіщення"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email]
    assert "/x/" in mail.outbox[0].body
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_notify_respects_email_preference(owner, django_capture_on_commit_callbacks):
    owner.email_notifications = False
    owner.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.notify(recipient=owner, title="Quiet")
    assert callbacks == []
    assert mail.outbox == []


def test_email_is_queued_only_after_commit(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notify(recipient=owner, title="Later")
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_email_task_sends_once_when_run_twice(owner):
    notification = NotificationFactory(recipient=owner)
    assert notification_email_task(notification.pk) is True
    assert notification_email_task(notification.pk) is False
    assert len(mail.outbox) == 1


def test_email_task_for_missing_notification_is_a_no_op():
    assert notification_email_task(999_999) is False


def test_unread_count_is_capped(owner):
    Notification.objects.bulk_create(Notification(recipient=owner, title=str(i)) for i in range(105))
    assert selectors.notification_unread_count(user=owner) == selectors.UNREAD_COUNT_CAP


def test_list_pages_by_keyset(client, owner, django_assert_max_num_queries):
    rows = Notification.objects.bulk_create(Notification(recipient=owner, title=f"n{i}") for i in range(55))
    client.force_login(owner)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("crm:notification-list"))
    assert response.status_code == 200
    page = response.context["notifications"]
    assert len(page) == 50
    assert page[0].title == "n54"
    response = client.get(reverse("crm:notification-list"), {"before": response.context["next_cursor"]})
    assert [n.title for n in response.context["notifications"]] == [f"n{i}" for i in range(4, -1, -1)]
    assert rows


def test_list_htmx_returns_partial(client, owner):
    NotificationFactory.create_batch(3, recipient=owner)
    client.force_login(owner)
    response = client.get(reverse("crm:notification-list"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert response.content.count(b'data-testid="notification"') == 3


def test_list_shows_only_own_notifications(client, owner, outsider):
    NotificationFactory(recipient=outsider, title="secret")
    client.force_login(owner)
    assert b"secret" not in client.get(reverse("crm:notification-list")).content


def test_mark_read_htmx_returns_row_and_triggers_bell(client, owner):
    notification = NotificationFactory(recipient=owner)
    client.force_login(owner)
    response = client.post(reverse("crm:notification-read", args=[notification.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "notifications-changed" in response["HX-Trigger"]
    assert b'id="notification-' in response.content
    assert b"<html" not in response.content
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_mark_read_open_redirects_to_link(client, owner):
    notification = NotificationFactory(recipient=owner, url="/teams/")
    client.force_login(owner)
    response = client.post(reverse("crm:notification-read", args=[notification.pk]), {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/teams/"


def test_mark_read_of_another_users_notification_is_404(client, owner, outsider):
    notification = NotificationFactory(recipient=outsider)
    client.force_login(owner)
    response = client.post(reverse("crm:notification-read", args=[notification.pk]))
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_read_requires_post(client, owner):
    notification = NotificationFactory(recipient=owner)
    client.force_login(owner)
    assert client.get(reverse("crm:notification-read", args=[notification.pk])).status_code == 405


def test_mark_all_read_touches_only_own(client, owner, outsider):
    NotificationFactory.create_batch(3, recipient=owner)
    foreign = NotificationFactory(recipient=outsider)
    client.force_login(owner)
    response = client.post(reverse("crm:notification-read-all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=owner, read_at__isnull=True).exists()
    foreign.refresh_from_db()
    assert foreign.read_at is None


def test_bell_shows_unread_count(client, owner):
    NotificationFactory.create_batch(2, recipient=owner)
    NotificationFactory(recipient=owner, read_at=timezone.now())
    client.force_login(owner)
    response = client.get(reverse("crm:notification-bell"))
    assert b'data-testid="bell-count">2<' in response.content


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("crm:notification-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
