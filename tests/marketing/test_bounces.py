"""Bounces of campaign e-mails: DSN reports (RFC 3464) read by the service desk's mailbox reader mark the
member bounced and suppress the address (hard), or only note the error (soft)."""

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from django.utils import translation

from marketing import bounces, services_send
from marketing.models import CampaignMember, EmailSuppression, MemberStatus, SuppressionReason
from service import mail as service_mail
from service.models import InboundEmail, InboundOutcome, Ticket
from tests import mailservers
from tests.marketing.factories import CampaignMemberFactory

MAIL = Path(__file__).parent / "mail"
dovecot, imap_server = mailservers.dovecot, mailservers.imap_server  # the real IMAP server
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):  # the notes are read in the active language
        yield


@pytest.fixture
def member():
    return CampaignMemberFactory(status=MemberStatus.SENT, email="Olena.Bounce@Example.net")


def _dsn(name: str, member, *, email: str | None = None) -> bytes:
    text = (MAIL / name).read_text()
    message_id = services_send.message_id(member.campaign_id, member.pk)
    return text.format(email=email or member.email.lower(), message_id=message_id).replace("\n", "\r\n").encode()


def test_hard_bounce_marks_the_member_bounced_and_suppresses(member):
    note = bounces.dsn_handle(message_from_bytes(_dsn("hard_bounce.eml", member), policy=policy.default))

    assert "bounced" in note
    member.refresh_from_db()
    assert member.status == MemberStatus.BOUNCED
    assert member.bounced_at is not None
    assert member.error.startswith("5.1.1")
    suppression = EmailSuppression.objects.get(email__iexact=member.email)
    assert suppression.reason == SuppressionReason.BOUNCED
    assert suppression.campaign_id == member.campaign_id


def test_soft_bounce_only_notes_the_error(member):
    note = bounces.dsn_handle(message_from_bytes(_dsn("soft_bounce.eml", member), policy=policy.default))

    assert "delayed" in note
    member.refresh_from_db()
    assert member.status == MemberStatus.SENT
    assert "4.2.2" in member.error
    assert not EmailSuppression.objects.exists()


def test_report_about_another_address_changes_nothing(member):
    raw = _dsn("hard_bounce.eml", member, email="someone.else@example.net")
    assert bounces.dsn_handle(message_from_bytes(raw, policy=policy.default)) is None
    member.refresh_from_db()
    assert member.status == MemberStatus.SENT
    assert not EmailSuppression.objects.exists()


def test_unsubscribed_member_keeps_its_status(member):
    CampaignMember.objects.filter(pk=member.pk).update(status=MemberStatus.UNSUBSCRIBED)
    bounces.dsn_handle(message_from_bytes(_dsn("hard_bounce.eml", member), policy=policy.default))
    member.refresh_from_db()
    assert member.status == MemberStatus.UNSUBSCRIBED
    assert EmailSuppression.objects.filter(email__iexact=member.email).exists()


def test_service_desk_bounce_is_not_ours():
    raw = (Path(__file__).parents[1] / "service" / "mail" / "bounce.eml").read_bytes()
    assert bounces.dsn_handle(message_from_bytes(raw, policy=policy.default)) is None


def test_process_message_hands_the_dsn_to_marketing_once(member):
    raw = _dsn("hard_bounce.eml", member)

    inbound = service_mail.process_message(raw)
    service_mail.process_message(raw)  # read again: nothing more

    assert inbound.outcome == InboundOutcome.BOUNCE
    assert "marked bounced" in inbound.note
    assert InboundEmail.objects.count() == 1
    assert not Ticket.objects.exists()
    member.refresh_from_db()
    assert member.status == MemberStatus.BOUNCED


def test_dsn_read_from_the_real_mailbox(member, imap_server, settings):
    settings.SERVICE_IMAP_URL = imap_server.url
    imap_server.append(_dsn("hard_bounce.eml", member))

    assert service_mail.mailbox_fetch() == 1

    member.refresh_from_db()
    assert member.status == MemberStatus.BOUNCED
    assert EmailSuppression.objects.filter(email__iexact=member.email, reason=SuppressionReason.BOUNCED).exists()
