"""An e-mail campaign in a real browser (issue #12, item 13), with a real SMTP sink (aiosmtpd): a marketing user
creates an e-mail campaign to a target group of three consenting people, adds the members, launches the send;
the personalised mails arrive at the sink; one recipient unsubscribes with one click from the link in the mail
and another opens it (the open pixel); the report, recomputed, shows sent 3, opened 1, unsubscribed 1.

Celery runs eagerly here (tests.settings), so the members task, the send and the report compute run inline in
the live server's thread; a real worker is covered by tests/marketing/test_send.py.
"""

import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import Consent, ContactPoint, ContactPointKind, Person
from crm.models import Role
from marketing.models import (
    Campaign,
    CampaignChannel,
    CampaignMember,
    ConsentEvent,
    EmailSuppression,
    MemberStatus,
    SegmentKind,
    SegmentMember,
    SegmentTarget,
    SendStatus,
    SuppressionReason,
)
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, PersonFactory
from tests.e2e.conftest import login
from tests.mailservers import SentMail
from tests.marketing.factories import SegmentFactory

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = [("Олена", "Коваль", "olena@vesna.ua"), ("Петро", "Бондар", "petro@svitanok.ua"),
          ("Ірина", "Мельник", "iryna@dnipro.ua")]  # fmt: skip


class _Images(HTMLParser):
    """The src of every <img> of an HTML body (the open pixel)."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources += [value for name, value in attrs if name == "src" and value]


def _consenting_person(first_name: str, last_name: str, email: str) -> Person:
    person = PersonFactory(first_name=first_name, last_name=last_name, company=CompanyFactory())
    ContactPoint.objects.create(person=person, kind=ContactPointKind.EMAIL, value=email, normalized=email)
    Consent.objects.create(
        person=person, channel=Consent.Channel.EMAIL, is_granted=True, given_at=timezone.now(), source="signed form"
    )
    return person


@pytest.fixture
def audience(db):
    """A marketing user and a static target group of three people, each with an e-mail and an e-mail consent."""
    marketer = make_user(Role.MARKETING)
    segment = SegmentFactory(
        name="Постійні клієнти Весна", kind=SegmentKind.STATIC, target=SegmentTarget.PERSON, owner=marketer
    )
    people = [_consenting_person(*row) for row in PEOPLE]
    SegmentMember.objects.bulk_create(SegmentMember(segment=segment, person=person) for person in people)
    return marketer, segment, people


def _mail_to(sink: list[SentMail], address: str) -> SentMail:
    found = [mail for mail in sink if address in mail.rcpt_tos]
    assert len(found) == 1, f"{len(found)} mails to {address}"
    return found[0]


def test_email_campaign_send_unsubscribe_open_and_report(page: Page, live_server, settings, smtp_sink, audience):
    # given: the tracking links of the mails point at the live server; the mails go to the SMTP sink
    settings.SITE_URL = live_server.url
    marketer, segment, people = audience
    # The live server's first request imports every URLconf and view; on a busy machine that alone can take
    # longer than the 5 s the steps below may wait for a page.
    page.request.get(f"{live_server.url}/accounts/login/", timeout=60_000)
    login(page, live_server, marketer)

    # when: the marketer creates an e-mail campaign to the group, with a personalised text
    page.goto(f"{live_server.url}/marketing/campaigns/")
    page.get_by_test_id("new-campaign").click()
    expect(page.get_by_test_id("campaign-form")).to_be_visible()
    page.locator("#id_name").fill("Весняна розсилка")
    page.locator("#id_channel").select_option(CampaignChannel.EMAIL)
    page.locator("#id_segments").select_option(label=segment.name)
    page.locator("#id_email_subject").fill("Весняні знижки для вас, {{ first_name }}")
    page.locator("#id_email_body").fill("Добрий день, {{ first_name }}!\n\nДля {{ company }} у нас весняні знижки.")
    page.get_by_test_id("save-campaign").click()
    expect(page.get_by_test_id("campaign-name")).to_have_text("Весняна розсилка")
    expect(page.get_by_test_id("campaign-segments")).to_have_text(segment.name)
    campaign = Campaign.objects.get(name="Весняна розсилка")
    assert (campaign.owner, campaign.channel) == (marketer, CampaignChannel.EMAIL)

    # the members come from the target group (a Celery task; eager here)
    expect(page.get_by_test_id("no-members")).to_be_visible()
    page.get_by_test_id("members-add").click()
    expect(page.get_by_test_id("member-total")).to_have_text("3")
    expect(page.get_by_test_id("member-row")).to_have_count(3)
    for _first, _last, email in PEOPLE:
        expect(page.get_by_test_id("member-list")).to_contain_text(email)

    # the send is launched, once
    page.get_by_test_id("launch-campaign").click()
    expect(page.get_by_test_id("send-status")).to_have_text("Sent", timeout=15_000)
    expect(page.get_by_test_id("send-status")).to_have_class(re.compile(r"text-bg-success"))
    expect(page.get_by_test_id("send-done")).to_contain_text("3 of 3")
    expect(page.get_by_test_id("launch-campaign")).to_have_count(0)

    # then: each person got one personalised mail at the SMTP sink, with the RFC 8058 headers
    assert len(smtp_sink) == 3
    for first_name, _last, email in PEOPLE:
        message = _mail_to(smtp_sink, email).message
        assert message["Subject"].strip() == f"Весняні знижки для вас, {first_name}"  # (folded after "Subject:")
        assert f"Добрий день, {first_name}!" in message.get_body(("plain",)).get_content()
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert set(CampaignMember.objects.filter(campaign=campaign).values_list("status", flat=True)) == {MemberStatus.SENT}

    # the first recipient opens the mail: its client loads the open pixel
    opened = _mail_to(smtp_sink, PEOPLE[0][2]).message
    images = _Images()
    images.feed(opened.get_body(("html",)).get_content())
    (pixel,) = [src for src in images.sources if "/marketing/t/o/" in src]
    assert pixel.startswith(live_server.url)
    response = page.request.get(pixel)
    assert response.ok
    assert response.headers["content-type"] == "image/gif"
    assert CampaignMember.objects.get(campaign=campaign, email=PEOPLE[0][2]).status == MemberStatus.OPENED

    # the second one follows the unsubscribe link of the mail (no login) and presses the button
    unsubscribing = _mail_to(smtp_sink, PEOPLE[1][2]).message
    text = unsubscribing.get_body(("plain",)).get_content()
    link = re.search(rf"{re.escape(live_server.url)}/marketing/u/\S+/", text).group(0)
    assert unsubscribing["List-Unsubscribe"].strip() == f"<{link}>"  # the RFC 8058 header names the same page
    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_test_id("unsubscribe-form")).to_be_visible()
    page.get_by_test_id("unsubscribe-button").click()
    expect(page.get_by_test_id("unsubscribe-done")).to_contain_text(PEOPLE[1][2])
    member = CampaignMember.objects.get(campaign=campaign, email=PEOPLE[1][2])
    assert member.status == MemberStatus.UNSUBSCRIBED
    assert not Consent.objects.get(person=people[1], channel=Consent.Channel.EMAIL).is_granted
    assert ConsentEvent.objects.filter(person=people[1], is_granted=False).exists()
    assert EmailSuppression.objects.filter(email=PEOPLE[1][2], reason=SuppressionReason.UNSUBSCRIBED).exists()

    # the report, recomputed on demand, shows sent 3, opened 1, unsubscribed 1
    login(page, live_server, marketer)
    page.goto(f"{live_server.url}/marketing/campaigns/{campaign.pk}/")
    page.get_by_role("link", name="Report").click()
    expect(page).to_have_url(re.compile(rf"/marketing/campaigns/{campaign.pk}/report/$"))
    page.get_by_test_id("recompute").click()
    expect(page.get_by_test_id("kpi-sent")).to_have_text("3", timeout=15_000)
    expect(page.get_by_test_id("kpi-opened")).to_have_text("1")
    expect(page.get_by_test_id("kpi-unsubscribed")).to_have_text("1")
    expect(page.get_by_test_id("computing")).to_have_count(0)
    campaign.refresh_from_db()
    assert campaign.send_status == SendStatus.DONE
    assert len(smtp_sink) == 3  # nothing sent twice


def test_report_opens_a_target_groups_products(page: Page, live_server, audience):
    """A group's products are loaded when the user opens the group (HTMX) and hidden again on a second click."""
    from decimal import Decimal

    from marketing.models import CampaignReport
    from marketing.services_reports import campaign_report_totals_compute
    from tests.deals.factories_catalogue import ProductFactory
    from tests.marketing.factories import CampaignFactory

    marketer, segment, _people = audience
    campaign = CampaignFactory(owner=marketer)
    now = timezone.now()
    best, other = ProductFactory(name_uk="Сівалка точна"), ProductFactory(name_uk="Культиватор")
    CampaignReport.objects.bulk_create([
        CampaignReport(campaign=campaign, segment=segment, region="kyiv_city", members=40, sent=40, computed_at=now),
        CampaignReport(campaign=campaign, segment=segment, region="kyiv_city", product=best, leads=5,
                       revenue=Decimal("1000"), computed_at=now),
        CampaignReport(campaign=campaign, segment=segment, region="kyiv_city", product=other, leads=2, computed_at=now),
    ])  # fmt: skip
    campaign_report_totals_compute(campaign_id=campaign.pk)

    login(page, live_server, marketer)
    page.goto(f"{live_server.url}/marketing/campaigns/{campaign.pk}/report/")
    expect(page.get_by_test_id("group-row")).to_have_count(1)
    expect(page.get_by_test_id("product-row")).to_have_count(0)
    page.get_by_test_id("group-products").click()
    rows = page.get_by_test_id("product-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(best.sku)
    expect(rows.first).to_be_visible()
    expect(page.locator("#report-products-1")).to_have_class(re.compile(r"\bcollapse show\b"))  # opened
    page.get_by_test_id("group-products").click()
    expect(rows.first).to_be_hidden()


def test_report_loads_the_rest_of_its_groups_and_opens_one(page: Page, live_server, audience, monkeypatch):
    """The page renders the largest groups; the others load on a click and open their products like the first."""
    from marketing import selectors_reports
    from marketing.models import CampaignReport
    from marketing.services_reports import campaign_report_totals_compute
    from tests.deals.factories_catalogue import ProductFactory
    from tests.marketing.factories import CampaignFactory

    monkeypatch.setattr(selectors_reports, "GROUPS_SHOWN", 1)
    marketer, segment, _people = audience
    campaign = CampaignFactory(owner=marketer)
    now = timezone.now()
    seeder = ProductFactory(name_uk="Сівалка точна")
    CampaignReport.objects.bulk_create([
        CampaignReport(campaign=campaign, segment=segment, region="kyiv_city", members=40, computed_at=now),
        CampaignReport(campaign=campaign, segment=segment, region="lviv", members=10, computed_at=now),
        CampaignReport(campaign=campaign, segment=segment, region="lviv", product=seeder, leads=3, computed_at=now),
    ])  # fmt: skip
    campaign_report_totals_compute(campaign_id=campaign.pk)

    login(page, live_server, marketer)
    page.goto(f"{live_server.url}/marketing/campaigns/{campaign.pk}/report/")
    expect(page.get_by_test_id("group-row")).to_have_count(1)
    page.get_by_test_id("report-groups-rest").click()
    groups = page.get_by_test_id("group-row")
    expect(groups).to_have_count(2)
    expect(groups.nth(1)).to_contain_text("Lviv")
    expect(page.get_by_test_id("report-groups-rest")).to_have_count(0)
    page.get_by_test_id("group-products").click()
    expect(page.get_by_test_id("product-row")).to_contain_text(seeder.sku)
    expect(page.locator("#report-products-2")).to_have_class(re.compile(r"\bcollapse show\b"))
