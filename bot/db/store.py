"""The handlers' view of the database (:class:`handlers.context.ConversationStore`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.db.unit import UnitOfWork
from bot.privacy import scrub
from handlers.context import UserState


class SqlConversationStore:
    """:class:`~handlers.context.ConversationStore` over the turn's unit of work.

    Remembers what the engine must know after the handlers ran: the decisions logged (for
    metrics, counted only once the turn commits) and the people forgotten (their row is gone,
    so the engine must not save them back).
    """

    def __init__(self, uow: UnitOfWork, clock: Callable[[], dt.datetime]) -> None:
        self.uow = uow
        self.clock = clock
        self.decisions: list[str] = []
        self.forgotten: set[int] = set()

    async def log_query(
        self,
        user: UserState,
        text: str,
        decision: str,
        intent: str | None,
        lang: str,
        candidates: list[tuple[str, float]],
    ) -> int:
        self.decisions.append(decision)
        return await self.uow.queries.log(
            user.id, scrub(text), decision, intent, lang, candidates, self.clock()
        )

    async def record_feedback(self, user: UserState, query_id: int, helpful: bool) -> bool:
        return await self.uow.queries.record_feedback(user.id, query_id, helpful, self.clock())

    async def forget_user(self, user: UserState) -> None:
        await self.uow.people.forget(user.id)
        self.forgotten.add(user.id)
