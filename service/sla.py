"""Business time of the SLA clock: Mon–Fri working hours in Europe/Kyiv, minus Ukrainian public holidays.

Holidays come from the `holidays` package (no list kept here). Under martial law (from 24 February 2022)
Ukraine has no public days off, and the package returns none for those years; the year they come back,
an update of the package brings them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings

KYIV = ZoneInfo(settings.TIME_ZONE)
MAX_DAYS = 3660  # a target of years is a data error: stop instead of looping for ever


@dataclass(frozen=True)
class BusinessHours:
    day_starts: time = time(9)
    day_ends: time = time(18)
    around_the_clock: bool = False

    @classmethod
    def of(cls, policy: object | None) -> BusinessHours:
        """The hours of an SlaPolicy (or the default 09:00–18:00 working days without one)."""
        if policy is None:
            return cls()
        return cls(policy.day_starts, policy.day_ends, not policy.business_hours_only)


@lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("UA", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def _window(day: date, hours: BusinessHours) -> tuple[datetime, datetime]:
    return datetime.combine(day, hours.day_starts, tzinfo=KYIV), datetime.combine(day, hours.day_ends, tzinfo=KYIV)


def add_business_minutes(start: datetime, minutes: int, hours: BusinessHours) -> datetime:
    """The moment `minutes` of business time after `start` (aware); a deadline that ends a working day
    exactly stays on that day (17:59 Friday + 1 minute = 18:00 Friday, + 2 minutes = 09:01 Monday)."""
    if hours.around_the_clock:
        return start + timedelta(minutes=minutes)
    remaining = timedelta(minutes=minutes)
    moment = start.astimezone(KYIV)
    day = moment.date()
    for _ in range(MAX_DAYS):
        if is_working_day(day):
            opens, closes = _window(day, hours)
            begin = max(moment, opens)
            if begin < closes:
                if begin + remaining <= closes:
                    return begin + remaining
                remaining -= closes - begin
        day += timedelta(days=1)
        moment = datetime.combine(day, time(0), tzinfo=KYIV)
    raise ValueError("SLA target too long")


def business_minutes_between(start: datetime, end: datetime, hours: BusinessHours) -> int:
    """Whole minutes of business time in [start, end) (0 when end is not after start)."""
    if end <= start:
        return 0
    if hours.around_the_clock:
        return int((end - start).total_seconds() // 60)
    total = timedelta()
    start, end = start.astimezone(KYIV), end.astimezone(KYIV)
    day = start.date()
    while day <= end.date():
        if is_working_day(day):
            opens, closes = _window(day, hours)
            begin, finish = max(start, opens), min(end, closes)
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)
