"""The supervisors' web console's tables (issue 19); their one owner is
:mod:`bot.webconsole.store`. The schema is made by ``alembic/versions/0005_console.py``.

- ``console_users``: the console's accounts (a name, a role, an argon2id hash, an optional
  TOTP secret for an admin's second factor). Nothing to do with the bot's ``users``.
- ``console_sessions``: signed-in sessions, server-side: the SHA-256 of the cookie's random
  token (a stolen database does not give a usable cookie), the CSRF token, when it was last
  used (idle timeout) and made (absolute lifetime).
- ``console_audit``: every change made in the console: who (the account's name, kept after
  the account is removed), what, when.
- ``console_marks``: an editor's verdict on a cluster of unanswered questions ("belongs to
  entry X", "needs a new entry", "out of scope") and its example wordings (already scrubbed
  and k-anonymous: what the console showed), the material of the YAML patch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigId

ROLES = ("viewer", "editor", "admin")
VERDICTS = ("belongs", "new_entry", "out_of_scope")


class ConsoleUser(Base):
    __tablename__ = "console_users"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'editor', 'admin')", name="role_known"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    password_changed_at: Mapped[dt.datetime]


class ConsoleSession(Base):
    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_user_id", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("console_users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]


class ConsoleAudit(Base):
    __tablename__ = "console_audit"
    __table_args__ = (Index("ix_console_audit_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class ConsoleMark(Base):
    __tablename__ = "console_marks"
    __table_args__ = (
        CheckConstraint(
            "verdict IN ('belongs', 'new_entry', 'out_of_scope')", name="verdict_known"
        ),
    )

    cluster_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str | None] = mapped_column(String(64))
    lang: Mapped[str | None] = mapped_column(String(8))
    examples: Mapped[list[Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    marked_by: Mapped[str] = mapped_column(String(64))
    marked_at: Mapped[dt.datetime]
