import pytest
from django.urls import reverse

from crm.models import Role
from tests.conftest import make_user
from tests.crm.factories import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "crm.user", "crm.team", "crm.notification", "crm.job", "crm.integrationtoken", "contacts.company",
        "contacts.person", "contacts.contactpoint", "contacts.interaction", "contacts.interactionattachment",
        "contacts.employment", "contacts.consent", "contacts.industry", "contacts.savedfilter", "contacts.planday",
    ],
)  # fmt: skip
def test_changelists_search_and_filter(admin_client, model, owner, django_assert_max_num_queries):
    NotificationFactory.create_batch(3, recipient=owner)
    url = reverse(f"admin:{model.replace('.', '_')}_changelist")
    with django_assert_max_num_queries(15):
        assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "example"}).status_code == 200


def test_admin_is_branded(admin_client):
    assert "CRM administration" in admin_client.get(reverse("admin:index")).content.decode()


def test_user_autocomplete(admin_client, owner):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "crm", "model_name": "team", "field_name": "manager", "term": owner.email},
    )
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(owner.pk)]


def test_add_user_in_admin(admin_client):
    response = admin_client.post(
        reverse("admin:crm_user_add"),
        {"email": "new@example.com", "full_name": "New", "password1": "Kvitka-2026!", "password2": "Kvitka-2026!"},
    )
    assert response.status_code == 302


def test_non_staff_cannot_open_admin(client, owner):
    client.force_login(owner)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_admin_pages_have_no_inline_scripts(admin_client, owner):
    from tests.crm.test_shell import INLINE_SCRIPT

    for url in [
        reverse("admin:index"),
        reverse("admin:crm_user_changelist"),
        reverse("admin:crm_user_change", args=[owner.pk]),
        reverse("admin:crm_team_add"),
    ]:
        assert not INLINE_SCRIPT.search(admin_client.get(url).content.decode()), url
