"""Attribution (issue 12, item 7): leads, deals and orders linked to the campaigns that brought them, by first
and last touch, within the window, with revenue; recomputing replaces the rows."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deals.models import Deal, DealStatus, Order, OrderStatus
from marketing.models import Attribution, Lead, LeadStatus
from marketing.selectors_conversion import campaign_attribution_totals
from marketing.services_attribution import attribution_compute
from marketing.tasks_reports import attribution_compute_task
from service.sla import KYIV
from tests.contacts.factories import CompanyFactory, PersonFactory
from tests.deals.factories_deals import DealFactory
from tests.deals.factories_orders import FailureReasonFactory, OrderFactory
from tests.marketing.factories import CampaignFactory, CampaignMemberFactory, LeadFactory

pytestmark = pytest.mark.django_db

T = datetime(2026, 3, 1, 12, tzinfo=KYIV)  # when the deal / order comes


def rows() -> set[tuple]:
    return set(
        Attribution.objects.values_list("kind", "touch", "campaign_id", "lead_id", "deal_id", "order_id", "revenue")
    )


def member(campaign, company, **times):
    return CampaignMemberFactory(campaign=campaign, person=PersonFactory(company=company), company=company, **times)


def deal_at(company, at: datetime, **fields) -> Deal:
    deal = DealFactory(company=company, owner=company.owner, **fields)
    Deal.objects.filter(pk=deal.pk).update(created_at=at)
    return deal


def order_at(company, at: datetime, **fields) -> Order:
    order = OrderFactory(company=company, **fields)
    Order.objects.filter(pk=order.pk).update(created_at=at)
    return order


@pytest.fixture
def company():
    return CompanyFactory()


def test_leads_get_their_campaign_or_the_utm_tag(company):
    spring = CampaignFactory()
    tagged = CampaignFactory(utm_campaign="spring-2026")
    direct = LeadFactory(campaign=spring)
    by_tag = LeadFactory(utm_campaign="spring-2026")
    LeadFactory(utm_campaign="unknown-tag")
    LeadFactory()

    attribution_compute()

    assert rows() == {
        ("lead", "first", spring.pk, direct.pk, None, None, Decimal("0.00")),
        ("lead", "last", spring.pk, direct.pk, None, None, Decimal("0.00")),
        ("lead", "first", tagged.pk, by_tag.pk, None, None, Decimal("0.00")),
        ("lead", "last", tagged.pk, by_tag.pk, None, None, Decimal("0.00")),
    }


def test_deal_first_and_last_touch_of_two_campaigns(company):
    first, last = CampaignFactory(name="Перша"), CampaignFactory(name="Остання")
    member(first, company, clicked_at=T - timedelta(days=30))
    # The touch time is the earliest of click / response / conversion.
    member(last, company, responded_at=T - timedelta(days=2), converted_at=T - timedelta(days=1))
    deal = deal_at(company, T, status=DealStatus.WON, amount=Decimal("1500.50"))

    attribution_compute()

    assert rows() == {
        ("deal", "first", first.pk, None, deal.pk, None, Decimal("1500.50")),
        ("deal", "last", last.pk, None, deal.pk, None, Decimal("1500.50")),
    }
    assert Attribution.objects.filter(deal=deal).first().company_id == company.pk


def test_converted_lead_is_a_touch_of_its_company(company):
    campaign = CampaignFactory()
    lead = LeadFactory(campaign=campaign, status=LeadStatus.CONVERTED, company=company, converted_at=T)
    Lead.objects.filter(pk=lead.pk).update(created_at=T - timedelta(days=1))
    deal = deal_at(company, T + timedelta(days=3))

    attribution_compute()

    assert {(r[0], r[1], r[2]) for r in rows()} == {
        ("lead", "first", campaign.pk), ("lead", "last", campaign.pk),
        ("deal", "first", campaign.pk), ("deal", "last", campaign.pk),
    }  # fmt: skip
    # An open deal: attributed, no revenue yet.
    assert Attribution.objects.get(deal=deal, touch="last").revenue == Decimal("0.00")
    assert Attribution.objects.get(lead=lead, touch="first").company_id == company.pk


def test_touches_outside_the_window_or_after_do_not_count(company, settings):
    settings.MARKETING_ATTRIBUTION_DAYS = 90
    old, inside, later = CampaignFactory(), CampaignFactory(), CampaignFactory()
    member(old, company, clicked_at=T - timedelta(days=91))
    member(inside, company, clicked_at=T - timedelta(days=89))
    member(later, company, clicked_at=T + timedelta(hours=1))
    member(CampaignFactory(), company, opened_at=T - timedelta(days=1))  # an open is not a touch
    deal = deal_at(company, T)

    attribution_compute()

    assert {(r[1], r[2]) for r in rows()} == {("first", inside.pk), ("last", inside.pk)}
    assert Attribution.objects.filter(deal=deal).count() == 2


def test_a_company_without_touches_is_not_attributed(company):
    deal_at(company, T, status=DealStatus.WON)
    order_at(CompanyFactory(), T, total=Decimal("10.00"))

    assert attribution_compute() == 0
    assert not Attribution.objects.exists()


def test_order_revenue_is_its_total_as_decimal(company):
    campaign = CampaignFactory()
    member(campaign, company, clicked_at=T - timedelta(days=5))
    order = order_at(company, T, total=Decimal("1234.56"))
    order_at(company, T, status=OrderStatus.CANCELLED, failure_reason=FailureReasonFactory(), total=Decimal("99.00"))

    attribution_compute()

    attributed = Attribution.objects.filter(kind="order")
    assert {(a.order_id, a.touch) for a in attributed} == {(order.pk, "first"), (order.pk, "last")}
    revenue = attributed.first().revenue
    assert isinstance(revenue, Decimal)
    assert revenue == Decimal("1234.56")
    assert attributed.first().at == T


def test_recompute_is_idempotent_and_replaces_stale_rows(company):
    first, last = CampaignFactory(), CampaignFactory()
    member(first, company, clicked_at=T - timedelta(days=10))
    member(last, company, clicked_at=T - timedelta(days=3))
    deal_at(company, T, status=DealStatus.WON, amount=Decimal("100.00"))
    order_at(company, T, total=Decimal("50.00"))
    LeadFactory(campaign=first)

    written = attribution_compute()
    before = rows()
    again = attribution_compute()

    assert written == again == len(before) == 6
    assert rows() == before
    # A lead that loses its campaign loses its rows on the next run.
    Lead.objects.update(campaign=None)
    attribution_compute()
    assert not Attribution.objects.filter(kind="lead").exists()


def test_compute_is_set_based(company):
    campaign = CampaignFactory()
    for _ in range(3):
        other = CompanyFactory()
        member(campaign, other, clicked_at=T - timedelta(days=1))
        deal_at(other, T)
        LeadFactory(campaign=campaign)

    with CaptureQueriesContext(connection) as queries:
        attribution_compute_task.delay()

    assert Attribution.objects.count() == 12
    assert len(queries) <= 6  # lock, delete, insert (plus savepoints): no per-row queries


def test_campaign_attribution_totals(company):
    campaign, other = CampaignFactory(), CampaignFactory()
    member(other, company, clicked_at=T - timedelta(days=20))
    member(campaign, company, clicked_at=T - timedelta(days=2))
    deal_at(company, T, status=DealStatus.WON, amount=Decimal("1000.00"))
    deal_at(company, T)
    order_at(company, T, total=Decimal("240.00"))
    LeadFactory(campaign=campaign)
    attribution_compute()

    totals = campaign_attribution_totals(campaign)

    assert totals["last"] == {
        "leads": 1, "deals": 2, "deals_won": 1, "orders": 1,
        "deal_revenue": Decimal("1000.00"), "order_revenue": Decimal("240.00"), "revenue": Decimal("1240.00"),
    }  # fmt: skip
    assert totals["first"]["leads"] == 1
    assert totals["first"]["deals"] == 0
    assert totals["first"]["revenue"] == Decimal("0.00")
