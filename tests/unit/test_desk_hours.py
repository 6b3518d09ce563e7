"""The desk's working hours: the schedule setting, Warsaw time (summer time included) and
Polish public holidays."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.desk.hours import ScheduleError, WorkingHours, parse_schedule
from bot.settings import Settings

WARSAW = ZoneInfo("Europe/Warsaw")


def warsaw(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=WARSAW)


def test_parse_schedule() -> None:
    schedule = parse_schedule("mon-fri 09:00-17:00; sat 10:00-12:00,13:00-14:30")
    assert schedule[0] == [(540, 1020)]
    assert schedule[4] == [(540, 1020)]
    assert schedule[5] == [(600, 720), (780, 870)]
    assert 6 not in schedule
    assert parse_schedule("fri-mon 08:00-24:00") == {d: [(480, 1440)] for d in (4, 5, 6, 0)}
    assert parse_schedule("Mon,Wed 09:00-10:00") == {0: [(540, 600)], 2: [(540, 600)]}
    assert parse_schedule("") == {}


@pytest.mark.parametrize(
    "text",
    [
        "mon 9-17",
        "xyz 09:00-10:00",
        "mon 17:00-09:00",
        "mon",
        "mon 09:00-25:00",
        "mon-xx 09:00-10:00",
    ],
)
def test_bad_schedules_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(text)
    with pytest.raises(ValueError, match="desk_hours"):
        Settings(_env_file=None, desk_hours=text)  # type: ignore[call-arg]


def test_open_and_closed_in_warsaw_time() -> None:
    hours = WorkingHours.from_text("mon-fri 09:00-17:00")
    assert hours.is_open(warsaw(2026, 5, 4, 9, 0))
    assert hours.is_open(warsaw(2026, 5, 4, 16, 59))
    assert not hours.is_open(warsaw(2026, 5, 4, 17, 0))
    assert not hours.is_open(warsaw(2026, 5, 4, 8, 59))
    assert not hours.is_open(warsaw(2026, 5, 9, 12, 0))  # Saturday
    # The same moment given in UTC: 07:30 UTC is 09:30 in Warsaw in summer.
    assert hours.is_open(dt.datetime(2026, 5, 4, 7, 30, tzinfo=dt.UTC))


def test_summer_time_changes_the_utc_opening() -> None:
    hours = WorkingHours.from_text("mon-fri 09:00-17:00")
    before = hours.next_opening(dt.datetime(2026, 3, 27, 2, 0, tzinfo=dt.UTC))  # Fri, CET
    after = hours.next_opening(dt.datetime(2026, 3, 30, 2, 0, tzinfo=dt.UTC))  # Mon, CEST
    assert before is not None and after is not None
    assert before.astimezone(dt.UTC).hour == 8
    assert after.astimezone(dt.UTC).hour == 7


@pytest.mark.parametrize(
    ("holiday", "name"),
    [
        (dt.date(2026, 11, 11), "Independence Day"),
        (dt.date(2026, 4, 6), "Easter Monday"),
        (dt.date(2026, 12, 24), "Christmas Eve (a day off since 2025)"),
        (dt.date(2026, 5, 1), "Labour Day"),
    ],
)
def test_polish_public_holidays_are_closed(holiday: dt.date, name: str) -> None:
    hours = WorkingHours.from_text("mon-sun 09:00-17:00")
    noon = dt.datetime.combine(holiday, dt.time(12), tzinfo=WARSAW)
    assert not hours.is_open(noon), name
    assert WorkingHours.from_text("mon-sun 09:00-17:00", observe_holidays=False).is_open(noon)


def test_next_opening_skips_evenings_weekends_and_holidays() -> None:
    hours = WorkingHours.from_text("mon-fri 09:00-17:00")
    assert hours.next_opening(warsaw(2026, 5, 4, 7, 0)) == warsaw(2026, 5, 4, 9, 0)
    assert hours.next_opening(warsaw(2026, 5, 8, 18, 0)) == warsaw(2026, 5, 11, 9, 0)  # Fri → Mon
    # 24, 25, 26 December are holidays and the 27th a Sunday.
    assert hours.next_opening(warsaw(2026, 12, 23, 18, 0)) == warsaw(2026, 12, 28, 9, 0)
    now = warsaw(2026, 5, 4, 10, 0)
    assert hours.next_opening(now) == now  # already open


def test_second_interval_of_the_day_and_extra_closed_days() -> None:
    hours = WorkingHours.from_text(
        "mon 09:00-12:00,13:00-17:00", extra_closed=[dt.date(2026, 5, 11)]
    )
    assert hours.next_opening(warsaw(2026, 5, 4, 12, 30)) == warsaw(2026, 5, 4, 13, 0)
    assert hours.next_opening(warsaw(2026, 5, 4, 18, 0)) == warsaw(2026, 5, 18, 9, 0)


def test_no_schedule_means_always_open() -> None:
    hours = WorkingHours.from_text("")
    assert hours.always_open
    assert hours.is_open(warsaw(2026, 12, 25, 3, 0))
