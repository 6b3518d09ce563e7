"""A ticket's life as a pure state machine: one table of transitions, each returning the event
it makes (for the metrics), and nothing else — no SQL, no I/O.

The store (:mod:`bot.desk.store`) makes every transition one conditional ``UPDATE … WHERE
state IN`` :func:`sources` ``(action)``: the row count says whether it happened, which is what
makes two consultants pressing **Take** at once safe. The events it collects are counted once
the turn commits (:func:`bot.desk.runtime.record_metrics`).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from handlers.desk.model import TicketState

WAITING, ASSIGNED, CLOSED = TicketState.WAITING, TicketState.ASSIGNED, TicketState.CLOSED


class Action(enum.StrEnum):
    TAKE = "take"  # a consultant claims a waiting ticket
    ASSIGN = "assign"  # handed to a consultant
    UNASSIGN = "unassign"  # back to the queue
    CLOSE = "close"  # resolved, no reply, cancelled, erased
    REOPEN = "reopen"  # the person wrote again soon after a closing


#: (from, action) → to. Anything not here is not a transition.
TRANSITIONS: dict[tuple[TicketState, Action], TicketState] = {
    (WAITING, Action.TAKE): ASSIGNED,
    (WAITING, Action.ASSIGN): ASSIGNED,
    (ASSIGNED, Action.ASSIGN): ASSIGNED,
    (WAITING, Action.UNASSIGN): WAITING,
    (ASSIGNED, Action.UNASSIGN): WAITING,
    (WAITING, Action.CLOSE): CLOSED,
    (ASSIGNED, Action.CLOSE): CLOSED,
    # Reopening goes back to the consultant who had it, or to the queue (the store decides
    # which from the row: either is a valid target).
    (CLOSED, Action.REOPEN): ASSIGNED,
}


def sources(action: Action) -> tuple[TicketState, ...]:
    """The states ``action`` may start from (the store's ``WHERE state IN …``)."""
    return tuple(dict.fromkeys(src for src, act in TRANSITIONS if act is action))


def target(state: TicketState, action: Action) -> TicketState | None:
    """Where ``action`` takes a ticket in ``state``; ``None``: not allowed."""
    return TRANSITIONS.get((TicketState(state), action))


# -- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    urgent: bool


@dataclass(frozen=True, slots=True)
class Taken:
    ticket_id: int


@dataclass(frozen=True, slots=True)
class Closed:
    reason: str
    lasted: dt.timedelta | None  # since the opening (or reopening); None when unknown


@dataclass(frozen=True, slots=True)
class Reopened:
    ticket_id: int


@dataclass(frozen=True, slots=True)
class FirstResponse:
    after: dt.timedelta


@dataclass(frozen=True, slots=True)
class Rated:
    score: int


TicketEvent = Opened | Taken | Closed | Reopened | FirstResponse | Rated


def take(ticket_id: int) -> TicketEvent:
    return Taken(ticket_id)


def close(reason: str, lasted: dt.timedelta | None) -> TicketEvent:
    return Closed(reason, lasted)


def reopen(ticket_id: int) -> TicketEvent:
    return Reopened(ticket_id)
