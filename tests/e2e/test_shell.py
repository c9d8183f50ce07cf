"""User flows through the app shell: log in, role navigation, language, bell, phone layout."""

import pytest
from playwright.sync_api import Page, expect

from crm import services
from crm.models import Role
from tests.conftest import make_user
from tests.e2e.conftest import PHONE, login

pytestmark = pytest.mark.django_db(transaction=True)

TEAMS_ROLES = {Role.SALES_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR}


@pytest.mark.parametrize("role", list(Role))
def test_login_shows_navigation_for_role(page: Page, live_server, role):
    # given
    user = make_user(role, is_staff=role == Role.ADMINISTRATOR)

    # when
    login(page, live_server, user)

    # then
    nav = page.get_by_test_id("main-nav")
    expect(nav.locator("[data-nav=home]")).to_be_visible()
    expect(nav.locator("[data-nav=teams]")).to_have_count(1 if role in TEAMS_ROLES else 0)
    expect(nav.locator("[data-nav=admin]")).to_have_count(1 if role == Role.ADMINISTRATOR else 0)
    expect(page.get_by_test_id("bell")).to_be_visible()


def test_login_with_wrong_password_shows_error(page: Page, live_server):
    # given
    user = make_user(Role.SALES_REP)

    # when
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill("wrong-password")
    page.locator("form:has(#id_password) [type=submit]").click()

    # then
    expect(page.get_by_text("The e-mail or password is not correct")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.locator("#id_password")).to_be_visible()
    expect(page.get_by_test_id("bell")).to_have_count(0)
    expect(page.get_by_test_id("main-nav")).to_have_count(0)
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")


def test_language_switch_is_remembered_per_user(page: Page, live_server):
    # given
    user = make_user(Role.SALES_REP)
    login(page, live_server, user)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # when
    page.get_by_test_id("language-switcher").locator("button[value=uk]").click()

    # then
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    switcher = page.get_by_test_id("language-switcher")
    expect(switcher.locator("button[value=uk]")).to_have_attribute("aria-pressed", "true")
    expect(switcher.locator("button[value=en]")).not_to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-nav=home]")).to_have_text("Головна")
    user.refresh_from_db()
    assert user.language == "uk"

    # when: log out, forget the language cookie, log in again
    page.wait_for_load_state()
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Вийти").click()
    expect(page.locator("#id_username")).to_be_visible()
    page.context.clear_cookies()
    login(page, live_server, user)

    # then
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.locator("[data-nav=home]")).to_have_text("Головна")


def test_bell_counts_new_notification_and_mark_read_clears_it(page: Page, live_server):
    # given
    user = make_user(Role.SALES_REP)
    login(page, live_server, user)
    bell_count = page.get_by_test_id("bell-count")
    expect(bell_count).to_have_count(0)

    # when: a notification arrives and something announces it
    services.notify(recipient=user, title="Call back Ivan", email=False)
    page.evaluate("htmx.trigger(document.body, 'notifications-changed')")

    # then
    expect(bell_count).to_have_text("1")

    # when: open the list and mark the row read
    page.get_by_test_id("bell").click()
    expect(page).to_have_url(f"{live_server.url}/notifications/")
    page.wait_for_load_state()
    page.evaluate("window.samePage = true")
    row = page.get_by_test_id("notification").filter(has_text="Call back Ivan")
    row.get_by_test_id("mark-read").click()

    # then: the row is swapped in place and the bell refreshes, without a page load
    expect(row.get_by_test_id("mark-read")).to_have_count(0)
    expect(row.get_by_text("read", exact=True)).to_be_visible()
    expect(bell_count).to_have_count(0)
    assert page.evaluate("window.samePage") is True


def test_csp_refuses_inline_script_and_is_reported(page: Page, live_server, console_errors):
    # given
    login(page, live_server, make_user(Role.SALES_REP))

    # when: something slips an inline script into the page
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.injected = true";
                document.body.appendChild(script);
            }"""
        )

    # then: the browser refuses it and the console collector has seen the violation
    assert page.evaluate("window.injected") is None
    assert any("Content Security Policy" in error for error in console_errors), console_errors
    console_errors.clear()


@pytest.mark.browser_context_args(viewport=PHONE)
def test_phone_navigation_collapses_behind_toggler(page: Page, live_server):
    # given
    login(page, live_server, make_user(Role.SALES_MANAGER))
    home_link = page.locator("[data-nav=home]")
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    expect(home_link).to_be_hidden()

    # when
    toggler.click()

    # then
    expect(home_link).to_be_visible()
    expect(page.locator("[data-nav=teams]")).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
