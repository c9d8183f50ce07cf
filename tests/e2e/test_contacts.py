"""User flows through the contacts app in a real browser (issue 4, item 16).

Create a company with a person and phones, log a call, find the person by phone, look up a caller,
import a file with a bad row, merge two duplicates. Each test asserts what the user sees (and the
database where it matters); the autouse `console_errors` fixture fails any test with a console error
or a CSP violation.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts import services_lists
from contacts.models import Company, ContactPoint, Interaction, InteractionChannel, Person
from contacts.validators import edrpou_is_valid
from crm.models import Role
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, ContactPointFactory, InteractionFactory, PersonFactory
from tests.crm.factories import TeamFactory
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rep(db):
    """A sales representative in a team: sees the companies and people they own."""
    return make_user(Role.SALES_REP, team=TeamFactory())


def caller(rep) -> tuple[Company, Person]:
    """A company of `rep` with Ivan Petrenko, whose mobile is +380671234567."""
    company = CompanyFactory(owner=rep, name="ТОВ Весна")
    person = PersonFactory(company=company, last_name="Петренко", first_name="Іван")
    ContactPointFactory(person=person, kind="mobile", value="+380671234567", is_primary=True)
    return company, person


def expect_phone_links(page: Page) -> None:
    points = page.get_by_test_id("contact-points")
    expect(points.get_by_test_id("contact-point")).to_have_count(2)
    expect(points.locator('a[href="tel:+380671234567"]')).to_have_count(1)
    expect(points.locator('a[href="tel:+380445556677"]')).to_have_count(1)


def test_create_company_with_person_and_two_phones(page: Page, live_server, rep):
    # given
    login(page, live_server, rep)
    page.goto(f"{live_server.url}/contacts/companies/")

    # when: a new company from the list
    page.get_by_test_id("new-company").click()
    form = page.get_by_test_id("company-form")
    form.locator("#id_name").fill("ТОВ Зоряне   Небо")
    form.locator("#id_edrpou").fill("00032106")
    form.get_by_test_id("save").click()

    # then: its card
    company = Company.objects.get(edrpou="00032106")
    expect(page).to_have_url(f"{live_server.url}/contacts/companies/{company.pk}/")
    expect(page.get_by_test_id("company-name")).to_have_text("ТОВ Зоряне Небо")
    assert company.owner == rep

    # when: a person of the company, from the card
    page.get_by_test_id("add-person").click()
    form = page.get_by_test_id("person-form")
    expect(form.locator("select#id_company")).to_have_value(str(company.pk))
    form.locator("#id_last_name").fill("Коваленко")
    form.locator("#id_first_name").fill("Ірина")
    form.locator("#id_position").fill("Головний бухгалтер")
    form.get_by_test_id("save").click()

    # then: the person's card
    person = Person.objects.get(last_name="Коваленко")
    expect(page).to_have_url(f"{live_server.url}/contacts/people/{person.pk}/")
    expect(page.get_by_test_id("person-name")).to_contain_text("Коваленко Ірина")
    expect(page.get_by_test_id("person-company")).to_have_text("ТОВ Зоряне Небо")
    assert person.company == company

    # when: two phones, typed in two formats, through the card's inline form
    points = page.get_by_test_id("contact-points")
    for kind, typed in [("mobile", "067 123 45 67"), ("phone", "+380 44 555-66-77")]:
        points.get_by_test_id("add-point").click()
        point_form = page.get_by_test_id("point-form")
        point_form.locator("select[name=kind]").select_option(kind)
        point_form.locator("input[name=value]").fill(typed)
        point_form.get_by_test_id("point-save").click()
        expect(page.get_by_test_id("point-form")).to_have_count(0)

    # then: both are clickable international numbers on the card, at once and after a reload
    expect_phone_links(page)
    page.reload()
    expect_phone_links(page)
    expect(page.get_by_test_id("key-points").locator('a[href^="tel:+380"]')).to_have_count(1)
    stored = ContactPoint.objects.filter(person=person).values_list("kind", "normalized")
    assert set(stored) == {("mobile", "+380671234567"), ("phone", "+380445556677")}

    # then: the company's people tab lists the person with a phone
    page.goto(f"{live_server.url}/contacts/companies/{company.pk}/")
    page.get_by_test_id("tab-people").click()
    row = page.get_by_test_id("people").get_by_test_id("person")
    expect(row).to_contain_text("Коваленко")
    expect(row.locator('a[href^="tel:+380"]')).to_have_count(1)


def test_log_call_from_card_prepends_it_without_reload(page: Page, live_server, rep):
    # given
    company, person = caller(rep)
    InteractionFactory(
        company=company,
        person=person,
        subject="Перша зустріч",
        channel=InteractionChannel.MEETING,
        occurred_at=timezone.now() - timedelta(days=1),
    )
    login(page, live_server, rep)
    page.goto(f"{live_server.url}/contacts/companies/{company.pk}/")
    timeline = page.get_by_test_id("timeline")
    expect(timeline.get_by_test_id("interaction")).to_have_count(1)
    page.evaluate("window.__marker = 1")

    # when
    page.get_by_test_id("log-call").click()
    form = page.get_by_test_id("interaction-form")
    expect(form.locator("select[name=channel]")).to_have_value(InteractionChannel.CALL_OUT)
    expect(form.locator("input[name=subject]")).to_be_focused()
    form.locator("input[name=subject]").fill("Домовились про поставку")
    form.locator("select[name=person]").select_option(str(person.pk))
    form.get_by_test_id("interaction-save").click()

    # then: the form closes and the call is the first row of the timeline, on the same page
    expect(page.get_by_test_id("interaction-form")).to_have_count(0)
    rows = timeline.get_by_test_id("interaction")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Домовились про поставку")
    expect(rows.first).to_contain_text(str(person))
    expect(rows.nth(1)).to_contain_text("Перша зустріч")
    assert page.evaluate("window.__marker") == 1
    logged = Interaction.objects.get(subject="Домовились про поставку")
    assert (logged.company, logged.person, logged.user, logged.channel) == (
        company,
        person,
        rep,
        InteractionChannel.CALL_OUT,
    )


def test_search_box_finds_person_by_phone_in_another_format(page: Page, live_server, rep):
    # given
    _company, person = caller(rep)
    login(page, live_server, rep)

    # when
    box = page.get_by_test_id("search-input")
    box.fill("0671234567")

    # then
    dropdown = page.get_by_test_id("search-dropdown")
    expect(dropdown).to_be_visible()
    options = dropdown.get_by_test_id("search-option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Петренко Іван")

    # when: the keyboard picks it
    box.press("ArrowDown")
    expect(options.first).to_have_class(re.compile(r"\bactive\b"))
    box.press("Enter")

    # then
    expect(page).to_have_url(f"{live_server.url}/contacts/people/{person.pk}/")
    expect(page.get_by_test_id("person-name")).to_contain_text("Петренко Іван")


def test_caller_lookup_shows_card_and_prefills_log_form(page: Page, live_server, rep):
    # given
    company, person = caller(rep)
    yesterday = timezone.now() - timedelta(days=1)
    InteractionFactory(company=company, person=person, subject="Запит ціни", occurred_at=yesterday - timedelta(hours=2))
    InteractionFactory(company=company, person=person, subject="Відправили рахунок", occurred_at=yesterday)
    login(page, live_server, rep)

    # when
    page.goto(f"{live_server.url}/contacts/lookup/?phone=067-123-45-67")

    # then: the person's card with the last interactions
    expect(page.get_by_test_id("lookup-results")).to_contain_text("+380671234567")
    card = page.get_by_test_id("lookup-card")
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-kind", "person")
    expect(card).to_contain_text("Петренко Іван")
    expect(card).to_contain_text("ТОВ Весна")
    expect(card.locator('a[href="tel:+380671234567"]')).to_have_count(1)
    interactions = card.get_by_test_id("lookup-interaction")
    expect(interactions).to_have_count(2)
    expect(card).to_contain_text("Запит ціни")
    expect(card).to_contain_text("Відправили рахунок")

    # when
    card.get_by_test_id("log-call").click()

    # then: the log form, pre-filled for an incoming call from this person
    expect(page).to_have_url(re.compile(rf"/contacts/companies/{company.pk}/interactions/new/\?"))
    form = page.get_by_test_id("interaction-form")
    expect(form.locator("select[name=channel]")).to_have_value(InteractionChannel.CALL_IN)
    expect(form.locator("select[name=person]")).to_have_value(str(person.pk))
    expect(form.locator("input[name=subject]")).to_have_value(re.compile(r"\+380671234567"))

    # when: saved as it is
    form.get_by_test_id("interaction-save").click()

    # then: back on the company card, at the top of its timeline
    expect(page).to_have_url(f"{live_server.url}/contacts/companies/{company.pk}/")
    first = page.get_by_test_id("timeline").get_by_test_id("interaction").first
    expect(first).to_contain_text("+380671234567")
    assert Interaction.objects.filter(company=company, channel=InteractionChannel.CALL_IN, user=rep).count() == 1


def test_import_shows_bad_row_error_and_imports_good_rows(page: Page, live_server, rep, settings, tmp_path):
    # given: three companies, the second with an EDRPOU whose check digit is wrong
    settings.MEDIA_ROOT = tmp_path / "media"
    good, bad, other = "14360570", "14360571", "21560766"
    assert all(edrpou_is_valid(code) for code in (good, other))
    assert not edrpou_is_valid(bad)
    csv_file = tmp_path / "клієнти.csv"
    csv_file.write_text(
        "Назва;ЄДРПОУ;Телефон\n"
        f"ТОВ Перший;{good};067 111 22 33\n"
        f"ТОВ Помилковий;{bad};067 111 22 44\n"
        f"ТОВ Третій;{other};+380 44 222-33-44\n",
        encoding="utf-8",
    )
    login(page, live_server, rep)

    # when: upload
    page.goto(f"{live_server.url}/contacts/imports/")
    upload = page.get_by_test_id("import-upload-form")
    upload.locator("input[type=file]").set_input_files(csv_file)
    upload.locator("[type=submit]").click()

    # then: the mapping step guessed the columns from their names
    mapping = page.get_by_test_id("import-map-form")
    expect(mapping.locator("select[name=col_0]")).to_have_value("name")
    expect(mapping.locator("select[name=col_1]")).to_have_value("edrpou")
    expect(mapping.locator("select[name=col_2]")).to_have_value("phone")

    # when: check the file
    mapping.locator("[type=submit]").click()

    # then: the preview lists the bad row with its error, and nothing is written yet
    preview = page.get_by_test_id("import-preview")
    expect(preview.get_by_test_id("import-totals")).to_contain_text("New: 2")
    expect(preview.get_by_test_id("import-totals")).to_contain_text("With errors: 1")
    bad_row = preview.locator("[data-testid=import-rows] tbody tr[data-outcome=error]")
    expect(bad_row).to_have_count(1)
    expect(bad_row).to_contain_text("ТОВ Помилковий")
    expect(bad_row).to_contain_text("wrong check digit")
    expect(preview.locator("tbody tr[data-outcome=new]")).to_have_count(2)
    assert not Company.objects.exists()

    # when: import
    preview.get_by_test_id("import-confirm").click()

    # then: the job page reaches Done and the two good companies exist, with their phones
    expect(page).to_have_url(re.compile(r"/jobs/\d+/"))
    expect(page.get_by_test_id("job-status")).to_have_text("Done", timeout=15_000)
    assert set(Company.objects.values_list("edrpou", flat=True)) == {good, other}
    assert set(Company.objects.values_list("owner", flat=True)) == {rep.pk}
    phones = ContactPoint.objects.filter(company__edrpou=other).values_list("normalized", flat=True)
    assert list(phones) == ["+380442223344"]


def test_merge_duplicates_moves_person_to_survivor(page: Page, live_server):
    # given: a representative's two companies with the same EDRPOU, merged by the team's manager
    team = TeamFactory()
    rep = make_user(Role.SALES_REP, team=team)
    manager = make_user(Role.SALES_MANAGER, team=team)
    team.manager = manager
    team.save()
    older = CompanyFactory(owner=rep, name="ТОВ Сонях", edrpou="30991664", city="Київ")
    newer = CompanyFactory(owner=rep, name="Сонях ТОВ", edrpou="30991664", city="Бровари")
    moved = PersonFactory(company=newer, last_name="Шевчук", first_name="Олена")
    login(page, live_server, manager)

    # when
    page.goto(f"{live_server.url}/contacts/duplicates/")
    pair = page.get_by_test_id("duplicate-pair")
    expect(pair).to_have_count(1)
    expect(pair).to_contain_text("ТОВ Сонях")
    expect(pair).to_contain_text("Сонях ТОВ")
    pair.get_by_test_id("merge-link").click()

    # then: the merge screen keeps the older record by default; pick the newer one's city
    expect(page).to_have_url(re.compile(r"/contacts/merge/\?"))
    expect(page.locator(f"input[name=survivor][value='{older.pk}']")).to_be_checked()
    page.locator("tr[data-field=city] input[value=second]").check()
    page.get_by_test_id("merge-submit").click()

    # then: the survivor's card, with the chosen value and the moved person
    expect(page).to_have_url(f"{live_server.url}/contacts/companies/{older.pk}/")
    expect(page.get_by_test_id("company-name")).to_have_text("ТОВ Сонях")
    expect(page.get_by_role("main")).to_contain_text("Бровари")
    page.get_by_test_id("tab-people").click()
    expect(page.get_by_test_id("people").get_by_test_id("person")).to_contain_text("Шевчук Олена")
    assert not Company.objects.filter(pk=newer.pk).exists()
    moved.refresh_from_db()
    assert moved.company_id == older.pk
    older.refresh_from_db()
    assert older.city == "Бровари"


def test_filter_the_company_list_by_region(page: Page, live_server, rep):
    CompanyFactory(owner=rep, name="ТОВ Львівські пекарні", region="lviv")
    CompanyFactory(owner=rep, name="ТОВ Одеський порт", region="odesa")
    login(page, live_server, rep)

    page.goto(f"{live_server.url}/contacts/companies/")
    page.locator("[aria-controls=list-filters]").click()
    page.locator("#id_region").select_option("lviv")  # the form arrives when the panel opens
    page.locator("#list-filter-form [type=submit]").click()

    expect(page.get_by_test_id("row")).to_have_count(1)
    expect(page.get_by_test_id("row")).to_contain_text("Львівські пекарні")
    assert "region=lviv" in page.url

    page.reload()  # a filtered list shows its filter as a chip; clicking the chip removes the filter
    page.get_by_test_id("active-filter").click()
    expect(page.get_by_test_id("row")).to_have_count(2)
    expect(page.get_by_test_id("active-filter")).to_have_count(0)
    assert "region" not in page.url


def test_bulk_tag_and_saved_filters_load_when_needed(page: Page, live_server, rep):
    spring = CompanyFactory(owner=rep, name="ТОВ Весна")
    CompanyFactory(owner=rep, name="ТОВ Зима")
    services_lists.saved_filter_create(actor=rep, target="company", name="Мої VIP", query="tag=vip")
    login(page, live_server, rep)

    page.goto(f"{live_server.url}/contacts/companies/?sort=name")
    expect(page.get_by_test_id("bulk-hint")).to_be_visible()
    page.get_by_role("checkbox", name="ТОВ Весна").check()  # the action controls arrive with the first check
    page.locator("#bulk_action").select_option("tag_add")
    page.locator("#bulk_tag").fill("vip")
    page.get_by_role("button", name="Apply to selected").click()

    expect(page.get_by_test_id("row")).to_have_count(2)
    spring.refresh_from_db()
    assert spring.tags == ["vip"]
    page.get_by_test_id("saved-filters").get_by_role("button").click()  # its items load when it opens
    page.get_by_test_id("saved-filter").filter(has_text="Мої VIP").click()
    expect(page.get_by_test_id("row")).to_have_count(1)
    expect(page.get_by_test_id("row")).to_contain_text("ТОВ Весна")
