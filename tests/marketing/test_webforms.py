"""Web-to-lead: the public page (token, honeypot, rate limit, garbage) and the staff pages of the forms."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from crm.models import Role
from marketing.models import ConsentEvent, Lead, WebForm
from tests.conftest import make_user
from tests.crm.factories import TeamFactory
from tests.marketing.factories import WebFormFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()  # the per-IP counters of earlier tests live in the shared cache


@pytest.fixture
def form(db):
    return WebFormFactory(slug="demo", team=TeamFactory())


def _url(web_form):
    return reverse("marketing:webform-public", args=[web_form.slug])


def _post(client, web_form, **extra):
    data = {"token": web_form.token, "first_name": "Ірина", "email": "iryna@example.com", "phone": "0671234567"}
    data.update(extra)
    return client.post(_url(web_form), data, REMOTE_ADDR=extra.pop("ip", "10.1.1.1"))


def test_get_renders_the_form_with_utm(client, form):
    response = client.get(_url(form) + "?utm_source=fb&utm_campaign=spring", HTTP_REFERER="https://ads.example/x")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="utm_source" value="fb"' in page
    assert "https://ads.example/x" in page
    assert form.token in page
    assert "navbar" not in page  # the public base: no staff menu


def test_valid_post_creates_a_lead_for_the_form_team(client, form):
    rep = make_user(Role.SALES_REP, team=form.team)
    response = _post(client, form, consent="on", utm_source="fb", referrer="https://ads.example/x")
    assert response.status_code == 200
    assert b"webform-thanks" in response.content
    lead = Lead.objects.get()
    assert (lead.team, lead.owner, lead.web_form) == (form.team, rep, form)
    assert (lead.utm_source, lead.referrer, str(lead.submitted_ip)) == ("fb", "https://ads.example/x", "10.1.1.1")
    assert ConsentEvent.objects.get(lead=lead).text_version == str(form.consent_version)


def test_post_from_another_origin_needs_no_csrf(form):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        _url(form),
        {"token": form.token, "first_name": "A", "email": "a@example.com"},
        HTTP_ORIGIN="https://other.example",
    )
    assert response.status_code == 200
    assert Lead.objects.count() == 1


def test_wrong_token_is_400_and_no_lead(client, form):
    response = _post(client, form, token="forged")
    assert response.status_code == 400
    assert 'data-testid="webform-bad-token"' in response.content.decode()
    assert not Lead.objects.exists()


def test_honeypot_looks_like_success_but_saves_nothing(client, form):
    response = _post(client, form, website="http://spam.example")
    assert response.status_code == 200
    assert b"webform-thanks" in response.content
    assert not Lead.objects.exists()


def test_sixth_post_in_a_minute_is_429(client, form):
    for i in range(5):
        assert _post(client, form, email=f"p{i}@example.com").status_code == 200
    response = _post(client, form, email="p6@example.com")
    assert response.status_code == 429
    assert Lead.objects.count() == 5
    assert _post(client, form, ip="10.9.9.9").status_code == 200  # another address is not throttled


def test_unpublished_form_is_404(client, form):
    form.is_published = False
    form.save()
    assert client.get(_url(form)).status_code == 404
    assert _post(client, form).status_code == 404
    assert client.get(reverse("marketing:webform-public", args=["nope"])).status_code == 404


def test_required_field_errors_rerender(client, form):
    response = _post(client, form, first_name="", email="")
    assert response.status_code == 422
    assert "invalid-feedback" in response.content.decode()
    assert not Lead.objects.exists()


def test_invalid_phone_is_kept_with_a_warning(client, form):
    assert _post(client, form, phone="123").status_code == 200
    assert Lead.objects.get().warnings == ["phone_invalid"]


@pytest.mark.parametrize(
    "data",
    [
        {"first_name": "x" * 5000, "email": "a" * 400},
        {"first_name": "\x00\x01", "email": "a@b.c", "phone": "+" * 40},
        {"product": "not-a-number", "first_name": "A", "email": "a@example.com"},
        {"utm_source": "u" * 1000, "first_name": "A", "email": "a@example.com"},
        {"first_name": ["a", "b"], "email": "\u202e@example.com"},
    ],
)
def test_garbage_never_500(client, form, data):
    form.fields = [*form.fields, "product"]
    form.save()
    response = client.post(_url(form), {"token": form.token, **data}, REMOTE_ADDR="10.2.2.2")
    assert response.status_code in (200, 422)


def test_garbage_without_token_or_method(client, form):
    assert client.post(_url(form), {}).status_code == 400
    assert client.put(_url(form)).status_code == 405


# --- staff pages -------------------------------------------------------------------------------


@pytest.fixture
def marketer(db):
    return make_user(Role.MARKETING)


def test_create_and_update_bump_consent_version(client, marketer):
    client.force_login(marketer)
    data = {"name": "Виставка", "slug": "expo", "title": "Заявка", "fields": ["first_name", "email"],
            "required_fields": ["email"], "consent_text": "Так", "source": "website", "is_published": "on"}  # fmt: skip
    response = client.post(reverse("marketing:webform-create"), data)
    web_form = WebForm.objects.get()
    assert response.status_code == 302
    assert (web_form.owner, web_form.consent_version) == (marketer, 1)
    client.post(reverse("marketing:webform-update", args=[web_form.pk]), {**data, "title": "Нова"})
    web_form.refresh_from_db()
    assert (web_form.title, web_form.consent_version) == ("Нова", 1)
    client.post(reverse("marketing:webform-update", args=[web_form.pk]), {**data, "consent_text": "Інший текст"})
    web_form.refresh_from_db()
    assert web_form.consent_version == 2


def test_create_form_required_must_be_a_field(client, marketer):
    client.force_login(marketer)
    data = {"name": "X", "slug": "x", "title": "X", "fields": ["email"], "required_fields": ["phone"],
            "source": "website"}  # fmt: skip
    response = client.post(reverse("marketing:webform-create"), data)
    assert response.status_code == 200
    assert "must be one of the form" in response.content.decode()
    assert not WebForm.objects.exists()


def test_detail_shows_hosted_url_and_escaped_snippet(client, marketer):
    web_form = WebFormFactory(owner=marketer, slug="demo")
    client.force_login(marketer)
    page = client.get(reverse("marketing:webform-detail", args=[web_form.pk])).content.decode()
    assert "http://testserver/marketing/forms/demo/" in page
    assert "&lt;form method=&quot;post&quot; action=&quot;http://testserver/marketing/forms/demo/&quot;" in page
    assert f"value=&quot;{web_form.token}&quot;" in page
    assert "name=&quot;website&quot;" in page


def test_list_and_visibility(client, marketer, owner, outsider):
    web_form = WebFormFactory(owner=marketer)
    client.force_login(marketer)
    assert web_form.name in client.get(reverse("marketing:webform-list")).content.decode()
    client.force_login(owner)  # a sales rep has no web form permissions
    assert client.get(reverse("marketing:webform-list")).status_code == 403
    assert client.post(reverse("marketing:webform-create"), {}).status_code == 403
