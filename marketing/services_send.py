"""Sending a campaign's e-mail exactly once per member, and what comes back: opens, clicks, unsubscribes.

Launch. `campaign_launch` moves send_status '' → 'queued' with one conditional UPDATE: a second launch (a
double click, two tabs) updates nothing and returns False, so only one send is ever queued by it.

The send. `campaign_send` runs for one time slice (settings.MARKETING_SEND_SLICE_SECONDS) over ONE SMTP
connection, at the campaign's rate (send_rate per minute: a pause between messages), and says whether
planned members are left (its task then queues itself again). Each member is claimed in its own short
transaction; the protocol that makes a killed worker and a second worker safe relies on SMTP accepting a
message only at the final "." of DATA:

    BEGIN;
      SELECT one planned member … FOR UPDATE SKIP LOCKED     -- a second worker takes another member
      consent and suppression of that member, checked now   -- a withdrawal since planning is honoured
      MAIL FROM, RCPT TO, DATA, the message bytes, but NOT the final ".\r\n"
      UPDATE member SET status='sent', sent_at=now
    COMMIT;
    send ".\r\n", read the reply                              -- a 5xx reply: the member is marked bounced

A worker killed before COMMIT rolls back (the member is still planned, another run sends it) and drops
the SMTP connection mid-DATA, so the server discards the unfinished message. A worker killed after COMMIT
loses at most the write of the final dot (microseconds): at most once, never twice. A member locked by a
worker is skipped by the others, and a member already sent no longer matches status='planned'.

Tracking. The open pixel, the click redirect and the unsubscribe link carry signed tokens
(marketing.tracking). A member's status only moves forward (planned < sent < delivered < opened < clicked
< responded < converted); unsubscribed, bounced and skipped are final. An unsubscribe is honoured at
once: the member, the address's EmailSuppression and a consent withdrawal in the log, in one transaction.
"""

from __future__ import annotations

import logging
import re
import smtplib
import time
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce, Lower, Now
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketing import tracking
from marketing.models import (
    Campaign,
    CampaignChannel,
    CampaignMember,
    CampaignStatus,
    ConsentChannel,
    EmailSuppression,
    MemberStatus,
    SendStatus,
    SuppressionReason,
)
from marketing.personalise import member_context, personalise, personalise_html, placeholders_check
from marketing.services_consent import consent_allows, consent_record

if TYPE_CHECKING:
    from crm.models import User

logger = logging.getLogger(__name__)

CHANGE = "marketing.change_campaign"
SENDING_STATUSES = (SendStatus.QUEUED, SendStatus.SENDING)
# The forward order of a member's status; the rest (unsubscribed, bounced, skipped) are final.
FORWARD = (
    MemberStatus.PLANNED,
    MemberStatus.SENT,
    MemberStatus.DELIVERED,
    MemberStatus.OPENED,
    MemberStatus.CLICKED,
    MemberStatus.RESPONDED,
    MemberStatus.CONVERTED,
)
ERROR_MAX = 300  # CampaignMember.error
DEFERRED = "deferred: "  # the error prefix of a member whose server said "try later" once
UNSUBSCRIBE_SOURCE = "unsubscribe link"


def send_slice_seconds() -> float:
    return settings.MARKETING_SEND_SLICE_SECONDS


def send_batch_size() -> int:
    return settings.MARKETING_SEND_BATCH


def from_email() -> str:
    return settings.MARKETING_FROM_EMAIL or settings.DEFAULT_FROM_EMAIL


def bounce_email() -> str:
    """The envelope sender (Return-Path) of campaign e-mails: DSNs come back to the mailbox the service desk
    reads (marketing.bounces)."""
    return settings.MARKETING_BOUNCE_EMAIL or settings.SERVICE_EMAIL or from_email()


def lease_key(campaign_id: int) -> str:
    """The cache key a running send refreshes every batch; campaign_sends_resume re-queues a send without it."""
    return f"marketing:send-lease:{campaign_id}"


# --- launch ------------------------------------------------------------------------------------------------


def _launch_errors(campaign: Campaign) -> dict[str, list]:
    errors: dict[str, list] = {}
    if campaign.channel != CampaignChannel.EMAIL:
        errors.setdefault("__all__", []).append(_("Only an e-mail campaign can be sent."))
    if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        errors.setdefault("__all__", []).append(_("A completed or cancelled campaign cannot be sent."))
    for field, missing in (
        ("email_subject", _("Write the e-mail's subject before launching.")),
        ("email_body", _("Write the e-mail's text before launching.")),
    ):
        text = getattr(campaign, field)
        if not text.strip():
            errors.setdefault(field, []).append(missing)
            continue
        try:
            placeholders_check(text)
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.messages)
    return errors


@transaction.atomic
def campaign_launch(*, campaign: Campaign, actor: User | None) -> bool:
    """Queue the e-mail send of `campaign`, once: False (and nothing queued) when it was launched before.

    Raises PermissionDenied without marketing.change_campaign, ValidationError (keyed by field) for a
    campaign that is not an open e-mail campaign, lacks a subject or text, or has no planned member."""
    if actor is not None and not actor.has_perm(CHANGE):
        raise PermissionDenied
    if campaign.send_status != SendStatus.NOT_STARTED:
        return False
    errors = _launch_errors(campaign)
    # campaign_member_planned_idx: the count of one campaign's planned members, once per launch.
    total = CampaignMember.objects.filter(campaign=campaign, status=MemberStatus.PLANNED).count()
    if not total and not errors:
        errors["__all__"] = [_("The campaign has no members to write to: add members from its target groups.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    launched = Campaign.objects.filter(pk=campaign.pk, send_status=SendStatus.NOT_STARTED).update(
        send_status=SendStatus.QUEUED,
        launched_at=now,
        send_total=total,
        send_done=0,
        status=Case(When(status=CampaignStatus.DRAFT, then=Value(CampaignStatus.RUNNING)), default=F("status")),
    )
    if not launched:
        return False  # another request launched it between our read and this UPDATE
    campaign.refresh_from_db(fields=["send_status", "launched_at", "send_total", "send_done", "status"])
    from marketing.tasks_send import campaign_send_task

    transaction.on_commit(lambda: campaign_send_task.delay(campaign.pk))
    return True


# --- the message -------------------------------------------------------------------------------------------


def _domain(address: str) -> str:
    return (parseaddr(address)[1] or address).rpartition("@")[2] or "localhost"


def message_id(campaign_id: int, member_id: int) -> str:
    """The member's stable Message-ID: a DSN that quotes it names the member (marketing.bounces)."""
    return f"<campaign-{campaign_id}-member-{member_id}@{_domain(from_email())}>"


MESSAGE_ID_RE = re.compile(r"<campaign-(\d+)-member-(\d+)@[^<>\s]+>")


def build_message(*, campaign: Campaign, member: CampaignMember, context: dict[str, str]) -> EmailMultiAlternatives:
    """The personalised e-mail of one member: plain text and HTML (links through the click redirect, the open
    pixel), a stable Message-ID and the RFC 8058 one-click unsubscribe headers."""
    unsubscribe = tracking.unsubscribe_url(member.pk)
    values = {**context, "unsubscribe_url": unsubscribe}
    subject = " ".join(personalise(template=campaign.email_subject, context=values).split())
    template_context = {
        "campaign": campaign,
        "subject": subject,
        "body_text": personalise(template=campaign.email_body, context=values),
        "body_html": personalise_html(template=campaign.email_body, context=values),
        "unsubscribe_url": unsubscribe,
        "open_url": tracking.open_url(member.pk),
    }
    html = render_to_string("marketing/email/campaign_message.html", template_context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("marketing/email/campaign_message.txt", template_context),
        from_email=from_email(),
        to=[member.email],
        headers={
            "Message-ID": message_id(campaign.pk, member.pk),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(tracking.rewrite_links(html, member_id=member.pk), "text/html")
    return email


# --- SMTP: everything but the final dot ---------------------------------------------------------------------


class SmtpRefused(Exception):
    """The server refused the message for this recipient (code, reply)."""

    def __init__(self, code: int, reply: bytes | str) -> None:
        self.code = code
        self.reply = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        super().__init__(f"{code} {self.reply}")


CRLF_RE = re.compile(rb"\r\n|\r|\n")
LEADING_DOT_RE = re.compile(rb"(?m)^\.")


def smtp_send_without_dot(smtp: smtplib.SMTP, *, sender: str, recipient: str, data: bytes) -> None:
    """MAIL FROM, RCPT TO, DATA and the whole message, stopping before the terminating ".\\r\\n".

    The server accepts nothing until that line comes (smtp_finish): if we die before, it discards the
    message. Mirrors smtplib.SMTP.sendmail + data(): line ends normalised to CRLF, a line starting with "."
    doubled (RFC 5321 4.5.2 dot-stuffing), and the data ending with CRLF, so ".\\r\\n" alone completes it.
    Raises SmtpRefused when the server refuses the recipient (the envelope is reset); smtplib errors (OSError)
    when it refuses the sender or DATA, or the connection breaks."""
    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.mail(sender)
    if code != 250:  # the server refuses us, not this recipient: the run stops (the task retries)
        smtp.rset()
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = smtp.rcpt(recipient)
    if code not in (250, 251):
        smtp.rset()
        raise SmtpRefused(code, reply)
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        smtp.rset()
        raise smtplib.SMTPDataError(code, reply)
    payload = LEADING_DOT_RE.sub(b"..", CRLF_RE.sub(b"\r\n", data))
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    smtp.send(payload)


def smtp_finish(smtp: smtplib.SMTP) -> tuple[int, str]:
    """Send the terminating ".\\r\\n" of DATA and return the server's (code, reply): 250 means accepted."""
    smtp.send(b".\r\n")
    code, reply = smtp.getreply()
    return code, reply.decode(errors="replace")


# --- the send ----------------------------------------------------------------------------------------------


@dataclass
class SendRun:
    sent: int = 0
    skipped: int = 0
    bounced: int = 0
    deferred: int = 0
    more: bool = False  # planned members are left (the task queues itself again)


def _suppressed(email: str) -> str | None:
    """The reason the address is suppressed, else None (marketing_suppression_email_unique serves it)."""
    return (
        EmailSuppression.objects.annotate(lower_email=Lower("email"))
        .filter(lower_email=email.strip().lower())
        .values_list("reason", flat=True)
        .first()
    )


def _skip_reason(member: CampaignMember) -> str | None:
    """Why the member must not get the e-mail now (checked inside its claim), else None."""
    if not member.email.strip():
        return str(_("No e-mail address."))
    try:
        validate_email(member.email.strip())
        sanitize_address(member.email.strip(), "utf-8").encode("ascii")
    except (ValidationError, ValueError, UnicodeError):
        return str(_("The e-mail address is not valid."))
    reason = _suppressed(member.email)
    if reason is not None:
        return str(_("The address is suppressed (%(reason)s).") % {"reason": SuppressionReason(reason).label})
    if settings.MARKETING_REQUIRE_CONSENT and not consent_allows(
        person_id=member.person_id, email=member.email, channel=ConsentChannel.EMAIL
    ):
        return str(_("No consent to marketing e-mails."))
    return None


def _mark(member_id: int, *, status: str, error: str = "", **times) -> None:
    CampaignMember.objects.filter(pk=member_id).update(status=status, error=error[:ERROR_MAX], **times)


def _defer(member_id: int, *, error: SmtpRefused | tuple[int, str], previous: str) -> str:
    """A temporary refusal (4xx): planned again to be retried by a later run; a second one is a bounce.
    Returns the member's new status."""
    text = f"{error.code} {error.reply}" if isinstance(error, SmtpRefused) else f"{error[0]} {error[1]}"
    if previous.startswith(DEFERRED):
        _mark(member_id, status=MemberStatus.BOUNCED, error=text, bounced_at=Now())
        return MemberStatus.BOUNCED
    _mark(member_id, status=MemberStatus.PLANNED, error=DEFERRED + text, sent_at=None)
    return MemberStatus.PLANNED


def _send_one(
    *, smtp: smtplib.SMTP | None, connection, campaign: Campaign, member_id: int, contexts: dict, run: SendRun
) -> bool:
    """Claim, check and send one member (the protocol of the module docstring). False when the member was
    not ours to send (locked by another worker, or no longer planned)."""
    with transaction.atomic():
        member = (
            CampaignMember.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk=member_id, status=MemberStatus.PLANNED)
            .only("pk", "campaign_id", "person_id", "company_id", "email", "error")
            .first()
        )
        if member is None:
            return False
        reason = _skip_reason(member)
        if reason is not None:
            _mark(member.pk, status=MemberStatus.SKIPPED, error=reason)
            run.skipped += 1
            return True
        email = build_message(campaign=campaign, member=member, context=contexts.get(member.pk, {}))
        if smtp is None:  # a non-SMTP backend (console, locmem, file): no DATA to hold back
            connection.send_messages([email])
        else:
            try:
                data = email.message().as_bytes(linesep="\r\n")
                smtp_send_without_dot(
                    smtp,
                    sender=sanitize_address(bounce_email(), "utf-8"),
                    recipient=sanitize_address(member.email.strip(), "utf-8"),
                    data=data,
                )
            except SmtpRefused as refused:
                if refused.code >= 500:
                    _mark(member.pk, status=MemberStatus.BOUNCED, error=str(refused), bounced_at=Now())
                    run.bounced += 1
                else:
                    run.deferred += _defer(member.pk, error=refused, previous=member.error) == MemberStatus.PLANNED
                return True
        _mark(member.pk, status=MemberStatus.SENT, sent_at=Now())
    # Committed: the member is sent. Now, and only now, the server may accept the message.
    if smtp is not None:
        code, reply = smtp_finish(smtp)
        if code >= 500:
            _mark(member.pk, status=MemberStatus.BOUNCED, error=f"{code} {reply}", bounced_at=Now())
            run.bounced += 1
            return True
        if code != 250:
            run.deferred += _defer(member.pk, error=(code, reply), previous=member.error) == MemberStatus.PLANNED
            return True
    run.sent += 1
    return True


def _planned_batch(campaign_id: int, *, after: int, exclude: set[int]) -> list[CampaignMember]:
    # marketing_member_planned_idx (campaign, id) WHERE status = 'planned'.
    rows = (
        CampaignMember.objects.filter(campaign_id=campaign_id, status=MemberStatus.PLANNED, pk__gt=after)
        .exclude(pk__in=exclude)
        .order_by("pk")
        .only("pk", "person_id", "company_id")[: send_batch_size()]
    )
    return list(rows)


def _smtp_of(connection) -> smtplib.SMTP | None:
    smtp = getattr(connection, "connection", None)
    return smtp if isinstance(smtp, smtplib.SMTP) else None


def campaign_send(*, campaign_id: int, slice_seconds: float | None = None) -> SendRun:
    """Send to the campaign's planned members for one time slice over one SMTP connection; `more` says
    whether planned members are left. Safe to run in several workers at once, and after a killed one.

    A campaign that is not queued or sending does nothing. SMTP connection errors propagate (the task
    retries): the member being sent stays planned unless its claim committed."""
    campaign = Campaign.objects.select_related("email_product").filter(pk=campaign_id).first()
    run = SendRun()
    if campaign is None or campaign.send_status not in SENDING_STATUSES:
        return run
    Campaign.objects.filter(pk=campaign_id, send_status=SendStatus.QUEUED).update(send_status=SendStatus.SENDING)
    slice_seconds = send_slice_seconds() if slice_seconds is None else slice_seconds
    interval = 60.0 / max(campaign.send_rate, 1)
    deadline = time.monotonic() + slice_seconds
    next_at = time.monotonic()
    attempted: set[int] = set()  # deferred members wait for a later run
    after = 0
    connection = get_connection()
    connection.open()
    try:
        smtp = _smtp_of(connection)
        while time.monotonic() < deadline:
            batch = _planned_batch(campaign_id, after=after, exclude=attempted)
            if not batch:
                break
            cache.set(lease_key(campaign_id), 1, timeout=int(slice_seconds * 2) + 60)
            contexts = member_context(members=batch, campaign=campaign)
            done_before = run.sent + run.skipped + run.bounced
            for member in batch:
                if time.monotonic() >= deadline:
                    break
                after = member.pk
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                deferred_before = run.deferred
                if _send_one(
                    smtp=smtp, connection=connection, campaign=campaign, member_id=member.pk, contexts=contexts,
                    run=run,
                ):  # fmt: skip
                    next_at = time.monotonic() + interval
                if run.deferred != deferred_before:
                    attempted.add(member.pk)
            done = run.sent + run.skipped + run.bounced - done_before
            if done:
                # Only while sending: once another run has finished the send, it has recounted send_done.
                Campaign.objects.filter(pk=campaign_id, send_status__in=SENDING_STATUSES).update(
                    send_done=F("send_done") + done
                )
    finally:
        connection.close()
    run.more = CampaignMember.objects.filter(campaign_id=campaign_id, status=MemberStatus.PLANNED).exists()
    if not run.more:
        _finish_if_done(campaign_id)
    return run


def _finish_if_done(campaign_id: int) -> None:
    """send_status 'done' once no member is planned; send_done recounted (a killed run did not add its batch)."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(no_key=True).filter(pk=campaign_id).first()
        if campaign is None or campaign.send_status not in SENDING_STATUSES:
            return
        if CampaignMember.objects.filter(campaign_id=campaign_id, status=MemberStatus.PLANNED).exists():
            return
        processed = CampaignMember.objects.filter(campaign_id=campaign_id).exclude(status=MemberStatus.PLANNED)
        Campaign.objects.filter(pk=campaign_id).update(send_status=SendStatus.DONE, send_done=processed.count())
    cache.delete(lease_key(campaign_id))


def campaign_sends_resume() -> list[int]:
    """The ids of sending campaigns whose send holds no lease (its worker died, its task was lost): the beat
    task queues them again. The claim protocol makes a second concurrent run harmless."""
    ids = list(Campaign.objects.filter(send_status__in=SENDING_STATUSES).values_list("pk", flat=True))
    return [pk for pk in ids if cache.add(lease_key(pk), 1, timeout=int(send_slice_seconds() * 2) + 60)]


# --- tracking ----------------------------------------------------------------------------------------------


def _before(status: str) -> list[str]:
    return list(FORWARD[: FORWARD.index(status)])


def member_opened(*, member_id: int) -> bool:
    """The open pixel: opened_at set once; the status moves forward to 'opened'. False for an unknown member."""
    return bool(
        CampaignMember.objects.filter(pk=member_id).update(
            opened_at=Coalesce(F("opened_at"), Now()),
            status=Case(
                When(status__in=_before(MemberStatus.OPENED)[1:], then=Value(MemberStatus.OPENED)),
                default=F("status"),
            ),
        )
    )


def member_clicked(*, member_id: int) -> bool:
    """The click redirect: clicked_at (and opened_at: images may be blocked) set once; status → 'clicked'."""
    return bool(
        CampaignMember.objects.filter(pk=member_id).update(
            clicked_at=Coalesce(F("clicked_at"), Now()),
            opened_at=Coalesce(F("opened_at"), Now()),
            status=Case(
                When(status__in=_before(MemberStatus.CLICKED)[1:], then=Value(MemberStatus.CLICKED)),
                default=F("status"),
            ),
        )
    )


@transaction.atomic
def member_unsubscribe(*, member_id: int, ip: str | None = None) -> bool:
    """Honour an unsubscribe at once: the member unsubscribed, the address suppressed, and the withdrawal in
    the consent log (and the person's current consent). False for an unknown member; a repeated request
    changes nothing more (the log gets one withdrawal)."""
    member = (
        CampaignMember.objects.select_for_update(no_key=True, of=("self",))
        .select_related("person")
        .filter(pk=member_id)
        .first()
    )
    if member is None:
        return False
    if member.status == MemberStatus.UNSUBSCRIBED:
        return True
    CampaignMember.objects.filter(pk=member.pk).update(
        status=MemberStatus.UNSUBSCRIBED, unsubscribed_at=Coalesce(F("unsubscribed_at"), Now())
    )
    email = member.email.strip()
    if email:
        EmailSuppression.objects.bulk_create(
            [EmailSuppression(email=email.lower(), reason=SuppressionReason.UNSUBSCRIBED,
                              campaign_id=member.campaign_id)],
            ignore_conflicts=True,  # marketing_suppression_email_unique: suppressed already
        )  # fmt: skip
    consent_record(
        channel=ConsentChannel.EMAIL,
        is_granted=False,
        source=UNSUBSCRIBE_SOURCE,
        person=member.person,
        email=email,
        ip=ip,
    )
    return True
