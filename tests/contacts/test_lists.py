"""Company and person lists: filters, sorting, keyset pages, saved filters, bulk actions, export (issue 4: 6, 9, 12)."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from contacts import exports, selectors_lists, services_lists
from contacts.models import Company, CompanyRole, CompanyStatus, Industry, Person, Region, SavedFilter
from crm.models import Job, Role
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, ContactPointFactory, PersonFactory

pytestmark = pytest.mark.django_db

COMPANIES = reverse("contacts:company-list")
PEOPLE = reverse("contacts:person-list")
HTMX = {"HX-Request": "true"}


def row_names(response):
    return [str(row.name if isinstance(row, Company) else row) for row in response.context["page"].rows]


def listed(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return row_names(response)


def set_created(obj, when):
    type(obj).objects.filter(pk=obj.pk).update(created_at=when)


# --- page, partial, access ------------------------------------------------------------------------------


def test_unfiltered_list_loads_its_filter_form_on_demand(client, owner, django_assert_max_num_queries):
    """The collapsed filter panel of an unfiltered list holds a placeholder; the form comes from its own URL."""
    Industry.objects.create(name="Будівництво")
    client.force_login(owner)

    page = client.get(COMPANIES).content.decode()
    filtered = client.get(COMPANIES, {"region": Region.LVIV}).content.decode()
    with django_assert_max_num_queries(8):
        form = client.get(reverse("contacts:company-filter-form")).content.decode()

    assert 'name="region"' not in page
    assert reverse("contacts:company-filter-form") in page
    assert 'name="region"' not in filtered  # a valid filter shows as a chip; the form still loads on demand
    assert 'data-testid="active-filter"' in filtered
    assert f"{reverse('contacts:company-filter-form')}?region=lviv" in filtered
    assert 'id="list-filter-form"' in form
    assert "Будівництво" in form
    assert 'class="form-select"' in form
    assert 'name="q"' in client.get(reverse("contacts:person-filter-form")).content.decode()
    bound = client.get(reverse("contacts:company-filter-form"), {"region": Region.LVIV}).content.decode()
    assert '<option value="lviv" selected>' in bound


def test_active_filters_show_as_chips_that_remove_themselves(client, owner):
    from contacts.filters import list_filter

    client.force_login(owner)
    data = QueryDict("region=lviv&created_after=2026-11-01&tag=vip&sort=-name&cursor=abc")
    with translation.override("en"):
        chips = {chip.label: chip for chip in list_filter(target="company", user=owner, data=data).active_filters()}
        assert set(chips) == {"Region", "Created (from – to)", "Tag"}
        assert chips["Created (from – to)"].value == "≥ 01.11.2026"
        assert chips["Region"].value == str(Region.LVIV.label)
        assert QueryDict(chips["Region"].remove_query).dict() == {
            "created_after": "2026-11-01",
            "tag": "vip",
            "sort": "-name",
        }
        assert "created_after" not in chips["Created (from – to)"].remove_query
    invalid = client.get(COMPANIES, {"no_contact_days": "-5"}).content.decode()
    assert 'name="no_contact_days"' in invalid  # a filter with an error opens the form, message beside the field
    assert 'data-testid="active-filter"' not in invalid


def test_company_list_full_page_and_htmx_partial(client, owner):
    CompanyFactory(owner=owner, name="Альфа Трейд", short_name="Альфа")
    client.force_login(owner)

    page = client.get(COMPANIES)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<html" in html
    assert 'id="list-filter-form"' in html
    assert "Альфа Трейд" in html
    assert reverse("contacts:company-create") in html
    assert 'data-nav="companies"' in html
    assert 'data-nav="people"' in html
    assert page.headers["Vary"].count("HX-Request") == 1

    partial = client.get(COMPANIES, {"status": "active"}, headers=HTMX)
    body = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="list-results"')
    assert "Альфа Трейд" in body
    assert 'hx-swap-oob="true"' in body  # the filter form, with its messages


@pytest.mark.parametrize("url", [COMPANIES, PEOPLE])
def test_list_pages_have_unique_element_ids(client, owner, url):
    PersonFactory(company=CompanyFactory(owner=owner, tags=["vip"]))
    client.force_login(owner)
    ids = re.findall(r'\sid="([^"]+)"', client.get(url).content.decode())
    assert len(ids) == len(set(ids))


def test_htmx_history_restore_gets_the_full_page(client, owner):
    client.force_login(owner)
    response = client.get(COMPANIES, headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(COMPANIES)
    assert response.status_code == 302
    assert reverse("login") in response.url


def test_outsider_sees_none_of_another_reps_companies(client, owner, outsider):
    CompanyFactory(owner=owner, name="Моя компанія")
    PersonFactory(company=CompanyFactory(owner=owner), last_name="Шевченко")
    client.force_login(outsider)
    assert listed(client, COMPANIES) == []
    assert listed(client, PEOPLE) == []
    assert "Моя компанія" not in client.get(reverse("contacts:company-export"), {"format": "csv"}).content.decode()


def test_manager_sees_the_teams_companies_and_representative_only_own(client, owner, teammate, manager, outsider):
    CompanyFactory(owner=owner, name="Компанія власника")
    CompanyFactory(owner=teammate, name="Компанія колеги")
    CompanyFactory(owner=outsider, name="Чужа компанія")
    client.force_login(manager)
    assert sorted(listed(client, COMPANIES)) == ["Компанія власника", "Компанія колеги"]
    client.force_login(owner)
    assert listed(client, COMPANIES) == ["Компанія власника"]


# --- filters --------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(owner, teammate, outsider):
    """Companies of one team, each differing from "Base" in one filterable way; one stranger."""
    now = timezone.now()
    industry = Industry.objects.create(name="Агро")
    base = {"owner": owner, "status": CompanyStatus.ACTIVE, "region": Region.KYIV_CITY, "city": "Київ"}
    rows = {
        "Base": CompanyFactory(name="Base", last_contact_at=now - timedelta(days=1), **base),
        "Supplier": CompanyFactory(
            name="Supplier", roles=[CompanyRole.SUPPLIER, CompanyRole.PARTNER], last_contact_at=now, **base
        ),
        "Lost": CompanyFactory(name="Lost", **{**base, "status": CompanyStatus.LOST}, last_contact_at=now),
        "Lviv": CompanyFactory(name="Lviv", **{**base, "region": Region.LVIV, "city": "Львів"}, last_contact_at=now),
        "Teammate": CompanyFactory(name="Teammate", **{**base, "owner": teammate}, last_contact_at=now),
        "Tagged": CompanyFactory(name="Tagged", tags=["vip", "опт"], last_contact_at=now, **base),
        "Agro": CompanyFactory(name="Agro", industry=industry, last_contact_at=now, **base),
        "Old": CompanyFactory(name="Old", last_contact_at=now - timedelta(days=90), **base),
        "Never": CompanyFactory(name="Never", last_contact_at=None, **base),
        "Зерно Україна": CompanyFactory(name="Зерно Україна", last_contact_at=now, **base),
    }
    set_created(rows["Old"], now - timedelta(days=400))
    CompanyFactory(owner=outsider, name="Stranger Supplier", roles=[CompanyRole.SUPPLIER], tags=["vip"])
    return {"rows": rows, "industry": industry, "now": now}


def _date(delta_days):
    return timezone.localdate() + timedelta(days=delta_days)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"role": "supplier"}, {"Supplier"}),
        ({"status": "lost"}, {"Lost"}),
        ({"region": "lviv"}, {"Lviv"}),
        ({"city": "львів"}, {"Lviv"}),
        ({"tag": "VIP"}, {"Tagged"}),
        ({"tag": "опт"}, {"Tagged"}),
        ({"q": "зерно"}, {"Зерно Україна"}),
        ({"q": "UPPL"}, {"Supplier"}),
        ({"no_contact_days": "30"}, {"Old", "Never"}),
        ({"last_contact_before": str(_date(-30))}, {"Old"}),
        ({"last_contact_after": str(_date(-2)), "last_contact_before": str(_date(-1))}, {"Base"}),
        ({"created_before": str(_date(-100))}, {"Old"}),
        ({"status": "active", "role": "partner"}, {"Supplier"}),
    ],
)
def test_each_company_filter_narrows_the_list(client, manager, catalogue, params, expected):
    client.force_login(manager)
    assert set(listed(client, COMPANIES, **params)) == expected


def test_filter_by_owner_team_industry_and_created_after(client, manager, teammate, team, catalogue):
    client.force_login(manager)
    assert listed(client, COMPANIES, owner=teammate.pk) == ["Teammate"]
    assert len(listed(client, COMPANIES, team=team.pk)) == len(catalogue["rows"])
    assert listed(client, COMPANIES, industry=catalogue["industry"].pk) == ["Agro"]
    assert "Old" not in listed(client, COMPANIES, created_after=str(_date(-1)))


def test_outsiders_supplier_never_leaks_through_a_filter(client, owner, catalogue):
    client.force_login(owner)
    assert "Stranger Supplier" not in listed(client, COMPANIES, role="supplier", tag="vip")


def test_short_name_search_shows_a_message_next_to_the_field(client, owner, catalogue):
    client.force_login(owner)
    page = client.get(COMPANIES, {"q": "ab"})
    assert page.status_code == 200
    assert "at least 3 characters" in page.content.decode()
    partial = client.get(COMPANIES, {"q": "ab"}, headers=HTMX).content.decode()
    assert 'hx-swap-oob="true"' in partial
    assert "at least 3 characters" in partial


@pytest.mark.parametrize("params", [{"owner": "999999"}, {"no_contact_days": "abc"}, {"created_after": "32.13.2020"}])
def test_bad_filter_values_never_break_the_list(client, owner, catalogue, params):
    client.force_login(owner)
    response = client.get(COMPANIES, params)
    assert response.status_code == 200
    assert response.context["filter"].form.errors


def test_person_filters_use_the_company_and_the_birthday(client, owner, catalogue):
    this_month = timezone.localdate().month
    other_month = this_month % 12 + 1
    rows = catalogue["rows"]
    PersonFactory(company=rows["Supplier"], last_name="Коваль", first_name="Ірина", birth_day=1, birth_month=this_month)
    PersonFactory(company=rows["Lviv"], last_name="Бондар", first_name="Олег", birth_day=1, birth_month=other_month)
    PersonFactory(company=rows["Tagged"], last_name="Мельник", first_name="Анна")
    client.force_login(owner)
    assert listed(client, PEOPLE, birthday_this_month="on") == ["Коваль Ірина"]
    assert listed(client, PEOPLE, role="supplier") == ["Коваль Ірина"]
    assert listed(client, PEOPLE, region="lviv") == ["Бондар Олег"]
    assert listed(client, PEOPLE, tag="vip") == ["Мельник Анна"]
    assert listed(client, PEOPLE, q="мельн") == ["Мельник Анна"]
    assert listed(client, PEOPLE) == ["Бондар Олег", "Коваль Ірина", "Мельник Анна"]


# --- sorting and keyset pages ---------------------------------------------------------------------------


@pytest.fixture
def sortable(owner):
    """Names, last contacts (with ties and empties) and creation times in different orders."""
    now = timezone.now()
    specs = [
        ("Charlie", now - timedelta(days=3), 5),
        ("Alpha", None, 3),
        ("Echo", now - timedelta(days=1), 1),
        ("Bravo", now - timedelta(days=3), 4),  # same last contact as Charlie
        ("Delta", None, 2),
        ("Alpha", now - timedelta(days=7), 6),  # same name as the other Alpha
    ]
    rows = []
    for name, last, age in specs:
        company = CompanyFactory(owner=owner, name=name, last_contact_at=last)
        set_created(company, now - timedelta(days=age))
        rows.append(Company.objects.get(pk=company.pk))
    return rows


def expected_order(rows, sort):
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "name":
        return sorted(rows, key=lambda c: (c.name, c.pk), reverse=descending)
    if key == "created":
        return sorted(rows, key=lambda c: (c.created_at, c.pk), reverse=descending)
    valued = sorted((c for c in rows if c.last_contact_at), key=lambda c: (c.last_contact_at, c.pk), reverse=descending)
    empty = sorted((c for c in rows if not c.last_contact_at), key=lambda c: c.pk, reverse=descending)
    return valued + empty  # nulls last both ways


SORTS = ["name", "-name", "last_contact", "-last_contact", "created", "-created"]


@pytest.mark.parametrize("sort", SORTS)
def test_sort_orders(client, owner, sortable, sort):
    client.force_login(owner)
    response = client.get(COMPANIES, {"sort": sort})
    assert [c.pk for c in response.context["page"].rows] == [c.pk for c in expected_order(sortable, sort)]


@pytest.mark.parametrize("sort", SORTS)
def test_keyset_pages_follow_each_other_without_overlap(client, owner, sortable, sort, monkeypatch):
    monkeypatch.setattr(selectors_lists, "PAGE_SIZE", 2)
    client.force_login(owner)
    seen, url, pages = [], f"{COMPANIES}?sort={sort}&status=active", 0
    while url:
        response = client.get(url, headers=HTMX)
        seen += [c.pk for c in response.context["page"].rows]
        url = response.context["next_url"]
        if url:
            assert "status=active" in url
            assert f"sort={sort}" in url
        pages += 1
        assert pages <= 4
    assert seen == [c.pk for c in expected_order(sortable, sort)]
    assert pages == 3


def test_sort_header_links_toggle_the_direction_and_keep_the_filter(client, owner, sortable):
    client.force_login(owner)
    links = client.get(COMPANIES).context["sort_links"]
    assert links == {"name": f"{COMPANIES}?sort=-name", "last_contact": f"{COMPANIES}?sort=-last_contact"}
    links = client.get(COMPANIES, {"sort": "-last_contact", "status": "active"}).context["sort_links"]
    assert links["last_contact"] == f"{COMPANIES}?status=active&sort=last_contact"
    assert links["name"] == f"{COMPANIES}?status=active&sort=name"


def test_next_page_has_a_first_page_link_and_a_bad_cursor_shows_the_first_page(client, owner, sortable, monkeypatch):
    monkeypatch.setattr(selectors_lists, "PAGE_SIZE", 2)
    client.force_login(owner)
    first = client.get(COMPANIES)
    assert 'data-testid="first-page"' not in first.content.decode()
    second = client.get(first.context["next_url"])
    assert 'data-testid="first-page"' in second.content.decode()
    assert second.context["first_url"] == COMPANIES
    for cursor in ["garbage", "eyJzIjoibmFtZSJ9", "W10"]:
        response = client.get(COMPANIES, {"cursor": cursor})
        assert response.status_code == 200
        assert row_names(response) == row_names(first)


def test_person_list_pages_by_name(client, owner, monkeypatch):
    monkeypatch.setattr(selectors_lists, "PAGE_SIZE", 2)
    company = CompanyFactory(owner=owner)
    for last, first in [("Бойко", "Яна"), ("Бойко", "Андрій"), ("Авраменко", "Ігор"), ("Гнатюк", "Олена")]:
        PersonFactory(company=company, last_name=last, first_name=first)
    client.force_login(owner)
    first = client.get(PEOPLE)
    second = client.get(first.context["next_url"])
    assert row_names(first) + row_names(second) == [
        "Авраменко Ігор",
        "Бойко Андрій",
        "Бойко Яна",
        "Гнатюк Олена",
    ]


def test_list_queries_do_not_grow_with_rows(client, manager, teammate, django_assert_max_num_queries):
    client.force_login(manager)
    client.get(COMPANIES)  # warm the session and content types

    def count_queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    for owner in (manager, teammate, manager):
        person = PersonFactory(company=CompanyFactory(owner=owner, tags=["x"]))
        ContactPointFactory(person=person)
    few = count_queries(COMPANIES), count_queries(PEOPLE)
    for _ in range(7):
        PersonFactory(company=CompanyFactory(owner=teammate, roles=[CompanyRole.PARTNER]))
    assert (count_queries(COMPANIES), count_queries(PEOPLE)) == few
    with django_assert_max_num_queries(15):
        assert len(client.get(COMPANIES).context["page"].rows) == 10
    with django_assert_max_num_queries(15):
        assert len(client.get(PEOPLE, headers=HTMX).context["page"].rows) == 10


# --- saved filters --------------------------------------------------------------------------------------


def save_filter(client, name="VIP у Львові", query="region=lviv&tag=vip&cursor=abc", is_shared=False, target="company"):
    data = {"name": name, "query": query, "target": target}
    if is_shared:
        data["is_shared"] = "on"
    return client.post(reverse("contacts:saved-filter-create"), data)


def test_saved_filter_is_created_listed_and_applied(client, owner, catalogue):
    client.force_login(owner)
    response = save_filter(client)
    saved = SavedFilter.objects.get()
    assert (saved.owner, saved.team, saved.target, saved.is_shared) == (owner, owner.team, "company", False)
    assert saved.query == "region=lviv&tag=vip"  # no cursor, only filter parameters
    assert response.status_code == 302
    assert response.url == f"{COMPANIES}?region=lviv&tag=vip"

    page = client.get(COMPANIES).content.decode()
    assert reverse("contacts:company-saved-filters") in page  # the menu loads its items when opened
    menu = client.get(reverse("contacts:company-saved-filters")).content.decode()
    assert "VIP у Львові" in menu
    assert reverse("contacts:saved-filter-apply", args=[saved.pk]) in menu
    applied = client.get(reverse("contacts:saved-filter-apply", args=[saved.pk]), follow=True)
    assert row_names(applied) == []
    assert set(listed(client, COMPANIES, region="lviv")) == {"Lviv"}


def test_shared_filter_is_visible_to_the_team_only(client, owner, teammate, outsider):
    create = services_lists.saved_filter_create
    shared = create(actor=owner, target="company", name="Спільний", query="status=active", is_shared=True)
    private = create(actor=owner, target="company", name="Особистий", query="status=lost")
    apply_url = "contacts:saved-filter-apply"

    company_menu, person_menu = reverse("contacts:company-saved-filters"), reverse("contacts:person-saved-filters")
    client.force_login(teammate)
    menu = client.get(company_menu).content.decode()
    assert "Спільний" in menu
    assert "Особистий" not in menu
    assert client.get(reverse(apply_url, args=[shared.pk])).status_code == 302
    assert client.get(reverse(apply_url, args=[private.pk])).status_code == 404
    assert "Спільний" not in client.get(person_menu).content.decode()  # a company filter

    client.force_login(outsider)
    assert "Спільний" not in client.get(company_menu).content.decode()
    assert client.get(reverse(apply_url, args=[shared.pk])).status_code == 404


def test_only_the_owner_deletes_a_saved_filter(client, owner, teammate):
    client.force_login(owner)
    save_filter(client, name="Спільний", is_shared=True)
    saved = SavedFilter.objects.get()
    delete_url = reverse("contacts:saved-filter-delete", args=[saved.pk])

    client.force_login(teammate)
    assert client.post(delete_url).status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk).exists()

    client.force_login(owner)
    assert client.get(delete_url).status_code == 405
    response = client.post(delete_url)
    assert response.status_code == 302
    assert response.url == COMPANIES
    assert not SavedFilter.objects.exists()


def test_saved_filter_bad_input_shows_the_message_next_to_the_field(client, owner, readonly):
    client.force_login(owner)
    response = save_filter(client, name="   ")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode() or "Enter a name" in response.content.decode()
    assert not SavedFilter.objects.exists()

    client.force_login(readonly)  # no team: nothing to share with
    response = save_filter(client, name="Мій", is_shared=True)
    assert response.status_code == 200
    assert "You are not in a team" in response.content.decode()
    assert not SavedFilter.objects.exists()


def test_saved_filter_service_rejects_a_too_long_query(owner):
    with pytest.raises(ValidationError) as error:
        services_lists.saved_filter_create(actor=owner, target="company", name="x", query="city=" + "я" * 1900)
    assert "query" in error.value.message_dict


# --- bulk actions ---------------------------------------------------------------------------------------


def bulk(client, url_name="contacts:company-bulk", **data):
    return client.post(reverse(url_name), data)


def test_bulk_owner_change_touches_only_visible_rows_and_records_history(client, owner, teammate, outsider):
    mine = [CompanyFactory(owner=owner, name=f"Моя {n}") for n in range(3)]
    foreign = CompanyFactory(owner=outsider, name="Чужа")
    client.force_login(owner)
    response = bulk(client, action="owner", owner=teammate.pk, ids=[c.pk for c in [*mine, foreign]], query="sort=-name")
    assert response.status_code == 302
    assert response.url == f"{COMPANIES}?sort=-name"
    for company in mine:
        company.refresh_from_db()
        assert (company.owner, company.team) == (teammate, teammate.team)
        latest = company.history.first()
        assert latest.owner_id == teammate.pk
        assert latest.history_user_id == owner.pk
    foreign.refresh_from_db()
    assert foreign.owner == outsider
    assert foreign.history.count() == 1


def test_bulk_owner_change_to_someone_outside_the_team_is_refused(client, owner, outsider):
    company = CompanyFactory(owner=owner)
    client.force_login(owner)
    response = bulk(client, action="owner", owner=outsider.pk, ids=[company.pk])
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    with pytest.raises(ValidationError) as error:
        services_lists.company_bulk_change_owner(actor=owner, ids=[company.pk], owner=outsider)
    assert "owner" in error.value.message_dict
    inactive = make_user(Role.SALES_REP, team=owner.team, is_active=False)
    with pytest.raises(ValidationError):
        services_lists.company_bulk_change_owner(actor=owner, ids=[company.pk], owner=inactive)
    company.refresh_from_db()
    assert company.owner == owner


def test_user_without_role_changes_nothing_in_bulk(client, owner, readonly):
    company = CompanyFactory(owner=owner, tags=[])
    client.force_login(readonly)
    response = bulk(client, action="tag_add", tag="vip", ids=[company.pk], query="")
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.tags == []
    assert company.history.count() == 1


def test_bulk_tag_add_and_remove(client, owner, outsider):
    tagged = CompanyFactory(owner=owner, tags=["vip"])
    plain = CompanyFactory(owner=owner, tags=[])
    foreign = CompanyFactory(owner=outsider, tags=[])
    client.force_login(owner)
    bulk(client, action="tag_add", tag=" VIP ", ids=[tagged.pk, plain.pk, foreign.pk])
    assert [Company.objects.get(pk=c.pk).tags for c in (tagged, plain, foreign)] == [["vip"], ["vip"], []]
    assert tagged.history.count() == 1  # unchanged rows are not saved
    assert plain.history.count() == 2

    bulk(client, action="tag_remove", tag="vip", ids=[tagged.pk, plain.pk])
    assert [Company.objects.get(pk=c.pk).tags for c in (tagged, plain)] == [[], []]
    assert plain.history.first().tags == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "tag_add", "tag": ""}, "Enter a tag."),
        ({"action": "owner"}, "Choose the new owner."),
        ({"action": "explode"}, "Select a valid choice"),
        ({"action": "tag_add", "tag": "x", "ids": []}, "Select at least one row."),
        ({"action": "tag_add", "tag": "x", "ids": list(range(1, 150))}, "Select at most 100 rows."),
    ],
)
def test_bulk_bad_input_re_renders_the_list_with_the_message(client, owner, data, message):
    company = CompanyFactory(owner=owner, name="Незмінна")
    client.force_login(owner)
    response = bulk(client, **{"ids": [company.pk], **data})
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert "Незмінна" in content
    company.refresh_from_db()
    assert company.tags == []


def test_person_bulk_owner_change(client, owner, teammate, outsider):
    mine = PersonFactory(company=CompanyFactory(owner=owner))
    foreign = PersonFactory(company=CompanyFactory(owner=outsider))
    client.force_login(owner)
    response = bulk(client, "contacts:person-bulk", action="owner", owner=teammate.pk, ids=[mine.pk, foreign.pk])
    assert response.status_code == 302
    assert response.url == PEOPLE
    assert Person.objects.get(pk=mine.pk).owner == teammate
    assert Person.objects.get(pk=foreign.pk).owner == outsider
    assert mine.history.first().history_user_id == owner.pk
    refused = bulk(client, "contacts:person-bulk", action="tag_add", tag="vip", ids=[mine.pk])
    assert refused.status_code == 200  # people have no tags


def test_bulk_export_of_selected_rows(client, owner, outsider):
    chosen = CompanyFactory(owner=owner, name="Обрана")
    CompanyFactory(owner=owner, name="Не обрана")
    foreign = CompanyFactory(owner=outsider, name="Чужа")
    client.force_login(owner)
    response = bulk(client, action="export_csv", ids=[chosen.pk, foreign.pk])
    assert response.status_code == 200
    rows = read_csv(response.content)
    assert [row[0] for row in rows[1:]] == ["Обрана"]


# --- export ---------------------------------------------------------------------------------------------


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def exportable(owner):
    hostile = CompanyFactory(
        owner=owner,
        name='=HYPERLINK("http://evil.example","click")',
        edrpou="00032129",
        roles=[CompanyRole.CUSTOMER, CompanyRole.SUPPLIER],
        region=Region.LVIV,
        city="-Львів",
        last_contact_at=timezone.now(),
    )
    ContactPointFactory(company=hostile, kind="phone", value="044 123 45 67", is_primary=True)
    ContactPointFactory(company=hostile, kind="email", value="Office@Example.COM", is_primary=True)
    ContactPointFactory(company=hostile, kind="email", value="other@example.com", is_primary=False)
    CompanyFactory(owner=owner, name="Їжак і Ґудзик", city="@Київ")
    return hostile


def test_csv_export_escapes_formulas_and_keeps_cyrillic(client, owner, exportable, outsider):
    CompanyFactory(owner=outsider, name="Чужа")
    client.force_login(owner)
    response = client.get(reverse("contacts:company-export"), {"format": "csv", "sort": "name"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = read_csv(response.content)
    assert header[:3] == ["Name", "EDRPOU code", "Roles"]
    assert len(rows) == 2
    by_name = {row[0]: row for row in rows}
    hostile = by_name['\'=HYPERLINK("http://evil.example","click")']
    assert hostile[1:9] == [
        "00032129",
        "Customer, Supplier",
        "Active",
        "Lviv Oblast",
        "'-Львів",
        str(owner),
        "'+380441234567",
        "office@example.com",
    ]
    assert by_name["Їжак і Ґудзик"][5] == "'@Київ"


def test_xlsx_export(client, owner, exportable):
    client.force_login(owner)
    response = client.get(reverse("contacts:company-export"), {"format": "xlsx", "q": "HYPERLINK"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "Name"
    assert len(rows) == 2
    assert rows[1][0] == '\'=HYPERLINK("http://evil.example","click")'
    assert sheet.cell(row=2, column=1).data_type == "s"
    assert rows[1][5] == "'-Львів"


def test_person_export_has_company_and_birthday(client, owner):
    company = CompanyFactory(owner=owner, name="ТОВ Ромашка")
    person = PersonFactory(
        company=company, last_name="Іваненко", first_name="Петро", birth_day=9, birth_month=3, position="+директор"
    )
    ContactPointFactory(person=person, kind="mobile", value="067 123 45 67", is_primary=True)
    client.force_login(owner)
    response = client.get(reverse("contacts:person-export"), {"format": "csv"})
    header, row = read_csv(response.content)
    assert header[:5] == ["Name", "Position", "Company", "EDRPOU code", "Birthday"]
    assert row[:7] == ["Іваненко Петро", "'+директор", "ТОВ Ромашка", "", "09.03", str(owner), "'+380671234567"]


def test_export_with_an_invalid_filter_goes_back_to_the_list(client, owner):
    client.force_login(owner)
    response = client.get(reverse("contacts:company-export"), {"format": "csv", "q": "ab"})
    assert response.status_code == 302
    assert response.url == f"{COMPANIES}?q=ab"
    response = client.get(reverse("contacts:company-export"), {"format": "pdf"})
    assert response.status_code == 302


def test_escape_formula():
    assert [exports.escape_formula(v) for v in ["=1+1", "+1", "-1", "@A", "\tx", "\rx", "ok", "", "a=b"]] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@A",
        "'\tx",
        "'\rx",
        "ok",
        "",
        "a=b",
    ]


def test_big_export_runs_as_a_background_job(
    client, owner, outsider, monkeypatch, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(exports, "SYNC_EXPORT_LIMIT", 2)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)
    for n in range(3):
        CompanyFactory(owner=owner, name=f"=Компанія {n}", tags=["big"])
    CompanyFactory(owner=owner, name="Не та")
    CompanyFactory(owner=outsider, name="Чужа", tags=["big"])
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(reverse("contacts:company-export"), {"format": "csv", "tag": "big", "cursor": "x"})
    assert len(callbacks) == 1
    job = Job.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("crm:job-detail", args=[job.pk])
    assert (job.owner, job.kind, job.status) == (owner, "company_export", Job.Status.DONE)
    assert job.params == {"query": "tag=big", "format": "csv"}
    assert (job.progress, job.total) == (3, 3)
    rows = read_csv(job.file.read())
    assert sorted(row[0] for row in rows[1:]) == ["'=Компанія 0", "'=Компанія 1", "'=Компанія 2"]
    page = client.get(response.url).content.decode()
    assert reverse("crm:job-download", args=[job.pk]) in page


def test_big_person_export_to_xlsx_and_the_task_is_idempotent(
    client, owner, monkeypatch, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(exports, "SYNC_EXPORT_LIMIT", 1)
    company = CompanyFactory(owner=owner)
    PersonFactory.create_batch(2, company=company)
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("contacts:person-export"), {"format": "xlsx"})
    job = Job.objects.get()
    assert (job.kind, job.status) == ("person_export", Job.Status.DONE)
    assert job.file.name.endswith(".xlsx")
    assert len(list(load_workbook(job.file.open("rb")).active.values)) == 3
    assert exports.list_export_run(job_id=job.pk) is False  # a redelivered task does nothing


def test_navigation_lists_companies_and_people(client, owner):
    client.force_login(owner)
    html = client.get(reverse("crm:home")).content.decode()
    assert f'href="{COMPANIES}"' in html
    assert f'href="{PEOPLE}"' in html


def test_bulk_controls_load_on_demand_with_the_owners_the_user_may_assign(client, owner, teammate, outsider):
    client.force_login(owner)
    page = client.get(COMPANIES).content.decode()
    assert reverse("contacts:company-bulk-controls") in page
    assert 'name="owner"' not in page.split('id="bulk-form"')[1].split("</form>")[0]
    controls = client.get(reverse("contacts:company-bulk-controls")).content.decode()
    assert 'name="action"' in controls
    assert 'name="tag"' in controls
    assert f'value="{teammate.pk}"' in controls
    assert f'value="{outsider.pk}"' not in controls
    people = client.get(reverse("contacts:person-bulk-controls")).content.decode()
    assert 'name="owner"' in people
    assert 'name="tag"' not in people
