"""The 360° card: create/edit forms, card, timeline, interaction logging, contact points, changes, vCard, dossier."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from contacts import dossier, registry, selectors_card, services
from contacts.forms import InteractionForm
from contacts.models import Company, Consent, ContactPoint, Employment, Interaction, InteractionAttachment, Person
from crm.htmx import add_service_errors
from crm.models import Role
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, ContactPointFactory, InteractionFactory, PersonFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def company(owner):
    return CompanyFactory(
        owner=owner,
        name="ТОВ «Ромашка»",
        edrpou="32855961",
        region="lviv",
        city="Львів",
        roles=["customer", "supplier"],
        needs="Потрібні ноутбуки",
        interests=["ноутбуки"],
        notes="<p>Важливий <b>клієнт</b></p>",
    )


@pytest.fixture
def person(company):
    return PersonFactory(company=company, last_name="Шевченко", first_name="Тарас", position="Директор")


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def url(name, *args):
    return reverse(f"contacts:{name}", args=args)


def company_post(**overrides):
    data = {"name": "ТОВ Тест", "status": "active", "roles": ["customer"], "tags": "", "interests": ""}
    return {**data, **overrides}


def person_post(**overrides):
    return {"last_name": "Коваленко", "first_name": "Олена", **overrides}


def errors_of(response, field):
    """The messages crispy renders next to one field."""
    html = response.content.decode()
    return re.findall(rf'id="error_\d+_id_{field}"[^>]*><strong>(.*?)</strong>', html, re.S)


# --- company create / edit ---------------------------------------------------------------------------


def test_company_create_page_offers_only_active_owners(logged_in, owner):
    make_user(Role.SALES_REP, is_active=False, full_name="Звільнений Працівник")
    response = logged_in.get(url("company-create"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert 'data-testid="company-form"' in html
    assert f'<option value="{owner.pk}" selected>{owner}</option>' in html
    assert "Звільнений Працівник" not in html


def test_company_create_form_htmx_returns_the_partial(logged_in):
    response = logged_in.get(url("company-create"), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-testid="company-form"' in html


def test_company_create_saves_and_redirects(logged_in, owner):
    response = logged_in.post(url("company-create"), company_post(edrpou="32855961", tags="Опт, опт, VIP"))
    company = Company.objects.get()
    assert response.status_code == 302
    assert response.url == url("company-detail", company.pk)
    assert (company.owner, company.team, company.edrpou) == (owner, owner.team, "32855961")
    assert company.tags == ["vip", "опт"]
    assert company.history.get().history_user == owner


def test_company_notes_are_sanitised(logged_in):
    logged_in.post(url("company-create"), company_post(notes="<script>alert(1)</script><b>ok</b>"))
    company = Company.objects.get()
    assert company.notes == "<b>ok</b>"
    html = logged_in.get(url("company-detail", company.pk)).content.decode()
    assert "<b>ok</b>" in html
    assert "alert(1)" not in html


@pytest.mark.parametrize(
    ("edrpou", "message"),
    [("12345679", "wrong check digit"), ("1234", "exactly 8 digits"), ("abcdefgh", "exactly 8 digits")],
)
def test_company_invalid_edrpou_gets_a_field_message(logged_in, edrpou, message):
    response = logged_in.post(url("company-create"), company_post(edrpou=edrpou))
    assert response.status_code == 200
    assert message in " ".join(errors_of(response, "edrpou"))
    assert not Company.objects.exists()


def test_company_name_of_301_characters_gets_a_field_message(logged_in):
    response = logged_in.post(url("company-create"), company_post(name="Я" * 301))
    assert response.status_code == 200
    assert "at most 300 characters (it has 301)" in " ".join(errors_of(response, "name"))
    assert not Company.objects.exists()


def test_company_name_of_500_characters_with_apostrophes_and_emoji_is_rejected(logged_in):
    name = ("O'Brien’s Сини 🚀 ТОВ «Ромашка» " * 20)[:500]
    response = logged_in.post(url("company-create"), company_post(name=name))
    assert response.status_code == 200
    assert "at most 300 characters" in " ".join(errors_of(response, "name"))
    assert not Company.objects.exists()


def test_company_name_with_apostrophes_emoji_and_mixed_scripts_is_stored(logged_in):
    name = "O'Brien & d’Artagnan — ТОВ «Ґрунт» Ltd 🚜 <i>x</i>"
    response = logged_in.post(url("company-create"), company_post(name=name))
    assert response.status_code == 302
    company = Company.objects.get()
    assert company.name == name
    html = logged_in.get(url("company-detail", company.pk)).content.decode()
    assert "O&#x27;Brien &amp; d’Artagnan — ТОВ «Ґрунт» Ltd 🚜 &lt;i&gt;x&lt;/i&gt;" in html


def test_company_update_saves_changes_with_history(logged_in, owner, company):
    response = logged_in.post(
        url("company-update", company.pk),
        company_post(name="ТОВ «Ромашка-2»", status="dormant", owner=owner.pk, edrpou=company.edrpou),
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert (company.name, company.status) == ("ТОВ «Ромашка-2»", "dormant")
    assert company.history.count() == 2


def test_company_handed_to_a_teammate_sends_back_to_the_list(logged_in, teammate, company):
    response = logged_in.post(url("company-update", company.pk), company_post(owner=teammate.pk, edrpou=company.edrpou))
    assert response.status_code == 302
    assert response.url == url("company-list")
    company.refresh_from_db()
    assert company.owner == teammate


def test_company_cannot_be_handed_outside_the_team(logged_in, owner, outsider, company):
    html = logged_in.get(url("company-update", company.pk)).content.decode()
    assert str(outsider) not in html
    response = logged_in.post(url("company-update", company.pk), company_post(owner=outsider.pk, edrpou=company.edrpou))
    assert "Select a valid choice" in " ".join(errors_of(response, "owner"))
    with pytest.raises(ValidationError) as error:
        services.company_update(actor=owner, company=company, owner=outsider)
    assert error.value.message_dict["owner"] == ["Choose an active user of your team."]
    company.refresh_from_db()
    assert company.owner == owner


def test_new_owner_brings_the_record_into_their_team(director, outsider, company, person):
    services.company_update(actor=director, company=company, owner=outsider)
    services.person_update(actor=director, person=person, owner=outsider)
    company.refresh_from_db()
    person.refresh_from_db()
    assert company.team == outsider.team
    assert person.team == outsider.team


def test_company_update_invalid_keeps_the_header_and_saves_nothing(logged_in, owner, company):
    response = logged_in.post(url("company-update", company.pk), company_post(name="", owner=owner.pk))
    assert response.status_code == 200
    assert errors_of(response, "name") == ["This field is required."]
    assert "Edit ТОВ «Ромашка»" in response.content.decode()
    company.refresh_from_db()
    assert company.name == "ТОВ «Ромашка»"


def test_company_service_errors_map_to_fields(owner):
    with pytest.raises(ValidationError) as error:
        services.company_create(actor=owner, name="x" * 301)
    assert "name" in error.value.message_dict


def test_company_update_service_refuses_an_outsider(outsider, company):
    with pytest.raises(PermissionDenied):
        services.company_update(actor=outsider, company=company, name="Hijacked")


# --- person create / edit ----------------------------------------------------------------------------


def test_person_create_preselects_the_company(logged_in, company):
    response = logged_in.get(url("person-create") + f"?company={company.pk}")
    assert response.status_code == 200
    assert re.search(rf'<option value="{company.pk}" selected>', response.content.decode())


def test_person_create_saves_with_the_company_owner(logged_in, owner, company):
    response = logged_in.post(url("person-create"), person_post(company=company.pk, position="Бухгалтер"))
    person = Person.objects.get()
    assert response.status_code == 302
    assert response.url == url("person-detail", person.pk)
    assert (person.company, person.owner, person.position) == (company, owner, "Бухгалтер")


def test_person_company_must_be_visible(logged_in, outsider):
    strangers = CompanyFactory(owner=outsider)
    response = logged_in.post(url("person-create"), person_post(company=strangers.pk))
    assert response.status_code == 200
    assert "Select a valid choice" in " ".join(errors_of(response, "company"))
    assert not Person.objects.exists()
    assert str(strangers) not in logged_in.get(url("person-create")).content.decode()


def test_person_company_picker_renders_a_bounded_list(client, director):
    CompanyFactory.create_batch(60, owner=director)
    last = Company.objects.order_by("-name", "-id").first()
    client.force_login(director)
    html = client.get(url("person-create") + f"?company={last.pk}").content.decode()
    select = html[html.index('name="company"') :]
    select = select[: select.index("</select>")]
    assert select.count("<option") == 52  # empty + the preselected one + 50
    assert re.search(rf'<option value="{last.pk}" selected>', select)


def test_company_options_finds_visible_companies_only(logged_in, company, outsider):
    CompanyFactory(owner=outsider, name="ТОВ «Ромашка» чужа")
    response = logged_in.get(url("company-options") + "?company_q=ромаш")
    html = response.content.decode()
    assert f'value="{company.pk}"' in html
    assert "чужа" not in html
    assert f'value="{company.pk}"' in logged_in.get(url("company-options") + "?q=32855961").content.decode()


@pytest.mark.parametrize(
    ("day", "month", "year", "field", "message"),
    [
        (31, 2, "", "birth_day", "February has only 29 days."),
        (29, 2, 2023, "birth_day", "February has only 28 days."),
        (31, 4, "", "birth_day", "April has only 30 days."),
        (5, "", "", "birth_month", "Enter the month as well"),
        ("", 5, "", "birth_day", "Enter the day as well"),
        ("", "", 1990, "birth_year", "A birth year needs the day and the month."),
        (32, 1, "", "birth_day", "less than or equal to 31"),
        (1, 1, 3000, "birth_year", "less than or equal to"),
    ],
)
def test_person_invalid_birthday_gets_a_field_message(logged_in, day, month, year, field, message):
    response = logged_in.post(url("person-create"), person_post(birth_day=day, birth_month=month, birth_year=year))
    assert response.status_code == 200
    assert message in " ".join(errors_of(response, field))
    assert not Person.objects.exists()


def test_person_birthday_29_february_without_a_year_is_valid(logged_in):
    response = logged_in.post(url("person-create"), person_post(birth_day=29, birth_month=2))
    assert response.status_code == 302
    person = Person.objects.get()
    assert (person.birth_day, person.birth_month, person.birth_year) == (29, 2, None)


def test_person_long_names_get_a_field_message(logged_in):
    response = logged_in.post(url("person-create"), person_post(last_name="O'Ґ🚀" * 40))
    assert response.status_code == 200
    assert "at most 100 characters" in " ".join(errors_of(response, "last_name"))


def test_person_create_records_consents(logged_in, company):
    response = logged_in.post(
        url("person-create"),
        person_post(
            company=company.pk,
            consent_email="granted",
            consent_email_at="2024-03-01T10:15",
            consent_email_source="Підписана анкета",
            consent_sms="withdrawn",
            consent_sms_source="Телефоном",
        ),
    )
    assert response.status_code == 302
    person = Person.objects.get()
    consents = {c.channel: c for c in person.consents.all()}
    assert set(consents) == {"email", "sms"}
    assert consents["email"].is_granted
    assert consents["email"].source == "Підписана анкета"
    assert timezone.localtime(consents["email"].given_at).strftime("%Y-%m-%d %H:%M") == "2024-03-01 10:15"
    assert not consents["sms"].is_granted
    html = logged_in.get(url("person-detail", person.pk)).content.decode()
    assert "Підписана анкета" in html
    assert "withdrawn" in html
    assert "not recorded" in html


def test_person_consent_needs_a_source(logged_in):
    response = logged_in.post(url("person-create"), person_post(consent_phone="granted"))
    assert response.status_code == 200
    assert errors_of(response, "consent_phone_source") == ["Say how the consent was given or withdrawn."]
    assert not Person.objects.exists()


def test_person_update_clears_and_changes_consents(logged_in, owner, person):
    Consent.objects.create(person=person, channel="email", given_at=timezone.now(), source="Анкета")
    form = logged_in.get(url("person-update", person.pk)).content.decode()
    assert "Анкета" in form
    assert re.search(r'<option value="granted" selected>', form)
    response = logged_in.post(
        url("person-update", person.pk),
        person_post(owner=owner.pk, company=person.company_id, consent_sms="granted", consent_sms_source="Сайт"),
    )
    assert response.status_code == 302
    assert list(person.consents.values_list("channel", "source")) == [("sms", "Сайт")]


def test_person_service_is_atomic(owner):
    """A consent that fails validation after the person row was written leaves nothing behind."""
    consent = services.ConsentInput(is_granted=True, given_at=timezone.now(), source="x" * 201)
    with pytest.raises(ValidationError) as error:
        services.person_create(actor=owner, last_name="Іваненко", first_name="Іван", consents={"email": consent})
    assert "consent_email" in error.value.message_dict
    assert not Person.objects.exists()


def test_person_moving_to_another_company_keeps_the_former_one(logged_in, owner, person, company):
    new_company = CompanyFactory(owner=owner)
    response = logged_in.post(
        url("person-update", person.pk),
        person_post(owner=owner.pk, company=new_company.pk, position="Менеджер"),
    )
    assert response.status_code == 302
    employment = Employment.objects.get(person=person)
    assert (employment.company, employment.position, employment.ended_on) == (company, "Директор", timezone.localdate())


def test_employment_add_and_remove_inline(logged_in, owner, person):
    former = CompanyFactory(owner=owner, name="ТОВ Минуле")
    form = logged_in.get(url("employment-add", person.pk), headers=HTMX)
    assert "<html" not in form.content.decode()
    assert "hx-post" in form.content.decode()
    response = logged_in.post(
        url("employment-add", person.pk),
        {"company": former.pk, "position": "Інженер", "started_on": "2019-01-01", "ended_on": "2021-06-30"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#employments"
    assert "employments-changed" in response["HX-Trigger"]
    assert "ТОВ Минуле" in response.content.decode()
    employment = Employment.objects.get(person=person)
    response = logged_in.post(url("employment-remove", employment.pk), headers=HTMX)
    assert response.status_code == 200
    assert not Employment.objects.exists()


def test_employment_dates_out_of_order_get_a_field_message(logged_in, owner, person):
    former = CompanyFactory(owner=owner)
    response = logged_in.post(
        url("employment-add", person.pk),
        {"company": former.pk, "started_on": "2021-01-01", "ended_on": "2020-01-01"},
        headers=HTMX,
    )
    assert errors_of(response, "ended_on") == ["The end date cannot be before the start date."]
    assert not Employment.objects.exists()


# --- the company card --------------------------------------------------------------------------------


def test_company_card_shows_the_header_people_needs_and_notes(logged_in, owner, company, person):
    ContactPointFactory(company=company, kind="phone", value="+380441234567", is_primary=True)
    ContactPointFactory(company=company, kind="email", value="Office@Romashka.UA", is_primary=True)
    ContactPointFactory(person=person, kind="mobile", value="+380671112233", is_primary=True)
    response = logged_in.get(url("company-detail", company.pk))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("ТОВ «Ромашка»", "Customer", "Supplier", "Active", str(owner), str(owner.team), "Lviv Oblast",
                 "Львів", "32855961", "Потрібні ноутбуки", "ноутбуки"):  # fmt: skip
        assert text in html, text
    assert 'href="tel:+380441234567"' in html
    assert 'href="mailto:office@romashka.ua"' in html
    people = logged_in.get(url("company-people", company.pk)).content.decode()  # the People tab
    assert "Шевченко Тарас" in people
    assert "Директор" in people
    assert 'href="tel:+380671112233"' in people  # the person's primary phone
    assert "<p>Важливий <b>клієнт</b></p>" in html
    assert url("company-history", company.pk) in html
    assert 'hx-trigger="intersect once"' in html
    assert url("company-dossier", company.pk) + "?format=pdf" in html


def test_company_card_lazily_loads_registered_tabs(logged_in, company):
    tab = registry.CardTab(key="test-tab", label="Test", url_name="contacts:company-history", order=10)
    registry.register_tab(tab)
    try:
        html = logged_in.get(url("company-detail", company.pk)).content.decode()
    finally:
        registry._tabs.pop("test-tab")
    assert 'data-testid="tab-test-tab"' in html
    assert f'hx-get="{url("company-history", company.pk)}" hx-trigger="intersect once"' in html


def _fill(company, interactions):
    people = PersonFactory.create_batch(3, company=company)
    for index, person in enumerate(people):
        ContactPointFactory(person=person)
        ContactPointFactory(person=person, kind="email", value=f"p{index}@example.com")
        ContactPointFactory(company=company)
    for index in range(interactions):
        InteractionFactory(company=company, person=people[index % 3], user=company.owner)


def _count_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_company_card_runs_a_constant_number_of_queries(logged_in, owner, django_assert_max_num_queries):
    small, large = CompanyFactory(owner=owner), CompanyFactory(owner=owner)
    _fill(small, 3)
    _fill(large, 30)
    large.people.add(*PersonFactory.create_batch(5, company=large))
    with django_assert_max_num_queries(14):
        assert logged_in.get(url("company-detail", small.pk)).status_code == 200
    with django_assert_max_num_queries(14):
        assert logged_in.get(url("company-detail", large.pk)).status_code == 200
    assert _count_queries(logged_in, url("company-detail", small.pk)) == _count_queries(
        logged_in, url("company-detail", large.pk)
    )


def test_company_card_shows_a_bounded_number_of_people(logged_in, owner, monkeypatch):
    monkeypatch.setattr(selectors_card, "CARD_PEOPLE_LIMIT", 3)
    company = CompanyFactory(owner=owner)
    PersonFactory.create_batch(4, company=company)
    card = logged_in.get(url("company-detail", company.pk)).content.decode()
    assert url("company-people", company.pk) in card  # the People tab loads its rows when shown
    assert ">3+</span>" in card
    html = logged_in.get(url("company-people", company.pk)).content.decode()
    assert html.count('data-testid="person"') == 3
    assert "Only the first 3 people are shown." in html
    outsider_company = CompanyFactory()
    assert logged_in.get(url("company-people", outsider_company.pk)).status_code == 404


# --- the person card ---------------------------------------------------------------------------------


def test_person_card_shows_company_birthday_points_and_own_timeline(logged_in, company, person):
    person.birth_day, person.birth_month = 9, 3
    person.save()
    ContactPointFactory(person=person, kind="email", value="taras@example.com")
    other = PersonFactory(company=company)
    InteractionFactory(company=company, person=person, subject="Про Тараса")
    InteractionFactory(company=company, person=other, subject="Про іншого")
    response = logged_in.get(url("person-detail", person.pk))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Шевченко Тарас", "Директор", "ТОВ «Ромашка»", "09.03", 'href="mailto:taras@example.com"',
                 "Про Тараса", url("person-vcard", person.pk), url("person-history", person.pk)):  # fmt: skip
        assert text in html, text
    assert "Про іншого" not in html
    assert f"{url('interaction-create', company.pk)}?channel=call_out&amp;person={person.pk}" in html


def test_person_card_runs_a_constant_number_of_queries(logged_in, company, person):
    ContactPointFactory(person=person)
    Consent.objects.create(person=person, channel="email", given_at=timezone.now(), source="Анкета")
    InteractionFactory(company=company, person=person)
    _count_queries(logged_in, url("person-detail", person.pk))  # loads the user's access into the cache
    few = _count_queries(logged_in, url("person-detail", person.pk))
    for index in range(3):
        ContactPointFactory(person=person, kind="email", value=f"p{index}@example.com")
        Employment.objects.create(person=person, company=CompanyFactory(owner=company.owner))
    Consent.objects.create(person=person, channel="sms", given_at=timezone.now(), source="Сайт")
    InteractionFactory.create_batch(25, company=company, person=person)
    assert _count_queries(logged_in, url("person-detail", person.pk)) == few <= 14


# --- the timeline ------------------------------------------------------------------------------------


def test_timeline_pages_with_a_keyset_cursor_without_gaps_or_repeats(logged_in, company):
    base = timezone.now()
    rows = [InteractionFactory(company=company, occurred_at=base - timedelta(minutes=i)) for i in range(40)]
    same_time = [InteractionFactory(company=company, occurred_at=base - timedelta(minutes=20)) for _ in range(5)]
    expected = sorted([*rows, *same_time], key=lambda r: (r.occurred_at, r.pk), reverse=True)
    seen, before = [], ""
    for _page in range(3):
        page = selectors_card.timeline_page(user=company.owner, company=company, before=before)
        seen += page.rows
        before = page.next_cursor
    assert [r.pk for r in seen] == [r.pk for r in expected]
    assert before == ""
    assert len(selectors_card.timeline_page(user=company.owner, company=company).rows) == 20


def test_timeline_load_more_over_htmx(logged_in, company):
    InteractionFactory.create_batch(25, company=company)
    html = logged_in.get(url("company-detail", company.pk)).content.decode()
    assert html.count('data-testid="interaction"') == 20
    cursor = re.search(r'hx-get="[^"]*before=([0-9_]+)"', html)[1]
    response = logged_in.get(url("company-timeline", company.pk) + f"?before={cursor}", headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'id="timeline"' not in page
    assert page.count('data-testid="interaction"') == 5
    assert "load-more" not in page


def test_timeline_filters_by_channel(logged_in, company):
    InteractionFactory(company=company, channel="call_in", subject="Вхідний")
    InteractionFactory(company=company, channel="email_out", subject="Лист")
    response = logged_in.get(url("company-timeline", company.pk) + "?channel=call_in", headers=HTMX)
    html = response.content.decode()
    assert 'id="timeline"' in html
    assert "Вхідний" in html
    assert "Лист" not in html
    assert response["Vary"]
    assert "HX-Request" in response["Vary"]
    html = logged_in.get(url("company-detail", company.pk) + "?channel=email_out").content.decode()
    assert "Лист" in html
    assert "Вхідний" not in html


@pytest.mark.parametrize("query", ["?before=garbage", "?before=1_x", "?before=99999999999999999999_1", "?channel=zz"])
def test_timeline_ignores_bad_parameters(logged_in, company, query):
    InteractionFactory(company=company, subject="Дзвінок")
    response = logged_in.get(url("company-timeline", company.pk) + query, headers=HTMX)
    assert response.status_code == 200
    assert "Дзвінок" in response.content.decode()


def test_timeline_without_htmx_redirects_to_the_card(logged_in, company):
    response = logged_in.get(url("company-timeline", company.pk) + "?channel=visit")
    assert response.status_code == 302
    assert response.url == url("company-detail", company.pk) + "?channel=visit"


def test_timeline_shows_kyiv_time_duration_person_and_user(logged_in, owner, company, person):
    InteractionFactory(
        company=company,
        person=person,
        user=owner,
        occurred_at=datetime(2024, 7, 1, 9, 30, tzinfo=UTC),
        duration=timedelta(minutes=12),
        outcome="Домовились",
    )
    html = logged_in.get(url("company-detail", company.pk)).content.decode()
    for text in ("01.07.2024 12:30", "12 min", "Outgoing call", "Outbound", "Домовились", str(person), str(owner)):
        assert text in html, text


def test_timeline_of_a_person_shows_only_that_person(logged_in, company, person):
    InteractionFactory(company=company, person=person, subject="Його")
    InteractionFactory(company=company, subject="Без особи")
    html = logged_in.get(url("person-timeline", person.pk), headers=HTMX).content.decode()
    assert "Його" in html
    assert "Без особи" not in html


@pytest.fixture
def long_history(owner, company, person):
    """2,000 interactions of the company (and 2,000 of another)."""
    now, other = timezone.now(), CompanyFactory(owner=owner)
    Interaction.objects.bulk_create(
        Interaction(company=holder, person=person if holder == company else None, subject="s",
                    channel=("call_out", "visit")[i % 2], occurred_at=now - timedelta(minutes=i))
        for i in range(2000) for holder in (company, other)
    )  # fmt: skip
    return Interaction.objects.filter(company=company).order_by("-occurred_at", "-id")


@pytest.mark.parametrize("by", ["company", "channel", "person"])
def test_timeline_page_deep_in_history_starts_after_the_cursor(
    long_history, company, person, by, django_assert_max_num_queries
):
    kwargs = {"company": {"company": company}, "channel": {"company": company, "channel": "call_out"},
              "person": {"person": person}}[by]  # fmt: skip
    anchor = long_history[1500]
    everything = list(Interaction.objects.filter(**kwargs).order_by("-occurred_at", "-id").values_list("pk", flat=True))
    after = everything.index(anchor.pk) + 1
    qs = selectors_card.timeline_queryset(user=company.owner, before=selectors_card.encode_cursor(anchor), **kwargs)
    with django_assert_max_num_queries(3):  # the rows and their attachments (and a person's visibility)
        rows = [row.pk for row in qs[:21]]
    assert rows == everything[after : after + 21]


def test_timeline_page_deep_in_history_is_correct(long_history, company):
    before = selectors_card.encode_cursor(long_history[1500])
    page = selectors_card.timeline_page(user=company.owner, company=company, before=before)
    assert [r.pk for r in page.rows] == [r.pk for r in long_history[1501:1521]]


def test_timeline_pages_cost_the_same_number_of_queries(logged_in, company):
    InteractionFactory.create_batch(45, company=company, person=PersonFactory(company=company))
    first = logged_in.get(url("company-timeline", company.pk), headers=HTMX).content.decode()
    cursor = re.search(r"before=([0-9_]+)", first)[1]
    with CaptureQueriesContext(connection) as page_two:
        logged_in.get(url("company-timeline", company.pk) + f"?before={cursor}", headers=HTMX)
    with CaptureQueriesContext(connection) as page_one:
        logged_in.get(url("company-timeline", company.pk), headers=HTMX)
    assert len(page_one) == len(page_two)


# --- logging an interaction --------------------------------------------------------------------------


def test_log_call_form_opens_inline_prefilled(logged_in, company, person):
    response = logged_in.get(
        url("interaction-create", company.pk) + f"?channel=call_in&person={person.pk}&subject=Дзвінок клієнта",
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'hx-post="{url("interaction-create", company.pk)}"' in html
    assert '<option value="call_in" selected>' in html
    assert re.search(rf'<option value="{person.pk}" selected>', html)
    assert 'value="Дзвінок клієнта"' in html
    now = timezone.localtime().strftime("%Y-%m-%dT%H:")
    assert f'value="{now}' in html


def test_log_call_form_defaults_to_an_outgoing_call(logged_in, company):
    html = logged_in.get(url("interaction-create", company.pk), headers=HTMX).content.decode()
    assert '<option value="call_out" selected>' in html


def test_log_call_over_htmx_prepends_the_row_and_closes_the_form(logged_in, owner, company, person):
    response = logged_in.post(
        url("interaction-create", company.pk),
        {
            "channel": "call_out",
            "person": person.pk,
            "subject": "Узгодили ціну",
            "duration_minutes": 7,
            "outcome": "Чекають рахунок",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    interaction = Interaction.objects.get()
    assert (interaction.user, interaction.person, interaction.direction) == (owner, person, "out")
    assert interaction.duration == timedelta(minutes=7)
    html = response.content.decode()
    assert 'hx-swap-oob="afterbegin:#timeline-rows"' in html
    assert "Узгодили ціну" in html
    assert "<form" not in html  # the form closes
    assert "interaction-logged" in response["HX-Trigger"]
    assert "The interaction is logged." in html  # the toast
    company.refresh_from_db()
    person.refresh_from_db()
    assert company.last_contact_at == interaction.occurred_at == person.last_contact_at


def test_log_call_without_htmx_redirects_to_the_card(logged_in, company):
    response = logged_in.post(url("interaction-create", company.pk), {"channel": "visit", "subject": "Візит"})
    assert response.status_code == 302
    assert response.url == url("company-detail", company.pk)
    assert Interaction.objects.get().direction == ""
    page = logged_in.get(url("interaction-create", company.pk))
    assert "<html" in page.content.decode()
    assert "hx-post" not in page.content.decode()


def test_log_call_invalid_rerenders_the_form_with_messages(logged_in, company):
    response = logged_in.post(
        url("interaction-create", company.pk), {"channel": "fax_machine", "subject": "", "duration_minutes": -1},
        headers=HTMX,
    )  # fmt: skip
    assert response.status_code == 200
    assert errors_of(response, "subject") == ["This field is required."]
    assert "Select a valid choice" in " ".join(errors_of(response, "channel"))
    assert errors_of(response, "duration_minutes")
    assert not Interaction.objects.exists()


def test_log_call_for_a_person_of_another_company_is_rejected(logged_in, owner, company):
    stranger = PersonFactory(company=CompanyFactory(owner=owner))
    data = {"channel": "call_in", "subject": "x", "person": stranger.pk}
    response = logged_in.post(url("interaction-create", company.pk), data, headers=HTMX)
    assert "Select a valid choice" in " ".join(errors_of(response, "person"))
    with pytest.raises(ValidationError) as error:
        services.interaction_log(actor=owner, company=company, channel="call_in", subject="x", person=stranger)
    assert error.value.message_dict["person"] == [f"This person does not work for {company}."]
    assert not Interaction.objects.exists()


def test_service_errors_land_next_to_their_fields(company, person):
    """What a view does with a service's ValidationError: keyed messages to fields, the rest on top."""
    form = InteractionForm({"channel": "call_in", "subject": "x", "person": person.pk}, company=company)
    assert form.is_valid()
    add_service_errors(
        form, ValidationError({"person": "This person does not work for X.", "company": "Gone.", "__all__": "Oops."})
    )
    assert form.errors["person"] == ["This person does not work for X."]
    assert form.non_field_errors() == ["Gone.", "Oops."]
    form = InteractionForm({"channel": "call_in", "subject": "x"}, company=company)
    form.is_valid()
    add_service_errors(form, ValidationError("Plain."))
    assert form.non_field_errors() == ["Plain."]


# --- attachments -------------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_log_call_with_attachments(logged_in, company, media):
    pdf = SimpleUploadedFile("Договір №1.pdf", b"%PDF-1.4 test", content_type="application/x-whatever")
    note = SimpleUploadedFile("notes.txt", "Нотатки".encode(), content_type="text/plain")
    response = logged_in.post(
        url("interaction-create", company.pk),
        {"channel": "call_out", "subject": "З файлами", "attachments": [pdf, note]},
        headers=HTMX,
    )
    assert response.status_code == 200
    files = {a.name: a for a in InteractionAttachment.objects.all()}
    assert set(files) == {"Договір №1.pdf", "notes.txt"}
    assert (files["Договір №1.pdf"].content_type, files["Договір №1.pdf"].size) == ("application/pdf", 13)
    download = url("attachment-download", files["Договір №1.pdf"].pk)
    assert download in response.content.decode()
    response = logged_in.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert download in logged_in.get(url("company-detail", company.pk)).content.decode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("setup.exe", b"MZ\x90", "this file type is not allowed"),
     ("invoice.pdf", b"MZ\x90\x00", "is not really a .pdf file"),
     ("photo.png", b"\xff\xd8\xff\xe0", "is not really a .png file"),
     ("data.csv", b"a,b\x00\x01", "is not really a .csv file"),
     ("empty.txt", b"", "The submitted file is empty.")],
)  # fmt: skip
def test_bad_attachments_get_a_field_message_and_nothing_is_saved(logged_in, company, media, name, content, message):
    upload = SimpleUploadedFile(name, content)
    response = logged_in.post(
        url("interaction-create", company.pk), {"channel": "call_out", "subject": "x", "attachments": upload},
        headers=HTMX,
    )  # fmt: skip
    assert response.status_code == 200
    assert message in " ".join(errors_of(response, "attachments"))
    assert not Interaction.objects.exists()
    assert not InteractionAttachment.objects.exists()


def test_attachment_size_and_count_are_limited(owner, company, media, monkeypatch):
    monkeypatch.setattr(services, "ATTACHMENT_MAX_BYTES", 10)
    with pytest.raises(ValidationError) as error:
        services.interaction_log(
            actor=owner, company=company, channel="fax", subject="x",
            attachments=[SimpleUploadedFile("big.pdf", b"%PDF-" + b"x" * 10)],
        )  # fmt: skip
    assert "big.pdf is larger than 10\xa0bytes." in error.value.message_dict["attachments"]
    with pytest.raises(ValidationError) as error:
        services.interaction_log(
            actor=owner, company=company, channel="fax", subject="x",
            attachments=[SimpleUploadedFile(f"{i}.txt", b"ok") for i in range(6)],
        )  # fmt: skip
    assert error.value.message_dict["attachments"] == ["Attach at most 5 files."]
    assert not Interaction.objects.exists()


def test_attachment_download_is_404_for_strangers(client, outsider, company, media):
    interaction = services.interaction_log(
        actor=company.owner, company=company, channel="fax", subject="x",
        attachments=[SimpleUploadedFile("a.txt", b"secret")],
    )  # fmt: skip
    client.force_login(outsider)
    assert client.get(url("attachment-download", interaction.attachments.get().pk)).status_code == 404


# --- contact points ----------------------------------------------------------------------------------


def test_point_add_normalises_a_phone_over_htmx(logged_in, company):
    form = logged_in.get(url("company-point-add", company.pk), headers=HTMX).content.decode()
    assert 'data-testid="point-form"' in form
    assert "hx-post" in form
    response = logged_in.post(
        url("company-point-add", company.pk),
        {"kind": "mobile", "value": "067 123-45-67", "label": "Бухгалтерія"},
        headers=HTMX,
    )
    assert response.status_code == 200
    point = ContactPoint.objects.get()
    assert (point.company, point.normalized, point.is_primary) == (company, "+380671234567", True)
    html = response.content.decode()
    assert 'href="tel:+380671234567"' in html
    assert 'id="contact-points"' in html
    assert response["HX-Retarget"] == "#contact-points"
    assert "contact-points-changed" in response["HX-Trigger"]


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [("phone", "12", "too few or too many digits"), ("phone", "дзвоніть", "does not look like a phone"),
     ("email", "not-an-email", "valid email")],
)  # fmt: skip
def test_point_add_invalid_value_gets_a_field_message(logged_in, company, kind, value, message):
    response = logged_in.post(url("company-point-add", company.pk), {"kind": kind, "value": value}, headers=HTMX)
    assert response.status_code == 200
    assert message in " ".join(errors_of(response, "value"))
    assert not ContactPoint.objects.exists()


def test_point_add_to_a_person_and_remove(logged_in, person):
    response = logged_in.post(url("person-point-add", person.pk), {"kind": "email", "value": " Taras@Example.COM "})
    assert response.status_code == 302
    assert response.url == url("person-detail", person.pk)
    point = ContactPoint.objects.get(person=person)
    assert point.normalized == "taras@example.com"
    html = logged_in.get(url("person-detail", person.pk)).content.decode()
    assert f'hx-post="{url("contact-point-remove", point.pk)}"' in html
    assert "hx-confirm=" in html
    assert logged_in.get(url("contact-point-remove", point.pk)).status_code == 405
    response = logged_in.post(url("contact-point-remove", point.pk), headers=HTMX)
    assert response.status_code == 200
    assert not ContactPoint.objects.exists()
    assert "No phones or e-mails yet." in response.content.decode()


# --- changes (field history) -------------------------------------------------------------------------


def test_company_changes_show_field_old_new_who_and_when(logged_in, owner, company):
    services.company_update(actor=owner, company=company, name="ТОВ «Волошка»", status="lost")
    services.contact_point_add(actor=owner, company=company, kind="email", value="a@b.ua")
    Company.history.filter(id=company.pk).update(history_user=owner)
    response = logged_in.get(url("company-history", company.pk), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    for text in ("Name", "ТОВ «Ромашка»", "ТОВ «Волошка»", "Status", "Active", "Lost", str(owner), "changed",
                 "Contact point", "E-mail: a@b.ua"):  # fmt: skip
        assert text in html, text
    assert "<html" in logged_in.get(url("company-history", company.pk)).content.decode()


def test_company_changes_are_bounded_to_the_latest_50(logged_in, owner, company):
    for index in range(60):
        services.company_update(actor=owner, company=company, city=f"Місто {index}")
    with CaptureQueriesContext(connection) as queries:
        html = logged_in.get(url("company-history", company.pk), headers=HTMX).content.decode()
    assert html.count('data-testid="change"') == 50
    assert "Місто 59" in html
    assert "Місто 8<" not in html
    assert len(queries) < 12


def test_person_changes_include_consents_and_name_related_records(logged_in, owner, person):
    other = CompanyFactory(owner=owner, name="ТОВ «Нова»")
    services.person_update(
        actor=owner,
        person=person,
        position="Голова",
        company=other,
        consents={"sms": services.ConsentInput(is_granted=True, given_at=timezone.now(), source="Сайт")},
    )
    html = logged_in.get(url("person-history", person.pk), headers=HTMX).content.decode()
    for text in ("Директор", "Голова", "SMS: granted — Сайт", "ТОВ «Ромашка»", "ТОВ «Нова»", "Company", "Position"):
        assert text in html, text


# --- vCard -------------------------------------------------------------------------------------------


def test_vcard_escapes_per_rfc_6350(logged_in, company):
    person = PersonFactory(
        company=company, last_name="Петренко, мол.", first_name="Іван;Петро", position="Керівник\nвідділу",
        birth_day=29, birth_month=2,
    )  # fmt: skip
    ContactPointFactory(person=person, kind="mobile", value="067 123 45 67", is_primary=True)
    ContactPointFactory(person=person, kind="email", value="ivan@example.com")
    response = logged_in.get(url("person-vcard", person.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    unfolded = text.replace("\r\n ", "")
    assert text.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n")
    assert text.endswith("END:VCARD\r\n")
    assert "N:Петренко\\, мол.;Іван\\;Петро;;;\r\n" in unfolded
    assert "ORG:ТОВ «Ромашка»\r\n" in unfolded
    assert "TITLE:Керівник\\nвідділу\r\n" in unfolded
    assert "BDAY:--0229\r\n" in unfolded
    assert "TEL;VALUE=uri;TYPE=cell;PREF=1:tel:+380671234567\r\n" in unfolded
    assert "EMAIL:ivan@example.com\r\n" in unfolded
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_vcard_folds_long_lines_on_character_boundaries():
    line = "NOTE:" + "Ї" * 100
    folded = dossier._fold(line)
    assert folded.replace("\r\n ", "") == line
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))


# --- dossier -----------------------------------------------------------------------------------------


def test_dossier_html_has_cyrillic_card_people_and_history(owner, company, person):
    ContactPointFactory(person=person, kind="mobile", value="+380671112233")
    InteractionFactory(company=company, person=person, subject="Зустріч щодо ₴ 1 000")
    html = dossier.dossier_html(selectors_card.company_dossier(user=owner, pk=company.pk))
    for text in ("ТОВ «Ромашка»", "32855961", "Шевченко Тарас", "+380671112233", "Зустріч щодо ₴ 1 000", "Customer"):
        assert text in html, text
    assert "style=" not in html
    assert "<script" not in html


def test_dossier_history_is_bounded_to_200(owner, company):
    Interaction.objects.bulk_create(
        Interaction(company=company, channel="call_out", subject=f"S{i}", occurred_at=timezone.now())
        for i in range(205)
    )
    assert len(selectors_card.company_dossier(user=owner, pk=company.pk).interactions) == 200


def test_dossier_pdf_download(logged_in, company, person):
    InteractionFactory(company=company, person=person)
    response = logged_in.get(url("company-dossier", company.pk) + "?format=pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert ".pdf" in response["Content-Disposition"]


def test_dossier_xlsx_has_three_sheets_and_escapes_formulas(logged_in, owner):
    company = CompanyFactory(owner=owner, name='=HYPERLINK("http://evil")', city="@SUM(A1)")
    person = PersonFactory(company=company, position="-2+3", last_name="Коваль")
    ContactPointFactory(person=person, kind="mobile", value="+380671112233")
    InteractionFactory(company=company, person=person, subject="+cmd|' /C calc'!A0", outcome="\tTab", body="ok")
    response = logged_in.get(url("company-dossier", company.pk) + "?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Company", "People", "History"]
    company_cells = {row[0]: row[1] for row in book["Company"].iter_rows(values_only=True)}
    assert company_cells["Name"] == '\'=HYPERLINK("http://evil")'
    assert company_cells["City"] == "'@SUM(A1)"
    people = list(book["People"].iter_rows(values_only=True))
    assert people[1][1] == "'-2+3"
    assert people[1][2] == "'+380671112233"
    history = list(book["History"].iter_rows(values_only=True))
    assert history[1][4] == "'+cmd|' /C calc'!A0"
    assert history[1][5] == "'\tTab"
    assert all(cell.data_type != "f" for row in book["History"].iter_rows() for cell in row)


def test_dossier_pdf_fetches_nothing_external(owner, company, caplog):
    Company.objects.filter(pk=company.pk).update(notes='<img src="http://10.255.255.1/t.png">')  # bypassing nh3
    pdf = dossier.dossier_pdf(selectors_card.company_dossier(user=owner, pk=company.pk))
    assert pdf.startswith(b"%PDF")
    assert "disallowed protocol: http://10.255.255.1/t.png" in caplog.text


def test_dossier_unknown_format_is_a_bad_request(logged_in, company):
    assert logged_in.get(url("company-dossier", company.pk) + "?format=doc").status_code == 400


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+2", "'=1+2"), ("+380", "'+380"), ("-5", "'-5"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
     ("ok", "ok"), ("", ""), (5, 5), (None, None)],
)  # fmt: skip
def test_escape_formula(value, expected):
    assert dossier.escape_formula(value) == expected


# --- access ------------------------------------------------------------------------------------------


def _card_urls(company, person, point, employment):
    return [
        ("get", url("company-detail", company.pk)),
        ("get", url("company-update", company.pk)),
        ("post", url("company-update", company.pk)),
        ("get", url("company-timeline", company.pk)),
        ("get", url("company-history", company.pk)),
        ("get", url("interaction-create", company.pk)),
        ("post", url("interaction-create", company.pk)),
        ("get", url("company-point-add", company.pk)),
        ("post", url("company-point-add", company.pk)),
        ("get", url("company-dossier", company.pk) + "?format=pdf"),
        ("get", url("company-dossier", company.pk) + "?format=xlsx"),
        ("get", url("person-detail", person.pk)),
        ("get", url("person-update", person.pk)),
        ("post", url("person-update", person.pk)),
        ("get", url("person-timeline", person.pk)),
        ("get", url("person-history", person.pk)),
        ("get", url("person-point-add", person.pk)),
        ("post", url("person-point-add", person.pk)),
        ("get", url("person-vcard", person.pk)),
        ("get", url("employment-add", person.pk)),
        ("post", url("employment-add", person.pk)),
        ("post", url("employment-remove", employment.pk)),
        ("post", url("contact-point-remove", point.pk)),
    ]


@pytest.mark.parametrize("who", ["outsider", "readonly", "teammate"])
def test_strangers_get_404_everywhere(client, company, person, who, request):
    point = ContactPointFactory(company=company)
    employment = Employment.objects.create(person=person, company=company)
    client.force_login(request.getfixturevalue(who))
    for method, path in _card_urls(company, person, point, employment):
        response = getattr(client, method)(path, {"kind": "phone", "value": "0671234567", "subject": "x"})
        assert response.status_code == 404, (who, method, path, response.status_code)
    assert ContactPoint.objects.count() == 1
    assert Employment.objects.count() == 1
    assert not Interaction.objects.exists()


def test_team_manager_and_director_see_the_card(client, manager, director, company, person):
    for user in (manager, director):
        client.force_login(user)
        assert client.get(url("company-detail", company.pk)).status_code == 200
        assert client.get(url("person-detail", person.pk)).status_code == 200


def test_shared_company_is_visible_to_a_teammate(client, teammate, company):
    company.is_shared = True
    company.save()
    client.force_login(teammate)
    assert client.get(url("company-detail", company.pk)).status_code == 200


def test_anonymous_is_sent_to_login(client, company):
    response = client.get(url("company-detail", company.pk))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url
