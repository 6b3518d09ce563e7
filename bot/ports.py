"""The interfaces between the conversation engine and the messengers.

Flow: an adapter turns a platform payload into an :class:`~handlers.model.IncomingEvent` and
calls :meth:`EventSink.process`. The engine runs the handlers and, in the same database
transaction that records the event's dedupe key, writes their replies to the outbox. The outbox
worker then delivers each reply through the :class:`MessageSender` of its platform, honouring
the limits the sender declares. So an event is answered once even when it is delivered twice,
and a crash after the commit loses no reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from handlers.model import Address, IncomingEvent, Platform, Reply


class DeliveryError(Exception):
    """Sending failed; the subclasses tell the outbox what to do next."""


class RetryLater(DeliveryError):
    """Temporary failure (429, 5xx, timeout): try again after ``after`` seconds at the earliest."""

    def __init__(self, after: float, reason: str = "") -> None:
        super().__init__(reason or f"retry after {after:.1f}s")
        self.after = after


class RecipientGone(DeliveryError):
    """The person blocked the bot or left (Telegram 403, Viber not subscribed): mark inactive."""


class PermanentFailure(DeliveryError):
    """The request itself is wrong (400 and the like): do not retry, record the reason."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` messages per ``period`` seconds for every address sharing ``key``."""

    key: str
    count: int
    period: float


@dataclass(frozen=True, slots=True)
class Delivered:
    """What the platform answered; ``message_id`` lets the desk refer to the message."""

    message_id: str | None = None


@runtime_checkable
class MessageSender(Protocol):
    """One messenger's outgoing side. Owns rendering, splitting and every platform quirk."""

    platform: Platform

    def limits_for(self, address: Address) -> tuple[RateLimit, ...]:
        """The rate limits a message to ``address`` counts against (per chat, global, group)."""
        ...

    async def send(self, reply: Reply) -> Delivered:
        """Deliver one reply (splitting it if needed) or raise a :class:`DeliveryError`."""
        ...


class EventSink(Protocol):
    """What adapters hand incoming events to (the engine)."""

    async def process(self, event: IncomingEvent) -> bool:
        """Handle ``event`` once; ``False`` when its dedupe key was already processed."""
        ...
