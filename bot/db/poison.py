"""Poison updates: updates set aside unprocessed, so one bad update never blocks the rest.

An update is poison when the library cannot parse it, or when its processing failed
``POISON_ATTEMPTS`` times for a reason that is not an outage (an outage is waited out, never
held against the update). It is recorded here once — platform, the platform's id of the update
(Telegram ``update_id``, Viber ``message_token``), its type, the error (the exception's type and
where it was raised) and the time — never its content: this table must hold no personal data.
Then the platform is told it was received (offset moved past it, webhook answered 200) so it
stops coming back; the person gets no apology loop.

The table (:class:`bot.db.models.PoisonUpdate`) is made by
``alembic/versions/0008_poison_updates.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import PoisonUpdate

#: Longest error text kept (the type and a few frames; never a message).
ERROR_CHARS = 500


def _session_of(transaction: Any) -> AsyncSession:
    """The session of a transaction (a session, or a unit of work carrying one)."""
    session: AsyncSession = getattr(transaction, "session", transaction)
    return session


async def record_poison(
    session: Any,
    *,
    platform: str,
    update_id: str,
    update_type: str,
    error: str,
    attempts: int,
    now: dt.datetime,
) -> bool:
    """Record a poison update once; ``False`` if it was already recorded (a redelivery)."""
    session = _session_of(session)
    values = {
        "platform": platform,
        "update_id": update_id[:128],
        "update_type": (update_type or "unknown")[:32],
        "error": error[:ERROR_CHARS],
        "attempts": attempts,
        "recorded_at": now,
    }
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(PoisonUpdate)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["platform", "update_id"])
        .returning(PoisonUpdate.id)
    )
    result = await session.execute(statement)
    return result.first() is not None


async def poison_count(session: Any, platform: str | None = None) -> int:
    session = _session_of(session)
    query = select(func.count()).select_from(PoisonUpdate)
    if platform is not None:
        query = query.where(PoisonUpdate.platform == platform)
    return int((await session.execute(query)).scalar_one())
