"""When the consultants work: a weekly schedule in local time, minus Polish public holidays.

The schedule is one setting (``DESK_HOURS``), written the way an operator would say it::

    mon-fri 09:00-17:00; sat 10:00-14:00

Days are ``mon tue wed thu fri sat sun`` (ranges and commas: ``mon,wed,fri``); a day may have
several intervals (``mon 09:00-12:00,13:00-17:00``); ``24:00`` ends a day. Holidays come from
the ``holidays`` library (Poland's statutory days off, Christmas Eve included since 2025).
Times are computed in ``Europe/Warsaw`` (zoneinfo), so summer time needs no thought.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import holidays

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_SCHEDULE = "mon-fri 09:00-17:00"
DEFAULT_TIMEZONE = "Europe/Warsaw"

_TIME = r"(\d{1,2}):(\d{2})"
_INTERVAL = re.compile(rf"^{_TIME}\s*-\s*{_TIME}$")


class ScheduleError(ValueError):
    """``DESK_HOURS`` cannot be read; the message says which part and why."""


def _parse_time(hours: str, minutes: str, part: str) -> tuple[int, int]:
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m != 0):
        raise ScheduleError(f"bad time in {part!r}")
    return h, m


def _parse_days(spec: str, part: str) -> list[int]:
    days: list[int] = []
    for item in spec.split(","):
        item = item.strip().lower()[:7]
        if "-" in item:
            first, _, last = item.partition("-")
            try:
                a, b = DAYS.index(first.strip()[:3]), DAYS.index(last.strip()[:3])
            except ValueError:
                raise ScheduleError(f"unknown day in {part!r}") from None
            days.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        else:
            try:
                days.append(DAYS.index(item[:3]))
            except ValueError:
                raise ScheduleError(f"unknown day in {part!r}") from None
    return days


def parse_schedule(text: str) -> dict[int, list[tuple[int, int]]]:
    """``"mon-fri 09:00-17:00"`` → ``{weekday: [(start_minute, end_minute), ...]}``.

    An empty string means no schedule: the desk is treated as always open.
    """
    schedule: dict[int, list[tuple[int, int]]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        days_spec, _, intervals_spec = part.partition(" ")
        if not intervals_spec.strip():
            raise ScheduleError(f"no hours in {part!r} (expected e.g. 'mon-fri 09:00-17:00')")
        days = _parse_days(days_spec, part)
        for interval in intervals_spec.split(","):
            match = _INTERVAL.match(interval.strip())
            if match is None:
                raise ScheduleError(f"bad interval {interval.strip()!r} in {part!r}")
            sh, sm = _parse_time(match.group(1), match.group(2), part)
            eh, em = _parse_time(match.group(3), match.group(4), part)
            start, end = sh * 60 + sm, eh * 60 + em
            if end <= start:
                raise ScheduleError(f"interval ends before it starts in {part!r}")
            for day in days:
                schedule.setdefault(day, []).append((start, end))
    for intervals in schedule.values():
        intervals.sort()
    return schedule


@dataclass
class WorkingHours:
    """Is the desk staffed at a moment, and if not, when is it next?"""

    schedule: dict[int, list[tuple[int, int]]]
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    observe_holidays: bool = True
    extra_closed: frozenset[dt.date] = frozenset()

    @classmethod
    def from_text(
        cls,
        text: str = DEFAULT_SCHEDULE,
        timezone: str = DEFAULT_TIMEZONE,
        *,
        observe_holidays: bool = True,
        extra_closed: Iterable[dt.date] = (),
    ) -> WorkingHours:
        return cls(
            parse_schedule(text), ZoneInfo(timezone), observe_holidays, frozenset(extra_closed)
        )

    @property
    def always_open(self) -> bool:
        """No schedule configured (``DESK_HOURS=""``): the desk never says it is closed."""
        return not self.schedule

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        import holidays  # imported on first use: settings validation need not pay for it

        return holidays.country_holidays("PL")

    def is_closed_day(self, day: dt.date) -> bool:
        return day in self.extra_closed or (self.observe_holidays and day in self._holidays)

    def _intervals(self, day: dt.date) -> list[tuple[int, int]]:
        return [] if self.is_closed_day(day) else self.schedule.get(day.weekday(), [])

    def is_open(self, moment: dt.datetime) -> bool:
        if self.always_open:
            return True
        local = moment.astimezone(self.timezone)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self._intervals(local.date()))

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None:
        """The next moment the desk opens after ``moment`` (aware, in the desk's zone);
        ``moment`` itself (converted) when open now; ``None`` when nothing opens within a
        year (an empty schedule)."""
        if self.always_open or self.is_open(moment):
            return moment.astimezone(self.timezone)
        local = moment.astimezone(self.timezone)
        minute = local.hour * 60 + local.minute
        for offset in range(0, 370):
            day = local.date() + dt.timedelta(days=offset)
            for start, _end in self._intervals(day):
                if offset == 0 and start <= minute:
                    continue
                naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=start)
                return naive.replace(tzinfo=self.timezone)
        return None
