"""The consultant desk: consultants, tickets, relayed messages, ratings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Self-contained on purpose (no imports from the bot): a migration must not change later.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY


def UTCDateTime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


_OPEN = sa.text("state != 'closed'")


def upgrade() -> None:
    op.create_table(
        "consultants",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_active", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultants")),
        sa.UniqueConstraint("telegram_user_id", name=op.f("uq_consultants_telegram_user_id")),
    )

    op.create_table(
        "tickets",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("user_id", BigId, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("close_reason", sa.String(16), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("urgent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("topic", sa.String(32), nullable=True),
        sa.Column("audience", sa.String(32), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("person_name", sa.String(128), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("consultant_id", BigId, nullable=True),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.String(64), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=True),
        sa.Column("first_response_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("reopened_at", UTCDateTime(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_person_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_tickets_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["consultant_id"],
            ["consultants.id"],
            name=op.f("fk_tickets_consultant_id_consultants"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "state IN ('waiting', 'assigned', 'closed')", name=op.f("ck_tickets_state_known")
        ),
        sa.CheckConstraint(
            "close_reason IS NULL OR close_reason IN "
            "('resolved', 'no_reply', 'cancelled', 'erased')",
            name=op.f("ck_tickets_close_reason_known"),
        ),
    )
    # One open ticket per person, enforced by the database on both backends.
    op.create_index(
        "uq_tickets_open_user",
        "tickets",
        ["user_id"],
        unique=True,
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )
    op.create_index(
        "ix_tickets_open_queue",
        "tickets",
        ["state", "opened_at"],
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )
    op.create_index("ix_tickets_thread_id", "tickets", ["thread_id"])
    op.create_index("ix_tickets_user_id", "tickets", ["user_id"])

    op.create_table(
        "ticket_messages",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", BigId, nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("consultant_id", BigId, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_messages")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_messages_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consultant_id"],
            ["consultants.id"],
            name=op.f("fk_ticket_messages_consultant_id_consultants"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "direction IN ('in', 'out', 'note', 'event')",
            name=op.f("ck_ticket_messages_direction_known"),
        ),
    )
    op.create_index("ix_ticket_messages_ticket_id", "ticket_messages", ["ticket_id", "id"])

    op.create_table(
        "ticket_ratings",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", BigId, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("comment_open", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_ratings")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_ratings_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("ticket_id", "round", name=op.f("uq_ticket_ratings_ticket_id_round")),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_ticket_ratings_score_range")),
    )


def downgrade() -> None:
    op.drop_table("ticket_ratings")
    op.drop_index("ix_ticket_messages_ticket_id", table_name="ticket_messages")
    op.drop_table("ticket_messages")
    op.drop_index("ix_tickets_user_id", table_name="tickets")
    op.drop_index("ix_tickets_thread_id", table_name="tickets")
    op.drop_index("ix_tickets_open_queue", table_name="tickets")
    op.drop_index("uq_tickets_open_user", table_name="tickets")
    op.drop_table("tickets")
    op.drop_table("consultants")
