"""Campaigns: the rules of the form, cost lines, members from target groups, the call list, the list and page
(query bounds, row access), preview and test send."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from contacts.models import Activity, ActivityKind, ActivityStatus
from contacts.services_activities import activity_complete
from crm.models import Notification, Role
from marketing.models import (
    Campaign,
    CampaignChannel,
    CampaignMember,
    MemberStatus,
    SegmentKind,
    SegmentMember,
    SegmentTarget,
)
from marketing.services_campaigns import (
    campaign_call_list_create,
    campaign_call_results_sync,
    campaign_cost_add,
    campaign_create,
    campaign_test_send,
)
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, ContactPointFactory, PersonFactory
from tests.crm.factories import TeamFactory
from tests.marketing.factories import CampaignFactory, CampaignMemberFactory, SegmentFactory


@pytest.fixture
def marketer(team):
    return make_user(Role.MARKETING, team=team)


def _static_segment(owner, people):
    segment = SegmentFactory(owner=owner, kind=SegmentKind.STATIC, target=SegmentTarget.PERSON)
    SegmentMember.objects.bulk_create(SegmentMember(segment=segment, person=p) for p in people)
    return segment


def _team_member(campaign, user):
    """A member whose company is shared with `user`'s team (a caller logs the call in its history)."""
    company = CompanyFactory(owner=user, team=user.team, is_shared=True)
    return CampaignMemberFactory(campaign=campaign, person=PersonFactory(company=company, owner=user))


def _person(region="", email=None):
    person = PersonFactory(company=CompanyFactory(region=region))
    if email:
        ContactPointFactory(person=person, kind="email", value=email.upper(), is_primary=True)
    return person


# --- rules ----------------------------------------------------------------------------------------------


def test_campaign_create_refuses_an_end_before_the_start(marketer):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as error:
        campaign_create(actor=marketer, name="Весна", starts_on=today, ends_on=today - timedelta(days=1))
    assert "ends_on" in error.value.message_dict
    assert not Campaign.objects.exists()


def test_campaign_create_refuses_a_negative_budget(marketer):
    with pytest.raises(ValidationError) as error:
        campaign_create(actor=marketer, name="Весна", budget=Decimal("-1"))
    assert "budget" in error.value.message_dict


def test_campaign_create_names_an_unknown_placeholder(marketer):
    with pytest.raises(ValidationError) as error:
        campaign_create(actor=marketer, name="Весна", email_subject="Hi", email_body="Знижка {{ discount }}")
    assert "{{ discount }}" in error.value.message_dict["email_body"][0]
    assert not Campaign.objects.exists()


def test_campaign_form_shows_the_unknown_placeholder_next_to_the_field(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse("marketing:campaign-create"),
        {"name": "Весна", "channel": "email", "status": "draft", "budget": "100", "send_rate": "600",
         "email_subject": "Для {{ compnay }}", "email_body": "ok"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "{{ compnay }}" in response.content.decode()
    assert not Campaign.objects.exists()


def test_campaign_form_creates_a_campaign(client, marketer):
    client.force_login(marketer)
    segment = SegmentFactory(owner=marketer)
    response = client.post(
        reverse("marketing:campaign-create"),
        {"name": "Весна", "channel": "email", "status": "draft", "budget": "1000.50", "send_rate": "600",
         "segments": [segment.pk], "regions": ["kyiv_city"], "email_subject": "Для {{ company }}",
         "email_body": "Добрий день, {{ first_name }}!"},
    )  # fmt: skip
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("marketing:campaign-detail", args=[campaign.pk])
    assert campaign.owner == marketer
    assert campaign.budget == Decimal("1000.50")
    assert list(campaign.segments.all()) == [segment]
    assert campaign.regions == ["kyiv_city"]


def test_campaign_update_readonly_is_forbidden(client, readonly):
    campaign = CampaignFactory()
    client.force_login(readonly)
    assert client.post(reverse("marketing:campaign-update", args=[campaign.pk]), {}).status_code == 403


# --- costs ----------------------------------------------------------------------------------------------


def test_cost_lines_sum_into_the_actual_cost(marketer):
    campaign = CampaignFactory(owner=marketer, budget=Decimal("1000"))
    today = timezone.localdate()
    campaign_cost_add(campaign=campaign, actor=marketer, spent_on=today, amount=Decimal("120.50"), note="Банер")
    campaign_cost_add(campaign=campaign, actor=marketer, spent_on=today, amount=Decimal("79.50"), note="Розсилка")
    campaign.refresh_from_db()
    assert campaign.actual_cost == Decimal("200.00")
    with pytest.raises(ValidationError):
        campaign_cost_add(campaign=campaign, actor=marketer, spent_on=today, amount=Decimal("-5"), note="x")
    campaign.refresh_from_db()
    assert campaign.actual_cost == Decimal("200.00")
    assert campaign.costs.count() == 2


def test_cost_form_htmx_returns_the_costs_fragment(client, marketer):
    campaign = CampaignFactory(owner=marketer)
    client.force_login(marketer)
    url = reverse("marketing:campaign-cost-add", args=[campaign.pk])
    data = {"spent_on": timezone.localdate().isoformat(), "amount": "50", "note": "Друк"}
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="costs"' in response.content.decode()
    assert "Друк" in response.content.decode()
    bad = client.post(url, {**data, "amount": "-1"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422
    campaign.refresh_from_db()
    assert campaign.actual_cost == Decimal("50.00")


# --- members --------------------------------------------------------------------------------------------


@pytest.fixture
def members_add():
    pytest.importorskip("marketing.selectors_segments")
    from marketing.services_campaigns import campaign_members_add

    return campaign_members_add


def test_members_add_from_a_static_segment_is_idempotent(marketer, members_add):
    people = [_person(email=f"p{i}@Example.com") for i in range(3)] + [_person()]
    segment = _static_segment(marketer, people)
    campaign = CampaignFactory(owner=marketer)
    campaign.segments.add(segment)
    assert members_add(campaign=campaign, actor=marketer) == 4
    assert members_add(campaign=campaign, actor=marketer) == 0
    member = CampaignMember.objects.get(campaign=campaign, person=people[0])
    assert member.email == "p0@example.com"
    assert member.company_id == people[0].company_id
    assert member.segment == segment
    assert member.status == MemberStatus.PLANNED
    assert CampaignMember.objects.get(campaign=campaign, person=people[3]).email == ""


def test_members_add_filters_by_the_campaign_regions(marketer, members_add):
    kyiv, lviv = _person(region="kyiv_city"), _person(region="lviv")
    campaign = CampaignFactory(owner=marketer, regions=["kyiv_city"])
    campaign.segments.add(_static_segment(marketer, [kyiv, lviv]))
    assert members_add(campaign=campaign, actor=marketer) == 1
    member = CampaignMember.objects.get(campaign=campaign)
    assert member.person == kyiv
    assert member.region == "kyiv_city"


def test_members_add_from_a_dynamic_segment(marketer, members_add):
    odesa = [_person(region="odesa", email="a@odesa.example"), _person(region="odesa")]
    _person(region="lviv")
    segment = SegmentFactory(owner=marketer, kind=SegmentKind.DYNAMIC, target=SegmentTarget.PERSON,
                             query="region=odesa")  # fmt: skip
    campaign = CampaignFactory(owner=marketer)
    campaign.segments.add(segment)
    assert members_add(campaign=campaign, actor=marketer) == 2
    assert set(CampaignMember.objects.values_list("person", flat=True)) == {p.pk for p in odesa}
    assert members_add(campaign=campaign, actor=marketer) == 0


def test_members_add_of_two_segments_credits_the_first(marketer, members_add):
    shared, only_second = _person(), _person()
    first, second = _static_segment(marketer, [shared]), _static_segment(marketer, [shared, only_second])
    campaign = CampaignFactory(owner=marketer)
    campaign.segments.add(first, second)
    assert members_add(campaign=campaign, actor=marketer) == 2
    assert CampaignMember.objects.get(person=shared).segment == first
    assert CampaignMember.objects.get(person=only_second).segment == second


def test_members_add_from_a_segment_matching_nobody_adds_zero(marketer, members_add):
    campaign = CampaignFactory(owner=marketer)
    campaign.segments.add(_static_segment(marketer, []))
    assert members_add(campaign=campaign, actor=marketer, notify=True) == 0
    assert "Nobody was added" in Notification.objects.get(recipient=marketer).title


def test_members_add_button_runs_the_task(client, marketer, members_add, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(owner=marketer)
    campaign.segments.add(_static_segment(marketer, [_person(), _person()]))
    client.force_login(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("marketing:campaign-members-add", args=[campaign.pk]))
    assert response.status_code == 302
    assert CampaignMember.objects.filter(campaign=campaign).count() == 2
    assert Notification.objects.filter(recipient=marketer, title__contains="2").exists()


def test_members_add_button_without_segments_says_so(client, marketer):
    campaign = CampaignFactory(owner=marketer)
    client.force_login(marketer)
    response = client.post(reverse("marketing:campaign-members-add", args=[campaign.pk]), follow=True)
    assert "target groups first" in response.content.decode()


# --- the call list --------------------------------------------------------------------------------------


def test_call_list_round_robin_and_result_sync(marketer, team):
    callers = [make_user(Role.SALES_REP, team=team) for _ in range(2)]
    campaign = CampaignFactory(owner=marketer, channel=CampaignChannel.CALLS, name="Обдзвін")
    members = [_team_member(campaign, callers[0]) for _ in range(5)]
    assert campaign_call_list_create(campaign=campaign, actor=marketer, assignees=callers) == 5
    assert campaign_call_list_create(campaign=campaign, actor=marketer, assignees=callers) == 0
    activities = Activity.objects.filter(kind=ActivityKind.CALL).order_by("id")
    assert [a.assignee for a in activities] == [callers[0], callers[1], callers[0], callers[1], callers[0]]
    first = CampaignMember.objects.get(pk=members[0].pk)
    assert first.activity.person_id == members[0].person_id
    assert first.activity.company_id == members[0].company_id
    assert "Обдзвін" in first.activity.subject
    assert first.activity.object_id == campaign.pk
    assert Notification.objects.filter(recipient=callers[0]).exists()

    activity_complete(activity=first.activity, actor=callers[0], result="Цікавиться, надіслати КП")
    assert campaign_call_results_sync(campaign=campaign) == 1
    assert campaign_call_results_sync(campaign=campaign) == 0
    first.refresh_from_db()
    assert first.status == MemberStatus.RESPONDED
    assert first.responded_at is not None
    assert CampaignMember.objects.filter(campaign=campaign, status=MemberStatus.PLANNED).count() == 4


def test_call_list_only_for_a_phone_campaign(marketer):
    campaign = CampaignFactory(owner=marketer, channel=CampaignChannel.EMAIL)
    with pytest.raises(ValidationError):
        campaign_call_list_create(campaign=campaign, actor=marketer, assignees=[marketer])


def test_call_list_shows_results_on_the_campaign_page(client, marketer, team):
    caller = make_user(Role.SALES_REP, team=team)
    campaign = CampaignFactory(owner=marketer, channel=CampaignChannel.CALLS)
    member = _team_member(campaign, caller)
    client.force_login(marketer)
    response = client.post(reverse("marketing:campaign-call-list", args=[campaign.pk]), {"assignees": [caller.pk]})
    assert response.status_code == 302
    member.refresh_from_db()
    activity_complete(activity=member.activity, actor=caller, result="Домовились про зустріч")
    page = client.get(reverse("marketing:campaign-detail", args=[campaign.pk])).content.decode()
    assert "Домовились про зустріч" in page
    member.refresh_from_db()
    assert member.status == MemberStatus.RESPONDED
    assert Activity.objects.get().status == ActivityStatus.DONE


# --- list, page, access ---------------------------------------------------------------------------------


def test_campaign_list_query_count_and_search(client, marketer, django_assert_max_num_queries):
    for name in ("Весняний розпродаж", "Літо", "Осінь", "Зима"):
        CampaignFactory(owner=marketer, name=name)
    client.force_login(marketer)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("marketing:campaign-list"))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="campaign-row"') == 4
    found = client.get(reverse("marketing:campaign-list"), {"q": "розпрод"}).content.decode()
    assert found.count('data-testid="campaign-row"') == 1
    partial = client.get(reverse("marketing:campaign-list"), {"status": "draft"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()


def test_campaign_list_keyset_pages(client, marketer):
    today = timezone.localdate()
    for offset in range(27):
        CampaignFactory(owner=marketer, starts_on=today - timedelta(days=offset % 3))
    CampaignFactory(owner=marketer, starts_on=None)
    client.force_login(marketer)
    first = client.get(reverse("marketing:campaign-list"))
    page = first.context["page"]
    second = client.get(reverse("marketing:campaign-list"), {"cursor": page.next_cursor}).context["page"]
    pks = [r.pk for r in page.rows] + [r.pk for r in second.rows]
    assert len(pks) == 28 == len(set(pks))
    assert not second.next_cursor


def test_campaign_detail_query_count(client, marketer, django_assert_max_num_queries):
    campaign = CampaignFactory(owner=marketer)
    for _ in range(3):
        CampaignMemberFactory(campaign=campaign)
    campaign_cost_add(campaign=campaign, actor=marketer, spent_on=timezone.localdate(), amount=Decimal(10), note="a")
    client.force_login(marketer)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("marketing:campaign-detail", args=[campaign.pk]))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="member-row"') == 3
    partial = client.get(
        reverse("marketing:campaign-detail", args=[campaign.pk]), {"status": "planned"}, HTTP_HX_REQUEST="true"
    )
    assert 'id="member-list"' in partial.content.decode()
    assert "<html" not in partial.content.decode()


def test_campaign_of_another_team_is_404_for_a_sales_manager(client, manager):
    stranger = make_user(Role.SALES_REP, team=TeamFactory())
    foreign = CampaignFactory(owner=stranger, team=stranger.team)
    own = CampaignFactory(owner=manager, team=manager.team)
    client.force_login(manager)
    assert client.get(reverse("marketing:campaign-detail", args=[foreign.pk])).status_code == 404
    assert client.get(reverse("marketing:campaign-preview", args=[foreign.pk])).status_code == 404
    assert client.get(reverse("marketing:campaign-detail", args=[own.pk])).status_code == 200
    listed = client.get(reverse("marketing:campaign-list")).context["page"].rows
    assert [r.pk for r in listed] == [own.pk]


def test_campaign_history_is_shown(client, marketer):
    campaign = campaign_create(actor=marketer, name="Перша назва")
    from marketing.services_campaigns import campaign_update

    campaign_update(campaign=campaign, actor=marketer, name="Друга назва")
    client.force_login(marketer)
    page = client.get(reverse("marketing:campaign-history", args=[campaign.pk])).content.decode()
    assert "Перша назва" in page
    assert "Друга назва" in page


# --- preview and test send ------------------------------------------------------------------------------


@pytest.fixture
def email_campaign(marketer):
    campaign = CampaignFactory(
        owner=marketer, email_subject="Пропозиція для {{ company }}", email_body="Добрий день, {{ first_name }} & co!"
    )
    person = PersonFactory(first_name="Оксана", company=CompanyFactory(name="ТОВ Зоря"))
    member = CampaignMemberFactory(campaign=campaign, person=person)
    return campaign, member


def test_preview_is_personalised_for_the_chosen_member(client, marketer, email_campaign):
    campaign, _member = email_campaign
    other = CampaignMemberFactory(campaign=campaign, person=PersonFactory(first_name="Іван"))
    client.force_login(marketer)
    url = reverse("marketing:campaign-preview", args=[campaign.pk])
    first = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Пропозиція для ТОВ Зоря" in first
    assert "Оксана &amp; co!" in first
    assert "<html" not in first
    chosen = client.get(url, {"member": other.pk}).content.decode()
    assert "Іван" in chosen


def test_test_send_delivers_text_and_html(client, marketer, email_campaign):
    campaign, member = email_campaign
    client.force_login(marketer)
    response = client.post(
        reverse("marketing:campaign-test-send", args=[campaign.pk]), {"email": "me@example.com", "member": member.pk}
    )
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["me@example.com"]
    assert "Пропозиція для ТОВ Зоря" in message.subject
    assert "Добрий день, Оксана & co!" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Оксана &amp; co!" in html
    member.refresh_from_db()
    assert member.status == MemberStatus.PLANNED  # a test touches no member


def test_test_send_refuses_an_unknown_placeholder(marketer):
    campaign = CampaignFactory(owner=marketer, email_body="{{ discount }}")
    with pytest.raises(ValidationError, match="discount"):
        campaign_test_send(campaign=campaign, actor=marketer, to="me@example.com")
    assert not mail.outbox


def test_test_send_bad_address_is_a_field_error(client, marketer, email_campaign):
    campaign, _member = email_campaign
    client.force_login(marketer)
    response = client.post(reverse("marketing:campaign-test-send", args=[campaign.pk]), {"email": "not-an-address"})
    assert response.status_code == 422
    assert not mail.outbox
