"""The two database questions the Viber adapter asks, through the database layer (:mod:`bot.db`).

- the person's language, when a reply goes out (the bottom keyboard is in their language) and
  when they open the chat again (the welcome);
- a ``failed`` delivery receipt: the outbox row that Viber could not deliver is marked failed
  with Viber's description (the row's ``message_id`` is the ``message_token`` Viber gave us).
"""

from __future__ import annotations

from sqlalchemy import update

from bot.db import Database, Repository
from bot.db.models import OutboxMessage
from handlers.model import Address, Platform

PLATFORM = Platform.VIBER.value


class ViberStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def language_of(self, address: Address) -> str | None:
        """The person's chosen language, ``None`` if unknown (or never chosen)."""
        async with self.db.sessions() as session:
            user = await Repository(session).find_user(PLATFORM, address.chat_id)
        return user.lang if user is not None else None

    async def delivery_failed(self, message_token: str, reason: str) -> int:
        """Record that Viber could not deliver the message it gave ``message_token``; returns
        how many outbox rows that was (0 when the row was pruned or is not ours)."""
        async with self.db.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.platform == PLATFORM,
                    OutboxMessage.message_id == message_token,
                    OutboxMessage.status == "sent",
                )
                .values(status="failed", last_error=f"viber failed: {reason}"[:500])
            )
        return int(result.rowcount)  # type: ignore[attr-defined]
