import re

import pytest
from django.urls import reverse

from crm.models import Role
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

EVERYONE = {"home", "companies", "people", "lookup", "my-day", "calendar", "plans", "assignments", "products"}
SELLING = {"deals", "orders", "contracts"}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def nav_keys(response) -> set[str]:
    return set(re.findall(r'data-nav="([\w-]+)"', response.content.decode()))


SERVICE = {"tickets", "kb", "service-reports"}  # the "Service" menu (service.navigation)
# The "Marketing" menu (marketing.navigation): sales staff work the leads given to them.
MARKETING = {"leads", "lead-conversion", "segments", "campaigns", "web-forms", "needs"}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.SALES_REP, {*EVERYONE, *SELLING, "leads"}),
        (Role.MARKETING, {*EVERYONE, *SELLING, *MARKETING}),
        (Role.SERVICE_AGENT, {*EVERYONE, *SELLING, *SERVICE}),
        (Role.PROCUREMENT, {*EVERYONE, "suppliers"}),
        (Role.SALES_MANAGER, {*EVERYONE, *SELLING, *MARKETING, *SERVICE, "teams", "duplicates"}),
        (Role.DIRECTOR, {*EVERYONE, *SELLING, *MARKETING, *SERVICE, "suppliers", "teams", "duplicates"}),
        (
            Role.ADMINISTRATOR,
            {*EVERYONE, *SELLING, *MARKETING, *SERVICE, "suppliers", "teams", "duplicates", "admin"},
        ),
    ],
)
def test_navigation_fits_the_role(client, role, expected, django_assert_max_num_queries):
    user = make_user(role, is_staff=role == Role.ADMINISTRATOR)
    client.force_login(user)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("crm:home"))
    assert response.status_code == 200
    assert nav_keys(response) == expected


def test_pages_have_csp_and_no_inline_scripts(client, owner):
    client.force_login(owner)
    for url in [reverse("crm:home"), reverse("crm:notification-list"), "/no-such-page/"]:
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert not INLINE_SCRIPT.search(response.content.decode()), url


def test_login_page_has_no_inline_scripts(client):
    response = client.get(reverse("login"))
    assert not INLINE_SCRIPT.search(response.content.decode())


def test_language_switch_is_remembered_on_the_user(client, owner):
    client.force_login(owner)
    response = client.post(reverse("crm:language-set"), {"language": "uk", "next": "/notifications/"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    owner.refresh_from_db()
    assert owner.language == "uk"
    # Another browser (no language cookie) still gets Ukrainian after login.
    client.cookies.clear()
    client.force_login(owner)
    page = client.get(reverse("crm:notification-list"), headers={"Accept-Language": "en"})
    assert page.content.decode().count('lang="uk"') >= 1
    assert "Сповіщення" in page.content.decode()


def test_language_switch_rejects_unknown_language_and_open_redirect(client, owner):
    client.force_login(owner)
    response = client.post(reverse("crm:language-set"), {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:home")
    owner.refresh_from_db()
    assert owner.language == "en"


def test_anonymous_language_choice_uses_cookie(client):
    client.post(reverse("crm:language-set"), {"language": "en"})
    assert "Log in to CRM" in client.get(reverse("login")).content.decode()
    client.post(reverse("crm:language-set"), {"language": "uk"})
    assert 'lang="uk"' in client.get(reverse("login")).content.decode()


def test_404_page_is_translated(client, owner):
    owner.language = "uk"
    owner.save()
    client.force_login(owner)
    response = client.get("/missing/")
    assert response.status_code == 404
    assert "Сторінку не знайдено" in response.content.decode()


def test_teams_page_shows_visible_teams_only(client, manager, outsider, django_assert_max_num_queries):
    make_user(Role.SALES_REP, team=manager.team)
    client.force_login(manager)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("crm:team-list"))
    content = response.content.decode()
    assert manager.team.name in content
    assert outsider.team.name not in content


def test_home_shows_roles_and_latest_notifications(client, owner):
    from crm.services import notify

    notify(recipient=owner, title="Call Ivan back", email=False)
    client.force_login(owner)
    content = client.get(reverse("crm:home")).content.decode()
    assert "Call Ivan back" in content
    assert "Sales representative" in content


def test_htmx_request_gets_partial_and_full_request_gets_page(client, owner):
    client.force_login(owner)
    full = client.get(reverse("crm:notification-list"))
    partial = client.get(reverse("crm:notification-list"), headers={"HX-Request": "true"})
    assert b"<html" in full.content
    assert b"<html" not in partial.content
    assert "HX-Request" in full["Vary"]


def test_menu_groups_pages_into_dropdowns_in_order(client):
    client.force_login(make_user(Role.SALES_MANAGER))
    html = client.get("/").content.decode()

    groups = re.findall(r'data-nav-group="(\w+)"', html)
    assert groups == ["work", "clients", "sales", "marketing", "service"]
    work = html[html.index('data-nav-group="work"') : html.index('data-nav-group="clients"')]
    assert re.findall(r'data-nav="([\w-]+)"', work) == ["calendar", "plans", "assignments"]
