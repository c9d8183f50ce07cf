"""Lead conversion (issue 12, item 2): the shares of leads that became clients and won deals, per grouping, the
Kyiv months, the time to convert, row access, the query bound, and the page."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Role
from deals.models import Deal, DealStatus
from marketing.models import DisqualifyReason, Lead, LeadChannel, LeadStatus
from marketing.selectors_conversion import lead_conversion
from marketing.services_conversion import conversion_rollup_compute
from service.sla import KYIV
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory
from tests.deals.factories_deals import DealFactory
from tests.marketing.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

URL = reverse("marketing:lead-conversion")
JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
PERIOD = {"start": date(2026, 1, 1), "end": date(2026, 2, 28)}


def kyiv(*args: int) -> datetime:
    return datetime(*args, tzinfo=KYIV)


def make_lead(*, created_at: datetime, **fields) -> Lead:
    lead = LeadFactory(**fields)
    Lead.objects.filter(pk=lead.pk).update(created_at=created_at)
    lead.refresh_from_db()
    return lead


def won_deal(company, *, created_at: datetime) -> Deal:
    deal = DealFactory(company=company, owner=company.owner, status=DealStatus.WON)
    Deal.objects.filter(pk=deal.pk).update(created_at=created_at)
    return deal


@pytest.fixture
def marketer():
    return make_user(Role.MARKETING)


@pytest.fixture
def leads(owner, outsider):
    """4 leads: 2 converted (2 and 4 days), 1 of them with a deal won after it; one lead at 00:30 Kyiv on Feb 1
    (still January in UTC). `owner` owns the January ones, `outsider` the February ones."""
    spring, autumn = CampaignFactory(name="Весна"), CampaignFactory(name="Осінь")
    c1, c2 = CompanyFactory(), CompanyFactory()
    l1 = make_lead(
        created_at=kyiv(2026, 1, 10, 10), owner=owner, source="website", channel=LeadChannel.WEB_FORM,
        campaign=spring, region="kyiv_city", status=LeadStatus.CONVERTED, company=c1,
        converted_at=kyiv(2026, 1, 12, 10),
    )  # fmt: skip
    won_deal(c1, created_at=kyiv(2026, 1, 15))
    l2 = make_lead(
        created_at=kyiv(2026, 2, 1, 0, 30), owner=outsider, source="website", channel=LeadChannel.CALL,
        campaign=autumn, region="lviv", status=LeadStatus.CONVERTED, company=c2, converted_at=kyiv(2026, 2, 5, 0, 30),
    )  # fmt: skip
    won_deal(c2, created_at=kyiv(2025, 12, 1))  # before the lead: not the lead's doing
    l3 = make_lead(created_at=kyiv(2026, 1, 20), owner=owner, source="exhibition", channel=LeadChannel.EVENT,
                   campaign=spring, region="kyiv_city")  # fmt: skip
    l4 = make_lead(
        created_at=kyiv(2026, 2, 10), owner=outsider, source="", channel=LeadChannel.CALL, region="",
        status=LeadStatus.DISQUALIFIED, disqualify_reason=DisqualifyReason.SPAM,
    )  # fmt: skip
    make_lead(created_at=kyiv(2025, 12, 31, 23), owner=owner)  # before the period
    conversion_rollup_compute()
    return {"l1": l1, "l2": l2, "l3": l3, "l4": l4, "spring": spring, "autumn": autumn}


def figures(report) -> dict[str, tuple]:
    return {row.label: (row.leads, row.converted, row.won) for row in report.rows}


def test_conversion_totals_and_times(leads, marketer):
    report = lead_conversion(user=marketer, by="source", **PERIOD)

    t = report.totals
    assert (t.leads, t.converted, t.won) == (4, 2, 1)
    assert (t.converted_percent, t.won_percent) == (Decimal("50.0"), Decimal("25.0"))
    assert (t.mean_days, t.median_days) == (Decimal("3.0"), Decimal("3.0"))


def test_conversion_by_month_uses_kyiv_months(leads, marketer):
    report = lead_conversion(user=marketer, by="month", **PERIOD)

    assert [row.key for row in report.rows] == ["2026-01-01", "2026-02-01"]
    assert [(r.leads, r.converted, r.won) for r in report.rows] == [(2, 1, 1), (2, 1, 0)]
    assert report.rows[0].converted_percent == Decimal("50.0")
    assert report.rows[0].mean_days == Decimal("2.0")
    assert report.rows[1].median_days == Decimal("4.0")


def test_conversion_by_month_fills_empty_months(leads, marketer):
    report = lead_conversion(user=marketer, by="month", start=date(2025, 11, 1), end=date(2026, 2, 28))

    assert [(row.key, row.leads) for row in report.rows] == [
        ("2025-11-01", 0), ("2025-12-01", 1), ("2026-01-01", 2), ("2026-02-01", 2),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("source", {"Website": (2, 2, 1), "Exhibition": (1, 0, 0), "No source": (1, 0, 0)}),
        ("channel", {"Web form": (1, 1, 1), "Call": (2, 1, 0), "Event": (1, 0, 0)}),
        ("campaign", {"Весна": (2, 1, 1), "Осінь": (1, 1, 0), "No campaign": (1, 0, 0)}),
        ("region", {"Kyiv (city)": (2, 1, 1), "Lviv Oblast": (1, 1, 0), "No region": (1, 0, 0)}),
    ],
)
def test_conversion_per_grouping(leads, marketer, by, expected, settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"):
        report = lead_conversion(user=marketer, by=by, **PERIOD)
        assert figures(report) == expected


def test_conversion_by_owner(leads, marketer, owner, outsider):
    report = lead_conversion(user=marketer, by="owner", **PERIOD)

    by_key = {row.key: (row.leads, row.converted, row.won) for row in report.rows}
    assert by_key == {str(owner.pk): (2, 1, 1), str(outsider.pk): (2, 1, 0)}
    assert {row.label for row in report.rows} == {owner.full_name or owner.email, outsider.full_name or outsider.email}


def test_conversion_of_a_rep_counts_only_own_leads(leads, owner):
    report = lead_conversion(user=owner, by="campaign", **PERIOD)

    assert (report.totals.leads, report.totals.converted, report.totals.won) == (2, 1, 1)
    assert figures(report) == {"Весна": (2, 1, 1)}


def test_conversion_team_filter(leads, marketer, owner):
    Lead.objects.filter(pk=leads["l3"].pk).update(team=owner.team)
    conversion_rollup_compute()

    report = lead_conversion(user=marketer, by="source", team_id=owner.team_id, **PERIOD)

    assert (report.totals.leads, report.totals.converted) == (1, 0)


def test_conversion_rejects_unknown_dimension(marketer):
    with pytest.raises(ValueError, match="unknown dimension"):
        lead_conversion(user=marketer, by="password", **PERIOD)


def test_conversion_page_renders_in_bounded_queries(client, leads, marketer, django_assert_max_num_queries):
    client.force_login(marketer)
    query = {"start": "2026-01-01", "end": "2026-02-28"}
    for by in ("month", "source", "channel", "campaign", "region", "owner"):
        with django_assert_max_num_queries(8):
            response = client.get(URL, {**query, "by": by})
        assert response.status_code == 200
    assert b"chart-conversion" in response.content
    assert b"marketing-chart-data" in response.content
    # More leads, same number of queries.
    for _ in range(5):
        make_lead(created_at=kyiv(2026, 1, 5), owner=marketer, campaign=leads["autumn"])
    conversion_rollup_compute()
    with django_assert_max_num_queries(8):
        assert client.get(URL, {**query, "by": "campaign"}).status_code == 200


def test_conversion_page_default_and_htmx(client, leads, marketer):
    client.force_login(marketer)

    assert client.get(URL).status_code == 200
    query = {"by": "channel", "start": "2026-01-01", "end": "2026-02-28"}
    response = client.get(URL, query, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="conversion-results"' in body
    assert "<html" not in body
    assert 'hx-swap-oob="true"' in body


def test_conversion_page_bad_filter_shows_errors(client, marketer, team):
    client.force_login(marketer)

    response = client.get(URL, {"start": "2026-03-01", "end": "2026-01-01", "by": "nonsense", "team": "999999"})

    assert response.status_code == 200
    assert b"report-invalid" in response.content
    assert b"invalid-feedback" in response.content


def test_conversion_page_rep_sees_own_figures(client, leads, owner):
    client.force_login(owner)

    response = client.get(URL, {"start": "2026-01-01", "end": "2026-02-28", "by": "campaign"})

    assert response.status_code == 200
    assert "Весна" in response.content.decode()
    assert "Осінь" not in response.content.decode()


def test_conversion_page_needs_the_permission(client, readonly):
    client.force_login(readonly)
    assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302


def test_conversion_shows_the_largest_groups(leads, marketer, monkeypatch):
    monkeypatch.setattr("marketing.selectors_conversion.TOP", 1)

    report = lead_conversion(user=marketer, by="campaign", **PERIOD)

    assert report.truncated
    assert figures(report) == {"Весна": (2, 1, 1)}
    assert report.totals.leads == 4


@pytest.mark.parametrize("by", ["month", "source", "channel", "campaign", "region", "owner"])
def test_conversion_rollup_counts_what_each_user_sees(leads, marketer, director, manager, owner, outsider, team, by):
    """The rollup rows each user reads add up to their visible leads, whatever the grouping: a manager sees their
    team's leads (an outsider's among them) and their own lead in another team, never the other team's."""
    make_lead(created_at=kyiv(2026, 1, 3), owner=outsider, team=team, status=LeadStatus.CONVERTED,
              company=CompanyFactory(), converted_at=kyiv(2026, 1, 4))  # fmt: skip
    make_lead(created_at=kyiv(2026, 2, 3), owner=manager, team=outsider.team)
    make_lead(created_at=kyiv(2026, 2, 4), owner=outsider, team=outsider.team)
    conversion_rollup_compute()

    for user in (marketer, director, manager, owner, outsider):
        visible = Lead.objects.visible_to(user).filter(
            created_at__gte=kyiv(2026, 1, 1), created_at__lt=kyiv(2026, 3, 1)
        )
        converted = visible.filter(status=LeadStatus.CONVERTED, company__isnull=False).count()
        report = lead_conversion(user=user, by=by, **PERIOD)
        assert (report.totals.leads, report.totals.converted) == (visible.count(), converted), user
        assert sum(row.leads for row in report.rows) == visible.count(), user
        in_team = lead_conversion(user=user, by=by, team_id=team.pk, **PERIOD)
        assert in_team.totals.leads == visible.filter(team=team).count(), user


def test_conversion_page_reads_the_rollup_only(client, leads, marketer, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for user in (marketer, owner):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, {"by": "campaign", "start": "2026-01-01", "end": "2026-02-28"}).status_code == 200
        assert not [q["sql"] for q in queries if 'FROM "marketing_lead"' in q["sql"] or "marketing_lead " in q["sql"]]
        assert any("marketing_leadconversion" in q["sql"] for q in queries)


def test_conversion_covers_whole_months_and_says_when_it_was_computed(client, leads, marketer):
    report = lead_conversion(user=marketer, by="month", start=date(2026, 1, 20), end=date(2026, 2, 3))

    assert (report.start, report.end) == (date(2026, 1, 1), date(2026, 2, 28))
    assert report.totals.leads == 4  # the whole of January and February
    assert report.computed_at is not None
    client.force_login(marketer)
    body = client.get(URL, {"start": "2026-01-20", "end": "2026-02-03"}).content.decode()
    assert "(whole months)" in body
    assert "Figures as of" in body


def test_conversion_rollup_is_replaced_by_a_rerun(leads, marketer):
    from marketing.models import LeadConversion
    from marketing.tasks_reports import conversion_rollup_task

    written = conversion_rollup_task()
    assert written == LeadConversion.objects.count() > 0
    assert conversion_rollup_task() == written
    Lead.objects.filter(pk=leads["l3"].pk).delete()
    conversion_rollup_task()
    assert lead_conversion(user=marketer, by="source", **PERIOD).totals.leads == 3


def test_conversion_before_the_first_rollup_says_so(client, marketer):
    make_lead(created_at=kyiv(2026, 1, 10), owner=marketer)
    client.force_login(marketer)

    body = client.get(URL, {"start": "2026-01-01", "end": "2026-02-28"}).content.decode()

    assert "No leads are counted for this period yet" in body
