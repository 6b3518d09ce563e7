"""What a handoff is: why the person is talking to a consultant, and what the desk needs to open
a ticket. Below :mod:`handlers.context` (whose :class:`~handlers.context.Desk` takes a
:class:`HandoffRequest`) and :mod:`handlers.handoff` (which builds them), so neither imports the
other's module to name them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class HandoffReason(enum.StrEnum):
    """Why the person is talking to a consultant (the desk shows it on the ticket)."""

    REQUESTED = "request"  # they asked: button, /consultant, "I want a person"
    NO_ANSWER = "unknown"  # the bot did not know ("I don't know", "none of these")
    ESCALATE = "escalate"  # after an answer whose entry says a consultant should follow up
    NOT_HELPFUL = "feedback"  # after 👎
    URGENT = "urgent"  # the message read as an emergency


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    """What the desk needs to open a ticket: why, how urgent, and what it is about.

    ``query_id`` is the logged question (``ctx.store.log_query``, scrubbed) the request
    follows, if any; ``entry_id`` the answer it follows, if any. ``question`` and
    ``candidates`` are set when the handoff comes in the same turn as the person's words
    (``question`` is their raw text: the desk scrubs it before storing, as the query log does).
    """

    reason: HandoffReason
    urgent: bool = False
    query_id: int | None = None
    entry_id: str | None = None
    question: str | None = None
    candidates: tuple[tuple[str, float], ...] = ()
