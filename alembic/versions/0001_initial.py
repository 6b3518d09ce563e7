"""Initial schema: users, processed events, query log, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-05-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Self-contained on purpose (no imports from the bot): a migration must not change later.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY


def UTCDateTime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


_QUEUED = sa.text("status = 'queued'")
_PENDING = sa.text("status IN ('queued', 'sending')")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("lang", sa.String(8), nullable=True),
        sa.Column("audience", sa.String(32), nullable=True),
        sa.Column("notice_seen", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("platform", "external_id", name=op.f("uq_users_platform_external_id")),
    )

    op.create_table(
        "processed_events",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("dedupe_key", sa.String(128), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "dedupe_key", name=op.f("pk_processed_events")),
    )
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])

    op.create_table(
        "query_log",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("text_scrubbed", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("top_entry", sa.String(64), nullable=True),
        sa.Column("top_score", sa.Float(), nullable=True),
        sa.Column("feedback", sa.Boolean(), nullable=True),
        sa.Column("feedback_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_log")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_query_log_user_id_users"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_query_log_user_id"), "query_log", ["user_id"])
    op.create_index(op.f("ix_query_log_created_at"), "query_log", ["created_at"])

    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.String(16), server_default="queued", nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("user_id", BigId, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_outbox_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed')",
            name=op.f("ck_outbox_status_known"),
        ),
    )
    op.create_index(
        "ix_outbox_queued",
        "outbox",
        ["id"],
        postgresql_where=_QUEUED,
        sqlite_where=_QUEUED,
    )
    op.create_index(
        "ix_outbox_pending_chat",
        "outbox",
        ["platform", "chat_id", "id"],
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )
    op.create_index("ix_outbox_user_id", "outbox", ["user_id"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("query_log")
    op.drop_index("ix_processed_events_processed_at", table_name="processed_events")
    op.drop_table("processed_events")
    op.drop_table("users")
