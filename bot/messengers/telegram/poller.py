"""The poller (no ``PUBLIC_URL``): getUpdates that confirms an update only after the engine has
committed it.

PTB's own ``Updater`` confirms a batch (the next getUpdates' ``offset``) as soon as it has
*queued* it, so a crash would lose the queued updates. :class:`TelegramPoller` instead
processes the whole batch before asking for the next one, and never moves the offset past an
update whose processing failed. After a ``kill -9`` Telegram redelivers what was not
confirmed; the engine drops the ones it had already committed (dedupe key = ``update_id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.messengers.telegram.errors import seconds
from bot.messengers.telegram.protocol import ALLOWED_UPDATES, LONG_POLL_SECONDS, UpdateIntake

log = logging.getLogger(__name__)

RETRY_BACKOFF_MAX = 30.0


class TelegramPoller:
    """getUpdates that confirms an update only after the engine has committed it.

    Each batch is processed completely (chats concurrently, each chat in order) before the next
    getUpdates, whose ``offset`` confirms it. An update whose processing failed is not
    confirmed: the next call starts from it (those after it that succeeded come back too and
    are dropped by the engine as duplicates), after a backoff.
    """

    def __init__(self, intake: UpdateIntake) -> None:
        self._intake = intake
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.offset = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="telegram-poller")

    async def stop(self) -> None:
        """Finish the batch in hand (its updates are committed and confirmed), then stop."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        if self.offset:
            # Confirm the last batch now, or it would come back (as duplicates) on restart.
            try:
                await self._intake.bot.get_updates(
                    offset=self.offset, timeout=0, allowed_updates=list(ALLOWED_UPDATES)
                )
            except TelegramError as exc:
                log.info("could not confirm the last updates (they will be deduplicated): %s", exc)

    async def _run(self) -> None:
        backoff = 0.0
        bot = self._intake.bot
        while not self._stopping.is_set():
            if backoff:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                if self._stopping.is_set():
                    break
            fetch = asyncio.ensure_future(
                bot.get_updates(
                    offset=self.offset or None,
                    timeout=LONG_POLL_SECONDS,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            )
            stop = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not fetch.done():
                fetch.cancel()  # stopping: nothing fetched is lost, it was never confirmed
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await fetch
                break
            stop.cancel()
            try:
                updates = fetch.result()
            except InvalidToken:
                log.critical("telegram rejected the bot token; polling stopped")
                return
            except RetryAfter as exc:
                backoff = seconds(exc.retry_after)
                continue
            except Conflict as exc:
                log.warning("getUpdates conflict (another instance or a webhook?): %s", exc)
                backoff = min(RETRY_BACKOFF_MAX, max(1.0, backoff * 2))
                continue
            except (NetworkError, TelegramError) as exc:
                log.warning("getUpdates failed: %s", exc)
                backoff = min(RETRY_BACKOFF_MAX, max(0.5, backoff * 2))
                continue
            if not updates:
                backoff = 0.0
                continue
            backoff = await self._process_batch(list(updates), backoff)

    async def _process_batch(self, updates: list[Update], backoff: float) -> float:
        """Process a batch; move the offset past it, or up to its first failure."""
        results = await asyncio.gather(
            *(self._intake.submit(update) for update in updates), return_exceptions=True
        )
        for update, result in zip(updates, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                if self._intake.record_attempt(update, result):
                    log.warning(
                        "telegram update %s failed (%s); will fetch it again",
                        update.update_id,
                        type(result).__name__,
                    )
                    self.offset = update.update_id
                    first = self._intake.failure_backoff
                    return min(RETRY_BACKOFF_MAX, max(first, backoff * 2))
            else:
                self._intake.forget_attempts(update.update_id)
            self.offset = update.update_id + 1
        return 0.0
