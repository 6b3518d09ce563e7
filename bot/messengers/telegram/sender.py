"""The outgoing side of Telegram (:class:`bot.ports.MessageSender`): renders the content markup
to Telegram HTML, splits at 4096 characters, attaches inline keyboards, relays media by
``file_id``, declares the rate limits, and maps Bot API errors onto :mod:`bot.ports` errors.
It does no retrying of its own (PTB retries nothing without a rate limiter, and we configure
none): the outbox owns retries."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot as PtbBot
from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.warnings import PTBUserWarning

from bot.markup import render_plain, render_telegram_html
from bot.messengers.telegram.errors import call_api
from bot.messengers.telegram.protocol import CAPTION_LIMIT, PLATFORM, TEXT_LIMIT
from bot.messengers.telegram.render import (
    KeyboardRows,
    chat_id_of,
    inline_markup,
    keyboard_rows,
    media_link_html,
    split_for_telegram,
    visible_len,
)
from bot.ports import Delivered, PermanentFailure, RateLimit
from handlers.model import CAPTIONED_MEDIA, Address, Media, MediaKind, Reply

log = logging.getLogger(__name__)

# The text path calls sendMessage through do_api_request on purpose (see _text_step); PTB's
# nudge towards Bot.send_message would otherwise be logged on every message.
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.sendMessage' instead", category=PTBUserWarning
)

# Outbound


class TelegramSender:
    """The outgoing side of Telegram (:class:`bot.ports.MessageSender`)."""

    platform = PLATFORM

    def __init__(self, bot: PtbBot, *, messages_per_second: int = 30) -> None:
        self._bot = bot
        self.messages_per_second = messages_per_second
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
        chat_id = chat_id_of(reply.address)
        rows = keyboard_rows(reply.buttons)
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
                and visible_len(text_parts[0]) <= CAPTION_LIMIT
            ):
                caption, text_parts = text_parts[0], []
            media_markup = inline_markup(rows) if not text_parts else None
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
            message_id = await call_api(steps[index])
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
            text = media_link_html(media, rendered.get("caption"))
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
