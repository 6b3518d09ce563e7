"""Forum topics and editing a sent message: Telegram's side of the desk's adapter capabilities.

Implements :class:`bot.ports.ForumTopics` and :class:`bot.ports.MessageEditor` over the
adapter's python-telegram-bot ``Bot``, with the adapter's own rendering (content markup →
HTML, inline keyboards) and error mapping (429 → ``RetryLater``, "thread not found" →
``ThreadGone`` …), so the desk sender sees the same errors as every other send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode

from bot.markup import render_telegram_html
from bot.messengers.telegram.errors import call_api
from bot.messengers.telegram.render import NO_PREVIEW, chat_id_of, keyboard
from handlers.model import Address, Platform, Reply


class TelegramForumTopics:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def _run(self, request: Callable[[], Awaitable[Any]]) -> Any:
        return await call_api(request)

    async def create_topic(self, chat_id: str, name: str) -> int:
        topic = await self._run(
            lambda: self._bot.create_forum_topic(chat_id=_chat(chat_id), name=name)
        )
        return int(topic.message_thread_id)

    async def edit_topic(self, chat_id: str, thread_id: int, name: str) -> None:
        await self._run(
            lambda: self._bot.edit_forum_topic(
                chat_id=_chat(chat_id), message_thread_id=thread_id, name=name
            )
        )

    async def close_topic(self, chat_id: str, thread_id: int) -> None:
        await self._run(
            lambda: self._bot.close_forum_topic(chat_id=_chat(chat_id), message_thread_id=thread_id)
        )

    async def reopen_topic(self, chat_id: str, thread_id: int) -> None:
        await self._run(
            lambda: self._bot.reopen_forum_topic(
                chat_id=_chat(chat_id), message_thread_id=thread_id
            )
        )

    async def delete_topic(self, chat_id: str, thread_id: int) -> None:
        await self._run(
            lambda: self._bot.delete_forum_topic(
                chat_id=_chat(chat_id), message_thread_id=thread_id
            )
        )

    async def edit_message(self, reply: Reply, message_id: str) -> None:
        await self._run(
            lambda: self._bot.edit_message_text(
                chat_id=chat_id_of(reply.address),
                message_id=int(message_id),
                text=render_telegram_html(reply.text),
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=keyboard(reply.buttons),
            )
        )


def _chat(chat_id: str) -> int | str:
    return chat_id_of(Address(Platform.TELEGRAM, chat_id))
