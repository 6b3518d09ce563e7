"""The tables of subscriptions and announcements (issue 16). Owners:
:mod:`bot.db.subscriptions` (``subscriptions``) and :mod:`bot.db.announcements`
(``announcements``, ``announcement_recipients``, ``entry_versions``). Made by the migration
``0005_subscriptions``; a test checks these classes match it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigId

SUBSCRIPTION_KINDS = ("entry", "topic", "situation")
RECIPIENT_STATUSES = ("pending", "queued", "sent", "failed", "skipped")


class Subscription(Base):
    """A person asked to be told when something changes: an entry, a topic, or (``situation``,
    target ``""``) the important changes for their situation (their ``audience``)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "target"),
        CheckConstraint("kind IN ('entry', 'topic', 'situation')", name="kind_known"),
        Index("ix_subscriptions_kind_target", "kind", "target"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]


class Announcement(Base):
    """One announcement: ``content`` holds its texts per language (and the fallback)."""

    __tablename__ = "announcements"
    __table_args__ = (
        UniqueConstraint("key"),
        CheckConstraint(
            "status IN ('scheduled', 'sending', 'done', 'cancelled')", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # "file" | "entry-change"
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    audience: Mapped[str | None] = mapped_column(String(32))
    entry_id: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(32))
    publish_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[int | None] = mapped_column(Integer)
    finished_at: Mapped[dt.datetime | None]


class AnnouncementRecipient(Base):
    """One person an announcement goes to: ``pending`` → ``queued`` (its outbox row written in
    the same transaction) → ``sent`` / ``failed``; ``skipped`` when they unsubscribed or were
    gone before their turn."""

    __tablename__ = "announcement_recipients"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'queued', 'sent', 'failed', 'skipped')", name="status_known"
        ),
        Index(
            "ix_announcement_recipients_pending",
            "announcement_id",
            "user_id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_announcement_recipients_queued",
            "outbox_id",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
        Index("ix_announcement_recipients_user_id", "user_id"),
    )

    announcement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str | None] = mapped_column(String(8))
    platform: Mapped[str] = mapped_column(String(16))
    outbox_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime]


class EntryVersion(Base):
    """The content version (a digest of the answer in every language) of an entry last seen."""

    __tablename__ = "entry_versions"

    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime]
