"""Setting poison updates aside, the same way for every messenger (issue 12).

An update is poison when it cannot be parsed, or when processing it failed ``POISON_ATTEMPTS``
times for a reason that is not an outage (:func:`bot.supervisor.is_database_outage`: a
database that is down is waited out, never held against the update). A poison update is

- recorded once in ``poison_updates`` (:mod:`bot.db.poison`): platform, the platform's id of
  the update, its type, the error's type and where it was raised — never its content;
- counted (``otwarta_poison_updates_total{platform, reason}``) and logged once;
- then acknowledged by the adapter (offset moved past it, webhook answered 200), so the
  platform stops sending it and nobody gets an apology loop.

:class:`PoisonGuard` keeps the attempt counts (in memory: after a restart an update gets its
attempts again, which only delays setting it aside) and does the recording.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from bot import metrics
from bot.supervisor import describe, is_database_outage

if TYPE_CHECKING:
    from bot.db import Database

log = logging.getLogger(__name__)

DEFAULT_ATTEMPTS = 5
_TRACKED = 10_000  # attempt counters kept at most (the oldest forgotten first)


class PoisonGuard:
    """Per platform: counts failed attempts, records poison updates once."""

    def __init__(
        self, platform: str, *, attempts: int = DEFAULT_ATTEMPTS, db: Database | None = None
    ) -> None:
        self.platform = platform
        self.attempts = attempts
        self.db = db  # set by the composition root once the database is open
        self._failures: OrderedDict[str, int] = OrderedDict()
        self._recorded: OrderedDict[str, None] = OrderedDict()

    def failed(self, update_id: str, error: BaseException) -> int | None:
        """Count a failed attempt at processing ``update_id``: the number of attempts once it
        is poison (set it aside now), ``None`` while it should be tried again. Outages are
        not counted."""
        if is_database_outage(error):
            return None
        if update_id in self._recorded:  # set aside already: acknowledge it at once
            return self.attempts
        count = self._failures.pop(update_id, 0) + 1
        if count >= self.attempts:
            return count
        self._failures[update_id] = count
        while len(self._failures) > _TRACKED:
            self._failures.popitem(last=False)
        return None

    def succeeded(self, update_id: str) -> None:
        self._failures.pop(update_id, None)

    async def set_aside(
        self,
        update_id: str,
        update_type: str,
        error: BaseException | str,
        *,
        reason: str,
        attempts: int = 1,
    ) -> None:
        """Record, count and log a poison update (once; a redelivery is only acknowledged).
        ``reason``: ``unparsable`` or ``failing``."""
        self._failures.pop(update_id, None)
        if update_id in self._recorded:
            return
        detail = error if isinstance(error, str) else describe(error)
        recorded = await self._record(update_id, update_type, detail, attempts)
        self._recorded[update_id] = None
        while len(self._recorded) > _TRACKED:
            self._recorded.popitem(last=False)
        if recorded is False:
            return  # another process (or an earlier run) recorded it already
        metrics.POISON_UPDATES.labels(self.platform, reason).inc()
        log.error(
            "%s update %s (%s) set aside as poison after %d attempt(s): %s",
            self.platform,
            update_id,
            update_type,
            attempts,
            detail,
            extra={"platform": self.platform, "poison": reason},
        )

    async def _record(
        self, update_id: str, update_type: str, error: str, attempts: int
    ) -> bool | None:
        if self.db is None:
            return None
        from bot.db.poison import record_poison
        from bot.outbox import utcnow

        try:
            async with self.db.transaction() as session:
                return await record_poison(
                    session,
                    platform=self.platform,
                    update_id=update_id,
                    update_type=update_type,
                    error=error,
                    attempts=attempts,
                    now=utcnow(),
                )
        except Exception as exc:  # the record is for operators; never block the intake on it
            log.warning(
                "could not record poison %s update %s: %s", self.platform, update_id, describe(exc)
            )
            return None
