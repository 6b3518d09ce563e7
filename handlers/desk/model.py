"""The consultant desk as the handlers see it: tickets, consultants, and the store behind them.

Handlers never see SQL: :class:`DeskStore` is the slice of the database layer the desk's
handlers use (implemented by :class:`bot.desk.store.SqlDeskStore` over the turn's
transaction). What the desk group must be shown is a typed effect for a *ticket*
(:mod:`handlers.desk.effects`), queued in the turn's transaction: the topic-sync worker
(:mod:`bot.desk.sync`) resolves — and when needed creates or recreates — the ticket's topic
after the commit, outside any transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Literal, Protocol

from handlers.desk.effects import DeskEffect
from handlers.model import Address


class TicketState(enum.StrEnum):
    """The one list of a ticket's states (the table's check constraint spells the same)."""

    WAITING = "waiting"  # the person waits for a consultant
    ASSIGNED = "assigned"  # a consultant owns it
    CLOSED = "closed"  # over (see CloseReason)


CloseReason = Literal["resolved", "no_reply", "cancelled", "erased"]
Origin = Literal["request", "feedback", "unknown", "escalate", "urgent", "other"]
Direction = Literal["in", "out", "note", "event"]

#: Button ids (``Button.id``, at most 64 bytes): ``<prefix>:<verb>:<ticket>[:<arg>]``.
BUTTON_PREFIX = "dk"


@dataclass(frozen=True, slots=True)
class NewTicket:
    """What the conversation knew when the person was handed over."""

    origin: Origin
    lang: str
    question: str | None = None  # the person's words (scrubbed before storing)
    candidates: tuple[tuple[str, float], ...] = ()  # the bot's best guesses, best first
    topic: str | None = None  # the menu topic of the best guess
    audience: str | None = None
    urgent: bool = False
    person_name: str | None = None  # only when DESK_SHOW_NAMES is on


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    state: TicketState
    close_reason: CloseReason | None
    origin: str
    urgent: bool
    lang: str
    topic: str | None
    audience: str | None
    platform: str
    user_id: int | None  # None once the person erased their data
    person: Address | None  # where the person is (None once erased)
    consultant_id: int | None
    consultant_name: str | None
    question: str | None
    candidates: tuple[tuple[str, float], ...]
    opened_at: dt.datetime
    assigned_at: dt.datetime | None = None
    first_response_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    reopen_count: int = 0
    thread_id: int | None = None
    person_name: str | None = None
    last_person_at: dt.datetime | None = None  # the person's last message (Viber's billing)

    @property
    def is_open(self) -> bool:
        return self.state != TicketState.CLOSED


@dataclass(frozen=True, slots=True)
class Consultant:
    id: int
    telegram_user_id: int
    display_name: str
    languages: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class PendingComment:
    """The person rated a closed ticket and may now write a comment."""

    ticket_id: int
    round: int


class DeskStore(Protocol):
    """Tickets, consultants and ratings, inside the turn's transaction."""

    # -- what the desk group must be shown -----------------------------------------------
    async def queue(self, effect: DeskEffect) -> None:
        """Queue ``effect`` for the topic-sync worker, in this transaction."""
        ...

    # -- tickets -------------------------------------------------------------------------
    async def open_ticket(self, user_id: int, new: NewTicket) -> Ticket:
        """Open a ticket for the person (the caller checked none is open)."""
        ...

    async def logged_query(
        self, user_id: int, query_id: int
    ) -> tuple[str, tuple[tuple[str, float], ...]] | None:
        """The person's logged question (scrubbed text, candidates), if it is theirs."""
        ...

    async def mark_urgent(self, ticket_id: int) -> bool:
        """Raise an open ticket to urgent; ``False`` when it already was (or is closed)."""
        ...

    async def open_ticket_of(self, user_id: int) -> Ticket | None:
        """The person's ticket that is not closed, if any."""
        ...

    async def last_closed_ticket_of(self, user_id: int) -> Ticket | None: ...

    async def ticket(self, ticket_id: int) -> Ticket | None: ...

    async def ticket_in_thread(self, thread_id: int) -> Ticket | None:
        """The ticket whose desk topic is ``thread_id``."""
        ...

    async def take(self, ticket_id: int, consultant_id: int) -> bool:
        """Claim a waiting ticket; ``True`` for exactly one of several concurrent claims."""
        ...

    async def assign(self, ticket_id: int, consultant_id: int | None) -> bool:
        """Hand an open ticket to a consultant, or back to the queue (``None``)."""
        ...

    async def close(self, ticket_id: int, reason: CloseReason) -> bool:
        """Close an open ticket; ``False`` when it was already closed."""
        ...

    async def reopen(self, ticket_id: int, window: dt.timedelta) -> bool:
        """Reopen a ticket closed (resolved / no reply) less than ``window`` ago."""
        ...

    async def record(
        self,
        ticket_id: int,
        direction: Direction,
        kind: str,
        text: str | None,
        consultant_id: int | None = None,
    ) -> None:
        """Keep a (scrubbed) copy of a relayed message; a first ``out`` marks the first
        response."""
        ...

    async def queue_position(self, ticket_id: int) -> int:
        """1 for the next ticket to be taken (urgent ones first, then oldest)."""
        ...

    async def expected_wait(self) -> dt.timedelta:
        """A fair guess of how long a new ticket waits to be taken, from recent tickets."""
        ...

    async def waiting_tickets(self, limit: int = 20) -> list[Ticket]:
        """Open tickets nobody has taken, in queue order."""
        ...

    async def erase_person(self, user_id: int) -> list[Ticket]:
        """Delete the contents of every ticket of the person and close the open one as
        ``erased``; returns the tickets that had a desk topic (to tell the desk)."""
        ...

    # -- consultants ---------------------------------------------------------------------
    async def consultant(self, telegram_user_id: int, display_name: str | None) -> Consultant:
        """The consultant with that Telegram id, created (or renamed) as needed."""
        ...

    async def consultant_by_id(self, consultant_id: int) -> Consultant | None: ...

    async def set_languages(self, consultant_id: int, languages: tuple[str, ...]) -> None: ...

    async def consultants(self) -> list[Consultant]: ...

    # -- the allow-list (besides the group's admins and CONSULTANTS) -------------------------
    async def is_allowed(self, telegram_user_id: int, username: str | None) -> bool:
        """Whether a desk admin added this member with ``/desk add``."""
        ...

    async def allow(self, who: int | str) -> bool:
        """Add a Telegram id or a username (lower case, no ``@``); ``False``: already there."""
        ...

    async def disallow(self, who: int | str) -> bool:
        """Remove a Telegram id or a username; ``False``: it was not there."""
        ...

    async def allowed(self) -> list[int | str]:
        """Everyone added with ``/desk add``."""
        ...

    # -- ratings -------------------------------------------------------------------------
    async def rate(self, ticket_id: int, user_id: int, score: int) -> PendingComment | None:
        """Store the rating of the ticket's latest closing (once); ``None`` when the ticket
        is not the person's, is open, or that closing was already rated."""
        ...

    async def pending_comment(self, user_id: int, since: dt.datetime) -> PendingComment | None:
        """A rating given after ``since`` whose comment the bot is still waiting for."""
        ...

    async def save_comment(self, pending: PendingComment, comment: str | None) -> None:
        """Store the comment (``None``: the person skipped it) and stop waiting for one."""
        ...
