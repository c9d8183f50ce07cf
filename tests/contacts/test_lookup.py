"""Caller lookup (/contacts/lookup/): the HTML page, the JSON for phone systems, integration tokens and their admin."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.auth_tokens import LAST_USED_PRECISION, token_authenticate, token_create, token_revoke
from crm.models import IntegrationToken, Role
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, ContactPointFactory, InteractionFactory, PersonFactory

pytestmark = pytest.mark.django_db

LOOKUP = "/contacts/lookup/"
JSON = {"Accept": "application/json"}


@pytest.fixture
def company(owner):
    company = CompanyFactory(owner=owner, name="ТОВ Ромашка")
    ContactPointFactory(company=company, kind="phone", value="+380441234567")
    return company


@pytest.fixture
def caller(company):
    person = PersonFactory(company=company, last_name="Шевченко", first_name="Тарас", patronymic="")
    ContactPointFactory(person=person, kind="mobile", value="+380671234567", is_primary=True)
    ContactPointFactory(person=person, kind="email", value="taras@romashka.ua", is_primary=True)
    return person


def bearer(key):
    return {**JSON, "Authorization": f"Bearer {key}"}


def card_url(name, pk):
    return reverse(f"contacts:{name}-detail", args=[pk])


# HTML ----------------------------------------------------------------------------------------


def test_lookup_page_shows_the_caller_with_the_last_five_interactions_newest_first(client, owner, caller):
    now = timezone.now()
    for days in range(7):
        InteractionFactory(
            company=caller.company, person=caller, subject=f"Розмова {days}", occurred_at=now - timedelta(days=days)
        )
    client.force_login(owner)
    response = client.get(LOOKUP, {"phone": "067 123 45 67"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "Шевченко Тарас" in html
    assert "ТОВ Ромашка" in html
    assert str(owner) in html
    assert "mailto:taras@romashka.ua" in html
    positions = [html.index(f"Розмова {days}") for days in range(5)]
    assert positions == sorted(positions)
    assert "Розмова 5" not in html
    assert "Розмова 6" not in html
    assert html.count('data-testid="lookup-interaction"') == 5
    assert card_url("person", caller.pk) in html


def test_log_call_button_is_prefilled(client, owner, caller):
    client.force_login(owner)
    response = client.get(LOOKUP, {"phone": "0671234567"})
    card = response.context["result"].cards[0]
    url = urlsplit(card.log_call_url)
    assert url.path == reverse("contacts:interaction-create", args=[caller.company_id])
    params = parse_qs(url.query)
    assert params["channel"] == ["call_in"]
    assert params["person"] == [str(caller.pk)]
    assert "+380671234567" in params["subject"][0]
    assert 'data-testid="log-call"' in response.content.decode()
    assert card.log_call_url.replace("&", "&amp;") in response.content.decode()
    form = client.get(card.log_call_url)  # the card's log-call form opens pre-filled
    assert form.status_code == 200
    assert "Incoming call from +380671234567" in form.content.decode()


def test_company_number_finds_the_company_card(client, owner, company):
    client.force_login(owner)
    response = client.get(LOOKUP, {"phone": "+38 (044) 123-45-67"})
    (card,) = response.context["result"].cards
    assert (card.kind, card.pk) == ("company", company.pk)
    assert "person=" not in card.log_call_url
    assert 'data-kind="company"' in response.content.decode()


def test_person_without_company_has_no_log_call_button(client, owner):
    person = PersonFactory(company=None, owner=owner, last_name="Самотній", first_name="Іван")
    ContactPointFactory(person=person, kind="mobile", value="+380991112233")
    client.force_login(owner)
    response = client.get(LOOKUP, {"phone": "0991112233"})
    (card,) = response.context["result"].cards
    assert card.log_call_url == ""
    assert 'data-testid="log-call"' not in response.content.decode()


@pytest.mark.parametrize(
    ("phone", "message"),
    [("", "Enter the caller’s phone number."), ("abc", "is not a phone number"), ("12345", "is not a phone number")],
)
def test_bad_phone_gets_a_clear_message(client, owner, phone, message):
    client.force_login(owner)
    response = client.get(LOOKUP, {"phone": phone})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="lookup-error"' in html
    assert message in html
    assert "is-invalid" in html


def test_no_phone_param_shows_just_the_form(client, owner):
    client.force_login(owner)
    response = client.get(LOOKUP)
    assert response.status_code == 200
    assert 'data-testid="lookup-form"' in response.content.decode()
    assert 'data-testid="lookup-error"' not in response.content.decode()


def test_unknown_number_says_so(client, owner, caller):
    client.force_login(owner)
    response = client.get(LOOKUP, {"phone": "+380 50 000 00 00"})
    assert 'data-testid="lookup-none"' in response.content.decode()


def test_htmx_gets_the_results_partial(client, owner, caller):
    client.force_login(owner)
    response = client.get(LOOKUP, {"phone": "0671234567"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="lookup-results"' in html
    assert 'data-testid="lookup-card"' in html
    assert "HX-Request" in response["Vary"]


def test_outsider_lookup_never_shows_others_clients(client, outsider, caller, company):
    client.force_login(outsider)
    for phone in ["0671234567", "0441234567", "1234567"]:
        response = client.get(LOOKUP, {"phone": phone})
        assert response.context["result"].cards == [], phone
        assert "Шевченко" not in response.content.decode()


def test_interactions_at_invisible_companies_are_hidden_on_a_person_card(client, owner, outsider):
    person = PersonFactory(company=CompanyFactory(owner=owner), owner=owner)
    ContactPointFactory(person=person, kind="mobile", value="+380631112233")
    InteractionFactory(company=person.company, person=person, subject="Наша розмова")
    InteractionFactory(company=CompanyFactory(owner=outsider), person=person, subject="Чужа розмова")
    client.force_login(owner)
    html = client.get(LOOKUP, {"phone": "0631112233"}).content.decode()
    assert "Наша розмова" in html
    assert "Чужа розмова" not in html


def test_lookup_page_requires_login(client, caller):
    response = client.get(LOOKUP, {"phone": "0671234567"})
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_lookup_queries_are_constant_with_many_matches(client, owner, django_assert_max_num_queries):
    for i in range(3):
        company = CompanyFactory(owner=owner, name=f"ТОВ Номер {i}")
        ContactPointFactory(company=company, kind="phone", value="+380441234567")
        person = PersonFactory(company=company)
        ContactPointFactory(person=person, kind="mobile", value="+380441234567")
        ContactPointFactory(person=person, kind="email", value=f"p{i}@example.com")
        for _ in range(7):
            InteractionFactory(company=company, person=person)
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(LOOKUP, {"phone": "0441234567"})
    assert len(response.context["result"].cards) == 6
    assert response.content.decode().count('data-testid="lookup-interaction"') == 30


# JSON for phone systems ------------------------------------------------------------------------


def test_json_shape(client, owner, caller, company):
    InteractionFactory(company=company, person=caller, subject="Останній дзвінок", channel="call_in", user=owner)
    _token, key = token_create(name="АТС", user=owner)
    response = client.get(LOOKUP, {"phone": "067-123-45-67"}, headers=bearer(key))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["phone"] == "+380671234567"
    (match,) = data["matches"]
    assert match == {
        "type": "person",
        "id": caller.pk,
        "name": "Шевченко Тарас",
        "company": "ТОВ Ромашка",
        "owner": str(owner),
        "url": f"http://testserver{card_url('person', caller.pk)}",
        "last_interactions": [
            {
                "at": match["last_interactions"][0]["at"],
                "channel": "call_in",
                "subject": "Останній дзвінок",
                "user": str(owner),
            }
        ],
    }
    assert timezone.datetime.fromisoformat(match["last_interactions"][0]["at"]).tzinfo is not None


def test_json_accepts_x_api_key_and_lists_companies(client, owner, company):
    _token, key = token_create(name="АТС", user=owner)
    response = client.get(LOOKUP, {"phone": "0441234567"}, headers={**JSON, "X-Api-Key": key})
    assert response.status_code == 200
    (match,) = response.json()["matches"]
    assert (match["type"], match["id"], match["company"]) == ("company", company.pk, None)


def test_json_without_token_is_401(client, caller):
    response = client.get(LOOKUP, {"phone": "0671234567"}, headers=JSON)
    assert response.status_code == 401
    assert "error" in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_json_with_a_session_only_is_401(client, owner, caller):
    client.force_login(owner)
    response = client.get(LOOKUP, {"phone": "0671234567"}, headers=JSON)
    assert response.status_code == 401
    assert "Шевченко" not in response.content.decode()


@pytest.mark.parametrize("header", ["Bearer not-a-key", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500, "Bearer "])
def test_json_with_unknown_or_malformed_token_is_401(client, caller, header):
    response = client.get(LOOKUP, {"phone": "0671234567"}, headers={**JSON, "Authorization": header})
    assert response.status_code == 401


def test_json_with_revoked_token_is_401(client, owner, caller):
    token, key = token_create(name="АТС", user=owner)
    token_revoke(token=token)
    assert client.get(LOOKUP, {"phone": "0671234567"}, headers=bearer(key)).status_code == 401


def test_json_token_of_an_inactive_user_is_401(client, owner, caller):
    _token, key = token_create(name="АТС", user=owner)
    owner.is_active = False
    owner.save()
    assert client.get(LOOKUP, {"phone": "0671234567"}, headers=bearer(key)).status_code == 401


def test_json_token_acts_as_its_user(client, owner, outsider, caller):
    theirs = PersonFactory(company=CompanyFactory(owner=outsider), last_name="Чужий")
    ContactPointFactory(person=theirs, kind="mobile", value="+380671234567")
    _token, key = token_create(name="АТС", user=outsider)
    client.force_login(owner)  # a session of another user changes nothing
    matches = client.get(LOOKUP, {"phone": "0671234567"}, headers=bearer(key)).json()["matches"]
    assert [m["id"] for m in matches] == [theirs.pk]


@pytest.mark.parametrize("phone", ["", "not a phone", "12"])
def test_json_bad_phone_is_400(client, owner, phone):
    _token, key = token_create(name="АТС", user=owner)
    response = client.get(LOOKUP, {"phone": phone}, headers=bearer(key))
    assert response.status_code == 400
    assert response.json()["error"]


def test_json_queries_are_constant(client, owner, django_assert_max_num_queries):
    for _i in range(3):
        person = PersonFactory(company=CompanyFactory(owner=owner))
        ContactPointFactory(person=person, kind="mobile", value="+380441234567")
        for _ in range(6):
            InteractionFactory(company=person.company, person=person, user=owner)
    _token, key = token_create(name="АТС", user=owner)
    with django_assert_max_num_queries(7):
        data = client.get(LOOKUP, {"phone": "0441234567"}, headers=bearer(key)).json()
    assert [len(m["last_interactions"]) for m in data["matches"]] == [5, 5, 5]


def test_browser_accept_header_gets_html(client, owner, caller):
    client.force_login(owner)
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get(LOOKUP, {"phone": "0671234567"}, headers={"Accept": accept})
    assert response["Content-Type"].startswith("text/html")
    assert "Accept" in response["Vary"]


# Tokens ---------------------------------------------------------------------------------------


def test_token_stores_only_a_hash_and_prefix(owner):
    token, key = token_create(name="АТС", user=owner)
    token.refresh_from_db()
    assert len(key) >= 40
    assert key not in (token.key_hash, token.prefix)
    assert len(token.key_hash) == 64
    assert token.prefix == key[:8]
    assert str(token) == f"АТС ({key[:8]}…)"


def test_last_used_is_written_at_most_once_a_minute(rf, owner):
    token, key = token_create(name="АТС", user=owner)
    request = rf.get(LOOKUP, headers={"Authorization": f"bearer {key}"})
    assert token_authenticate(request) == owner
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    assert token_authenticate(request) == owner
    token.refresh_from_db()
    assert token.last_used_at == first
    IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=first - LAST_USED_PRECISION - timedelta(seconds=1))
    token_authenticate(request)
    token.refresh_from_db()
    assert token.last_used_at > first


def test_revoking_twice_keeps_the_first_time(owner):
    token, _key = token_create(name="АТС", user=owner)
    first = token_revoke(token=token).revoked_at
    assert first is not None
    assert token_revoke(token=token).revoked_at == first


# Admin ----------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True))
    return client


def test_admin_creates_a_token_and_shows_the_key_once(admin_client, rf, owner):
    response = admin_client.post(
        reverse("admin:crm_integrationtoken_add"), {"name": "Asterisk", "user": owner.pk}, follow=True
    )
    assert response.status_code == 200
    key = re.search(r"copy it into the client: ([\w-]+)", response.content.decode()).group(1)
    token = IntegrationToken.objects.get(name="Asterisk")
    assert token.prefix == key[:8]
    assert token_authenticate(rf.get(LOOKUP, headers={"X-Api-Key": key})) == owner
    again = admin_client.get(reverse("admin:crm_integrationtoken_change", args=[token.pk])).content.decode()
    assert key not in again
    assert token.prefix in again


def test_admin_changelist_search_filter_and_revoke_action(admin_client, owner, django_assert_max_num_queries):
    tokens = [token_create(name=f"АТС {i}", user=owner)[0] for i in range(3)]
    url = reverse("admin:crm_integrationtoken_changelist")
    with django_assert_max_num_queries(8):
        assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "АТС"}).status_code == 200
    assert admin_client.get(url, {"status": "active"}).status_code == 200
    response = admin_client.post(url, {"action": "revoke", "_selected_action": [t.pk for t in tokens[:2]]}, follow=True)
    assert response.status_code == 200
    assert "2 tokens revoked." in response.content.decode()
    assert IntegrationToken.objects.filter(revoked_at__isnull=False).count() == 2
    revoked = admin_client.get(url, {"status": "revoked"}).content.decode()
    assert "АТС 0" in revoked
    assert "АТС 2" not in revoked


def test_admin_user_autocomplete_is_available(admin_client, owner):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "crm", "model_name": "integrationtoken", "field_name": "user", "term": owner.email[:6]},
    )
    assert response.status_code == 200
    assert str(owner.pk) in [row["id"] for row in response.json()["results"]]
