import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse

from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "pass-12345"


def login(client, email, password=PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_login_with_email_case_insensitive_and_session_rotated(client, owner):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    response = login(client, owner.email.upper())
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:home")
    assert client.session.session_key != before
    assert client.get(reverse("crm:home")).status_code == 200


def test_bad_credentials_give_one_message_without_detail(client, owner):
    wrong_password = login(client, owner.email, "nope")
    unknown_user = login(client, "nobody@example.com", "nope")
    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert "Неправильна електронна пошта або пароль" in response.content.decode()  # uk is the default
    assert "_auth_user_id" not in client.session


def test_malformed_email_gets_a_field_error(client):
    response = login(client, "not-an-email", "x")
    assert response.status_code == 200
    assert response.context["form"].errors["username"]


def test_five_failures_lock_out_for_fifteen_minutes_not_forever(client, owner):
    for _attempt in range(5):
        login(client, owner.email, "wrong")
    locked = login(client, owner.email)
    assert locked.status_code == 429
    assert "15 хвилин" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time - timedelta(minutes=16))
    assert login(client, owner.email).status_code == 302


def test_logout_is_post_only_and_ends_session(client, owner):
    client.force_login(owner)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("crm:home")).status_code == 302


def test_password_reset_by_email(client, owner):
    response = client.post(reverse("password_reset"), {"email": owner.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": "Kvitka-2026!", "new_password2": "Kvitka-2026!"}
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("Kvitka-2026!")


def test_password_reset_for_unknown_email_reveals_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "ghost@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_change_validates(client, owner):
    client.force_login(owner)
    url = reverse("password_change")
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200
    assert weak.context["form"].errors["new_password2"]
    ok = client.post(url, {"old_password": PASSWORD, "new_password1": "Kvitka-2026!", "new_password2": "Kvitka-2026!"})
    assert ok.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("Kvitka-2026!")


def test_inactive_user_cannot_log_in(client):
    user = make_user(is_active=False)
    response = login(client, user.email)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
