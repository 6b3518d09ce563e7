"""Per-chat ordering: updates of different chats run concurrently, those of one chat strictly in
arrival order, with a bound on how many execute at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from telegram.ext import BaseUpdateProcessor

from bot.messengers.telegram.inbound import chat_key_of

MAX_RUNNING_UPDATES = 64  # updates executing at once (per-chat waiters do not count)
_ADMISSION_LIMIT = 4096  # PTB's own semaphore; never reached (batches/connections are smaller)


@dataclass
class _ChatLock:
    lock: asyncio.Lock
    users: int = 0


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Runs updates of different chats concurrently and those of one chat one after another,
    in arrival order, with at most ``max_running`` executing at once.

    PTB's own semaphore (``max_concurrent_updates``) is acquired *before* we see an update;
    were it the overall limit, updates queued behind one busy chat would hold its slots and
    starve every other chat. So it is set very high (admission) and the real limit is taken
    only once an update holds its chat's lock. ``asyncio.Lock`` wakes waiters FIFO and PTB
    starts the tasks in queue order, so one chat's updates run in the order they arrived.
    Locks live only while a chat has updates in flight (the map never outgrows them).
    """

    def __init__(
        self,
        max_running: int = MAX_RUNNING_UPDATES,
        *,
        on_done: Callable[[object], None] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates=_ADMISSION_LIMIT)
        self.max_running = max_running
        self._running = asyncio.Semaphore(max_running)
        self._chats: dict[Hashable, _ChatLock] = {}
        self._on_done = on_done

    @property
    def chats_in_flight(self) -> int:
        return len(self._chats)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = False
        try:
            key = chat_key_of(update)
            if key is None:
                async with self._running:
                    started = True
                    await coroutine
                return
            entry = self._chats.get(key)
            if entry is None:
                entry = self._chats[key] = _ChatLock(asyncio.Lock())
            entry.users += 1
            try:
                async with entry.lock, self._running:
                    started = True
                    await coroutine
            finally:
                entry.users -= 1
                if entry.users == 0:
                    del self._chats[key]
        finally:
            if not started and asyncio.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting: no "never awaited" warning
            if self._on_done is not None:
                self._on_done(update)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
