"""Marketing demo data (issue 12, item 11): `seed_demo --size S` gives marketing@example.com rules, the `demo`
web form, target groups, four campaigns with members, costs and leads, and computed reports."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from bench import pages
from crm.models import User
from marketing import seed as marketing_seed
from marketing.models import (
    AssignmentRule,
    Campaign,
    CampaignMember,
    CampaignReport,
    CampaignStatus,
    Lead,
    LeadChannel,
    LeadStatus,
    MemberStatus,
    Segment,
    SegmentKind,
    WebForm,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command("seed_demo", size="S", no_progress=True)


def test_seed_makes_rules_form_segments_and_campaigns(seeded):
    marketer = User.objects.get(email=marketing_seed.MARKETING_EMAIL)
    assert AssignmentRule.objects.filter(is_active=True).count() >= 3
    form = WebForm.objects.get(slug=marketing_seed.DEMO_FORM_SLUG)
    assert form.is_published
    assert form.consent_text
    assert form.team.name == "Продажі — Київ"
    segments = Segment.objects.all()
    assert 3 <= segments.count() <= 4
    assert segments.filter(kind=SegmentKind.DYNAMIC, saved_filter__isnull=False).exists()
    assert segments.filter(kind=SegmentKind.STATIC, members__isnull=False).exists()
    campaigns = Campaign.objects.filter(owner=marketer)
    assert sorted(campaigns.values_list("name", flat=True)) == sorted(marketing_seed.CURATED_CAMPAIGNS)
    assert set(campaigns.values_list("status", flat=True)) == {
        CampaignStatus.COMPLETED, CampaignStatus.RUNNING, CampaignStatus.DRAFT
    }  # fmt: skip
    completed = campaigns.get(status=CampaignStatus.COMPLETED)
    statuses = set(CampaignMember.objects.filter(campaign=completed).values_list("status", flat=True))
    assert statuses == set(MemberStatus.values)
    assert completed.actual_cost == completed.costs.aggregate(s=Sum("amount"))["s"] > 0


def test_seeded_leads_cover_statuses_and_channels(seeded):
    leads = Lead.objects.all()
    assert 50 <= leads.count() <= 70
    assert set(leads.values_list("status", flat=True)) == set(LeadStatus.values)
    assert set(leads.values_list("channel", flat=True)) == set(LeadChannel.values)
    assert leads.filter(campaign__isnull=False).count() >= 30
    assert not leads.filter(status=LeadStatus.CONVERTED, company__isnull=True).exists()
    assert leads.exclude(owner=None).count() == leads.count()


def test_seeded_reports_show_figures(seeded):
    marketer = User.objects.get(email=marketing_seed.MARKETING_EMAIL)
    completed = Campaign.objects.get(status=CampaignStatus.COMPLETED)
    rows = CampaignReport.objects.filter(campaign=completed)
    assert rows.aggregate(m=Sum("members"))["m"] == CampaignMember.objects.filter(campaign=completed).count()
    assert rows.aggregate(c=Sum("cost"))["c"] == completed.actual_cost
    assert rows.aggregate(n=Sum("leads"))["n"] == Lead.objects.filter(campaign=completed).count()
    completed.refresh_from_db()
    assert completed.report_computed_at is not None
    client = Client()
    client.force_login(marketer)
    response = client.get(reverse("marketing:campaign-report", args=[completed.pk]))
    assert response.status_code == 200
    assert 'data-testid="report-empty"' not in response.content.decode()
    assert Decimal(0) < completed.actual_cost


def test_bench_marketing_pages_answer(seeded):
    manager = User.objects.get(email=pages.BENCH_USER)
    marketing_pages = [page for page in pages.PAGES if page.name.startswith("marketing-")]
    assert {p.name for p in marketing_pages} == {
        "marketing-leads-filtered", "marketing-campaigns", "marketing-report-big", "marketing-conversion"
    }  # fmt: skip
    report = next(p for p in marketing_pages if p.name == "marketing-report-big")
    path = report.path(manager)
    assert path.endswith("/report/")
    response = _get(report, manager, path)
    assert response.status_code == 200, path


def _get(page, manager, path):
    browser = Client()
    cookie_name, session_key = page.headers(manager)["Cookie"].split("=", 1)
    browser.cookies[cookie_name] = session_key
    return browser.get(path)


def test_seed_is_deterministic():
    """Two seeds at the same time make the same marketing rows."""

    def snapshot() -> list:
        campaigns = Campaign.objects.order_by("pk").values_list("name", "status", "actual_cost", "starts_on")
        members = CampaignMember.objects.order_by("pk").values_list("campaign__name", "status", "region", "sent_at")
        leads = Lead.objects.order_by("pk").values_list("status", "channel", "campaign__name", "created_at")
        # A group's funnel row and its outcome row without a product share every key: the figures break the tie.
        report = CampaignReport.objects.order_by(
            "campaign__name", "segment__name", "region", "product__sku", "members", "leads", "cost"
        ).values_list("campaign__name", "members", "leads", "cost")
        return [*campaigns, *members, *leads, *report]

    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=True):
        call_command("seed_demo", size="S", no_progress=True)
    first = snapshot()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "TRUNCATE crm_user, crm_team, contacts_industry, deals_product, deals_category, deals_customergroup, "
            "deals_loyaltyrule, service_knowledgearticle, service_ticketnumber CASCADE"
        )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    with time_machine.travel(start, tick=True):
        call_command("seed_demo", size="S", no_progress=True)
    assert snapshot() == first
