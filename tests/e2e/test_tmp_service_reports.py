import pytest
from playwright.sync_api import Page, expect

from crm.models import Role
from service.reports import rollups_compute
from tests.conftest import make_user
from tests.crm.factories import TeamFactory
from tests.service.test_reports import kyiv, make_ticket
from service.models import TicketStatus
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_tmp(page: Page, live_server):
    d = make_user(Role.DIRECTOR)
    team = TeamFactory()
    for h in range(8, 12):
        make_ticket(
            created_at=kyiv(2026, 3, 10, h),
            team=team,
            first_responded_at=kyiv(2026, 3, 10, h, 30),
            resolved_at=kyiv(2026, 3, 11, h),
            status=TicketStatus.RESOLVED,
        )
    rollups_compute(start=kyiv(2026, 3, 1).date(), end=kyiv(2026, 3, 31).date())
    login(page, live_server, d)
    page.goto(f"{live_server.url}/service/reports/?start=2026-03-01&end=2026-03-31")
    page.wait_for_load_state()
    print(
        page.evaluate(
            "[typeof Chart, !!document.getElementById('service-report-data'), document.getElementById('chart-volume') && document.getElementById('chart-volume').outerHTML]"
        )
    )
    assert page.evaluate("Chart.getChart(document.getElementById('chart-volume')).data.datasets[0].data[9]") == 4
    print(
        page.evaluate(
            "JSON.stringify(Chart.getChart(document.getElementById('chart-times')).data.datasets.map(d => d.data.slice(8, 12)))"
        )
    )
    page.locator("#chart-times").screenshot(path="/tmp/times.png")
    page.locator("#id_start").fill("2026-03-10")
    page.locator("#report-filter-form [type=submit]").click()
    expect(page.get_by_test_id("kpi-created")).to_have_text("4")
    page.wait_for_timeout(500)

    n = page.evaluate("Chart.getChart(document.getElementById('chart-volume')).data.labels.length")
    assert n == 22, n
    assert "start=2026-03-10" in page.url
    page.locator("#id_end").fill("2026-03-01")
    page.locator("#report-filter-form [type=submit]").click()
    expect(page.get_by_test_id("report-invalid")).to_be_visible()
    page.screenshot(path="/tmp/reports2.png", full_page=True)
