"""The consultant desk's tables (issue 4): tickets, what was relayed, consultants, ratings.

Kept apart from :mod:`bot.db.models`, on the same ``Base`` (:mod:`bot.db.base`);
:mod:`bot.db.schema` gathers both for Alembic and the schema test. The schema is made by
``alembic/versions/0002_desk.py``.

A ticket outlives ``/forget`` as an anonymous stub: the person's link (``user_id``), the
question, the candidates and every relayed message are deleted, while the number, the state
and the timestamps stay, so the desk's topic still resolves and the statistics still add up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigId

#: Ticket states: the person waits, a consultant owns it, it is over.
TICKET_STATES = ("waiting", "assigned", "closed")
#: Why a ticket closed.
CLOSE_REASONS = ("resolved", "no_reply", "cancelled", "erased")
#: What opened a ticket (the person's path to the desk).
TICKET_ORIGINS = ("request", "feedback", "unknown", "escalate", "urgent", "other")
#: Relay records: person → desk, desk → person, an internal note, a desk-side event.
MESSAGE_DIRECTIONS = ("in", "out", "note", "event")

_OPEN = text("state != 'closed'")


class Consultant(Base):
    """A member of the desk group who has acted in it; ``languages`` comes from ``/langs``."""

    __tablename__ = "consultants"
    __table_args__ = (UniqueConstraint("telegram_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    display_name: Mapped[str] = mapped_column(String(128))
    languages: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]
    last_active: Mapped[dt.datetime]


class Ticket(Base):
    """One conversation handed to the desk; ``id`` is the number consultants see (#42).

    At most one ticket per person is not closed (a partial unique index on both backends).
    """

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("state IN ('waiting', 'assigned', 'closed')", name="state_known"),
        CheckConstraint(
            "close_reason IS NULL OR close_reason IN "
            "('resolved', 'no_reply', 'cancelled', 'erased')",
            name="close_reason_known",
        ),
        Index(
            "uq_tickets_open_user",
            "user_id",
            unique=True,
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        ),
        # The desk's queue and the reminder scan: open tickets by urgency and age.
        Index(
            "ix_tickets_open_queue",
            "state",
            "opened_at",
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        ),
        Index("ix_tickets_thread_id", "thread_id"),
        Index("ix_tickets_user_id", "user_id"),
        # Analytics (0003_analytics): tickets by time, and a person's tickets after a question.
        Index("ix_tickets_user_id_opened_at", "user_id", "opened_at"),
        Index("ix_tickets_opened_at", "opened_at"),
        # Analytics (0006): the tickets closed in a period.
        Index("ix_tickets_closed_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16))
    close_reason: Mapped[str | None] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    platform: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(32))
    audience: Mapped[str | None] = mapped_column(String(32))
    question: Mapped[str | None] = mapped_column(Text)  # scrubbed (bot.privacy.scrub)
    person_name: Mapped[str | None] = mapped_column(String(128))  # only with DESK_SHOW_NAMES
    candidates: Mapped[list[Any]] = mapped_column(JSON)  # [[entry_id, score], ...]
    consultant_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("consultants.id", ondelete="SET NULL")
    )
    # The forum topic in the desk group and its card; set by the topic-sync worker.
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[dt.datetime]
    assigned_at: Mapped[dt.datetime | None]
    first_response_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    reopened_at: Mapped[dt.datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_person_at: Mapped[dt.datetime | None]
    reminded_at: Mapped[dt.datetime | None]


class TicketMessage(Base):
    """One relayed message (or note, or desk event) of a ticket: the ticket's history.

    Text is stored scrubbed (:func:`bot.privacy.scrub`): the desk group holds the original;
    we keep only what is needed to follow the ticket. Deleted with the ticket's contents.
    """

    __tablename__ = "ticket_messages"
    __table_args__ = (
        CheckConstraint("direction IN ('in', 'out', 'note', 'event')", name="direction_known"),
        Index("ix_ticket_messages_ticket_id", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))
    consultant_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("consultants.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16))  # "text" or a MediaKind value
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


class TicketRating(Base):
    """The person's 1-5 rating of one closing of a ticket (``round`` = its reopen count),
    and an optional comment. ``comment_open`` while the bot waits for that comment."""

    __tablename__ = "ticket_ratings"
    __table_args__ = (
        UniqueConstraint("ticket_id", "round"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        # Analytics (0006): the ratings given in a period.
        Index("ix_ticket_ratings_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    comment_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[dt.datetime]


class DeskAllowed(Base):
    """Someone a desk admin added with ``/desk add`` (a Telegram id, a username, or both):
    besides the group's admins and ``CONSULTANTS``, only they act as consultants."""

    __tablename__ = "desk_allowed"
    __table_args__ = (
        UniqueConstraint("telegram_user_id"),
        UniqueConstraint("username"),
        CheckConstraint("telegram_user_id IS NOT NULL OR username IS NOT NULL", name="someone"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))  # lower case, without the "@"
    added_at: Mapped[dt.datetime]


class DeskEffect(Base):
    """One thing the desk group must be shown (:class:`bot.desk.effects.DeskEffect`), queued
    in the turn's transaction and carried out by the topic-sync worker
    (:mod:`bot.desk.sync`), fairly across tickets. ``ticket_id`` ``NULL``: the General topic.
    Deleted once done; what a person erased is deleted with their tickets' contents."""

    __tablename__ = "desk_effects"
    __table_args__ = (
        Index("ix_desk_effects_ticket_id", "ticket_id", "id"),
        {"sqlite_autoincrement": True},  # ids only grow: they order the queue
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("tickets.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]
    not_before: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(String(500))
