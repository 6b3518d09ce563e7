"""The person's conversational context: the entry last shown and when (follow-ups).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Two nullable columns: an ALTER TABLE ADD COLUMN on both SQLite and PostgreSQL (no copy).
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("context_entry", sa.String(64), nullable=True))
        batch.add_column(sa.Column("context_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("context_at")
        batch.drop_column("context_entry")
