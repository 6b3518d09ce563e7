"""Analytics at the programme's scale (issue 15.4): daily cells and a covering index.

- ``analytics_cells``: per day and figure cell, the questions and the distinct people; a
  period's figures are sums over its days instead of a scan of every fact.
- ``analytics_cell_people``: the people of a day's small cell, so that a period's exact
  distinct count is still known where no single day reaches ``k`` (k-anonymity).
- ``analytics_rollup.cells_through``: how far the cells go (the roll-up fills them from the
  facts already rolled up, so a database rolled up before this migration catches up).
- ``ix_analytics_facts_day_person``: a period's distinct people from the index alone;
  ``ix_tickets_closed_at``, ``ix_ticket_ratings_created_at``: the desk's tickets closed and
  ratings given in a period, without a scan of every ticket.

Revision ID: 0006
Revises: 0004 (poison updates)
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_cells",
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("dim", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "dim", "key", name=op.f("pk_analytics_cells")),
    )
    op.create_table(
        "analytics_cell_people",
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("dim", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("person", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "dim", "key", "person", name=op.f("pk_analytics_cell_people")
        ),
    )
    with op.batch_alter_table("analytics_rollup") as batch:
        batch.add_column(sa.Column("cells_through", sa.Integer(), nullable=True))
    op.create_index("ix_analytics_facts_day_person", "analytics_facts", ["day", "person"])
    op.create_index("ix_tickets_closed_at", "tickets", ["closed_at"])
    op.create_index("ix_ticket_ratings_created_at", "ticket_ratings", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_ratings_created_at", table_name="ticket_ratings")
    op.drop_index("ix_tickets_closed_at", table_name="tickets")
    op.drop_index("ix_analytics_facts_day_person", table_name="analytics_facts")
    with op.batch_alter_table("analytics_rollup") as batch:
        batch.drop_column("cells_through")
    op.drop_table("analytics_cell_people")
    op.drop_table("analytics_cells")
