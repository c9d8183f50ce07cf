"""Build a target group from a saved filter in a real browser (issue #12, item 13): the marketer saves a
filter on the people list, makes a dynamic group of it at /marketing/segments/ and sees its members and
their count (counted by the Celery task, eager in tests); then freezes it into a static list."""

import re

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Region, SavedFilter
from crm.models import Role
from marketing.models import Segment, SegmentKind
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, PersonFactory
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_segment_from_a_saved_filter(page: Page, live_server):
    # given: two people of Lviv companies (of sales reps) and one of Kyiv; a marketer
    marketer = make_user(Role.MARKETING)
    lviv = CompanyFactory(name="ТОВ Львівські Ласощі", region=Region.LVIV)
    PersonFactory(company=lviv, last_name="Гнатюк", first_name="Галина")
    PersonFactory(company=CompanyFactory(region=Region.LVIV), last_name="Дмитрук", first_name="Данило")
    PersonFactory(company=CompanyFactory(region=Region.KYIV_OBLAST), last_name="Київський", first_name="Кирило")
    login(page, live_server, marketer)

    # when: the people list filtered by region is saved as a filter
    page.goto(f"{live_server.url}/contacts/people/?region={Region.LVIV}")
    page.get_by_role("button", name=re.compile("Save this filter")).click()
    page.locator("#saved_filter_name").fill("Львівщина")
    page.locator("form:has(#saved_filter_name) [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/contacts/people/\?region=lviv"))
    saved = SavedFilter.objects.get(owner=marketer)
    assert saved.query == f"region={Region.LVIV}"

    # and a target group is made of it
    page.goto(f"{live_server.url}/marketing/segments/")
    page.get_by_test_id("new-segment").click()
    form = page.get_by_test_id("segment-form")
    form.locator("#id_name").fill("Клієнти Львівщини")
    form.locator("#id_saved_filter").select_option(str(saved.pk))
    form.get_by_test_id("save-segment").click()

    # then: the card shows the Lviv people (the whole market, not only the marketer's own clients) and the count
    expect(page).to_have_url(re.compile(r"/marketing/segments/\d+/$"))
    segment = Segment.objects.get()
    expect(page).to_have_url(f"{live_server.url}/marketing/segments/{segment.pk}/")
    expect(page.get_by_test_id("segment-name")).to_have_text("Клієнти Львівщини")
    members = page.get_by_test_id("segment-member")
    expect(members).to_have_count(2)
    expect(page.get_by_test_id("segment-members")).to_contain_text("Гнатюк Галина")
    expect(page.get_by_test_id("segment-members")).not_to_contain_text("Київський")
    page.reload()
    expect(page.get_by_test_id("member-count")).to_have_text("2")

    # when: it is frozen into a static list
    page.get_by_test_id("freeze-segment").click()

    # then: the copy is a static list with the same members
    expect(page).not_to_have_url(f"{live_server.url}/marketing/segments/{segment.pk}/")
    copy = Segment.objects.exclude(pk=segment.pk).get()
    assert copy.kind == SegmentKind.STATIC
    expect(page).to_have_url(f"{live_server.url}/marketing/segments/{copy.pk}/")
    expect(page.get_by_test_id("segment-member")).to_have_count(2)
    expect(page.get_by_test_id("members-form")).to_be_visible()

    # and the list shows both groups
    page.goto(f"{live_server.url}/marketing/segments/")
    expect(page.get_by_test_id("segment-row")).to_have_count(2)
