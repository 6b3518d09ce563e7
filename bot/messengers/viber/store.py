"""The two database questions the Viber adapter asks, through the database layer (:mod:`bot.db`).

- the person's language, when a reply goes out (the bottom keyboard is in their language) and
  when they open the chat again (the welcome);
- a ``failed`` delivery receipt: the outbox row that Viber could not deliver is marked failed
  with Viber's description (the row's ``message_id`` is the ``message_token`` Viber gave us).
"""

from __future__ import annotations

from bot.db import Database
from handlers.model import Address, Platform

PLATFORM = Platform.VIBER.value


class ViberStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def language_of(self, address: Address) -> str | None:
        """The person's chosen language, ``None`` if unknown (or never chosen)."""
        async with self.db.read() as uow:
            user = await uow.people.find(PLATFORM, address.chat_id)
        return user.lang if user is not None else None

    async def delivery_failed(self, message_token: str, reason: str) -> int:
        """Record that Viber could not deliver the message it gave ``message_token``; returns
        how many outbox rows that was (0 when the row was pruned or is not ours)."""
        async with self.db.transaction() as uow:
            return await uow.outbox.delivery_failed(
                PLATFORM, message_token, f"viber failed: {reason}"
            )
