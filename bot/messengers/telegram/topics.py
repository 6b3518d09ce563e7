"""Forum topics and editing a sent message: Telegram's side of the desk's adapter capabilities.

Implements :class:`bot.ports.ForumTopics` and :class:`bot.ports.MessageEditor` over the
adapter's python-telegram-bot ``Bot``, with the adapter's own rendering (content markup →
HTML, inline keyboards) and error mapping (429 → ``RetryLater``, "thread not found" →
``ThreadGone`` …), so the desk's topic-sync worker sees the same errors as every other send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode

from bot.markup import render_telegram_html
from bot.messengers.telegram.errors import call_api
from bot.messengers.telegram.render import NO_PREVIEW, chat_id_of, keyboard
from bot.ports import GroupRights, PermanentFailure, RecipientGone
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

    async def is_admin(self, chat_id: str, user_id: int) -> bool:
        member = await self._run(
            lambda: self._bot.get_chat_member(chat_id=_chat(chat_id), user_id=user_id)
        )
        return member.status in ("creator", "administrator")

    async def group_rights(self, chat_id: str) -> GroupRights:
        """getChat (is it a forum?) and getChatMember for the bot (admin, with which rights)."""
        try:
            chat = await self._run(lambda: self._bot.get_chat(chat_id=_chat(chat_id)))
        except (PermanentFailure, RecipientGone):  # a wrong id, or the bot is not in it
            return GroupRights(found=False)
        me = await self._run(self._bot.get_me)
        member = await self._run(
            lambda: self._bot.get_chat_member(chat_id=_chat(chat_id), user_id=me.id)
        )
        admin = member.status in ("creator", "administrator")
        creator = member.status == "creator"
        return GroupRights(
            found=member.status not in ("left", "kicked"),
            is_forum=bool(getattr(chat, "is_forum", False)),
            is_admin=admin,
            can_manage_topics=creator or bool(getattr(member, "can_manage_topics", False)),
            can_delete_messages=creator or bool(getattr(member, "can_delete_messages", False)),
            can_post=member.status in ("creator", "administrator", "member")
            or bool(getattr(member, "can_send_messages", False)),
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
