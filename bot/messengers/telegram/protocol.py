"""What Telegram's Bot API fixes: our platform, the webhook's path and secret header, the update
types we ask for, the limits of a message, and what intake (webhook or poller) needs from the
adapter (:class:`UpdateIntake`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from telegram import Bot, Update
from telegram.constants import MessageLimit

from handlers.model import Platform

if TYPE_CHECKING:
    from bot.poison import PoisonGuard

PLATFORM = Platform.TELEGRAM
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

#: Update types we ask Telegram for; everything else is never fetched.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")

TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4096 characters after entity parsing
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1024
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8

LONG_POLL_SECONDS = 25


class UpdateIntake(Protocol):
    """The adapter as the webhook and the poller see it: hand an update in and wait for its
    commit, and count failed attempts (:mod:`bot.messengers.telegram.holdback`)."""

    failure_backoff: float
    poison: PoisonGuard

    @property
    def bot(self) -> Bot: ...

    @property
    def accepting(self) -> bool: ...

    async def submit(self, update: Update) -> None: ...

    async def record_attempt(self, update: Update, error: BaseException) -> bool: ...

    def forget_attempts(self, update_id: int) -> None: ...
