"""The desk reminder: a periodic job posting in the desk when tickets wait too long.

Runs in the ``serve`` process every ``DESK_REMINDER_INTERVAL_SECONDS``. One message in the
General topic lists every ticket waiting longer than ``DESK_REMINDER_MINUTES`` (urgent first);
each ticket is mentioned again only after another such span. Outside working hours nobody is
there to read it, so the job keeps quiet until the desk opens. It also refreshes the
"tickets by state" gauge.

Several processes may run it at once on PostgreSQL: a round locks the overdue tickets it lists
(skipping any another round is listing) and marks them reminded in the same transaction as it
queues the message, so no ticket is listed by two processes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot import metrics
from bot.db import Database
from bot.desk.store import SqlDeskStore
from bot.outbox import utcnow
from handlers.context import TranslatorFactory
from handlers.desk.config import Schedule
from handlers.desk.effects import DeskEffect, EffectKind

if TYPE_CHECKING:
    from bot.supervisor import Supervisor

log = logging.getLogger(__name__)


class DeskReminder:
    def __init__(
        self,
        db: Database,
        *,
        chat_id: str,
        translator_for: TranslatorFactory,
        desk_lang: str,
        threshold: dt.timedelta,
        hours: Schedule | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.chat_id = chat_id
        self.translator_for = translator_for
        self.desk_lang = desk_lang
        self.threshold = threshold
        self.hours = hours
        self.clock = clock
        self.wake = wake
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> list[int]:
        """Post one reminder if tickets are overdue; returns their numbers."""
        now = self.clock()
        async with self.db.transaction() as uow:
            store = SqlDeskStore(uow, self.clock)
            for state, count in (await store.count_open()).items():
                metrics.DESK_TICKETS.labels(state).set(count)
            if self.hours is not None and not self.hours.is_open(now):
                return []
            overdue = await store.overdue(self.threshold, self.threshold)
            if not overdue:
                return []
            t = self.translator_for(self.desk_lang)
            minutes = round(self.threshold.total_seconds() / 60)
            lines = [
                t.ngettext(
                    "⏰ Waiting longer than {n} minute:",
                    "⏰ Waiting longer than {n} minutes:",
                    minutes,
                ).format(n=minutes)
            ]
            for ticket in overdue:
                waited = int((now - ticket.opened_at).total_seconds() // 60)
                mark = "🚨 " if ticket.urgent else ""
                lines.append(
                    f"- {mark}#{ticket.id} · {ticket.lang.upper()} · "
                    + t.ngettext("{n} minute", "{n} minutes", waited).format(n=waited)
                )
            await store.queue(DeskEffect(EffectKind.GENERAL, text="\n".join(lines)))
            await store.mark_reminded([ticket.id for ticket in overdue])
        if self.wake is not None:
            self.wake()
        return [ticket.id for ticket in overdue]

    async def run(self, interval: float) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("desk reminder failed")
            await asyncio.sleep(interval)

    def start(self, interval: float, *, supervisor: Supervisor | None = None) -> None:
        """Run every ``interval`` seconds: as the supervised worker "desk-reminder" (a
        database outage logged once, by the supervisor's DATABASE), or as a plain task."""
        if supervisor is not None:
            from bot.supervisor import DATABASE

            supervisor.every("desk-reminder", interval, self.run_once, dependency=DATABASE)
            return
        self._task = asyncio.get_running_loop().create_task(
            self.run(interval), name="desk-reminder"
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
