"""The poller (no ``PUBLIC_URL``): getUpdates that confirms an update only after the engine has
committed it.

PTB's own ``Updater`` confirms a batch (the next getUpdates' ``offset``) as soon as it has
*queued* it, so a crash would lose the queued updates. :class:`TelegramPoller` instead
processes the whole batch before asking for the next one, and never moves the offset past an
update whose processing failed. After a ``kill -9`` Telegram redelivers what was not
confirmed; the engine drops the ones it had already committed (dedupe key = ``update_id``).

getUpdates is fetched raw and each update parsed on its own (:func:`parse_update`): one the
library cannot parse is set aside as poison (recorded once, the offset moved past it) instead
of failing the whole batch for everyone. The loop runs as the supervised worker
"telegram-poller" (:mod:`bot.supervisor`), which it tells when the Bot API is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot import metrics
from bot.messengers.telegram.errors import seconds
from bot.messengers.telegram.holdback import is_transient
from bot.messengers.telegram.inbound import Unparsable, parse_update
from bot.messengers.telegram.protocol import (
    ALLOWED_UPDATES,
    LONG_POLL_SECONDS,
    PLATFORM,
    UpdateIntake,
)
from bot.supervisor import DATABASE

if TYPE_CHECKING:
    from bot.supervisor import Supervisor, Worker

log = logging.getLogger(__name__)

# getUpdates is fetched raw on purpose (each update parsed on its own).
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.getUpdates' instead", category=PTBUserWarning
)

RETRY_BACKOFF_MAX = 30.0
OUTAGE_BACKOFF_MAX = 5.0  # the Bot API or the database away: tried again this often
CONFIRM_TIMEOUT = 2.0  # shutdown's last getUpdates (confirming the last batch), seconds


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
        self.unreachable = False
        self.worker: Worker | None = None  # set when supervised
        self._running = asyncio.Event()  # set while the loop is not running
        self._running.set()

    def start(self, supervisor: Supervisor | None = None) -> None:
        """Poll in the background: as the supervised worker "telegram-poller" (restarted if
        it fails), or as a plain task."""
        if supervisor is not None:
            supervisor.start("telegram-poller", self.run, stop=self._stopping.set)
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="telegram-poller")

    async def run(self, worker: Worker | None = None) -> None:
        """The polling loop (a supervised worker: ``worker`` is told when the Bot API is
        unreachable and when it is back)."""
        self.worker = worker
        self._running.clear()
        try:
            await self._run()
        finally:
            if self._stopping.is_set() and worker is not None:
                worker.finish()  # stopped by the adapter: not a failure
            self._running.set()

    async def stop(self) -> None:
        """Finish the batch in hand (its updates are committed and confirmed), then stop."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        elif self.worker is not None:
            await self._running.wait()
        if self.offset:
            # Confirm the last batch now, or it would come back (as duplicates) on restart.
            try:
                await asyncio.wait_for(
                    self._intake.bot.do_api_request(
                        "getUpdates",
                        api_kwargs={
                            "offset": self.offset,
                            "timeout": 0,
                            "limit": 1,
                            "allowed_updates": list(ALLOWED_UPDATES),
                        },
                    ),
                    CONFIRM_TIMEOUT,
                )
            except (TelegramError, TimeoutError) as exc:
                log.info("could not confirm the last updates (they will be deduplicated): %s", exc)

    async def _run(self) -> None:
        backoff = 0.0
        while not self._stopping.is_set():
            if backoff:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                if self._stopping.is_set():
                    break
            fetch = asyncio.ensure_future(self._fetch())
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
                if not self.unreachable:
                    log.warning("getUpdates failed: %s; retrying with backoff", exc)
                self.unreachable = True
                if self.worker is not None:
                    self.worker.down(f"Bot API unreachable: {type(exc).__name__}")
                # Capped low: a failed getUpdates costs nothing, and the bot resumes within
                # seconds of the Bot API coming back.
                backoff = min(OUTAGE_BACKOFF_MAX, max(0.5, backoff * 2))
                continue
            if self.unreachable:
                log.info("getUpdates works again")
                self.unreachable = False
            if self.worker is not None and self.worker.is_down:
                self.worker.up()
            if not updates:
                backoff = 0.0
                continue
            good: list[Update] = []
            for item in updates:
                if isinstance(item, Update):
                    good.append(item)
                    continue
                # Unparsable: set aside (recorded once), and the offset moves past it.
                metrics.UPDATES_RECEIVED.labels(PLATFORM.value).inc()
                await self._intake.poison.set_aside(
                    str(item.update_id), item.update_type, item.error, reason="unparsable"
                )
            backoff = await self._process_batch(good, backoff, fetched=updates)

    async def _fetch(self) -> list[Update | Unparsable]:
        """getUpdates, raw: each update is parsed on its own (:func:`parse_update`), so one
        the library cannot parse never blocks the others (``Bot.get_updates`` parses the
        batch at once and would raise for all of them)."""
        bot = self._intake.bot
        result = await bot.do_api_request(
            "getUpdates",
            api_kwargs={
                "offset": self.offset or None,
                "timeout": LONG_POLL_SECONDS,
                "allowed_updates": list(ALLOWED_UPDATES),
            },
            read_timeout=LONG_POLL_SECONDS + 10.0,
        )
        items: list[Update | Unparsable] = []
        for data in result if isinstance(result, list) else []:
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                log.error("getUpdates returned an item without an update_id; skipped")
                continue
            items.append(parse_update(data, bot))
        return items

    async def _process_batch(
        self,
        updates: list[Update],
        backoff: float,
        *,
        fetched: Sequence[Update | Unparsable] = (),
    ) -> float:
        """Process a batch; move the offset past it (and past every unparsable update in
        ``fetched``, already set aside), or up to its first failure."""
        results = await asyncio.gather(
            *(self._intake.submit(update) for update in updates), return_exceptions=True
        )
        outage = False
        for update, result in zip(updates, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                if await self._intake.record_attempt(update, result):
                    outage = is_transient(result)
                    self.offset = update.update_id
                    first = self._intake.failure_backoff
                    cap = OUTAGE_BACKOFF_MAX if outage else RETRY_BACKOFF_MAX
                    return min(cap, max(first, backoff * 2))
            else:
                self._intake.forget_attempts(update.update_id)
            self.offset = update.update_id + 1
        if updates:
            DATABASE.ok()
        last = max((item.update_id for item in fetched), default=-1)
        self.offset = max(self.offset, last + 1)
        return 0.0
