"""Analytics (issue 15): what the query log keeps per question going forward, the roll-up.

- ``query_log`` gains ``platform`` and ``audience`` (as they were when the question was asked),
  ``chosen_entry`` (the entry the person picked after "Did you mean") and ``none_of_these``.
- ``analytics_people``: each person's random analytics token (no link to the platform id
  but the foreign key, which ``/forget`` cascades and the retention job rotates).
- ``analytics_facts``: the roll-up, one row per question of a day already rolled up, with no
  text and no id of anyone: what a report on a past period reads once texts are pruned.
- ``analytics_rollup``: how far the roll-up has gone (one row).

Revision ID: 0003_analytics
Revises: 0003 (context)
Create Date: 2026-12-06

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003_analytics"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Self-contained on purpose (no imports from the bot): a migration must not change later.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY


def UTCDateTime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("query_log") as batch:
        batch.add_column(sa.Column("platform", sa.String(16), nullable=True))
        batch.add_column(sa.Column("audience", sa.String(32), nullable=True))
        batch.add_column(sa.Column("chosen_entry", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column(
                "none_of_these", sa.Boolean(), server_default=sa.text("false"), nullable=False
            )
        )
    # The desk's "was a person asked for within 30 minutes" looks tickets up by person and time.
    op.create_index("ix_tickets_user_id_opened_at", "tickets", ["user_id", "opened_at"])
    op.create_index("ix_tickets_opened_at", "tickets", ["opened_at"])

    op.create_table(
        "analytics_people",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_analytics_people")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_analytics_people_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("token", name=op.f("uq_analytics_people_token")),
    )
    op.create_table(
        "analytics_facts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("person", sa.BigInteger(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("platform", sa.String(16), nullable=True),
        sa.Column("audience", sa.String(32), nullable=True),
        sa.Column("topic", sa.String(32), nullable=True),
        sa.Column("entry", sa.String(64), nullable=True),
        sa.Column("near", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("self_service", sa.Boolean(), nullable=False),
        sa.Column("feedback", sa.SmallInteger(), nullable=True),
        sa.Column("none_of_these", sa.Boolean(), nullable=False),
        sa.Column("cluster_key", sa.String(200), nullable=True),
        sa.Column("query_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_facts")),
    )
    op.create_index("ix_analytics_facts_day", "analytics_facts", ["day"])
    op.create_table(
        "analytics_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rolled_through", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_rollup")),
    )


def downgrade() -> None:
    op.drop_table("analytics_rollup")
    op.drop_index("ix_analytics_facts_day", table_name="analytics_facts")
    op.drop_table("analytics_facts")
    op.drop_table("analytics_people")
    op.drop_index("ix_tickets_opened_at", table_name="tickets")
    op.drop_index("ix_tickets_user_id_opened_at", table_name="tickets")
    with op.batch_alter_table("query_log") as batch:
        batch.drop_column("none_of_these")
        batch.drop_column("chosen_entry")
        batch.drop_column("audience")
        batch.drop_column("platform")
