"""The ``subscriptions`` table's one owner: what people asked to be told about.

Opt-in only: a row exists because the person pressed "Tell me when this changes" or used
/subscribe. Kinds: ``entry`` (target: an entry id), ``topic`` (a menu topic id) and
``situation`` (target ``""``: the important changes for the person's situation, i.e. their
``audience`` at the time of the announcement). Rows go with the person (/forget cascades) and
when the person blocks the bot (:meth:`Subscriptions.remove_all`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.announce_models import Subscription
from bot.db.sql import per_backend, rowcount

SUBSCRIPTIONS = cast(Table, Subscription.__table__)

ENTRY = "entry"
TOPIC = "topic"
SITUATION = "situation"

_ADD = per_backend(
    lambda insert_: (
        insert_(SUBSCRIPTIONS)
        .on_conflict_do_nothing(index_elements=["user_id", "kind", "target"])
        .returning(SUBSCRIPTIONS.c.id)
    )
)


@dataclass(frozen=True, slots=True)
class Subscribed:
    kind: str
    target: str


class Subscriptions:
    """Subscriptions, inside a transaction it does not own (:class:`bot.db.unit.UnitOfWork`)."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    async def add(self, user_id: int, kind: str, target: str, now: dt.datetime) -> bool:
        """Subscribe; ``False`` when the person already was."""
        row = (
            await self.session.execute(
                _ADD[self.dialect],
                {"user_id": user_id, "kind": kind, "target": target, "created_at": now},
            )
        ).first()
        return row is not None

    async def remove(self, user_id: int, kind: str, target: str) -> bool:
        result = await self.session.execute(
            delete(SUBSCRIPTIONS).where(
                SUBSCRIPTIONS.c.user_id == user_id,
                SUBSCRIPTIONS.c.kind == kind,
                SUBSCRIPTIONS.c.target == target,
            )
        )
        return rowcount(result) > 0

    async def remove_all(self, user_ids: Iterable[int]) -> int:
        """Every subscription of these people (unsubscribe from all; blocked the bot)."""
        ids = list(user_ids)
        if not ids:
            return 0
        result = await self.session.execute(
            delete(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.user_id.in_(ids))
        )
        return rowcount(result)

    async def of_user(self, user_id: int) -> list[Subscribed]:
        rows = await self.session.execute(
            select(SUBSCRIPTIONS.c.kind, SUBSCRIPTIONS.c.target)
            .where(SUBSCRIPTIONS.c.user_id == user_id)
            .order_by(SUBSCRIPTIONS.c.id)
        )
        return [Subscribed(kind, target) for kind, target in rows.all()]
