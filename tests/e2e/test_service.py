"""The service desk flow in a real browser (issue #11, item 14), with a real IMAP server (dovecot) and a
real SMTP sink (aiosmtpd): an e-mail in the mailbox becomes a ticket; the agent takes it, opens a
suggested article, inserts its link and replies; the reply arrives at the sink; the client's reply by
e-mail lands on the same ticket; the agent resolves it; the client rates it; the report shows it.
"""

import re
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from playwright.sync_api import Page, expect

from contacts.models import ContactPoint
from crm.models import Role
from service import mail, reports
from service.models import KnowledgeArticle, MessageKind, Ticket, TicketStatus
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, PersonFactory
from tests.crm.factories import TeamFactory
from tests.e2e.conftest import login
from tests.service.factories import ArticleFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _mail(*, subject: str, body: str, in_reply_to: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = "Олег Клієнт <oleh@vesna.ua>"
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="vesna.ua")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(body)
    return bytes(message)


def test_mail_to_ticket_reply_rating_and_report(page: Page, live_server, settings, imap_server, smtp_sink):
    # given: the service team with an agent, a client whose contact writes from oleh@vesna.ua, an article
    settings.SERVICE_IMAP_URL = imap_server.url
    settings.SITE_URL = live_server.url
    team = TeamFactory(name=settings.SERVICE_TEAM)
    agent = make_user(Role.SERVICE_AGENT, team=team)
    company = CompanyFactory(name="ТОВ Весна")
    person = PersonFactory(company=company, owner=company.owner, last_name="Клієнт", first_name="Олег")
    ContactPoint.objects.create(person=person, kind="email", value="oleh@vesna.ua", normalized="oleh@vesna.ua")
    ArticleFactory(
        title_uk="Принтер не друкує накладні", problem_uk="Принтер не друкує", solution_uk="Перезапустіть службу друку"
    )

    # when: the client's e-mail is in the mailbox and the beat task reads it
    imap_server.append(_mail(subject="Принтер не друкує накладні", body="Добрий день! Принтер не друкує."))
    assert mail.mailbox_fetch() == 1
    ticket = Ticket.objects.get()
    assert (ticket.company, ticket.person, ticket.channel) == (company, person, "email")

    # then: the agent finds it in the team queue and takes it
    login(page, live_server, agent)
    page.goto(f"{live_server.url}/service/tickets/")
    page.get_by_test_id("ticket-link").filter(has_text=ticket.number).click()
    expect(page.get_by_test_id("ticket-number")).to_have_text(ticket.number)
    page.get_by_test_id("take-ticket").click()
    expect(page.get_by_test_id("ticket-assignee")).to_contain_text(agent.full_name)

    # the suggested article opens in a new tab; its link goes into the answer
    suggestion = page.get_by_test_id("kb-suggestion").filter(has_text="Принтер не друкує накладні")
    with page.context.expect_page() as article_tab:
        suggestion.get_by_test_id("kb-suggestion-title").click()
    expect(article_tab.value.get_by_text("Перезапустіть службу друку")).to_be_visible()
    article_tab.value.close()
    suggestion.get_by_test_id("kb-insert").click()
    body = page.locator("#id_body")
    expect(body).to_have_value(re.compile(r"/service/kb/\d+/"))
    body.press("End")
    body.type("\nСпробуйте, будь ласка, ці кроки.")
    page.get_by_test_id("send-message").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("Waiting for the client")

    # the reply reached the client through SMTP, from the ticket's reply address
    assert len(smtp_sink) == 1
    sent = smtp_sink[0].message
    assert "oleh@vesna.ua" in sent["To"]
    assert ticket.number in sent["Subject"]
    assert f"+{ticket.number}." in sent["Reply-To"]
    assert "/service/kb/" in sent.get_body(("plain",)).get_content()

    # the client answers by e-mail: the message lands on the same ticket, which is open again
    imap_server.append(
        _mail(subject=f"Re: {sent['Subject']}", body="Допомогло, дякую!", in_reply_to=sent["Message-ID"])
    )
    assert mail.mailbox_fetch() == 1
    assert Ticket.objects.count() == 1
    page.reload()
    expect(page.get_by_test_id("message").filter(has_text="Допомогло, дякую!")).to_be_visible()
    expect(page.get_by_test_id("ticket-status")).to_have_text("Open")

    # the agent resolves it; the client gets a rating link and rates it without signing in
    page.get_by_test_id("kb-solved").first.click()
    expect(page.get_by_test_id("kb-solved-done")).to_be_visible()
    page.locator("#id_status").select_option("resolved")
    page.get_by_test_id("change-status").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("Resolved")
    assert KnowledgeArticle.objects.get().solved_count == 1
    rating_mail = smtp_sink[-1].message.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/service/rate/\S+/", rating_mail).group(0)
    page.context.clear_cookies()
    page.goto(link)
    page.get_by_label("5").check()
    page.get_by_test_id("send-rating").click()
    expect(page.get_by_test_id("rating-done")).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.csat_rating) == (TicketStatus.RESOLVED, 5)
    assert ticket.messages.filter(kind=MessageKind.INBOUND).count() == 2

    # the report (read from the rollups the Celery task computes) shows the resolved, rated ticket
    reports.rollups_compute()
    login(page, live_server, agent)
    page.goto(f"{live_server.url}/service/reports/")
    expect(page.get_by_test_id("kpi-resolved")).to_contain_text("1")
    expect(page.get_by_test_id("kpi-csat")).to_contain_text("5")
