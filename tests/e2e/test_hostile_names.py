"""Hostile names in a real browser (issue #10, bad input): the rows rendered by Jinja2 and Django templates
print them as text on the board, the lists, My day, the assignments and the team plan.

Every name below would run script, add an element or be evaluated if a row printed it unescaped: the
test fails on any dialog, on an `<img src=x>` in the page, and (autouse `console_errors`) on any console
error or CSP violation.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Dialog, Page, expect

from contacts import services_activities
from contacts.models import ActivityKind
from crm.models import Role
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, PersonFactory
from tests.crm.factories import TeamFactory
from tests.deals.factories_deals import DealFactory, make_pipeline
from tests.deals.factories_orders import OrderFactory
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(2)>'
TEMPLATE = "{{ 7*7 }} {% now 'Y' %} & 'quoted'"


@pytest.fixture
def hostile(db):
    """A team whose manager, representative, company, person, deal, order and activities carry hostile names."""
    team = TeamFactory(name=f"Team {ATTRIBUTE}")
    manager = make_user(Role.SALES_MANAGER, team=team, full_name=f"Manager {SCRIPT}")
    team.manager = manager
    team.save()
    rep = make_user(Role.SALES_REP, team=team, full_name=f"Rep {ATTRIBUTE}")
    company = CompanyFactory(owner=rep, name=f"Company {SCRIPT}")
    today = timezone.localdate()
    person = PersonFactory(
        company=company,
        first_name=f"Person {ATTRIBUTE}",
        last_name=TEMPLATE,
        birth_day=today.day,
        birth_month=today.month,
        birth_year=1990,
    )
    pipeline, stages = make_pipeline(f"Pipeline {SCRIPT}")
    DealFactory(owner=rep, company=company, stage=stages["new"], title=f"Deal {ATTRIBUTE}", amount=Decimal("10.00"))
    OrderFactory(company=company)
    soon = timezone.now() + timedelta(minutes=30)
    services_activities.activity_create(
        actor=rep, kind=ActivityKind.CALL, subject=f"Call {SCRIPT}", starts_at=soon, person=person
    )
    services_activities.activity_create(
        actor=manager, kind=ActivityKind.ASSIGNMENT, subject=f"Task {ATTRIBUTE}", starts_at=soon, assignee=rep
    )
    return manager, rep, pipeline


def test_hostile_names_are_text_on_every_row_kind(page: Page, live_server, hostile):
    manager, rep, pipeline = hostile
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    login(page, live_server, rep)

    def visit(path: str, *texts: str) -> None:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state()
        main = page.locator("main")
        for text in texts:
            expect(main.get_by_text(text, exact=False).first).to_be_visible()
        assert page.locator('img[src="x"]').count() == 0, path
        assert page.locator('script:not([src]):not([type="application/json"])').count() == 0, path

    visit(f"/sales/deals/board/?pipeline={pipeline.pk}", f"Pipeline {SCRIPT}", f"Deal {ATTRIBUTE}", f"Company {SCRIPT}")
    visit("/sales/deals/", f"Deal {ATTRIBUTE}", f"Company {SCRIPT}")
    visit("/sales/orders/", f"Company {SCRIPT}")
    visit("/contacts/companies/", f"Company {SCRIPT}")
    visit("/contacts/people/", f"Person {ATTRIBUTE}", TEMPLATE)
    visit("/contacts/my-day/", f"Call {SCRIPT}", f"Task {ATTRIBUTE}", f"Manager {SCRIPT}", f"Person {ATTRIBUTE}")
    visit("/contacts/assignments/", f"Task {ATTRIBUTE}")

    page.context.clear_cookies()
    login(page, live_server, manager)
    visit("/contacts/plans/team/", f"Rep {ATTRIBUTE}")
    visit("/contacts/assignments/", f"Task {ATTRIBUTE}", f"Rep {ATTRIBUTE}")

    assert dialogs == []
