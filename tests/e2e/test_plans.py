"""Work plans in the browser: a manager sets a plan, the representative sees the progress bars (issue 5, item 9)."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from contacts.models import InteractionChannel, PlanPeriod, WorkPlan
from contacts.selectors_plans import Period
from crm.models import Role
from tests.conftest import make_user
from tests.contacts.factories import InteractionFactory
from tests.crm.factories import TeamFactory
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_manager_sets_a_plan_and_the_representative_follows_it(page: Page, live_server, browser):
    # given: a team with a manager and a representative who made two calls this month
    team = TeamFactory()
    manager = make_user(Role.SALES_MANAGER, team=team)
    team.manager = manager
    team.save()
    rep = make_user(Role.SALES_REP, team=team)
    month = Period.current(PlanPeriod.MONTH)
    for hours in (1, 2):
        InteractionFactory(user=rep, occurred_at=month.start + timedelta(hours=hours))
    InteractionFactory(user=rep, occurred_at=month.start + timedelta(hours=3), channel=InteractionChannel.MEETING)

    # when: the manager sets the month's plan from the team page
    login(page, live_server, manager)
    page.locator("[data-nav-group=work] > .dropdown-toggle").click()
    page.locator("[data-nav=plans]").click()
    page.get_by_test_id("plan-team-link").click()
    row = page.locator(f"tr[data-user='{rep.pk}']")
    row.get_by_test_id("plan-edit").click()
    form = page.get_by_test_id("plan-form")
    form.get_by_label("Calls").fill("8")
    form.get_by_label("Meetings").fill("4")
    form.get_by_label("Won deals, UAH").fill("12.345")
    form.get_by_test_id("save").click()
    expect(form.locator(".invalid-feedback")).to_contain_text("Use at most 2 decimal places.")
    page.get_by_test_id("plan-form").get_by_label("Won deals, UAH").fill("50000")
    page.get_by_test_id("plan-form").get_by_test_id("save").click()

    # then: the team table shows plan vs actual
    calls = page.locator(f"tr[data-user='{rep.pk}'] td[data-metric=calls]")
    expect(calls).to_contain_text("2")
    expect(calls).to_contain_text("/ 8")
    assert WorkPlan.objects.get(user=rep).calls == 8

    # and the representative sees progress bars sized by app.js (no inline styles in the markup)
    other = browser.new_context(locale="en-US")
    rep_page = other.new_page()
    errors: list[str] = []
    rep_page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    login(rep_page, live_server, rep)
    rep_page.goto(f"{live_server.url}/contacts/plans/")
    bar = rep_page.locator("[data-metric=calls] .progress-bar")
    expect(bar).to_have_attribute("data-percent", "25")
    expect(bar).to_have_attribute("style", "width: 25%;")
    expect(rep_page.locator("[data-metric=meetings] [data-testid=actual]")).to_have_text("1")

    # the period switch and navigation swap the fragment in place (HTMX) and keep the URL
    rep_page.get_by_test_id("period-week").click()
    expect(rep_page.get_by_test_id("period-week")).to_have_class("btn btn-outline-primary active")
    expect(rep_page).to_have_url(
        f"{live_server.url}/contacts/plans/?period=week&date={Period.current('week').starts_on}"
    )
    label = rep_page.get_by_test_id("period-label").inner_text()
    rep_page.get_by_test_id("period-previous").click()
    expect(rep_page.get_by_test_id("period-label")).not_to_have_text(label)
    expect(rep_page.get_by_test_id("no-plan")).to_be_visible()
    assert not errors, errors
    other.close()
