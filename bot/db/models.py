"""The bot's tables (SQLAlchemy 2 style): people, processed events, the query log, the outbox.
The schema itself is made only by Alembic (``alembic/versions``); these classes must match the
migrations, and a test checks they do. Each table has one owner in the database layer:
:mod:`bot.db.people`, :mod:`bot.db.events`, :mod:`bot.db.query_log`, :mod:`bot.db.outbox`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
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

OUTBOX_STATUSES = ("queued", "sending", "sent", "failed")


class User(Base):
    """A person on one platform. Only what the privacy notice names: no names, no phone."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str | None] = mapped_column(String(8))
    audience: Mapped[str | None] = mapped_column(String(32))
    notice_seen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    context_entry: Mapped[str | None] = mapped_column(String(64))
    """The entry last shown, for follow-ups (kept ``CONTEXT_MINUTES``; see handlers)."""
    context_at: Mapped[dt.datetime | None]


class ProcessedEvent(Base):
    """Dedupe keys of events already handled; pruned after a few days (redeliveries stop)."""

    __tablename__ = "processed_events"
    __table_args__ = (Index("ix_processed_events_processed_at", "processed_at"),)

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    processed_at: Mapped[dt.datetime]


class QueryLog(Base):
    """One free-text question (PII-scrubbed) and the matcher's decision, for evaluation."""

    __tablename__ = "query_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    text_scrubbed: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    decision: Mapped[str] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(64))
    candidates: Mapped[list[Any]] = mapped_column(JSON)
    top_entry: Mapped[str | None] = mapped_column(String(64))
    top_score: Mapped[float | None] = mapped_column(Float)
    feedback: Mapped[bool | None] = mapped_column(Boolean)
    feedback_at: Mapped[dt.datetime | None]
    # Since 0003_analytics: where and for whom the question was asked, and what came next.
    platform: Mapped[str | None] = mapped_column(String(16))
    audience: Mapped[str | None] = mapped_column(String(32))
    chosen_entry: Mapped[str | None] = mapped_column(String(64))  # picked after "Did you mean"
    none_of_these: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )


class OutboxMessage(Base):
    """A reply waiting to be (or already) delivered.

    Within one chat (platform, chat_id) and lane, messages go out strictly in ``id`` order —
    the order key: ids grow with every insert, and the replies of one turn are inserted in order. A
    chat's queued or sending message blocks the later ones of that chat, so a retry never lets
    a later message overtake. ``lease_until`` is how long a "sending" claim holds before another
    process (or the next start) may take the message again.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status_known"),
        # Partial indexes stay small however many sent rows the table keeps.
        # The claim: queued messages, oldest first (due and first of their chat are checked
        # row by row, and the scan stops after the batch).
        # ``lane`` first: conversation and the desk (0) are claimed before announcements (1).
        Index(
            "ix_outbox_queued",
            "lane",
            "id",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
        # Head of line: the earliest pending message of a chat.
        Index(
            "ix_outbox_pending_chat",
            "platform",
            "chat_id",
            "lane",
            "id",
            postgresql_where=text("status IN ('queued', 'sending')"),
            sqlite_where=text("status IN ('queued', 'sending')"),
        ),
        Index("ix_outbox_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]
    not_before: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    status: Mapped[str] = mapped_column(String(16), default="queued", server_default="queued")
    lease_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    #: Priority lane: 0 conversation replies and the desk, 1 announcements (issue 16). The
    #: worker claims lane 0 first; order within a chat holds within each lane.
    lane: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))


class PoisonUpdate(Base):
    """An update set aside unprocessed (issue 12; :mod:`bot.db.poison`): which one, its type,
    the error and when — never its content."""

    __tablename__ = "poison_updates"
    __table_args__ = (UniqueConstraint("platform", "update_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    update_id: Mapped[str] = mapped_column(String(128))
    update_type: Mapped[str] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    recorded_at: Mapped[dt.datetime]
