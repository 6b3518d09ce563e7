"""Retention (issue 15): the daily roll-up, then pruning what is personal after
``RETENTION_DAYS``. :func:`prune` is both ``otwarta prune [--older-than-days N]`` and the
daily job of ``otwarta serve`` (:class:`RetentionJob`).

1. **Roll-up** (:func:`roll_up`): every complete day (UTC) not rolled up yet becomes facts in
   ``analytics_facts`` — one row per question with its day, categories and an analytics
   token, no text and no id. A report reads the facts for those days from then on, so its
   numbers do not change when the texts go, or when someone uses ``/forget`` (which deletes
   the person, their questions and their token: what was rolled up stays counted, and can no
   longer be tied to anyone). Set-based: the database turns the answered questions into
   facts (``INSERT ... SELECT``); only the unanswered ones go through Python, for their
   grouping key. Then the day's *cells* (``analytics_cells``: per figure cell its questions
   and distinct people, the people of small cells in ``analytics_cell_people``) are counted
   from the facts, so that a report sums days instead of scanning questions.
2. **Prune**: questions logged before the horizon are deleted (their texts and their link
   to the person); closed tickets' contents (the question, the name, the relayed texts, the
   rating comments) are blanked, the ticket stubs stay for the desk's figures; analytics
   tokens older than the horizon are dropped, so facts older than it cannot be tied to anyone
   still known to the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from bot.analytics.facts import SELF_SERVICE_WINDOW, raw_facts
from bot.analytics.knowledge import Knowledge
from bot.analytics.store import AnalyticsStore, day_number, day_of, midnight
from bot.db import Database
from bot.supervisor import DATABASE, Supervisor

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 180
#: Days rolled up per transaction (bounds memory and the time the write lock is held).
DAYS_PER_TRANSACTION = 7
#: A roll-up of this many days or more refreshes the planner's statistics (PostgreSQL).
ANALYZE_AFTER_DAYS = 28
#: How long after midnight the day before is rolled up.
SETTLE = 2 * SELF_SERVICE_WINDOW
#: The first round waits this long after start (start-up is busy enough).
FIRST_AFTER_SECONDS = 120.0
#: How often the job looks (it does nothing when the day's work is done).
JOB_EVERY_SECONDS = 3600.0


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class PruneResult:
    rolled_days: int
    questions: int
    tickets: int
    tokens: int


async def roll_up(
    db: Database,
    knowledge: Knowledge,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Roll up every complete day not rolled up yet; returns how many days."""
    now = now or utcnow()
    # A day is complete once the 30 minutes of "did they ask for a person" after it are over.
    yesterday = (now - SETTLE).date() - dt.timedelta(days=1)
    done = 0
    while True:
        async with db.transaction() as uow:
            store = AnalyticsStore(uow)
            rolled = await store.rolled_through(lock=True)
            if rolled is not None:
                first = day_of(rolled) + dt.timedelta(days=1)
            else:
                first = await store.first_question_day() or yesterday
            if first > yesterday:
                if rolled is None:
                    await store.set_rolled_through(day_number(yesterday), now)
                    await store.set_cells_through(day_number(yesterday))
                elif (await store.cells_through() or 0) < rolled:
                    await _catch_up_cells(store, rolled)
                    await store.analyze()
                if done >= ANALYZE_AFTER_DAYS:
                    await store.analyze()
                return done
            last = min(yesterday, first + dt.timedelta(days=DAYS_PER_TRANSACTION - 1))
            start, end = midnight(first), midnight(last + dt.timedelta(days=1))
            await store.tokens(await store.askers(start, end), now)
            await store.delete_facts(day_number(first), day_number(last))
            # Set-based: the database turns the answered questions into facts; only the
            # unanswered ones (their grouping keys) go through Python.
            await store.add_answered_facts(start, end, knowledge.topics, SELF_SERVICE_WINDOW)
            await store.add_facts(await raw_facts(store, start, end, knowledge, unanswered=True))
            await store.set_rolled_through(day_number(last), now)
            await _build_cells(store, first=day_number(first), last=day_number(last))
        days = (last - first).days + 1
        done += days
        if progress is not None:
            progress(days)


async def _build_cells(store: AnalyticsStore, *, first: int, last: int) -> None:
    """The daily cells of ``first``..``last`` from their facts, if the cells are complete up
    to the day before (otherwise :func:`_catch_up_cells` fills them first)."""
    through = await store.cells_through()
    if through is None or through < day_number(day_of(first) - dt.timedelta(days=1)):
        await _catch_up_cells(store, last)
        return
    await store.build_cells(first, last)
    await store.set_cells_through(last)


async def _catch_up_cells(store: AnalyticsStore, last: int) -> None:
    """Cells for every day rolled up through ``last`` (a database rolled up before the cells
    existed catches up from its facts, which outlive the texts)."""
    through = await store.cells_through()
    start = day_of(through) + dt.timedelta(days=1) if through else None
    if start is None:
        first = await store.first_fact_day()
        if first is None:
            await store.set_cells_through(last)
            return
        start = day_of(first)
    await store.build_cells(day_number(start), last)
    await store.set_cells_through(last)


async def prune(
    db: Database,
    knowledge: Knowledge,
    *,
    older_than_days: int = DEFAULT_RETENTION_DAYS,
    now: dt.datetime | None = None,
) -> PruneResult:
    """Roll up, then delete what is personal and older than ``older_than_days`` days."""
    from bot.desk.store import SqlDeskStore

    if older_than_days < 0:
        raise ValueError("older_than_days must be 0 or more")
    now = now or utcnow()
    rolled = await roll_up(db, knowledge, now=now)
    # Never past the roll-up: the horizon is a midnight, at most the day after the last one
    # rolled up.
    horizon = min(
        midnight(now.date()) - dt.timedelta(days=older_than_days),
        midnight((now - SETTLE).date()),
    )
    async with db.transaction() as uow:
        questions = await uow.queries.prune(horizon)
        tickets = await SqlDeskStore(uow, lambda: now).prune_contents(horizon)
        tokens = await AnalyticsStore(uow).rotate_tokens(horizon)
    result = PruneResult(rolled, questions, tickets, tokens)
    if questions or tickets or rolled:
        log.info(
            "retention: rolled up %d days; pruned %d questions, %d tickets' contents, "
            "%d analytics tokens older than %s",
            rolled,
            questions,
            tickets,
            tokens,
            horizon.date(),
        )
    return result


class RetentionJob:
    """The daily roll-up and prune of ``otwarta serve``, run like the engine's housekeeping
    (a periodic task; a failed round is logged and tried again at the next)."""

    def __init__(
        self,
        db: Database,
        knowledge: Knowledge,
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        every: float = JOB_EVERY_SECONDS,
        first_after: float = FIRST_AFTER_SECONDS,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.db = db
        self.knowledge = knowledge
        self.retention_days = retention_days
        self.every = every
        self.first_after = first_after
        self.clock = clock
        self._done_for: dt.date | None = None

    async def run_once(self) -> PruneResult | None:
        """Roll up and prune, once a day (``None`` when today's round is done)."""
        now = self.clock()
        if self._done_for == now.date():
            return None
        result = await prune(self.db, self.knowledge, older_than_days=self.retention_days, now=now)
        self._done_for = now.date()
        return result

    async def _loop(self) -> None:
        await asyncio.sleep(self.first_after)
        while True:
            try:
                await self.run_once()
            except Exception as exc:
                if not DATABASE.failed(exc):  # an outage is logged once, by the dependency
                    log.exception("retention job failed; trying again later")
            await asyncio.sleep(self.every)

    @contextlib.asynccontextmanager
    async def running(self, supervisor: Supervisor | None = None) -> AsyncIterator[RetentionJob]:
        """Run the job while the block runs: as the supervised worker "retention" (``serve``:
        a failure is counted and restarted, a database outage logged once), or a plain task.
        """
        if supervisor is not None:
            supervisor.every(
                "retention",
                self.every,
                self.run_once,
                first_after=self.first_after,
                dependency=DATABASE,
            )
            yield self  # the supervisor stops it with the others
            return
        task = asyncio.create_task(self._loop(), name="retention")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
