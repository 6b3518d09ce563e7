"""Telegram through python-telegram-bot: updates in as :class:`~handlers.model.IncomingEvent`,
replies out. One module per concern:

- :mod:`~bot.messengers.telegram.protocol` — our platform, the webhook's path and header, the
  update types we ask for, the message limits;
- :mod:`~bot.messengers.telegram.http` — PTB's requests over aiohttp, and the ``Bot`` on them;
- :mod:`~bot.messengers.telegram.inbound` — ``Update`` → ``IncomingEvent``;
- :mod:`~bot.messengers.telegram.ordering` — per-chat order, bounded concurrency;
- :mod:`~bot.messengers.telegram.holdback` — a failed update holds back its chat; attempts;
- :mod:`~bot.messengers.telegram.render` — content markup → HTML parts, inline keyboards;
- :mod:`~bot.messengers.telegram.errors` — Bot API errors → :mod:`bot.ports` errors;
- :mod:`~bot.messengers.telegram.sender` — :class:`TelegramSender`, the ``MessageSender``;
- :mod:`~bot.messengers.telegram.commands` — the command menus (setMyCommands per language);
- :mod:`~bot.messengers.telegram.webhook` — ``POST /telegram/webhook``;
- :mod:`~bot.messengers.telegram.poller` — getUpdates that confirms only committed updates;
- :mod:`~bot.messengers.telegram.topics` — forum topics and card edits (the consultant desk);
- :mod:`~bot.messengers.telegram.adapter` — :class:`TelegramAdapter`: lifecycle and intake.
"""

from bot.messengers.telegram.adapter import TelegramAdapter
from bot.messengers.telegram.http import AiohttpRequest, telegram_bot
from bot.messengers.telegram.inbound import chat_key_of, update_to_event
from bot.messengers.telegram.protocol import PLATFORM, SECRET_HEADER, WEBHOOK_PATH
from bot.messengers.telegram.sender import TelegramSender
from bot.messengers.telegram.topics import TelegramForumTopics

__all__ = [
    "PLATFORM",
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "AiohttpRequest",
    "TelegramAdapter",
    "TelegramForumTopics",
    "TelegramSender",
    "chat_key_of",
    "telegram_bot",
    "update_to_event",
]
