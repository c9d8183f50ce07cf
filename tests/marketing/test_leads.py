"""Leads: registration (normalise, warn, dedupe, assign), qualify / convert / disqualify, the list and the card."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from contacts.models import Company, CompanyRole, ContactPoint, Person
from contacts.validators import edrpou_is_valid
from crm.models import Notification, Role
from deals.models import Deal
from marketing import services_leads
from marketing.models import AssignmentRule, ConsentEvent, DisqualifyReason, Lead, LeadChannel, LeadStatus
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, ContactPointFactory, PersonFactory
from tests.crm.factories import TeamFactory
from tests.deals.factories_catalogue import CategoryFactory, ProductFactory
from tests.marketing.factories import CampaignFactory, LeadFactory, WebFormFactory

pytestmark = pytest.mark.django_db
LIST = reverse("marketing:lead-list")


def valid_edrpou(prefix: str = "1436512") -> str:
    return next(code for code in (f"{prefix}{d}" for d in range(10)) if edrpou_is_valid(code))


@pytest.fixture
def marketer(db):
    return make_user(Role.MARKETING)


def _create(actor=None, **data):
    return services_leads.lead_create(data=data, actor=actor)


# --- lead_create ---------------------------------------------------------------------------------


def test_create_normalises_phone_and_email(marketer):
    lead = _create(marketer, first_name="Олена", phone="067 123 45 67", email=" Olena@Example.COM ")
    assert lead.phone == "+380671234567"
    assert lead.phone_digits == "380671234567"
    assert lead.email == "olena@example.com"
    assert lead.warnings == []


def test_create_keeps_invalid_phone_and_email_with_warnings(marketer):
    lead = _create(marketer, last_name="Бот", phone="12-34", email="not-an-email", edrpou="12345679")
    lead.refresh_from_db()
    assert (lead.phone, lead.email, lead.edrpou) == ("12-34", "not-an-email", "12345679")
    assert lead.phone_digits == ""
    assert set(lead.warnings) == {
        services_leads.WARNING_PHONE,
        services_leads.WARNING_EMAIL,
        services_leads.WARNING_EDRPOU,
    }


def test_create_with_nothing_to_contact_is_refused(marketer):
    with pytest.raises(ValidationError):
        _create(marketer, message="hello")
    assert not Lead.objects.exists()


def test_dedupe_by_edrpou(marketer):
    code = valid_edrpou()
    company = CompanyFactory(edrpou=code)
    lead = _create(marketer, company_name="Інша назва", edrpou=code)
    assert lead.matched_company == company
    assert lead.warnings == []


def test_dedupe_by_email(marketer):
    person = PersonFactory()
    ContactPointFactory(person=person, kind="email", value="Known@Example.com")
    lead = _create(marketer, email="known@example.com")
    assert lead.matched_person == person
    assert lead.matched_company == person.company


def test_dedupe_by_phone_digits(marketer):
    person = PersonFactory()
    ContactPointFactory(person=person, kind="mobile", value="+380 50 765 43 21")
    lead = _create(marketer, phone="(050) 765-43-21")
    assert lead.matched_person == person


def test_no_match_for_strangers(marketer):
    ContactPointFactory(person=PersonFactory(), kind="mobile", value="+380507654321")
    lead = _create(marketer, phone="+380507654322", email="new@example.com")
    assert lead.matched_person is None
    assert lead.matched_company is None


def test_round_robin_over_three_users(marketer):
    team = TeamFactory()
    users = [make_user(Role.SALES_REP, team=team) for _ in range(3)]
    make_user(Role.SALES_REP, team=team, is_active=False)
    AssignmentRule.objects.create(name="Усі", team=team)
    owners = [_create(marketer, last_name=f"L{i}").owner for i in range(4)]
    assert owners == [*users, users[0]]
    assert Notification.objects.filter(recipient=users[0], kind="lead").count() == 2


def test_rule_by_region_vs_product_category(marketer):
    kyiv_team, tools_team = TeamFactory(), TeamFactory()
    kyiv_rep, tools_rep = make_user(Role.SALES_REP, team=kyiv_team), make_user(Role.SALES_REP, team=tools_team)
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    product = ProductFactory(category=child)
    AssignmentRule.objects.create(name="Інструмент", position=1, category=parent, team=tools_team)
    AssignmentRule.objects.create(name="Київ", position=2, region="kyiv_city", team=kyiv_team)
    by_product = _create(marketer, last_name="A", region="kyiv_city", product=product)
    by_region = _create(marketer, last_name="B", region="kyiv_city")
    nothing = _create(marketer, last_name="C", region="lviv")
    assert (by_product.team, by_product.owner) == (tools_team, tools_rep)
    assert (by_region.team, by_region.owner) == (kyiv_team, kyiv_rep)
    assert nothing.owner == marketer  # no rule: the staff member who typed it in


def test_web_form_team_when_no_rule_matches():
    team = TeamFactory()
    first, second = make_user(Role.SALES_REP, team=team), make_user(Role.SALES_REP, team=team)
    form = WebFormFactory(team=team)
    leads = [services_leads.lead_create(data={"email": f"a{i}@example.com"}, actor=None, web_form=form)
             for i in range(3)]  # fmt: skip
    assert [lead.owner for lead in leads] == [first, second, first]
    assert all(lead.team == team and lead.channel == LeadChannel.WEB_FORM for lead in leads)


def test_consent_recorded_with_form_text_and_version():
    form = WebFormFactory(consent_version=3)
    lead = services_leads.lead_create(
        data={"email": "c@example.com", "consent": True}, actor=None, web_form=form, ip="10.0.0.1"
    )
    event = ConsentEvent.objects.get(lead=lead)
    assert (event.text, event.text_version, event.is_granted, event.ip) == (form.consent_text, "3", True, "10.0.0.1")
    assert lead.consent_email


def test_utm_campaign_links_the_campaign():
    campaign = CampaignFactory(utm_campaign="spring")
    lead = services_leads.lead_create(
        data={"email": "u@example.com"}, actor=None, web_form=WebFormFactory(), utm={"utm_campaign": "spring"}
    )
    assert lead.campaign == campaign
    assert lead.utm_campaign == "spring"


# --- convert / disqualify ------------------------------------------------------------------------


@pytest.fixture
def open_lead(owner):
    return LeadFactory(owner=owner, team=owner.team, email="buyer@example.com", phone="+380671112233",
                       phone_digits="380671112233")  # fmt: skip


def test_convert_creates_company_person_deal(owner, open_lead):
    lead = services_leads.lead_convert(
        lead=open_lead, actor=owner, create_deal=True, deal_title="Перше замовлення", deal_amount=Decimal("1500.50")
    )
    assert lead.status == LeadStatus.CONVERTED
    assert lead.converted_at
    assert lead.company.roles == [CompanyRole.PROSPECT]
    assert lead.company.owner == owner
    assert lead.person.company == lead.company
    assert set(ContactPoint.objects.filter(person=lead.person).values_list("normalized", flat=True)) == {
        "buyer@example.com",
        "+380671112233",
    }
    assert (lead.deal.title, lead.deal.amount, lead.deal.company) == ("Перше замовлення", Decimal("1500.50"),
                                                                     lead.company)  # fmt: skip


def test_convert_reuses_the_matched_company(owner, open_lead):
    company = CompanyFactory(owner=owner)
    open_lead.matched_company = company
    open_lead.save()
    lead = services_leads.lead_convert(lead=open_lead, actor=owner, create_deal=False)
    assert lead.company == company
    assert lead.deal is None
    assert Company.objects.count() == 1


def test_convert_is_atomic(owner, open_lead):
    with pytest.raises(ValidationError):
        services_leads.lead_convert(lead=open_lead, actor=owner, create_deal=True, deal_amount=Decimal("-1"))
    assert not Company.objects.exists()
    assert not Person.objects.exists()
    assert not Deal.objects.exists()
    open_lead.refresh_from_db()
    assert open_lead.status == LeadStatus.NEW


def test_convert_twice_refused(owner, open_lead):
    services_leads.lead_convert(lead=open_lead, actor=owner, create_deal=False)
    with translation.override("en"), pytest.raises(ValidationError, match="only open leads"):
        services_leads.lead_convert(lead=open_lead, actor=owner, create_deal=False)
    assert Company.objects.count() == 1


def test_disqualify_needs_reason(owner, open_lead):
    with pytest.raises(ValidationError) as error:
        services_leads.lead_disqualify(lead=open_lead, actor=owner, reason="")
    assert "reason" in error.value.message_dict
    lead = services_leads.lead_disqualify(lead=open_lead, actor=owner, reason=DisqualifyReason.SPAM, note="бот")
    assert lead.status == LeadStatus.DISQUALIFIED
    assert lead.closed_at
    with pytest.raises(ValidationError):
        services_leads.lead_qualify(lead=lead, actor=owner)


def test_outsider_cannot_convert(outsider, open_lead):
    with pytest.raises(PermissionDenied):
        services_leads.lead_convert(lead=open_lead, actor=outsider, create_deal=False)


def test_update_rechecks_contacts(owner, open_lead):
    lead = services_leads.lead_update(lead=open_lead, actor=owner, phone="bad")
    assert lead.warnings == [services_leads.WARNING_PHONE]
    assert lead.status == LeadStatus.WORKING


# --- views ---------------------------------------------------------------------------------------


def test_list_in_few_queries(client, owner, django_assert_max_num_queries):
    campaign = CampaignFactory()
    for _ in range(4):
        LeadFactory(owner=owner, team=owner.team, campaign=campaign)
    client.force_login(owner)
    with django_assert_max_num_queries(14):
        response = client.get(LIST)
    assert response.status_code == 200
    assert len(response.context["page"].rows) == 4


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "qualified"}, ["b"]),
        ({"channel": "call"}, ["c"]),
        ({"region": "lviv"}, ["a"]),
        ({"source": "referral"}, ["c"]),
        ({"q": "Ромашка"}, ["a"]),
        ({"q": "B@Example.com"}, ["b"]),
        ({"q": "Ро"}, ["a", "b", "c"]),  # too short: ignored
    ],
)
def test_list_filters(client, director, params, expected):
    leads = {
        "a": LeadFactory(company_name="ТОВ Ромашка", region="lviv"),
        "b": LeadFactory(status=LeadStatus.QUALIFIED, email="b@example.com"),
        "c": LeadFactory(channel=LeadChannel.CALL, source="referral"),
    }
    client.force_login(director)
    response = client.get(LIST, params)
    by_pk = {lead.pk: name for name, lead in leads.items()}
    assert sorted(by_pk[row.pk] for row in response.context["page"].rows) == expected


def test_list_filters_by_campaign_and_owner(client, director, owner):
    campaign = CampaignFactory()
    mine = LeadFactory(campaign=campaign, owner=owner)
    LeadFactory()
    client.force_login(director)
    rows = client.get(LIST, {"campaign": campaign.pk, "owner": owner.pk}).context["page"].rows
    assert [row.pk for row in rows] == [mine.pk]


def test_list_keyset_pages(client, director):
    for _ in range(55):
        LeadFactory()
    client.force_login(director)
    first = client.get(LIST)
    assert len(first.context["page"].rows) == 50
    second = client.get(first.context["next_url"])
    assert len(second.context["page"].rows) == 5
    assert not {r.pk for r in first.context["page"].rows} & {r.pk for r in second.context["page"].rows}


def test_list_htmx_fragment(client, director):
    LeadFactory()
    client.force_login(director)
    response = client.get(LIST, HTTP_HX_REQUEST="true")
    assert b'id="list-results"' in response.content
    assert b"<html" not in response.content


def test_list_shows_filters_as_chips_and_loads_the_form_on_demand(client, director):
    LeadFactory(region="lviv", status=LeadStatus.NEW)
    client.force_login(director)
    response = client.get(LIST, {"status": "new", "region": "lviv"})
    chips = {(chip.label, chip.value): chip.remove_query for chip in response.context["filter"].active_filters()}
    assert chips == {("Status", "New"): "region=lviv", ("Region", "Lviv Oblast"): "status=new"}
    assert b'name="campaign"' not in response.content  # the pickers are not rendered with the rows
    assert response.context["filter_form_url"] == reverse("marketing:lead-filter-form") + "?status=new&region=lviv"
    form = client.get(response.context["filter_form_url"], HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    assert b'<option value="lviv" selected>' in form.content
    assert b'name="product_q"' in form.content  # the product picker searches the catalogue


def test_list_with_a_bad_filter_opens_the_form_with_the_message(client, director):
    client.force_login(director)
    response = client.get(LIST, {"status": "nonsense", "created_after": "2026-13-45"})
    assert response.status_code == 200
    assert response.context["filter_open"] is True
    assert response.context["filter"].active_filters() == []
    assert "Select a valid choice." in response.content.decode()
    assert "Enter a valid date." in response.content.decode()


def test_list_filter_form_needs_the_view_permission(client, readonly):
    client.force_login(readonly)
    assert client.get(reverse("marketing:lead-filter-form")).status_code == 403


def test_list_shows_only_own_leads(client, owner, outsider):
    LeadFactory(owner=outsider, team=outsider.team)
    mine = LeadFactory(owner=owner, team=owner.team)
    client.force_login(owner)
    assert [row.pk for row in client.get(LIST).context["page"].rows] == [mine.pk]


def test_card_in_few_queries(client, owner, django_assert_max_num_queries):
    lead = _create(make_user(Role.MARKETING), last_name="Картка", email="bad@", phone="+380671234567")
    lead.owner = owner
    lead.save()
    client.force_login(owner)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("marketing:lead-detail", args=[lead.pk]))
    assert response.status_code == 200
    assert str(services_leads.WARNING_MESSAGES[services_leads.WARNING_EMAIL]) in response.content.decode()


def test_card_links_the_match(client, owner):
    company = CompanyFactory(owner=owner, edrpou=valid_edrpou())
    lead = _create(make_user(Role.MARKETING), company_name="X", edrpou=company.edrpou)
    lead.owner = owner
    lead.save()
    client.force_login(owner)
    page = client.get(reverse("marketing:lead-detail", args=[lead.pk])).content.decode()
    assert reverse("contacts:company-detail", args=[company.pk]) in page


def test_outsider_gets_404(client, outsider, open_lead):
    client.force_login(outsider)
    assert client.get(reverse("marketing:lead-detail", args=[open_lead.pk])).status_code == 404
    response = client.post(reverse("marketing:lead-convert", args=[open_lead.pk]), {"create_deal": ""})
    assert response.status_code == 404


def test_readonly_user_gets_403_on_writes(client, readonly, open_lead):
    client.force_login(readonly)
    assert client.post(reverse("marketing:lead-create"), {"last_name": "X"}).status_code == 403
    assert client.post(reverse("marketing:lead-disqualify", args=[open_lead.pk]), {"reason": "spam"}).status_code == 403
    assert client.get(LIST).status_code == 403


def test_staff_create_view(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse("marketing:lead-create"),
        {"channel": "call", "last_name": "Дзвінок", "phone": "xx", "email": "", "consent": ""},
    )
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert lead.channel == LeadChannel.CALL
    assert lead.warnings == [services_leads.WARNING_PHONE]


def test_staff_create_view_empty_shows_error(client, marketer):
    client.force_login(marketer)
    response = client.post(reverse("marketing:lead-create"), {"channel": "call"})
    assert response.status_code == 200
    assert "Give at least a name" in response.content.decode()
    assert not Lead.objects.exists()


def test_convert_view(client, owner, open_lead):
    client.force_login(owner)
    url = reverse("marketing:lead-convert", args=[open_lead.pk])
    response = client.post(url, {"create_deal": "on", "deal_title": "Угода", "deal_amount": "100"})
    assert response.status_code == 302
    open_lead.refresh_from_db()
    assert open_lead.status == LeadStatus.CONVERTED
    assert open_lead.deal.title == "Угода"
    again = client.post(url, {"create_deal": ""})
    assert again.status_code == 422
    assert "only open leads" in again.content.decode()


def test_convert_view_bad_amount(client, owner, open_lead):
    client.force_login(owner)
    response = client.post(
        reverse("marketing:lead-convert", args=[open_lead.pk]), {"create_deal": "on", "deal_amount": "abc"}
    )
    assert response.status_code == 422
    assert not Company.objects.exists()


def test_disqualify_view_needs_reason(client, owner, open_lead):
    client.force_login(owner)
    url = reverse("marketing:lead-disqualify", args=[open_lead.pk])
    assert client.post(url, {"reason": ""}).status_code == 422
    assert client.post(url, {"reason": "no_budget", "note": "пізніше"}).status_code == 302
    open_lead.refresh_from_db()
    assert open_lead.disqualify_reason == "no_budget"


def test_update_view_and_history(client, owner, open_lead):
    client.force_login(owner)
    url = reverse("marketing:lead-update", args=[open_lead.pk])
    data = {
        "channel": "email",
        "last_name": open_lead.last_name,
        "first_name": "Нове",
        "email": open_lead.email,
        "owner": owner.pk,
    }
    assert client.post(url, data).status_code == 302
    page = client.get(reverse("marketing:lead-detail", args=[open_lead.pk])).content.decode()
    assert "Нове" in page
    assert 'data-testid="change"' in page


def test_staff_lead_assigned_elsewhere_goes_back_to_the_list(client, manager):
    other = TeamFactory()
    make_user(Role.SALES_REP, team=other)
    AssignmentRule.objects.create(name="Львів", region="lviv", team=other)
    client.force_login(manager)
    response = client.post(reverse("marketing:lead-create"), {"channel": "call", "last_name": "Л", "region": "lviv"})
    assert response.status_code == 302
    assert response.url == LIST
    assert Lead.objects.get().team == other


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "garbage"},
        {"cursor": "2024-13-45T99:00|x"},
        {"created_after": "not-a-date", "owner": "x", "campaign": "-1"},
        {"status": "nope", "q": "\x00" * 5},
    ],
)
def test_list_garbage_never_500(client, director, params):
    LeadFactory()
    client.force_login(director)
    assert client.get(LIST, params).status_code == 200
