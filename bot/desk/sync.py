"""The topic-sync worker: the desk group's one sender, carrying out the desk's effects.

Turns queue typed effects (:mod:`handlers.desk.effects`) in the desk's table ``desk_effects``,
in their own transaction; this worker carries them out after the commit, outside any
transaction, through Telegram's sender and forum topics:

- no topic yet → ``createForumTopic`` ("#12 · UK · Legal stay"), then the card, each saved
  as soon as it exists, so a retry after a 429 in between continues where it stopped;
- the topic was deleted (Telegram: "message thread not found" → :class:`ThreadGone`) → the
  ticket forgets it and the same effect creates a new one with a fresh card;
- ``CARD`` redraws the card, ``CLOSE``/``REOPEN`` rename and close/reopen the topic,
  ``ERASE`` deletes it (or closes it, where deleting is not allowed);
- effects for a closed ticket go to the General topic with the ticket's number; effects for
  an erased ticket are dropped.

**Fair and prioritised** (issue 18 item 2). The group takes about 20 messages a minute, so
what goes next matters: :func:`pick` serves urgent tickets first, then the tickets one after
the other (the one served longest ago first; General is one more lane), and joins a ticket's
consecutive plain texts into one message (a person's burst of 40 becomes one or two sends).
A ticket may send at most ``DESK_TICKET_MESSAGES_PER_MINUTE`` messages a minute; what it sends
meanwhile waits and goes out joined when its turn comes — never dropped. Within a ticket the
order is kept.

**Never silent** (issue 18 item 3). An effect that fails is kept, counted
(``otwarta_desk_unreachable``) and tried again with a growing pause; only that ticket waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from aiolimiter import AsyncLimiter

from bot import metrics
from bot.desk.store import SqlDeskStore
from bot.markup import escape_markup
from bot.outbox import utcnow
from bot.ports import (
    Delivered,
    DeliveryError,
    ForumTopics,
    GroupRights,
    MessageEditor,
    MessageSender,
    PermanentFailure,
    RetryLater,
    ThreadGone,
)
from bot.supervisor import DATABASE, Supervisor
from handlers.desk.card import render_card, topic_name
from handlers.desk.effects import DeskEffect, EffectKind
from handlers.desk.model import Ticket
from handlers.model import Address, Button, Platform, Reply

if TYPE_CHECKING:
    from bot.db import Database
    from faq.content import KnowledgeBase
    from handlers.context import Translator, TranslatorFactory

log = logging.getLogger(__name__)

#: Longest wait for Telegram's "retry later" on a cosmetic step after the content went out.
AFTER_CONTENT_WAIT = 5.0


class DeskTopics(ForumTopics, MessageEditor, Protocol):
    """What the desk needs from the messenger besides sending."""

    async def group_rights(self, chat_id: str) -> GroupRights:
        """What the bot may do in the group (the desk's start-up check)."""
        ...

    async def is_admin(self, chat_id: str, user_id: int) -> bool:
        """Whether the member administers the group (the desk's admins, issue 18 item 5)."""
        ...


def pseudonym_code(key: bytes, address: Address) -> str:
    """Four hex digits from a keyed hash of the person's account: stable for one person,
    meaningless to anyone without the key (a plain hash of a Telegram id is reversible by
    trying every id)."""
    digest = hmac.new(key, f"{address.platform.value}:{address.chat_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:4].upper()


#: A Telegram message holds 4096 characters; joined texts stay below, with room for the rest.
JOIN_LIMIT = 3500
#: Pauses after a failed effect: 1 s, doubling, at most 5 minutes; kept at most a day.
RETRY_BASE, RETRY_CAP, RETRY_MAX_AGE = 1.0, 300.0, dt.timedelta(days=1)

Lane = int | None  # a ticket's number; None: General


@dataclass(frozen=True, slots=True)
class Queued:
    """One queued effect: its row, how often it failed, the effect, when it was queued."""

    id: int
    attempts: int
    effect: DeskEffect
    queued_at: dt.datetime


@dataclass
class Fairness:
    """What :func:`pick` remembers between rounds: when each lane was last served, and what
    each ticket sent in the last minute."""

    per_ticket_per_minute: int = 6
    served: dict[Lane, int] = field(default_factory=dict)  # lane -> round it was last served
    sent: dict[Lane, deque[float]] = field(default_factory=dict)  # lane -> monotonic times
    round: int = 0

    def capped(self, lane: Lane, now: float) -> bool:
        if lane is None:
            return False  # General carries consultants' own answers and reminders
        times = self.sent.get(lane)
        while times and now - times[0] >= 60.0:
            times.popleft()
        return times is not None and len(times) >= self.per_ticket_per_minute

    def free_at(self, lane: Lane) -> float:
        times = self.sent.get(lane)
        return times[0] + 60.0 if times else 0.0

    def note(self, lane: Lane, now: float) -> None:
        self.round += 1
        self.served[lane] = self.round
        if lane is not None:
            self.sent.setdefault(lane, deque()).append(now)
        if len(self.served) > 10_000:  # forget lanes long idle
            for old in sorted(self.served, key=self.served.__getitem__)[:5_000]:
                self.served.pop(old, None)
                self.sent.pop(old, None)


def pick(queue: list[Queued], fair: Fairness, now: float) -> tuple[list[Queued], float | None]:
    """The next send: the effects it carries (one, or a ticket's consecutive plain texts
    joined), or ``([], when)`` when every lane with work is over its cap until ``when``.

    Urgent lanes first; among equals, the lane served longest ago (never served: first), then
    the one that waited longest. Within a lane, its oldest effect first."""
    lanes: dict[Lane, list[Queued]] = {}
    for item in queue:
        lanes.setdefault(item.effect.ticket_id, []).append(item)
    if not lanes:
        return [], None
    ready = [lane for lane in lanes if not fair.capped(lane, now)]
    if not ready:
        return [], min(fair.free_at(lane) for lane in lanes)

    def rank(lane: Lane) -> tuple[bool, int, int]:
        items = lanes[lane]
        urgent = any(i.effect.urgent for i in items)
        return (not urgent, fair.served.get(lane, 0), items[0].id)

    lane = min(ready, key=rank)
    items = lanes[lane]
    batch = [items[0]]
    if items[0].effect.joinable:
        size = len(items[0].effect.text)
        for item in items[1:]:
            if (
                not item.effect.joinable
                or item.attempts != items[0].attempts  # a retried batch goes as it was
                or size + len(item.effect.text) > JOIN_LIMIT
            ):
                break
            batch.append(item)
            size += len(item.effect.text) + 1
    return batch, None


def joined(batch: list[Queued]) -> DeskEffect:
    """The batch as one effect (the first one's, with every text, in order)."""
    first = batch[0].effect
    if len(batch) == 1:
        return first
    return dataclasses.replace(first, text="\n".join(q.effect.text for q in batch), silent=True)


class TopicSync:
    """The desk group's one sender: carries out the queued desk effects, fairly.

    ``start()`` runs it in the background; ``wake()`` after a commit queued effects;
    ``run_once()`` does one send (the tests drive it)."""

    def __init__(
        self,
        db: Database,
        inner: MessageSender,
        topics: DeskTopics,
        *,
        kb: KnowledgeBase,
        chat_id: str,
        translator_for: TranslatorFactory,
        desk_lang: str,
        pseudonym_key: bytes,
        show_names: bool = False,
        timezone: ZoneInfo | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        per_ticket_per_minute: int = 6,
        poll_interval: float = 1.0,
        on_failure: Callable[[DeskEffect, DeliveryError | Exception], Awaitable[None]]
        | None = None,
    ) -> None:
        self.db = db
        self.inner = inner
        self.topics = topics
        self.kb = kb
        self.chat_id = chat_id
        self.translator_for = translator_for
        self.desk_lang = desk_lang
        self.pseudonym_key = pseudonym_key
        self.show_names = show_names
        self.timezone = timezone or ZoneInfo("Europe/Warsaw")
        self.clock = clock
        self.fair = Fairness(per_ticket_per_minute)
        self.poll_interval = poll_interval
        self.on_failure = on_failure
        self.sends = 0  # sends carried out (each batch counts once)
        self._limiters = {
            limit.key: AsyncLimiter(limit.count, limit.period)
            for limit in inner.limits_for(self.general)
        }
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pause = poll_interval

    # -- the loop --------------------------------------------------------------------------

    def wake(self) -> None:
        self._wakeup.set()

    def start(self, supervisor: Supervisor | None = None) -> None:
        """Run the sync: as the supervised worker "desk-topic-sync" (``serve``: an unexpected
        failure is counted and the worker restarted), or as a plain task."""
        if supervisor is not None:
            supervisor.every(
                "desk-topic-sync",
                lambda: self._pause,
                self._round,
                dependency=DATABASE,
                wake=self._wakeup,
            )
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="desk-topic-sync")

    async def _round(self) -> None:
        self._pause = self.poll_interval  # a failed round waits the poll interval
        self._pause = await self.run_once()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not DATABASE.failed(exc):  # an outage is logged once, by the dependency
                    log.exception("desk: topic-sync round failed; retrying")
            if self._pause > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self._pause)

    async def run_once(self) -> float:
        """Carry out the next fair batch; returns how long to wait before looking again (0:
        at once)."""
        now = self.clock()
        async with self.db.transaction() as uow:
            store = SqlDeskStore(uow, self.clock)
            queue = [Queued(*row) for row in await store.pending_effects(now)]
            later = await store.next_effect_due() if not queue else None
        if not queue:
            if later is None:
                return self.poll_interval
            return max(0.0, min(self.poll_interval, (later - now).total_seconds()))
        batch, free_at = pick(queue, self.fair, time.monotonic())
        if not batch:
            assert free_at is not None
            return max(0.05, min(self.poll_interval, free_at - time.monotonic()))
        effect = joined(batch)
        for limiter in self._limiters.values():
            await limiter.acquire()
        ids = [q.id for q in batch]
        try:
            await self.apply(effect)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(batch, exc)
            return 0.0
        self.fair.note(effect.ticket_id, time.monotonic())
        self.sends += 1
        if len(batch) > 1:
            metrics.DESK_QUEUE_BATCHED.inc(len(batch) - 1)
        async with self.db.transaction() as uow:
            await SqlDeskStore(uow, self.clock).done(ids)
        return 0.0

    async def _failed(self, batch: list[Queued], error: Exception) -> None:
        """Keep the batch, count the failure, and try again later; only its lane waits."""
        head = batch[0]
        step = "topic" if head.effect.kind is EffectKind.OPEN else head.effect.kind.value
        metrics.DESK_UNREACHABLE.labels(step).inc()
        attempts = head.attempts + 1
        pause = min(RETRY_CAP, RETRY_BASE * 2 ** (attempts - 1))
        if isinstance(error, RetryLater):
            pause = max(pause, error.after)
        now = self.clock()
        reason = f"{type(error).__name__}: {error}"
        ids = [q.id for q in batch]
        async with self.db.transaction() as uow:
            store = SqlDeskStore(uow, self.clock)
            if now - head.queued_at > RETRY_MAX_AGE:
                log.error("desk: gave up an effect of a day ago (%s)", reason)
                await store.done(ids)
                return
            await store.postpone(ids, now + dt.timedelta(seconds=pause), reason)
        log.warning(
            "desk: could not reach the desk group (%s, attempt %d); retrying in %.0fs",
            reason,
            attempts,
            pause,
        )
        if attempts == 1 and self.on_failure is not None:
            await self.on_failure(head.effect, error)

    @property
    def t(self) -> Translator:
        return self.translator_for(self.desk_lang)

    @property
    def general(self) -> Address:
        return Address(Platform.TELEGRAM, self.chat_id)

    def _in(self, thread_id: int) -> Address:
        return Address(Platform.TELEGRAM, self.chat_id, thread_id)

    # -- sending -------------------------------------------------------------------------

    async def apply(self, effect: DeskEffect) -> Delivered:
        """Carry out one effect (raises the sender's delivery errors)."""
        reply = Reply(self.general, effect.text, effect.buttons, effect.media, effect.silent)
        if effect.ticket_id is None:
            if not effect.text.strip() and effect.media is None:
                return Delivered()
            where = self._in(effect.thread_id) if effect.thread_id is not None else self.general
            try:
                return await self.inner.send(reply.with_address(where))
            except ThreadGone:
                return await self.inner.send(reply)
        op = effect.kind.value
        ticket = await self._load(effect.ticket_id)
        if ticket is None:
            return Delivered()
        if op == "erase":
            return await self._erase(ticket, reply)
        if ticket.close_reason == "erased" or ticket.user_id is None:
            return Delivered()  # the person erased it: nothing more reaches the desk
        has_content = bool(reply.text.strip()) or reply.media is not None
        if not ticket.is_open and (op == "post" or ticket.thread_id is None):
            # A closed ticket's topic is closed (or never existed: cancelled before the desk
            # saw it): say it in General, with the ticket's number.
            if not has_content:
                return Delivered()
            text = f"#{ticket.id} · {reply.text}" if reply.text.strip() else f"#{ticket.id}"
            return await self.inner.send(
                dataclasses.replace(reply, address=self.general, text=text)
            )
        thread, card_id, fresh = await self._ensure_topic(ticket)
        # Steps before the content may raise RetryLater: the outbox retries the whole reply
        # and, the content not being out yet, nothing is doubled.
        if op == "reopen":
            await self._quietly(lambda: self.topics.reopen_topic(self.chat_id, thread))
            await self._rename(ticket, thread)
        if op in ("card", "reopen") and not fresh:
            thread = await self._redraw_card(ticket, thread, card_id)
            if ticket.urgent:
                await self._rename(ticket, thread)
        delivered = Delivered(card_id) if op == "open" else Delivered()
        if has_content:
            delivered = await self._post(ticket, thread, reply)
        if op == "close":
            await self._quietly(
                lambda: self._close_topic(ticket, thread, card_id, redraw=not fresh),
                after_content=has_content,
            )
        return delivered

    async def _rename(self, ticket: Ticket, thread: int) -> None:
        await self._quietly(
            lambda: self.topics.edit_topic(self.chat_id, thread, self._name(ticket))
        )

    async def _close_topic(
        self, ticket: Ticket, thread: int, card_id: str | None, *, redraw: bool
    ) -> None:
        if redraw:
            thread = await self._redraw_card(ticket, thread, card_id)
        await self._rename(ticket, thread)
        await self._quietly(lambda: self.topics.close_topic(self.chat_id, thread))

    async def _post(self, ticket: Ticket, thread: int, reply: Reply) -> Delivered:
        """Send into the topic; recreate the topic once if Telegram says it is gone."""
        try:
            return await self.inner.send(reply.with_address(self._in(thread)))
        except ThreadGone:
            log.info("desk: topic of ticket %d is gone; recreating it", ticket.id)
            await self._save_topic(ticket.id, None, None)
            fresh = dataclasses.replace(ticket, thread_id=None)
            thread, _card, _ = await self._ensure_topic(fresh)
            return await self.inner.send(reply.with_address(self._in(thread)))

    async def _ensure_topic(self, ticket: Ticket) -> tuple[int, str | None, bool]:
        """The ticket's topic (thread id, card message id), created with its card if missing;
        ``True`` when created now."""
        async with self.db.transaction() as uow:
            thread, card_id = await SqlDeskStore(uow, self.clock).topic_of(ticket.id)
        created = False
        if thread is None:
            thread = await self.topics.create_topic(self.chat_id, self._name(ticket))
            await self._save_topic(ticket.id, thread, None)
            card_id, created = None, True
        if card_id is None:
            try:
                card_id = await self._post_card(ticket, thread)
            except ThreadGone:
                if created:
                    raise
                await self._save_topic(ticket.id, None, None)
                return await self._ensure_topic(dataclasses.replace(ticket, thread_id=None))
            await self._save_card(ticket.id, card_id)
            created = True
        return thread, card_id, created

    async def _post_card(self, ticket: Ticket, thread: int) -> str | None:
        text, buttons = await self._card(ticket)
        delivered = await self.inner.send(Reply(self._in(thread), text, buttons))
        return delivered.message_id

    async def _redraw_card(self, ticket: Ticket, thread: int, card_id: str | None) -> int:
        """Edit the card to the ticket's state; post a new one if the old is gone."""
        if card_id is None:
            return thread
        text, buttons = await self._card(ticket)
        try:
            await self.topics.edit_message(Reply(self._in(thread), text, buttons), card_id)
            return thread
        except ThreadGone:
            pass
        except PermanentFailure as exc:
            if "not modified" in str(exc).lower():
                return thread
            log.info(
                "desk: card of ticket %d cannot be edited (%s); posting a new one", ticket.id, exc
            )
        await self._save_card(ticket.id, None)
        try:
            new_card = await self._post_card(ticket, thread)
        except ThreadGone:
            await self._save_topic(ticket.id, None, None)
            thread, _card, _ = await self._ensure_topic(dataclasses.replace(ticket, thread_id=None))
            return thread
        await self._save_card(ticket.id, new_card)
        return thread

    async def _erase(self, ticket: Ticket, reply: Reply) -> Delivered:
        """Tell the General topic, then delete the ticket's topic (or close it and blank its
        card where deleting is not allowed)."""
        thread = ticket.thread_id
        if thread is None:
            return Delivered()  # the desk never saw this ticket
        delivered = Delivered()
        if reply.text.strip():
            delivered = await self.inner.send(
                dataclasses.replace(reply, address=self.general, buttons=())
            )
        await self._quietly(
            lambda: self._delete_topic(ticket, thread), after_content=bool(reply.text.strip())
        )
        return delivered

    async def _delete_topic(self, ticket: Ticket, thread: int) -> None:
        try:
            await self.topics.delete_topic(self.chat_id, thread)
        except ThreadGone:
            pass
        except PermanentFailure as exc:
            log.info("desk: cannot delete the topic of ticket %d (%s); closing it", ticket.id, exc)
            card_id = await self._card_id(ticket.id)
            await self._quietly(lambda: self._redraw_card(ticket, thread, card_id))
            name = f"🗑 #{ticket.id}"
            await self._quietly(lambda: self.topics.edit_topic(self.chat_id, thread, name))
            await self._quietly(lambda: self.topics.close_topic(self.chat_id, thread))

    async def _quietly(
        self, action: Callable[[], Awaitable[object]], *, after_content: bool = False
    ) -> None:
        """A cosmetic step (rename, close, reopen, redraw the card): skipped when Telegram
        says "no" (already closed, not modified, gone). "Later" (429, 5xx) propagates before
        the reply's content went out — the outbox retries the whole reply. After it, a retry
        would post the content twice, so "later" is waited out here, once, briefly."""
        try:
            await action()
        except PermanentFailure as exc:
            log.debug("desk: cosmetic topic step skipped: %s", exc)
        except RetryLater as exc:
            if not after_content:
                raise
            await asyncio.sleep(min(exc.after, AFTER_CONTENT_WAIT))
            try:
                await action()
            except DeliveryError as again:
                log.info("desk: cosmetic topic step skipped after a retry: %s", again)

    # -- the ticket and its card ---------------------------------------------------------

    def _name(self, ticket: Ticket) -> str:
        return topic_name(ticket, self.kb, self.t)

    async def _card(self, ticket: Ticket) -> tuple[str, tuple[tuple[Button, ...], ...]]:
        async with self.db.transaction() as uow:
            store = SqlDeskStore(uow, self.clock)
            fresh = await store.ticket(ticket.id) or ticket
            speakers = [c for c in await store.consultants() if fresh.lang in c.languages]
        t = self.t
        return render_card(
            fresh,
            person=self._person(fresh, t),
            speakers=speakers,
            kb=self.kb,
            t=t,
            timezone=self.timezone,
        )

    def _person(self, ticket: Ticket, t: Translator) -> str:
        if ticket.person is None:
            return t.gettext("(erased)")
        label = t.gettext("Person #{code}").format(
            code=pseudonym_code(self.pseudonym_key, ticket.person)
        )
        if self.show_names and ticket.person_name:
            return f"{escape_markup(ticket.person_name)} ({label})"
        return label

    async def _load(self, ticket_id: int) -> Ticket | None:
        async with self.db.transaction() as uow:
            return await SqlDeskStore(uow, self.clock).ticket(ticket_id)

    async def _card_id(self, ticket_id: int) -> str | None:
        async with self.db.transaction() as uow:
            return (await SqlDeskStore(uow, self.clock).topic_of(ticket_id))[1]

    async def _save_topic(self, ticket_id: int, thread: int | None, card_id: str | None) -> None:
        async with self.db.transaction() as uow:
            await SqlDeskStore(uow, self.clock).set_topic(ticket_id, thread, card_id)

    async def _save_card(self, ticket_id: int, card_id: str | None) -> None:
        async with self.db.transaction() as uow:
            await SqlDeskStore(uow, self.clock).set_card(ticket_id, card_id)
