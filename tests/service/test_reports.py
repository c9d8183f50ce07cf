"""Service reports (issue item 10): the daily rollups, the report's figures and scope, the page, its exports."""

from __future__ import annotations

import io
import re
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from crm.models import Role
from service import services
from service.models import ServiceDailyRollup, Ticket, TicketCategory, TicketStatus, TicketStatusChange
from service.reports import rollup_range, rollups_compute
from service.selectors_reports import service_report
from service.sla import KYIV
from service.tasks import rollups_compute_task
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory
from tests.crm.factories import TeamFactory
from tests.deals.factories_catalogue import ProductFactory
from tests.service.factories import TicketFactory

pytestmark = pytest.mark.django_db

DAY1, DAY2 = date(2026, 3, 10), date(2026, 3, 11)
URL = reverse("service:reports")
TICKET_TABLES = re.compile(r"\bservice_ticket(statuschange)?\b")


def kyiv(*args: int) -> datetime:
    return datetime(*args, tzinfo=KYIV)


def make_ticket(*, created_at: datetime, **fields) -> Ticket:
    """A ticket with exactly these times (created_at is auto_now_add, so it is written afterwards)."""
    ticket = TicketFactory(**fields)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created_at)
    return ticket


def rollup_rows() -> list[tuple]:
    return sorted(
        (
            r.day,
            r.team_id,
            r.agent_id,
            r.category_id,
            r.product_id,
            r.created,
            r.resolved,
            r.sla_kept,
            r.reopened,
            r.csat_count,
            r.csat_sum,
            sorted(r.first_response_minutes),
            sorted(r.resolution_minutes),
        )
        for r in ServiceDailyRollup.objects.all()
    )


@pytest.fixture
def category(db):
    return TicketCategory.objects.create(name="Звіти: доставка")


@pytest.fixture
def product(db):
    return ProductFactory()


@pytest.fixture
def desk_tickets(service_desk, agent, team, category, product):
    """Four tickets of the service desk (agent, category, product) and one of `team`, over 9–11 March 2026.

    Day 1 (10 March): created T1, T2, T3; first answers T1 30 min, T2 90 min; T1 resolved in 240 min (kept);
    T5 (created 9 March) reopened. Day 2 (11 March): T2 resolved in 1,440 min with a late first answer, T5
    resolved in 3,060 min (kept); ratings 5 (T1) and 3 (T2); T4 created for `team`, unassigned, at 00:10.
    """
    dims = {"team": service_desk, "assignee": agent, "category": category, "product": product}
    make_ticket(
        created_at=kyiv(2026, 3, 10, 9),
        first_responded_at=kyiv(2026, 3, 10, 9, 30),
        resolved_at=kyiv(2026, 3, 10, 13),
        status=TicketStatus.RESOLVED,
        csat_rating=5,
        csat_at=kyiv(2026, 3, 11, 10),
        **dims,
    )
    make_ticket(
        created_at=kyiv(2026, 3, 10, 10),
        first_responded_at=kyiv(2026, 3, 10, 11, 30),
        first_response_breached=True,
        resolved_at=kyiv(2026, 3, 11, 10),
        status=TicketStatus.RESOLVED,
        csat_rating=3,
        csat_at=kyiv(2026, 3, 11, 11),
        **dims,
    )
    make_ticket(created_at=kyiv(2026, 3, 10, 23, 30), **dims)  # still the 10th in Kyiv (21:30 UTC)
    make_ticket(created_at=kyiv(2026, 3, 11, 0, 10), team=team)  # the 11th in Kyiv, the 10th in UTC
    t5 = make_ticket(
        created_at=kyiv(2026, 3, 9, 12), resolved_at=kyiv(2026, 3, 11, 15), status=TicketStatus.RESOLVED, **dims
    )
    TicketStatusChange.objects.create(
        ticket=t5, from_status=TicketStatus.RESOLVED, to_status=TicketStatus.REOPENED, changed_at=kyiv(2026, 3, 10, 16)
    )
    return dims


# --- rollups ---------------------------------------------------------------------------------------------------


def test_rollups_compute_counts_each_event_on_its_kyiv_day(desk_tickets, service_desk, agent, team, category, product):
    written = rollups_compute(start=DAY1, end=DAY2)

    assert written == 3
    desk = (service_desk.pk, agent.pk, category.pk, product.pk)
    assert rollup_rows() == [
        (DAY1, *desk, 3, 1, 1, 1, 0, 0, [30, 90], [240]),
        (DAY2, *desk, 0, 2, 1, 0, 2, 8, [], [1440, 3060]),
        (DAY2, team.pk, None, None, None, 1, 0, 0, 0, 0, 0, [], []),
    ]
    assert all(r.computed_at is not None for r in ServiceDailyRollup.objects.all())


def test_rollups_compute_is_idempotent_and_rebuilds_only_its_range(desk_tickets, category):
    rollups_compute(start=DAY1, end=DAY2)
    first = rollup_rows()
    assert rollups_compute(start=DAY1, end=DAY2) == 3
    assert rollup_rows() == first

    # A recategorised ticket moves to another row on the day rebuilt; the other day keeps its rows.
    other = TicketCategory.objects.create(name="Звіти: оплата")
    Ticket.objects.filter(created_at=kyiv(2026, 3, 10, 23, 30)).update(category=other)
    assert rollups_compute(day=DAY1) == 2
    day1 = ServiceDailyRollup.objects.filter(day=DAY1)
    assert sorted(day1.values_list("category_id", "created")) == sorted([(category.pk, 2), (other.pk, 1)])
    assert [r for r in rollup_rows() if r[0] == DAY2] == [r for r in first if r[0] == DAY2]


def test_rollups_compute_from_the_services(agent, service_desk):
    """Created, answered, resolved, reopened and resolved again through the services."""
    ticket = services.ticket_create(actor=agent, subject="Не прийшов товар", company=CompanyFactory(),
                                    now=kyiv(2026, 3, 10, 9))  # fmt: skip
    services.ticket_reply(ticket=ticket, actor=agent, body_html="<p>Перевіряємо</p>", now=kyiv(2026, 3, 10, 10, 30))
    services.ticket_set_status(ticket=ticket, status=TicketStatus.RESOLVED, actor=agent, now=kyiv(2026, 3, 11, 9))
    services.ticket_set_status(ticket=ticket, status=TicketStatus.REOPENED, actor=agent, now=kyiv(2026, 3, 11, 12))
    services.ticket_set_status(ticket=ticket, status=TicketStatus.RESOLVED, actor=agent, now=kyiv(2026, 3, 12, 9))

    rollups_compute(start=DAY1, end=date(2026, 3, 12))

    rows = {r.day: r for r in ServiceDailyRollup.objects.all()}
    assert set(rows) == {DAY1, DAY2, date(2026, 3, 12)}
    assert (rows[DAY1].created, rows[DAY1].first_response_minutes, rows[DAY1].agent_id) == (1, [90], agent.pk)
    assert (rows[DAY2].reopened, rows[DAY2].resolved) == (1, 0)  # the first resolution was undone
    assert (rows[date(2026, 3, 12)].resolved, rows[date(2026, 3, 12)].resolution_minutes) == (1, [2880])
    assert rows[DAY1].team_id == service_desk.pk


def test_rollup_range_defaults_and_errors(time_machine):
    time_machine.move_to(kyiv(2026, 3, 11, 0, 30))  # still 10 March in UTC
    assert rollup_range() == (DAY1, DAY2)
    assert rollup_range(day="2026-03-10") == (DAY1, DAY1)
    assert rollup_range(start=DAY1) == (DAY1, DAY2)
    with pytest.raises(ValueError, match="after"):
        rollup_range(start=DAY2, end=DAY1)
    with pytest.raises(ValueError, match="either"):
        rollup_range(day=DAY1, start=DAY1)
    with pytest.raises(ValueError, match="ISO"):
        rollup_range(day="10.03.2026")


def test_rollups_task_runs_eagerly(desk_tickets, time_machine):
    assert rollups_compute_task.delay("2026-03-10").get() == 1
    assert set(ServiceDailyRollup.objects.values_list("day", flat=True)) == {DAY1}
    time_machine.move_to(kyiv(2026, 3, 11, 18))
    assert rollups_compute_task.delay().get() == 3  # yesterday and today
    assert set(ServiceDailyRollup.objects.values_list("day", flat=True)) == {DAY1, DAY2}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_rollup_runs_leave_one_set_of_rows():
    team = TeamFactory()
    for hour in range(8, 18):
        make_ticket(created_at=kyiv(2026, 3, 10, hour), team=team, resolved_at=kyiv(2026, 3, 11, hour))
    barrier = threading.Barrier(2, timeout=20)
    written: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            written.append(rollups_compute(start=DAY1, end=DAY2))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert written == [2, 2]
    assert sorted(ServiceDailyRollup.objects.values_list("day", "created", "resolved")) == [
        (DAY1, 10, 0),
        (DAY2, 0, 10),
    ]


# --- the report ------------------------------------------------------------------------------------------------


def test_service_report_figures(desk_tickets, director, agent, category, team):
    rollups_compute(start=DAY1, end=DAY2)

    report = service_report(user=director, start=DAY1, end=DAY2)

    t = report.totals
    assert (t.created, t.resolved, t.sla_kept, t.reopened, t.csat_count) == (4, 3, 2, 1, 2)
    assert t.sla_kept_percent == Decimal("66.7")
    assert t.first_response_minutes == Decimal("60.0")  # median of 30 and 90
    assert t.resolution_minutes == Decimal("1440.0")  # median of 240, 1,440 and 3,060
    assert t.resolution_hours == Decimal("24.00")
    assert t.reopen_rate_percent == Decimal("33.3")
    assert t.csat_average == Decimal("4.00")
    assert [(p.start, p.figures.created, p.figures.resolved) for p in report.series] == [(DAY1, 3, 1), (DAY2, 1, 2)]
    assert report.series[0].figures.first_response_minutes == Decimal("60.0")
    assert not report.by_week
    assert [(r.key, r.figures.created) for r in report.by_team] == [(agent.team_id, 3), (team.pk, 1)]
    assert [(r.label, r.figures.created) for r in report.by_agent] == [(agent.full_name, 3), (gettext("Unassigned"), 1)]
    assert [r.label for r in report.by_category] == [category.name, gettext("No category")]
    assert report.computed_at is not None
    chart = report.chart_data()
    assert chart["created"] == [3, 1]
    assert chart["sla_kept_percent"] == [100.0, 50.0]

    narrowed = service_report(user=director, start=DAY2, end=DAY2, category_id=category.pk)
    assert (narrowed.totals.created, narrowed.totals.resolved, narrowed.totals.csat_count) == (0, 2, 2)
    assert narrowed.totals.resolution_minutes == Decimal("2250.0")


def test_service_report_series_by_week_for_long_periods(desk_tickets, director):
    rollups_compute(start=DAY1, end=DAY2)
    report = service_report(user=director, start=date(2026, 1, 1), end=date(2026, 3, 31))
    assert report.by_week
    assert report.series[0].start == date(2025, 12, 29)  # the Monday of the first week
    week = next(p for p in report.series if p.start == date(2026, 3, 9))
    assert (week.figures.created, week.figures.resolved) == (4, 3)
    assert sum(p.figures.created for p in report.series) == 4


def test_service_report_scope(desk_tickets, agent, other_agent, service_desk, manager, director, team):
    rollups_compute(start=DAY1, end=DAY2)

    def created(user) -> int:
        return service_report(user=user, start=DAY1, end=DAY2).totals.created

    assert created(director) == 4
    assert created(agent) == 3  # own team only
    assert created(service_desk.manager) == 3
    assert created(manager) == 1  # manages `team`
    assert created(other_agent) == 0
    assert service_report(user=other_agent, start=DAY1, end=DAY2).by_agent == []
    # Filtering by a team outside the scope gives nothing, not that team's figures.
    assert service_report(user=agent, start=DAY1, end=DAY2, team_id=team.pk).totals.created == 0
    assert created(make_user(Role.SERVICE_AGENT)) == 0  # no team: nothing


# --- the page --------------------------------------------------------------------------------------------------


def test_reports_page_reads_only_rollups(client, desk_tickets, director, product, django_assert_max_num_queries):
    rollups_compute(start=DAY1, end=DAY2)
    client.force_login(director)
    query = {"start": "2026-03-10", "end": "2026-03-11", "product": product.pk}
    client.get(URL, query)  # the user's roles and permissions into the access cache

    # session, user, 2 products, the report (+ savepoint and settings), bell, teams, agents, categories
    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(12):
        response = client.get(URL, query)

    assert response.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [q for q in sql if TICKET_TABLES.search(q)]
    assert any("service_servicedailyrollup" in q for q in sql)
    html = response.content.decode()
    assert 'id="service-report-data" data-chart="{&quot;labels&quot;: [&quot;10.03&quot;, &quot;11.03&quot;]' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "js/service_reports.js" in html
    assert 'data-testid="kpi-created">3<' in html
    assert 'data-testid="kpi-sla">66.7 %<' in html
    assert "export.xlsx?start=2026-03-10&amp;end=2026-03-11&amp;product=" in html
    assert "They are updated every 30 minutes." in html
    assert 'data-testid="table-volume"' in html


def test_reports_page_defaults_to_the_last_30_days_and_htmx_gets_the_fragment(client, agent):
    client.force_login(agent)
    response = client.get(URL)
    assert response.status_code == 200
    today = timezone.localdate(timezone.now(), KYIV)
    assert response.context["report"].start == today - timedelta(days=29)
    assert response.context["report"].end == today
    assert "The figures have not been computed yet." in response.content.decode()

    response = client.get(URL, {"start": "2026-03-01", "end": "2026-03-31"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="report-results"')
    assert 'hx-swap-oob="true"' in html
    assert "<html" not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-13-40"}, "Enter a date such as 2026-03-31."),
        ({"start": "2026-03-11", "end": "2026-03-10"}, "The end of the period must not be before its start."),
        ({"start": "2020-01-01", "end": "2026-03-10"}, "Choose a period of at most three years."),
        ({"team": "999999"}, "Select a valid choice."),
    ],
)
def test_reports_page_bad_filter_shows_the_error(client, director, query, message):
    client.force_login(director)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(URL, query, headers=headers)
        assert response.status_code == 200
        html = response.content.decode()
        assert message in html
        assert 'data-testid="report-invalid"' in html


def test_reports_filter_offers_only_the_users_teams(client, agent, team, service_desk):
    client.force_login(agent)
    form = client.get(URL).context["form"]
    assert list(form.fields["team"].queryset) == [service_desk]
    response = client.get(URL, {"team": team.pk})
    assert "Select a valid choice." in response.content.decode()


def test_reports_need_the_permission(client, owner, readonly):
    assert client.get(URL).status_code == 302  # to the login page
    for user in (owner, readonly):
        client.force_login(user)
        for name in ("service:reports", "service:reports-xlsx", "service:reports-pdf"):
            assert client.get(reverse(name)).status_code == 403


# --- exports ---------------------------------------------------------------------------------------------------


def test_reports_xlsx_has_figures_and_no_formulas(client, desk_tickets, director, category):
    from openpyxl import load_workbook

    TicketCategory.objects.filter(pk=category.pk).update(name="=1+2")
    rollups_compute(start=DAY1, end=DAY2)
    client.force_login(director)

    response = client.get(reverse("service:reports-xlsx"), {"start": "2026-03-10", "end": "2026-03-11",
                                                            "category": category.pk})  # fmt: skip

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="service-report-20260310-20260311.xlsx"' in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c for c in cells if c.data_type == "f"]
    values = [c.value for c in cells]
    assert "'=1+2" in values  # the category filter and its breakdown row stay text
    summary = {row[0]: row[1] for row in workbook.worksheets[0].iter_rows(values_only=True) if row and row[0]}
    assert summary["Created"] == 3
    assert summary["SLA kept, %"] == 66.7
    assert summary["Category"] == "'=1+2"


def test_reports_pdf(client, desk_tickets, director):
    rollups_compute(start=DAY1, end=DAY2)
    client.force_login(director)
    response = client.get(reverse("service:reports-pdf"), {"start": "2026-03-10", "end": "2026-03-11"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_reports_export_with_a_bad_filter_shows_the_form(client, director):
    client.force_login(director)
    response = client.get(reverse("service:reports-xlsx"), {"start": "2026-03-11", "end": "2026-03-10"})
    assert response.status_code == 400
    assert "The end of the period must not be before its start." in response.content.decode()
