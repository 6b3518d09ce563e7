"""The consultant desk: tickets in a Telegram forum group, one topic per ticket (issue 4).

:class:`ConsultantDesk` is the conversation side of the desk. For each turn the desk's plug-in
(:class:`bot.desk.runtime.DeskRuntime`, the engine's middleware) calls :meth:`ConsultantDesk.handle`
with that turn's desk store, before the router sees the event:

- events from the desk group go to the consultant side (:mod:`handlers.desk.consultant`)
  and never to the router — commands from anywhere else are never consultant commands;
- a person with an open ticket talks to the desk (:mod:`handlers.desk.person`): everything
  they send is relayed, nothing goes to the matcher; ``/cancel``, the rating buttons and the
  rating comment are handled here; a message shortly after a closing reopens the ticket;
- ``/forget``'s confirmation first erases the person's tickets and tells the desk, then the
  router deletes the person.

``ctx.desk`` is set to a :class:`TurnDesk` (this turn's store bound in), so every handoff opens
a ticket. What the desk group must be shown is a typed effect (:mod:`handlers.desk.effects`)
queued in the turn's transaction — replies the turn makes to the desk group included — and
carried out by the topic-sync worker (:mod:`bot.desk.sync`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from handlers.desk import consultant, person
from handlers.desk.config import DeskConfig, Schedule
from handlers.desk.effects import DeskEffect, EffectKind
from handlers.desk.model import DeskStore

if TYPE_CHECKING:
    from handlers.context import TurnContext
    from handlers.handoff_model import HandoffRequest

__all__ = ["ConsultantDesk", "DeskConfig", "Schedule", "TurnDesk"]

Handler = Callable[["TurnContext"], Awaitable[None]]


class TurnDesk:
    """The desk as one turn sees it (:class:`handlers.context.Desk`): the turn's store bound."""

    def __init__(self, config: DeskConfig, store: DeskStore) -> None:
        self.config = config
        self.store = store

    @property
    def is_configured(self) -> bool:
        return True

    async def open_ticket(self, ctx: TurnContext, request: HandoffRequest) -> None:
        await person.open_ticket(self.config, ctx, self.store, request)


class ConsultantDesk:
    """The configured desk's conversation."""

    def __init__(self, config: DeskConfig) -> None:
        self.config = config

    async def handle(self, ctx: TurnContext, store: DeskStore, inner: Handler) -> None:
        """Route one event: the desk group, a person in a ticket, or the router (``inner``);
        then hand what the turn says to the desk group to the topic-sync worker."""
        ctx.desk = TurnDesk(self.config, store)
        if self.config.is_desk(ctx.event.address):
            await consultant.on_event(self.config, ctx, store)
        elif not await person.intercept(self.config, ctx, store):
            await inner(ctx)
        await self._to_worker(ctx, store)

    async def _to_worker(self, ctx: TurnContext, store: DeskStore) -> None:
        """Replies addressed to the desk group (answers to consultants' commands) go out through
        the topic-sync worker too: it is the group's one sender, so its queue stays fair."""
        kept = []
        for reply in ctx.replies:
            if not self.config.is_desk(reply.address):
                kept.append(reply)
                continue
            await store.queue(
                DeskEffect(
                    EffectKind.GENERAL,
                    text=reply.text,
                    media=reply.media,
                    buttons=reply.buttons,
                    silent=reply.silent,
                    thread_id=reply.address.thread_id,
                )
            )
        ctx.replies[:] = kept
