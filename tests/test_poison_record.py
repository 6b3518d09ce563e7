"""The poison-update record on both databases: recorded once, no content, and the migration
makes exactly the table the model describes (checked by tests/test_db_migrations.py too)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, select

from bot.db import Database
from bot.db.poison import PoisonUpdate, poison_count, record_poison

NOW = dt.datetime(2026, 12, 6, 21, 0, tzinfo=dt.UTC)


async def test_a_poison_update_is_recorded_once_per_platform(db: Database) -> None:
    async with db.transaction() as session:
        first = await record_poison(
            session, platform="telegram", update_id="1001", update_type="message",
            error="TypeError at telegram/_message.py:10 in de_json", attempts=1, now=NOW,
        )  # fmt: skip
    async with db.transaction() as session:
        again = await record_poison(
            session, platform="telegram", update_id="1001", update_type="message",
            error="TypeError", attempts=1, now=NOW,
        )  # fmt: skip
        viber = await record_poison(
            session, platform="viber", update_id="1001", update_type="message",
            error="KeyError", attempts=5, now=NOW,
        )  # fmt: skip
    assert (first, again, viber) == (True, False, True)
    async with db.sessions() as session:
        assert await poison_count(session) == 2
        assert await poison_count(session, "telegram") == 1
        row = (
            await session.execute(select(PoisonUpdate).where(PoisonUpdate.platform == "telegram"))
        ).scalar_one()
    assert row.update_id == "1001" and row.update_type == "message"
    assert row.error.startswith("TypeError at") and row.attempts == 1
    assert row.recorded_at == NOW


async def test_the_table_holds_no_content_columns(db: Database) -> None:
    async with db.engine.connect() as connection:
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("poison_updates")}
        )
    assert columns == {
        "id", "platform", "update_id", "update_type", "error", "attempts", "recorded_at"
    }  # fmt: skip
