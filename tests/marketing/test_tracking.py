"""The public links of campaign e-mails: open pixel, click redirect (signed, no open redirect), unsubscribe
(the page and the RFC 8058 one-click POST). No login; garbage tokens are 404, never a 500."""

import pytest
from django.urls import reverse

from contacts.models import Consent
from marketing import tracking
from marketing.models import CampaignMember, ConsentEvent, EmailSuppression, MemberStatus, SuppressionReason
from marketing.services_consent import consent_allows, consent_record
from tests.marketing.factories import CampaignMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    member = CampaignMemberFactory(status=MemberStatus.SENT)
    consent_record(channel="email", is_granted=True, source="web form", person=member.person)
    return member


def _path(url: str) -> str:
    return url.removeprefix(tracking.settings.SITE_URL)


def test_open_pixel_sets_opened_at_once(client, member):
    url = _path(tracking.open_url(member.pk))

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    member.refresh_from_db()
    first = member.opened_at
    assert first is not None
    assert member.status == MemberStatus.OPENED
    client.get(url)
    member.refresh_from_db()
    assert member.opened_at == first


def test_open_never_moves_a_member_back(client, member):
    CampaignMember.objects.filter(pk=member.pk).update(status=MemberStatus.CLICKED)
    client.get(_path(tracking.open_url(member.pk)))
    member.refresh_from_db()
    assert member.status == MemberStatus.CLICKED
    assert member.opened_at is not None


@pytest.mark.parametrize("final", [MemberStatus.UNSUBSCRIBED, MemberStatus.BOUNCED])
def test_final_statuses_stay(client, member, final):
    CampaignMember.objects.filter(pk=member.pk).update(status=final)
    client.get(_path(tracking.open_url(member.pk)))
    client.get(_path(tracking.click_url(member.pk, "https://shop.example.com/")))
    member.refresh_from_db()
    assert member.status == final


def test_click_redirects_to_the_signed_url_and_sets_clicked_at(client, member):
    target = "https://shop.example.com/offer?a=1&b=2"

    response = client.get(_path(tracking.click_url(member.pk, target)))

    assert response.status_code == 302
    assert response.url == target
    member.refresh_from_db()
    assert member.clicked_at is not None
    assert member.opened_at is not None
    assert member.status == MemberStatus.CLICKED


def test_tampered_click_token_is_404_and_no_redirect(client, member):
    token = tracking.click_token(member.pk, "https://shop.example.com/")
    forged = tracking.click_token(member.pk, "https://evil.example.com/")
    # The signature of one URL with the payload of another.
    mixed = forged.rsplit(":", 1)[0] + ":" + token.rsplit(":", 1)[1]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")

    for bad in (mixed, flipped, tracking.open_token(member.pk), "garbage"):
        response = client.get(reverse("marketing:track-click", args=[bad]))
        assert response.status_code == 404
        assert "Location" not in response
    member.refresh_from_db()
    assert member.clicked_at is None


def test_click_token_of_a_non_http_url_is_refused(client, member):
    token = tracking.click_token(member.pk, "javascript:alert(1)")
    assert client.get(reverse("marketing:track-click", args=[token])).status_code == 404


@pytest.mark.parametrize("token", ["x", "a" * 5000, "..:..", "%00", "Ii4i:abc", "1:2:3"])
def test_garbage_tokens_are_404(client, token):
    assert client.get(reverse("marketing:track-open", args=[token])).status_code == 404
    assert client.get(reverse("marketing:track-click", args=[token])).status_code == 404
    assert client.get(reverse("marketing:unsubscribe", args=[token])).status_code == 404
    assert client.post(reverse("marketing:unsubscribe", args=[token])).status_code == 404


def test_token_of_a_deleted_member_is_404_for_unsubscribe(client, member):
    pk = member.pk
    url = _path(tracking.unsubscribe_url(pk))
    member.delete()
    assert client.get(url).status_code == 404
    assert client.get(_path(tracking.open_url(pk))).status_code == 200  # a pixel stays a pixel


def test_unsubscribe_page_then_one_click_post(client, member):
    url = _path(tracking.unsubscribe_url(member.pk))

    page = client.get(url)
    assert page.status_code == 200
    assert member.email in page.content.decode()
    assert 'data-testid="unsubscribe-button"' in page.content.decode()
    member.refresh_from_db()
    assert member.status == MemberStatus.SENT  # a GET (link scanners) changes nothing

    response = client.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert 'data-testid="unsubscribe-done"' in response.content.decode()
    member.refresh_from_db()
    assert member.status == MemberStatus.UNSUBSCRIBED
    assert member.unsubscribed_at is not None
    suppression = EmailSuppression.objects.get(email__iexact=member.email)
    assert suppression.reason == SuppressionReason.UNSUBSCRIBED
    event = ConsentEvent.objects.filter(person=member.person, is_granted=False).get()
    assert event.source == "unsubscribe link"
    assert event.channel == "email"
    assert Consent.objects.get(person=member.person, channel="email").is_granted is False
    assert not consent_allows(person_id=member.person_id, email=member.email, channel="email")


def test_rfc8058_one_click_post_without_session_or_csrf(member):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        _path(tracking.unsubscribe_url(member.pk)),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.status == MemberStatus.UNSUBSCRIBED


def test_second_unsubscribe_adds_nothing(client, member):
    url = _path(tracking.unsubscribe_url(member.pk))
    client.post(url)
    client.post(url)
    assert ConsentEvent.objects.filter(person=member.person, is_granted=False).count() == 1
    assert EmailSuppression.objects.count() == 1
    page = client.get(url)
    assert 'data-testid="unsubscribe-done"' in page.content.decode()


def test_unsubscribe_of_an_address_suppressed_already(client, member):
    EmailSuppression.objects.create(email=member.email.upper(), reason=SuppressionReason.BOUNCED)
    response = client.post(_path(tracking.unsubscribe_url(member.pk)))
    assert response.status_code == 200
    assert EmailSuppression.objects.get().reason == SuppressionReason.BOUNCED


def test_tokens_of_one_kind_are_not_another(member):
    assert tracking.read_open_token(tracking.unsubscribe_token(member.pk)) is None
    assert tracking.read_unsubscribe_token(tracking.open_token(member.pk)) is None
    assert tracking.read_click_token(tracking.open_token(member.pk)) is None
    assert tracking.read_open_token(tracking.open_token(member.pk)) == member.pk


def test_rewrite_links_keeps_mailto_and_the_unsubscribe_link(member):
    unsubscribe = tracking.unsubscribe_url(member.pk)
    html = (
        '<a href="https://shop.example.com/?a=1&amp;b=2" rel="nofollow">shop</a> '
        '<a href="mailto:sales@example.com">mail</a> '
        f'<a href="{unsubscribe}">unsubscribe</a>'
    )
    rewritten = tracking.rewrite_links(html, member_id=member.pk)
    assert "https://shop.example.com" not in rewritten
    assert 'href="mailto:sales@example.com"' in rewritten
    assert f'href="{unsubscribe}"' in rewritten
    token = rewritten.split("/marketing/t/c/")[1].split("/")[0]
    assert tracking.read_click_token(token) == (member.pk, "https://shop.example.com/?a=1&b=2")
