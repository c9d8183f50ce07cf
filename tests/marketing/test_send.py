"""The e-mail send of a campaign: launched once, consent and suppression checked per member at send time,
the message's headers as the real SMTP sink receives them, and exactly once despite a SIGKILLed worker."""

import asyncio
import signal
import time
from collections import Counter
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import Consent
from crm.celery import app as celery_app
from crm.models import Role
from marketing import services_send
from marketing.models import (
    CampaignMember,
    EmailSuppression,
    MemberStatus,
    SendStatus,
    SuppressionReason,
)
from marketing.services_consent import consent_record
from tests import mailservers, workers
from tests.conftest import make_user
from tests.contacts.factories import PersonFactory
from tests.mailservers import HOST, SentMail, free_port
from tests.marketing.factories import CampaignFactory, CampaignMemberFactory

start_worker = workers.start_worker  # the real-worker fixture
smtp_sink = mailservers.smtp_sink  # the real SMTP sink
SEND_TASK = "marketing.tasks_send.campaign_send_task"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):  # messages and members' errors are read in the active language
        yield


@pytest.fixture
def marketer(db):
    return make_user(Role.MARKETING)


def _consenting_member(campaign, **fields):
    member = CampaignMemberFactory(campaign=campaign, **fields)
    consent_record(channel="email", is_granted=True, source="web form", person=member.person)
    return member


def _campaign(marketer, members=3, **fields):
    campaign = CampaignFactory(owner=marketer, send_rate=60000, **fields)
    return campaign, [_consenting_member(campaign) for _ in range(members)]


def _launch(campaign, actor, capture):
    with capture(execute=True):
        return services_send.campaign_launch(campaign=campaign, actor=actor)


# --- launch ------------------------------------------------------------------------------------------------


def test_launch_twice_sends_once(marketer, smtp_sink, django_capture_on_commit_callbacks):
    campaign, members = _campaign(marketer)

    assert _launch(campaign, marketer, django_capture_on_commit_callbacks) is True
    assert _launch(campaign, marketer, django_capture_on_commit_callbacks) is False

    assert sorted(m.rcpt_tos[0] for m in smtp_sink) == sorted(m.email for m in members)
    campaign.refresh_from_db()
    assert (campaign.send_status, campaign.send_total, campaign.send_done) == (SendStatus.DONE, 3, 3)
    assert set(CampaignMember.objects.values_list("status", flat=True)) == {MemberStatus.SENT}
    assert campaign.launched_at is not None


def test_launch_of_a_stale_copy_does_nothing(marketer, django_capture_on_commit_callbacks):
    """Two tabs: the second holds the campaign as it was before the first launch."""
    campaign, _members = _campaign(marketer)
    stale = type(campaign).objects.get(pk=campaign.pk)
    with mock.patch("marketing.tasks_send.campaign_send_task.delay") as delay:
        assert _launch(campaign, marketer, django_capture_on_commit_callbacks) is True
        assert _launch(stale, marketer, django_capture_on_commit_callbacks) is False
    assert delay.call_count == 1


def test_launch_refuses_a_campaign_without_subject_text_or_members(marketer):
    campaign = CampaignFactory(owner=marketer, email_subject="", email_body=" ")
    with pytest.raises(ValidationError) as error:
        services_send.campaign_launch(campaign=campaign, actor=marketer)
    assert set(error.value.message_dict) == {"email_subject", "email_body"}

    empty = CampaignFactory(owner=marketer)
    with pytest.raises(ValidationError, match="no members"):
        services_send.campaign_launch(campaign=empty, actor=marketer)
    empty.refresh_from_db()
    assert empty.send_status == SendStatus.NOT_STARTED


def test_launch_needs_the_permission(marketer, readonly):
    campaign, _members = _campaign(marketer, members=1)
    with pytest.raises(PermissionDenied):
        services_send.campaign_launch(campaign=campaign, actor=readonly)


def test_launch_view(client, marketer, readonly, django_capture_on_commit_callbacks):
    campaign, _members = _campaign(marketer, members=1)
    url = reverse("marketing:campaign-launch", args=[campaign.pk])
    client.force_login(readonly)
    assert client.post(url).status_code == 403
    other = make_user(Role.SALES_MANAGER)  # sees only the campaigns of their own (no change permission)
    client.force_login(other)
    assert client.post(url).status_code == 403
    client.force_login(marketer)
    with mock.patch("marketing.tasks_send.campaign_send_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url)
        assert response.status_code == 302
        assert response.url == reverse("marketing:campaign-detail", args=[campaign.pk])
        client.post(url)  # the double click
    assert delay.call_count == 1
    campaign.refresh_from_db()
    assert campaign.send_status == SendStatus.QUEUED


def test_launch_view_of_an_invisible_campaign_is_404(client, outsider):
    """A sales representative with the change permission of another team's campaign: 404, not launched."""
    campaign = CampaignFactory()
    CampaignMemberFactory(campaign=campaign)
    from django.contrib.auth.models import Permission

    outsider.user_permissions.add(Permission.objects.get(codename="change_campaign"))
    client.force_login(outsider)
    assert client.post(reverse("marketing:campaign-launch", args=[campaign.pk])).status_code == 404
    campaign.refresh_from_db()
    assert campaign.send_status == SendStatus.NOT_STARTED


def test_progress_partial(client, marketer, django_assert_max_num_queries):
    campaign, members = _campaign(marketer, members=4)
    CampaignMember.objects.filter(pk__in=[m.pk for m in members[:3]]).update(status=MemberStatus.SENT)
    type(campaign).objects.filter(pk=campaign.pk).update(send_status=SendStatus.SENDING, send_total=4, send_done=3)
    client.force_login(marketer)
    url = reverse("marketing:campaign-send-progress", args=[campaign.pk])
    with django_assert_max_num_queries(8):
        response = client.get(url, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-percent="75"' in html
    assert 'hx-trigger="every 2s"' in html  # polled while sending
    assert '<dd class="col-5 text-end mb-1" data-status="sent">3</dd>' in html
    assert client.get(url).status_code == 302  # the page itself is the campaign's


def test_progress_of_an_invisible_campaign_is_404(client, outsider):
    client.force_login(outsider)
    url = reverse("marketing:campaign-send-progress", args=[CampaignFactory().pk])
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404


# --- per member, at send time -------------------------------------------------------------------------------


def test_consent_withdrawn_after_planning_is_skipped(marketer, smtp_sink, django_capture_on_commit_callbacks):
    campaign, (kept, withdrawn, never) = _campaign(marketer)
    consent_record(channel="email", is_granted=False, source="phone call", person=withdrawn.person)
    Consent.objects.filter(person=never.person).delete()  # no consent row at all: not allowed

    _launch(campaign, marketer, django_capture_on_commit_callbacks)

    assert [m.rcpt_tos for m in smtp_sink] == [[kept.email]]
    withdrawn.refresh_from_db()
    never.refresh_from_db()
    assert (withdrawn.status, never.status) == (MemberStatus.SKIPPED, MemberStatus.SKIPPED)
    assert "consent" in withdrawn.error


def test_consent_not_required_when_switched_off(marketer, smtp_sink, settings, django_capture_on_commit_callbacks):
    settings.MARKETING_REQUIRE_CONSENT = False
    campaign = CampaignFactory(owner=marketer, send_rate=60000)
    member = CampaignMemberFactory(campaign=campaign)

    _launch(campaign, marketer, django_capture_on_commit_callbacks)

    assert [m.rcpt_tos for m in smtp_sink] == [[member.email]]


def test_suppressed_address_is_skipped(marketer, smtp_sink, django_capture_on_commit_callbacks):
    campaign, (kept, suppressed) = _campaign(marketer, members=2)
    EmailSuppression.objects.create(email=suppressed.email.upper(), reason=SuppressionReason.BOUNCED)

    _launch(campaign, marketer, django_capture_on_commit_callbacks)

    assert [m.rcpt_tos for m in smtp_sink] == [[kept.email]]
    suppressed.refresh_from_db()
    assert suppressed.status == MemberStatus.SKIPPED
    assert "suppressed" in suppressed.error


def test_invalid_address_is_skipped_not_retried(marketer, smtp_sink, django_capture_on_commit_callbacks):
    campaign, (bad,) = _campaign(marketer, members=1)
    CampaignMember.objects.filter(pk=bad.pk).update(email="не адреса@")

    _launch(campaign, marketer, django_capture_on_commit_callbacks)

    bad.refresh_from_db()
    assert bad.status == MemberStatus.SKIPPED
    assert smtp_sink == []


def test_message_as_the_sink_receives_it(marketer, smtp_sink, settings, django_capture_on_commit_callbacks):
    settings.MARKETING_FROM_EMAIL = "Маркетинг <news@example.com>"
    settings.SITE_URL = "https://crm.example.com"
    campaign = CampaignFactory(
        owner=marketer,
        email_subject="Пропозиція для {{ company }}",
        email_body="Добрий день, {{ first_name }}!\nДеталі: https://shop.example.com/offer?a=1&b=2",
    )
    member = _consenting_member(campaign)

    _launch(campaign, marketer, django_capture_on_commit_callbacks)

    (mail,) = smtp_sink
    message = mail.message
    assert mail.rcpt_tos == [member.email]
    assert mail.mail_from == "support@example.com"  # the envelope sender: DSNs come back to the read mailbox
    assert message["From"] == "Маркетинг <news@example.com>"
    assert message["Subject"].strip() == f"Пропозиція для {member.company}"  # (folded after "Subject:")
    assert message["Message-ID"] == f"<campaign-{campaign.pk}-member-{member.pk}@example.com>"
    unsubscribe = message["List-Unsubscribe"].strip()  # long: folded after the colon
    assert unsubscribe.startswith("<https://crm.example.com/marketing/u/")
    assert unsubscribe.endswith("/>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"Добрий день, {member.person.first_name}!" in text
    assert unsubscribe[1:-1] in text
    assert 'src="https://crm.example.com/marketing/t/o/' in html  # the open pixel
    assert "https://crm.example.com/marketing/t/c/" in html  # the link goes through the redirect
    assert 'href="https://shop.example.com' not in html
    assert f'href="{unsubscribe[1:-1]}"' in html  # the unsubscribe link itself is not tracked


def test_temporary_refusal_is_retried_then_bounced(marketer, settings, django_capture_on_commit_callbacks):
    refusing = _Sink(refuse={"rcpt": "451 4.7.1 Try again later"})
    with refusing.running(settings):
        campaign, (member,) = _campaign(marketer, members=1)
        _launch(campaign, marketer, django_capture_on_commit_callbacks)
    member.refresh_from_db()
    campaign.refresh_from_db()
    assert member.status == MemberStatus.BOUNCED  # deferred once, refused again by the next run
    assert "451" in member.error
    assert campaign.send_status == SendStatus.DONE
    assert refusing.messages == []


def test_permanent_refusal_after_data_marks_bounced(marketer, settings, django_capture_on_commit_callbacks):
    refusing = _Sink(refuse={"data": "550 5.7.1 Rejected as spam"})
    with refusing.running(settings):
        campaign, (member,) = _campaign(marketer, members=1)
        _launch(campaign, marketer, django_capture_on_commit_callbacks)
    member.refresh_from_db()
    assert member.status == MemberStatus.BOUNCED
    assert member.error.startswith("550")


def test_unsubscribed_member_is_skipped_by_a_later_send(
    marketer, client, smtp_sink, settings, django_capture_on_commit_callbacks
):
    first, (member,) = _campaign(marketer, members=1)
    _launch(first, marketer, django_capture_on_commit_callbacks)
    (mail,) = smtp_sink
    unsubscribe = mail.message["List-Unsubscribe"].strip()[1:-1]

    response = client.post(
        unsubscribe.removeprefix(settings.SITE_URL),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200

    second = CampaignFactory(owner=marketer, send_rate=60000)
    again = CampaignMemberFactory(campaign=second, person=member.person, email=member.email.upper())
    _launch(second, marketer, django_capture_on_commit_callbacks)
    again.refresh_from_db()
    assert again.status == MemberStatus.SKIPPED
    assert len(smtp_sink) == 1


# --- a configurable SMTP server: refusals, delays -----------------------------------------------------------


class _Sink:
    """An aiosmtpd server that keeps what it accepts, refuses what it is told to, and can be slow: the delay
    of RCPT falls inside the sender's claim transaction, that of DATA after the commit. A message is kept as
    soon as its final dot arrives, as a real server commits it before answering."""

    def __init__(self, *, delay: float = 0.0, refuse: dict | None = None) -> None:
        self.delay, self.refuse = delay, refuse or {}
        self.messages: list[SentMail] = []
        self.peers: Counter = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.delay:
            await asyncio.sleep(self.delay)
        if "rcpt" in self.refuse:
            return self.refuse["rcpt"]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if "data" in self.refuse:
            return self.refuse["data"]
        self.messages.append(SentMail(bytes(envelope.content), envelope.mail_from, list(envelope.rcpt_tos)))
        self.peers[session.peer] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted"

    def running(self, settings):
        sink = self

        class _Running:
            def __enter__(self):
                self.controller = Controller(sink, hostname=HOST, port=free_port())
                self.controller.start()
                settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
                settings.EMAIL_HOST, settings.EMAIL_PORT = HOST, self.controller.port
                settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
                settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
                sink.port = self.controller.port
                return sink

            def __exit__(self, *exc):
                self.controller.stop()

        return _Running()


# --- exactly once with real workers ---------------------------------------------------------------------------


def _wait(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # send_task always uses the broker
def test_send_survives_killed_worker(start_worker, settings, monkeypatch):
    sink = _Sink(delay=0.01)
    with sink.running(settings):
        monkeypatch.setenv("EMAIL_URL", f"smtp://{HOST}:{sink.port}")
        marketer = make_user(Role.MARKETING)
        campaign = CampaignFactory(owner=marketer, send_rate=60000)
        people = PersonFactory.create_batch(300)
        now = timezone.now()
        Consent.objects.bulk_create(
            Consent(person=p, channel="email", is_granted=True, given_at=now, source="web form") for p in people
        )
        CampaignMember.objects.bulk_create(
            CampaignMember(campaign=campaign, person=p, company=p.company, email=f"member{i}@example.net")
            for i, p in enumerate(people)
        )
        with mock.patch("marketing.tasks_send.campaign_send_task.delay"):
            assert services_send.campaign_launch(campaign=campaign, actor=marketer)

        victim = start_worker("send-a")
        start_worker.wait_ready(1, timeout=120)
        celery_app.send_task(SEND_TASK, args=[campaign.pk])
        _wait(lambda: len(sink.messages) >= 30, timeout=60, what="worker A sent nothing")
        victim.send_signal(signal.SIGKILL)  # mid-batch: its open claim rolls back, its SMTP DATA is cut off
        victim.wait(timeout=10)
        at_kill = len(sink.messages)
        assert at_kill < 300

        start_worker("send-b")
        start_worker("send-c")
        start_worker.wait_ready(2, timeout=120)
        celery_app.send_task(SEND_TASK, args=[campaign.pk])  # the redelivered task…
        celery_app.send_task(SEND_TASK, args=[campaign.pk])  # …and the beat's resume, at the same time

        def done():
            campaign.refresh_from_db()
            return campaign.send_status == SendStatus.DONE

        _wait(done, timeout=120, what="the send did not finish")
        # The last member is marked sent just before its final dot goes out, and the other worker may finish
        # the send in between: give that message its milliseconds, then a moment for any duplicate.
        deadline = time.monotonic() + 10
        while len(sink.messages) < 300 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)

    per_address = Counter(message.rcpt_tos[0] for message in sink.messages)
    assert per_address == {f"member{i}@example.net": 1 for i in range(300)}
    assert set(CampaignMember.objects.filter(campaign=campaign).values_list("status", flat=True)) == {MemberStatus.SENT}
    assert campaign.send_done == 300
    assert len(sink.peers) >= 3  # worker A's connection, then B's and C's side by side
