"""The consultant desk: tickets in a Telegram forum group, one topic per ticket (issue 4).

:class:`ConsultantDesk` implements :class:`handlers.handoff.Desk` (``open_ticket``) and wraps
the conversation router (:meth:`ConsultantDesk.wrap`) so that, before the router sees an
event:

- events from the desk group go to the consultant side (:mod:`handlers.desk.consultant`)
  and never to the router — commands from anywhere else are never consultant commands;
- a person with an open ticket talks to the desk (:mod:`handlers.desk.person`): everything
  they send is relayed, nothing goes to the matcher; ``/cancel``, the rating buttons and the
  rating comment are handled here; a message shortly after a closing reopens the ticket;
- ``/forget``'s confirmation first erases the person's tickets and tells the desk, then the
  router deletes the person.

Everything the desk is told is a reply addressed to a *ticket* (``Reply.meta``); the desk
sender (:mod:`bot.desk.sender`) finds or creates its forum topic when it sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from handlers.desk.billing import FreeWindow
from handlers.desk.model import DeskStore
from handlers.model import Address, Platform

if TYPE_CHECKING:
    from handlers.context import TurnContext
    from handlers.handoff_model import HandoffRequest

Handler = Callable[["TurnContext"], Awaitable[None]]


class Schedule(Protocol):
    """The desk's working hours (:class:`bot.desk.hours.WorkingHours`)."""

    @property
    def always_open(self) -> bool: ...

    def is_open(self, moment: dt.datetime) -> bool: ...

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None: ...


@dataclass(frozen=True)
class DeskConfig:
    """The desk's settings, as the handlers need them (built from :mod:`bot.settings`)."""

    chat_id: str  # CONSULTANT_CHAT_ID
    desk_lang: str = "uk"  # the language of cards and notices in the desk group
    reopen_window: dt.timedelta = dt.timedelta(hours=72)
    comment_window: dt.timedelta = dt.timedelta(minutes=30)
    show_names: bool = False
    hours: Schedule | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Warsaw"))
    # Viber (issue 5): "is a message to this person free now?", from the messengers' senders
    # (bot.ports.ReplyWindow); None: every message is. See handlers.desk.billing.
    free_window: FreeWindow | None = None

    @property
    def address(self) -> Address:
        """The desk group (General); ticket replies carry the ticket in ``meta`` instead."""
        return Address(Platform.TELEGRAM, self.chat_id)

    def is_desk(self, address: Address) -> bool:
        return address.platform is Platform.TELEGRAM and address.chat_id == self.chat_id


StoreFactory = Callable[["TurnContext"], DeskStore]


class ConsultantDesk:
    """The configured desk (:class:`handlers.handoff.Desk`)."""

    def __init__(self, config: DeskConfig, stores: StoreFactory) -> None:
        self.config = config
        self._stores = stores
        self._turn_stores: dict[int, DeskStore] = {}

    @property
    def is_configured(self) -> bool:
        return True

    def store(self, ctx: TurnContext) -> DeskStore:
        """The desk store of this turn (one per turn, on the turn's transaction)."""
        store = self._turn_stores.get(id(ctx))
        if store is None:
            store = self._stores(ctx)
        return store

    async def open_ticket(self, ctx: TurnContext, request: HandoffRequest) -> None:
        from handlers.desk import person

        await person.open_ticket(self, ctx, request)

    async def handle(self, ctx: TurnContext, inner: Handler) -> None:
        """Route one event: the desk group, a person in a ticket, or the router (``inner``)."""
        from handlers.desk import consultant, person

        ctx.desk = self
        self._turn_stores[id(ctx)] = self._stores(ctx)
        try:
            if self.config.is_desk(ctx.event.address):
                await consultant.on_event(self, ctx)
                return
            if await person.intercept(self, ctx):
                return
            await inner(ctx)
        finally:
            self._turn_stores.pop(id(ctx), None)

    def wrap(self, inner: Handler) -> Handler:
        """The engine's handler: this desk in front of the conversation router."""

        async def handler(ctx: TurnContext) -> None:
            await self.handle(ctx, inner)

        return handler
