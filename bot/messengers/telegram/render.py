"""Rendering and splitting: content markup → Telegram HTML in parts that fit, our buttons →
inline keyboards (Bot API JSON rows, or PTB objects for the typed methods), media Telegram would
not take → a link. Shared by the sender and the desk's forum topics."""

from __future__ import annotations

import html
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from bot.markup import render_plain, split_message
from bot.messengers.telegram.protocol import CALLBACK_DATA_LIMIT, TEXT_LIMIT
from bot.ports import PermanentFailure
from handlers.model import Address, Button, Media, MediaKind


def media_link_html(media: Media, caption_html: str | None) -> str:
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


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def chat_id_of(address: Address) -> int | str:
    try:
        return int(address.chat_id)
    except ValueError:
        return address.chat_id  # "@channelname"


KeyboardRows = list[list[dict[str, str]]]


def keyboard_rows(rows: Sequence[Sequence[Button]]) -> KeyboardRows:
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


def keyboard(buttons: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """The keyboard for PTB's typed methods (media, the desk's cards)."""
    return inline_markup(keyboard_rows(buttons))


def inline_markup(rows: KeyboardRows) -> InlineKeyboardMarkup | None:
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


def visible_len(markup_text: str) -> int:
    """An upper bound of what Telegram counts (UTF-16 units after entity parsing): the plain
    rendering writes links out in full, so it is never shorter than the HTML's visible text."""
    return _utf16_len(render_plain(markup_text))


def split_for_telegram(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` (content markup) in parts whose rendered, visible length fits ``limit``."""
    parts: list[str] = []
    for part in split_message(text, limit):
        budget = limit
        pieces = [part]
        while any(visible_len(p) > limit for p in pieces):
            budget = max(16, budget - max(64, budget // 8))
            pieces = split_message(part, budget)
        parts.extend(pieces)
    return parts
