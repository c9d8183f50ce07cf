"""Global search: the crm registry, the contacts provider and the /contacts/search/ page and dropdown."""

import pytest
from django.urls import reverse
from django.utils import translation

from contacts import selectors_search
from crm import search
from tests.contacts.factories import CompanyFactory, ContactPointFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _search_wiring():
    # What ContactsConfig.ready() does once the lead wires it (idempotent: same key).
    selectors_search.register_search_provider()


def company_url(company):
    return reverse("contacts:company-detail", args=[company.pk])


def person_url(person):
    return reverse("contacts:person-detail", args=[person.pk])


def run(user, query):
    """{group key: [result titles]} of the global search."""
    return {group.key: [r.title for r in group.results] for group in search.search_all(user, query)}


@pytest.fixture
def taras(owner):
    person = PersonFactory(
        last_name="Шевченко", first_name="Тарас", patronymic="Григорович", company=CompanyFactory(owner=owner)
    )
    ContactPointFactory(person=person, kind="mobile", value="+380 67 123 45 67")
    return person


# The registry (crm/search.py) -------------------------------------------------------------------


def test_registry_accepts_callables_and_objects_and_orders_groups(owner):
    class Deals:
        label = "Deals"
        order = 30

        def search(self, user, query):
            return [search.SearchResult(title=f"Deal {query}", url="/d/1/")]

    key = search.register(Deals())
    try:
        groups = search.search_all(owner, "  ромашка   агро ")
        assert [g.key for g in groups if g.key not in {"companies", "people"}] == [key]
        assert groups[-1].results[0].title == "Deal ромашка агро"  # cleaned query: stripped, spaces collapsed
        assert search.register(Deals()) == key  # registering again replaces, never duplicates
        assert len([p for p in search.providers() if isinstance(p, Deals)]) == 1
    finally:
        search.unregister(key)


def test_registry_caps_groups_and_skips_empty_ones(owner):
    def many(user, query):
        results = [search.SearchResult(title=str(i), url=f"/{i}/") for i in range(20)]
        return [search.SearchGroup("many", "Many", results, order=1), search.SearchGroup("none", "None", [])]

    key = search.register(many)
    try:
        groups = search.search_all(owner, "xyz")
        assert [g.key for g in groups] == ["many"]
        assert len(groups[0].results) == search.GROUP_LIMIT
    finally:
        search.unregister(key)


def test_registry_runs_nothing_for_anonymous_or_empty_query(owner):
    from django.contrib.auth.models import AnonymousUser

    assert search.search_all(AnonymousUser(), "ромашка") == []
    assert search.search_all(owner, "   ") == []


# The contacts provider ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["+380 67 123 45 67", "067-123-45-67", "0671234567", "(067) 123 45 67", "380671234567", "1234567"]
)
def test_phone_in_any_format_or_a_tail_finds_the_person(owner, taras, query):
    assert run(owner, query) == {"people": ["Шевченко Тарас Григорович"]}


def test_phone_result_shows_the_matching_number_and_company(owner, taras):
    (group,) = search.search_all(owner, "0671234567")
    (result,) = group.results
    assert result.url == person_url(taras)
    assert "+380 67 123 45 67" in result.subtitle
    assert taras.company.name in result.subtitle


def test_short_digit_tail_does_not_search_phones(owner, taras):
    assert run(owner, "123456") == {}


def test_company_phone_lands_in_companies(owner):
    company = CompanyFactory(owner=owner, name="ТОВ Дзвінок")
    ContactPointFactory(company=company, kind="phone", value="044 555 12 34")
    assert run(owner, "+380445551234") == {"companies": ["ТОВ Дзвінок"]}


def test_typo_in_a_cyrillic_name_is_forgiven(owner, taras):
    assert run(owner, "Шевчеко")["people"] == ["Шевченко Тарас Григорович"]
    assert run(owner, "шевченко тарас")["people"] == ["Шевченко Тарас Григорович"]


@pytest.mark.parametrize("query", ["ромашка", "РОМАШКА", "Ромашк", "омашк", "ромашко"])
def test_company_name_is_case_and_typo_tolerant_in_cyrillic(owner, query):
    CompanyFactory(owner=owner, name="ТОВ Ромашка")
    assert run(owner, query)["companies"] == ["ТОВ Ромашка"]


def test_latin_names_are_case_insensitive_and_short_names_count(owner):
    CompanyFactory(owner=owner, name="Sunflower Trading LLC")
    CompanyFactory(owner=owner, name="Товариство з обмеженою відповідальністю «Агро-Світ»", short_name="Agrosvit")
    assert run(owner, "SUNFLOWER")["companies"] == ["Sunflower Trading LLC"]
    assert run(owner, "agrosvit")["companies"] == ["Товариство з обмеженою відповідальністю «Агро-Світ»"]


def test_exact_name_ranks_before_longer_names(owner):
    CompanyFactory(owner=owner, name="Ромашка Агро Трейд Україна")
    CompanyFactory(owner=owner, name="Ромашка")
    CompanyFactory(owner=owner, name="ТОВ Ромашка-Плюс")
    assert run(owner, "ромашка")["companies"][0] == "Ромашка"


def test_names_need_three_characters(owner):
    CompanyFactory(owner=owner, name="Ab")
    assert run(owner, "Ab") == {}


def test_email_is_found_case_insensitively(owner, taras):
    ContactPointFactory(person=taras, kind="email", value="Taras.Shevchenko@Example.com")
    assert run(owner, "TARAS.SHEVCHENKO@example.com ") == {"people": ["Шевченко Тарас Григорович"]}
    assert run(owner, "taras@example.com") == {}


def test_edrpou_finds_the_company(owner):
    CompanyFactory(owner=owner, name="АТ Банк", edrpou="14360570")
    assert run(owner, "14360570") == {"companies": ["АТ Банк"]}


def test_results_are_grouped_companies_first(owner, taras):
    ContactPointFactory(company=taras.company, kind="phone", value="+380671234567")
    groups = search.search_all(owner, "067 123 45 67")
    with translation.override("en"):
        assert [(g.key, str(g.label)) for g in groups] == [("companies", "Companies"), ("people", "People")]
    assert groups[0].results[0].url == company_url(taras.company)
    assert groups[0].results[0].icon == "building"
    assert groups[1].results[0].icon == "person"


def test_groups_are_bounded(owner):
    for i in range(12):
        CompanyFactory(owner=owner, name=f"ТОВ Ромашка {i}")
    assert len(run(owner, "Ромашка")["companies"]) == search.GROUP_LIMIT


def test_outsiders_clients_never_appear(owner, outsider):
    theirs = CompanyFactory(owner=outsider, name="ТОВ Ромашка Чужа", edrpou="21560766")
    ContactPointFactory(company=theirs, kind="phone", value="+380501112233")
    ContactPointFactory(company=theirs, kind="email", value="info@chuzha.ua")
    person = PersonFactory(company=theirs, last_name="Чужий", first_name="Петро")
    ContactPointFactory(person=person, kind="mobile", value="+380509998877")
    for query in ["Ромашка Чужа", "21560766", "0501112233", "info@chuzha.ua", "Чужий Петро", "0509998877"]:
        assert run(owner, query) == {}, query
        assert run(outsider, query) != {}, query


def test_teammates_shared_clients_appear_and_directors_see_all(owner, teammate, director):
    CompanyFactory(owner=teammate, name="ТОВ Спільна", is_shared=True)
    CompanyFactory(owner=teammate, name="ТОВ Приватна")
    assert run(owner, "Спільна") == {"companies": ["ТОВ Спільна"]}
    assert run(owner, "Приватна") == {}
    assert run(director, "Приватна") == {"companies": ["ТОВ Приватна"]}


def test_search_queries_are_constant(owner, django_assert_max_num_queries):
    for i in range(4):
        company = CompanyFactory(owner=owner, name=f"ТОВ Ромашка {i}")
        person = PersonFactory(company=company, last_name="Ромашко", first_name=f"Іван{i}")
        ContactPointFactory(company=company, kind="phone", value=f"+38044555000{i}")
        ContactPointFactory(person=person, kind="mobile", value=f"+38067555000{i}")
    owner = type(owner).objects.get(pk=owner.pk)  # fresh: role and team lookups count too
    # Per group: the names that contain the text, the typo-tolerant ones when those are few, their rank,
    # and the savepoint that scopes `SET LOCAL enable_seqscan` (savepoint, SET, release).
    with django_assert_max_num_queries(14):
        assert len(run(owner, "ромашк")["people"]) == 4
    with django_assert_max_num_queries(14):
        groups = run(owner, "5550")
        assert groups == {}  # 4 digits: not a phone, and no name contains "5550"
    with django_assert_max_num_queries(10):
        assert len(run(owner, "555000")) == 0
    owner = type(owner).objects.get(pk=owner.pk)
    with django_assert_max_num_queries(10):
        groups = run(owner, "5550001")
    assert len(groups["companies"]) == 1
    assert len(groups["people"]) == 1


# The view: full page, dropdown, redirect ---------------------------------------------------------


def test_full_page_lists_groups(client, owner, taras, django_assert_max_num_queries):
    ContactPointFactory(company=taras.company, kind="phone", value="+380671234567")
    client.force_login(owner)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("contacts:search"), {"q": "0671234567"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert 'data-group="companies"' in html
    assert 'data-group="people"' in html
    assert person_url(taras) in html
    assert company_url(taras.company) in html


def test_single_result_redirects_to_the_card(client, owner, taras):
    client.force_login(owner)
    response = client.get(reverse("contacts:search"), {"q": "067 123 45 67"})
    assert response.status_code == 302
    assert response["Location"] == person_url(taras)
    company = CompanyFactory(owner=owner, edrpou="14360570")
    response = client.get(reverse("contacts:search"), {"q": "14360570"})
    assert response["Location"] == company_url(company)


def test_htmx_returns_the_dropdown_partial_and_never_redirects(client, owner, taras):
    client.force_login(owner)
    response = client.get(reverse("contacts:search"), {"q": "Шевчеко"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-testid="search-option"' in html
    assert person_url(taras) in html
    assert "dropdown-header" in html
    assert "HX-Request" in response["Vary"]


def test_dropdown_says_nothing_found_or_too_short(client, owner):
    client.force_login(owner)
    hx = {"HX-Request": "true"}
    assert "Nothing found" in client.get(reverse("contacts:search"), {"q": "Неіснуюча"}, headers=hx).content.decode()
    assert "at least 3 letters" in client.get(reverse("contacts:search"), {"q": "аб"}, headers=hx).content.decode()
    assert client.get(reverse("contacts:search"), {"q": ""}, headers=hx).content.decode().strip() == ""


def test_full_page_with_nothing_found_and_hostile_input(client, owner):
    client.force_login(owner)
    response = client.get(reverse("contacts:search"), {"q": "<script>alert(1)</script>" + "я" * 500})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    assert 'data-testid="search-empty"' in html
    assert client.get(reverse("contacts:search")).status_code == 200  # no query: just the form


def test_outsider_search_page_shows_nothing_of_others(client, owner, outsider, taras):
    client.force_login(outsider)
    response = client.get(reverse("contacts:search"), {"q": "0671234567"})
    assert response.status_code == 200
    assert person_url(taras) not in response.content.decode()


def test_search_requires_login(client):
    response = client.get(reverse("contacts:search"), {"q": "ромашка"})
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_search_box_component_renders_for_the_navbar(rf, owner):
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = owner
    html = render_to_string("components/search_box.html", request=request)
    assert 'hx-get="/contacts/search/"' in html
    assert 'action="/contacts/search/"' in html
    assert 'hx-trigger="input changed delay:250ms, search"' in html
    assert "js/search.js" in html


def test_readonly_user_without_role_sees_only_own(readonly, owner, taras):
    CompanyFactory(owner=readonly, name="ТОВ Моя Ромашка")
    assert run(readonly, "ромашка") == {"companies": ["ТОВ Моя Ромашка"]}
    assert run(readonly, "0671234567") == {}


def test_manager_sees_the_teams_clients(manager, taras):
    assert run(manager, "0671234567") == {"people": ["Шевченко Тарас Григорович"]}


def test_a_name_typed_right_skips_the_typo_tolerant_scan(owner, django_assert_max_num_queries):
    from contacts.selectors_search import NAME_CANDIDATES, Query, person_search

    company = CompanyFactory(owner=owner)
    for i in range(NAME_CANDIDATES):
        PersonFactory(company=company, owner=owner, last_name="Шевченко", first_name=f"Тарас{i}")
    PersonFactory(company=company, owner=owner, last_name="Шевчекно", first_name="Опечатка")
    owner = type(owner).objects.get(pk=owner.pk)
    _ = owner.scope, owner.team_ids
    # Candidates that contain the text (inside savepoint + SET LOCAL + release), their rank.
    with django_assert_max_num_queries(5) as captured:
        found = person_search(user=owner, query=Query(text="шевченко"), limit=5)
    assert len(found) == 5
    assert not any("%>" in q["sql"] for q in captured.captured_queries)
    typo = person_search(user=owner, query=Query(text="шевчекно тарас"), limit=60)
    assert any(p.first_name == "Опечатка" for p in typo)
