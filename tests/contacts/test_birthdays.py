import threading
from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connections

from contacts.models import BirthdayNotice
from contacts.selectors_birthdays import birthday_people_on, upcoming_birthdays
from contacts.services_reminders import birthdays_notify
from contacts.tasks import birthdays_notify_task
from crm.models import Notification, NotificationKind
from tests.conftest import make_user
from tests.contacts.factories import CompanyFactory, PersonFactory

KYIV = ZoneInfo("Europe/Kyiv")


def _person(owner, month, day, year=None, **fields):
    return PersonFactory(
        owner=owner, company=CompanyFactory(owner=owner), birth_month=month, birth_day=day, birth_year=year, **fields
    )


@pytest.mark.django_db
def test_people_on_a_day_include_feb_29_births_on_feb_28_of_a_common_year(owner):
    leap = _person(owner, 2, 29)
    feb28 = _person(owner, 2, 28)
    mar1 = _person(owner, 3, 1)
    _person(owner, 12, 31)

    assert set(birthday_people_on(date(2027, 2, 28))) == {leap, feb28}
    assert set(birthday_people_on(date(2028, 2, 28))) == {feb28}
    assert set(birthday_people_on(date(2028, 2, 29))) == {leap}
    assert set(birthday_people_on(date(2027, 3, 1))) == {mar1}


@pytest.mark.django_db
def test_upcoming_birthdays_are_visible_ones_ordered_by_celebration_day(owner, outsider, django_assert_num_queries):
    leap = _person(owner, 2, 29, 1990)
    first = _person(owner, 2, 26)
    last = _person(owner, 3, 3)
    _person(owner, 3, 4)  # outside the 7 days
    _person(outsider, 2, 27)  # not visible to owner

    with django_assert_num_queries(8):  # the user's roles, then one query per day, companies joined
        rows = upcoming_birthdays(user=owner, start=date(2027, 2, 25), days=7)
        companies = [person.company.name for _day, person in rows]
    assert [(day, person) for day, person in rows] == [
        (date(2027, 2, 26), first),
        (date(2027, 2, 28), leap),
        (date(2027, 3, 3), last),
    ]
    assert len(companies) == 3
    assert upcoming_birthdays(user=owner, start=date(2028, 2, 25), days=7)[1] == (date(2028, 2, 29), leap)
    # A limit stops at the first rows by date: a director's week at size L has ~19,000 birthdays.
    assert upcoming_birthdays(user=owner, start=date(2027, 2, 25), days=7, limit=2) == rows[:2]


@pytest.mark.django_db
def test_people_on_a_day_are_one_query(owner, django_assert_num_queries):
    for month, day in ((6, 15), (2, 28), (2, 29), (6, 16)):
        _person(owner, month, day)

    for day, expected in ((date(2027, 6, 15), 1), (date(2027, 2, 28), 2)):  # one pair, and the OR of two pairs
        with django_assert_num_queries(1):
            assert len(birthday_people_on(day)) == expected


def _notified_days(person):
    """{year: [local dates on which anyone was told about this person]} from the birthday notifications."""
    days: dict[int, list[date]] = {}
    for created in Notification.objects.filter(
        kind=NotificationKind.BIRTHDAY, url__endswith=f"/{person.pk}/"
    ).values_list("created_at", flat=True):
        local = created.astimezone(KYIV).date()
        days.setdefault(local.year, []).append(local)
    return days


@pytest.mark.django_db
def test_a_simulated_year_and_more_announces_each_person_once_per_year(owner):
    owner.team.share_birthdays = False
    owner.team.save()
    leap = _person(owner, 2, 29, 1992)
    feb28 = _person(owner, 2, 28)
    new_year = _person(owner, 1, 1, 1980)
    eve = _person(owner, 12, 31)
    summer = _person(owner, 7, 15, 2000)
    start, end = date(2027, 2, 1), date(2028, 3, 31)  # a common Feb 28, a year end and a leap Feb 29

    with time_machine.travel(datetime.combine(start, time(8), KYIV), tick=False) as traveller:
        day = start
        while day <= end:
            traveller.move_to(datetime.combine(day, time(8), KYIV))
            birthdays_notify()
            if day.day in (1, 15, 28, 29):  # a second beat process, or a retried task, on some days
                assert birthdays_notify() == 0
            day += timedelta(days=1)

    assert _notified_days(leap) == {2027: [date(2027, 2, 28)], 2028: [date(2028, 2, 29)]}
    assert _notified_days(feb28) == {2027: [date(2027, 2, 28)], 2028: [date(2028, 2, 28)]}
    assert _notified_days(new_year) == {2028: [date(2028, 1, 1)]}
    assert _notified_days(eve) == {2027: [date(2027, 12, 31)]}
    assert _notified_days(summer) == {2027: [date(2027, 7, 15)]}
    assert BirthdayNotice.objects.count() == 7
    assert Notification.objects.filter(kind=NotificationKind.BIRTHDAY).exclude(recipient=owner).count() == 0
    texts = dict(Notification.objects.filter(url__endswith=f"/{leap.pk}/").values_list("created_at__year", "body"))
    assert "turns 35" in texts[2027]
    assert "turns 36" in texts[2028]


@pytest.mark.django_db
def test_notification_names_person_company_age_and_links_to_the_card(owner):
    person = _person(owner, 5, 9, 1985)
    _person(owner, 5, 9)  # no year: no age

    assert birthdays_notify(today=date(2027, 5, 9)) == 2

    with_age = Notification.objects.get(recipient=owner, url=f"/contacts/people/{person.pk}/")
    assert with_age.kind == "birthday"
    assert str(person) in with_age.title
    assert person.company.name in with_age.title
    assert "turns 42 today" in with_age.body
    assert "Congratulate" in with_age.body
    without_age = Notification.objects.exclude(pk=with_age.pk).get(recipient=owner)
    assert "has a birthday today" in without_age.body
    assert "turns" not in without_age.body


@pytest.mark.django_db
def test_team_sharing_birthdays_tells_the_whole_team(owner, teammate, outsider):
    owner.team.share_birthdays = True
    owner.team.save()
    inactive = make_user(team=owner.team, is_active=False)
    person = _person(owner, 6, 1)

    birthdays_notify(today=date(2027, 6, 1))

    told = Counter(Notification.objects.filter(url__endswith=f"/{person.pk}/").values_list("recipient", flat=True))
    assert told == {owner.pk: 1, teammate.pk: 1}
    assert inactive.pk not in told
    assert outsider.pk not in told


@pytest.mark.django_db
def test_birthdays_are_processed_in_chunks(owner):
    people = [_person(owner, 4, 4) for _ in range(5)]

    assert birthdays_notify(today=date(2027, 4, 4), chunk=2) == 5
    assert birthdays_notify(today=date(2027, 4, 4), chunk=2) == 0

    assert Notification.objects.filter(recipient=owner).count() == 5
    assert set(BirthdayNotice.objects.values_list("person", flat=True)) == {p.pk for p in people}


@pytest.mark.django_db
def test_birthdays_task_uses_the_kyiv_date(owner):
    person = _person(owner, 3, 10)
    # 23:30 UTC on Mar 9 is already 01:30 on Mar 10 in Kyiv.
    with time_machine.travel(datetime(2027, 3, 9, 23, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        assert birthdays_notify_task.delay().get() == 1
    assert BirthdayNotice.objects.get().person == person


@pytest.mark.django_db(transaction=True)
def test_two_processes_at_once_announce_each_person_once(owner):
    # No e-mail: eager Celery tasks in two threads at once corrupt Celery's process-global
    # "join would block" flag (celery.result.denied_join_result), breaking later .get() calls.
    owner.email_notifications = False
    owner.save()
    people = [_person(owner, 8, 20) for _ in range(30)]
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(birthdays_notify(today=date(2027, 8, 20), chunk=7))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results)[1] + sorted(results)[0] == 30
    per_person = Counter(Notification.objects.filter(recipient=owner).values_list("url", flat=True))
    assert len(per_person) == 30
    assert set(per_person.values()) == {1}
    assert BirthdayNotice.objects.filter(person__in=people, year=2027).count() == 30
