"""The numbers (issue 15), for the report and the console alike: :func:`compute` for a period,
a bucket and filters, on SQLite and PostgreSQL alike.

The rows are the same on both databases — the roll-up's facts for the days rolled up, the
query log turned into facts (:func:`bot.analytics.facts.to_fact`) for the rest. A period rolled
up entirely is counted by the database: without filters from the daily cells (sums over its
days; distinct people exact, see :meth:`~bot.analytics.store.AnalyticsStore.cell_counts`),
with filters from the facts; otherwise the facts are counted here, in one pass. The tests hold
the three ways to the same figures.

Privacy (k-anonymity, ``ANALYTICS_MIN_COUNT``): each count is kept with the people it rests
on (at least ``k`` of them, or how many); :meth:`Figures.to_json` shows a count only when it
rests on at least ``k`` distinct people and writes the string ``"<k"`` otherwise, in every
breakdown, cluster and desk figure. Nothing about a person is ever in a :class:`Figures`:
tokens are counted, never listed.

Typical use (the console)::

    period = Period.parse("2026-11-01", "2026-11-30")
    figures = await compute(db, period, filters=Filters(lang="uk"), bucket="week",
                            knowledge=Knowledge.load(content_dir))
    payload = figures.to_json()
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import math
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.analytics import clusters as _clusters
from bot.analytics.clusters import Cluster
from bot.analytics.facts import DECISIONS, is_unanswered, raw_facts
from bot.analytics.knowledge import Knowledge
from bot.analytics.store import (
    SMALL_CELL,
    AnalyticsStore,
    DeskRating,
    DeskTicket,
    Fact,
    day_number,
    day_of,
    midnight,
)
from bot.db import Database

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[Bucket, ...] = ("day", "week", "month")
DEFAULT_MIN_COUNT = 5
UNKNOWN = "unknown"
#: The longest period a report covers (a guard against a typo like 2062).
MAX_DAYS = 3 * 366

Progress = Callable[[int], None]


class PeriodError(ValueError):
    """A period that cannot be reported on (bad dates, end before start, too long)."""


@dataclass(frozen=True)
class Period:
    """Days ``start``..``end``, both included (UTC)."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"the period ends ({self.end}) before it starts ({self.start})")
        if self.days > MAX_DAYS:
            raise PeriodError(f"the period is {self.days} days long; at most {MAX_DAYS}")

    @classmethod
    def parse(cls, start: str, end: str) -> Period:
        try:
            first = dt.date.fromisoformat(start)
            last = dt.date.fromisoformat(end)
        except ValueError as exc:
            raise PeriodError(f"not a date (YYYY-MM-DD): {exc}") from None
        return cls(first, last)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        length = dt.timedelta(days=self.days)
        return Period(self.start - length, self.start - dt.timedelta(days=1))


@dataclass(frozen=True)
class Filters:
    """Only the questions (and tickets) in this language, on this platform, of this audience."""

    lang: str | None = None
    platform: str | None = None
    audience: str | None = None


def bucket_of(day: dt.date, bucket: Bucket) -> dt.date:
    """The first day of ``day``'s bucket (weeks start on Monday)."""
    if bucket == "day":
        return day
    if bucket == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


class Tally:
    """A count and the distinct people it rests on (only up to ``cap`` of them are kept:
    suppression needs to know whether there are ``k``, not who they are)."""

    __slots__ = ("cap", "counted", "n", "people")

    def __init__(self, cap: int) -> None:
        self.n = 0
        self.cap = cap
        self.people: set[int] = set()
        self.counted = 0  # distinct people counted by the database (the roll-up's figures)

    @classmethod
    def of(cls, cap: int, n: int, people: int) -> Tally:
        tally = cls(cap)
        tally.n, tally.counted = int(n), int(people)
        return tally

    def add(self, person: int | None, n: int = 1) -> None:
        self.n += n
        if person is not None and len(self.people) < self.cap:
            self.people.add(person)

    @property
    def distinct(self) -> int:
        return max(len(self.people), self.counted)


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` in 0..1) of ``values``; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[rank - 1], 1)


@dataclass
class DeskFigures:
    opened: Tally
    by_language: dict[str, Tally]
    closed_by_reason: dict[str, Tally]
    waiting_now: Tally
    first_reply_minutes: list[float]
    first_reply_people: Tally
    close_minutes: list[float]
    close_people: Tally
    in_hours: Tally
    out_of_hours: Tally
    ratings: dict[int, Tally]
    rating_people: Tally
    comments: Tally

    @property
    def ratings_total(self) -> int:
        return sum(t.n for t in self.ratings.values())

    @property
    def rating_mean(self) -> float | None:
        total = sum(t.n for t in self.ratings.values())
        if not total:
            return None
        return round(sum(score * t.n for score, t in self.ratings.items()) / total, 2)


@dataclass
class Figures:
    """Everything a report shows about one period, before suppression (see
    :meth:`to_json`)."""

    period: Period
    bucket: Bucket
    filters: Filters
    min_count: int
    questions: Tally
    people: int
    series: dict[dt.date, tuple[Tally, dict[str, Tally]]]
    series_people: dict[dt.date, int]
    by_language: dict[str, Tally]
    by_platform: dict[str, Tally]
    by_audience: dict[str, Tally]
    by_topic: dict[str, Tally]
    by_entry: dict[str, Tally]
    decisions: dict[str, Tally]
    feedback: dict[str, dict[str, Tally]]
    self_service: Tally
    returning: int
    unanswered_total: Tally
    unanswered: list[Cluster]
    desk: DeskFigures
    previous: Figures | None = None
    rows: int = 0
    #: Per entry, the questions it was the best candidate for (``"asked"``) and their
    #: decisions (the console's Entries page: answered rate, "maybe one of these" rate).
    by_near: dict[str, dict[str, Tally]] = field(default_factory=dict)

    # -- suppression -----------------------------------------------------------------------

    @property
    def hidden(self) -> str:
        return f"<{self.min_count}"

    def count(self, tally: Tally) -> int | str:
        """The count, or ``"<k"`` when it rests on fewer than ``k`` distinct people (a zero
        rests on nobody and is shown)."""
        return tally.n if tally.n == 0 or tally.distinct >= self.min_count else self.hidden

    def people_count(self, people: int) -> int | str:
        return people if people == 0 or people >= self.min_count else self.hidden

    def _breakdown(self, cells: dict[str, Tally]) -> dict[str, int | str]:
        ordered = sorted(cells.items(), key=lambda kv: (-kv[1].n, kv[0]))
        return {key: self.count(tally) for key, tally in ordered}

    def shown(self, tally: Tally) -> bool:
        return tally.distinct >= self.min_count

    def self_service_rate(self) -> float | str | None:
        if not self.questions.n:
            return None
        if not self.shown(self.questions):
            return self.hidden
        return round(self.self_service.n / self.questions.n, 3)

    def _figure(self, value: float | None, people: Tally) -> float | str | None:
        if value is None:
            return None
        return value if self.shown(people) else self.hidden

    def desk_json(self) -> dict[str, Any]:
        d = self.desk
        return {
            "opened": self.count(d.opened),
            "closed_by_reason": self._breakdown(d.closed_by_reason),
            "waiting_now": self.count(d.waiting_now),
            "first_reply_minutes": {
                "p50": self._figure(percentile(d.first_reply_minutes, 0.5), d.first_reply_people),
                "p90": self._figure(percentile(d.first_reply_minutes, 0.9), d.first_reply_people),
            },
            "close_minutes": {
                "p50": self._figure(percentile(d.close_minutes, 0.5), d.close_people),
                "p90": self._figure(percentile(d.close_minutes, 0.9), d.close_people),
            },
            "in_hours": self.count(d.in_hours),
            "out_of_hours": self.count(d.out_of_hours),
            "by_language": self._breakdown(d.by_language),
            "ratings": {
                "mean": self._figure(d.rating_mean, d.rating_people),
                "counts": {str(s): self.count(d.ratings[s]) for s in sorted(d.ratings)},
                "comments": self.count(d.comments),
            },
        }

    def series_json(self) -> list[dict[str, Any]]:
        out = []
        for start in sorted(self.series):
            total, by_lang = self.series[start]
            out.append(
                {
                    "start": start.isoformat(),
                    "questions": self.count(total),
                    "people": self.people_count(self.series_people.get(start, 0)),
                    "by_language": self._breakdown(by_lang),
                }
            )
        return out

    def to_json(self) -> dict[str, Any]:
        """The report's JSON (the **contract** keys of issue 15, then a few more)."""
        payload: dict[str, Any] = {
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "questions": self.count(self.questions),
            "people": self.people_count(self.people),
            "by_language": self._breakdown(self.by_language),
            "by_platform": self._breakdown(self.by_platform),
            "by_audience": self._breakdown(self.by_audience),
            "by_topic": self._breakdown(self.by_topic),
            "by_entry": self._breakdown(self.by_entry),
            "decisions": {d: self.count(self.decisions[d]) for d in DECISIONS},
            "feedback": {
                entry: {kind: self.count(tally) for kind, tally in kinds.items()}
                for entry, kinds in sorted(self.feedback.items())
            },
            "unanswered": [
                {
                    "count": c.count if c.people >= self.min_count else self.hidden,
                    "people": self.people_count(c.people),
                    "examples": list(c.examples),
                    "nearest": list(c.nearest),
                    **({"rest": True} if c.rest else {"id": c.id}),
                }
                for c in self.unanswered
            ],
            "desk": self.desk_json(),
            "min_count": self.min_count,
            # More than the contract's keys: the rest of issue 15's figures.
            "bucket": self.bucket,
            "filters": {k: v for k, v in vars(self.filters).items() if v is not None},
            "self_service_rate": self.self_service_rate(),
            "returning_people": self.people_count(self.returning),
            "unanswered_questions": self.count(self.unanswered_total),
            "series": self.series_json(),
        }
        if self.previous is not None:
            payload["previous"] = {
                "period": {
                    "from": self.previous.period.start.isoformat(),
                    "to": self.previous.period.end.isoformat(),
                },
                "questions": self.previous.count(self.previous.questions),
                "people": self.previous.people_count(self.previous.people),
                "by_topic": self.previous._breakdown(self.previous.by_topic),
                "by_entry": self.previous._breakdown(self.previous.by_entry),
                "decisions": {
                    d: self.previous.count(self.previous.decisions[d]) for d in DECISIONS
                },
            }
        return payload

    def entries_json(self) -> dict[str, dict[str, int | str | float | None]]:
        """Per entry (by the best candidate of each question): ``asked``, ``answered`` (the
        bot answered with it, or the person picked it), ``maybe`` ("maybe one of these", none
        picked), their rates, and ``up``/``down``/``none_of_these`` — suppressed like every
        other count (a rate only when its questions rest on ``k`` people)."""
        out: dict[str, dict[str, int | str | float | None]] = {}
        for entry in sorted(set(self.by_near) | set(self.feedback)):
            cells = self.by_near.get(entry, {})
            asked = cells.get("asked") or Tally(self.min_count)
            answered = cells.get("answered") or Tally(self.min_count)
            maybe = cells.get("maybe") or Tally(self.min_count)
            kinds = self.feedback.get(entry, {})
            row: dict[str, int | str | float | None] = {
                "asked": self.count(asked),
                "answered": self.count(answered),
                "maybe": self.count(maybe),
                "answered_rate": self._figure(
                    round(answered.n / asked.n, 3) if asked.n else None, asked
                ),
                "maybe_rate": self._figure(round(maybe.n / asked.n, 3) if asked.n else None, asked),
            }
            for kind in ("up", "down", "none_of_these"):
                row[kind] = self.count(kinds[kind]) if kind in kinds else 0
            out[entry] = row
        return out

    def growth(self, dimension: str = "by_topic") -> list[tuple[str, int, int]]:
        """Cells shown in both periods, with their counts now and before, most grown first."""
        if self.previous is None:
            return []
        now: dict[str, Tally] = getattr(self, dimension)
        before: dict[str, Tally] = getattr(self.previous, dimension)
        out = [
            (key, tally.n, before[key].n if key in before else 0)
            for key, tally in now.items()
            if self.shown(tally) and (key not in before or self.previous.shown(before[key]))
        ]
        out.sort(key=lambda row: (-(row[1] - row[2]), row[0]))
        return out


class _Accumulator:
    """One pass over the facts of a period."""

    def __init__(self, bucket: Bucket, cap: int) -> None:
        self.bucket = bucket
        self.cap = cap
        self.questions = Tally(cap)
        self.people: set[int] = set()
        self.first_day: dict[int, int] = {}
        self.returning: set[int] = set()
        self.series: dict[dt.date, tuple[Tally, dict[str, Tally]]] = {}
        self.series_people: dict[dt.date, set[int]] = {}
        self.by: dict[str, dict[str, Tally]] = {
            k: {} for k in ("lang", "platform", "audience", "topic", "entry")
        }
        self.decisions = {d: Tally(cap) for d in DECISIONS}
        self.feedback: dict[str, dict[str, Tally]] = {}
        self.self_service = Tally(cap)
        self.unanswered_total = Tally(cap)
        self.keys: dict[str, _clusters.KeyStats] = {}
        self._buckets: dict[int, dt.date] = {}
        self.rows = 0
        self.by_near: dict[str, dict[str, Tally]] = {}
        # Filled instead of the sets when the database counts (:func:`_from_roll_up`).
        self.people_total: int | None = None
        self.returning_total: int | None = None
        self.series_counted: dict[dt.date, int] = {}

    def _cell(self, table: dict[str, Tally], key: str) -> Tally:
        tally = table.get(key)
        if tally is None:
            tally = table[key] = Tally(self.cap)
        return tally

    def _feedback(self, entry: str, kind: str) -> Tally:
        kinds = self.feedback.get(entry)
        if kinds is None:
            kinds = self.feedback[entry] = {
                "up": Tally(self.cap),
                "down": Tally(self.cap),
                "none_of_these": Tally(self.cap),
            }
        return kinds[kind]

    def add(self, f: Fact) -> None:
        self.rows += 1
        person = f.person
        self.questions.add(person)
        self.people.add(person)
        first = self.first_day.setdefault(person, f.day)
        if first != f.day:
            self.returning.add(person)
        start = self._buckets.get(f.day)
        if start is None:
            start = self._buckets[f.day] = bucket_of(day_of(f.day), self.bucket)
        slot = self.series.get(start)
        if slot is None:
            slot = self.series[start] = (Tally(self.cap), {})
            self.series_people[start] = set()
        slot[0].add(person)
        self._cell(slot[1], f.lang).add(person)
        self.series_people[start].add(person)
        by = self.by
        self._cell(by["lang"], f.lang).add(person)
        self._cell(by["platform"], f.platform or UNKNOWN).add(person)
        self._cell(by["audience"], f.audience or UNKNOWN).add(person)
        if f.topic is not None:
            self._cell(by["topic"], f.topic).add(person)
        if f.entry is not None:
            self._cell(by["entry"], f.entry).add(person)
            if f.feedback is not None:
                self._feedback(f.entry, "up" if f.feedback else "down").add(person)
        if f.none_of_these and f.near is not None:
            self._feedback(f.near, "none_of_these").add(person)
        self.decisions[f.decision].add(person)
        if f.near is not None:
            cells = self.by_near.get(f.near)
            if cells is None:
                cells = self.by_near[f.near] = {}
            self._cell(cells, "asked").add(person)
            if f.entry is not None and f.entry == f.near:
                self._cell(cells, "answered").add(person)
            elif f.decision == "maybe":
                self._cell(cells, "maybe").add(person)
        if f.self_service:
            self.self_service.add(person)
        if is_unanswered(f):
            self.unanswered_total.add(person)
            key = f.cluster_key or ""
            stats = self.keys.get(key)
            if stats is None:
                stats = self.keys[key] = _clusters.KeyStats()
            stats.add(person, f.near, f.query_id)


async def iter_facts(
    store: AnalyticsStore,
    period: Period,
    filters: Filters,
    knowledge: Knowledge,
) -> AsyncIterator[Fact]:
    """The period's facts: the roll-up's for the days rolled up, the query log's after."""
    rolled = await store.rolled_through()
    first, last = day_number(period.start), day_number(period.end)
    if rolled is not None and rolled >= first:
        async for fact in store.facts(first, min(last, rolled), filters):
            yield fact
    raw_from = period.start
    if rolled is not None and rolled >= first:
        raw_from = day_of(rolled) + dt.timedelta(days=1)
    if raw_from <= period.end:
        end = midnight(period.end + dt.timedelta(days=1))
        for fact in await raw_facts(store, midnight(raw_from), end, knowledge, filters):
            yield fact


async def expected_rows(store: AnalyticsStore, period: Period, filters: Filters) -> int:
    """About how many rows :func:`compute` reads (for a progress bar)."""
    rolled = await store.rolled_through()
    first, last = day_number(period.start), day_number(period.end)
    n = 0
    if rolled is not None and rolled >= first:
        n += await store.count_facts(first, min(last, rolled), filters)
    return n


def _bucket_ranges(period: Period, bucket: Bucket) -> list[tuple[int, int]]:
    """The period's buckets as ``(first day, last day)`` (``YYYYMMDD``), clipped to it."""
    out: list[tuple[int, int]] = []
    day = period.start
    while day <= period.end:
        start = bucket_of(day, bucket)
        if bucket == "day":
            nxt = day + dt.timedelta(days=1)
        elif bucket == "week":
            nxt = start + dt.timedelta(days=7)
        else:
            nxt = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        last = min(period.end, nxt - dt.timedelta(days=1))
        out.append((day_number(day), day_number(last)))
        day = nxt
    return out


async def _from_roll_up(
    store: AnalyticsStore,
    period: Period,
    filters: Filters,
    acc: _Accumulator,
    progress: Progress | None,
) -> None:
    cap = acc.cap
    first, last = day_number(period.start), day_number(period.end)
    counts = await store.fact_counts(first, last, filters, _bucket_ranges(period, acc.bucket))
    n, people = counts["total"]
    acc.questions = Tally.of(cap, n, people)
    acc.rows = int(n)
    acc.people_total = int(people)
    acc.returning_total = int(counts["returning"])
    for column, table in (
        ("lang", "lang"),
        ("platform", "platform"),
        ("audience", "audience"),
        ("topic", "topic"),
        ("entry", "entry"),
    ):
        for key, n, people in counts[column]:
            if key is None and column in ("topic", "entry"):
                continue
            acc.by[table][key if key is not None else UNKNOWN] = Tally.of(cap, n, people)
    for key, n, people in counts["decision"]:
        acc.decisions[key] = Tally.of(cap, n, people)
    n, people = counts["self_service"]
    acc.self_service = Tally.of(cap, n, people)
    for entry, feedback, n, people in counts["feedback"]:
        acc._feedback(entry, "up" if feedback else "down").n = int(n)
        acc._feedback(entry, "up" if feedback else "down").counted = int(people)
    for near, n, people in counts["none_of_these"]:
        acc._feedback(near, "none_of_these").n = int(n)
        acc._feedback(near, "none_of_these").counted = int(people)
    for bucket_first, n, people in counts["series"]:
        start = bucket_of(day_of(int(bucket_first)), acc.bucket)
        acc.series[start] = (Tally.of(cap, n, people), acc.series.get(start, (None, {}))[1])
        acc.series_counted[start] = int(people)
    for bucket_first, lang, n, people in counts["series_lang"]:
        start = bucket_of(day_of(int(bucket_first)), acc.bucket)
        acc.series[start][1][lang] = Tally.of(cap, n, people)
    async for key, person, near, query_id in store.unanswered_facts(first, last, filters):
        stats = acc.keys.get(key or "")
        if stats is None:
            stats = acc.keys[key or ""] = _clusters.KeyStats()
        stats.add(person, near, query_id)
    n, people = counts["unanswered"]
    acc.unanswered_total = Tally.of(cap, n, people)
    # The console's Entries page: per best candidate, asked / answered with it / "maybe".
    for kind in ("asked", "answered", "maybe"):
        for near, n, people in counts[f"near_{kind}"]:
            acc.by_near.setdefault(near, {})[kind] = Tally.of(cap, n, people)
    if progress is not None:
        progress(acc.rows)


async def _from_cells(
    store: AnalyticsStore,
    period: Period,
    acc: _Accumulator,
    progress: Progress | None,
    *,
    unanswered: bool,
) -> None:
    """``acc`` filled from the daily cells; with ``unanswered``, the unanswered questions
    read too (only the clusters need them)."""
    cap = acc.cap
    first, last = day_number(period.start), day_number(period.end)
    counts = await store.cell_counts(first, last, _bucket_ranges(period, acc.bucket), cap)
    cells: dict[tuple[str, str], tuple[int, int]] = counts["cells"]

    def tally(dim: str, key: str = "") -> Tally:
        n, people = cells.get((dim, key), (0, 0))
        return Tally.of(cap, n, people)

    acc.questions = Tally.of(cap, cells.get(("total", ""), (0, 0))[0], counts["people"])
    acc.rows = acc.questions.n
    acc.people_total = counts["people"]
    acc.returning_total = counts["returning"]
    acc.self_service = tally("self_service")
    acc.unanswered_total = tally("unanswered")
    for (dim, key), (n, people) in sorted(cells.items()):
        if dim in ("lang", "platform", "audience", "topic", "entry"):
            acc.by[dim][key] = Tally.of(cap, n, people)
        elif dim == "decision":
            acc.decisions[key] = Tally.of(cap, n, people)
        elif dim in ("up", "down", "none_of_these"):
            cell = acc._feedback(key, dim)
            cell.n, cell.counted = n, people
        elif dim.startswith("near_"):
            acc.by_near.setdefault(key, {})[dim.removeprefix("near_")] = Tally.of(cap, n, people)
    people_of = {
        bucket_of(day_of(start), acc.bucket): people
        for start, people in counts["series_people"].items()
    }
    for (bucket_first, lang), (n, people) in sorted(counts["series_lang"].items()):
        start = bucket_of(day_of(bucket_first), acc.bucket)
        slot = acc.series.get(start)
        if slot is None:
            slot = acc.series[start] = (Tally.of(cap, 0, people_of.get(start, 0)), {})
        slot[0].n += n
        slot[1][lang] = Tally.of(cap, n, people)
    acc.series_counted = {start: people_of.get(start, 0) for start in acc.series}
    if not unanswered:
        if progress is not None:
            progress(acc.rows)
        return
    async for grouping, person, near, query_id in store.unanswered_facts(first, last, None):
        stats = acc.keys.get(grouping or "")
        if stats is None:
            stats = acc.keys[grouping or ""] = _clusters.KeyStats()
        stats.add(person, near, query_id)
    if progress is not None:
        progress(acc.rows)


def _desk(
    tickets: list[DeskTicket],
    waiting: list[int | None],
    ratings: list[DeskRating],
    start: dt.datetime,
    end: dt.datetime,
    hours: Any,
    cap: int,
) -> DeskFigures:
    def tally() -> Tally:
        return Tally(cap)

    desk = DeskFigures(
        opened=tally(),
        by_language={},
        closed_by_reason={},
        waiting_now=tally(),
        first_reply_minutes=[],
        first_reply_people=tally(),
        close_minutes=[],
        close_people=tally(),
        in_hours=tally(),
        out_of_hours=tally(),
        ratings={score: tally() for score in range(1, 6)},
        rating_people=tally(),
        comments=tally(),
    )
    for t in tickets:
        if t.opened:
            desk.opened.add(t.user_id)
            desk.by_language.setdefault(t.lang, tally()).add(t.user_id)
            if hours is None or hours.is_open(t.opened_at):
                desk.in_hours.add(t.user_id)
            else:
                desk.out_of_hours.add(t.user_id)
            first_reply = t.first_reply_minutes
            if first_reply is not None:
                desk.first_reply_minutes.append(first_reply)
                desk.first_reply_people.add(t.user_id)
        close = t.close_minutes
        if t.closed_reason and close is not None:
            desk.closed_by_reason.setdefault(t.closed_reason, tally()).add(t.user_id)
            desk.close_minutes.append(close)
            desk.close_people.add(t.user_id)
    for person in waiting:
        desk.waiting_now.add(person)
    for r in ratings:
        desk.ratings[r.score].add(r.user_id)
        desk.rating_people.add(r.user_id)
        if r.has_comment:
            desk.comments.add(r.user_id)
    return desk


async def compute(
    db: Database,
    period: Period,
    *,
    knowledge: Knowledge,
    filters: Filters = Filters(),
    bucket: Bucket = "day",
    min_count: int = DEFAULT_MIN_COUNT,
    hours: Any = None,
    with_clusters: bool = True,
    with_previous: bool = True,
    with_desk: bool = True,
    progress: Progress | None = None,
) -> Figures:
    """The figures of ``period`` (and, with ``with_previous``, of the period of the same
    length before it, for "what grew"). ``hours`` is the desk's working hours
    (:class:`bot.desk.hours.WorkingHours`; ``None``: every ticket counts as in hours).
    ``progress`` is called with the number of rows read since the last call. The previous
    period is counted for what grew (its questions' figures): without its clusters, and
    without its desk (``with_desk``), which nothing compares. Where the database serves
    reads side by side (PostgreSQL), the previous period is counted meanwhile, on a
    connection of its own."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}")
    one = functools.partial(
        _one_period,
        db,
        knowledge=knowledge,
        filters=filters,
        bucket=bucket,
        min_count=min_count,
        hours=hours,
    )
    current = one(period, with_clusters=with_clusters, with_desk=with_desk, progress=progress)
    if not with_previous:
        return await current

    def earlier() -> Coroutine[Any, Any, Figures]:
        return one(period.previous(), with_clusters=False, with_desk=False)

    if not db.parallel_reads:
        figures = await current
        return dataclasses.replace(figures, previous=await earlier())
    pending = asyncio.ensure_future(earlier())
    try:
        figures = await current
    except BaseException:
        pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pending
        raise
    return dataclasses.replace(figures, previous=await pending)


async def _one_period(
    db: Database,
    period: Period,
    *,
    knowledge: Knowledge,
    filters: Filters,
    bucket: Bucket,
    min_count: int,
    hours: Any,
    with_clusters: bool,
    with_desk: bool,
    progress: Progress | None = None,
) -> Figures:
    """The figures of ``period`` alone (no previous period)."""
    cap = max(1, min_count)
    acc = _Accumulator(bucket, cap)
    start, end = midnight(period.start), midnight(period.end + dt.timedelta(days=1))
    async with db.read() as uow:
        store = AnalyticsStore(uow)
        rolled = await store.rolled_through()
        cells = await store.cells_through()
        if (
            cells is not None
            and cells >= day_number(period.end)
            and filters == Filters()
            and cap <= SMALL_CELL
        ):
            # The daily cells: sums over the period's days (exact people per period, and
            # exact wherever suppression needs it), the unanswered questions read to group.
            await _from_cells(store, period, acc, progress, unanswered=with_clusters)
        elif rolled is not None and rolled >= day_number(period.end):
            # All rolled up: the database counts (one scan per breakdown, exact distinct
            # people), and only the unanswered questions are read, to be grouped.
            await _from_roll_up(store, period, filters, acc, progress)
        else:
            pending = 0
            async for fact in iter_facts(store, period, filters, knowledge):
                acc.add(fact)
                pending += 1
                if progress is not None and pending >= 10_000:
                    progress(pending)
                    pending = 0
            if progress is not None and pending:
                progress(pending)
        desk = _desk(
            await store.desk_tickets(start, end, filters, with_opened_at=hours is not None)
            if with_desk
            else [],
            await store.waiting_now(filters) if with_desk else [],
            await store.desk_ratings(start, end, filters) if with_desk else [],
            start,
            end,
            hours,
            cap,
        )
        clusters: list[Cluster] = []
        if with_clusters:
            clusters = await _clusters.clusters(
                store, acc.keys, min_count=min_count, knowledge=knowledge, start=start, end=end
            )
    previous = None
    return Figures(
        period=period,
        bucket=bucket,
        filters=filters,
        min_count=min_count,
        questions=acc.questions,
        people=acc.people_total if acc.people_total is not None else len(acc.people),
        series=acc.series,
        series_people={k: len(v) for k, v in acc.series_people.items()} | acc.series_counted,
        by_language=acc.by["lang"],
        by_platform=acc.by["platform"],
        by_audience=acc.by["audience"],
        by_topic=acc.by["topic"],
        by_entry=acc.by["entry"],
        decisions=acc.decisions,
        feedback=acc.feedback,
        self_service=acc.self_service,
        returning=acc.returning_total if acc.returning_total is not None else len(acc.returning),
        unanswered_total=acc.unanswered_total,
        unanswered=clusters,
        desk=desk,
        previous=previous,
        rows=acc.rows,
        by_near=acc.by_near,
    )


__all__ = [
    "BUCKETS",
    "DEFAULT_MIN_COUNT",
    "Bucket",
    "Cluster",
    "Figures",
    "Filters",
    "Knowledge",
    "Period",
    "PeriodError",
    "Tally",
    "bucket_of",
    "compute",
    "expected_rows",
    "percentile",
]
