"""Likely duplicates and the merge of two companies (issue 4, items 9 and 10)."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from contacts import registry
from contacts.merge import company_merge, distinctive_word, duplicate_pairs, merge_rows
from contacts.models import Company, CompanyRole, ContactPoint, Employment, Interaction, Person
from contacts.views.merge import CompanyMergeForm
from crm.models import Role
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, ContactPointFactory, InteractionFactory, PersonFactory

pytestmark = pytest.mark.django_db

DUPLICATES = reverse("contacts:duplicate-list")
MERGE = reverse("contacts:company-merge")

# Names that share no trigram-similar pair, so only the signal under test makes a pair.
NAMES = ["Альфа Трейд", "Бета Сервіс", "Гамма Логістик", "Дельта Агро", "Епсилон Медіа", "Зета Буд", "Іота Фарм"]


def company(owner, name, **fields):
    return CompanyFactory(owner=owner, name=name, **fields)


def merge_url(a, b):
    return f"{MERGE}?a={a.pk}&b={b.pk}"


def form_data(first, second, **choices):
    """The merge form as a user would submit it: the defaults, with `choices` changed."""
    form = CompanyMergeForm(first=first, second=second)
    data = {name: field.initial for name, field in form.fields.items()}
    return {**data, **choices}


def pair_keys(pairs):
    return {(pair.newer.pk, pair.older.pk): {reason.kind for reason in pair.reasons} for pair in pairs}


# -- Likely duplicates -------------------------------------------------------------------------


def test_duplicates_share_an_edrpou(client, owner):
    first = company(owner, NAMES[0], edrpou="32855961")
    second = company(owner, NAMES[1], edrpou="32855961")
    company(owner, NAMES[2], edrpou="14360570")
    client.force_login(owner)

    response = client.get(DUPLICATES)

    assert response.status_code == 200
    assert "<html" in response.content.decode()
    pairs = response.context["pairs"]
    assert pair_keys(pairs) == {(second.pk, first.pk): {"edrpou"}}
    content = response.content.decode()
    assert "Same EDRPOU 32855961" in content
    assert f"?a={first.pk}&amp;b={second.pk}" in content  # the Merge button
    assert str(owner) in content


def test_duplicates_share_a_phone_in_different_formats(owner):
    first, second, other = (company(owner, name) for name in NAMES[:3])
    ContactPointFactory(company=first, kind="phone", value="+380 67 123 45 67")
    ContactPointFactory(company=second, kind="mobile", value="067-123-45-67")
    ContactPointFactory(company=other, kind="phone", value="044 555 12 12")

    pairs, _cursor = duplicate_pairs(user=owner)

    assert pair_keys(pairs) == {(second.pk, first.pk): {"phone"}}
    assert pairs[0].reasons[0].label == "Same phone +380671234567"


def test_duplicates_share_an_email_of_the_company_or_of_its_people(owner):
    first, second, third = (company(owner, name) for name in NAMES[:3])
    ContactPointFactory(company=first, kind="email", value="Info@Romashka.ua")
    person = PersonFactory(company=second, owner=owner)
    ContactPointFactory(person=person, kind="email", value="info@romashka.ua ")
    ContactPointFactory(company=third, kind="email", value="sales@romashka.ua")

    pairs, _cursor = duplicate_pairs(user=owner)

    assert pair_keys(pairs) == {(second.pk, first.pk): {"email"}}
    assert pairs[0].reasons[0].label == "Same e-mail info@romashka.ua"


def test_duplicates_have_similar_names(client, owner):
    first = company(owner, "ТОВ Ромашка")
    second = company(owner, "ТОВ  Ромашка ЛТД")
    company(owner, "ПП Волошка Плюс")
    client.force_login(owner)

    response = client.get(DUPLICATES)

    assert pair_keys(response.context["pairs"]) == {(second.pk, first.pk): {"name"}}
    assert "Similar name (0.75)" in response.content.decode()


def test_duplicates_list_every_reason_of_a_pair_and_rank_stronger_pairs_first(owner):
    a, b, c, d = (company(owner, name) for name in NAMES[:4])
    Company.objects.filter(pk__in=[a.pk, b.pk]).update(edrpou="32855961")
    ContactPointFactory(company=a, kind="phone", value="0671234567")
    ContactPointFactory(company=b, kind="phone", value="+380671234567")
    ContactPointFactory(company=c, kind="email", value="x@example.com")
    ContactPointFactory(company=d, kind="email", value="X@example.com")

    pairs, _cursor = duplicate_pairs(user=owner)

    assert [(p.newer.pk, p.older.pk) for p in pairs] == [(b.pk, a.pk), (d.pk, c.pk)]
    assert {r.kind for r in pairs[0].reasons} == {"edrpou", "phone"}


def test_representative_sees_no_pair_with_a_company_they_cannot_see(client, owner, outsider, director):
    mine = company(owner, NAMES[0], edrpou="32855961")
    theirs = company(outsider, NAMES[1], edrpou="32855961")
    ContactPointFactory(company=mine, kind="phone", value="0671234567")
    ContactPointFactory(company=theirs, kind="phone", value="0671234567")
    company(owner, "ТОВ Ромашка")
    company(outsider, "ТОВ Ромашка ЛТД")
    client.force_login(owner)

    response = client.get(DUPLICATES)

    assert response.status_code == 200
    assert response.context["pairs"] == []
    assert NAMES[1] not in response.content.decode()
    assert "Ромашка ЛТД" not in response.content.decode()
    assert len(duplicate_pairs(user=director)[0]) == 2  # the whole organisation


def test_representative_sees_pairs_of_team_companies_shared_with_them(owner, teammate, manager):
    mine = company(owner, NAMES[0], edrpou="32855961")
    shared = company(teammate, NAMES[1], edrpou="32855961", is_shared=True)
    company(teammate, NAMES[2], edrpou="32855961")  # not shared: invisible to owner

    assert pair_keys(duplicate_pairs(user=owner)[0]) == {(shared.pk, mine.pk): {"edrpou"}}
    assert len(duplicate_pairs(user=manager)[0]) == 3  # the manager sees the team's companies


def test_duplicates_page_through_older_companies_and_report_each_pair_once(owner):
    companies = [company(owner, name) for name in NAMES[:6]]
    for code, (older, newer) in enumerate([(0, 5), (1, 2), (3, 4)]):  # windows: 5 4 | 3 2 | 1 0
        Company.objects.filter(pk__in=[companies[older].pk, companies[newer].pk]).update(edrpou=f"1436057{code}")

    seen, cursor, pages = [], None, 0
    while True:
        pairs, cursor = duplicate_pairs(user=owner, before=cursor, window=2)
        seen += [(p.newer.pk, p.older.pk) for p in pairs]
        pages += 1
        if cursor is None:
            break

    assert pages == 3
    ids = [c.pk for c in companies]
    assert sorted(seen) == sorted([(ids[5], ids[0]), (ids[2], ids[1]), (ids[4], ids[3])])


def test_duplicates_htmx_request_gets_the_next_page_as_a_partial(client, owner):
    first = company(owner, NAMES[0], edrpou="32855961")
    second = company(owner, NAMES[1], edrpou="32855961")
    newest = company(owner, NAMES[2])
    client.force_login(owner)

    response = client.get(DUPLICATES, {"before": newest.pk}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert f'data-pair="{second.pk}-{first.pk}"' in content
    assert response["Vary"].count("HX-Request") == 1


def test_duplicates_page_ignores_a_bad_cursor(client, owner):
    client.force_login(owner)

    response = client.get(DUPLICATES, {"before": "1; DROP TABLE"})

    assert response.status_code == 200
    assert "No likely duplicates" in response.content.decode()


def test_duplicates_page_needs_a_login(client):
    response = client.get(DUPLICATES)

    assert response.status_code == 302
    assert reverse("login") in response.url


def test_duplicates_page_runs_a_constant_number_of_queries(client, director, django_assert_max_num_queries):
    owners = [make_user(Role.SALES_REP) for _ in range(3)]
    for i, user in enumerate(owners):
        a = company(user, f"{NAMES[i]} Перша", edrpou=f"3285596{i}")
        b = company(user, f"Друга {NAMES[i + 3]}", edrpou=f"3285596{i}")
        ContactPointFactory(company=a, kind="email", value=f"office{i}@example.com")
        ContactPointFactory(company=b, kind="email", value=f"office{i}@example.com")
        ContactPointFactory(company=a, kind="phone", value=f"04412345{i}0")
        ContactPointFactory(company=b, kind="phone", value=f"04412345{i}0")
        company(user, f"ТОВ Ромашка {'Я' * (i + 1)}")
    client.force_login(director)

    with django_assert_max_num_queries(11):
        response = client.get(DUPLICATES)

    assert response.status_code == 200
    assert len(response.context["pairs"]) >= 6
    assert response.content.decode().count('data-testid="duplicate-pair"') == len(response.context["pairs"])


# -- Merge screen ------------------------------------------------------------------------------


def test_merge_screen_shows_only_the_fields_that_differ(client, owner, teammate):
    first = company(owner, "ТОВ Ромашка", city="Київ", tags=["vip"], roles=[CompanyRole.CUSTOMER], website="")
    second = company(owner, "ТОВ Ромашка ЛТД", city="Київ", tags=["опт"], roles=[CompanyRole.CUSTOMER])
    Company.objects.filter(pk=second.pk).update(website="https://romashka.ua")
    client.force_login(owner)

    response = client.get(merge_url(first, second))

    assert response.status_code == 200
    content = response.content.decode()
    rows = [row.name for _field, row in response.context["form"].rows]
    assert rows == ["name", "website", "tags"]
    assert 'data-field="city"' not in content
    assert 'data-field="roles"' not in content
    assert 'data-field="tags"' in content
    assert "vip, опт" in content  # the union is offered
    assert "https://romashka.ua" in content


def test_merge_screen_defaults_lose_nothing(owner):
    first = company(owner, NAMES[0], tags=["vip"], interests=["папір"], notes="", needs="Папір А4")
    second = company(owner, NAMES[0], tags=["опт", "vip"], interests=["картон"], notes="<p>Важливо</p>", needs="Картон")

    rows = {row.name: row for row in merge_rows(first, second)}

    assert set(rows) == {"tags", "interests", "notes", "needs"}
    assert (rows["tags"].combined, rows["tags"].initial) == (None, "second")  # the second holds the union
    assert (rows["interests"].combined, rows["interests"].initial) == ("папір, картон", "combined")
    assert (rows["notes"].combined, rows["notes"].initial, rows["notes"].second) == (None, "second", "Важливо")
    assert (rows["needs"].combined, rows["needs"].initial) == ("Папір А4\n\nКартон", "combined")


def test_the_distinctive_word_of_a_name_skips_legal_forms():
    assert distinctive_word("ТОВ «Ромашка»") == "Ромашка"
    assert distinctive_word("Товариство з обмеженою відповідальністю Агро Трейд") == "Агро"
    assert distinctive_word("ПП ТОВ") is None


def test_merge_screen_htmx_request_gets_the_form_partial(client, owner):
    first, second = company(owner, NAMES[0]), company(owner, NAMES[1])
    client.force_login(owner)

    response = client.get(merge_url(first, second), headers={"HX-Request": "true"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert 'id="merge-form"' in content


@pytest.mark.parametrize("method", ["get", "post"])
def test_merge_screen_answers_404_when_a_company_is_not_visible(client, owner, outsider, method):
    mine, theirs = company(owner, NAMES[0]), company(outsider, NAMES[1])
    client.force_login(owner)

    response = getattr(client, method)(merge_url(mine, theirs), {"survivor": mine.pk} if method == "post" else {})

    assert response.status_code == 404
    assert Company.objects.filter(pk=theirs.pk).exists()


def test_merge_screen_answers_404_to_an_outsider(client, owner, outsider):
    first, second = company(owner, NAMES[0]), company(owner, NAMES[1])
    client.force_login(outsider)

    assert client.get(merge_url(first, second)).status_code == 404
    assert client.post(merge_url(first, second), form_data(first, second)).status_code == 404
    assert Company.objects.filter(pk__in=[first.pk, second.pk]).count() == 2


def test_merge_screen_without_two_ids_answers_404(client, owner):
    first = company(owner, NAMES[0])
    client.force_login(owner)

    assert client.get(MERGE).status_code == 404
    assert client.get(MERGE, {"a": first.pk, "b": "x"}).status_code == 404


def test_merging_a_company_with_itself_shows_a_message(client, owner):
    first = company(owner, NAMES[0])
    client.force_login(owner)

    response = client.post(f"{MERGE}?a={first.pk}&b={first.pk}", {"survivor": first.pk}, follow=True)

    assert response.status_code == 200
    assert "A company cannot be merged with itself." in [str(m) for m in response.context["messages"]]
    assert Company.objects.filter(pk=first.pk).exists()
    with pytest.raises(ValidationError, match="cannot be merged with itself"):
        company_merge(actor=owner, survivor=first, duplicate=first, values={})


def test_merge_with_a_bad_choice_shows_the_field_message_and_merges_nothing(client, owner):
    first, second = company(owner, NAMES[0]), company(owner, NAMES[1])
    client.force_login(owner)

    data = form_data(first, second, survivor="999", name="neither")
    response = client.post(merge_url(first, second), data, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert "Select a valid choice. 999 is not one of the available choices." in content
    assert "Select a valid choice. neither is not one of the available choices." in content
    assert Company.objects.filter(pk__in=[first.pk, second.pk]).count() == 2


def test_merge_with_an_empty_form_asks_for_every_choice(client, owner):
    first, second = company(owner, NAMES[0]), company(owner, NAMES[1])
    client.force_login(owner)

    response = client.post(merge_url(first, second), {})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"survivor", "name"}
    assert "This field is required." in response.content.decode()
    assert Company.objects.filter(pk__in=[first.pk, second.pk]).count() == 2


def test_merge_rejects_an_invalid_value_next_to_the_field(client, owner):
    first = company(owner, NAMES[0])
    second = company(owner, NAMES[1])
    Company.objects.filter(pk=second.pk).update(website="not a url")
    client.force_login(owner)

    response = client.post(merge_url(first, second), form_data(first, second, website="second"))

    assert response.status_code == 200
    assert "Enter a valid URL." in response.content.decode()
    assert response.context["form"].errors["website"]
    assert Company.objects.filter(pk__in=[first.pk, second.pk]).count() == 2


# -- Merge -------------------------------------------------------------------------------------


@pytest.fixture
def pair(owner, teammate):
    """Two records of one client with people, points, interactions and a former employee."""
    now = timezone.now()
    first = company(
        owner,
        "ТОВ Ромашка",
        edrpou="32855961",
        roles=[CompanyRole.CUSTOMER],
        tags=["vip"],
        interests=["папір"],
        notes="<p>Old client</p>",
        last_contact_at=now - timedelta(days=30),
    )
    second = company(
        owner,
        "ТОВ  Ромашка ЛТД",
        short_name="Ромашка",
        edrpou="32855961",
        roles=[CompanyRole.SUPPLIER],
        tags=["опт"],
        interests=["картон"],
        city="Львів",
        last_contact_at=now - timedelta(days=1),
    )
    ContactPointFactory(company=first, kind="phone", value="0671234567", is_primary=True)
    ContactPointFactory(company=second, kind="phone", value="+38 067 123 45 67", is_primary=True)  # same number
    ContactPointFactory(company=second, kind="phone", value="0445551212", is_primary=False)
    ContactPointFactory(company=second, kind="email", value="office@romashka.ua", is_primary=True)
    people = PersonFactory.create_batch(3, company=second, owner=owner)
    interactions = InteractionFactory.create_batch(3, company=second, person=people[0])
    former = PersonFactory(company=None, owner=owner)
    employment = Employment.objects.create(person=former, company=second, position="Бухгалтер")
    return {
        "first": first,
        "second": second,
        "people": people,
        "interactions": interactions,
        "employment": employment,
    }


def test_merge_moves_people_points_interactions_and_employments(client, owner, pair):
    first, second = pair["first"], pair["second"]
    client.force_login(owner)

    response = client.post(
        merge_url(first, second),
        form_data(
            first, second, survivor=first.pk, name="second", short_name="second", roles="combined", tags="combined"
        ),
    )

    assert response.status_code == 302
    assert response.url == reverse("contacts:company-detail", args=[first.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["The companies were merged into Ромашка."]
    assert not Company.objects.filter(pk=second.pk).exists()
    first.refresh_from_db()
    assert first.name == "ТОВ  Ромашка ЛТД"
    assert first.short_name == "Ромашка"
    assert first.city == "Львів"  # only the second had a city: its value is the default
    assert first.roles == [CompanyRole.CUSTOMER, CompanyRole.SUPPLIER]
    assert first.tags == ["vip", "опт"]
    assert first.interests == ["папір", "картон"]
    assert first.notes == "<p>Old client</p>"
    assert first.last_contact_at == pair["second"].last_contact_at
    assert set(Person.objects.filter(company=first)) == set(pair["people"])
    assert set(Interaction.objects.filter(company=first)) == set(pair["interactions"])
    assert Employment.objects.get(pk=pair["employment"].pk).company == first
    points = sorted(ContactPoint.objects.filter(company=first).values_list("kind", "normalized", "is_primary"))
    assert points == [
        ("email", "office@romashka.ua", True),
        ("phone", "+380445551212", False),
        ("phone", "+380671234567", True),  # the exact duplicate was dropped, the survivor's kept
    ]


def test_merge_keeps_the_second_record_when_chosen(owner, pair):
    first, second = pair["first"], pair["second"]

    notes = "<p>x</p><script>1</script>"
    survivor = company_merge(actor=owner, survivor=second, duplicate=first, values={"notes": notes})

    assert survivor.pk == second.pk
    assert not Company.objects.filter(pk=first.pk).exists()
    second.refresh_from_db()
    assert second.name == "ТОВ  Ромашка ЛТД"
    assert second.notes == "<p>x</p>"  # sanitised
    assert ContactPoint.objects.filter(company=second).count() == 3


def test_merge_is_recorded_in_history(owner, pair):
    first, second = pair["first"], pair["second"]

    company_merge(actor=owner, survivor=first, duplicate=second, values={"name": second.name})

    latest = first.history.latest()
    assert latest.history_change_reason == f"Merged with #{second.pk} ТОВ  Ромашка ЛТД"
    assert latest.history_user == owner
    assert latest.name == "ТОВ  Ромашка ЛТД"
    deleted = Company.history.filter(id=second.pk).latest()
    assert deleted.history_type == "-"
    assert deleted.history_change_reason == f"Merged into #{first.pk} ТОВ  Ромашка ЛТД"
    moved = pair["people"][0].history.latest()
    assert moved.company_id == first.pk
    assert moved.history_change_reason == f"Merged from #{second.pk} ТОВ  Ромашка ЛТД"
    assert pair["interactions"][0].history.latest().company_id == first.pk


def test_merge_calls_registered_handlers_inside_the_transaction(owner, pair, monkeypatch):
    monkeypatch.setattr(registry, "_merge_handlers", [])  # restored after the test
    calls = []

    def handler(duplicate, survivor, actor):
        calls.append((duplicate.pk, survivor.pk, actor, connection.in_atomic_block))
        assert Person.objects.filter(company=survivor).count() == 3  # contacts rows have moved already

    registry.register_merge_handler(handler)

    company_merge(actor=owner, survivor=pair["first"], duplicate=pair["second"], values={})

    assert calls == [(pair["second"].pk, pair["first"].pk, owner, True)]


def test_a_failing_handler_rolls_the_whole_merge_back(client, owner, pair, monkeypatch):
    monkeypatch.setattr(registry, "_merge_handlers", [])

    def handler(duplicate, survivor, actor):
        raise RuntimeError("deals could not move")

    registry.register_merge_handler(handler)
    first, second = pair["first"], pair["second"]
    client.force_login(owner)

    with pytest.raises(RuntimeError, match="deals could not move"):
        client.post(merge_url(first, second), form_data(first, second, survivor=first.pk, name="second"))

    assert Company.objects.filter(pk=second.pk).exists()
    first.refresh_from_db()
    assert first.name == "ТОВ Ромашка"
    assert Person.objects.filter(company=second).count() == 3
    assert Interaction.objects.filter(company=second).count() == 3
    assert ContactPoint.objects.filter(company=second).count() == 3
    assert Employment.objects.get(pk=pair["employment"].pk).company_id == second.pk
    assert not first.history.filter(history_change_reason__startswith="Merged").exists()


def test_merge_over_htmx_redirects_the_browser(client, owner, pair):
    first, second = pair["first"], pair["second"]
    client.force_login(owner)

    response = client.post(merge_url(first, second), form_data(first, second), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("contacts:company-detail", args=[first.pk])
    assert not Company.objects.filter(pk=second.pk).exists()


def test_merge_service_refuses_a_company_the_actor_cannot_edit(owner, outsider):
    mine, theirs = company(owner, NAMES[0]), company(outsider, NAMES[1])

    with pytest.raises(PermissionDenied):
        company_merge(actor=owner, survivor=mine, duplicate=theirs, values={})

    assert Company.objects.filter(pk=theirs.pk).exists()


def test_merge_service_refuses_an_unknown_field(owner):
    first, second = company(owner, NAMES[0]), company(owner, NAMES[1])

    with pytest.raises(ValidationError, match="cannot be merged: created_at"):
        company_merge(actor=owner, survivor=first, duplicate=second, values={"created_at": timezone.now()})

    assert Company.objects.filter(pk=second.pk).exists()
