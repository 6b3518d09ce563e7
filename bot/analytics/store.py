"""The analytics tables' one owner (``analytics_people``, ``analytics_facts``,
``analytics_cells``, ``analytics_cell_people``, ``analytics_rollup``), and the read model the
figures are computed from.

Built on a unit of work like the desk's store (:mod:`bot.desk.store`): it writes only its
own tables, and reads the query log and the desk's tables for the days not rolled up yet. The
query log's rows are deleted through their owner (:meth:`bot.db.query_log.Queries.prune`),
the desk's texts through theirs (:meth:`bot.desk.store.SqlDeskStore.prune_contents`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Integer,
    Interval,
    String,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
    update,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.analytics_models import (
    AnalyticsCell,
    AnalyticsCellPerson,
    AnalyticsFact,
    AnalyticsPerson,
    AnalyticsRollup,
)
from bot.db.desk_models import Ticket, TicketRating
from bot.db.models import QueryLog
from bot.db.sql import rowcount
from bot.db.unit import UnitOfWork

FACTS = cast(Table, AnalyticsFact.__table__)
PEOPLE = cast(Table, AnalyticsPerson.__table__)
ROLLUP = cast(Table, AnalyticsRollup.__table__)
CELLS = cast(Table, AnalyticsCell.__table__)
CELL_PEOPLE = cast(Table, AnalyticsCellPerson.__table__)
QUERIES = cast(Table, QueryLog.__table__)
TICKETS = cast(Table, Ticket.__table__)
RATINGS = cast(Table, TicketRating.__table__)

#: The columns of a fact, in the order :class:`Fact` has them.
FACT_COLUMNS = (
    "day",
    "person",
    "lang",
    "platform",
    "audience",
    "topic",
    "entry",
    "near",
    "decision",
    "self_service",
    "feedback",
    "none_of_these",
    "cluster_key",
    "query_id",
)
#: Rows fetched per round trip when streaming.
CHUNK = 20_000
#: A day's cell with fewer people than this keeps its people (tokens) in
#: ``analytics_cell_people``: the daily cells serve every ``ANALYTICS_MIN_COUNT`` up to it.
SMALL_CELL = 10
#: What a missing platform or audience is counted as.
UNKNOWN = "unknown"
SMALL_TALK = ("greeting", "thanks")


@dataclass(frozen=True, slots=True)
class Fact:
    """One question as the figures count it (a row of ``analytics_facts``, or a query log row
    turned into one by :func:`bot.analytics.facts.to_fact`)."""

    day: int  # YYYYMMDD, UTC
    person: int  # an analytics token (or minus the user id before the person has one)
    lang: str
    platform: str | None
    audience: str | None
    topic: str | None
    entry: str | None
    near: str | None
    decision: str
    self_service: bool
    feedback: int | None  # 1 👍, 0 👎
    none_of_these: bool
    cluster_key: str | None
    query_id: int | None


@dataclass(frozen=True, slots=True)
class RawQuestion:
    """A query log row, as :func:`bot.analytics.facts.to_fact` needs it."""

    id: int
    user_id: int
    person: int
    created_at: dt.datetime
    text: str
    lang: str
    decision: str
    intent: str | None
    top_entry: str | None
    feedback: bool | None
    platform: str | None
    audience: str | None
    chosen_entry: str | None
    none_of_these: bool


@dataclass(frozen=True, slots=True)
class DeskTicket:
    """A ticket as the desk's figures count it in a period. Durations come from the database
    as whole microseconds (no datetimes to parse for thousands of tickets)."""

    user_id: int | None
    lang: str
    opened: bool  # opened in the period
    opened_at: dt.datetime | None  # only when working hours are asked about
    first_reply_us: int | None  # opened in the period and answered
    closed_reason: str | None  # closed in the period, for this reason
    close_us: int | None  # from opening to that close

    @property
    def first_reply_minutes(self) -> float | None:
        return None if self.first_reply_us is None else self.first_reply_us / 10**6 / 60

    @property
    def close_minutes(self) -> float | None:
        return None if self.close_us is None else self.close_us / 10**6 / 60


@dataclass(frozen=True, slots=True)
class DeskRating:
    user_id: int | None
    ticket_lang: str
    score: int
    has_comment: bool


def day_number(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def day_of(number: int) -> dt.date:
    return dt.date(number // 10_000, number // 100 % 100, number % 100)


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _where_filters(table: Table, filters: Any, *, lang: str = "lang") -> list[Any]:
    out = []
    if filters is not None:
        if filters.lang is not None:
            out.append(table.c[lang] == filters.lang)
        if filters.platform is not None:
            out.append(table.c.platform == filters.platform)
        if filters.audience is not None:
            out.append(table.c.audience == filters.audience)
    return out


def _bucket(day: Any, buckets: Sequence[tuple[int, int]]) -> Any:
    """The first day of each day's bucket (``buckets``: ``(first, last)`` days)."""
    if all(a == b for a, b in buckets):
        return day.label("bucket")
    return case(*((and_(day >= a, day <= b), a) for a, b in buckets), else_=day).label("bucket")


def _cell_dims() -> list[tuple[str, Any, list[Any]]]:
    """The daily cells: ``(dim, key, which facts)`` — one per figure of
    :func:`bot.analytics.figures.compute` that the facts are counted into."""
    f = FACTS.c
    everyone = literal("", String)
    near = f.near.is_not(None)
    return [
        ("total", everyone, []),
        ("lang", f.lang, []),
        ("platform", func.coalesce(f.platform, UNKNOWN), []),
        ("audience", func.coalesce(f.audience, UNKNOWN), []),
        ("topic", f.topic, [f.topic.is_not(None)]),
        ("entry", f.entry, [f.entry.is_not(None)]),
        ("decision", f.decision, []),
        ("self_service", everyone, [f.self_service.is_(True)]),
        ("unanswered", everyone, [or_(f.decision == "unknown", f.none_of_these.is_(True))]),
        ("up", f.entry, [f.entry.is_not(None), f.feedback == 1]),
        ("down", f.entry, [f.entry.is_not(None), f.feedback == 0]),
        ("none_of_these", f.near, [near, f.none_of_these.is_(True)]),
        ("near_asked", f.near, [near]),
        ("near_answered", f.near, [near, f.entry == f.near]),
        ("near_maybe", f.near, [near, f.decision == "maybe"]),
    ]


class AnalyticsStore:
    """The analytics tables and reads, inside a transaction it does not own."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self.dialect = uow.dialect

    # -- the roll-up's progress ------------------------------------------------------------

    async def rolled_through(self, *, lock: bool = False) -> int | None:
        """The last day (``YYYYMMDD``) in the facts, ``None`` before the first roll-up.
        ``lock``: hold the roll-up's row until the transaction ends (one roll-up at a time
        on PostgreSQL; SQLite's write transactions take turns anyway)."""
        query = select(ROLLUP.c.rolled_through).where(ROLLUP.c.id == 1)
        if lock:
            insert_ = (postgresql if self.dialect == "postgresql" else sqlite).insert(ROLLUP)
            await self.session.execute(
                insert_.values(
                    id=1, rolled_through=0, updated_at=func.now()
                ).on_conflict_do_nothing()
            )
            query = query.with_for_update()
        value = await self.session.scalar(query)
        return None if not value else int(value)

    async def set_rolled_through(self, day: int, now: dt.datetime) -> None:
        updated = await self.session.execute(
            update(ROLLUP).where(ROLLUP.c.id == 1).values(rolled_through=day, updated_at=now)
        )
        if not rowcount(updated):
            await self.session.execute(
                insert(ROLLUP).values(id=1, rolled_through=day, updated_at=now)
            )

    async def askers(self, start: dt.datetime, end: dt.datetime) -> list[int]:
        """The people (user ids) who asked something in ``[start, end)``."""
        rows = await self.session.scalars(
            select(QUERIES.c.user_id)
            .where(QUERIES.c.created_at >= start, QUERIES.c.created_at < end)
            .distinct()
        )
        return [int(u) for u in rows]

    async def first_question_day(self) -> dt.date | None:
        first = await self.session.scalar(select(func.min(QUERIES.c.created_at)))
        return None if first is None else cast(dt.datetime, first).date()

    # -- tokens ----------------------------------------------------------------------------

    async def tokens(self, user_ids: Iterable[int], now: dt.datetime) -> dict[int, int]:
        """Each person's analytics token, made (at random) for those who have none."""
        ids = sorted(set(user_ids))
        found: dict[int, int] = {}
        for start in range(0, len(ids), 5_000):
            part = ids[start : start + 5_000]
            rows = await self.session.execute(
                select(PEOPLE.c.user_id, PEOPLE.c.token).where(PEOPLE.c.user_id.in_(part))
            )
            found.update({int(u): int(t) for u, t in rows.all()})
        missing = [u for u in ids if u not in found]
        if missing:
            made = {u: secrets.randbelow(2**62) + 1 for u in missing}
            insert_ = (postgresql if self.dialect == "postgresql" else sqlite).insert(PEOPLE)
            await self.session.execute(
                insert_.on_conflict_do_nothing(),
                [{"user_id": u, "token": t, "since": now} for u, t in made.items()],
            )
            found.update(made)
        return found

    async def rotate_tokens(self, older_than: dt.datetime) -> int:
        """Forget tokens made before ``older_than``: the facts they mark can no longer be
        tied to anyone (the person gets a new token at the next roll-up)."""
        result = await self.session.execute(delete(PEOPLE).where(PEOPLE.c.since < older_than))
        return rowcount(result)

    # -- facts -----------------------------------------------------------------------------

    async def add_facts(self, facts: Sequence[Fact]) -> None:
        for start in range(0, len(facts), CHUNK):
            await self.session.execute(
                insert(FACTS),
                [
                    {name: getattr(f, name) for name in FACT_COLUMNS}
                    for f in facts[start : start + CHUNK]
                ],
            )

    def _decision(self) -> Any:
        """A query log row's decision, as :func:`bot.analytics.facts.decision_of` gives it."""
        q = QUERIES.c
        return case(
            (q.intent == "urgent", "urgent"),
            (q.intent == "human", "handed_off"),
            (q.decision == "answer", "answered"),
            (and_(q.decision == "clarify", q.chosen_entry.is_not(None)), "clarified"),
            (q.decision == "clarify", "maybe"),
            else_="unknown",
        )

    def _not_small_talk(self) -> Any:
        return or_(QUERIES.c.intent.is_(None), QUERIES.c.intent.not_in(SMALL_TALK))

    def _unanswered(self) -> Any:
        """Questions :func:`bot.analytics.facts.is_unanswered` calls unanswered."""
        return or_(self._decision() == "unknown", QUERIES.c.none_of_these.is_(True))

    async def add_answered_facts(
        self, start: dt.datetime, end: dt.datetime, topics: dict[str, str], window: dt.timedelta
    ) -> None:
        """The query log's questions of ``[start, end)`` that are not unanswered, turned into
        facts by the database in one ``INSERT ... SELECT`` — what
        :func:`bot.analytics.facts.to_fact` makes of them, row for row (the unanswered ones
        need their grouping key, made in Python). Every asker must have a token already."""
        q = QUERIES.c
        decision = self._decision()
        entry = case(
            (decision == "answered", q.top_entry),
            (decision == "clarified", q.chosen_entry),
            else_=null(),
        )
        topic = case(topics, value=entry, else_=null()) if topics else null()
        limit: Any
        day: Any
        if self.dialect == "sqlite":
            # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': add the window, keep the microseconds.
            minutes = int(window.total_seconds() // 60)
            limit = func.strftime("%Y-%m-%d %H:%M:%S", q.created_at, f"+{minutes} minutes").op(
                "||"
            )(func.substr(q.created_at, 20))
            day = sql_cast(func.strftime("%Y%m%d", q.created_at), Integer)
        else:
            limit = q.created_at + literal(window, Interval())
            day = sql_cast(func.to_char(func.timezone("UTC", q.created_at), "YYYYMMDD"), Integer)
        asked_for_person = exists().where(
            TICKETS.c.user_id == q.user_id,
            TICKETS.c.opened_at >= q.created_at,
            TICKETS.c.opened_at <= limit,
        )
        self_service = and_(decision.in_(("answered", "clarified")), not_(asked_for_person))
        query = (
            select(
                day,
                PEOPLE.c.token,
                q.lang,
                q.platform,
                q.audience,
                topic,
                entry,
                q.top_entry,
                decision,
                case((self_service, True), else_=False),
                case((q.feedback.is_(True), 1), (q.feedback.is_(False), 0), else_=null()),
                q.none_of_these,
                null(),
                q.id,
            )
            .select_from(QUERIES.join(PEOPLE, PEOPLE.c.user_id == q.user_id))
            .where(
                q.created_at >= start,
                q.created_at < end,
                self._not_small_talk(),
                not_(self._unanswered()),
            )
            .order_by(q.id)
        )
        await self.session.execute(insert(FACTS).from_select(list(FACT_COLUMNS), query))

    async def delete_facts(self, first_day: int, last_day: int) -> None:
        await self.session.execute(
            delete(FACTS).where(FACTS.c.day >= first_day, FACTS.c.day <= last_day)
        )

    async def facts(self, first_day: int, last_day: int, filters: Any) -> AsyncIterator[Fact]:
        """The facts of the days ``first_day``..``last_day``, streamed."""
        query = select(*(FACTS.c[name] for name in FACT_COLUMNS)).where(
            FACTS.c.day >= first_day, FACTS.c.day <= last_day, *_where_filters(FACTS, filters)
        )
        result = await self.session.stream(query.execution_options(yield_per=CHUNK))
        async for part in result.partitions(CHUNK):
            for row in part:
                yield Fact(*row)

    async def fact_counts(
        self, first_day: int, last_day: int, filters: Any, buckets: Sequence[tuple[int, int]]
    ) -> dict[str, Any]:
        """The figures of the facts of ``first_day``..``last_day`` counted by the database:
        ``(count, distinct people)`` in total and per breakdown (exact on both backends)."""
        where = [
            FACTS.c.day >= first_day,
            FACTS.c.day <= last_day,
            *_where_filters(FACTS, filters),
        ]
        people = func.count(FACTS.c.person.distinct())
        n = func.count()

        async def rows(*columns: Any, extra: Sequence[Any] = ()) -> list[Any]:
            query = select(*columns, n, people).where(*where, *extra)
            if columns:
                query = query.group_by(*columns)
            return list((await self.session.execute(query)).all())

        out: dict[str, Any] = {"total": (await rows())[0]}
        for column in ("lang", "platform", "audience", "topic", "entry", "decision"):
            out[column] = await rows(FACTS.c[column])
        out["self_service"] = (await rows(extra=[FACTS.c.self_service.is_(True)]))[0]
        unanswered = or_(FACTS.c.decision == "unknown", FACTS.c.none_of_these.is_(True))
        out["unanswered"] = (await rows(extra=[unanswered]))[0]
        out["feedback"] = await rows(
            FACTS.c.entry,
            FACTS.c.feedback,
            extra=[FACTS.c.entry.is_not(None), FACTS.c.feedback.is_not(None)],
        )
        out["none_of_these"] = await rows(
            FACTS.c.near, extra=[FACTS.c.none_of_these.is_(True), FACTS.c.near.is_not(None)]
        )
        # Per best candidate (the console's Entries page): the questions, those answered with
        # it (or by picking it), those left at "maybe one of these".
        near = FACTS.c.near.is_not(None)
        out["near_asked"] = await rows(FACTS.c.near, extra=[near])
        out["near_answered"] = await rows(FACTS.c.near, extra=[near, FACTS.c.entry == FACTS.c.near])
        out["near_maybe"] = await rows(FACTS.c.near, extra=[near, FACTS.c.decision == "maybe"])
        bucket = case(
            *((and_(FACTS.c.day >= a, FACTS.c.day <= b), a) for a, b in buckets),
            else_=FACTS.c.day,
        ).label("bucket")
        if all(a == b for a, b in buckets):
            bucket = FACTS.c.day.label("bucket")
        out["series"] = await rows(bucket)
        out["series_lang"] = await rows(bucket, FACTS.c.lang)
        returning = (
            select(FACTS.c.person)
            .where(*where)
            .group_by(FACTS.c.person)
            .having(func.count(FACTS.c.day.distinct()) > 1)
            .subquery()
        )
        out["returning"] = int(
            await self.session.scalar(select(func.count()).select_from(returning)) or 0
        )
        return out

    # -- the daily cells -------------------------------------------------------------------

    async def cells_through(self) -> int | None:
        """The last day (``YYYYMMDD``) in the daily cells, ``None`` before the first."""
        value = await self.session.scalar(select(ROLLUP.c.cells_through).where(ROLLUP.c.id == 1))
        return None if not value else int(value)

    async def analyze(self) -> None:
        """Fresh planner statistics for the analytics tables after a large roll-up
        (PostgreSQL: a year's facts rolled up at once would otherwise be planned as empty
        tables until autovacuum gets to them)."""
        if self.dialect == "postgresql":
            await self.session.execute(
                sql_text("ANALYZE analytics_facts, analytics_cells, analytics_cell_people")
            )

    async def first_fact_day(self) -> int | None:
        value = await self.session.scalar(select(func.min(FACTS.c.day)))
        return None if value is None else int(value)

    async def set_cells_through(self, day: int) -> None:
        await self.session.execute(update(ROLLUP).where(ROLLUP.c.id == 1).values(cells_through=day))

    async def build_cells(self, first_day: int, last_day: int) -> None:
        """The daily cells of those days, counted from their facts (set-based: one
        ``INSERT ... SELECT`` per figure, then the people of the small cells)."""
        for table in (CELLS, CELL_PEOPLE):
            await self.session.execute(
                delete(table).where(table.c.day >= first_day, table.c.day <= last_day)
            )
        days = [FACTS.c.day >= first_day, FACTS.c.day <= last_day]
        for dim, key, where in _cell_dims():
            key = sql_cast(key, String)
            await self.session.execute(
                insert(CELLS).from_select(
                    ["day", "dim", "key", "n", "people"],
                    select(
                        FACTS.c.day,
                        literal(dim, String),
                        key,
                        func.count(),
                        func.count(FACTS.c.person.distinct()),
                    )
                    .where(*days, *where)
                    .group_by(FACTS.c.day, key),
                )
            )
            small = exists().where(
                CELLS.c.day == FACTS.c.day,
                CELLS.c.dim == dim,
                CELLS.c.key == key,
                CELLS.c.people < SMALL_CELL,
            )
            await self.session.execute(
                insert(CELL_PEOPLE).from_select(
                    ["day", "dim", "key", "person"],
                    select(FACTS.c.day, literal(dim, String), key, FACTS.c.person)
                    .where(*days, *where, small)
                    .distinct(),
                )
            )

    async def cell_counts(
        self, first_day: int, last_day: int, buckets: Sequence[tuple[int, int]], k: int
    ) -> dict[str, Any]:
        """The period's figures from the daily cells: per ``(dim, key)`` the questions and
        the people — exact, or (when one day alone has at least ``k``) a number of at least
        ``k``, which is all suppression asks. ``k`` must not exceed :data:`SMALL_CELL`."""
        if k > SMALL_CELL:
            raise ValueError(f"the daily cells serve k up to {SMALL_CELL}")
        days = [CELLS.c.day >= first_day, CELLS.c.day <= last_day]
        cells: dict[tuple[str, str], tuple[int, int]] = {}
        cell_rows = await self.session.execute(
            select(CELLS.c.dim, CELLS.c.key, func.sum(CELLS.c.n), func.max(CELLS.c.people))
            .where(*days)
            .group_by(CELLS.c.dim, CELLS.c.key)
        )
        for dim, key, n, people in cell_rows.all():
            cells[(dim, key)] = (int(n), int(people))
        # Below k every day: all the cell's days kept their people; count them exactly.
        small = {c for c, (_n, people) in cells.items() if people < k}
        if small:
            small_rows = await self.session.execute(
                select(
                    CELL_PEOPLE.c.dim,
                    CELL_PEOPLE.c.key,
                    func.count(CELL_PEOPLE.c.person.distinct()),
                )
                .where(
                    CELL_PEOPLE.c.day >= first_day,
                    CELL_PEOPLE.c.day <= last_day,
                    CELL_PEOPLE.c.dim.in_(sorted({dim for dim, _ in small})),
                )
                .group_by(CELL_PEOPLE.c.dim, CELL_PEOPLE.c.key)
            )
            for dim, key, people in small_rows.all():
                if (dim, key) in small:
                    cells[(dim, key)] = (cells[(dim, key)][0], int(people))
        out: dict[str, Any] = {"cells": cells}
        bucket = _bucket(CELLS.c.day, buckets)
        series: dict[tuple[int, str], tuple[int, int]] = {}
        lang_rows = await self.session.execute(
            select(bucket, CELLS.c.key, func.sum(CELLS.c.n), func.max(CELLS.c.people))
            .where(*days, CELLS.c.dim == "lang")
            .group_by(bucket, CELLS.c.key)
        )
        for start, key, n, people in lang_rows.all():
            series[(int(start), key)] = (int(n), int(people))
        small_series = {c for c, (_n, people) in series.items() if people < k}
        if small_series and not all(a == b for a, b in buckets):
            bucket = _bucket(CELL_PEOPLE.c.day, buckets)
            small_lang_rows = await self.session.execute(
                select(bucket, CELL_PEOPLE.c.key, func.count(CELL_PEOPLE.c.person.distinct()))
                .where(
                    CELL_PEOPLE.c.day >= first_day,
                    CELL_PEOPLE.c.day <= last_day,
                    CELL_PEOPLE.c.dim == "lang",
                )
                .group_by(bucket, CELL_PEOPLE.c.key)
            )
            for start, key, people in small_lang_rows.all():
                if (int(start), key) in small_series:
                    series[(int(start), key)] = (series[(int(start), key)][0], int(people))
        out["series_lang"] = series
        # Distinct people are not additive over days: counted from the facts' (day, person)
        # index, once per person (returning: their first day before their last, cheaper than
        # counting their distinct days) and per bucket.
        where = [FACTS.c.day >= first_day, FACTS.c.day <= last_day]
        per_person = (
            select(
                FACTS.c.person,
                case((func.min(FACTS.c.day) < func.max(FACTS.c.day), 1), else_=0).label("back"),
            )
            .where(*where)
            .group_by(FACTS.c.person)
            .subquery()
        )
        people, returning = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(per_person.c.back), 0)).select_from(
                    per_person
                )
            )
        ).one()
        out["people"], out["returning"] = int(people), int(returning)
        if all(a == b for a, b in buckets):  # a day's people: its total cell
            day_rows = await self.session.execute(
                select(CELLS.c.day, CELLS.c.people).where(*days, CELLS.c.dim == "total")
            )
            out["series_people"] = {int(day): int(n) for day, n in day_rows.all()}
            return out
        bucket = _bucket(FACTS.c.day, buckets)
        bucket_rows = await self.session.execute(
            select(bucket, func.count(FACTS.c.person.distinct())).where(*where).group_by(bucket)
        )
        out["series_people"] = {int(start): int(n) for start, n in bucket_rows.all()}
        return out

    async def unanswered_facts(
        self, first_day: int, last_day: int, filters: Any
    ) -> AsyncIterator[tuple[str | None, int, str | None, int | None]]:
        """``(grouping key, person, nearest entry, query id)`` of the questions the bot could
        not answer on those days."""
        query = select(FACTS.c.cluster_key, FACTS.c.person, FACTS.c.near, FACTS.c.query_id).where(
            FACTS.c.day >= first_day,
            FACTS.c.day <= last_day,
            or_(FACTS.c.decision == "unknown", FACTS.c.none_of_these.is_(True)),
            *_where_filters(FACTS, filters),
        )
        result = await self.session.stream(query.execution_options(yield_per=CHUNK))
        async for part in result.partitions(CHUNK):
            for row in part:
                yield row[0], int(row[1]), row[2], row[3]

    async def count_facts(self, first_day: int, last_day: int, filters: Any) -> int:
        query = select(func.count()).where(
            FACTS.c.day >= first_day, FACTS.c.day <= last_day, *_where_filters(FACTS, filters)
        )
        return int(await self.session.scalar(query) or 0)

    # -- the query log, for the days not rolled up yet --------------------------------------

    async def raw_questions(
        self, start: dt.datetime, end: dt.datetime, filters: Any, *, unanswered: bool = False
    ) -> list[RawQuestion]:
        """The query log's questions asked in ``[start, end)``, each with its person's token
        (minus the user id for someone who has none yet); with ``unanswered``, only those the
        bot could not answer (small talk left out)."""
        person = func.coalesce(PEOPLE.c.token, -QUERIES.c.user_id)
        query = (
            select(
                QUERIES.c.id,
                QUERIES.c.user_id,
                person,
                QUERIES.c.created_at,
                QUERIES.c.text_scrubbed,
                QUERIES.c.lang,
                QUERIES.c.decision,
                QUERIES.c.intent,
                QUERIES.c.top_entry,
                QUERIES.c.feedback,
                QUERIES.c.platform,
                QUERIES.c.audience,
                QUERIES.c.chosen_entry,
                QUERIES.c.none_of_these,
            )
            .select_from(QUERIES.outerjoin(PEOPLE, PEOPLE.c.user_id == QUERIES.c.user_id))
            .where(
                QUERIES.c.created_at >= start,
                QUERIES.c.created_at < end,
                *_where_filters(QUERIES, filters),
            )
            .order_by(QUERIES.c.id)
        )
        if unanswered:
            query = query.where(self._not_small_talk(), self._unanswered())
        rows = (await self.session.execute(query)).all()
        return [RawQuestion(*row) for row in rows]  # type: ignore[call-arg]

    async def texts(self, query_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
        """The person (user id) and scrubbed text of logged questions still in the log."""
        if not query_ids:
            return {}
        rows = await self.session.execute(
            select(QUERIES.c.id, QUERIES.c.user_id, QUERIES.c.text_scrubbed).where(
                QUERIES.c.id.in_(list(query_ids))
            )
        )
        return {int(i): (int(u), str(t)) for i, u, t in rows.all()}

    async def texts_of(
        self, user_ids: Sequence[int], start: dt.datetime, end: dt.datetime
    ) -> dict[int, list[str]]:
        """Everything these people wrote in ``[start, end)``: where the names they gave are."""
        out: dict[int, list[str]] = {}
        ids = sorted(set(user_ids))
        for offset in range(0, len(ids), 5_000):
            rows = await self.session.execute(
                select(QUERIES.c.user_id, QUERIES.c.text_scrubbed)
                .where(
                    QUERIES.c.user_id.in_(ids[offset : offset + 5_000]),
                    QUERIES.c.created_at >= start,
                    QUERIES.c.created_at < end,
                )
                .order_by(QUERIES.c.id)
            )
            for user_id, text in rows.all():
                out.setdefault(int(user_id), []).append(str(text))
        return out

    async def handoffs(
        self, user_ids: Sequence[int], start: dt.datetime, end: dt.datetime
    ) -> dict[int, list[dt.datetime]]:
        """When each of these people had a ticket opened in ``[start, end)`` (sorted)."""
        out: dict[int, list[dt.datetime]] = {}
        ids = sorted(set(user_ids))
        for offset in range(0, len(ids), 5_000):
            part = ids[offset : offset + 5_000]
            rows = await self.session.execute(
                select(TICKETS.c.user_id, TICKETS.c.opened_at).where(
                    TICKETS.c.user_id.in_(part),
                    TICKETS.c.opened_at >= start,
                    TICKETS.c.opened_at < end,
                )
            )
            for user_id, opened_at in rows.all():
                out.setdefault(int(user_id), []).append(opened_at)
        for times in out.values():
            times.sort()
        return out

    # -- the desk --------------------------------------------------------------------------

    def _microseconds(self, later: Any, earlier: Any) -> Any:
        """``later - earlier`` in whole microseconds, exact on both backends."""
        if self.dialect == "sqlite":
            # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): whole seconds, then the fraction.
            def seconds(column: Any) -> Any:
                return sql_cast(func.strftime("%s", column), Integer)

            def micro(column: Any) -> Any:
                return sql_cast(func.substr(column, 21), Integer)

            return (seconds(later) - seconds(earlier)) * 1_000_000 + (micro(later) - micro(earlier))
        epoch = func.extract("epoch", later - earlier)
        return sql_cast(func.round(epoch * 1_000_000), BigInteger)

    async def desk_tickets(
        self, start: dt.datetime, end: dt.datetime, filters: Any, *, with_opened_at: bool = False
    ) -> list[DeskTicket]:
        """Tickets opened or closed in ``[start, end)``, counted as :class:`DeskTicket`s
        (``with_opened_at``: with the time each was opened, for working hours)."""
        t = TICKETS.c
        closed_in = and_(
            t.closed_at >= start,
            t.closed_at < end,
            t.close_reason.is_not(None),
            t.close_reason != "",
        )
        close_us = case((closed_in, self._microseconds(t.closed_at, t.opened_at)), else_=null())
        reason = case((closed_in, t.close_reason), else_=null())
        where = _where_filters(TICKETS, filters)
        opened = select(
            t.user_id,
            t.lang,
            literal(True),
            t.opened_at if with_opened_at else null(),
            case(
                (
                    t.first_response_at.is_not(None),
                    self._microseconds(t.first_response_at, t.opened_at),
                ),
                else_=null(),
            ),
            reason,
            close_us,
        ).where(t.opened_at >= start, t.opened_at < end, *where)
        closed = select(t.user_id, t.lang, literal(False), null(), null(), reason, close_us).where(
            closed_in, t.opened_at < start, *where
        )
        rows = (await self.session.execute(opened.union_all(closed))).all()
        return [
            DeskTicket(
                None if u is None else int(u),
                str(lang),
                bool(is_opened),
                opened_at,
                None if first is None else int(first),
                why,
                None if close is None else int(close),
            )
            for u, lang, is_opened, opened_at, first, why, close in rows
        ]

    async def waiting_now(self, filters: Any) -> list[int | None]:
        """The people (user ids) of the tickets waiting for a consultant now."""
        rows = await self.session.execute(
            select(TICKETS.c.user_id).where(
                TICKETS.c.state == "waiting", *_where_filters(TICKETS, filters)
            )
        )
        return [None if u is None else int(u) for (u,) in rows.all()]

    async def desk_ratings(
        self, start: dt.datetime, end: dt.datetime, filters: Any
    ) -> list[DeskRating]:
        rows = await self.session.execute(
            select(
                TICKETS.c.user_id,
                TICKETS.c.lang,
                RATINGS.c.score,
                RATINGS.c.comment.is_not(None),
            )
            .select_from(RATINGS.join(TICKETS, TICKETS.c.id == RATINGS.c.ticket_id))
            .where(
                and_(RATINGS.c.created_at >= start, RATINGS.c.created_at < end),
                *_where_filters(TICKETS, filters),
            )
        )
        return [
            DeskRating(None if u is None else int(u), str(lang), int(score), bool(comment))
            for u, lang, score, comment in rows.all()
        ]
