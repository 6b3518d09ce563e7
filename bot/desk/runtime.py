"""Wiring the desk into ``serve``: what the composition root (:mod:`bot.app`) adds when
``CONSULTANT_CHAT_ID`` is set.

- :meth:`DeskRuntime.handler`: the desk in front of the conversation router (and ``ctx.desk``
  set to it, so every handoff opens a ticket);
- :meth:`DeskRuntime.wrap_sender`: the desk sender around Telegram's sender (forum topics
  resolved at send time);
- :meth:`DeskRuntime.start` / :meth:`stop`: binds the sender to the database and runs the
  reminder job.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot import metrics
from bot.desk.hours import WorkingHours
from bot.desk.reminder import DeskReminder
from bot.desk.sender import DeskSender, DeskTopics
from bot.desk.store import SqlDeskStore
from bot.i18n import translator_for as catalogs
from bot.outbox import utcnow
from bot.ports import MessageSender, ReplyWindow
from handlers.desk import ConsultantDesk, DeskConfig
from handlers.desk.billing import FreeWindow
from handlers.model import Address, Platform

if TYPE_CHECKING:
    from bot.engine import Core
    from bot.settings import Settings
    from bot.supervisor import Supervisor
    from handlers.context import TranslatorFactory, TurnContext

Handler = Callable[["TurnContext"], Awaitable[None]]


def record_metrics(events: Iterable[tuple[str, Any]]) -> None:
    """Count what a committed transaction did to tickets."""
    for kind, value in events:
        if kind == "opened":
            metrics.DESK_TICKETS_OPENED.labels("yes" if value else "no").inc()
        elif kind == "closed":
            reason, lasted = value
            metrics.DESK_TICKETS_CLOSED.labels(reason).inc()
            if lasted is not None:
                metrics.DESK_CLOSE_SECONDS.observe(max(0.0, lasted.total_seconds()))
        elif kind == "first_response":
            metrics.DESK_FIRST_RESPONSE_SECONDS.observe(max(0.0, value.total_seconds()))
        elif kind == "reopened":
            metrics.DESK_TICKETS_REOPENED.inc()
        elif kind == "rated":
            metrics.DESK_RATINGS.labels(str(value)).inc()


def desk_config(settings: Settings) -> DeskConfig:
    if settings.consultant_chat_id is None:
        raise ValueError("CONSULTANT_CHAT_ID is not set: no consultant desk")
    hours = None
    if settings.desk_hours.strip():
        hours = WorkingHours.from_text(
            settings.desk_hours, settings.desk_timezone, observe_holidays=settings.desk_holidays
        )
    return DeskConfig(
        chat_id=str(settings.consultant_chat_id),
        desk_lang=settings.desk_lang,
        reopen_window=dt.timedelta(hours=settings.desk_reopen_hours),
        comment_window=dt.timedelta(minutes=settings.desk_comment_minutes),
        show_names=settings.desk_show_names,
        hours=hours,
        timezone=ZoneInfo(settings.desk_timezone),
    )


class DeskRuntime:
    def __init__(
        self,
        settings: Settings,
        *,
        translator_for: TranslatorFactory = catalogs,
        clock: Callable[[], dt.datetime] = utcnow,
        free_window: FreeWindow | None = None,
    ) -> None:
        self.settings = settings
        self.config = dataclasses.replace(desk_config(settings), free_window=free_window)
        self.translator_for = translator_for
        self.clock = clock
        self.desk = ConsultantDesk(self.config, self._store_for)
        self.sender: DeskSender | None = None
        self.reminder: DeskReminder | None = None

    def _store_for(self, ctx: TurnContext) -> SqlDeskStore:
        """A desk store on the turn's own transaction; its metrics count once it commits."""
        uow = getattr(ctx.store, "uow", None)
        if uow is None:
            raise TypeError("the consultant desk needs the SQL conversation store (bot.db)")
        store = SqlDeskStore(
            uow,
            lambda: ctx.now,
            default_wait=dt.timedelta(minutes=self.settings.desk_expected_wait_minutes),
            desk_chat_id=self.config.chat_id,
        )
        uow.on_commit(lambda: record_metrics(store.events))
        return store

    async def flood_exempt(self, ctx: TurnContext) -> bool:
        """Bursts that reach a human are never dropped by the engine's flood control:
        consultants in the desk group (an album, a pasted list), and a person whose ticket is
        open (everything they send is relayed to the desk, not matched)."""
        if self.config.is_desk(ctx.event.address):
            return True
        return await self._store_for(ctx).open_ticket_of(ctx.user.id) is not None

    def handler(self, inner: Handler | None = None) -> Handler:
        if inner is None:
            from handlers.router import handle

            inner = handle
        return self.desk.wrap(inner)

    def wrap_sender(self, sender: MessageSender, topics: DeskTopics) -> DeskSender:
        """The desk sender around Telegram's (other platforms' senders stay as they are)."""
        if sender.platform is not Platform.TELEGRAM:
            raise ValueError("the consultant desk lives in a Telegram group")
        self.sender = DeskSender(
            sender,
            topics,
            chat_id=self.config.chat_id,
            translator_for=self.translator_for,
            desk_lang=self.config.desk_lang,
            pseudonym_key=self.settings.desk_pseudonym_secret(),
            show_names=self.config.show_names,
            timezone=self.config.timezone,
            clock=self.clock,
        )
        return self.sender

    async def start(self, core: Core, *, supervisor: Supervisor | None = None) -> None:
        """Bind the desk sender to the database and run the reminder job (the engine was built
        with :meth:`flood_exempt`)."""
        if self.sender is not None:
            self.sender.bind(core.db, core.engine.kb)
        self.reminder = DeskReminder(
            core.db,
            chat_id=self.config.chat_id,
            translator_for=self.translator_for,
            desk_lang=self.config.desk_lang,
            threshold=dt.timedelta(minutes=self.settings.desk_reminder_minutes),
            hours=self.config.hours,
            clock=self.clock,
            wake=core.outbox.wake,
        )
        self.reminder.start(self.settings.desk_reminder_interval_seconds, supervisor=supervisor)
        core.outbox.wake()  # desk messages that waited for the binding

    async def stop(self) -> None:
        if self.reminder is not None:
            await self.reminder.stop()


def attach_desk(
    settings: Settings, senders: Iterable[MessageSender], topics: DeskTopics | None
) -> tuple[DeskRuntime | None, list[MessageSender]]:
    """The desk (``None`` without ``CONSULTANT_CHAT_ID`` or Telegram's forum ``topics``) and
    the senders for the outbox, Telegram's wrapped in the desk sender."""
    senders = list(senders)
    telegram = next((s for s in senders if s.platform is Platform.TELEGRAM), None)
    if settings.consultant_chat_id is None or telegram is None or topics is None:
        return None, senders
    runtime = DeskRuntime(settings, free_window=free_window_of(senders))
    wrapped = runtime.wrap_sender(telegram, topics)
    return runtime, [wrapped if s is telegram else s for s in senders]


def free_window_of(senders: Iterable[MessageSender]) -> FreeWindow:
    """Viber (issue 5): the desk's "is a message to this person free now?", answered by the
    person's messenger when it bills late messages (:class:`bot.ports.ReplyWindow`)."""
    windows = {s.platform: s for s in senders if isinstance(s, ReplyWindow)}

    def free(address: Address, last_seen: dt.datetime | None, now: dt.datetime) -> bool:
        window = windows.get(address.platform)
        return window is None or window.free_window(address, last_seen, now)

    return free
