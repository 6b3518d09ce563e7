"""The desk's plug-in point: what the composition root (:mod:`bot.app`) adds when
``CONSULTANT_CHAT_ID`` is set — one :class:`DeskRuntime`, given to the engine as its
middleware (:class:`bot.engine.TurnMiddleware`: the desk in front of the router on the turn's
unit of work, and the flood exemption) and started with the topic-sync worker
(:mod:`bot.desk.sync`) and the reminder. The outbox knows nothing of the desk."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from bot import metrics
from bot.desk import check
from bot.desk.check import DeskCheck
from bot.desk.hours import WorkingHours
from bot.desk.reminder import DeskReminder
from bot.desk.store import SqlDeskStore
from bot.desk.sync import DeskTopics, TopicSync
from bot.i18n import N_
from bot.i18n import translator_for as catalogs
from bot.outbox import utcnow
from bot.ports import DeliveryError, MessageSender, ReplyWindow, RetryLater
from handlers.desk import ConsultantDesk, DeskConfig, machine
from handlers.desk.config import FreeWindow
from handlers.desk.effects import DeskEffect, EffectKind
from handlers.handoff import contacts_in
from handlers.model import Address, Platform, Reply

if TYPE_CHECKING:
    from bot.db import Database, UnitOfWork
    from bot.settings import Settings
    from bot.supervisor import Supervisor
    from faq.content import KnowledgeBase
    from handlers.context import TranslatorFactory, TurnContext

Handler = Callable[["TurnContext"], Awaitable[None]]

log = logging.getLogger(__name__)

#: What is missing in the desk group, as the group is told (in DESK_LANG).
MISSING_TEXT = {
    check.NOT_FORUM: N_("Topics are off"),
    check.NOT_ADMIN: N_("the bot is not an administrator"),
    check.NO_TOPICS: N_("the bot may not manage topics"),
    check.NO_DELETE: N_("the bot may not delete messages"),
}

#: How long an answer to "is this member an admin of the desk group?" is trusted.
ADMIN_CACHE_SECONDS = 300.0


class GroupAdmins(Protocol):
    """Who administers the desk group (Telegram: getChatMember)."""

    async def is_admin(self, chat_id: str, user_id: int) -> bool: ...


def record_metrics(events: Iterable[machine.TicketEvent]) -> None:
    """Count what a committed transaction did to tickets."""
    for event in events:
        match event:
            case machine.Opened(urgent):
                metrics.DESK_TICKETS_OPENED.labels("yes" if urgent else "no").inc()
            case machine.Closed(reason, lasted):
                metrics.DESK_TICKETS_CLOSED.labels(reason).inc()
                if lasted is not None:
                    metrics.DESK_CLOSE_SECONDS.observe(max(0.0, lasted.total_seconds()))
            case machine.FirstResponse(after):
                metrics.DESK_FIRST_RESPONSE_SECONDS.observe(max(0.0, after.total_seconds()))
            case machine.Reopened():
                metrics.DESK_TICKETS_REOPENED.inc()
            case machine.Rated(score):
                metrics.DESK_RATINGS.labels(str(score)).inc()


def desk_config(settings: Settings) -> DeskConfig:
    if settings.consultant_chat_id is None:
        raise ValueError("CONSULTANT_CHAT_ID is not set: no consultant desk")
    hours = None
    if settings.desk_hours.strip():
        hours = WorkingHours.from_text(
            settings.desk_hours, settings.desk_timezone, observe_holidays=settings.desk_holidays
        )
    ids, usernames = settings.consultant_allow_list()
    return DeskConfig(
        consultant_ids=ids,
        consultant_usernames=usernames,
        chat_id=str(settings.consultant_chat_id),
        desk_lang=settings.desk_lang,
        reopen_window=dt.timedelta(hours=settings.desk_reopen_hours),
        comment_window=dt.timedelta(minutes=settings.desk_comment_minutes),
        show_names=settings.desk_show_names,
        hours=hours,
        timezone=ZoneInfo(settings.desk_timezone),
    )


class DeskRuntime:
    """The desk's one plug-in point into the engine (:class:`bot.engine.TurnMiddleware`): in
    front of the router on each turn's unit of work, the flood exemption, and the topic-sync
    worker that is the desk group's one sender. Built whole, in dependency order: the
    database, Telegram's sender and forum topics, the knowledge base."""

    def __init__(
        self,
        settings: Settings,
        *,
        translator_for: TranslatorFactory = catalogs,
        clock: Callable[[], dt.datetime] = utcnow,
        free_window: FreeWindow | None = None,
        admins: GroupAdmins | None = None,
        sync: SyncParts | None = None,
    ) -> None:
        self.settings = settings
        self.admins = admins
        self.config = dataclasses.replace(
            desk_config(settings),
            free_window=free_window,
            is_admin=self._is_admin if admins is not None else None,
        )
        self._admin_cache: dict[int, tuple[bool, float]] = {}
        self._wake_outbox: Callable[[], None] | None = None
        self.translator_for = translator_for
        self.clock = clock
        self.desk = ConsultantDesk(self.config)
        self.sync: TopicSync | None = None
        if sync is not None:
            self.sync = TopicSync(
                sync.db,
                sync.sender,
                sync.topics,
                kb=sync.kb,
                chat_id=self.config.chat_id,
                translator_for=translator_for,
                desk_lang=self.config.desk_lang,
                pseudonym_key=settings.desk_pseudonym_secret(),
                show_names=self.config.show_names,
                timezone=self.config.timezone,
                clock=clock,
                per_ticket_per_minute=settings.desk_ticket_messages_per_minute,
            )
        self.check: DeskCheck | None = None
        if sync is not None:
            self.check = DeskCheck(sync.topics, self.config.chat_id, tell_group=self._tell_group)
            self.config = dataclasses.replace(self.config, reachable=self._reachable)
            self.sync.on_failure = self._sync_failed  # type: ignore[union-attr]
            self.desk = ConsultantDesk(self.config)
        self._db = sync.db if sync is not None else None
        self._kb = sync.kb if sync is not None else None
        self.reminder: DeskReminder | None = None

    def _reachable(self) -> bool:
        return self.check is None or self.check.health.reachable

    def report(self) -> dict[str, object]:
        """``/readyz``'s word on the desk (what is missing in the group, if anything)."""
        return {"desk": self.check.health.report()} if self.check is not None else {}

    async def _tell_group(self, problems: list[str]) -> None:
        """Say in the group what stops the desk (when the bot may post there)."""
        if self._db is None:
            return
        t = self.translator_for(self.config.desk_lang)
        missing = [t.gettext(MISSING_TEXT[p]) for p in problems if p in MISSING_TEXT]
        text = t.gettext(
            "⚠️ The consultant desk cannot work in this group yet: {missing}. An admin of the "
            "group can fix this in the group's settings; the bot checks again every few minutes."
        ).format(missing="; ".join(missing))
        async with self._db.transaction() as uow:
            await self.store(uow).queue(DeskEffect(EffectKind.GENERAL, text=text))

    async def _sync_failed(self, effect: DeskEffect, error: Exception) -> None:
        """A ticket's effect could not be carried out (its first failure): a misconfigured
        group is checked again; a person whose ticket never reached the desk is told so."""
        if isinstance(error, RetryLater) or effect.ticket_id is None:
            return
        told = not self._reachable()  # known before: the person was told the truth at opening
        if self.check is not None:
            self.check.failed()
        if told or effect.kind is not EffectKind.OPEN or self._db is None or self._kb is None:
            return
        async with self._db.transaction() as uow:
            ticket = await SqlDeskStore(uow, self.clock).ticket(effect.ticket_id)
            if ticket is None or ticket.person is None or not ticket.is_open:
                return
            t = self.translator_for(ticket.lang)
            text = t.gettext(
                "⚠️ Your request #{number} has not reached the consultants yet: a technical "
                "problem on our side. We keep trying, and they will answer here; you don't "
                "need to write again."
            ).format(number=ticket.id)
            contacts = contacts_in(self._kb, ticket.lang)
            if contacts:
                text += "\n\n" + t.gettext(
                    "If it can't wait, you can contact these places directly:"
                )
                text += "\n\n" + contacts
            reply = Reply(ticket.person, text, meta={"kind": "desk"}, lang=ticket.lang)
            await uow.outbox.enqueue([(reply, ticket.user_id)], self.clock())
        if self._wake_outbox is not None:
            self._wake_outbox()

    def store(self, uow: UnitOfWork) -> SqlDeskStore:
        """A desk store on a turn's unit of work; its metrics count, and the topic-sync worker
        wakes, once the turn commits."""
        store = SqlDeskStore(
            uow,
            self.clock,
            default_wait=dt.timedelta(minutes=self.settings.desk_expected_wait_minutes),
        )

        def committed() -> None:
            record_metrics(store.events)
            if store.queued and self.sync is not None:
                self.sync.wake()

        uow.on_commit(committed)
        return store

    async def handle(self, ctx: TurnContext, uow: UnitOfWork, inner: Handler) -> None:
        await self.desk.handle(ctx, self.store(uow), inner)

    async def _is_admin(self, telegram_user_id: int) -> bool:
        """An admin of the desk group (Telegram's getChatMember), remembered for a few
        minutes: asked only for members not on the consultants' list, and for /desk."""
        assert self.admins is not None
        now = time.monotonic()
        known = self._admin_cache.get(telegram_user_id)
        if known is not None and now - known[1] < ADMIN_CACHE_SECONDS:
            return known[0]
        try:
            admin = await self.admins.is_admin(self.config.chat_id, telegram_user_id)
        except DeliveryError as exc:
            log.warning("desk: cannot ask Telegram who the group's admins are (%s)", exc)
            return False
        self._admin_cache[telegram_user_id] = (admin, now)
        while len(self._admin_cache) > 1000:
            self._admin_cache.pop(next(iter(self._admin_cache)))
        return admin

    async def flood_exempt(self, ctx: TurnContext, uow: UnitOfWork) -> bool:
        """Bursts that reach a human are never dropped by the engine's flood control:
        consultants in the desk group (an album, a pasted list), and a person whose ticket is
        open (everything they send is relayed to the desk, not matched — and the topic-sync
        worker joins a burst into one message, so the desk stays fair)."""
        if self.config.is_desk(ctx.event.address):
            return True
        store = SqlDeskStore(uow, self.clock)
        return await store.open_ticket_of(ctx.user.id) is not None

    async def start(
        self,
        db: Database,
        wake_outbox: Callable[[], None] | None = None,
        *,
        supervisor: Supervisor | None = None,
    ) -> None:
        """Check the desk group, run the topic-sync worker and the reminder job (workers of
        ``supervisor`` when given: ``serve``)."""
        self._wake_outbox = wake_outbox
        if self.check is not None:
            self.check.start(supervisor)
        if self.sync is not None:
            self.sync.start(supervisor)
            self.sync.wake()  # effects that waited from before
        self.reminder = DeskReminder(
            db,
            chat_id=self.config.chat_id,
            translator_for=self.translator_for,
            desk_lang=self.config.desk_lang,
            threshold=dt.timedelta(minutes=self.settings.desk_reminder_minutes),
            hours=self.config.hours,
            clock=self.clock,
            wake=self.sync.wake if self.sync is not None else None,
        )
        self.reminder.start(self.settings.desk_reminder_interval_seconds, supervisor=supervisor)

    async def stop(self) -> None:
        if self.check is not None:
            await self.check.stop()
        if self.reminder is not None:
            await self.reminder.stop()
        if self.sync is not None:
            await self.sync.stop()


@dataclasses.dataclass(frozen=True)
class SyncParts:
    """What the topic-sync worker sends with: the database, Telegram's sender and topics, the
    knowledge base (for topic names and the card)."""

    db: Database
    sender: MessageSender
    topics: DeskTopics
    kb: KnowledgeBase


def attach_desk(
    settings: Settings,
    db: Database,
    senders: Iterable[MessageSender],
    topics: DeskTopics | None,
    kb: KnowledgeBase,
) -> DeskRuntime | None:
    """The desk (``None`` without ``CONSULTANT_CHAT_ID`` or Telegram's forum ``topics``)."""
    senders = list(senders)
    telegram = next((s for s in senders if s.platform is Platform.TELEGRAM), None)
    if settings.consultant_chat_id is None or telegram is None or topics is None:
        return None
    return DeskRuntime(
        settings,
        free_window=free_window_of(senders),
        admins=topics,
        sync=SyncParts(db, telegram, topics, kb),
    )


def free_window_of(senders: Iterable[MessageSender]) -> FreeWindow:
    """Viber (issue 5): the desk's "is a message to this person free now?", answered by the
    person's messenger when it bills late messages (:class:`bot.ports.ReplyWindow`)."""
    windows = {s.platform: s for s in senders if isinstance(s, ReplyWindow)}

    def free(address: Address, last_seen: dt.datetime | None, now: dt.datetime) -> bool:
        window = windows.get(address.platform)
        return window is None or window.free_window(address, last_seen, now)

    return free
