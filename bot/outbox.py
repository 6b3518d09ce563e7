"""The outbox worker: delivers queued replies through each platform's sender.

Platform-neutral: it knows a :class:`~bot.ports.MessageSender` per platform and nothing of
Telegram or Viber. What it guarantees:

- **Order within a chat.** Only a chat's first pending message is ever claimed; the next one
  waits until it is sent or given up, retries included. Different chats go out concurrently.
- **Rate limits.** Every :class:`~bot.ports.RateLimit` a sender declares for an address gets
  one :class:`aiolimiter.AsyncLimiter` per ``key`` (per chat, global, per group...).
- **Retries.** ``RetryLater(after)`` and unexpected errors reschedule the message for
  ``now + max(after, backoff)`` (exponential, with jitter) until ``max_attempts`` or
  ``max_age``, then it fails. ``RecipientGone`` marks the person inactive, removes their
  subscriptions and gives up every pending message to that chat. ``PermanentFailure`` fails
  the one message.
- **Priority lanes.** Lane 0 (replies to people talking to the bot, the desk) is claimed
  before lane 1 (announcements), and at most ``bulk_in_flight`` announcement messages are
  being sent at once, so a reply waits behind a handful of them at the shared rate limiter at
  worst, never behind a whole announcement.
- **Crash safety.** A claim ("sending") carries a lease. Claims whose lease ran out (their
  process died) are queued again; several processes on PostgreSQL claim with
  ``FOR UPDATE SKIP LOCKED`` and never send the same message twice. On the embedded SQLite
  (one process) every stale claim is re-queued at start. A message the platform accepted is
  recorded "sent" at once, in its own transaction, or together with the others that finished
  while one was being written (group commit); a crash in between sends it again after the
  restart (no messenger API takes an idempotency key). As a chat has at most one message
  being sent, a crash repeats at most one message per chat (README, "After a crash").
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from bot import metrics
from bot.db import Database, OutboxItem
from bot.db.outbox import LANE_ANNOUNCEMENT, LANE_CONVERSATION
from bot.ports import (
    MessageSender,
    PermanentFailure,
    RateLimit,
    RecipientGone,
    RetryLater,
    Unavailable,
)
from bot.supervisor import DATABASE, Supervisor
from handlers.model import Platform

log = logging.getLogger(__name__)

#: During a platform's outage (:class:`~bot.ports.Unavailable`) a message is tried again at
#: least this often, so the queue moves as soon as the platform is back.
OUTAGE_RETRY_CAP = 5.0


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait between attempts, and when to give up."""

    base: float = 1.0  # seconds before the second attempt (before jitter)
    cap: float = 300.0  # the longest wait between two attempts
    max_attempts: int = 10
    max_age: float = 24 * 3600.0  # a reply older than this is no use to anyone

    def backoff(self, attempt: int, rand: float) -> float:
        """Wait before retrying after failed attempt number ``attempt`` (1-based):
        exponential, capped, with "equal jitter" (between half and all of it)."""
        delay = min(self.cap, self.base * 2 ** (attempt - 1))
        return delay / 2 + rand * delay / 2


class OutboxWorker:
    """Delivers the outbox. ``start()`` runs it in the background; ``wake()`` after enqueuing;
    ``drain()`` waits until nothing due is left; ``stop()`` on shutdown.

    One loop claims what is due (each chat's first pending message, up to the free delivery
    slots) in one transaction and starts one task per message. A delivered message is recorded
    "sent" as soon as its send returns (:meth:`_record_delivered`: one transaction, shared by
    the deliveries that finished while the previous one was written): until then it stays
    "sending", which keeps its chat's next message waiting, so the order within a chat holds.
    Failures are recorded at once.
    """

    def __init__(
        self,
        db: Database,
        senders: Iterable[MessageSender] = (),
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        retry: RetryPolicy = RetryPolicy(),
        lease: float = 60.0,
        concurrency: int = 32,
        poll_interval: float = 1.0,
        single_process: bool | None = None,
        rand: Callable[[], float] = random.random,
        max_limiters: int = 10_000,
        bulk_in_flight: int = 8,
    ) -> None:
        self.db = db
        self.senders: dict[Platform, MessageSender] = {}
        for sender in senders:
            self.register(sender)
        self.clock = clock
        self.retry = retry
        self.lease = dt.timedelta(seconds=lease)
        self.concurrency = concurrency  # messages being sent at once (delivery slots)
        #: Announcement messages being sent at once, at most: each one in flight may hold the
        #: shared (per-platform) limiter ahead of a reply. At 30/s, 8 are about 0.27 s.
        self.bulk_in_flight = bulk_in_flight
        self._bulk_sending = 0
        # Other processes enqueue without waking us: look again this often when idle.
        self.poll_interval = poll_interval
        self.single_process = db.is_sqlite if single_process is None else single_process
        self._rand = rand
        self._limiters: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._max_limiters = max_limiters
        self._sending: set[asyncio.Task[None]] = set()  # one per message, each holds a slot
        self._in_flight: set[int] = set()  # claimed by us, outcome not recorded yet
        self._delivered: list[tuple[int, dt.datetime, str | None]] = []  # to record "sent"
        self._accepted_at: dict[int, float] = {}  # when the platform took each (monotonic)
        self._record_lock = asyncio.Lock()
        self._next_due: dt.datetime | None = None  # our earliest rescheduled message
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._claim_lock = asyncio.Lock()
        self._maintained = time.monotonic()

    # -- public ---------------------------------------------------------------------------

    def register(self, sender: MessageSender) -> None:
        self.senders[sender.platform] = sender

    @property
    def platforms(self) -> list[str]:
        return [platform.value for platform in self.senders]

    async def start(self, supervisor: Supervisor | None = None) -> None:
        """Re-queue stale claims, then deliver in the background until :meth:`stop`: as the
        supervised worker "outbox" when a ``supervisor`` is given, else as a plain task."""
        await self.prepare()
        if supervisor is not None:
            supervisor.start("outbox", self.run, stop=self.stop_loop)
            return
        self._loop_task = asyncio.create_task(self.run(), name="outbox-worker")

    async def prepare(self) -> None:
        """Re-queue stale claims and look for scheduled retries (before :meth:`run`)."""
        await self.recover()
        await self._look_for_retries()
        self._stopping = False

    async def run(self, _worker: object = None) -> None:
        """The delivery loop (what :meth:`start` runs; a supervised worker in ``serve``)."""
        await self._run()

    async def recover(self) -> int:
        """Queue again the messages whose sending was interrupted (see the module docstring)."""
        async with self.db.transaction() as uow:
            count = await uow.outbox.requeue_stale(
                self.platforms, self.clock(), all_sending=self.single_process
            )
        if count:
            log.warning("outbox: re-queued %d interrupted messages", count)
        return count

    def wake(self) -> None:
        """New messages are waiting: look now rather than at the next poll."""
        self._wakeup.set()

    def stop_loop(self) -> None:
        """Ask the delivery loop to end after its current round (shutdown; :meth:`stop`
        then finishes the sends in progress and hands back the rest)."""
        self._stopping = True
        self._wakeup.set()

    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a grace period
        """Let the sends in progress finish (up to ``timeout``), record them, then stop;
        whatever was claimed but not sent goes back to the queue."""
        self._stopping = True
        self._wakeup.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        sending = list(self._sending)
        if sending:
            _done, pending = await asyncio.wait(sending, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:
            async with self._claim_lock:
                await self._record_and_claim(0)
        except Exception:  # the database is gone: these are sent again after the restart
            log.exception("outbox: could not record the last deliveries")
        if self._in_flight:
            ids, self._in_flight = set(self._in_flight), set()
            async with self.db.transaction() as uow:
                await uow.outbox.release(ids)

    async def drain(self, timeout: float = 5.0) -> bool:  # noqa: ASYNC109 - returns, not raises
        """Deliver until no message is due; ``False`` if that took longer than ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            claimed = await self.run_once()
            if self._sending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                await asyncio.wait(list(self._sending), timeout=remaining)
                continue
            if claimed == 0 and not self._delivered:  # the claim query defines "due"
                return True
            if time.monotonic() >= deadline:
                return False

    async def depth(self) -> int:
        """Messages waiting (queued or being sent), all platforms."""
        async with self.db.read() as uow:
            by_platform = await uow.outbox.depth()
        for platform in Platform:
            metrics.OUTBOX_DEPTH.labels(platform.value).set(by_platform.get(platform.value, 0))
        return sum(by_platform.values())

    async def run_once(self) -> int:
        """Record the deliveries that finished, claim what is due now (one transaction for
        both) and start delivering it; returns how many messages started."""
        if not self.senders or self._stopping:
            return 0
        async with self._claim_lock:
            items = await self._record_and_claim(self.concurrency - len(self._sending))
            for item in items:
                task = asyncio.create_task(self._deliver_safely(item), name="outbox-send")
                self._sending.add(task)
                if item.lane != LANE_CONVERSATION:
                    self._bulk_sending += 1
                    task.add_done_callback(self._bulk_done)
                task.add_done_callback(self._delivery_done)
            return len(items)

    # -- the loop -------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            timeout = self.poll_interval
            try:
                await self.run_once()
                if time.monotonic() - self._maintained > self.lease.total_seconds() / 4:
                    self._maintained = time.monotonic()
                    await self._maintain()
                timeout = self._idle_timeout()
                DATABASE.ok()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not DATABASE.failed(exc):  # an outage is logged once, by DATABASE
                    log.exception("outbox: delivery loop error; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)

    async def _maintain(self) -> None:
        """Now and then: take back claims whose process died, look for retries scheduled by
        other processes, refresh the depth gauge."""
        async with self.db.transaction() as uow:
            count = await uow.outbox.requeue_stale(self.platforms, self.clock())
        if count:
            log.warning("outbox: re-queued %d messages whose claim expired", count)
        await self._look_for_retries()
        await self.depth()

    async def _look_for_retries(self) -> None:
        async with self.db.read() as uow:
            due = await uow.outbox.next_due_at(self.platforms)
        self._note_due(due)

    def _note_due(self, due: dt.datetime | None) -> None:
        if due is not None and (self._next_due is None or due < self._next_due):
            self._next_due = due

    def _idle_timeout(self) -> float:
        """Sleep until our next scheduled retry or the next poll, whichever comes first. New
        messages, finished deliveries and freed slots wake the loop before that."""
        if self._delivered:
            return 0.0
        if self._next_due is None or len(self._sending) >= self.concurrency:
            return self.poll_interval
        wait = (self._next_due - self.clock()).total_seconds()
        return min(self.poll_interval, max(0.0, wait))

    def _bulk_done(self, _task: asyncio.Task[None]) -> None:
        self._bulk_sending -= 1

    def _delivery_done(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._wakeup.set()  # a slot is free, and maybe a delivery to record

    async def _record_and_claim(self, limit: int) -> list[OutboxItem]:
        """Mark "sent" every message delivered since the last time, then claim up to
        ``limit`` due messages, in one transaction (callers hold ``_claim_lock``): the
        conversation lane first, then announcements in what is left (at most
        ``bulk_in_flight`` of them sending at once)."""
        if limit <= 0 and not self._delivered:
            return []
        delivered, self._delivered = self._delivered, []
        now = self.clock()
        try:
            async with self.db.transaction() as uow:
                await uow.outbox.mark_sent(delivered)
                items = await uow.outbox.claim_due(self.platforms, now, now + self.lease, limit)
                bulk = min(limit - len(items), self.bulk_in_flight - self._bulk_sending)
                if bulk > 0:
                    items += await uow.outbox.claim_due(
                        self.platforms, now, now + self.lease, bulk, lane=LANE_ANNOUNCEMENT
                    )
        except BaseException:
            self._delivered[:0] = delivered  # next time (they stay "sending" meanwhile)
            raise
        self._recorded(delivered)
        self._in_flight.update(item.id for item in items)
        if self._next_due is not None and self._next_due <= now:
            self._next_due = None  # claimed now, or the loop is woken when a slot frees
        return items

    async def _record_delivered(self) -> None:
        """Commit "sent" for every delivery waiting to be recorded, now. Deliveries finishing
        at the same moment, or while a record is being written, go in one transaction together
        (group commit): the window in which a crash repeats a message stays about one
        transaction long, without one transaction per message under load (one per message
        cost nine tenths of the outbox's throughput on SQLite; benchmarks/bench_engine.py)."""
        async with self._record_lock:
            await asyncio.sleep(0)  # the deliveries finishing at this moment join this record
            delivered, self._delivered = self._delivered, []
            if not delivered:
                return  # recorded by the one before us
            try:
                async with self.db.transaction() as uow:
                    await uow.outbox.mark_sent(delivered)
            except BaseException:
                self._delivered[:0] = delivered  # the loop's next turn tries again
                raise
            self._recorded(delivered)

    def _recorded(self, delivered: list[tuple[int, dt.datetime, str | None]]) -> None:
        now = time.monotonic()
        for message_id, _at, _ref in delivered:
            self._in_flight.discard(message_id)
            accepted = self._accepted_at.pop(message_id, None)
            if accepted is not None:
                metrics.OUTBOX_UNRECORDED_SECONDS.observe(now - accepted)

    # -- one message ----------------------------------------------------------------------

    async def _deliver_safely(self, item: OutboxItem) -> None:
        try:
            await self._deliver(item)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a database hiccup: the lease brings the message back
            if not DATABASE.failed(exc):
                log.exception("outbox: could not record a delivery outcome")

    async def _deliver(self, item: OutboxItem) -> None:
        """One attempt at one message, and its outcome (a success is recorded in a batch)."""
        reply = item.reply
        platform = reply.address.platform
        sender = self.senders[platform]
        waited_from = time.monotonic()
        for limit in sender.limits_for(reply.address):
            await self._limiter(limit).acquire()
        if time.monotonic() - waited_from > self.lease.total_seconds() / 3:
            async with self.db.transaction() as uow:
                still_ours = await uow.outbox.renew_lease(item.id, self.clock() + self.lease)
            if not still_ours:  # we waited so long that another process took it over
                self._in_flight.discard(item.id)
                return
        started = time.perf_counter()
        try:
            delivered = await sender.send(reply)
        except RetryLater as exc:
            await self._retry(item, exc, exc.after)
            return
        except RecipientGone as exc:
            await self._recipient_gone(item, exc)
            return
        except PermanentFailure as exc:
            await self._failed(item, exc)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "outbox: unexpected error sending to %s: %s: %s",
                platform.value,
                type(exc).__name__,
                exc,
                exc_info=True,
            )
            await self._retry(item, exc, 0.0)
            return
        finally:
            metrics.SEND_SECONDS.labels(platform.value).observe(time.perf_counter() - started)
        self._accepted_at[item.id] = time.monotonic()
        self._delivered.append((item.id, self.clock(), delivered.message_id))
        metrics.MESSAGES_SENT.labels(platform.value).inc()
        await self._record_delivered()

    async def _retry(self, item: OutboxItem, error: BaseException, after: float) -> None:
        attempts = item.attempts + 1
        now = self.clock()
        delay = max(after, self.retry.backoff(attempts, self._rand()))
        outage = isinstance(error, Unavailable)
        if outage:  # the platform is down, not this message refused: look again soon
            delay = max(after, min(delay, OUTAGE_RETRY_CAP))
        age = (now - item.created_at).total_seconds() + delay
        reason = f"{type(error).__name__}: {error}"
        metrics.SEND_ERRORS.labels(item.chat[0], metrics.send_error_kind(error)).inc()
        async with self.db.transaction() as uow:
            if (attempts >= self.retry.max_attempts and not outage) or age > self.retry.max_age:
                await uow.outbox.mark_failed(
                    item.id, attempts, f"gave up after {attempts}: {reason}"
                )
                gave_up = True
            else:
                await uow.outbox.reschedule(
                    item.id, now + dt.timedelta(seconds=delay), attempts, reason
                )
                gave_up = False
        self._in_flight.discard(item.id)
        if gave_up:  # the chat's next message may go
            log.warning("outbox: gave up message %d after %d attempts", item.id, attempts)
        else:  # it stays its chat's first: the rest wait their turn
            self._note_due(now + dt.timedelta(seconds=delay))

    async def _recipient_gone(self, item: OutboxItem, error: RecipientGone) -> None:
        platform, chat_id = item.chat
        metrics.SEND_ERRORS.labels(platform, metrics.send_error_kind(error)).inc()
        async with self.db.transaction() as uow:
            dropped = await uow.outbox.fail_pending_for_chat(
                platform, chat_id, f"recipient gone: {error}"
            )
            if item.user_id is not None:
                user_ids = [item.user_id]
            else:
                user_ids = await uow.people.ids_for_chat(platform, chat_id)
            await uow.people.set_active(user_ids, False)
            await uow.subscriptions.remove_all(user_ids)  # blocked: no announcements either
        self._in_flight.discard(item.id)
        log.info("outbox: recipient gone on %s; dropped %d messages", platform, dropped)

    async def _failed(self, item: OutboxItem, error: PermanentFailure) -> None:
        metrics.SEND_ERRORS.labels(item.chat[0], metrics.send_error_kind(error)).inc()
        async with self.db.transaction() as uow:
            await uow.outbox.mark_failed(
                item.id, item.attempts + 1, f"{type(error).__name__}: {error}"
            )
        self._in_flight.discard(item.id)
        log.warning("outbox: message %d failed for good: %s", item.id, type(error).__name__)

    def _limiter(self, limit: RateLimit) -> AsyncLimiter:
        """One limiter per key; the least recently used are forgotten beyond a bound (an idle
        limiter is full again anyway)."""
        limiter = self._limiters.get(limit.key)
        if limiter is None:
            limiter = AsyncLimiter(limit.count, limit.period)
            self._limiters[limit.key] = limiter
            while len(self._limiters) > self._max_limiters:
                self._limiters.popitem(last=False)
        else:
            self._limiters.move_to_end(limit.key)
        return limiter
