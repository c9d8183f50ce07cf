"""Needs analysis (issue 12, item 9): what a target group asked for (company interests, leads' products) against
the categories it bought in the period, and the page."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from crm.models import Role
from deals.models import Order, OrderStatus
from marketing.models import Lead, SegmentKind, SegmentMember, SegmentTarget
from marketing.selectors_needs import needs_analysis
from service.sla import KYIV
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, PersonFactory
from tests.crm.factories import TeamFactory
from tests.deals.factories_catalogue import CategoryFactory, ProductFactory
from tests.deals.factories_orders import FailureReasonFactory, OrderFactory, OrderLineFactory
from tests.marketing.factories import LeadFactory, SegmentFactory

pytestmark = pytest.mark.django_db

URL = reverse("marketing:needs")
START, END = date(2026, 1, 1), date(2026, 3, 31)
IN_PERIOD = datetime(2026, 2, 10, 12, tzinfo=KYIV)


@pytest.fixture
def marketer():
    return make_user(Role.MARKETING)


def buy(company, product, *, at=IN_PERIOD, **fields) -> Order:
    order = OrderFactory(company=company, **fields)
    OrderLineFactory(order=order, product=product)
    Order.objects.filter(pk=order.pk).update(created_at=at)
    return order


@pytest.fixture
def group(marketer):
    """Companies C1..C4 in a static group (C5 outside it). Packaging (with the subcategory Films), Equipment,
    Raw materials. C1 asked for packaging and bought films; C2 asked for packaging and equipment and bought
    equipment; C3's lead asked for raw materials, nothing bought in the period; C4 asked for no known category."""
    packaging = CategoryFactory(name_uk="Пакування", name_en="Packaging")
    films = CategoryFactory(name_uk="Плівки", name_en="Films", parent=packaging)
    equipment = CategoryFactory(name_uk="Обладнання", name_en="Equipment")
    raw = CategoryFactory(name_uk="Сировина", name_en="Raw materials")
    film, machine, grain = (
        ProductFactory(category=films),
        ProductFactory(category=equipment),
        ProductFactory(category=raw),
    )
    c1 = CompanyFactory(interests=["Пакування"])
    c2 = CompanyFactory(interests=[" packaging ", "Обладнання"])
    c3 = CompanyFactory()
    c4 = CompanyFactory(interests=["Щось інше"])
    c5 = CompanyFactory(interests=["Пакування"])
    buy(c1, film)
    buy(c2, machine)
    LeadFactory(company=c3, product=grain, status="converted", converted_at=IN_PERIOD)
    buy(c3, grain, status=OrderStatus.CANCELLED, failure_reason=FailureReasonFactory())  # not bought
    buy(c3, grain, at=datetime(2025, 6, 1, tzinfo=KYIV))  # before the period
    buy(c5, film)
    Lead.objects.update(created_at=IN_PERIOD)
    segment = SegmentFactory(kind=SegmentKind.STATIC, target=SegmentTarget.COMPANY, owner=marketer)
    SegmentMember.objects.bulk_create(SegmentMember(segment=segment, company=c) for c in (c1, c2, c3, c4))
    return {"segment": segment, "packaging": packaging, "equipment": equipment, "raw": raw}


def test_needs_asked_for_x_bought_y(group, marketer):
    with translation.override("uk"):
        report = needs_analysis(user=marketer, segment=group["segment"], start=START, end=END)

    assert report.companies == 4
    assert not report.truncated
    by_id = {row.category_id: row for row in report.rows}
    packaging, equipment, raw = (by_id[group[key].pk] for key in ("packaging", "equipment", "raw"))
    assert (packaging.asked, packaging.bought_it, packaging.bought_other, packaging.bought_nothing) == (2, 1, 1, 0)
    assert packaging.bought_it_share == Decimal("50.0")
    assert (equipment.asked, equipment.bought_it, equipment.bought_other, equipment.bought_nothing) == (1, 1, 0, 0)
    assert (raw.asked, raw.bought_it, raw.bought_other, raw.bought_nothing) == (1, 0, 0, 1)
    assert report.rows[0].category_id == group["packaging"].pk  # most asked first
    # The matrix: bought top-level categories, most bought first.
    assert report.columns == ["Обладнання", "Пакування"]
    assert [(c.companies, c.share) for c in packaging.cells] == [(1, Decimal("50.0")), (1, Decimal("50.0"))]
    assert [c.companies for c in raw.cells] == [0, 0]
    chart = report.chart_data()["chart-needs"]
    assert chart["labels"][0] == "Пакування"
    assert chart["datasets"][0]["data"][0] == 50.0


def test_needs_of_a_person_group_counts_their_companies(group, marketer):
    segment = SegmentFactory(kind=SegmentKind.STATIC, target=SegmentTarget.PERSON, owner=marketer)
    company = SegmentMember.objects.filter(segment=group["segment"]).order_by("id").first().company
    SegmentMember.objects.create(segment=segment, person=PersonFactory(company=company))

    report = needs_analysis(user=marketer, segment=segment, start=START, end=END)

    assert report.companies == 1
    assert [(row.category_id, row.bought_it) for row in report.rows] == [(group["packaging"].pk, 1)]


def test_needs_of_an_empty_group(marketer):
    segment = SegmentFactory(kind=SegmentKind.STATIC, target=SegmentTarget.COMPANY, owner=marketer)

    report = needs_analysis(user=marketer, segment=segment, start=START, end=END)

    assert (report.companies, report.rows) == (0, [])


def test_needs_page_renders(client, group, marketer, django_assert_max_num_queries):
    client.force_login(marketer)

    with django_assert_max_num_queries(10):
        response = client.get(URL, {"segment": group["segment"].pk, "start": "2026-01-01", "end": "2026-03-31"})

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="table-needs"' in body
    assert "chart-needs" in body
    assert "Пакування" in body or "Packaging" in body  # the user's language picks the name
    assert client.get(URL).status_code == 200  # no group chosen yet
    htmx = client.get(URL, {"segment": group["segment"].pk}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200
    assert "<html" not in htmx.content.decode()


def test_needs_page_refuses_a_group_the_user_cannot_see(client, group):
    manager = make_user(Role.SALES_MANAGER, team=TeamFactory())
    client.force_login(manager)

    response = client.get(URL, {"segment": group["segment"].pk})

    assert response.status_code == 200
    assert b"report-invalid" in response.content
    assert b"table-needs" not in response.content


def test_needs_page_needs_the_permission(client, owner, readonly):
    for user in (owner, readonly):
        client.force_login(user)
        assert client.get(URL).status_code == 403
