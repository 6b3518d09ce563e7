"""Inbound translation: a python-telegram-bot :class:`~telegram.Update` → the platform-neutral
:class:`~handlers.model.IncomingEvent` (or ``None`` when it is not for us), and the chat that
orders it (:func:`chat_key_of`)."""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import Bot, CallbackQuery, ChatMember, Message, Update, User

from bot.messengers.telegram.protocol import PLATFORM
from handlers.model import Address, EventKind, IncomingEvent, Media, MediaKind, Sender

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{3,64}))?(?=\s|$)")
_GONE_STATUSES = {ChatMember.BANNED, ChatMember.LEFT}


def update_to_event(
    update: Update, *, bot_username: str | None, consultant_chat_id: int | None
) -> IncomingEvent | None:
    """The platform-neutral event for ``update``, or ``None`` when it is not for us.

    Private chats are always ours; of the groups, only the consultant desk
    (``CONSULTANT_CHAT_ID``) is; channels never are. Edits, service messages and the like are
    ignored. Media keep Telegram's ``file_id`` as :attr:`Media.ref` (a location's ref is
    ``"lat,lon"``, a contact's the phone number with the name as caption).
    """
    key = str(update.update_id)
    member_update = update.my_chat_member
    if member_update is not None:
        chat = member_update.chat
        if not _is_ours(chat.type, chat.id, consultant_chat_id):
            return None
        if member_update.new_chat_member.status not in _GONE_STATUSES:
            return None
        return IncomingEvent(
            address=Address(PLATFORM, str(chat.id)),
            kind=EventKind.UNSUBSCRIBED,
            dedupe_key=key,
            sender=_sender(member_update.from_user),
        )

    query = update.callback_query
    if query is not None:
        return _callback_event(query, key, consultant_chat_id)

    message = update.message
    if message is None or message.from_user is None:
        return None
    chat = message.chat
    if not _is_ours(chat.type, chat.id, consultant_chat_id):
        return None
    address = Address(PLATFORM, str(chat.id), _topic_of(message))
    common: dict[str, Any] = {
        "address": address,
        "dedupe_key": key,
        "sender": _sender(message.from_user),
        "message_id": str(message.message_id),
    }
    if message.text is not None:
        command = _COMMAND.match(message.text)
        if command is not None:
            addressee = command.group(2)
            if (
                addressee is not None
                and chat.type != chat.PRIVATE
                and (bot_username is None or addressee.lower() != bot_username.lower())
            ):
                return None  # "/start@another_bot" in a group
            return IncomingEvent(
                kind=EventKind.COMMAND,
                text=message.text,
                command=command.group(1).lower(),
                args=tuple(message.text[command.end() :].split()),
                **common,
            )
        return IncomingEvent(kind=EventKind.TEXT, text=message.text, **common)
    media = _media_of(message)
    if media is not None:
        return IncomingEvent(kind=EventKind.MEDIA, media=media, **common)
    return None


def _callback_event(
    query: CallbackQuery, key: str, consultant_chat_id: int | None
) -> IncomingEvent | None:
    message = query.message
    if message is None:  # a button under an inline-mode message: not ours
        return None
    chat = message.chat
    if not _is_ours(chat.type, chat.id, consultant_chat_id):
        return None
    thread_id = _topic_of(message) if isinstance(message, Message) else None
    return IncomingEvent(
        address=Address(PLATFORM, str(chat.id), thread_id),
        kind=EventKind.BUTTON,
        dedupe_key=key,
        sender=_sender(query.from_user),
        payload=query.data or "",
        message_id=str(message.message_id),
    )


def _is_ours(chat_type: str, chat_id: int, consultant_chat_id: int | None) -> bool:
    if chat_type == "private":
        return True
    return consultant_chat_id is not None and chat_id == consultant_chat_id


def _topic_of(message: Message) -> int | None:
    """The forum topic (consultant desk); reply threads of ordinary groups are not topics."""
    if message.is_topic_message and message.message_thread_id is not None:
        return message.message_thread_id
    return None


def _sender(user: User) -> Sender:
    return Sender(
        user_id=str(user.id),
        language_code=user.language_code,
        display_name=user.full_name or None,
        is_bot=user.is_bot,
        username=user.username or None,
    )


def _media_of(message: Message) -> Media | None:
    caption = message.caption
    if message.animation is not None:  # before document: an animation carries both
        a = message.animation
        return Media(MediaKind.ANIMATION, a.file_id, caption, a.file_name, a.mime_type)
    if message.photo:
        return Media(MediaKind.PHOTO, message.photo[-1].file_id, caption)  # the largest size
    if message.sticker is not None:
        return Media(MediaKind.STICKER, message.sticker.file_id)
    if message.video is not None:
        v = message.video
        return Media(MediaKind.VIDEO, v.file_id, caption, v.file_name, v.mime_type)
    if message.video_note is not None:
        return Media(MediaKind.VIDEO_NOTE, message.video_note.file_id)
    if message.voice is not None:
        return Media(MediaKind.VOICE, message.voice.file_id, caption, None, message.voice.mime_type)
    if message.audio is not None:
        au = message.audio
        return Media(MediaKind.AUDIO, au.file_id, caption, au.file_name, au.mime_type)
    if message.document is not None:
        d = message.document
        return Media(MediaKind.DOCUMENT, d.file_id, caption, d.file_name, d.mime_type)
    if message.location is not None:
        loc = message.location
        return Media(MediaKind.LOCATION, f"{loc.latitude},{loc.longitude}")
    if message.contact is not None:
        c = message.contact
        name = " ".join(p for p in (c.first_name, c.last_name) if p)
        return Media(MediaKind.CONTACT, c.phone_number, name or None)
    return None


@dataclass(frozen=True)
class Unparsable:
    """An update python-telegram-bot could not parse: its id, type and the error."""

    update_id: int
    update_type: str
    error: BaseException


def update_type_of(update: Update | Mapping[str, Any]) -> str:
    """The update's kind ("message", "callback_query"...), for the poison record."""
    data: Mapping[str, Any] = update.to_dict() if isinstance(update, Update) else update
    return next((str(key) for key in data if key != "update_id"), "unknown")


def parse_update(data: Mapping[str, Any], bot: Bot) -> Update | Unparsable:
    """One update from the Bot API's JSON, or :class:`Unparsable` saying why not (each update
    of a batch is parsed on its own, so one bad update never blocks the others)."""
    update_id = data.get("update_id")
    try:
        update = Update.de_json(dict(data), bot)
        if update is None:
            raise ValueError("empty update")
        return update
    except Exception as exc:
        return Unparsable(
            update_id if isinstance(update_id, int) else -1, update_type_of(data), exc
        )


def chat_key_of(update: object) -> Hashable | None:
    """What orders updates: the chat (the person, or the desk group)."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
    return None
