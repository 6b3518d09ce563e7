"""The desk's settings as the conversation needs them (built from :mod:`bot.settings` by
:mod:`bot.desk.runtime`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from handlers.model import Address, Platform

#: ``(person, their last message, now) -> free?`` (see :class:`bot.ports.ReplyWindow` and
#: :mod:`handlers.desk.billing`).
FreeWindow = Callable[[Address, dt.datetime | None, dt.datetime], bool]


class Schedule(Protocol):
    """The desk's working hours (:class:`bot.desk.hours.WorkingHours`)."""

    @property
    def always_open(self) -> bool: ...

    def is_open(self, moment: dt.datetime) -> bool: ...

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None: ...


#: ``telegram user id -> is an admin of the desk group?`` (Telegram's getChatMember, cached).
AdminCheck = Callable[[int], Awaitable[bool]]


@dataclass(frozen=True)
class DeskConfig:
    """The desk's settings, as the handlers need them (built from :mod:`bot.settings`)."""

    chat_id: str  # CONSULTANT_CHAT_ID
    desk_lang: str = "uk"  # the language of cards and notices in the desk group
    reopen_window: dt.timedelta = dt.timedelta(hours=72)
    comment_window: dt.timedelta = dt.timedelta(minutes=30)
    show_names: bool = False
    hours: Schedule | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Warsaw"))
    # Viber (issue 5): "is a message to this person free now?", from the messengers' senders
    # (bot.ports.ReplyWindow); None: every message is. See handlers.desk.billing.
    free_window: FreeWindow | None = None
    # Issue 18 item 5: who acts as a consultant besides those added with /desk add — the
    # CONSULTANTS setting (ids, lower-case usernames) and the group's admins.
    consultant_ids: frozenset[int] = frozenset()
    consultant_usernames: frozenset[str] = frozenset()
    is_admin: AdminCheck | None = None
    # Issue 18 item 3: can tickets reach the group now? (the desk check; None: assume so)
    reachable: Callable[[], bool] | None = None

    @property
    def address(self) -> Address:
        """The desk group (General); ticket replies carry the ticket in ``meta`` instead."""
        return Address(Platform.TELEGRAM, self.chat_id)

    def is_desk(self, address: Address) -> bool:
        return address.platform is Platform.TELEGRAM and address.chat_id == self.chat_id
