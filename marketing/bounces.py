"""Bounces of campaign e-mails, read from the mailbox the service desk already reads (service.mail).

A delivery status notification (RFC 3464: multipart/report; report-type=delivery-status) names the failed
recipients in its message/delivery-status part (Final-Recipient, Action, Status) and quotes the original
message (message/rfc822 or text/rfc822-headers), whose Message-ID `<campaign-C-member-M@…>`
(marketing.services_send.message_id) names the member. Campaign e-mails use settings.MARKETING_BOUNCE_EMAIL
(default SERVICE_EMAIL) as the envelope sender, so their DSNs land in that mailbox.

- A permanent failure (Status 5.x.x, or Action: failed) marks the member bounced and suppresses the address
  (EmailSuppression, reason bounced): no campaign writes to it again.
- A temporary one (4.x.x, Action: delayed) only notes the error on the member.
The recipient of the report must be the member's own address, so a forged report that only guesses the
ids changes nothing. `dsn_handle` is registered with service.mail.register_inbound_handler (apps.py); it
returns None for any other message, which the service desk then routes as usual.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email import message_from_string, policy
from email.message import Message

from django.db import transaction
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from marketing.models import CampaignMember, EmailSuppression, MemberStatus, SuppressionReason
from marketing.services_send import MESSAGE_ID_RE

logger = logging.getLogger(__name__)

STATUS_RE = re.compile(r"^\s*([245])\.\d{1,3}\.\d{1,3}")
ERROR_MAX = 300
DETAIL_MAX = 500
# A member who got further than these (unsubscribed, converted...) keeps its status; the error is noted.
BOUNCEABLE = (MemberStatus.PLANNED, MemberStatus.SENT, MemberStatus.DELIVERED)


@dataclass(frozen=True)
class DsnRecipient:
    email: str
    action: str
    status: str
    diagnostic: str

    @property
    def is_permanent(self) -> bool:
        match = STATUS_RE.match(self.status)
        return match[1] == "5" if match else self.action == "failed"

    @property
    def is_temporary(self) -> bool:
        match = STATUS_RE.match(self.status)
        return match[1] == "4" if match else self.action == "delayed"

    def describe(self) -> str:
        return " ".join(part for part in (self.status, self.diagnostic) if part)


def _text(value: object) -> str:
    return " ".join(str(value or "").split())


def _address(field: str) -> str:
    """`rfc822; someone@example.com` → someone@example.com (lower case)."""
    _kind, _sep, address = field.partition(";")
    return (address or field).strip().strip("<>").lower()


def is_dsn(message: Message) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    )


def dsn_recipients(message: Message) -> list[DsnRecipient]:
    """The per-recipient fields of a DSN's message/delivery-status part (empty when there is none)."""
    found: list[DsnRecipient] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:  # the first block holds the per-message fields
            if not isinstance(block, Message):
                continue
            recipient = _address(_text(block.get("Final-Recipient") or block.get("Original-Recipient")))
            if recipient:
                found.append(
                    DsnRecipient(
                        email=recipient,
                        action=_text(block.get("Action")).lower(),
                        status=_text(block.get("Status")),
                        diagnostic=_text(block.get("Diagnostic-Code"))[:200],
                    )
                )
    return found


def _original_headers(message: Message) -> list[Message]:
    headers: list[Message] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            headers += [m for m in (inner if isinstance(inner, list) else [inner]) if isinstance(m, Message)]
        elif kind == "text/rfc822-headers":
            try:
                headers.append(message_from_string(part.get_content(), policy=policy.default))
            except Exception:  # undecodable quoted headers: the text search below still runs
                continue
    return headers


def dsn_member_ids(message: Message) -> tuple[int, int] | None:
    """(campaign id, member id) from the Message-ID of the quoted original message, else None."""
    for headers in _original_headers(message):
        try:
            match = MESSAGE_ID_RE.search(str(headers.get("Message-ID", "")))
        except Exception:  # a malformed quoted header is not ours
            match = None
        if match:
            return int(match[1]), int(match[2])
    return None


@transaction.atomic
def bounce_record(*, campaign_id: int, member_id: int, recipients: list[DsnRecipient]) -> str | None:
    """Apply a DSN to the member it names (see the module docstring); a note for the inbound log, or None
    when the report is not about that member's address."""
    member = (
        CampaignMember.objects.select_for_update(no_key=True)
        .filter(pk=member_id, campaign_id=campaign_id)
        .only("pk", "email", "status", "campaign_id")
        .first()
    )
    if member is None:
        return None
    ours = [r for r in recipients if r.email == member.email.strip().lower()]
    if not ours:
        return None
    recipient = next((r for r in ours if r.is_permanent), ours[0])
    if recipient.is_permanent:
        rows = CampaignMember.objects.filter(pk=member.pk)
        rows.filter(status__in=BOUNCEABLE).update(
            status=MemberStatus.BOUNCED, bounced_at=Now(), error=recipient.describe()[:ERROR_MAX]
        )
        rows.exclude(status__in=BOUNCEABLE).update(error=recipient.describe()[:ERROR_MAX])
        EmailSuppression.objects.bulk_create(
            [
                EmailSuppression(
                    email=recipient.email,
                    reason=SuppressionReason.BOUNCED,
                    detail=recipient.describe()[:DETAIL_MAX],
                    campaign_id=campaign_id,
                )
            ],
            ignore_conflicts=True,  # marketing_suppression_email_unique: suppressed already
        )
        return _("Campaign e-mail bounced (%(status)s): member %(member)d marked bounced, %(email)s suppressed.") % {
            "status": recipient.status or recipient.action,
            "member": member.pk,
            "email": recipient.email,
        }
    if recipient.is_temporary:
        delayed = _("Delayed: %(detail)s") % {"detail": recipient.describe()}
        CampaignMember.objects.filter(pk=member.pk).update(error=delayed[:ERROR_MAX])
        return _("Campaign e-mail delayed (%(status)s): noted on member %(member)d.") % {
            "status": recipient.status or recipient.action,
            "member": member.pk,
        }
    return None


def dsn_handle(message: Message) -> str | None:
    """The inbound handler (service.mail.register_inbound_handler): a DSN about a campaign e-mail is applied
    and a note returned; anything else gives None."""
    if not is_dsn(message):
        return None
    ids = dsn_member_ids(message)
    if ids is None:
        return None
    recipients = dsn_recipients(message)
    if not recipients:
        return None
    return bounce_record(campaign_id=ids[0], member_id=ids[1], recipients=recipients)
