"""User flows of activities in a real browser (issue 5, item 14).

Complete an activity from My day and find it in the company's contact history; a manager assigns
a task through the form, the representative (another browser context) accepts and completes it,
and the manager sees it completed. The autouse `console_errors` fixture fails on any console error
or CSP violation of the main page; the second context's page reports into the same list.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import Activity, ActivityKind, ActivityStatus, AssignmentState, Interaction
from crm.models import Role
from tests.conftest import make_user
from tests.contacts.factories import ActivityFactory, CompanyFactory, PersonFactory
from tests.crm.factories import TeamFactory
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def watch(page: Page, errors: list[str]) -> None:
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.set_default_timeout(5_000)


def test_complete_a_call_from_my_day_and_find_it_in_the_contact_history(page: Page, live_server):
    # given: a representative's call with a client, due now
    rep = make_user(Role.SALES_REP, team=TeamFactory())
    company = CompanyFactory(owner=rep, name="ТОВ Весна")
    person = PersonFactory(company=company, last_name="Петренко", first_name="Іван")
    call = ActivityFactory(
        assignee=rep, kind=ActivityKind.CALL, subject="Узгодити поставку", company=company, person=person,
        starts_at=timezone.now(),
    )  # fmt: skip
    login(page, live_server, rep)

    # when: My day, "Done" in the row, the result, save
    page.locator('[data-nav="my-day"]').click()
    row = page.get_by_test_id("section-today").locator(f"#activity-{call.pk}")
    expect(row).to_contain_text("Узгодити поставку")
    row.get_by_test_id("complete").click()
    form = row.get_by_test_id("action-form")
    page.wait_for_load_state("networkidle")  # htmx has processed the swapped-in form
    form.locator("#id_result").fill("Домовились про 20 ноутбуків")
    form.locator("#id_actual_minutes").fill("12")
    expect(form.locator("#id_actual_minutes")).to_have_value("12")
    form.get_by_test_id("action-save").click()

    # then: the row is gone without a reload, the call is in the company's history
    expect(page.locator(f"#activity-{call.pk}")).to_have_count(0)
    expect(page.locator(".toast")).to_contain_text("The activity is done.")
    call.refresh_from_db()
    assert call.status == ActivityStatus.DONE
    page.goto(f"{live_server.url}/contacts/companies/{company.pk}/")
    entry = page.get_by_test_id("timeline").locator(f"#interaction-{call.interaction_id}")
    expect(entry).to_contain_text("Узгодити поставку")
    expect(entry).to_contain_text("Домовились про 20 ноутбуків")
    expect(entry).to_contain_text("Петренко Іван")
    assert Interaction.objects.get().duration.total_seconds() == 12 * 60

    # and: the card's Activities tab lists it as done
    page.get_by_test_id("tab-activities").click()
    tab = page.get_by_test_id("activity-tab")
    expect(tab.locator(f"#activity-{call.pk}")).to_contain_text("Done")


def test_manager_assigns_a_task_the_rep_accepts_and_completes_it(page: Page, live_server, browser, console_errors):
    # given: a manager and a representative of one team
    team = TeamFactory()
    manager = make_user(Role.SALES_MANAGER, team=team, full_name="Олена Менеджер")
    team.manager = manager
    team.save()
    rep = make_user(Role.SALES_REP, team=team, full_name="Петро Торговий")

    # when: the manager assigns work through the form
    login(page, live_server, manager)
    page.locator("[data-nav-group=work] > .dropdown-toggle").click()
    page.locator('[data-nav="assignments"]').click()
    page.get_by_test_id("new-assignment").click()
    form = page.get_by_test_id("activity-form")
    expect(form.locator("#id_kind")).to_have_value("assignment")
    form.locator("#id_subject").fill("Підготувати комерційну пропозицію")
    form.locator("#id_assignee").select_option(str(rep.pk))
    form.get_by_test_id("save").click()

    # then: it waits for the rep's answer
    expect(page).to_have_url(f"{live_server.url}/contacts/assignments/")
    task = Activity.objects.get()
    outgoing = page.get_by_test_id("outgoing").locator(f"#activity-{task.pk}")
    expect(outgoing.get_by_test_id("assignment-state")).to_have_text("Waiting for an answer")
    assert (task.assignee, task.created_by, task.assignment_state) == (rep, manager, AssignmentState.PENDING)

    # when: the rep, in another browser, accepts it on My day and completes it with a comment
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    rep_page = context.new_page()
    watch(rep_page, console_errors)
    login(rep_page, live_server, rep)
    rep_page.goto(f"{live_server.url}/contacts/my-day/")
    pending = rep_page.get_by_test_id("section-pending")
    expect(pending.locator(f"#activity-{task.pk}")).to_contain_text("Олена Менеджер")
    pending.locator(f"#activity-{task.pk}").get_by_test_id("accept").click()
    expect(pending.locator(f"#activity-{task.pk}")).to_have_count(0)
    row = rep_page.locator(f'[data-testid="activity-row"][data-activity="{task.pk}"]')
    expect(row.get_by_test_id("assignment-state")).to_have_text("Accepted")
    row.get_by_test_id("complete").click()
    row.get_by_test_id("action-form").locator("#id_comment").fill("КП надіслано клієнту")
    row.get_by_test_id("action-save").click()
    expect(rep_page.locator(f"#activity-{task.pk}")).to_have_count(0)
    context.close()

    # then: the manager sees it completed, with the comment
    page.reload()
    outgoing = page.get_by_test_id("outgoing").locator(f"#activity-{task.pk}")
    expect(outgoing.get_by_test_id("assignment-state")).to_have_text("Completed")
    expect(outgoing.get_by_test_id("assignment-response")).to_contain_text("КП надіслано клієнту")
    task.refresh_from_db()
    assert (task.status, task.assignment_state) == (ActivityStatus.DONE, AssignmentState.DONE)
    expect(page.get_by_test_id("bell-count")).to_be_visible()
    page.get_by_test_id("bell").click()
    expect(page.locator("main")).to_contain_text("Петро Торговий completed the assignment")
