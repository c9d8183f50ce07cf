"""Browser tests: pytest-playwright driving headless Debian Chromium against pytest-django's live_server.

The live server runs in another thread, so the tests use a transactional database
(`django_db(transaction=True)`): each ends with a flush. Roles come back through `make_user`
(get_or_create) and, for the next --reuse-db session, through `django_db_setup` in tests/conftest.py.
"""

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.mailservers import dovecot, imap_server, smtp_sink  # noqa: F401

PASSWORD = "pass-12345"  # set by tests.crm.factories.UserFactory
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Every console error fails the test; these are the ones a CSP violation produces.
CSP_MARKERS = ("Content Security Policy", "Refused to")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-US", "viewport": DESKTOP}


@pytest.fixture(autouse=True)
def console_errors(page: Page):
    """Collect console errors, uncaught exceptions and CSP violations; a test must end with none."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        if message.type == "error":
            errors.append(f"{message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.set_default_timeout(5_000)
    yield errors
    csp = [error for error in errors if any(marker in error for marker in CSP_MARKERS)]
    assert not csp, f"CSP violations: {csp}"
    assert not errors, f"console errors: {errors}"


def login(page: Page, live_server, user, password: str = PASSWORD) -> None:
    """Sign in through the real login form and wait for the app shell and its scripts."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(password)
    page.locator("form:has(#id_password) [type=submit]").click()
    expect(page.get_by_test_id("bell")).to_be_visible()
    page.wait_for_load_state()  # deferred scripts (Bootstrap, HTMX) have run
