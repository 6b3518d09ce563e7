"""Is the desk group set up? Checked at start-up and again until it is (issue 18 item 3).

A misconfigured group used to lose tickets silently: creating the ticket's topic failed with a
WARNING while the person was told "passed to a consultant, you are 1st in line". Now:

- at start-up, and every :data:`RECHECK_SECONDS` while something is missing, the group is
  checked (Telegram: getChat — is it a forum; getChatMember for the bot — an administrator
  with *Manage topics* and *Delete messages*), and what is missing is said in one log line
  (ERROR), in ``/readyz``'s body (``desk``), and in the group itself when the bot may post;
- while the desk cannot be reached (that check, or the topic-sync worker failing to make a
  topic), a person handed to the desk is told the truth and given the contact points, and
  their ticket waits: the topic-sync worker keeps it, counts the failure
  (``otwarta_desk_unreachable``) and tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.ports import DeliveryError, GroupRights

if TYPE_CHECKING:
    from bot.supervisor import Supervisor

log = logging.getLogger(__name__)

#: How often a desk group with something missing is checked again.
RECHECK_SECONDS = 120.0

#: What can be missing, in the words of the log and ``/readyz`` (the group is told in its
#: language: :data:`bot.desk.runtime.MISSING_TEXT`).
NOT_FOUND = "the group was not found (a wrong CONSULTANT_CHAT_ID, or the bot is not in it)"
NOT_FORUM = "Topics are off (turn on Topics in the group's settings)"
NOT_ADMIN = "the bot is not an administrator of the group"
NO_TOPICS = "the bot lacks the Manage topics right"
NO_DELETE = "the bot lacks the Delete messages right"
UNREACHABLE = "a ticket's topic could not be made (see the log)"


def missing(rights: GroupRights) -> list[str]:
    """What stops the desk from working, in the order to fix it; empty: nothing."""
    if not rights.found:
        return [NOT_FOUND]
    problems = []
    if not rights.is_forum:
        problems.append(NOT_FORUM)
    if not rights.is_admin:
        problems.append(NOT_ADMIN)
    else:
        if not rights.can_manage_topics:
            problems.append(NO_TOPICS)
        if not rights.can_delete_messages:
            problems.append(NO_DELETE)
    return problems


#: Until the first check has succeeded (Telegram still starting), look again this soon.
FIRST_CHECK_RETRY_SECONDS = 2.0


class GroupInspector(Protocol):
    async def group_rights(self, chat_id: str) -> GroupRights: ...


@dataclass
class DeskHealth:
    """What is known of the desk group. ``checked`` stays ``False`` until Telegram answered."""

    checked: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def reachable(self) -> bool:
        """``False`` only when something is known to be missing (unknown counts as fine: the
        worker's failures say otherwise soon enough)."""
        return not self.problems

    def report(self) -> dict[str, object]:
        """``/readyz``'s ``desk`` entry."""
        return {"ready": self.checked and not self.problems, "missing": list(self.problems)}


class DeskCheck:
    """Checks the group now and then; says what is missing once per change."""

    def __init__(
        self,
        inspector: GroupInspector,
        chat_id: str,
        *,
        tell_group: Callable[[list[str]], Awaitable[None]] | None = None,
        interval: float = RECHECK_SECONDS,
    ) -> None:
        self.inspector = inspector
        self.chat_id = chat_id
        self.tell_group = tell_group
        self.interval = interval
        self.health = DeskHealth()
        self._task: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        self._failed_before = False

    async def run_once(self) -> DeskHealth:
        try:
            rights = await self.inspector.group_rights(self.chat_id)
        except DeliveryError as exc:  # Telegram unreachable: nothing learnt
            log.warning("desk: cannot check the desk group yet (%s)", type(exc).__name__)
            return self.health
        problems = missing(rights)
        changed = problems != self.health.problems or not self.health.checked
        self.health.checked, self.health.problems = True, problems
        if changed and problems:
            log.error("desk: the desk group is not ready: %s", "; ".join(problems))
            if rights.can_post and self.tell_group is not None:
                await self.tell_group(problems)
        elif changed:
            log.info("desk: the desk group is ready (a forum; the bot administers its topics)")
        return self.health

    def failed(self) -> None:
        """The topic-sync worker could not make a topic: look again soon."""
        if UNREACHABLE not in self.health.problems:
            self.health.problems = [*self.health.problems, UNREACHABLE]
        self._wakeup.set()

    async def _round(self) -> None:
        try:
            await self.run_once()
        except Exception as exc:
            # Telegram may not be up yet (serve starts the messengers in the background):
            # one line, not a traceback every few seconds.
            if not self._failed_before:
                log.warning("desk: the desk group check failed (%s)", type(exc).__name__)
            self._failed_before = True
        else:
            self._failed_before = False

    def _pause(self) -> float:
        if not self.health.checked:
            return min(self.interval, FIRST_CHECK_RETRY_SECONDS)
        return self.interval if self.health.problems else 3600.0

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            await self._round()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._pause())

    def start(self, supervisor: Supervisor | None = None) -> None:
        """Check now and then: as the supervised worker "desk-check" (``serve``), or as a
        plain task."""
        if supervisor is not None:
            supervisor.every("desk-check", self._pause, self._round, wake=self._wakeup)
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="desk-check")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
