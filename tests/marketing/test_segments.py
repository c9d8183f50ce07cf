"""Target groups (issue #12, item 4): dynamic from a saved filter, frozen static lists, counts by Celery with
their age, a group that matches nobody, the export of potential clients (formula-escaped, big ones as a Job)."""

import csv
import io
from datetime import timedelta

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from contacts.filters import list_filter
from contacts.models import Company, Consent, Person, Region, SavedFilter
from crm.models import Job, Role
from marketing import selectors_segments as sel
from marketing import services_segments as services
from marketing.models import Segment, SegmentKind, SegmentMember, SegmentTarget
from marketing.tasks_segments import segment_count_task
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, ContactPointFactory, PersonFactory
from tests.crm.factories import TeamFactory
from tests.marketing.factories import CampaignFactory, SegmentFactory

pytestmark = pytest.mark.django_db

LIST = reverse("marketing:segment-list")


@pytest.fixture
def marketer(db):
    return make_user(Role.MARKETING)


@pytest.fixture
def kyiv_people(owner, outsider):
    """Three people of Kyiv companies (of two different owners), one of Lviv."""
    kyiv = CompanyFactory(owner=owner, name="ТОВ Київ-Агро", region=Region.KYIV_OBLAST, city="Київ", edrpou="00032129")
    other = CompanyFactory(owner=outsider, name="ТОВ Столиця", region=Region.KYIV_OBLAST, city="Київ")
    lviv = CompanyFactory(owner=owner, name="ТОВ Львів", region=Region.LVIV)
    people = [
        PersonFactory(company=kyiv, last_name="Антоненко", first_name="Анна", position="Директор"),
        PersonFactory(company=kyiv, last_name="Бойко", first_name="Богдан"),
        PersonFactory(company=other, last_name="Вовк", first_name="Віра"),
    ]
    PersonFactory(company=lviv, last_name="Гнатюк", first_name="Галина")
    return people


def saved(user, target=SavedFilter.Target.PERSON, query=f"region={Region.KYIV_OBLAST}", **fields):
    return SavedFilter.objects.create(owner=user, target=target, query=query, name=fields.pop("name", "Київ"), **fields)


def dynamic(user, target=SavedFilter.Target.PERSON, query=f"region={Region.KYIV_OBLAST}", **fields) -> Segment:
    return services.segment_create(
        actor=user, name="Київ", kind=SegmentKind.DYNAMIC, saved_filter=saved(user, target, query), **fields
    )


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# --- which rows a group covers -------------------------------------------------------------------


def test_dynamic_segment_gives_the_rows_of_the_list_filter(marketer, director, kyiv_people):
    # given: a marketer's saved filter of the people list (Kyiv companies, names with "о")
    query = f"region={Region.KYIV_OBLAST}&q=%D0%BE%D0%B9%D0%BA"  # q=ойк
    segment = dynamic(marketer, query=query)
    # then: the same rows as the people list gives for that query to a user who sees every client
    expected = ids(list_filter(target="person", user=director, data=QueryDict(query)).qs)
    assert ids(sel.segment_people(segment=segment)) == expected == {kyiv_people[1].pk}
    assert (segment.kind, segment.target, segment.query) == (SegmentKind.DYNAMIC, SegmentTarget.PERSON, query)


def test_marketing_sees_the_whole_base_though_its_contacts_scope_is_own(marketer, kyiv_people):
    # the marketer's own people list is empty (contacts scope OWN) ...
    assert not list_filter(target="person", user=marketer, data=QueryDict(f"region={Region.KYIV_OBLAST}")).qs.exists()
    # ... but a target group is about the market: every Kyiv person, whoever owns the client
    segment = dynamic(marketer)
    assert ids(sel.segment_people(segment=segment)) == {person.pk for person in kyiv_people}


def test_a_group_of_a_scoped_owner_is_what_that_owners_list_shows(owner, kyiv_people):
    # given: a sales manager (team scope) owns a group; the rows of another team are not in it
    manager = make_user(Role.SALES_MANAGER, team=owner.team)
    segment = SegmentFactory(
        owner=manager, kind=SegmentKind.DYNAMIC, target="person", query=f"region={Region.KYIV_OBLAST}"
    )
    listed = ids(list_filter(target="person", user=manager, data=QueryDict(f"region={Region.KYIV_OBLAST}")).qs)
    assert ids(sel.segment_people(segment=segment)) == listed == {kyiv_people[0].pk, kyiv_people[1].pk}


def test_company_segment_people_and_person_segment_companies(marketer, kyiv_people):
    companies = dynamic(marketer, target=SavedFilter.Target.COMPANY, query="city=%D0%9A%D0%B8%D1%97%D0%B2")
    assert ids(sel.segment_companies(segment=companies)) == {person.company_id for person in kyiv_people}
    assert ids(sel.segment_people(segment=companies)) == {person.pk for person in kyiv_people}
    people = dynamic(marketer)
    assert ids(sel.segment_companies(segment=people)) == {person.company_id for person in kyiv_people}


def test_a_filter_no_longer_valid_matches_nobody_and_the_card_says_why(client, marketer, kyiv_people):
    segment = SegmentFactory(owner=marketer, kind=SegmentKind.DYNAMIC, target="person", query="industry=999999")
    people = sel.segment_people(segment=segment)
    assert not people.exists()
    people.values("pk").query.sql_with_params()  # compiles into campaign_members_add's INSERT … SELECT
    client.force_login(marketer)
    response = client.get(reverse("marketing:segment-detail", args=[segment.pk]))
    assert response.status_code == 200
    assert "no longer valid" in response.content.decode()


def test_create_refuses_an_invalid_filter_and_a_foreign_one(marketer, outsider):
    with pytest.raises(services.ValidationError) as error:
        services.segment_create(
            actor=marketer, name="X", kind=SegmentKind.DYNAMIC, saved_filter=saved(marketer, query="q=ab")
        )
    assert "saved_filter" in error.value.error_dict
    with pytest.raises(services.ValidationError) as error:
        services.segment_create(actor=marketer, name="X", kind=SegmentKind.DYNAMIC, saved_filter=saved(outsider))
    assert "saved_filter" in error.value.error_dict
    with pytest.raises(services.ValidationError):
        services.segment_create(actor=marketer, name="X", kind=SegmentKind.DYNAMIC)
    assert not Segment.objects.exists()


# --- static lists --------------------------------------------------------------------------------


def test_freeze_copies_the_rows_and_stays_put(marketer, kyiv_people):
    segment = dynamic(marketer)
    frozen = services.segment_freeze(segment=segment, actor=marketer)
    assert frozen.kind == SegmentKind.STATIC
    assert frozen.pk != segment.pk
    assert set(SegmentMember.objects.filter(segment=frozen).values_list("person_id", flat=True)) == {
        person.pk for person in kyiv_people
    }
    # a new Kyiv person joins the dynamic group, not the frozen list
    newcomer = PersonFactory(company=kyiv_people[0].company)
    assert newcomer.pk in ids(sel.segment_people(segment=segment))
    assert newcomer.pk not in ids(sel.segment_people(segment=frozen))
    with pytest.raises(services.ValidationError):
        services.segment_freeze(segment=frozen, actor=marketer)


def test_static_create_from_a_filter_and_members_by_id(marketer, kyiv_people):
    segment = services.segment_create(
        actor=marketer, name="Статична", kind=SegmentKind.STATIC, saved_filter=saved(marketer)
    )
    assert segment.kind == SegmentKind.STATIC
    assert SegmentMember.objects.filter(segment=segment).count() == 3
    extra = PersonFactory()
    assert services.segment_members_add(segment=segment, actor=marketer, ids=[extra.pk, kyiv_people[0].pk]) == 1
    assert services.segment_members_remove(segment=segment, actor=marketer, ids=[kyiv_people[0].pk]) == 1
    assert ids(sel.segment_people(segment=segment)) == {kyiv_people[1].pk, kyiv_people[2].pk, extra.pk}
    with pytest.raises(services.ValidationError) as error:
        services.segment_members_add(segment=segment, actor=marketer, ids=[10**12])
    assert "ids" in error.value.error_dict


def test_members_of_a_dynamic_group_are_refused(marketer, kyiv_people):
    segment = dynamic(marketer)
    with pytest.raises(services.ValidationError):
        services.segment_members_add(segment=segment, actor=marketer, ids=[kyiv_people[0].pk])


def test_members_form_shows_the_error_next_to_the_field(client, marketer):
    segment = SegmentFactory(owner=marketer, kind=SegmentKind.STATIC)
    client.force_login(marketer)
    response = client.post(reverse("marketing:segment-members", args=[segment.pk]), {"action": "add", "ids": "1, x"})
    assert response.status_code == 400
    assert "Enter whole numbers" in response.content.decode()
    assert not SegmentMember.objects.exists()


# --- counts --------------------------------------------------------------------------------------


def test_count_task_stores_the_count_and_the_page_shows_its_age(client, marketer, kyiv_people):
    segment = SegmentFactory(
        owner=marketer, kind=SegmentKind.DYNAMIC, target="person", query=f"region={Region.KYIV_OBLAST}"
    )
    assert segment_count_task(segment.pk) == 3
    segment.refresh_from_db()
    assert segment.member_count == 3
    assert segment.counted_at is not None
    Segment.objects.filter(pk=segment.pk).update(counted_at=timezone.now() - timedelta(minutes=5))
    assert segment_count_task(10**9) is None  # a group deleted meanwhile
    client.force_login(marketer)
    body = client.get(reverse("marketing:segment-detail", args=[segment.pk])).content.decode()
    assert "counted 5\xa0minutes ago" in body
    assert "counted 5\xa0minutes ago" in client.get(LIST).content.decode()


def test_create_queues_the_count_and_recount_enqueues(
    client, marketer, kyiv_people, django_capture_on_commit_callbacks
):
    client.force_login(marketer)
    filt = saved(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("marketing:segment-create"),
            {"name": "Київ", "saved_filter": filt.pk, "kind": "dynamic", "target": "person"},
        )
    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("marketing:segment-detail", args=[segment.pk])
    segment.refresh_from_db()
    assert segment.member_count == 3
    PersonFactory(company=kyiv_people[0].company)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("marketing:segment-recount", args=[segment.pk]), headers={"HX-Request": "true"})
    assert len(callbacks) == 1
    assert response.status_code == 200
    assert "every 2s" in response.content.decode()  # the partial polls until the worker stored the count
    segment.refresh_from_db()
    assert segment.member_count == 4


def test_recount_polls_until_the_count_is_stored(client, marketer):
    segment = SegmentFactory(owner=marketer, member_count=7, counted_at=timezone.now() - timedelta(hours=1))
    client.force_login(marketer)
    since = timezone.now().isoformat()
    url = reverse("marketing:segment-detail", args=[segment.pk])
    body = client.get(url, {"part": "count", "since": since}, headers={"HX-Request": "true"}).content.decode()
    assert "every 2s" in body
    assert "Counting" in body
    Segment.objects.filter(pk=segment.pk).update(counted_at=timezone.now())
    body = client.get(url, {"part": "count", "since": since}, headers={"HX-Request": "true"}).content.decode()
    assert "every 2s" not in body


def test_an_empty_segment_shows_zero_a_note_and_campaigns_still_plan_with_it(client, marketer):
    from marketing.services_campaigns import campaign_members_add

    segment = dynamic(marketer, query=f"region={Region.ODESA}")
    segment_count_task(segment.pk)
    client.force_login(marketer)
    body = client.get(reverse("marketing:segment-detail", args=[segment.pk])).content.decode()
    assert 'data-testid="member-count">0<' in body
    assert 'data-testid="segment-empty"' in body
    campaign = CampaignFactory(owner=marketer)
    campaign.segments.add(segment)
    assert campaign_members_add(campaign=campaign, actor=marketer) == 0
    assert campaign.name in client.get(reverse("marketing:segment-detail", args=[segment.pk])).content.decode()


# --- pages and access ----------------------------------------------------------------------------


def test_list_and_detail_queries_are_bounded(client, marketer, kyiv_people, django_assert_max_num_queries):
    for n in range(3):
        segment = dynamic(marketer)
        campaign = CampaignFactory(owner=marketer, name=f"Кампанія {n}")
        campaign.segments.add(segment)
    static = services.segment_freeze(segment=segment, actor=marketer)
    client.force_login(marketer)
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert response.content.decode().count('data-testid="segment-row"') == 4
    with django_assert_max_num_queries(14):
        response = client.get(reverse("marketing:segment-detail", args=[segment.pk]))
    assert response.content.decode().count('data-testid="segment-member"') == 3
    with django_assert_max_num_queries(14):
        response = client.get(reverse("marketing:segment-detail", args=[static.pk]))
    assert response.content.decode().count('data-testid="segment-member"') == 3


def test_list_htmx_partial_and_search(client, marketer):
    SegmentFactory(owner=marketer, name="Фермери")
    SegmentFactory(owner=marketer, name="Магазини")
    client.force_login(marketer)
    response = client.get(LIST, {"q": "ферм"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body
    assert "Фермери" in body
    assert "Магазини" not in body


def test_outsider_gets_404_and_no_permission_403(client, marketer, kyiv_people):
    segment = dynamic(marketer)
    stranger = make_user(Role.SALES_MANAGER, team=TeamFactory())  # may view groups, not this one
    client.force_login(stranger)
    for name in ("segment-detail", "segment-export"):
        assert client.get(reverse(f"marketing:{name}", args=[segment.pk])).status_code == 404
    rep = make_user(Role.SALES_REP)
    client.force_login(rep)
    assert client.get(LIST).status_code == 403
    assert client.post(reverse("marketing:segment-freeze", args=[segment.pk])).status_code == 403


def test_a_manager_reading_a_team_group_sees_only_own_scope(client, owner, kyiv_people):
    marketer = make_user(Role.MARKETING, team=owner.team)
    segment = dynamic(marketer, team=owner.team)
    manager = make_user(Role.SALES_MANAGER, team=owner.team)
    client.force_login(manager)
    body = client.get(reverse("marketing:segment-detail", args=[segment.pk])).content.decode()
    assert "Антоненко" in body
    assert "Вовк" not in body


def test_create_form_offers_the_users_saved_filters_and_bad_input(client, marketer, outsider):
    mine = saved(marketer, name="Мій фільтр")
    saved(outsider, name="Чужий фільтр")
    client.force_login(marketer)
    body = client.get(reverse("marketing:segment-create"), {"saved_filter": mine.pk}).content.decode()
    assert "Мій фільтр" in body
    assert "Чужий фільтр" not in body
    response = client.post(reverse("marketing:segment-create"), {"name": "", "kind": "dynamic", "target": "person"})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    response = client.post(reverse("marketing:segment-create"), {"name": "X", "kind": "dynamic", "target": "person"})
    assert "built from a saved filter" in response.content.decode()
    assert not Segment.objects.exists()


def test_update(client, marketer, team):
    segment = SegmentFactory(owner=marketer)
    client.force_login(marketer)
    response = client.post(
        reverse("marketing:segment-update", args=[segment.pk]), {"name": "Нова назва", "team": team.pk}
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.team) == ("Нова назва", team)


# --- export --------------------------------------------------------------------------------------


@pytest.fixture
def hostile(marketer):
    company = CompanyFactory(name='=HYPERLINK("http://evil.example","click")', edrpou="00032129",
                             region=Region.LVIV, city="-Львів")  # fmt: skip
    agreed = PersonFactory(company=company, last_name="Згодна", first_name="Ольга", position="+директор")
    ContactPointFactory(person=agreed, kind="email", value="olha@example.com", is_primary=True)
    ContactPointFactory(person=agreed, kind="mobile", value="067 123 45 67", is_primary=True)
    Consent.objects.create(person=agreed, channel="email", is_granted=True, given_at=timezone.now(), source="form")
    refused = PersonFactory(company=company, last_name="Незгодний", first_name="Іван")
    Consent.objects.create(person=refused, channel="email", is_granted=False, given_at=timezone.now(), source="call")
    return dynamic(marketer, query=f"region={Region.LVIV}")


def test_csv_export_escapes_formulas_and_has_consent(client, marketer, hostile):
    client.force_login(marketer)
    response = client.get(reverse("marketing:segment-export", args=[hostile.pk]), {"format": "csv"})
    assert response.status_code == 200
    assert response.streaming
    assert "attachment" in response["Content-Disposition"]
    header, *rows = read_csv(b"".join(response.streaming_content))
    assert header == ["Name", "Position", "Company", "EDRPOU code", "Region", "City", "E-mail", "Phone",
                      "Consent to e-mails"]  # fmt: skip
    by_name = {row[0]: row for row in rows}
    assert by_name["Згодна Ольга"] == [
        "Згодна Ольга", "'+директор", '\'=HYPERLINK("http://evil.example","click")', "00032129", "Lviv Oblast",
        "'-Львів", "olha@example.com", "'+380671234567", "yes",
    ]  # fmt: skip
    assert by_name["Незгодний Іван"][-1] == "no"
    response = client.get(
        reverse("marketing:segment-export", args=[hostile.pk]), {"format": "csv", "consented_only": "on"}
    )
    assert [row[0] for row in read_csv(b"".join(response.streaming_content))[1:]] == ["Згодна Ольга"]


def test_xlsx_export_keeps_a_formula_as_text(client, marketer, hostile):
    client.force_login(marketer)
    response = client.get(reverse("marketing:segment-export", args=[hostile.pk]), {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "Name"
    assert len(rows) == 3
    companies = {row[2] for row in rows[1:]}
    assert companies == {'\'=HYPERLINK("http://evil.example","click")'}
    assert all(sheet.cell(row=n, column=3).data_type == "s" for n in (2, 3))


def test_a_bad_export_format_goes_back_with_a_message(client, marketer, hostile):
    client.force_login(marketer)
    response = client.get(reverse("marketing:segment-export", args=[hostile.pk]), {"format": "pdf"})
    assert response.status_code == 302
    assert response.url == reverse("marketing:segment-detail", args=[hostile.pk])


def test_a_big_export_runs_as_a_job_with_progress(
    client, marketer, hostile, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    from marketing import exports

    settings.MEDIA_ROOT = tmp_path
    settings.MARKETING_EXPORT_INLINE_LIMIT = 1
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)
    client.force_login(marketer)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(reverse("marketing:segment-export", args=[hostile.pk]), {"format": "csv"})
    assert len(callbacks) == 1
    job = Job.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("crm:job-detail", args=[job.pk])
    assert (job.owner, job.kind, job.status, job.progress, job.total) == (marketer, "segment_export", "done", 2, 2)
    rows = read_csv(job.file.read())
    assert {row[0] for row in rows[1:]} == {"Згодна Ольга", "Незгодний Іван"}
    assert exports.segment_export_run(job_id=job.pk) is False  # a redelivered task leaves it alone
    page = client.get(reverse("crm:job-detail", args=[job.pk]))
    assert 'data-testid="job-download"' in page.content.decode()


def test_export_query_count_does_not_grow_with_rows(client, marketer, hostile, django_assert_max_num_queries):
    for _n in range(5):
        PersonFactory(company=Company.objects.get(region=Region.LVIV))
    client.force_login(marketer)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("marketing:segment-export", args=[hostile.pk]), {"format": "xlsx"})
    assert len(list(load_workbook(io.BytesIO(response.content)).active.values)) == 8
    assert Person.objects.count() == 7
