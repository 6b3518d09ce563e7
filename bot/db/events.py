"""The ``processed_events`` table's one owner: the dedupe keys of the events already handled.

:meth:`Events.mark_processed` is ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent duplicate
waits for the first transaction and then inserts nothing, so an event is handled once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ProcessedEvent
from bot.db.sql import TIME, per_backend, rowcount

EVENTS = cast(Table, ProcessedEvent.__table__)

#: Record a key (parameters ``p_platform``, ``p_key``, ``p_now``), per backend; built once.
MARK_PROCESSED: dict[str, Any] = per_backend(
    lambda insert_: (
        insert_(EVENTS)
        .values(
            platform=bindparam("p_platform"),
            dedupe_key=bindparam("p_key"),
            processed_at=bindparam("p_now", type_=TIME),
        )
        .on_conflict_do_nothing(index_elements=["platform", "dedupe_key"])
    )
)


class Events:
    """Dedupe keys, inside a transaction it does not own (:class:`bot.db.unit.UnitOfWork`)."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    async def mark_processed(self, platform: str, dedupe_key: str, now: dt.datetime) -> bool:
        """Record an event's key; ``False`` when it was already there (a duplicate)."""
        result = await self.session.execute(
            MARK_PROCESSED[self.dialect],
            {"p_platform": platform, "p_key": dedupe_key, "p_now": now},
        )
        return bool(rowcount(result))

    async def is_processed(self, platform: str, dedupe_key: str) -> bool:
        found = await self.session.scalar(
            select(EVENTS.c.dedupe_key).where(
                EVENTS.c.platform == platform, EVENTS.c.dedupe_key == dedupe_key
            )
        )
        return found is not None

    async def prune(self, older_than: dt.datetime) -> int:
        """Forget dedupe keys recorded before ``older_than``; platforms stop redelivering
        within a day, so a few days of keys are plenty."""
        result = await self.session.execute(
            delete(EVENTS).where(EVENTS.c.processed_at < older_than)
        )
        return rowcount(result)
