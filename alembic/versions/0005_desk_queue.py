"""The consultant desk's allow-list (issue 18 item 5) and its own queue of effects (issue 18
item 2, issue 11 point 2).

Revision ID: 0003_desk
Revises: 0003_analytics
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003_desk"
down_revision: str | Sequence[str] | None = "0003_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Self-contained on purpose (no imports from the bot): a migration must not change later.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY


def UTCDateTime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "desk_allowed",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_allowed")),
        sa.UniqueConstraint("telegram_user_id", name=op.f("uq_desk_allowed_telegram_user_id")),
        sa.UniqueConstraint("username", name=op.f("uq_desk_allowed_username")),
        sa.CheckConstraint(
            "telegram_user_id IS NOT NULL OR username IS NOT NULL",
            name=op.f("ck_desk_allowed_someone"),
        ),
    )
    op.create_table(
        "desk_effects",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", BigId, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("urgent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_effects")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_desk_effects_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sqlite_autoincrement=True,  # ids only grow: they order the queue
    )
    op.create_index("ix_desk_effects_ticket_id", "desk_effects", ["ticket_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_desk_effects_ticket_id", table_name="desk_effects")
    op.drop_table("desk_effects")
    op.drop_table("desk_allowed")
