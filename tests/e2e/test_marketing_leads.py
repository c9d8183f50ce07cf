"""Leads in a real browser (issue #12, item 13): a visitor submits the published "demo" web form, the lead
appears in /marketing/leads/ for a user of the form's team, who converts it into a client from its card; a marketer
filters the list (the form loads when its panel opens, the product picker searches) and removes a filter chip."""

import pytest
from playwright.sync_api import Page, expect

from crm.models import Role
from marketing.models import Lead, LeadStatus
from tests.conftest import make_user
from tests.crm.factories import TeamFactory
from tests.deals.factories_catalogue import ProductFactory
from tests.e2e.conftest import login
from tests.marketing.factories import LeadFactory, WebFormFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_visitor_submits_web_form_and_rep_converts_the_lead(page: Page, live_server):
    # given: the published demo form of a sales team, a representative of that team, and one of another team
    team = TeamFactory(name="Продажі Захід")
    rep = make_user(Role.SALES_REP, team=team)
    stranger = make_user(Role.SALES_REP, team=TeamFactory())
    WebFormFactory(slug="demo", team=team, fields=["first_name", "last_name", "company_name", "email", "phone",
                                                   "message"])  # fmt: skip

    # when: a visitor (no login) fills in the hosted form, coming from an ad
    page.goto(f"{live_server.url}/marketing/forms/demo/?utm_source=google&utm_campaign=spring")
    page.locator("#id_first_name").fill("Ірина")
    page.locator("#id_last_name").fill("Коваленко")
    page.locator("#id_company_name").fill("ТОВ Світанок")
    page.locator("#id_email").fill("iryna@svitanok.ua")
    page.locator("#id_phone").fill("067 765 43 21")
    page.locator("#id_message").fill("Потрібна пропозиція на 10 одиниць")
    page.locator("#id_consent").check()
    page.get_by_test_id("webform-submit").click()
    expect(page.get_by_test_id("webform-thanks")).to_be_visible()
    lead = Lead.objects.get()
    assert (lead.owner, lead.utm_source, lead.phone) == (rep, "google", "+380677654321")

    # then: another team's representative does not see it
    login(page, live_server, stranger)
    page.goto(f"{live_server.url}/marketing/leads/")
    expect(page.get_by_test_id("lead-row")).to_have_count(0)
    page.context.clear_cookies()

    # the team's representative finds it in the list and converts it with a deal
    login(page, live_server, rep)
    page.goto(f"{live_server.url}/marketing/leads/")
    row = page.get_by_test_id("lead-row").filter(has_text="ТОВ Світанок")
    expect(row).to_have_count(1)
    row.get_by_role("link", name="ТОВ Світанок").click()
    expect(page.get_by_test_id("lead-status")).to_have_text("New")
    expect(page.get_by_test_id("consent-entry")).to_have_count(1)
    page.locator("#convert_deal_title").fill("Пропозиція на 10 одиниць")
    page.locator("#convert_deal_amount").fill("25000")
    page.get_by_test_id("convert-lead").click()
    expect(page.get_by_test_id("lead-status")).to_have_text("Converted")
    page.get_by_test_id("client-link").click()
    expect(page.get_by_role("heading", name="ТОВ Світанок")).to_be_visible()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert lead.deal.amount == 25000
    assert lead.person.last_name == "Коваленко"


def test_marketer_filters_the_lead_list_and_removes_a_filter(page: Page, live_server):
    # given: leads of two products and statuses, and more products than the picker shows at first
    marketer = make_user(Role.MARKETING)
    for n in range(60):
        ProductFactory(sku=f"A{n:03d}", name_uk=f"Папір {n}")
    plotter = ProductFactory(sku="Z-1", name_uk="Плотер широкоформатний")
    LeadFactory(company_name="ТОВ Плотерна", product=plotter, status=LeadStatus.NEW)
    LeadFactory(company_name="ТОВ Кваліфікована", product=plotter, status=LeadStatus.QUALIFIED)
    LeadFactory(company_name="ТОВ Інша", status=LeadStatus.NEW)
    login(page, live_server, marketer)
    page.goto(f"{live_server.url}/marketing/leads/")
    expect(page.get_by_test_id("lead-row")).to_have_count(3)

    # when: the filter panel opens (its form loads then), a status is chosen and the plotter found by name
    page.get_by_test_id("filter-toggle").click()
    page.locator("#id_status").select_option(LeadStatus.NEW)
    expect(page.locator("#id_product option", has_text="Плотер")).to_have_count(0)  # not among the first 50
    page.get_by_placeholder("Find: 3+ letters of the name or the exact SKU").fill("плотер")
    expect(page.locator("#id_product option", has_text="Плотер")).to_have_count(1)
    page.locator("#id_product").select_option(str(plotter.pk))
    page.get_by_role("button", name="Apply").click()

    # then: one lead is left, the filters show as chips; removing one brings the other status back
    expect(page.get_by_test_id("lead-row")).to_have_count(1)
    expect(page.get_by_test_id("lead-row")).to_contain_text("ТОВ Плотерна")
    chips = page.get_by_test_id("active-filter")
    expect(chips).to_have_count(2)
    chips.filter(has_text="Status").click()
    expect(page.get_by_test_id("lead-row")).to_have_count(2)
    expect(page.get_by_test_id("active-filter")).to_have_count(1)
    assert "product=" in page.url
    assert "status=" not in page.url
