"""The SLA clock: business minutes in Europe/Kyiv, weekends, Ukrainian public holidays (from `holidays`)."""

from datetime import datetime, time

import pytest

from service.sla import KYIV, BusinessHours, add_business_minutes, business_minutes_between, is_working_day

HOURS = BusinessHours(time(9), time(18))


def kyiv(*args: int) -> datetime:
    return datetime(*args, tzinfo=KYIV)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # Inside one working day.
        (kyiv(2026, 12, 7, 10, 0), 60, kyiv(2026, 12, 7, 11, 0)),
        # Before opening: the clock starts at 09:00.
        (kyiv(2026, 12, 7, 7, 30), 30, kyiv(2026, 12, 7, 9, 30)),
        # Friday 17:59: one minute on Friday, the rest on Monday.
        (kyiv(2026, 12, 11, 17, 59), 60, kyiv(2026, 12, 14, 9, 59)),
        (kyiv(2026, 12, 11, 17, 59), 1, kyiv(2026, 12, 11, 18, 0)),
        (kyiv(2026, 12, 11, 17, 59), 2, kyiv(2026, 12, 14, 9, 1)),
        # Opened on Saturday: starts Monday morning.
        (kyiv(2026, 12, 12, 12, 0), 240, kyiv(2026, 12, 14, 13, 0)),
        # Two working days of targets over a weekend: 9 h a day.
        (kyiv(2026, 12, 10, 16, 0), 2 * 540, kyiv(2026, 12, 14, 16, 0)),
        # Ukrainian holidays (2021, before martial law cancelled days off): 7 and 8 January were days off.
        (kyiv(2021, 1, 6, 17, 0), 120, kyiv(2021, 1, 11, 10, 0)),
        # New Year's Day 2021 was a Friday.
        (kyiv(2020, 12, 31, 17, 30), 60, kyiv(2021, 1, 4, 9, 30)),
    ],
)
def test_add_business_minutes(start, minutes, due):
    assert add_business_minutes(start, minutes, HOURS) == due


def test_holidays_come_from_the_package():
    assert not is_working_day(kyiv(2021, 1, 7).date())  # Orthodox Christmas
    assert not is_working_day(kyiv(2021, 5, 3).date())  # Labour Day observed
    assert is_working_day(kyiv(2021, 1, 12).date())
    # Under martial law (2022 on) Ukraine has no public days off: 1 January 2026 is a Thursday at work.
    assert is_working_day(kyiv(2026, 1, 1).date())


def test_around_the_clock_counts_every_minute():
    hours = BusinessHours(around_the_clock=True)
    assert add_business_minutes(kyiv(2026, 12, 11, 23, 30), 60, hours) == kyiv(2026, 12, 12, 0, 30)
    assert business_minutes_between(kyiv(2026, 12, 11, 23, 30), kyiv(2026, 12, 12, 0, 30), hours) == 60


def test_daylight_saving_change_keeps_wall_hours():
    # Kyiv moves clocks forward on 29 March 2026 (a Sunday): Friday 17:00 + 2 h = Monday 10:00 wall time.
    assert add_business_minutes(kyiv(2026, 3, 27, 17, 0), 120, HOURS) == kyiv(2026, 3, 30, 10, 0)


def test_business_minutes_between_skips_nights_and_weekends():
    assert business_minutes_between(kyiv(2026, 12, 11, 17, 0), kyiv(2026, 12, 14, 10, 0), HOURS) == 120
    assert business_minutes_between(kyiv(2026, 12, 12, 10, 0), kyiv(2026, 12, 13, 10, 0), HOURS) == 0
    assert business_minutes_between(kyiv(2026, 12, 14, 10, 0), kyiv(2026, 12, 14, 9, 0), HOURS) == 0


def test_business_minutes_round_trip():
    start = kyiv(2026, 12, 9, 15, 17)
    for minutes in (1, 59, 540, 541, 5000):
        assert business_minutes_between(start, add_business_minutes(start, minutes, HOURS), HOURS) == minutes
