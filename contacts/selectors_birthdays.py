"""Whose birthday is on a day: the daily birthday task and the "upcoming birthdays" widget.

Both filter by explicit (birth_month, birth_day) pairs, so PostgreSQL serves them with
contacts_person_birthday_idx (a bitmap OR of index scans) instead of computing a date per row
over a million people.
"""

from __future__ import annotations

import calendar
import operator
from datetime import date, timedelta
from functools import reduce

from django.db.models import Q, QuerySet

from contacts.models import Person
from crm.models import User


def celebrated_pairs(day: date) -> list[tuple[int, int]]:
    """(month, day) pairs celebrated on `day`: Feb 29 births celebrate on Feb 28 in a non-leap year."""
    pairs = [(day.month, day.day)]
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        pairs.append((2, 29))
    return pairs


def _pairs_condition(pairs: list[tuple[int, int]]) -> Q:
    return reduce(operator.or_, (Q(birth_month=month, birth_day=day) for month, day in pairs))


def birthday_people_on(day: date) -> QuerySet[Person]:
    """Everyone (no visibility filter: the caller is the daily task) who celebrates on `day`."""
    return Person.objects.filter(_pairs_condition(celebrated_pairs(day)))


SHOWN = (
    *("last_name", "first_name", "patronymic", "birth_day", "birth_month", "birth_year", "company_id"),
    *("company__name", "company__short_name"),
)


def upcoming_birthdays(*, user: User, start: date, days: int = 7, limit: int = 50) -> list[tuple[date, Person]]:
    """People visible to `user` celebrating in [start, start + days), by date then name, at most `limit`.

    One query per day until `limit` rows are found: a director sees ~2,700 birthdays a day at size L,
    and only the first rows are shown.
    """
    rows: list[tuple[date, Person]] = []
    visible = (
        Person.objects.visible_to(user)
        .select_related("company")
        .only(*SHOWN)  # the widget shows the name, the company and the age
        .order_by("last_name", "first_name", "pk")
    )
    for offset in range(max(0, min(days, 366))):
        if len(rows) >= limit:
            break
        day = start + timedelta(days=offset)
        people = visible.filter(_pairs_condition(celebrated_pairs(day)))[: limit - len(rows)]
        rows += [(day, person) for person in people]
    return rows
