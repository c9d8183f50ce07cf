"""Service desk e-mail against real servers: Dovecot (IMAP APPEND → mailbox_fetch) and an aiosmtpd sink.

The corpus in tests/service/mail/ holds real-looking messages; ticket S-2026-000042 (fixture `ticket42`) is the
one the replies, the loop and the spoof refer to.
"""

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import ContactPoint, Person
from crm.views import HealthView
from service import mail, services
from service.models import (
    InboundEmail,
    InboundOutcome,
    MailboxState,
    MessageKind,
    Ticket,
    TicketAttachment,
    TicketChannel,
    TicketMessage,
    TicketStatus,
)
from tests.contacts.factories import CompanyFactory, ContactPointFactory, PersonFactory
from tests.mailservers import free_port
from tests.service.factories import TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "mail"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
KEY42 = "a1b2c3d4e5f6"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def subject_of(email) -> str:
    """The Subject as one line (Python's parser keeps the space of a folded first line)."""
    return " ".join(str(email["Subject"]).split())


def compose(*, sender: str, subject: str, body: str, to: str = "support@example.com", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain="client.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path):
    settings.SERVICE_EMAIL = "support@example.com"
    settings.DEFAULT_FROM_EMAIL = "CRM <crm@example.com>"
    settings.SERVICE_IMAP_URL = ""
    settings.SERVICE_REOPEN_DAYS = 14
    settings.SITE_URL = "https://crm.example.com"
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def mailbox(imap_server, settings):
    """The test's own Dovecot mailbox, configured as the service mailbox."""
    settings.SERVICE_IMAP_URL = imap_server.url
    return imap_server


def deliver(mailbox, *names: str) -> list[int]:
    return [mailbox.append(corpus(name)) for name in names]


@pytest.fixture
def olena(db):
    """A person of company A (ТОВ «Квітка») with her e-mail."""
    person = PersonFactory(company=CompanyFactory(name="ТОВ «Квітка»"), first_name="Олена", last_name="Коваль")
    ContactPointFactory(person=person, kind="email", value="olena@kvitka.ua")
    return person


@pytest.fixture
def petro(db):
    """A person of company B (ТОВ «Вітер»)."""
    person = PersonFactory(company=CompanyFactory(name="ТОВ «Вітер»"), first_name="Петро", last_name="Шевчук")
    ContactPointFactory(person=person, kind="email", value="petro@viter.ua")
    return person


@pytest.fixture
def ticket42(olena):
    """Company A's ticket, waiting for the client after our e-mailed reply <reply-42.1@example.com>."""
    ticket = TicketFactory(
        number="S-2026-000042",
        reply_key=KEY42,
        company=olena.company,
        person=olena,
        channel=TicketChannel.EMAIL,
        status=TicketStatus.WAITING,
        subject="Не працює доставка",
    )
    TicketMessageFactory(
        ticket=ticket, person=olena, from_email="olena@kvitka.ua", message_id="<first-42@mail.kvitka.ua>"
    )
    TicketMessageFactory(
        ticket=ticket, kind=MessageKind.REPLY, message_id="<reply-42.1@example.com>", emailed_at=timezone.now()
    )
    return ticket


# --- inbound: one message each -------------------------------------------------------------------------------


def test_fetch_is_off_without_a_mailbox_url():
    assert mail.mailbox_fetch() == 0
    assert not MailboxState.objects.exists()


def test_known_sender_opens_a_ticket_of_their_company(mailbox, olena):
    [uid] = deliver(mailbox, "uk_utf8_plain.eml")

    assert mail.mailbox_fetch() == 1

    inbound = InboundEmail.objects.get()
    assert (inbound.outcome, inbound.mailbox_uid, inbound.from_email) == (InboundOutcome.TICKET, uid, "olena@kvitka.ua")
    assert inbound.message_id == "<20261207091502.4471@mail.kvitka.ua>"
    ticket = inbound.ticket
    assert ticket.subject == "Не працює доставка на Львів"
    assert (ticket.company, ticket.person, ticket.channel) == (olena.company, olena, TicketChannel.EMAIL)
    assert not ticket.needs_qualification
    assert ticket.status == TicketStatus.NEW
    assert "Замовлення №1234 досі не доставлене" in ticket.description
    message = ticket.messages.get()
    assert (message.kind, message.person, message.message_id) == (MessageKind.INBOUND, olena, inbound.message_id)
    assert "З повагою,\nОлена Коваль" in message.body_text
    state = MailboxState.objects.get()
    assert state.last_uid == uid
    assert state.uidvalidity
    assert state.last_ok_at
    assert state.failures == 0
    assert mailbox.password not in state.name
    assert mailbox.user in state.name


def test_unknown_sender_gets_a_person_to_qualify(mailbox, service_desk):
    deliver(mailbox, "cp1251_subject.eml")

    assert mail.mailbox_fetch() == 1

    ticket = Ticket.objects.get()
    assert ticket.subject == "Рахунок за листопад"  # windows-1251 encoded word
    assert ticket.needs_qualification
    assert ticket.company is None
    assert "Прошу надіслати рахунок за листопад" in ticket.messages.get().body_text  # quoted-printable cp1251
    person = ticket.person
    assert (person.first_name, person.last_name, person.company) == ("Іван", "Мельник", None)
    assert person.owner == service_desk.manager
    assert ContactPoint.objects.get(person=person).normalized == "ivan.melnyk@ukr.net"
    # The next mail of the same sender finds that person instead of creating another one.
    again = mail.process_message(compose(sender="ivan.melnyk@ukr.net", subject="Ще питання", body="Де рахунок?"))
    assert again.ticket.person == person
    assert Person.objects.filter(last_name="Мельник").count() == 1


def test_koi8u_mail_is_decoded(mailbox, service_desk):
    deliver(mailbox, "koi8u.eml")

    assert mail.mailbox_fetch() == 1

    ticket = Ticket.objects.get()
    assert ticket.subject == "Гарантійний ремонт їхнього принтера"
    assert ticket.messages.get().body_text == "Ґанок, їжа, єнот, ірис: принтер не вмикається після ремонту."
    assert (ticket.person.first_name, ticket.person.last_name) == ("Тарас", "Ґудзь")


def test_html_only_mail_is_sanitised_and_gets_a_text(mailbox, olena):
    deliver(mailbox, "html_only.eml")

    assert mail.mailbox_fetch() == 1

    ticket = Ticket.objects.get()
    message = ticket.messages.get()
    for bad in ("<script", "onclick", "onerror", "javascript:", "alert", "document.cookie", "<style"):
        assert bad not in message.body_html
        assert bad not in message.body_text
        assert bad not in ticket.description
    assert "<b>особистий кабінет</b>" in message.body_html
    assert "Не можу увійти в особистий кабінет." in message.body_text


def test_pdf_attachment_is_kept(mailbox, olena):
    deliver(mailbox, "pdf_attachment.eml")

    assert mail.mailbox_fetch() == 1

    attachment = TicketAttachment.objects.get()
    assert (attachment.name, attachment.content_type) == ("рахунок-1234.pdf", "application/pdf")
    with attachment.file.open("rb") as handle:
        assert handle.read().startswith(b"%PDF-1.4")
    assert not TicketMessage.objects.filter(kind=MessageKind.NOTE).exists()


def test_dangerous_attachments_are_dropped_with_a_note(mailbox, olena):
    deliver(mailbox, "exe_attachment.eml")

    assert mail.mailbox_fetch() == 1

    inbound = InboundEmail.objects.get()
    assert inbound.outcome == InboundOutcome.TICKET
    assert not TicketAttachment.objects.exists()
    note = inbound.ticket.messages.get(kind=MessageKind.NOTE)
    for name in ("setup.exe", "logo.svg", "../../etc/invoice.pdf"):
        assert name in note.body_text
        assert name in inbound.note
    assert "Надсилаю програму" in inbound.ticket.messages.get(kind=MessageKind.INBOUND).body_text


@pytest.mark.parametrize("name", ["reply_subject_tag.eml", "reply_in_reply_to.eml", "reply_plus_address.eml"])
def test_reply_is_added_to_its_ticket(mailbox, ticket42, name):
    deliver(mailbox, name)

    with translation.override("en"):  # the note names the problem in the active language
        assert mail.mailbox_fetch() == 1

    inbound = InboundEmail.objects.get()
    assert (inbound.outcome, inbound.ticket) == (InboundOutcome.REPLY, ticket42)
    assert Ticket.objects.count() == 1
    ticket42.refresh_from_db()
    assert ticket42.status == TicketStatus.OPEN  # waiting → the client answered
    latest = ticket42.messages.filter(kind=MessageKind.INBOUND).latest("created_at")
    assert (latest.message_id, latest.person) == (inbound.message_id, ticket42.person)


def test_reply_address_with_a_wrong_key_is_no_reference(ticket42):
    raw = corpus("reply_plus_address.eml").replace(KEY42.encode(), b"000000000000")

    inbound = mail.process_message(raw)

    assert inbound.outcome == InboundOutcome.TICKET
    assert inbound.ticket != ticket42
    assert inbound.ticket.company == ticket42.company  # a new ticket of the (known) sender


def test_spoofed_reference_opens_a_new_ticket_to_qualify(mailbox, ticket42, petro):
    messages_before = ticket42.messages.count()
    deliver(mailbox, "spoof.eml")

    assert mail.mailbox_fetch() == 1

    inbound = InboundEmail.objects.get()
    assert inbound.outcome == InboundOutcome.TICKET
    ticket = inbound.ticket
    assert ticket != ticket42
    assert ticket.needs_qualification
    assert (ticket.company, ticket.person, ticket.previous) == (petro.company, petro, None)
    assert ticket.subject == "Не працює доставка"  # without the other ticket's tag
    assert "S-2026-000042" in inbound.note
    assert ticket42.messages.count() == messages_before


def test_ticket_without_company_accepts_only_its_original_sender(service_desk):
    first = mail.process_message(compose(sender="Марко <marko@example.net>", subject="Питання", body="Привіт"))
    ticket = first.ticket
    assert ticket.company is None

    same = mail.process_message(compose(sender="marko@example.net", subject=f"Re: [{ticket.number}] X", body="Ще"))
    other = mail.process_message(compose(sender="eve@example.org", subject=f"Re: [{ticket.number}] X", body="Дай"))

    assert (same.outcome, same.ticket) == (InboundOutcome.REPLY, ticket)
    assert other.outcome == InboundOutcome.TICKET
    assert other.ticket != ticket
    assert other.ticket.needs_qualification


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("auto_reply.eml", InboundOutcome.AUTO_REPLY),
        ("bulk.eml", InboundOutcome.AUTO_REPLY),
        ("bounce.eml", InboundOutcome.BOUNCE),
        ("loop.eml", InboundOutcome.LOOP),
    ],
)
def test_machine_mail_is_recorded_without_a_ticket(mailbox, ticket42, service_desk, name, outcome):
    people, messages = Person.objects.count(), TicketMessage.objects.count()
    deliver(mailbox, name)

    assert mail.mailbox_fetch() == 1

    inbound = InboundEmail.objects.get()
    assert (inbound.outcome, inbound.ticket) == (outcome, None)
    assert inbound.note
    assert Ticket.objects.count() == 1
    assert (Person.objects.count(), TicketMessage.objects.count()) == (people, messages)
    ticket42.refresh_from_db()
    assert ticket42.status == TicketStatus.WAITING


@pytest.mark.parametrize(
    ("name", "problem", "text"),
    [
        ("broken_boundary.eml", "MIME structure is broken", "Текст листа з неправильною межею."),
        ("unknown_charset.eml", "x-unknown", "Питання щодо рахунку."),
    ],
)
def test_broken_mail_still_opens_a_ticket(mailbox, service_desk, name, problem, text):
    deliver(mailbox, name)

    assert mail.mailbox_fetch() == 1

    inbound = InboundEmail.objects.get()
    assert inbound.outcome == InboundOutcome.TICKET
    assert problem in inbound.note
    assert text in inbound.ticket.messages.get().body_text


def test_nothing_is_half_saved_and_a_failed_message_is_retried(mailbox, olena, monkeypatch):
    [uid] = deliver(mailbox, "uk_utf8_plain.eml")

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "ticket_add_inbound", broken)
    with pytest.raises(RuntimeError):
        mail.process_message(corpus("uk_utf8_plain.eml"))
    assert not InboundEmail.objects.exists()
    assert not Ticket.objects.exists()

    assert mail.mailbox_fetch() == 0
    state = MailboxState.objects.get()
    assert (state.failures, state.last_uid) == (1, 0)
    assert "disk full" in state.last_error

    monkeypatch.undo()
    with time_machine.travel(timezone.now() + timedelta(minutes=1, seconds=1)):
        assert mail.mailbox_fetch() == 1
    state.refresh_from_db()
    assert (state.failures, state.last_uid) == (0, uid)
    assert Ticket.objects.count() == 1


# --- inbound: the mailbox --------------------------------------------------------------------------------------


def test_second_fetch_processes_nothing_and_a_duplicate_once(mailbox, olena, service_desk):
    uids = deliver(mailbox, "uk_utf8_plain.eml", "uk_utf8_plain.eml", "no_message_id.eml", "no_message_id.eml")

    assert mail.mailbox_fetch() == 2
    assert mail.mailbox_fetch() == 0

    assert InboundEmail.objects.count() == Ticket.objects.count() == 2
    assert InboundEmail.objects.filter(message_id__endswith="@synthetic.invalid>").count() == 1
    assert MailboxState.objects.get().last_uid == max(uids)
    deliver(mailbox, "koi8u.eml")
    assert mail.mailbox_fetch() == 1


def test_new_uidvalidity_rereads_the_mailbox_without_duplicates(mailbox, olena, service_desk):
    deliver(mailbox, "uk_utf8_plain.eml")
    assert mail.mailbox_fetch() == 1
    state = MailboxState.objects.get()
    real_uidvalidity = state.uidvalidity
    MailboxState.objects.filter(pk=state.pk).update(uidvalidity=1, last_uid=999)
    [uid] = deliver(mailbox, "koi8u.eml")

    assert mail.mailbox_fetch() == 1  # both read again, the first one skipped by its Message-ID

    state.refresh_from_db()
    assert (state.uidvalidity, state.last_uid) == (real_uidvalidity, uid)
    assert InboundEmail.objects.count() == 2


@pytest.mark.parametrize(("days_ago", "reopens"), [(14, True), (15, False)])
def test_reply_to_a_closed_ticket_reopens_it_only_within_the_reopen_days(mailbox, ticket42, days_ago, reopens):
    closed_at = timezone.now() - timedelta(days=days_ago) + timedelta(minutes=5)
    Ticket.objects.filter(pk=ticket42.pk).update(
        status=TicketStatus.CLOSED, closed_at=closed_at, resolved_at=closed_at, csat_rating=5
    )
    deliver(mailbox, "reply_subject_tag.eml")

    assert mail.mailbox_fetch() == 1

    inbound = InboundEmail.objects.get()
    ticket42.refresh_from_db()
    if reopens:
        assert (inbound.outcome, inbound.ticket) == (InboundOutcome.REPLY, ticket42)
        assert (ticket42.status, ticket42.reopen_count, ticket42.csat_rating) == (TicketStatus.REOPENED, 1, None)
    else:
        assert inbound.outcome == InboundOutcome.TICKET
        assert inbound.ticket.previous == ticket42
        assert (inbound.ticket.company, inbound.ticket.person) == (ticket42.company, ticket42.person)
        assert ticket42.status == TicketStatus.CLOSED
        assert "S-2026-000042" in inbound.note


def health(client) -> tuple[int, str]:
    response = client.get(reverse("health"), headers={"Accept": "application/json"})
    return response.status_code, response.json()["Mailbox()"]


def test_unreachable_mailbox_is_recorded_shown_on_health_and_backed_off(settings, client, monkeypatch):
    settings.SERVICE_IMAP_URL = f"imap://desk:secret@127.0.0.1:{free_port()}/INBOX"

    assert mail.mailbox_fetch() == 0  # no exception

    state = MailboxState.objects.get()
    assert state.failures == 1
    assert state.last_error_at
    assert "ConnectionRefusedError" in state.last_error
    assert "secret" not in state.name
    assert "ConnectionRefusedError" in mail.mailbox_health()
    status, mailbox_status = health(client)
    assert status == 503
    assert mailbox_status.startswith("Unavailable: ")
    monkeypatch.setattr(HealthView, "checks", ("service.health.Mailbox",))
    assert health(client)[0] == 503  # the mailbox alone makes /health/ fail

    first_error_at = state.last_error_at
    assert mail.mailbox_fetch() == 0  # within the 1-minute backoff: not even tried
    state.refresh_from_db()
    assert (state.failures, state.last_error_at) == (1, first_error_at)
    with time_machine.travel(first_error_at + timedelta(minutes=1, seconds=1)):
        mail.mailbox_fetch()
    state.refresh_from_db()
    assert state.failures == 2  # tried again, failed again: the next wait is 2 minutes
    with time_machine.travel(state.last_error_at + timedelta(minutes=1, seconds=30)):
        mail.mailbox_fetch()
    state.refresh_from_db()
    assert state.failures == 2


def test_refused_login_then_recovery_resets_the_failures(imap_server, settings, client, monkeypatch, olena):
    monkeypatch.setattr(HealthView, "checks", ("service.health.Mailbox",))
    server = imap_server
    settings.SERVICE_IMAP_URL = f"imap://{server.user}:wrong@{server.host}:{server.port}/INBOX"
    assert health(client) == (200, "OK")  # nothing read yet

    assert mail.mailbox_fetch() == 0

    state = MailboxState.objects.get()
    assert state.failures == 1
    assert "AUTHENTICATIONFAILED" in state.last_error
    assert health(client)[0] == 503
    settings.SERVICE_IMAP_URL = imap_server.url  # the password fixed: the same mailbox state
    imap_server.append(corpus("uk_utf8_plain.eml"))
    with time_machine.travel(state.last_error_at + timedelta(minutes=1, seconds=1)):
        assert mail.mailbox_fetch() == 1
    state.refresh_from_db()
    assert state.failures == 0
    assert state.last_ok_at
    assert mail.mailbox_health() is None
    assert health(client) == (200, "OK")


# --- outbound ---------------------------------------------------------------------------------------------------


def reply(ticket, agent, callbacks, **kwargs):
    with callbacks(execute=True):
        message = services.ticket_reply(ticket=ticket, actor=agent, **kwargs)
    message.refresh_from_db()
    return message


def test_reply_is_emailed_and_the_answer_threads_back(agent, olena, smtp_sink, django_capture_on_commit_callbacks):
    ticket = mail.process_message(corpus("uk_utf8_plain.eml")).ticket
    invoice = SimpleUploadedFile("накладна.pdf", PDF, content_type="application/pdf")

    message = reply(
        ticket,
        agent,
        django_capture_on_commit_callbacks,
        body_html="<p>Посилку відправлено <b>повторно</b>.</p><script>alert(1)</script>",
        attachments=[invoice],
    )

    [sent] = smtp_sink
    email = sent.message
    assert sent.rcpt_tos == ["olena@kvitka.ua"]
    assert email["From"] == "support@example.com"
    assert email["Reply-To"] == f"support+{ticket.number}.{ticket.reply_key}@example.com"
    assert subject_of(email) == f"Re: [{ticket.number}] Не працює доставка на Львів"
    assert email["Message-ID"] == message.message_id
    assert message.message_id.endswith("@example.com>")
    assert email["In-Reply-To"] == email["References"] == "<20261207091502.4471@mail.kvitka.ua>"
    assert email["X-CRM-Ticket"] == ticket.number
    assert message.emailed_at is not None
    text = email.get_body(preferencelist=("plain",)).get_content()
    html = email.get_body(preferencelist=("html",)).get_content()
    assert "Посилку відправлено повторно." in text
    assert ticket.number in text
    assert "<b>повторно</b>" in html
    assert "<script" not in html
    assert 'lang="uk"' in html
    [attachment] = email.iter_attachments()
    assert (attachment.get_filename(), attachment.get_content()) == ("накладна.pdf", PDF)

    # The client answers from their mail program: only In-Reply-To says which ticket it is.
    answer = compose(
        sender="Олена Коваль <olena@kvitka.ua>",
        subject="Re: Доставка",
        body="Дякую, отримала.",
        In_Reply_To=message.message_id,
        References=f"<20261207091502.4471@mail.kvitka.ua> {message.message_id}",
    )
    inbound = mail.process_message(answer)
    assert (inbound.outcome, inbound.ticket) == (InboundOutcome.REPLY, ticket)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_reply_is_emailed_once(agent, olena, smtp_sink, django_capture_on_commit_callbacks):
    ticket = mail.process_message(corpus("uk_utf8_plain.eml")).ticket
    message = reply(ticket, agent, django_capture_on_commit_callbacks, body_html="<p>Перевіряємо</p>")

    assert mail.reply_send(message_id=message.pk) is False

    assert len(smtp_sink) == 1
    note = services.ticket_note(ticket=ticket, actor=agent, body_html="<p>Внутрішнє</p>")
    assert mail.reply_send(message_id=note.pk) is False  # notes are never e-mailed
    assert len(smtp_sink) == 1


def test_reply_without_a_client_address_is_not_sent(agent, smtp_sink, django_capture_on_commit_callbacks):
    ticket = services.ticket_create(actor=agent, subject="Дзвінок", person=PersonFactory())  # no e-mail known

    message = reply(ticket, agent, django_capture_on_commit_callbacks, body_html="<p>Передзвонимо</p>")

    assert smtp_sink == []
    assert message.emailed_at is None
    assert message.message_id == ""


def test_reply_goes_to_the_latest_sender_in_the_client_language(agent, smtp_sink, django_capture_on_commit_callbacks):
    person = PersonFactory(language="en")
    ticket = services.ticket_create(actor=agent, subject="Phone call", person=person, channel=TicketChannel.PHONE)
    services.ticket_add_inbound(
        ticket=ticket, body_html="", body_text="Hi", from_email="john@example.com", person=person, message_id=""
    )

    reply(ticket, agent, django_capture_on_commit_callbacks, body_html="<p>Hello</p>")

    [sent] = smtp_sink
    assert sent.rcpt_tos == ["john@example.com"]
    assert subject_of(sent.message) == f"[{ticket.number}] Phone call"  # not "Re:": it began by phone
    assert sent.message["In-Reply-To"] is None
    assert 'lang="en"' in sent.message.get_body(preferencelist=("html",)).get_content()


def test_rating_request_is_sent_once_with_a_working_link(
    agent, olena, smtp_sink, client, django_capture_on_commit_callbacks
):
    ticket = mail.process_message(corpus("uk_utf8_plain.eml")).ticket
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_set_status(ticket=ticket, status=TicketStatus.RESOLVED, actor=agent)

    assert mail.rating_request_send(ticket_id=ticket.pk) is False  # asked already

    [sent] = smtp_sink
    email = sent.message
    assert sent.rcpt_tos == ["olena@kvitka.ua"]
    assert subject_of(email).startswith(f"[{ticket.number}] ")
    assert email["Auto-Submitted"] == "auto-generated"
    assert email["Reply-To"] == mail.reply_address(ticket)
    ticket.refresh_from_db()
    assert ticket.rating_requested_at is not None
    text = email.get_body(preferencelist=("plain",)).get_content()
    [link] = [word for word in text.split() if word.startswith("https://crm.example.com/")]
    assert link in email.get_body(preferencelist=("html",)).get_content()
    path = urlsplit(link).path
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert path == reverse("service:ticket-rate", args=[token])
    assert services.rating_ticket(token) == ticket
    assert client.get(path).status_code == 200


def test_rating_request_skips_open_and_rated_tickets(olena, smtp_sink):
    open_ticket = TicketFactory(company=olena.company, person=olena, status=TicketStatus.OPEN)
    rated = TicketFactory(company=olena.company, person=olena, status=TicketStatus.RESOLVED, csat_rating=4)

    assert mail.rating_request_send(ticket_id=open_ticket.pk) is False
    assert mail.rating_request_send(ticket_id=rated.pk) is False

    assert smtp_sink == []
