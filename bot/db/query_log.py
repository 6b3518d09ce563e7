"""The ``query_log`` table's one owner: people's free-text questions (PII-scrubbed by the
caller), the matcher's decision on each, and the person's feedback on the answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import QueryLog
from bot.db.sql import fetch, rowcount

QUERIES = cast(Table, QueryLog.__table__)
_LOG = insert(QUERIES).returning(QUERIES.c.id)  # built once: its columns from the parameters

Candidates = tuple[tuple[str, float], ...]


class Queries:
    """The query log, inside a transaction it does not own (:class:`bot.db.unit.UnitOfWork`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def log(
        self,
        user_id: int,
        text_scrubbed: str,
        decision: str,
        intent: str | None,
        lang: str,
        candidates: Sequence[tuple[str, float]],
        now: dt.datetime,
    ) -> int:
        ranked = [[entry_id, round(float(score), 4)] for entry_id, score in candidates]
        row = {
            "user_id": user_id,
            "created_at": now,
            "text_scrubbed": text_scrubbed,
            "lang": lang,
            "decision": decision,
            "intent": intent,
            "candidates": ranked,
            "top_entry": ranked[0][0] if ranked else None,
            "top_score": ranked[0][1] if ranked else None,
        }
        (logged,) = await fetch(self.session, _LOG, row)
        return int(logged["id"])

    async def record_feedback(
        self, user_id: int, query_id: int, helpful: bool, now: dt.datetime
    ) -> bool:
        result = await self.session.execute(
            update(QUERIES)
            .where(QUERIES.c.id == query_id, QUERIES.c.user_id == user_id)
            .values(feedback=helpful, feedback_at=now)
        )
        return bool(rowcount(result))

    async def question(self, user_id: int, query_id: int) -> tuple[str, Candidates] | None:
        """A logged question of this person (its scrubbed text and the matcher's candidates);
        ``None`` when it is not theirs or is gone."""
        row = (
            await self.session.execute(
                select(QUERIES.c.text_scrubbed, QUERIES.c.candidates).where(
                    QUERIES.c.id == query_id, QUERIES.c.user_id == user_id
                )
            )
        ).first()
        if row is None:
            return None
        text, candidates = row
        return text, tuple((str(c[0]), float(c[1])) for c in (candidates or []))
