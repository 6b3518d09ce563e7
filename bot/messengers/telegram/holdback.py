"""Hold-back bookkeeping: an update whose processing failed holds back the later updates of its
chat until it comes back (so a chat's order survives failures). How often an update may fail
before it is set aside is :class:`bot.poison.PoisonGuard`'s (``POISON_ATTEMPTS``); a database
outage never counts."""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable

log = logging.getLogger(__name__)

HOLD_BACK_SECONDS = 300.0  # how long a chat's later updates wait for a failed one's retry


class HeldBack(Exception):
    """Not processed: an earlier update of the same chat failed and must go first."""

    def __init__(self, update_id: int) -> None:
        super().__init__(f"update {update_id} held back behind an earlier failed one")


def is_transient(exc: BaseException) -> bool:
    """Failures that say "the database/network is down", not "this update is bad"."""
    if isinstance(exc, OSError | TimeoutError | ConnectionError):
        return True
    for cls in type(exc).__mro__:
        if cls.__module__.startswith("sqlalchemy") and cls.__name__ in {
            "OperationalError",
            "InterfaceError",
            "DisconnectionError",
            "TimeoutError",
        }:
            return True
    return False


class HoldBack:
    """Which chats wait for a failed update's redelivery."""

    def __init__(self) -> None:
        self._held_chats: dict[Hashable, tuple[int, float]] = {}

    def is_held_back(self, chat: Hashable, update_id: int) -> bool:
        """An earlier update of this chat failed and waits for its redelivery: later ones must
        not overtake it (they are redelivered after it)."""
        held = self._held_chats.get(chat)
        if held is None:
            return False
        failed_id, since = held
        if time.monotonic() - since > HOLD_BACK_SECONDS:
            del self._held_chats[chat]  # its redelivery never came (Telegram gave up)
            return False
        return update_id > failed_id

    def hold(self, chat: Hashable, update_id: int) -> None:
        """``update_id`` failed: the chat's later updates wait for it (the first one counts)."""
        self._held_chats.setdefault(chat, (update_id, time.monotonic()))

    def release(self, chat: Hashable, update_id: int) -> None:
        held = self._held_chats.get(chat)
        if held is not None and held[0] == update_id:
            del self._held_chats[chat]
