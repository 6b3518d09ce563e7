"""The outbox worker: delivers queued replies through each platform's sender.

Platform-neutral: it knows a :class:`~bot.ports.MessageSender` per platform and nothing of
Telegram or Viber. What it guarantees:

- **Order within a chat.** Only a chat's first pending message is ever claimed; the next one
  waits until it is sent or given up, retries included. Different chats go out concurrently.
- **Rate limits.** Every :class:`~bot.ports.RateLimit` a sender declares for an address gets
  one :class:`aiolimiter.AsyncLimiter` per ``key`` (per chat, global, per group...).
- **Retries.** ``RetryLater(after)`` and unexpected errors reschedule the message for
  ``now + max(after, backoff)`` (exponential, with jitter) until ``max_attempts`` or
  ``max_age``, then it fails. ``RecipientGone`` marks the person inactive and gives up every
  pending message to that chat. ``PermanentFailure`` fails the one message.
- **Crash safety.** A claim ("sending") carries a lease. Claims whose lease ran out (their
  process died) are queued again; several processes on PostgreSQL claim with
  ``FOR UPDATE SKIP LOCKED`` and never send the same message twice. On the embedded SQLite
  (one process) every stale claim is re-queued at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from bot import metrics
from bot.db import Database, OutboxItem, Repository
from bot.ports import (
    Delivered,
    MessageSender,
    PermanentFailure,
    RateLimit,
    RecipientGone,
    RetryLater,
)
from handlers.model import Platform

log = logging.getLogger(__name__)


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
    ``drain()`` waits until nothing due is left; ``stop()`` on shutdown."""

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
    ) -> None:
        self.db = db
        self.senders: dict[Platform, MessageSender] = {}
        for sender in senders:
            self.register(sender)
        self.clock = clock
        self.retry = retry
        self.lease = dt.timedelta(seconds=lease)
        self.concurrency = concurrency
        # Other processes enqueue without waking us: look again this often when idle.
        self.poll_interval = poll_interval
        self.single_process = db.is_sqlite if single_process is None else single_process
        self._rand = rand
        self._limiters: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._max_limiters = max_limiters
        self._chains: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._in_flight: set[int] = set()
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

    async def start(self) -> None:
        """Re-queue stale claims, then deliver in the background until :meth:`stop`."""
        await self.recover()
        self._stopping = False
        self._loop_task = asyncio.create_task(self._run(), name="outbox-worker")

    async def recover(self) -> int:
        """Queue again the messages whose sending was interrupted (see the module docstring)."""
        async with self.db.transaction() as session:
            count = await Repository(session).requeue_stale(
                self.platforms, self.clock(), all_sending=self.single_process
            )
        if count:
            log.warning("outbox: re-queued %d interrupted messages", count)
        return count

    def wake(self) -> None:
        """New messages are waiting: look now rather than at the next poll."""
        self._wakeup.set()

    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a grace period
        """Let the sends in progress finish (up to ``timeout``), then stop; whatever was
        claimed but not sent goes back to the queue."""
        self._stopping = True
        self._wakeup.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        chains = list(self._chains.values())
        if chains:
            _done, pending = await asyncio.wait(chains, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._in_flight:
            ids, self._in_flight = set(self._in_flight), set()
            async with self.db.transaction() as session:
                await Repository(session).release(ids)

    async def drain(self, timeout: float = 5.0) -> bool:  # noqa: ASYNC109 - returns, not raises
        """Deliver until no message is due; ``False`` if that took longer than ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            claimed = await self.run_once()
            if self._chains:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                await asyncio.wait(list(self._chains.values()), timeout=remaining)
                continue
            if claimed == 0:  # the claim query is the definition of "due"
                return True
            if time.monotonic() >= deadline:
                return False

    async def depth(self) -> int:
        """Messages waiting (queued or being sent), all platforms."""
        async with self.db.sessions() as session:
            by_platform = await Repository(session).outbox_depth()
        for platform in Platform:
            metrics.OUTBOX_DEPTH.labels(platform.value).set(by_platform.get(platform.value, 0))
        return sum(by_platform.values())

    async def run_once(self) -> int:
        """Claim what is due now and start delivering it; returns how many chats started."""
        if not self.senders or self._stopping:
            return 0
        async with self._claim_lock:
            slots = self.concurrency - len(self._chains)
            if slots <= 0:
                return 0
            items = await self._claim(slots)
            for item in items:
                chat = item.chat
                task = asyncio.create_task(self._deliver_chat(item), name=f"outbox-{chat[0]}")
                self._chains[chat] = task
                task.add_done_callback(functools.partial(self._chain_done, chat))
            return len(items)

    # -- the loop -------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            timeout = self.poll_interval
            try:
                await self.run_once()
                timeout = await self._idle_timeout()
                if time.monotonic() - self._maintained > self.lease.total_seconds() / 4:
                    self._maintained = time.monotonic()
                    await self._maintain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: delivery loop error; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)

    async def _maintain(self) -> None:
        """Now and then: take back claims whose process died, refresh the depth gauge."""
        async with self.db.transaction() as session:
            count = await Repository(session).requeue_stale(self.platforms, self.clock())
        if count:
            log.warning("outbox: re-queued %d messages whose claim expired", count)
        await self.depth()

    async def _idle_timeout(self) -> float:
        """Sleep until the next scheduled retry, the next poll, whichever comes first (or,
        every slot being busy, until a chat's delivery ends: it wakes us)."""
        if len(self._chains) >= self.concurrency:
            return self.poll_interval
        async with self.db.sessions() as session:
            due = await Repository(session).next_due_at(self.platforms)
        if due is None:
            return self.poll_interval
        return min(self.poll_interval, max(0.0, (due - self.clock()).total_seconds()))

    def _chain_done(self, chat: tuple[str, str], task: asyncio.Task[None]) -> None:
        if self._chains.get(chat) is task:
            del self._chains[chat]
        self._wakeup.set()  # a slot is free

    async def _claim(self, limit: int, chat: tuple[str, str] | None = None) -> list[OutboxItem]:
        now = self.clock()
        async with self.db.transaction() as session:
            items = await Repository(session).claim_due(
                self.platforms, now, now + self.lease, limit, chat=chat
            )
        self._in_flight.update(item.id for item in items)
        return items

    # -- one chat ---------------------------------------------------------------------------

    async def _deliver_chat(self, item: OutboxItem | None) -> None:
        """Send a chat's messages one after the other while they are due and going well."""
        while item is not None and not self._stopping:
            try:
                carry_on = await self._deliver(item)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: the lease brings the message back
                log.exception("outbox: could not record a delivery outcome")
                return
            if not carry_on:
                return
            items = await self._claim(1, chat=item.chat)
            item = items[0] if items else None

    async def _deliver(self, item: OutboxItem) -> bool:
        """One attempt at one message; ``True`` if the chat's next message may follow."""
        reply = item.reply
        platform = reply.address.platform
        sender = self.senders[platform]
        waited_from = time.monotonic()
        for limit in sender.limits_for(reply.address):
            await self._limiter(limit).acquire()
        if time.monotonic() - waited_from > self.lease.total_seconds() / 3:
            async with self.db.transaction() as session:
                still_ours = await Repository(session).renew_lease(
                    item.id, self.clock() + self.lease
                )
            if not still_ours:  # we waited so long that another process took it over
                self._in_flight.discard(item.id)
                return False
        started = time.perf_counter()
        try:
            delivered = await sender.send(reply)
        except RetryLater as exc:
            return await self._retry(item, exc, exc.after)
        except RecipientGone as exc:
            await self._recipient_gone(item, exc)
            return False
        except PermanentFailure as exc:
            await self._failed(item, exc)
            return True
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
            return await self._retry(item, exc, 0.0)
        finally:
            metrics.SEND_SECONDS.labels(platform.value).observe(time.perf_counter() - started)
        await self._sent(item, delivered)
        return True

    async def _sent(self, item: OutboxItem, delivered: Delivered) -> None:
        async with self.db.transaction() as session:
            await Repository(session).mark_sent(item.id, self.clock(), delivered.message_id)
        self._in_flight.discard(item.id)
        metrics.MESSAGES_SENT.labels(item.chat[0]).inc()

    async def _retry(self, item: OutboxItem, error: BaseException, after: float) -> bool:
        attempts = item.attempts + 1
        now = self.clock()
        delay = max(after, self.retry.backoff(attempts, self._rand()))
        age = (now - item.created_at).total_seconds() + delay
        reason = f"{type(error).__name__}: {error}"
        metrics.SEND_ERRORS.labels(item.chat[0], metrics.send_error_kind(error)).inc()
        async with self.db.transaction() as session:
            repo = Repository(session)
            if attempts >= self.retry.max_attempts or age > self.retry.max_age:
                await repo.mark_failed(item.id, attempts, f"gave up after {attempts}: {reason}")
                gave_up = True
            else:
                await repo.reschedule(item.id, now + dt.timedelta(seconds=delay), attempts, reason)
                gave_up = False
        self._in_flight.discard(item.id)
        if gave_up:
            log.warning("outbox: gave up message %d after %d attempts", item.id, attempts)
        # Given up: the chat's next message may go. Rescheduled: it must wait its turn.
        return gave_up

    async def _recipient_gone(self, item: OutboxItem, error: RecipientGone) -> None:
        platform, chat_id = item.chat
        metrics.SEND_ERRORS.labels(platform, metrics.send_error_kind(error)).inc()
        async with self.db.transaction() as session:
            repo = Repository(session)
            dropped = await repo.fail_pending_for_chat(
                platform, chat_id, f"recipient gone: {error}"
            )
            if item.user_id is not None:
                user_ids = [item.user_id]
            else:
                user_ids = await repo.user_ids_for_chat(platform, chat_id)
            await repo.set_active(user_ids, False)
        self._in_flight.discard(item.id)
        log.info("outbox: recipient gone on %s; dropped %d messages", platform, dropped)

    async def _failed(self, item: OutboxItem, error: PermanentFailure) -> None:
        metrics.SEND_ERRORS.labels(item.chat[0], metrics.send_error_kind(error)).inc()
        async with self.db.transaction() as session:
            await Repository(session).mark_failed(
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
