"""The announcement worker: feeds the outbox's announcement lane, a small batch at a time.

Every round, in ONE transaction: copy the outcome of delivered announcement messages back to
their recipients; materialize the announcements whose publish time has come (one pending
recipient row per person); then, while the outbox holds fewer than ``window`` announcement
messages, claim up to ``batch`` pending recipients, write their messages to the outbox (lane
1) and mark them queued with their outbox row's id. So:

- the outbox never holds more than about ``window`` announcement messages: a reply to someone
  talking to the bot is claimed before them (lane 0 first) and waits behind at most the few
  that are being sent (:attr:`bot.outbox.OutboxWorker.bulk_in_flight`);
- ``kill -9`` at any moment and restart: a recipient is either still pending (the transaction
  never committed: queued again) or queued with its outbox row (sent by the outbox, whose own
  crash safety takes over). Nobody is queued twice, nobody skipped. On PostgreSQL several
  processes feed side by side (``FOR UPDATE SKIP LOCKED`` on the recipients).

The rate limits (Telegram 30/s overall and 1/s a chat, Viber's), ``retry_after`` and blocked
people are the outbox's, as for every message; a blocked person is also unsubscribed there.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from bot import metrics
from bot.announce.render import render
from bot.db import Database
from bot.db.outbox import LANE_ANNOUNCEMENT
from bot.outbox import OutboxWorker, utcnow
from bot.supervisor import DATABASE, Supervisor
from handlers.context import TranslatorFactory

log = logging.getLogger(__name__)


class AnnouncementWorker:
    def __init__(
        self,
        db: Database,
        outbox: OutboxWorker,
        translator_for: TranslatorFactory,
        *,
        platforms: Callable[[], Sequence[str]] | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        batch: int = 30,
        window: int = 60,
        busy_interval: float = 0.25,
        idle_interval: float = 2.0,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.translator_for = translator_for
        self._platforms = platforms or (lambda: outbox.platforms)
        self.clock = clock
        self.batch = batch
        self.window = window
        self.busy_interval = busy_interval
        self.idle_interval = idle_interval
        self._task: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        self._busy = False

    async def start(self, supervisor: Supervisor | None = None) -> None:
        """Feed announcements: as the supervised worker "announcements" (``serve``: an
        unexpected failure is counted and the worker restarted), or as a plain task."""
        if supervisor is not None:
            supervisor.every(
                "announcements",
                self._pause,
                self._round,
                dependency=DATABASE,
                wake=self._wakeup,
            )
            return
        self._task = asyncio.create_task(self._run(), name="announcement-worker")

    async def _round(self) -> None:
        self._busy = False  # a failed round waits as long as an idle one
        self._busy = await self.run_once() > 0 or await self._sending()

    def _pause(self) -> float:
        return self.busy_interval if self._busy else self.idle_interval

    def wake(self) -> None:
        self._wakeup.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not DATABASE.failed(exc):  # an outage is logged once, by the dependency
                    log.exception("announcements: feeding round failed; retrying")
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._pause())

    async def _sending(self) -> bool:
        async with self.db.read() as uow:
            return bool(await uow.announcements.sending())

    async def run_once(self) -> int:
        """One round (see the module docstring); returns how many messages it queued."""
        platforms = list(self._platforms())
        if not platforms:
            return 0
        queued = 0
        now = self.clock()
        async with self.db.transaction() as uow:
            announcements = uow.announcements
            await announcements.reconcile(now)
            for due in await announcements.due_to_start(now):
                total = await announcements.materialize(due, platforms, now)
                log.info("announcement %d (%s): %d recipients", due.id, due.key, total)
            room = self.window - await uow.outbox.pending_in_lane(LANE_ANNOUNCEMENT)
            for announcement in await announcements.sending():
                fed = 0
                while room > 0:
                    claimed = await announcements.claim_pending(
                        announcement, min(self.batch, room), now
                    )
                    if not claimed:
                        break
                    replies = [
                        (
                            render(
                                announcement.id,
                                announcement.content,
                                who.platform,
                                who.external_id,
                                who.lang,
                                self.translator_for,
                            ),
                            who.user_id,
                        )
                        for who in claimed
                    ]
                    outbox_ids = await uow.outbox.enqueue_returning_ids(
                        replies, now, lane=LANE_ANNOUNCEMENT
                    )
                    await announcements.mark_queued(
                        announcement.id,
                        [(who.user_id, oid) for who, oid in zip(claimed, outbox_ids, strict=True)],
                        now,
                    )
                    room -= len(claimed)
                    fed += len(claimed)
                queued += fed
                if not fed and await announcements.finish(announcement.id, now):
                    log.info("announcement %d (%s) done", announcement.id, announcement.key)
            progress = await announcements.progress_all()
        counts = dict.fromkeys(("pending", "delivered", "failed", "skipped"), 0)
        for status, count in progress.items():
            counts[_METRIC_STATUS.get(status, "pending")] += count
        for label, count in counts.items():
            metrics.ANNOUNCEMENT_RECIPIENTS.labels(label).set(count)
        if queued:
            metrics.ANNOUNCEMENT_MESSAGES_QUEUED.inc(queued)
            self.outbox.wake()
        return queued


_METRIC_STATUS = {
    "pending": "pending",
    "queued": "pending",
    "sent": "delivered",
    "failed": "failed",
    "skipped": "skipped",
}
