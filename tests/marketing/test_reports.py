"""Campaign effectiveness (issue 12, item 8): the rollups computed from members, leads and attributions, and
the report pages that read only them."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.models import Job, Role
from deals.models import DealStatus
from marketing import selectors_reports
from marketing.models import Attribution, CampaignReport, LeadStatus, Touch
from marketing.selectors_reports import Figures
from marketing.services_reports import campaign_report_compute, campaign_report_request, campaign_report_totals_compute
from tests.conftest import make_user
from tests.contacts.factories import PersonFactory
from tests.crm.factories import TeamFactory
from tests.deals.factories_catalogue import ProductFactory
from tests.deals.factories_deals import DealFactory, DealLineFactory
from tests.marketing.factories import CampaignFactory, CampaignMemberFactory, LeadFactory, SegmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer():
    return make_user(Role.MARKETING)


@pytest.fixture
def data(marketer):
    """A campaign of 10 members in two target groups and two regions, 3 leads, 1 won deal, 1,000 UAH of costs."""
    now = timezone.now()
    campaign = CampaignFactory(owner=marketer, actual_cost=Decimal("1000.00"))
    farmers, shops = SegmentFactory(name="Фермери", owner=marketer), SegmentFactory(name="=cmd()", owner=marketer)
    product = ProductFactory()
    people = []
    # Фермери / kyiv: 6 members: all sent, 1 bounced, 3 opened, 2 clicked, 1 responded, 1 unsubscribed.
    for i in range(6):
        person = PersonFactory()
        people.append(person)
        CampaignMemberFactory(
            campaign=campaign, person=person, segment=farmers, region="kyiv_city", sent_at=now,
            bounced_at=now if i == 5 else None, opened_at=now if i < 3 else None, clicked_at=now if i < 2 else None,
            responded_at=now if i == 0 else None, unsubscribed_at=now if i == 4 else None,
        )  # fmt: skip
    # =cmd() / lviv: 4 members, 2 sent.
    for i in range(4):
        person = PersonFactory()
        people.append(person)
        CampaignMemberFactory(campaign=campaign, person=person, segment=shops, region="lviv",
                              sent_at=now if i < 2 else None)  # fmt: skip
    company = people[0].company
    company.region = "kyiv_city"
    company.save(update_fields=["region"])
    # Leads: two from Фермери members (one converted), one from nobody in the campaign.
    LeadFactory(campaign=campaign, product=product, region="kyiv_city", matched_person=people[0])
    LeadFactory(
        campaign=campaign, product=product, region="kyiv_city", person=people[1], company=people[1].company,
        status=LeadStatus.CONVERTED, converted_at=now,
    )  # fmt: skip
    LeadFactory(campaign=campaign, product=None, region="odesa")
    LeadFactory(campaign=CampaignFactory(owner=marketer), region="kyiv_city")  # another campaign's
    deal = DealFactory(company=company, status=DealStatus.WON, amount=Decimal("5000.00"))
    DealLineFactory(deal=deal, product=product)
    Attribution.objects.create(campaign=campaign, touch=Touch.LAST, kind="deal", deal=deal, company=company,
                               revenue=Decimal("3000.00"), at=now)  # fmt: skip
    lost = DealFactory(company=company, status=DealStatus.OPEN)
    Attribution.objects.create(campaign=campaign, touch=Touch.LAST, kind="deal", deal=lost, company=company, at=now)
    Attribution.objects.create(campaign=campaign, touch=Touch.FIRST, kind="deal", deal=deal, company=company,
                               revenue=Decimal("3000.00"), at=now)  # fmt: skip
    return {"campaign": campaign, "farmers": farmers, "shops": shops, "product": product, "company": company}


def _rows(campaign):
    return {(r.segment_id, r.product_id, r.region): r for r in CampaignReport.objects.filter(campaign=campaign)}


def test_compute_counts_the_funnel_per_segment_and_region(data):
    campaign, farmers, shops, product = data["campaign"], data["farmers"], data["shops"], data["product"]

    written = campaign_report_compute(campaign_id=campaign.pk)

    rows = _rows(campaign)
    assert written == len(rows) == 4
    kyiv = rows[(farmers.pk, None, "kyiv_city")]
    assert (kyiv.members, kyiv.sent, kyiv.delivered, kyiv.opened, kyiv.clicked, kyiv.responded,
            kyiv.unsubscribed, kyiv.bounced) == (6, 6, 5, 3, 2, 1, 1, 1)  # fmt: skip
    lviv = rows[(shops.pk, None, "lviv")]
    assert (lviv.members, lviv.sent, lviv.delivered, lviv.opened) == (4, 2, 2, 0)
    # Leads by product and region, the segment from the member record; deals by the first line's product.
    outcome = rows[(farmers.pk, product.pk, "kyiv_city")]
    assert (outcome.leads, outcome.clients, outcome.deals_won, outcome.revenue) == (2, 1, 1, Decimal("3000.00"))
    stray = rows[(None, None, "odesa")]
    assert (stray.leads, stray.members, stray.cost) == (1, 0, 0)
    # Costs by share of members (6:4), adding up to the actual cost.
    assert (kyiv.cost, lviv.cost) == (Decimal("600.00"), Decimal("400.00"))
    campaign.refresh_from_db()
    assert campaign.report_computed_at is not None


def test_cost_allocation_adds_up_to_the_actual_cost_with_rounding(marketer):
    campaign = CampaignFactory(owner=marketer, actual_cost=Decimal("100.00"))
    for region in ("kyiv_city", "lviv", "odesa"):
        CampaignMemberFactory(campaign=campaign, region=region)

    campaign_report_compute(campaign_id=campaign.pk)

    costs = sorted(CampaignReport.objects.filter(campaign=campaign).values_list("cost", flat=True))
    assert sum(costs) == Decimal("100.00")
    assert costs == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]


def test_costs_of_a_campaign_without_members_are_kept_on_one_row(marketer):
    campaign = CampaignFactory(owner=marketer, actual_cost=Decimal("250.00"))
    LeadFactory(campaign=campaign, region="kyiv_city")

    campaign_report_compute(campaign_id=campaign.pk)

    rows = CampaignReport.objects.filter(campaign=campaign)
    assert sum(r.cost for r in rows) == Decimal("250.00")
    assert sum(r.leads for r in rows) == 1


def test_recompute_is_idempotent(data):
    campaign = data["campaign"]
    campaign_report_compute(campaign_id=campaign.pk)
    fields = ("segment_id", "product_id", "region", "members", "leads", "revenue", "cost")
    first = set(CampaignReport.objects.filter(campaign=campaign).values_list(*fields))

    campaign_report_compute(campaign_id=campaign.pk)

    again = set(CampaignReport.objects.filter(campaign=campaign).values_list(*fields))
    assert again == first


def test_compute_of_a_deleted_campaign_writes_nothing():
    assert campaign_report_compute(campaign_id=987654) == 0


def test_figures_without_cost_or_leads_show_a_dash():
    figures = Figures(revenue=Decimal("10"), cost=Decimal("0"), leads=0)
    assert figures.roi_percent is None
    assert figures.roi_text == figures.cost_per_lead_text == figures.conversion_text == "—"
    assert Figures(revenue=Decimal("300"), cost=Decimal("100")).roi_percent == Decimal("200.0")


def test_report_page_reads_only_the_rollups(client, marketer, data):
    campaign = data["campaign"]
    campaign_report_compute(campaign_id=campaign.pk)
    client.force_login(marketer)
    url = reverse("marketing:campaign-report", args=[campaign.pk])
    client.get(url)  # warm the session and permission caches

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any("marketing_campaignmember" in s for s in sql), sql
    assert not any("marketing_lead" in s for s in sql), sql
    assert len(sql) <= 8, sql
    body = response.content.decode()
    assert "Фермери" in body
    assert 'data-chart="' in body
    assert 'data-testid="recompute"' in body


def test_report_page_shows_roi_dash_without_costs(client, marketer):
    campaign = CampaignFactory(owner=marketer)
    CampaignMemberFactory(campaign=campaign, region="kyiv_city")
    campaign_report_compute(campaign_id=campaign.pk)
    client.force_login(marketer)

    response = client.get(reverse("marketing:campaign-report", args=[campaign.pk]))

    assert response.status_code == 200
    assert 'data-testid="kpi-roi">—<' in response.content.decode()


def test_report_page_of_an_uncomputed_campaign(client, marketer):
    campaign = CampaignFactory(owner=marketer)
    client.force_login(marketer)
    response = client.get(reverse("marketing:campaign-report", args=[campaign.pk]))
    assert response.status_code == 200
    assert 'data-testid="report-empty"' in response.content.decode()


def test_report_of_another_teams_campaign_is_404(client, marketer):
    team = TeamFactory()
    campaign = CampaignFactory(owner=make_user(Role.SALES_MANAGER, team=team), team=team)
    stranger = make_user(Role.SALES_MANAGER, team=TeamFactory())
    client.force_login(stranger)
    names = ("campaign-report", "campaign-report-groups", "campaign-report-products", "campaign-report-xlsx",
             "campaign-report-pdf")  # fmt: skip
    for name in names:
        assert client.get(reverse(f"marketing:{name}", args=[campaign.pk])).status_code == 404, name
    # The team's manager sees it.
    client.force_login(campaign.owner)
    assert client.get(reverse("marketing:campaign-report", args=[campaign.pk])).status_code == 200


def test_report_needs_the_permission(client, readonly, marketer):
    campaign = CampaignFactory(owner=marketer)
    client.force_login(readonly)
    assert client.get(reverse("marketing:campaign-report", args=[campaign.pk])).status_code == 403
    assert client.post(reverse("marketing:campaign-report-recompute", args=[campaign.pk])).status_code == 403


def test_recompute_queues_one_job_and_the_task_computes(client, marketer, data, django_capture_on_commit_callbacks):
    campaign = data["campaign"]
    client.force_login(marketer)
    url = reverse("marketing:campaign-report-recompute", args=[campaign.pk])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, HTTP_HX_REQUEST="true")
        client.post(url, HTTP_HX_REQUEST="true")  # a second click while it waits

    assert response.status_code == 200
    assert 'data-testid="computing"' in response.content.decode()
    assert 'hx-trigger="every 2s"' in response.content.decode()
    jobs = Job.objects.filter(kind="campaign_report", params__campaign_id=campaign.pk)
    assert jobs.count() == 1
    assert len(callbacks) == 1

    from marketing.tasks_reports import campaign_report_compute_task

    campaign_report_compute_task.apply(args=[campaign.pk, jobs.get().pk])

    assert jobs.get().status == Job.Status.DONE
    assert CampaignReport.objects.filter(campaign=campaign).count() == 4
    page = client.get(reverse("marketing:campaign-report", args=[campaign.pk]))
    assert 'data-testid="computing"' not in page.content.decode()


def test_recompute_without_htmx_redirects(client, marketer, data, django_capture_on_commit_callbacks):
    client.force_login(marketer)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("marketing:campaign-report-recompute", args=[data["campaign"].pk]))
    assert response.status_code == 302
    assert response.url == reverse("marketing:campaign-report", args=[data["campaign"].pk])


def test_request_by_a_user_who_may_not_change_campaigns_is_refused(data):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        campaign_report_request(campaign=data["campaign"], actor=make_user(Role.SALES_MANAGER))


def test_nightly_task_recomputes_running_campaigns(data):
    from marketing.models import CampaignStatus
    from marketing.tasks_reports import campaign_reports_nightly_task

    data["campaign"].status = CampaignStatus.RUNNING
    data["campaign"].save()

    assert campaign_reports_nightly_task.apply().get() >= 1
    assert CampaignReport.objects.filter(campaign=data["campaign"]).exists()


def test_xlsx_export_escapes_formulas(client, marketer, data):
    campaign_report_compute(campaign_id=data["campaign"].pk)
    client.force_login(marketer)

    response = client.get(reverse("marketing:campaign-report-xlsx", args=[data["campaign"].pk]))

    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    values = [cell for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "'=cmd()" in values
    assert "=cmd()" not in values
    summary = workbook.worksheets[0]
    assert any(row[0] == "Members" or row[1] == 10 for row in summary.iter_rows(values_only=True) if row)


def test_pdf_export(client, marketer, data):
    data["campaign"].name = "Весняна кампанія"
    data["campaign"].save()
    campaign_report_compute(campaign_id=data["campaign"].pk)
    client.force_login(marketer)

    response = client.get(reverse("marketing:campaign-report-pdf", args=[data["campaign"].pk]))

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"


def test_compare_shows_visible_campaigns_side_by_side(client, marketer, data, django_assert_max_num_queries):
    first = data["campaign"]
    campaign_report_compute(campaign_id=first.pk)
    second = CampaignFactory(owner=marketer, name="Друга")
    third = CampaignFactory(owner=marketer, name="Третя")
    team = TeamFactory()
    hidden = CampaignFactory(owner=make_user(Role.SALES_MANAGER, team=team), team=team, name="Чужа")
    viewer = make_user(Role.SALES_MANAGER, team=TeamFactory())
    mine = CampaignFactory(owner=viewer, name="Моя")
    client.force_login(marketer)
    url = reverse("marketing:campaign-compare")
    client.get(url)

    with django_assert_max_num_queries(8):
        response = client.get(url, {"ids": [first.pk, second.pk, third.pk, "x", first.pk]})

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="compare-campaign"') == 3
    assert first.name in body
    assert "Друга" in body
    # A sales manager of another team does not see the marketing campaigns, only their own.
    client.force_login(viewer)
    body = client.get(url, {"ids": [hidden.pk, mine.pk]}).content.decode()
    assert body.count('data-testid="compare-campaign"') == 1
    assert "Моя" in body
    assert "Чужа" not in body


def test_compare_takes_at_most_five(client, marketer):
    campaigns = [CampaignFactory(owner=marketer) for _ in range(7)]
    client.force_login(marketer)
    response = client.get(reverse("marketing:campaign-compare"), {"ids": [c.pk for c in campaigns]})
    assert response.content.decode().count('data-testid="compare-campaign"') == 5


def test_report_page_shows_the_products_with_most_leads_and_the_export_every_one(client, marketer):
    campaign = CampaignFactory(owner=marketer)
    segment = SegmentFactory(owner=marketer, name="Фермери")
    now = timezone.now()
    shown = selectors_reports.PRODUCTS_SHOWN
    funnel = CampaignReport(campaign=campaign, segment=segment, region="kyiv_city", members=500, computed_at=now)
    rows = [funnel]
    products = [ProductFactory() for _ in range(shown + 2)]
    rows += [
        CampaignReport(campaign=campaign, segment=segment, region="kyiv_city", product=product, leads=leads,
                       revenue=Decimal("10.50") * leads, computed_at=now)
        for leads, product in enumerate(products, start=1)
    ]  # fmt: skip
    CampaignReport.objects.bulk_create(rows)
    campaign_report_totals_compute(campaign_id=campaign.pk)

    page = selectors_reports.campaign_report_get(user=marketer, campaign_id=campaign.pk)
    export = selectors_reports.campaign_report_get(user=marketer, campaign_id=campaign.pk, products_shown=None)

    all_leads = sum(range(1, shown + 3))
    for report in (page, export):
        assert (report.totals.members, report.totals.leads) == (500, all_leads)
        assert report.totals.revenue == Decimal("10.50") * all_leads
        assert [(g.segment, g.figures.leads) for g in report.groups] == [("Фермери", all_leads)]
    best_first = [p.sku for p in reversed(products)]
    assert page.groups[0].products == []  # loaded when the group is opened
    assert [p.label.split()[0] for p in page.by_product] == best_first[:shown]
    assert len(export.groups[0].products) == len(export.by_product) == shown + 2
    client.force_login(marketer)
    body = client.get(reverse("marketing:campaign-report", args=[campaign.pk])).content.decode()
    assert body.count('data-testid="group-products"') == 1
    assert 'data-testid="product-row"' not in body
    url = page.groups[0].products_url
    assert (
        url
        == reverse("marketing:campaign-report-products", args=[campaign.pk]) + f"?segment={segment.pk}&region=kyiv_city"
    )
    fragment = client.get(url).content.decode()
    assert fragment.count('data-testid="product-row"') == shown
    skus = [line.split()[0] for line in fragment.split('<td class="ps-3">')[1:]]
    assert skus == best_first[:shown]
    assert "<html" not in fragment


def test_report_page_renders_the_largest_groups_and_loads_the_rest(client, marketer, monkeypatch):
    monkeypatch.setattr(selectors_reports, "GROUPS_SHOWN", 2)
    campaign = CampaignFactory(owner=marketer)
    now = timezone.now()
    regions = ["kyiv_city", "lviv", "odesa", "kharkiv", "dnipropetrovsk"]
    CampaignReport.objects.bulk_create(
        CampaignReport(campaign=campaign, region=region, members=100 - n, computed_at=now)
        for n, region in enumerate(regions)
    )
    campaign_report_totals_compute(campaign_id=campaign.pk)
    client.force_login(marketer)

    body = client.get(reverse("marketing:campaign-report", args=[campaign.pk])).content.decode()
    rest = client.get(reverse("marketing:campaign-report-groups", args=[campaign.pk])).content.decode()

    assert body.count('data-testid="group-row"') == 2
    assert "Show 3 more target groups and regions" in body
    assert "of 490" in body  # the totals count every group
    assert rest.count('data-testid="group-row"') == 3
    assert "Odesa" in rest
    assert "Kyiv" not in rest
    assert 'data-testid="report-groups-rest"' not in rest
    assert "<html" not in rest


def test_report_group_products_bad_input(client, marketer, django_assert_max_num_queries):
    campaign = CampaignFactory(owner=marketer)
    url = reverse("marketing:campaign-report-products", args=[campaign.pk])
    client.force_login(marketer)
    assert client.get(url, {"segment": "x"}).status_code == 404
    assert client.get(url, {"segment": "99999999999"}).status_code == 404
    with django_assert_max_num_queries(6):
        response = client.get(url, {"segment": "", "region": "nowhere" * 10})
    assert response.status_code == 200
    assert "No leads or deals for a product." in response.content.decode()
