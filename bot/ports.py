"""The interfaces between the conversation engine and the messengers.

Flow: an adapter turns a platform payload into an :class:`~handlers.model.IncomingEvent` and
calls :meth:`EventSink.process`. The engine runs the handlers and, in the same database
transaction that records the event's dedupe key, writes their replies to the outbox. The outbox
worker then delivers each reply through the :class:`MessageSender` of its platform, honouring
the limits the sender declares. So an event is answered once even when it is delivered twice,
and a crash after the commit loses no reply.
"""

from __future__ import annotations

import datetime as dt
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


class Unavailable(RetryLater):
    """The platform itself is unreachable (connection refused, 5xx, timeout), not this message
    refused: the outbox retries soon and never gives a message up for it (only for age)."""


class RecipientGone(DeliveryError):
    """The person blocked the bot or left (Telegram 403, Viber not subscribed): mark inactive."""


class PermanentFailure(DeliveryError):
    """The request itself is wrong (400 and the like): do not retry, record the reason."""


class ThreadGone(PermanentFailure):
    """The forum topic the reply was addressed to no longer exists (Telegram 400 "message
    thread not found"): the consultant desk recreates the topic and sends again."""


class CredentialsRejected(Exception):
    """The messenger refused the bot's token at start: a configuration problem that retrying
    cannot mend (the composition root stops the bot). Raised by an adapter's ``initialize``."""


class MessengerUnreachable(Exception):
    """The messenger's API could not be reached at start; the composition root retries."""


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


@dataclass(frozen=True, slots=True)
class GroupRights:
    """What the bot may do in a group, as the messenger reports it (the desk's start-up check,
    issue 18 item 3). ``found`` is ``False`` when the group does not exist for the bot (a wrong
    id, or the bot is not in it)."""

    found: bool
    is_forum: bool = False
    is_admin: bool = False
    can_manage_topics: bool = False
    can_delete_messages: bool = False
    can_post: bool = False


@runtime_checkable
class ForumTopics(Protocol):
    """Forum topics of a group (Telegram): the consultant desk keeps one per ticket.

    Implemented by the Telegram adapter; errors are the :class:`DeliveryError` subclasses
    (a topic that no longer exists raises :class:`ThreadGone`).
    """

    async def create_topic(self, chat_id: str, name: str) -> int:
        """Create a topic named ``name``; returns its thread id."""
        ...

    async def edit_topic(self, chat_id: str, thread_id: int, name: str) -> None: ...

    async def close_topic(self, chat_id: str, thread_id: int) -> None: ...

    async def reopen_topic(self, chat_id: str, thread_id: int) -> None: ...

    async def delete_topic(self, chat_id: str, thread_id: int) -> None: ...


@runtime_checkable
class MessageEditor(Protocol):
    """Changing a message already sent (the desk's ticket card after Take/Close)."""

    async def edit_message(self, reply: Reply, message_id: str) -> None:
        """Replace the text and buttons of message ``message_id`` in ``reply.address``."""
        ...


@runtime_checkable
class ReplyWindow(Protocol):
    """A messenger that bills messages sent long after the person last wrote (Viber: more than
    24 hours). Implemented by that messenger's sender; the consultant desk asks before it
    relays a consultant's reply, so no handler needs ``if platform == ...``."""

    def free_window(
        self, address: Address, last_seen: dt.datetime | None, now: dt.datetime
    ) -> bool:
        """``True`` while a message to ``address`` is free (``last_seen``: the person's last
        message; ``None`` when unknown)."""
        ...
