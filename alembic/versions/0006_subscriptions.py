"""Subscriptions and announcements (issue 16), and the outbox's priority lanes.

- ``subscriptions``: what a person asked to be told about (an entry, a topic, or "important
  changes for my situation"); opt-in only, deleted with the person (/forget).
- ``announcements``: one announcement (a file from ``content/announcements/`` or an entry
  whose answer changed with ``notify: true``), its texts and whom it is for.
- ``announcement_recipients``: one row per person it goes to, claimed and marked in
  transactions by the announcement worker: the crash-safe "nobody twice, nobody skipped".
- ``entry_versions``: the stored content version of each entry, so a changed answer marked
  ``notify: true`` notifies its subscribers once.
- ``outbox.lane``: 0 for conversation and the desk, 1 for announcements; claimed in lane order.

Revision ID: 0005
Revises: 0003_desk
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Self-contained on purpose (no imports from the bot): a migration must not change later.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY


def UTCDateTime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


_QUEUED = sa.text("status = 'queued'")
_PENDING = sa.text("status IN ('queued', 'sending')")
_RECIPIENT_PENDING = sa.text("status = 'pending'")
_RECIPIENT_QUEUED = sa.text("status = 'queued'")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("lane", sa.SmallInteger(), nullable=False, server_default=sa.text("0"))
        )
    op.drop_index("ix_outbox_queued", table_name="outbox")
    op.drop_index("ix_outbox_pending_chat", table_name="outbox")
    op.create_index(
        "ix_outbox_queued",
        "outbox",
        ["lane", "id"],
        postgresql_where=_QUEUED,
        sqlite_where=_QUEUED,
    )
    op.create_index(
        "ix_outbox_pending_chat",
        "outbox",
        ["platform", "chat_id", "lane", "id"],
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )

    op.create_table(
        "subscriptions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_subscriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "user_id", "kind", "target", name=op.f("uq_subscriptions_user_id_kind_target")
        ),
        sa.CheckConstraint(
            "kind IN ('entry', 'topic', 'situation')", name=op.f("ck_subscriptions_kind_known")
        ),
    )
    op.create_index("ix_subscriptions_kind_target", "subscriptions", ["kind", "target"])

    op.create_table(
        "announcements",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(32), nullable=True),
        sa.Column("entry_id", sa.String(64), nullable=True),
        sa.Column("topic", sa.String(32), nullable=True),
        sa.Column("publish_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.UniqueConstraint("key", name=op.f("uq_announcements_key")),
        sa.CheckConstraint(
            "status IN ('scheduled', 'sending', 'done', 'cancelled')",
            name=op.f("ck_announcements_status_known"),
        ),
    )
    op.create_table(
        "announcement_recipients",
        sa.Column("announcement_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lang", sa.String(8), nullable=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "announcement_id", "user_id", name=op.f("pk_announcement_recipients")
        ),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_recipients_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_announcement_recipients_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'sent', 'failed', 'skipped')",
            name=op.f("ck_announcement_recipients_status_known"),
        ),
    )
    op.create_index(
        "ix_announcement_recipients_pending",
        "announcement_recipients",
        ["announcement_id", "user_id"],
        postgresql_where=_RECIPIENT_PENDING,
        sqlite_where=_RECIPIENT_PENDING,
    )
    op.create_index(
        "ix_announcement_recipients_queued",
        "announcement_recipients",
        ["outbox_id"],
        postgresql_where=_RECIPIENT_QUEUED,
        sqlite_where=_RECIPIENT_QUEUED,
    )
    op.create_index("ix_announcement_recipients_user_id", "announcement_recipients", ["user_id"])

    op.create_table(
        "entry_versions",
        sa.Column("entry_id", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_entry_versions")),
    )


def downgrade() -> None:
    op.drop_table("entry_versions")
    op.drop_index("ix_announcement_recipients_user_id", table_name="announcement_recipients")
    op.drop_index("ix_announcement_recipients_queued", table_name="announcement_recipients")
    op.drop_index("ix_announcement_recipients_pending", table_name="announcement_recipients")
    op.drop_table("announcement_recipients")
    op.drop_table("announcements")
    op.drop_index("ix_subscriptions_kind_target", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_index("ix_outbox_pending_chat", table_name="outbox")
    op.drop_index("ix_outbox_queued", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lane")
    op.create_index(
        "ix_outbox_queued", "outbox", ["id"], postgresql_where=_QUEUED, sqlite_where=_QUEUED
    )
    op.create_index(
        "ix_outbox_pending_chat",
        "outbox",
        ["platform", "chat_id", "id"],
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )
