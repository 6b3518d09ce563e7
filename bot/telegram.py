"""Telegram through python-telegram-bot: updates in as :class:`IncomingEvent`, replies out.

Inbound. A PTB :class:`~telegram.ext.Application` (``.updater(None)``) dispatches every update
through :class:`ChatOrderedUpdateProcessor` — updates of different chats run concurrently,
those of one chat strictly in arrival order — to one handler that translates it
(:func:`update_to_event`) and hands it to the engine (:class:`~bot.ports.EventSink`). An
update is acknowledged to Telegram only after the engine has committed it:

- webhook (``PUBLIC_URL`` set): our aiohttp server answers ``/telegram/webhook`` with 200 only
  once the event is processed (500/503 otherwise, and Telegram delivers it again);
- polling: PTB's own ``Updater`` confirms a batch (the next getUpdates' ``offset``) as soon as
  it has *queued* it, so a crash would lose the queued updates. :class:`TelegramPoller`
  instead processes the whole batch before asking for the next one, and never moves the
  offset past an update whose processing failed. After a ``kill -9`` Telegram redelivers what
  was not confirmed; the engine drops the ones it had already committed (dedupe key =
  ``update_id``).

An update whose processing failed holds back the later updates of its chat until it comes
back (so a chat's order survives failures); a database outage is retried indefinitely, any
other error ``POISON_ATTEMPTS`` times before the update is set aside as poison
(:mod:`bot.poison`: recorded once, counted, acknowledged). getUpdates is fetched raw and each
update parsed on its own (:func:`parse_update`), so one the library cannot parse is set aside
instead of failing the whole batch.

Outbound. :class:`TelegramSender` renders the content markup to Telegram HTML, splits at 4096
characters, attaches inline keyboards, relays media by ``file_id``, declares the rate limits,
and maps Bot API errors onto :mod:`bot.ports` errors. It does no retrying of its own (PTB
retries nothing without a rate limiter, and we configure none): the outbox owns retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import html
import json
import logging
import re
import time
import warnings
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from telegram import Bot as PtbBot
from telegram import (
    BotCommand,
    BotCommandScopeDefault,
    CallbackQuery,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
    User,
)
from telegram.constants import MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor, TypeHandler
from telegram.warnings import PTBUserWarning

from bot import metrics
from bot.markup import render_plain, render_telegram_html, split_message
from bot.poison import PoisonGuard
from bot.ports import (
    Delivered,
    EventSink,
    PermanentFailure,
    RateLimit,
    RecipientGone,
    RetryLater,
    ThreadGone,
    Unavailable,
)
from bot.supervisor import DATABASE, describe
from bot.telegram_http import AiohttpRequest
from handlers.model import (
    CAPTIONED_MEDIA,
    Address,
    Button,
    EventKind,
    IncomingEvent,
    Media,
    MediaKind,
    Platform,
    Reply,
    Sender,
)

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.supervisor import Supervisor, Worker

log = logging.getLogger(__name__)

# The text path calls sendMessage through do_api_request on purpose (see _text_step); PTB's
# nudge towards Bot.send_message would otherwise be logged on every message.
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.sendMessage' instead", category=PTBUserWarning
)
# getUpdates is fetched raw on purpose too (TelegramPoller: each update parsed on its own).
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.getUpdates' instead", category=PTBUserWarning
)

PLATFORM = Platform.TELEGRAM
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

#: Update types we ask Telegram for; everything else is never fetched.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")

#: The languages of the command menu (setMyCommands); the default list is English.
COMMAND_LANGUAGES = ("uk", "ru", "pl", "en")
DEFAULT_COMMAND_LANGUAGE = "en"

TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4096 characters after entity parsing
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1024
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8

_LONG_POLL_SECONDS = 25
_WEBHOOK_PROCESS_TIMEOUT = 50.0  # Telegram gives up on a webhook request after ~60 s
_MAX_RUNNING_UPDATES = 64  # updates executing at once (per-chat waiters do not count)
_ADMISSION_LIMIT = 4096  # PTB's own semaphore; never reached (batches/connections are smaller)
_RETRY_BACKOFF_MAX = 30.0
_OUTAGE_BACKOFF_MAX = 5.0  # while the database is down, a batch is tried again this often
_CONFIRM_TIMEOUT = 2.0  # shutdown's last getUpdates (confirming the last batch), seconds
_HOLD_BACK_SECONDS = 300.0  # how long a chat's later updates wait for a failed one's retry

# --------------------------------------------------------------------------------------------
# Inbound: Update -> IncomingEvent

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


def parse_update(data: Mapping[str, Any], bot: PtbBot) -> Update | Unparsable:
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


# --------------------------------------------------------------------------------------------
# Concurrency: per-chat order, bounded overall


@dataclass
class _ChatLock:
    lock: asyncio.Lock
    users: int = 0


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Runs updates of different chats concurrently and those of one chat one after another,
    in arrival order, with at most ``max_running`` executing at once.

    PTB's own semaphore (``max_concurrent_updates``) is acquired *before* we see an update;
    were it the overall limit, updates queued behind one busy chat would hold its slots and
    starve every other chat. So it is set very high (admission) and the real limit is taken
    only once an update holds its chat's lock. ``asyncio.Lock`` wakes waiters FIFO and PTB
    starts the tasks in queue order, so one chat's updates run in the order they arrived.
    Locks live only while a chat has updates in flight (the map never outgrows them).
    """

    def __init__(
        self,
        max_running: int = _MAX_RUNNING_UPDATES,
        *,
        on_done: Callable[[object], None] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates=_ADMISSION_LIMIT)
        self.max_running = max_running
        self._running = asyncio.Semaphore(max_running)
        self._chats: dict[Hashable, _ChatLock] = {}
        self._on_done = on_done

    @property
    def chats_in_flight(self) -> int:
        return len(self._chats)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = False
        try:
            key = chat_key_of(update)
            if key is None:
                async with self._running:
                    started = True
                    await coroutine
                return
            entry = self._chats.get(key)
            if entry is None:
                entry = self._chats[key] = _ChatLock(asyncio.Lock())
            entry.users += 1
            try:
                async with entry.lock, self._running:
                    started = True
                    await coroutine
            finally:
                entry.users -= 1
                if entry.users == 0:
                    del self._chats[key]
        finally:
            if not started and asyncio.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting: no "never awaited" warning
            if self._on_done is not None:
                self._on_done(update)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


# --------------------------------------------------------------------------------------------
# Outbound


class TelegramSender:
    """The outgoing side of Telegram (:class:`bot.ports.MessageSender`)."""

    platform = PLATFORM

    def __init__(self, bot: PtbBot, *, messages_per_second: int = 30) -> None:
        self._bot = bot
        self.messages_per_second = messages_per_second
        #: False while the adapter's start-up (getMe) has not succeeded yet.
        self.ready = True
        # Parts of long replies already delivered, so a retried reply resumes instead of
        # repeating them (the outbox retries the whole reply).
        self._progress: dict[tuple[str, int], tuple[int, float]] = {}

    def limits_for(self, address: Address) -> tuple[RateLimit, ...]:
        """Telegram's published limits: about one message a second in a chat (a burst of 3
        allowed, the same average), 30 a second overall (``TELEGRAM_MESSAGES_PER_SECOND``),
        20 a minute in a group."""
        limits = [
            RateLimit("telegram:global", self.messages_per_second, 1.0),
            RateLimit(f"telegram:chat:{address.chat_id}", 3, 3.0),
        ]
        if address.chat_id.startswith("-"):
            limits.append(RateLimit(f"telegram:group:{address.chat_id}", 20, 60.0))
        return tuple(limits)

    async def send(self, reply: Reply) -> Delivered:
        """Deliver ``reply`` (metrics of sends are the outbox's: it sees every platform)."""
        return await self._send(reply)

    async def _send(self, reply: Reply) -> Delivered:
        if not self.ready:
            # Telegram's start-up is still retrying (the Bot API unreachable): keep it queued.
            raise Unavailable(2.0, "telegram not started yet")
        chat_id = _chat_id(reply.address)
        rows = _keyboard_rows(reply.buttons)
        common: dict[str, Any] = {
            "chat_id": chat_id,
            "message_thread_id": reply.address.thread_id,
            "disable_notification": reply.silent or None,
        }
        steps: list[Callable[[], Awaitable[int]]] = []
        text_parts = split_for_telegram(reply.text, TEXT_LIMIT) if reply.text.strip() else []
        if reply.media is not None:
            caption: str | None = None
            if (
                reply.media.kind in CAPTIONED_MEDIA
                and len(text_parts) == 1
                and _visible_len(text_parts[0]) <= CAPTION_LIMIT
            ):
                caption, text_parts = text_parts[0], []
            media_markup = _markup(rows) if not text_parts else None
            steps.append(self._media_step(reply.media, caption, media_markup, common))
        for index, part in enumerate(text_parts):
            last = index == len(text_parts) - 1
            steps.append(self._text_step(part, rows if last else None, common))
        if not steps:
            raise PermanentFailure("empty reply: no text and no media")

        progress_key = (str(reply.address), hash((reply.text, reply.media)))
        done, _ = self._progress.get(progress_key, (0, 0.0))
        message_id: int | None = None
        for index in range(done, len(steps)):
            message_id = await _call(steps[index])
            if len(steps) > 1 and index < len(steps) - 1:
                self._progress[progress_key] = (index + 1, time.monotonic())
        self._progress.pop(progress_key, None)
        self._forget_stale_progress()
        return Delivered(message_id=str(message_id) if message_id is not None else None)

    def _text_step(
        self, part: str, rows: KeyboardRows | None, common: dict[str, Any]
    ) -> Callable[[], Awaitable[int]]:
        """sendMessage through ``Bot.do_api_request``: the same request, errors and retries as
        ``Bot.send_message``, without making the keyboard PTB objects and parsing the whole
        Message Telegram echoes back (buttons included) when only its id is kept. Under load
        that was a tenth of the bot's CPU."""
        fields = {key: value for key, value in common.items() if value is not None}
        fields["link_preview_options"] = {"is_disabled": True}
        if rows:
            fields["reply_markup"] = {"inline_keyboard": rows}

        async def send(text: str, parse_mode: str | None) -> int:
            kwargs = {**fields, "text": text}
            if parse_mode is not None:
                kwargs["parse_mode"] = parse_mode
            result = await self._bot.do_api_request("sendMessage", api_kwargs=kwargs)
            return int(result["message_id"])

        async def step() -> int:
            try:
                return await send(render_telegram_html(part), ParseMode.HTML)
            except BadRequest as exc:
                if "can't parse entities" not in exc.message.lower():
                    raise
                # Our renderer made HTML Telegram rejects: still deliver, as plain text.
                log.warning("telegram rejected rendered HTML (%s); sending plain text", exc.message)
                return await send(render_plain(part), None)

        return step

    def _media_step(
        self,
        media: Media,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
        common: dict[str, Any],
    ) -> Callable[[], Awaitable[int]]:
        bot = self._bot
        if media.ref is None:
            raise PermanentFailure(f"cannot relay {media.kind} without a ref")
        ref = media.ref
        rendered: dict[str, Any] = {}
        if caption is not None:
            rendered = {"caption": render_telegram_html(caption), "parse_mode": ParseMode.HTML}
        extra = {**common, "reply_markup": markup}

        async def step() -> int:
            # Media from Viber (a URL, a sticker id) may be refused: post it as a link instead.
            if media.kind is MediaKind.STICKER and ref.isdigit():  # a Viber sticker id
                return (await as_link()).message_id
            try:
                return (await send_media()).message_id
            except BadRequest as exc:
                if not ref.startswith(("https://", "http://")):
                    raise
                log.info("telegram refused %s by URL (%s); posting the link", media.kind, exc)
                return (await as_link()).message_id

        async def as_link() -> Message:
            text = _media_link_html(media, rendered.get("caption"))
            return await bot.send_message(text=text, parse_mode=ParseMode.HTML, **extra)

        async def send_media() -> Message:
            kind = media.kind
            if kind is MediaKind.PHOTO:
                return await bot.send_photo(photo=ref, **rendered, **extra)
            if kind is MediaKind.DOCUMENT:
                return await bot.send_document(document=ref, **rendered, **extra)
            if kind is MediaKind.VOICE:
                return await bot.send_voice(voice=ref, **rendered, **extra)
            if kind is MediaKind.VIDEO:
                return await bot.send_video(video=ref, **rendered, **extra)
            if kind is MediaKind.AUDIO:
                return await bot.send_audio(audio=ref, **rendered, **extra)
            if kind is MediaKind.ANIMATION:
                return await bot.send_animation(animation=ref, **rendered, **extra)
            if kind is MediaKind.STICKER:
                return await bot.send_sticker(sticker=ref, **extra)
            if kind is MediaKind.VIDEO_NOTE:
                return await bot.send_video_note(video_note=ref, **extra)
            if kind is MediaKind.LOCATION:
                lat, _, lon = ref.partition(",")
                return await bot.send_location(latitude=float(lat), longitude=float(lon), **extra)
            if kind is MediaKind.CONTACT:
                return await bot.send_contact(
                    phone_number=ref, first_name=media.caption or "—", **extra
                )
            raise PermanentFailure(f"cannot relay media of kind {kind}")

        return step

    def _forget_stale_progress(self) -> None:
        if len(self._progress) < 256:
            return
        horizon = time.monotonic() - 3600
        for key, (_, at) in list(self._progress.items()):
            if at < horizon:
                del self._progress[key]


def _media_link_html(media: Media, caption_html: str | None) -> str:
    """Media Telegram would not take (a Viber URL or sticker) as a message: the link (or the
    sticker's emoji) and the caption (already Telegram HTML)."""
    ref = media.ref or ""
    if media.kind is MediaKind.STICKER and ref.isdigit():
        head = "🎭"
    else:
        label = media.file_name or ""
        url = html.escape(ref)
        head = f'📎 <a href="{url}">{html.escape(label)}</a>' if label else f"📎 {url}"
    return f"{head}\n\n{caption_html}" if caption_html else head


_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _chat_id(address: Address) -> int | str:
    try:
        return int(address.chat_id)
    except ValueError:
        return address.chat_id  # "@channelname"


KeyboardRows = list[list[dict[str, str]]]


def _keyboard_rows(rows: Sequence[Sequence[Button]]) -> KeyboardRows:
    """Buttons as the Bot API's ``inline_keyboard`` rows (JSON); empty rows dropped."""
    keyboard: KeyboardRows = []
    for row in rows:
        buttons: list[dict[str, str]] = []
        for button in row:
            if button.url:
                buttons.append({"text": button.label, "url": button.url})
                continue
            if not button.id or len(button.id.encode()) > CALLBACK_DATA_LIMIT:
                raise PermanentFailure(
                    f"button id must be 1-{CALLBACK_DATA_LIMIT} bytes of UTF-8: {button.id!r}"
                )
            buttons.append({"text": button.label, "callback_data": button.id})
        if buttons:
            keyboard.append(buttons)
    return keyboard


def _keyboard(buttons: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """The keyboard for PTB's typed methods (media, the desk's cards)."""
    return _markup(_keyboard_rows(buttons))


def _markup(rows: KeyboardRows) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    button["text"], url=button.get("url"), callback_data=button.get("callback_data")
                )
                for button in row
            ]
            for row in rows
        ]
    )


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _visible_len(markup_text: str) -> int:
    """An upper bound of what Telegram counts (UTF-16 units after entity parsing): the plain
    rendering writes links out in full, so it is never shorter than the HTML's visible text."""
    return _utf16_len(render_plain(markup_text))


def split_for_telegram(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` (content markup) in parts whose rendered, visible length fits ``limit``."""
    parts: list[str] = []
    for part in split_message(text, limit):
        budget = limit
        pieces = [part]
        while any(_visible_len(p) > limit for p in pieces):
            budget = max(16, budget - max(64, budget // 8))
            pieces = split_message(part, budget)
        parts.extend(pieces)
    return parts


_T = TypeVar("_T")


async def _call(step: Callable[[], Awaitable[_T]]) -> _T:
    """Run one Bot API request, mapping errors to what the outbox understands."""
    try:
        return await step()
    except RetryAfter as exc:
        raise RetryLater(_seconds(exc.retry_after), "telegram flood control (429)") from exc
    except Forbidden as exc:
        raise RecipientGone(exc.message) from exc
    except ChatMigrated as exc:
        raise PermanentFailure(f"group migrated to supergroup {exc.new_chat_id}") from exc
    except BadRequest as exc:
        text = exc.message.lower()
        if "thread not found" in text or "topic_deleted" in text:
            raise ThreadGone(exc.message) from exc
        raise PermanentFailure(exc.message) from exc
    except InvalidToken as exc:
        # A configuration problem, not the message's: keep it and try again later.
        raise RetryLater(60.0, "telegram rejected the bot token") from exc
    except TimedOut as exc:
        raise Unavailable(1.0, "telegram request timed out") from exc
    except NetworkError as exc:  # connection errors and 5xx
        raise Unavailable(1.0, f"telegram unavailable: {exc.message}") from exc
    except TelegramError as exc:
        raise PermanentFailure(exc.message) from exc


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


# --------------------------------------------------------------------------------------------
# The adapter: PTB application, polling or webhook, commands


CommandDescriptions = Callable[[str], Any]


def _command_pairs(described: Any) -> list[tuple[str, str]]:
    """Accept what ``bot.i18n.command_descriptions(lang)`` may return: a mapping, pairs, or
    objects with ``command``/``description``."""
    if isinstance(described, Mapping):
        items: Iterable[Any] = described.items()
    else:
        items = described
    pairs: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, tuple | list):
            pairs.append((str(item[0]).lstrip("/"), str(item[1])))
        else:
            pairs.append((str(item.command).lstrip("/"), str(item.description)))
    return pairs


def _default_command_descriptions() -> CommandDescriptions:
    from bot.i18n import command_descriptions

    return command_descriptions


class HeldBack(Exception):
    """Not processed: an earlier update of the same chat failed and must go first."""

    def __init__(self, update_id: int) -> None:
        super().__init__(f"update {update_id} held back behind an earlier failed one")


def _is_transient(exc: BaseException) -> bool:
    """Failures that say "the database/network is down", not "this update is bad"."""
    if isinstance(exc, OSError | TimeoutError | ConnectionError):
        return True
    for cls in type(exc).__mro__:
        if cls.__module__.startswith("sqlalchemy") and cls.__name__ in {
            "OperationalError",
            "InterfaceError",
            "DisconnectionError",
            "TimeoutError",
        }:
            return True
    return False


class TelegramAdapter:
    """Telegram end to end: the PTB application, update intake (polling or webhook), the
    sender, the command menu.

    Lifecycle: :meth:`initialize` (getMe, command menu: :attr:`sender` works from then on, so
    the outbox can start delivering what waited from before a restart) → set :attr:`sink`
    (the engine) → :meth:`start` (dispatching, then the webhook or polling) → :meth:`stop`
    (no more intake; updates in flight finish) → :meth:`close` (the sender's connections).
    ``routes()`` gives the webhook route for our HTTP server (pluggable, like every adapter's).
    """

    platform = PLATFORM

    def __init__(
        self,
        settings: Settings,
        sink: EventSink | None = None,
        *,
        command_descriptions: CommandDescriptions | None = None,
        max_running: int = _MAX_RUNNING_UPDATES,
        connection_pool_size: int = 32,
        failure_backoff: float = 0.5,
    ) -> None:
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self._settings = settings
        self.sink = sink
        self.failure_backoff = failure_backoff  # first wait after a failed batch (doubles)
        self._command_descriptions = command_descriptions or _default_command_descriptions()
        self._consultant_chat_id = settings.consultant_chat_id
        self._webhook_secret = settings.webhook_secret() or ""
        #: Poison updates (unparsable, or failing POISON_ATTEMPTS times); its ``db`` is set by
        #: the composition root.
        self.poison = PoisonGuard(PLATFORM.value, attempts=settings.poison_attempts)
        self.use_webhook = bool(settings.public_url)

        root = settings.telegram_api_url.rstrip("/")
        # Kept to close them even when getMe never succeeded (PTB closes them only after it).
        self._requests = (
            AiohttpRequest(connection_pool_size=connection_pool_size),
            AiohttpRequest(connection_pool_size=2, read_timeout=_LONG_POLL_SECONDS + 10.0),
        )
        self.processor = ChatOrderedUpdateProcessor(max_running, on_done=self._on_processed)
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
            .request(self._requests[0])
            .get_updates_request(self._requests[1])
            .updater(None)
            .concurrent_updates(self.processor)
            .build()
        )
        self.application.add_handler(TypeHandler(Update, self._handle_update))
        self.application.add_error_handler(self._on_error)
        self.sender = TelegramSender(
            self.application.bot, messages_per_second=settings.telegram_messages_per_second
        )
        self.sender.ready = False  # until initialize() (getMe) succeeded

        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._outcomes: dict[int, BaseException] = {}
        self._held_chats: dict[Hashable, tuple[int, float]] = {}
        self._poller: TelegramPoller | None = None
        #: Set by the composition root: the poller then runs as its supervised worker.
        self.supervisor: Supervisor | None = None
        self._accepting = False
        self._initialized = False
        self._started = False

    @property
    def bot(self) -> PtbBot:
        return self.application.bot

    # ------------------------------------------------------------ lifecycle

    async def initialize(self) -> None:
        """Check the token (getMe) and publish the command menu; the sender works after this."""
        await self.application.initialize()
        self._initialized = True
        self.sender.ready = True
        log.info("telegram bot @%s ready", self.bot.username)
        await self.set_commands()

    async def start(self) -> None:
        """Start dispatching, then receiving updates: register the webhook, or start polling."""
        if self.sink is None:
            raise RuntimeError("TelegramAdapter.sink (the engine) must be set before start()")
        if not self._initialized:
            await self.initialize()
        if not self._started:  # a retried start (the Bot API failed after this) skips it
            await self.application.start()
            self._started = True
        if self.use_webhook:
            url = f"{(self._settings.public_url or '').rstrip('/')}{WEBHOOK_PATH}"
            await self.bot.set_webhook(
                url=url,
                secret_token=self._webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
                max_connections=40,
            )
            self._accepting = True
            log.info("telegram: receiving updates by webhook at %s", url)
        else:
            log.info("telegram: receiving updates by polling")
            self._accepting = True
            await self.bot.delete_webhook(drop_pending_updates=False)
            self._poller = TelegramPoller(self)
            self._poller.start(self.supervisor)

    async def stop(self) -> None:
        """Stop taking updates and let the ones in flight finish (the sender still works,
        so the outbox can drain; :meth:`close` ends that)."""
        self._accepting = False
        if self._poller is not None:
            await self._poller.stop()
            self._poller = None
        if self._started:
            self._started = False
            await self.application.stop()  # waits for the updates in flight

    async def close(self) -> None:
        """Release PTB's HTTP connections (after :meth:`stop`, once nothing is sent any more)."""
        await self.stop()
        if self._initialized:
            self._initialized = False
            await self.application.shutdown()
        for request in self._requests:  # idempotent; also when getMe never succeeded
            await request.shutdown()

    # ------------------------------------------------------------ command menu

    async def set_commands(self) -> None:
        describe = self._command_descriptions
        if describe is None:
            log.warning("bot.i18n.command_descriptions is missing: command menu not set")
            return
        try:
            for lang in COMMAND_LANGUAGES:
                commands = [BotCommand(c, d) for c, d in _command_pairs(describe(lang))]
                await self.bot.set_my_commands(
                    commands, scope=BotCommandScopeDefault(), language_code=lang
                )
            default = [
                BotCommand(c, d) for c, d in _command_pairs(describe(DEFAULT_COMMAND_LANGUAGE))
            ]
            await self.bot.set_my_commands(default, scope=BotCommandScopeDefault())
        except TelegramError as exc:
            log.warning("could not set the command menu: %s", exc)

    # ------------------------------------------------------------ intake

    async def submit(self, update: Update) -> None:
        """Queue ``update`` for processing and wait until the engine has committed it.

        Raises what processing raised (the update must not be acknowledged then)."""
        metrics.UPDATES_RECEIVED.labels(PLATFORM.value).inc()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(update.update_id, []).append(future)
        try:
            await self.application.update_queue.put(update)
            await future
        finally:
            waiters = self._waiters.get(update.update_id)
            if waiters is not None:
                with contextlib.suppress(ValueError):
                    waiters.remove(future)
                if not waiters:
                    del self._waiters[update.update_id]

    async def _handle_update(self, update: Update, context: Any) -> None:
        """The one PTB handler: translate, hand to the engine, answer button spinners."""
        chat = chat_key_of(update)
        if chat is not None and self._is_held_back(chat, update.update_id):
            self._outcomes[update.update_id] = HeldBack(update.update_id)
            return
        try:
            event = update_to_event(
                update,
                bot_username=self.bot.username if self._initialized else None,
                consultant_chat_id=self._consultant_chat_id,
            )
        except Exception as exc:
            # A bug in translation: retrying cannot help; set aside, and acknowledged.
            metrics.UPDATES_FAILED.labels(PLATFORM.value).inc()
            await self.poison.set_aside(
                str(update.update_id), update_type_of(update), exc, reason="untranslatable"
            )
            if chat is not None:
                self._release_chat(chat, update.update_id)
            return
        if event is None:
            log.debug("telegram update %s ignored (not for us)", update.update_id)
        else:
            log.debug("telegram update %s: %s event", update.update_id, event.kind.value)
            assert self.sink is not None
            try:
                await self.sink.process(event)
            except Exception as exc:
                metrics.UPDATES_FAILED.labels(PLATFORM.value).inc()
                self._outcomes[update.update_id] = exc
                if chat is not None:
                    self._held_chats.setdefault(chat, (update.update_id, time.monotonic()))
                return
        if chat is not None:
            self._release_chat(chat, update.update_id)
        if update.callback_query is not None:
            await self._answer_callback(update.callback_query)

    async def _answer_callback(self, query: CallbackQuery) -> None:
        """Stop the button's spinner. Best effort: an old query cannot be answered anyway."""
        try:
            await query.answer()
        except TelegramError as exc:
            log.debug("answerCallbackQuery failed: %s", exc)

    def _on_processed(self, update: object) -> None:
        if not isinstance(update, Update):
            return
        error = self._outcomes.pop(update.update_id, None)
        for future in self._waiters.get(update.update_id, ()):
            if not future.done():
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)

    async def _on_error(self, update: object, context: Any) -> None:
        log.error("error while handling a telegram update", exc_info=context.error)

    def _is_held_back(self, chat: Hashable, update_id: int) -> bool:
        """An earlier update of this chat failed and waits for its redelivery: later ones must
        not overtake it (they are redelivered after it)."""
        held = self._held_chats.get(chat)
        if held is None:
            return False
        failed_id, since = held
        if time.monotonic() - since > _HOLD_BACK_SECONDS:
            del self._held_chats[chat]  # its redelivery never came (Telegram gave up)
            return False
        return update_id > failed_id

    def _release_chat(self, chat: Hashable, update_id: int) -> None:
        held = self._held_chats.get(chat)
        if held is not None and held[0] == update_id:
            del self._held_chats[chat]

    async def record_attempt(self, update: Update, error: BaseException) -> bool:
        """Count a failed attempt; ``True`` while the update should be retried, ``False``
        once it was set aside as poison (``POISON_ATTEMPTS`` failures that were not outages)."""
        if isinstance(error, HeldBack):
            return True
        if _is_transient(error):
            DATABASE.failed(error)  # logs the outage once (a network error: nothing)
            return True
        update_id = update.update_id
        attempts = self.poison.failed(str(update_id), error)
        if attempts is None:
            log.warning(
                "telegram update %s failed (%s); it will be tried again",
                update_id,
                describe(error),
            )
            return True
        chat = chat_key_of(update)
        if chat is not None:
            self._release_chat(chat, update_id)
        await self.poison.set_aside(
            str(update_id), update_type_of(update), error, reason="failing", attempts=attempts
        )
        return False

    def forget_attempts(self, update_id: int) -> None:
        self.poison.succeeded(str(update_id))

    # ------------------------------------------------------------ webhook

    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes this adapter contributes (the webhook, when configured)."""
        return [web.post(WEBHOOK_PATH, self.handle_webhook)] if self.use_webhook else []

    async def handle_webhook(self, request: web.Request) -> web.StreamResponse:
        """Telegram's POST: 403 on a wrong secret; 200 only once the update is committed."""
        secret = request.headers.get(SECRET_HEADER, "")
        if not self._webhook_secret or not hmac.compare_digest(
            secret.encode(), self._webhook_secret.encode()
        ):
            metrics.WEBHOOKS_REJECTED.labels(PLATFORM.value, "secret").inc()
            return web.Response(status=403, text="forbidden")
        if not self._accepting:
            return web.Response(status=503, text="not accepting updates")
        try:
            data = await request.json(loads=json.loads)
        except web.HTTPRequestEntityTooLarge:
            metrics.WEBHOOKS_REJECTED.labels(PLATFORM.value, "too_large").inc()
            return web.Response(status=413, text="too large")
        except Exception:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            metrics.WEBHOOKS_REJECTED.labels(PLATFORM.value, "malformed").inc()
            return web.Response(status=400, text="bad update")
        parsed = parse_update(data, self.bot)
        if isinstance(parsed, Unparsable):
            # Telegram would send it again and again: record it, then say it arrived.
            metrics.UPDATES_RECEIVED.labels(PLATFORM.value).inc()
            await self.poison.set_aside(
                str(parsed.update_id), parsed.update_type, parsed.error, reason="unparsable"
            )
            return web.Response(status=200)
        update = parsed
        try:
            await asyncio.wait_for(self.submit(update), _WEBHOOK_PROCESS_TIMEOUT)
        except TimeoutError:
            return web.Response(status=503, text="processing timed out")
        except Exception as exc:
            if await self.record_attempt(update, exc):
                return web.Response(status=500, text="processing failed")
            return web.Response(status=200)  # set aside as poison: Telegram may stop
        self.forget_attempts(update.update_id)
        return web.Response(status=200)


class TelegramPoller:
    """getUpdates that confirms an update only after the engine has committed it.

    Each batch is processed completely (chats concurrently, each chat in order) before the next
    getUpdates, whose ``offset`` confirms it. An update whose processing failed is not
    confirmed: the next call starts from it (those after it that succeeded come back too and
    are dropped by the engine as duplicates), after a backoff.
    """

    def __init__(self, adapter: TelegramAdapter) -> None:
        self._adapter = adapter
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
                    self._adapter.bot.do_api_request(
                        "getUpdates",
                        api_kwargs={
                            "offset": self.offset,
                            "timeout": 0,
                            "limit": 1,
                            "allowed_updates": list(ALLOWED_UPDATES),
                        },
                    ),
                    _CONFIRM_TIMEOUT,
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
                backoff = _seconds(exc.retry_after)
                continue
            except Conflict as exc:
                log.warning("getUpdates conflict (another instance or a webhook?): %s", exc)
                backoff = min(_RETRY_BACKOFF_MAX, max(1.0, backoff * 2))
                continue
            except (NetworkError, TelegramError) as exc:
                if not self.unreachable:
                    log.warning("getUpdates failed: %s; retrying with backoff", exc)
                self.unreachable = True
                if self.worker is not None:
                    self.worker.down(f"Bot API unreachable: {type(exc).__name__}")
                # Capped low: a failed getUpdates costs nothing, and the bot resumes within
                # seconds of the Bot API coming back.
                backoff = min(_OUTAGE_BACKOFF_MAX, max(0.5, backoff * 2))
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
                await self._adapter.poison.set_aside(
                    str(item.update_id), item.update_type, item.error, reason="unparsable"
                )
            backoff = await self._process_batch(good, backoff, fetched=updates)

    async def _fetch(self) -> list[Update | Unparsable]:
        """getUpdates, raw: each update is parsed on its own (:func:`parse_update`), so one
        the library cannot parse never blocks the others (``Bot.get_updates`` parses the
        batch at once and would raise for all of them)."""
        bot = self._adapter.bot
        result = await bot.do_api_request(
            "getUpdates",
            api_kwargs={
                "offset": self.offset or None,
                "timeout": _LONG_POLL_SECONDS,
                "allowed_updates": list(ALLOWED_UPDATES),
            },
            read_timeout=_LONG_POLL_SECONDS + 10.0,
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
            *(self._adapter.submit(update) for update in updates), return_exceptions=True
        )
        outage = False
        for update, result in zip(updates, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                if await self._adapter.record_attempt(update, result):
                    outage = _is_transient(result)
                    self.offset = update.update_id
                    first = self._adapter.failure_backoff
                    cap = _OUTAGE_BACKOFF_MAX if outage else _RETRY_BACKOFF_MAX
                    return min(cap, max(first, backoff * 2))
            else:
                self._adapter.forget_attempts(update.update_id)
            self.offset = update.update_id + 1
        if updates:
            DATABASE.ok()
        last = max((item.update_id for item in fetched), default=-1)
        self.offset = max(self.offset, last + 1)
        return 0.0
