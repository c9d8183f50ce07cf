"""E-mail of the service desk: public replies and rating requests out (SMTP through Django's mail API), the
service mailbox in (IMAP), one message at a time.

Outbound mail comes from settings.SERVICE_EMAIL with Reply-To `<local>+<ticket number>.<reply key>@<domain>`,
a "[S-YYYY-NNNNNN]" subject tag, our own Message-ID (stored on the reply) and an X-CRM-Ticket header, so the
client's answer finds its ticket and our own mail coming back is recognised as a loop.

Inbound mail is read by UID (MailboxState keeps UIDVALIDITY and the last UID per mailbox). Each message is
processed in one transaction that first inserts its InboundEmail row: the unique Message-ID makes a second
read (another worker, a re-read after UIDVALIDITY changed, the same mail delivered twice) a no-op, and a
failure leaves nothing half-saved. A reference to a ticket (reply address, In-Reply-To / References, subject
tag) only counts when the sender belongs to the ticket's client; otherwise the mail opens a new ticket to
qualify, so one company never writes into another's ticket.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import mimetypes
import operator
import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, make_msgid, parseaddr
from functools import reduce
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.models import Company, ContactPoint, ContactPointKind, Person
from contacts.services import ATTACHMENT_MAX_FILES, attachments_check, contact_point_add, person_create
from contacts.validators import normalize_email
from crm.models import Role, User
from service import services
from service.models import (
    DONE_STATUSES,
    InboundEmail,
    InboundOutcome,
    MailboxState,
    MessageKind,
    Ticket,
    TicketChannel,
    TicketMessage,
)

logger = logging.getLogger(__name__)

TICKET_HEADER = "X-CRM-Ticket"  # set on every mail we send; seen on inbound mail it means a loop
SUBJECT_TAG = re.compile(r"\[(S-\d{4}-\d{6})\]", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|відп|вiдп|пересл)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
IMAP_TIMEOUT = 30  # seconds per socket operation: a hung server must not hold the worker
FETCH_BATCH = 100  # messages per run: a run ends well within the beat interval (1 minute)
BACKOFF_MAX_MINUTES = 60
REFERENCES_MAX = 20  # ids in an outgoing References header


# --- addresses ---------------------------------------------------------------------------------------------


def _service_address() -> tuple[str, str]:
    """(local part, domain) of settings.SERVICE_EMAIL."""
    address = parseaddr(settings.SERVICE_EMAIL)[1] or settings.SERVICE_EMAIL
    local, _at, domain = address.rpartition("@")
    return local, domain


def reply_address(ticket: Ticket) -> str:
    """The ticket's own address, `<local>+<number>.<reply key>@<domain>`: the client's answer comes back to it."""
    local, domain = _service_address()
    return f"{local}+{ticket.number}.{ticket.reply_key}@{domain}"


def _reply_address_pattern() -> re.Pattern[str]:
    local, domain = _service_address()
    return re.compile(rf"^{re.escape(local)}\+(S-\d{{4}}-\d{{6}})\.([0-9a-z]+)@{re.escape(domain)}$", re.IGNORECASE)


def _own_addresses() -> set[str]:
    return {
        address.lower()
        for address in (parseaddr(settings.SERVICE_EMAIL)[1], parseaddr(settings.DEFAULT_FROM_EMAIL)[1])
        if address
    }


def _client_address(ticket: Ticket) -> str:
    """Where mail about the ticket goes: the person's e-mail (primary first), else the latest inbound sender."""
    if ticket.person_id:
        point = (
            ContactPoint.objects.filter(person_id=ticket.person_id, kind=ContactPointKind.EMAIL)
            .order_by("-is_primary", "pk")
            .values_list("normalized", flat=True)
            .first()
        )
        if point:
            return point
    latest = (
        ticket.messages.filter(kind=MessageKind.INBOUND)
        .exclude(from_email="")
        .order_by("-created_at", "-pk")
        .values_list("from_email", flat=True)
        .first()
    )
    return latest or ""


def _client_language(ticket: Ticket) -> str:
    person = ticket.person
    return (person.language if person is not None else "") or settings.LANGUAGE_CODE


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- outbound ----------------------------------------------------------------------------------------------


@transaction.atomic
def reply_send(*, message_id: int) -> bool:
    """E-mail one public reply to the client, at most once; False when it was sent already, is not a public
    reply, or the client has no e-mail address (nothing is sent then).

    The row lock makes a second worker wait, then skip (READ COMMITTED re-checks `emailed_at`); a worker that
    dies before commit leaves `emailed_at` empty, so the retry sends it. SMTP errors propagate (the task
    retries them).
    """
    message = (
        TicketMessage.objects.select_for_update(no_key=True, of=("self",))
        .select_related("ticket__person", "author")
        .filter(pk=message_id, kind=MessageKind.REPLY, emailed_at__isnull=True)
        .first()
    )
    if message is None:
        return False
    ticket = message.ticket
    recipient = _client_address(ticket)
    if not recipient:
        logger.info("Reply %s of ticket %s not e-mailed: the client has no e-mail address", message.pk, ticket.number)
        return False
    thread = list(
        ticket.messages.filter(kind=MessageKind.INBOUND)
        .exclude(message_id="")
        .order_by("created_at", "pk")
        .values_list("message_id", flat=True)
    )[-REFERENCES_MAX:]
    _local, domain = _service_address()
    message.message_id = make_msgid(domain=domain or None)
    headers = {"Message-ID": message.message_id, TICKET_HEADER: ticket.number}
    if thread:
        headers |= {"In-Reply-To": thread[-1], "References": " ".join(thread)}
    prefix = "Re: " if ticket.channel == TicketChannel.EMAIL else ""
    subject = _one_line(f"{prefix}[{ticket.number}] {ticket.subject}")
    with translation.override(_client_language(ticket)):
        context = {"ticket": ticket, "message": message, "subject": subject}
        email = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("service/email/reply.txt", context),
            from_email=settings.SERVICE_EMAIL,
            to=[recipient],
            reply_to=[reply_address(ticket)],
            headers=headers,
        )
        email.attach_alternative(render_to_string("service/email/reply.html", context), "text/html")
    for attachment in message.attachments.order_by("pk"):
        with attachment.file.open("rb") as handle:
            email.attach(attachment.name, handle.read(), attachment.content_type)
    email.send()
    message.emailed_at = timezone.now()
    message.save(update_fields=["message_id", "emailed_at"])
    return True


@transaction.atomic
def rating_request_send(*, ticket_id: int) -> bool:
    """E-mail the client the signed rating link, once per resolution; False when the ticket is not resolved
    or closed, is rated, was asked already, or the client has no e-mail address.

    Claimed by setting Ticket.rating_requested_at under the row lock (reopening clears it, so the next
    resolution asks again). SMTP errors propagate and roll the claim back (the task retries them).
    """
    ticket = (
        Ticket.objects.select_for_update(no_key=True, of=("self",))
        .select_related("person")
        .filter(pk=ticket_id, status__in=DONE_STATUSES, csat_rating__isnull=True, rating_requested_at__isnull=True)
        .first()
    )
    if ticket is None:
        return False
    recipient = _client_address(ticket)
    if not recipient:
        return False
    link = settings.SITE_URL + reverse("service:ticket-rate", args=[services.rating_token(ticket)])
    _local, domain = _service_address()
    headers = {
        "Message-ID": make_msgid(domain=domain or None),
        TICKET_HEADER: ticket.number,
        # RFC 3834: vacation responders must not answer it.
        "Auto-Submitted": "auto-generated",
    }
    with translation.override(_client_language(ticket)):
        subject = _one_line(
            _("[%(number)s] How did we do? Rate the answer to “%(subject)s”")
            % {"number": ticket.number, "subject": ticket.subject}
        )
        context = {"ticket": ticket, "link": link, "subject": subject}
        email = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("service/email/rating_request.txt", context),
            from_email=settings.SERVICE_EMAIL,
            to=[recipient],
            reply_to=[reply_address(ticket)],
            headers=headers,
        )
        email.attach_alternative(render_to_string("service/email/rating_request.html", context), "text/html")
    email.send()
    ticket.rating_requested_at = timezone.now()
    ticket.save(update_fields=["rating_requested_at"])
    return True


# --- parsing one message -------------------------------------------------------------------------------------


@dataclass
class ParsedMail:
    """What routing needs from one raw message; `problems` says what could not be decoded."""

    message: Message
    message_id: str
    from_name: str
    from_email: str
    subject: str
    text: str
    html: str
    recipients: list[str]
    in_reply_to: list[str]
    references: list[str]
    attachments: list[SimpleUploadedFile] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        return _header(self.message, name)


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL characters.
    return text.replace("\x00", "")


def _lines(text: str) -> str:
    """NUL-free text with "\n" line ends (mail has CRLF on the wire)."""
    return _clean(text).replace("\r\n", "\n").replace("\r", "\n")


def _decode_raw_header(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, TypeError):
        return value


def _header_values(message: Message, name: str) -> list[str]:
    """Every value of a header, decoded; a header the parser cannot make sense of comes back as raw text."""
    try:
        return [_clean(str(value)) for value in message.get_all(name, [])]
    except Exception:  # a malformed header must not stop the message
        return [
            _clean(_decode_raw_header(str(value))) for key, value in message.raw_items() if key.lower() == name.lower()
        ]


def _header(message: Message, name: str) -> str:
    values = _header_values(message, name)
    return values[0].strip() if values else ""


def _message_id(message: Message, raw: bytes) -> str:
    """The Message-ID, or a synthetic one from a hash of the raw bytes (the same bytes give the same id)."""
    found = MESSAGE_ID.findall(_header(message, "Message-ID"))
    value = found[0] if found else _header(message, "Message-ID")
    if not value:
        return f"<sha256.{hashlib.sha256(raw).hexdigest()}@synthetic.invalid>"
    if len(value) > 255:
        return f"<sha256.{hashlib.sha256(value.encode()).hexdigest()}@long-id.invalid>"
    return value


def _sender(message: Message) -> tuple[str, str]:
    """(display name, lower-cased address) of the first From address; empty strings when there is none."""
    value = _header(message, "From")
    try:
        header = message["From"]
        addresses = header.addresses if header is not None else ()
        if addresses:
            return _clean(addresses[0].display_name or ""), _clean(addresses[0].addr_spec or "").lower()
    except Exception:  # an unparsable From: the lenient parser below
        pass
    name, address = parseaddr(value)
    return name, address.lower()


def _decode_payload(part: Message, problems: list[str]) -> str:
    """A text part's content; an unknown charset falls back to UTF-8 with replacement characters."""
    charset = part.get_content_charset()
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload()).encode("utf-8", "replace")
    if charset is None:
        # No charset declared: UTF-8 if it decodes, else the usual legacy Ukrainian charset.
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("cp1251", errors="replace")
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        problems.append(
            _("Unknown character set “%(charset)s”: the text was read as UTF-8 with replacement characters.")
            % {"charset": charset}
        )
        return payload.decode("utf-8", errors="replace")


def _raw_body(raw: bytes) -> str:
    """Everything after the header block, as text: the fallback when the MIME structure cannot be read."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        _head, found, body = raw.partition(separator)
        if found:
            return body.decode("utf-8", errors="replace")
    return raw.decode("utf-8", errors="replace")


def _leaf_parts(part: Message) -> Iterator[Message]:
    """Non-multipart parts, depth first; an attached message is one part (kept as an .eml file)."""
    if part.get_content_type() == "message/rfc822":
        yield part
    elif part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, Message):
                yield from _leaf_parts(sub)
    else:
        yield part


def _attachment_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        return inner.as_bytes() if isinstance(inner, Message) else b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _attachment_name(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # an undecodable name: treated as nameless
        name = ""
    name = _clean("".join(ch for ch in str(name) if ch.isprintable())).strip()
    if not name:
        content_type = part.get_content_type()
        extension = ".eml" if content_type == "message/rfc822" else (mimetypes.guess_extension(content_type) or "")
        name = "attachment" + extension
    return name


def _collect_attachments(mail: ParsedMail, body_parts: list[Message]) -> None:
    """Keep the attachments contacts.services.attachments_check accepts, each checked on its own; the names
    of the rest (too large, not allowed, a path in the name, over the file limit) go to `mail.dropped`."""
    for part in _leaf_parts(mail.message):
        if any(part is body for body in body_parts):
            continue
        try:
            disposition = part.get_content_disposition()
            has_name = bool(part.get_filename())
        except Exception:  # unreadable MIME parameters: treat the part as a file
            disposition, has_name = "attachment", True
        if not has_name and disposition != "attachment" and part.get_content_type() != "message/rfc822":
            continue  # an extra inline text part of the body, not a file
        name = _attachment_name(part)
        if "/" in name or "\\" in name or len(mail.attachments) >= ATTACHMENT_MAX_FILES:
            mail.dropped.append(name)
            continue
        try:
            content = _attachment_bytes(part)
        except Exception:  # an attachment that cannot be decoded is dropped, not fatal
            mail.dropped.append(name)
            continue
        upload = SimpleUploadedFile(name, content, content_type=part.get_content_type())
        try:
            attachments_check([upload])
        except ValidationError:
            mail.dropped.append(name)
            continue
        mail.attachments.append(upload)


def parse_message(raw: bytes) -> ParsedMail:
    """Decode one raw message (`email` with policy.default); never raises: what cannot be decoded is read as
    raw text with replacement characters and described in `problems`."""
    message = message_from_bytes(raw, policy=policy.default)
    problems: list[str] = []
    from_name, from_email = _sender(message)
    addresses = [
        value for name in ("To", "Cc", "Delivered-To", "X-Original-To") for value in _header_values(message, name)
    ]
    mail = ParsedMail(
        message=message,
        message_id=_message_id(message, raw),
        from_name=from_name,
        from_email=from_email,
        subject=_one_line(_header(message, "Subject")),
        text="",
        html="",
        recipients=[address.lower() for _name, address in getaddresses(addresses) if address],
        in_reply_to=MESSAGE_ID.findall(_header(message, "In-Reply-To")),
        references=MESSAGE_ID.findall(" ".join(_header_values(message, "References"))),
        problems=problems,
    )
    body_parts: list[Message] = []
    try:
        plain = message.get_body(preferencelist=("plain",))
        html = None if plain is not None else message.get_body(preferencelist=("html",))
    except Exception as error:  # the email package's own failures on broken MIME
        plain = html = None
        problems.append(_("The message structure could not be read (%(error)s).") % {"error": error})
    if plain is not None:
        mail.text = _decode_payload(plain, problems)
        body_parts.append(plain)
    elif html is not None:
        mail.html = _decode_payload(html, problems)
        body_parts.append(html)
    elif message.defects or not message.is_multipart():
        if message.defects:
            problems.append(
                _("The MIME structure is broken (%(defects)s): the raw text is shown.")
                % {"defects": ", ".join(type(defect).__name__ for defect in message.defects)}
            )
        if message.get_content_maintype() in ("text", "multipart"):
            mail.text = _raw_body(raw)
    try:
        _collect_attachments(mail, body_parts)
    except Exception as error:  # keep the text even if the attachments are unreadable
        problems.append(_("The attachments could not be read (%(error)s).") % {"error": error})
    mail.text, mail.html = _lines(mail.text).strip(), _lines(mail.html)
    return mail


# --- handlers of other apps ---------------------------------------------------------------------------------

# A callable given the parsed message; it returns a note when it took the message (nothing else is done with
# it then), else None.
InboundHandler = Callable[[Message], "str | None"]
_inbound_handlers: list[InboundHandler] = []


def register_inbound_handler(handler: InboundHandler) -> None:
    """Let an app above the service desk (marketing's bounce reader) see each inbound message first: handlers
    are tried in order inside the message's transaction, once per Message-ID, before ticket routing. A handler
    that returns a note takes the message: it is recorded with that note (as a bounce unless the usual rules
    say auto-reply or loop) and opens no ticket. Registered from AppConfig.ready(), so the service desk imports
    nothing of the app (registering twice is a no-op)."""
    if handler not in _inbound_handlers:
        _inbound_handlers.append(handler)


def _handled(mail: ParsedMail) -> str | None:
    for handler in _inbound_handlers:
        note = handler(mail.message)
        if note:
            return note
    return None


# --- routing ---------------------------------------------------------------------------------------------------


def _ignore_reason(mail: ParsedMail) -> tuple[str, str] | None:
    """(outcome, note) for mail no ticket should come from: our own mail, bounces, auto-replies, bulk mail."""
    if mail.from_email in _own_addresses() or _reply_address_pattern().match(mail.from_email):
        return InboundOutcome.LOOP, _("Sent from the service desk's own address.")
    if mail.header(TICKET_HEADER):
        return InboundOutcome.LOOP, _("Carries the %(header)s header of our own mail.") % {"header": TICKET_HEADER}
    if TicketMessage.objects.filter(message_id=mail.message_id).exists():
        return InboundOutcome.LOOP, _("This Message-ID is already in a ticket.")
    message = mail.message
    if (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    ):
        return InboundOutcome.BOUNCE, _("A delivery status report.")
    auto_submitted = mail.header("Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return InboundOutcome.AUTO_REPLY, _("Auto-Submitted: %(value)s.") % {"value": auto_submitted}
    precedence = mail.header("Precedence").lower()
    if precedence in ("bulk", "junk", "list"):
        return InboundOutcome.AUTO_REPLY, _("Precedence: %(value)s.") % {"value": precedence}
    for name in ("X-Autoreply", "X-Autorespond"):
        if mail.header(name):
            return InboundOutcome.AUTO_REPLY, _("Has the %(header)s header.") % {"header": name}
    if mail.from_email.split("@")[0] == "mailer-daemon" or mail.header("Return-Path") == "<>":
        return InboundOutcome.BOUNCE, _("Sent by a mail server (MAILER-DAEMON or an empty Return-Path).")
    return None


def _referenced_ticket(mail: ParsedMail) -> Ticket | None:
    """The ticket the mail refers to: its reply address (with the right key), a Message-ID it answers, or the
    "[S-YYYY-NNNNNN]" tag of the subject, in this order."""
    pattern = _reply_address_pattern()
    for address in mail.recipients:
        match = pattern.match(address)
        if match:
            ticket = Ticket.objects.filter(number=match[1].upper(), reply_key=match[2].lower()).first()
            if ticket is not None:
                return ticket
    ids = [*mail.in_reply_to, *reversed(mail.references)]
    if ids:
        tickets = {
            message.message_id: message.ticket
            for message in TicketMessage.objects.filter(message_id__in=ids).select_related("ticket")
        }
        for message_id in ids:
            if message_id in tickets:
                return tickets[message_id]
    match = SUBJECT_TAG.search(mail.subject)
    if match:
        return Ticket.objects.filter(number=match[1].upper()).first()
    return None


def _sender_belongs(ticket: Ticket, address: str) -> bool:
    """The spoof rule: the sender is an e-mail of the ticket's company (of the company itself or one of its
    people) or of the ticket's person; a ticket without a company accepts only its original sender."""
    if not address:
        return False
    holders = [Q(person_id=ticket.person_id)] if ticket.person_id else []
    if ticket.company_id:
        holders += [Q(company_id=ticket.company_id), Q(person__company_id=ticket.company_id)]
    if holders:
        points = ContactPoint.objects.filter(kind=ContactPointKind.EMAIL, normalized=address)
        if points.filter(reduce(operator.or_, holders)).exists():
            return True
    if ticket.company_id is None:
        original = (
            ticket.messages.filter(kind=MessageKind.INBOUND)
            .exclude(from_email="")
            .order_by("created_at", "pk")
            .values_list("from_email", flat=True)
            .first()
        )
        return bool(original) and original.lower() == address
    return False


def _may_continue(ticket: Ticket, now: datetime) -> bool:
    """Open tickets take the message; done ones only within settings.SERVICE_REOPEN_DAYS of closing."""
    if ticket.status not in DONE_STATUSES:
        return True
    done_at = ticket.closed_at or ticket.resolved_at
    return done_at is None or now - done_at <= timedelta(days=settings.SERVICE_REOPEN_DAYS)


def _known_sender(address: str) -> tuple[Person | None, Company | None]:
    """The person (and their company) or the company an e-mail address is recorded for."""
    if not address:
        return None, None
    points = ContactPoint.objects.filter(kind=ContactPointKind.EMAIL, normalized=address).select_related(
        "person__company", "company"
    )
    point = points.filter(person__isnull=False).order_by("-is_primary", "pk").first()
    if point is not None:
        return point.person, point.person.company
    point = points.filter(company__isnull=False).order_by("-is_primary", "pk").first()
    return (None, point.company) if point is not None else (None, None)


def _qualification_owner() -> User | None:
    """Who owns the people created for unknown senders: the service team's manager, else the first active
    superuser or director."""
    team = services.service_team()
    if team is not None and team.manager is not None and team.manager.is_active:
        return team.manager
    return (
        User.objects.filter(Q(is_superuser=True) | Q(groups__name=Role.DIRECTOR), is_active=True).order_by("pk").first()
    )


def _split_name(display_name: str, address: str) -> tuple[str, str]:
    """(first name, last name) from a From display name; the address stands in for what is missing."""
    words = display_name.replace('"', "").split()
    if len(words) >= 2:
        return words[0][:100], " ".join(words[1:])[:100]
    if words:
        return words[0][:100], address[:100]
    return address.split("@")[0][:100] or address[:100], address[:100]


def _person_to_qualify(mail: ParsedMail) -> Person | None:
    """A new person for an unknown sender (no company; an agent qualifies them); None when the address is
    not valid or nobody can own the record."""
    try:
        normalize_email(mail.from_email)
    except ValidationError:
        return None
    owner = _qualification_owner()
    if owner is None:
        return None
    first_name, last_name = _split_name(mail.from_name, mail.from_email)
    person = person_create(
        actor=owner,
        first_name=first_name,
        last_name=last_name,
        company=None,
        notes=_("Wrote to the service desk from an unknown address: check the name and link the company."),
    )
    contact_point_add(actor=owner, kind=ContactPointKind.EMAIL, value=mail.from_email, person=person)
    return person


def _ticket_subject(subject: str) -> str:
    subject = REPLY_PREFIX.sub("", SUBJECT_TAG.sub("", subject)).strip()
    return _one_line(subject) or _("(no subject)")


def _description(mail: ParsedMail) -> str:
    return mail.text or services.html_to_text(services.sanitize_message(mail.html))


def _new_ticket(
    *,
    mail: ParsedMail,
    person: Person | None,
    company: Company | None,
    needs_qualification: bool = False,
    previous: Ticket | None = None,
) -> Ticket:
    if person is not None and company is not None and person.company_id not in (None, company.pk):
        person = None
    if person is None and company is None:
        person = _person_to_qualify(mail)
    return services.ticket_create(
        actor=None,
        channel=TicketChannel.EMAIL,
        subject=_ticket_subject(mail.subject),
        description=_description(mail),
        company=company,
        person=person,
        needs_qualification=needs_qualification or company is None,
        previous=previous,
    )


def _route(*, inbound: InboundEmail, mail: ParsedMail, now: datetime) -> None:
    """Decide where one message goes and write it there; `inbound` gets the outcome, ticket and note."""
    notes = list(mail.problems)
    ignored = _ignore_reason(mail)
    handled = _handled(mail)
    if handled is not None:
        outcome = ignored[0] if ignored is not None else InboundOutcome.BOUNCE
        inbound.outcome, inbound.note = outcome, "\n".join([handled, *notes])
        inbound.save(update_fields=["outcome", "note"])
        return
    if ignored is not None:
        inbound.outcome, note = ignored
        inbound.note = "\n".join([note, *notes])
        inbound.save(update_fields=["outcome", "note"])
        return
    person, company = _known_sender(mail.from_email)
    found = _referenced_ticket(mail)
    outcome = InboundOutcome.TICKET
    author = person
    if found is None:
        ticket = _new_ticket(mail=mail, person=person, company=company)
    elif not _sender_belongs(found, mail.from_email):
        notes.append(
            _("Refers to ticket %(number)s, but the sender is not of its client: opened a new ticket to qualify.")
            % {"number": found.number}
        )
        ticket = _new_ticket(mail=mail, person=person, company=company, needs_qualification=True)
    elif _may_continue(found, now):
        ticket, outcome = found, InboundOutcome.REPLY
    else:
        notes.append(
            _("Refers to ticket %(number)s, closed more than %(days)d days ago: opened a new ticket.")
            % {"number": found.number, "days": settings.SERVICE_REOPEN_DAYS}
        )
        same_client = person is not None and person.company_id == found.company_id
        ticket = _new_ticket(
            mail=mail, person=person if same_client else found.person, company=found.company, previous=found
        )
    if author is None and outcome == InboundOutcome.TICKET:
        author = ticket.person  # the person just created for an unknown sender
    elif author is not None and author.company_id not in (None, ticket.company_id):
        author = None
    services.ticket_add_inbound(
        ticket=ticket,
        body_html=mail.html if not mail.text else "",
        body_text=mail.text,
        from_email=mail.from_email,
        person=author,
        message_id=mail.message_id,
        attachments=mail.attachments,
        dropped=mail.dropped,
        now=now,
    )
    if mail.dropped:
        notes.append(_("Attachments not kept: %(names)s.") % {"names": ", ".join(mail.dropped)})
    inbound.outcome, inbound.ticket, inbound.note = outcome, ticket, "\n".join(notes)
    inbound.save(update_fields=["outcome", "ticket", "note"])


def _process(raw: bytes, *, uid: int | None) -> tuple[InboundEmail, bool]:
    """process_message, and whether this call processed it (False: it was processed before)."""
    mail = parse_message(raw)
    existing = InboundEmail.objects.filter(message_id=mail.message_id).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    with transaction.atomic():
        try:
            # First, in its own savepoint: a concurrent reader of the same message waits here, then fails
            # on the unique Message-ID and skips it.
            with transaction.atomic():
                inbound = InboundEmail.objects.create(
                    message_id=mail.message_id,
                    mailbox_uid=uid,
                    from_email=mail.from_email[:255],
                    subject=mail.subject[:300],
                    outcome=InboundOutcome.TICKET,
                    received_at=now,
                )
        except IntegrityError:
            return InboundEmail.objects.get(message_id=mail.message_id), False
        _route(inbound=inbound, mail=mail, now=now)
    return inbound, True


def process_message(raw: bytes, *, uid: int | None = None) -> InboundEmail:
    """Process one raw inbound message exactly once and return its InboundEmail row (the existing one when
    the Message-ID was processed before).

    Ignored mail (auto-replies, bulk, bounces, loops) is only recorded. Otherwise the message is added to the
    ticket it refers to (reopening it), or opens a new one (for an unknown sender, with a new person to
    qualify). Undecodable parts never raise: the note says what failed. Everything commits together; an
    unexpected error (the database) propagates and leaves nothing saved.
    """
    return _process(raw, uid=uid)[0]


# --- the mailbox ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImapConfig:
    secure: bool
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    folder: str


def mailbox_name(url: str) -> str:
    """The MailboxState name of a mailbox URL: the URL without its password (never raises)."""
    parts = urlsplit(url)
    userinfo, _at, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    name = f"{parts.scheme}://{user + '@' if user else ''}{hostport}{parts.path}"
    if len(name) > 100:
        name = name[:90] + "#" + hashlib.sha256(name.encode()).hexdigest()[:9]
    return name


def imap_config(url: str) -> ImapConfig:
    """imap://user:password@host:port/FOLDER (plain) or imaps://… (TLS); user and password URL-encoded.

    Raises ValueError for another scheme or a missing host or user."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ValueError(f"unsupported mailbox URL scheme {parts.scheme!r} (imap:// or imaps://)")
    if not parts.hostname or not parts.username:
        raise ValueError("the mailbox URL needs a user and a host")
    secure = parts.scheme == "imaps"
    return ImapConfig(
        secure=secure,
        host=parts.hostname,
        port=parts.port or (993 if secure else 143),
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def _backoff(failures: int) -> timedelta:
    """1, 2, 4, … minutes after the last error, at most BACKOFF_MAX_MINUTES."""
    return timedelta(minutes=min(2 ** max(failures - 1, 0), BACKOFF_MAX_MINUTES))


def _error_text(error: BaseException) -> str:
    detail = error.args[0] if len(error.args) == 1 else error
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", errors="replace")
    return f"{type(error).__name__}: {detail}"[:2000]


def _record_failure(state: MailboxState, error: BaseException, now: datetime) -> None:
    logger.warning("Service mailbox %s: %s", state.name, _error_text(error))
    MailboxState.objects.filter(pk=state.pk).update(
        last_error=_error_text(error), last_error_at=now, failures=F("failures") + 1
    )


def _open(config: ImapConfig) -> imaplib.IMAP4:
    if config.secure:
        imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            config.host, config.port, ssl_context=ssl.create_default_context(), timeout=IMAP_TIMEOUT
        )
    else:
        imap = imaplib.IMAP4(config.host, config.port, timeout=IMAP_TIMEOUT)
    try:
        imap.login(config.user, config.password)
        folder = f'"{config.folder}"' if " " in config.folder else config.folder
        status, data = imap.select(folder)
        if status != "OK":
            raise imaplib.IMAP4.error(f"SELECT {config.folder}: {data!r}")
    except BaseException:
        _close(imap)
        raise
    return imap


def _close(imap: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError, imaplib.IMAP4.error):
        imap.logout()


def _uidvalidity(imap: imaplib.IMAP4) -> int | None:
    _name, data = imap.response("UIDVALIDITY")
    values = [int(value) for value in data or [] if value and value.isdigit()]
    return values[-1] if values else None


def _fetch(imap: imaplib.IMAP4, uid: int) -> bytes | None:
    status, data = imap.uid("FETCH", str(uid), "(RFC822)")
    if status != "OK":
        return None
    return next((item[1] for item in data if isinstance(item, tuple) and len(item) > 1), None)


def mailbox_fetch() -> int:
    """Read the new messages of settings.SERVICE_IMAP_URL (empty: off, returns 0) and process each once;
    returns how many were processed (duplicates of processed ones are not counted).

    Never raises for the mailbox: an unreachable or refusing server, or a message that fails to process,
    records last_error / last_error_at / failures+1 on its MailboxState and ends the run (that message is
    retried next time). While failing, attempts wait 1, 2, 4, … (at most 60) minutes since the last error;
    a successful run resets `failures`.
    """
    url = settings.SERVICE_IMAP_URL
    if not url:
        return 0
    now = timezone.now()
    state, _created = MailboxState.objects.get_or_create(name=mailbox_name(url))
    if state.failures and state.last_error_at and now < state.last_error_at + _backoff(state.failures):
        return 0
    processed = 0
    try:
        imap = _open(imap_config(url))
    except (OSError, imaplib.IMAP4.error, ValueError) as error:
        _record_failure(state, error, now)
        return 0
    try:
        uidvalidity = _uidvalidity(imap)
        if uidvalidity != state.uidvalidity:
            # A new UIDVALIDITY renumbers the mailbox: read it all again (Message-IDs skip what was done).
            state.uidvalidity, state.last_uid = uidvalidity, 0
            state.save(update_fields=["uidvalidity", "last_uid"])
        status, data = imap.uid("SEARCH", None, f"UID {state.last_uid + 1}:*")
        if status != "OK":
            raise imaplib.IMAP4.error(f"UID SEARCH: {data!r}")
        # "n:*" always includes the highest UID, even below n: keep only the new ones.
        uids = sorted(uid for uid in (int(value) for value in b" ".join(data).split()) if uid > state.last_uid)
        for uid in uids[:FETCH_BATCH]:
            raw = _fetch(imap, uid)
            if raw is not None:
                try:
                    _inbound, created = _process(raw, uid=uid)
                except Exception as error:  # recorded for /health/; the message is retried
                    logger.exception("Service mailbox %s: message UID %s failed", state.name, uid)
                    _record_failure(state, error, timezone.now())
                    return processed
                processed += created
            MailboxState.objects.filter(pk=state.pk).update(last_uid=Greatest(F("last_uid"), uid))
    except (OSError, imaplib.IMAP4.error) as error:
        _record_failure(state, error, timezone.now())
        return processed
    finally:
        _close(imap)
    MailboxState.objects.filter(pk=state.pk).update(failures=0, last_ok_at=timezone.now())
    return processed


def mailbox_health() -> str | None:
    """None when no mailbox is configured or its last read worked; else what is wrong, for /health/."""
    url = settings.SERVICE_IMAP_URL
    if not url:
        return None
    state = MailboxState.objects.filter(name=mailbox_name(url)).first()
    if state is None or not state.failures:
        return None
    return _("The service mailbox %(name)s failed %(count)d times in a row, last at %(at)s: %(error)s") % {
        "name": state.name,
        "count": state.failures,
        "at": timezone.localtime(state.last_error_at).isoformat(timespec="seconds") if state.last_error_at else "?",
        "error": state.last_error,
    }
