"""A :class:`~handlers.model.Reply` → the ``send_message`` requests that deliver it on Viber.

- Text: the content markup rendered as plain text (:func:`bot.markup.render_plain`: bold
  markers dropped, links written out), split at 7,000 characters on paragraph and sentence
  boundaries, and further where a part plus its keyboard would exceed the 30 KB request limit.
- Buttons: a Viber keyboard (six columns; one button per row fills it, two take three columns
  each…), our opaque button ids as ``ActionBody`` behind a marker (:mod:`.protocol`),
  ``Silent`` so the id is not echoed into the chat, link buttons as ``open-url``. Every message
  carries the bottom keyboard (menu, language, consultant, forget me, in the person's language)
  because Viber shows the last keyboard it received and a message without one hides it. A
  keyboard too large for the request limit loses its last buttons (never the bottom ones).
- Media (the consultant desk relays them): a picture by URL (caption if short), a location,
  a contact, a Viber sticker; any other file by URL becomes a link (a Viber file message needs
  the size, which we do not know). A consultant's Telegram photo or document goes out as a
  ``picture`` or ``file`` message when the sender has a signed link for it
  (:mod:`.media`); any other reference Viber cannot fetch (a Telegram ``file_id``)
  becomes a short note in the person's language instead of a silent drop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.markup import render_plain, split_message
from bot.messengers.viber.media import MediaLink
from bot.messengers.viber.protocol import (
    BASIC_API_VERSION,
    BUTTON_LABEL_LIMIT,
    CAPTION_LIMIT,
    KEYBOARD_COLUMNS,
    MIN_API_VERSION,
    REQUEST_LIMIT,
    SENDER_NAME,
    TEXT_LIMIT,
    button_body,
    command_body,
    dumps,
)
from handlers import ids
from handlers.model import Button, Media, MediaKind, Reply

log = logging.getLogger(__name__)

Payload = dict[str, Any]

#: The most of a request a keyboard may take; the rest is for the text.
KEYBOARD_BUDGET = REQUEST_LIMIT // 2
_NAV_COLOR = "#EDEDED"


@dataclass(frozen=True, slots=True)
class NavButton:
    """One button of the bottom keyboard: a label in the person's language and a command."""

    label: str
    command: str


@dataclass(frozen=True, slots=True)
class Style:
    """API level and button options; :meth:`basic` is for clients older than our level."""

    min_api_version: int = MIN_API_VERSION
    silent: bool = True

    @classmethod
    def basic(cls) -> Style:
        return cls(min_api_version=BASIC_API_VERSION, silent=False)


def downgrade(payload: Payload) -> Payload:
    """The same message for an old client: lowest API level, no ``Silent`` buttons."""
    copy = dict(payload)
    copy["min_api_version"] = BASIC_API_VERSION
    keyboard = copy.get("keyboard")
    if isinstance(keyboard, dict):
        buttons = [
            {k: v for k, v in button.items() if k != "Silent"} for button in keyboard["Buttons"]
        ]
        copy["keyboard"] = {**keyboard, "Buttons": buttons}
    return copy


def size(payload: Payload) -> int:
    """Bytes of the request body :func:`.protocol.dumps` makes of ``payload``."""
    return len(dumps(payload))


# -- keyboards --------------------------------------------------------------------------------


def _lines(row: Sequence[Any]) -> list[list[Any]]:
    """One of our rows as keyboard lines: 1, 2, 3 or 6 buttons share a line evenly; other
    counts are broken into lines of three (four as two and two)."""
    n = len(row)
    if n == 0:
        return []
    if KEYBOARD_COLUMNS % n == 0:
        return [list(row)]
    if n == 4:
        return [list(row[:2]), list(row[2:])]
    lines = [list(row[i : i + 3]) for i in range(0, n, 3)]
    if len(lines[-1]) == 1 and len(lines) > 1:  # ... 3 + 1 → ... 2 + 2
        lines[-2:] = [lines[-2][:2], [lines[-2][2], lines[-1][0]]]
    return lines


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= BUTTON_LABEL_LIMIT else text[: BUTTON_LABEL_LIMIT - 1] + "…"


def _button(button: Button, columns: int, style: Style) -> Payload:
    if button.url:
        return {
            "Columns": columns,
            "Rows": 1,
            "ActionType": "open-url",
            "ActionBody": button.url,
            "Text": _label(button.label),
            "TextSize": "regular",
        }
    if not button.id:
        raise ValueError(f"button {button.label!r} has neither an id nor a url")
    return _reply_button(_label(button.label), button_body(button.id), columns, style)


def _reply_button(label: str, body: str, columns: int, style: Style) -> Payload:
    data: Payload = {
        "Columns": columns,
        "Rows": 1,
        "ActionType": "reply",
        "ActionBody": body,
        "Text": label,
        "TextSize": "regular",
    }
    if style.silent:
        data["Silent"] = True
    return data


def _nav_buttons(nav: Sequence[NavButton], style: Style) -> list[Payload]:
    buttons: list[Payload] = []
    for line in _lines(nav):
        columns = KEYBOARD_COLUMNS // len(line)
        for item in line:
            button = _reply_button(_label(item.label), command_body(item.command), columns, style)
            button["TextSize"] = "small"
            button["BgColor"] = _NAV_COLOR
            buttons.append(button)
    return buttons


#: Bottom-keyboard commands and the button ids (or id prefixes) that already do the same.
_SAME_AS: dict[str, tuple[str, ...]] = {
    "menu": (ids.MENU,),
    "consultant": (ids.HANDOFF + ":",),
    "language": (ids.LANG + ":",),
    "forget": (ids.FORGET + ":",),
}


def _offered(command: str, button_ids: set[str]) -> bool:
    return any(
        button_id == same or (same.endswith(":") and button_id.startswith(same))
        for same in _SAME_AS.get(command, ())
        for button_id in button_ids
    )


def build_keyboard(
    rows: Sequence[Sequence[Button]], nav: Sequence[NavButton], style: Style = Style()
) -> Payload | None:
    """Our button rows, then the bottom keyboard; ``None`` when there is nothing to show.

    A bottom-keyboard command the reply already offers (its "🏠 Menu" or "Talk to a
    consultant" button, the language buttons…) is not repeated. When the keyboard would take
    more than :data:`KEYBOARD_BUDGET` bytes, the reply's last buttons are dropped (logged):
    the request limit is a hard one.
    """
    offered = {button.id for row in rows for button in row if button.id}
    nav = [item for item in nav if not _offered(item.command, offered)]
    flat = [[button for button in row if button.url or button.id] for row in rows]
    flat = [row for row in flat if row]
    total = sum(len(row) for row in flat)
    keep = total
    while True:
        kept_rows, left = [], keep
        for row in flat:
            if left <= 0:
                break
            kept_rows.append(row[:left])
            left -= len(row)
        buttons: list[Payload] = []
        for row in kept_rows:
            for line in _lines(row):
                columns = KEYBOARD_COLUMNS // len(line)
                buttons.extend(_button(button, columns, style) for button in line)
        buttons.extend(_nav_buttons(nav, style))
        if not buttons:
            return None
        keyboard: Payload = {"Type": "keyboard", "DefaultHeight": False, "Buttons": buttons}
        if size(keyboard) <= KEYBOARD_BUDGET or keep == 0:
            if keep < total:
                log.warning("viber keyboard too large: kept %d of %d buttons", keep, total)
            return keyboard
        keep -= max(1, (keep + 9) // 10)


#: Viber's limit on a file message's ``file_name``.
FILE_NAME_LIMIT = 256


# -- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notes:
    """Texts the renderer may need, already in the person's language."""

    file_not_shown: str = "📎 A file was sent here that Viber cannot show."


def render_reply(
    reply: Reply,
    nav: Sequence[NavButton] = (),
    *,
    notes: Notes = Notes(),
    style: Style = Style(),
    link: MediaLink | None = None,
) -> list[Payload]:
    """The ``send_message`` bodies delivering ``reply``, in order, each within the limits.

    The keyboard rides on the last message (a keyboard on an earlier part would be replaced
    a moment later anyway). ``link``: where Viber can fetch the reply's Telegram file.
    """
    base: Payload = {
        "receiver": reply.address.chat_id,
        "min_api_version": style.min_api_version,
        "sender": {"name": SENDER_NAME},
    }
    keyboard = build_keyboard(reply.buttons, nav, style)
    text = render_plain(reply.text).strip()
    messages: list[Payload] = []
    if reply.media is not None:
        media_message: Payload | None
        if link is not None:
            media_message, text = _linked_message(link, text)
        else:
            media_message, text = _media_message(reply.media, text, notes)
        if media_message is not None:
            messages.append({**base, **media_message})
    parts = split_message(text, TEXT_LIMIT) if text else []
    if not parts and not messages:
        raise ValueError("empty reply: no text and no media")
    if not parts:
        return _with_keyboard(messages, keyboard)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        messages.extend(_fit_text(base, part, keyboard if last else None))
    return messages


def _with_keyboard(messages: list[Payload], keyboard: Payload | None) -> list[Payload]:
    if keyboard is not None:
        candidate = {**messages[-1], "keyboard": keyboard}
        if size(candidate) <= REQUEST_LIMIT:
            messages[-1] = candidate
    return messages


def _fit_text(base: Payload, text: str, keyboard: Payload | None) -> list[Payload]:
    """``text`` (≤ 7,000 characters) as one message, or several when the request would pass
    30 KB (emoji and Cyrillic take 2-4 bytes a character); the keyboard rides on the last."""

    def message(piece: str, with_keyboard: bool) -> Payload:
        payload = {**base, "type": "text", "text": piece}
        if with_keyboard and keyboard is not None:
            payload["keyboard"] = keyboard
        return payload

    budget = len(text)
    pieces = [text]
    while True:
        built = [message(p, i == len(pieces) - 1) for i, p in enumerate(pieces)]
        if all(size(p) <= REQUEST_LIMIT for p in built):
            return built
        budget = max(1, budget * 3 // 4)
        pieces = split_message(text, budget)


def _is_url(ref: str | None) -> bool:
    return bool(ref) and ref.startswith(("https://", "http://"))  # type: ignore[union-attr]


def _linked_message(link: MediaLink, text: str) -> tuple[Payload, str]:
    """A consultant's Telegram file through our signed link: a picture (the text as its
    caption when short) or a file (which has no caption: the text follows)."""
    if link.picture:
        if text and len(text) <= CAPTION_LIMIT:
            return {"type": "picture", "media": link.url, "text": text}, ""
        return {"type": "picture", "media": link.url, "text": ""}, text
    name = link.file_name[:FILE_NAME_LIMIT]
    return {"type": "file", "media": link.url, "size": link.size, "file_name": name}, text


def _media_message(media: Media, text: str, notes: Notes) -> tuple[Payload | None, str]:
    """The media part of a reply (or ``None``) and the text still to send after it."""
    ref = media.ref
    kind = media.kind
    if kind is MediaKind.PHOTO and _is_url(ref):
        if text and len(text) <= CAPTION_LIMIT:
            return {"type": "picture", "media": ref, "text": text}, ""
        return {"type": "picture", "media": ref, "text": ""}, text
    if kind is MediaKind.LOCATION and ref:
        lat, _, lon = ref.partition(",")
        try:
            location = {"lat": float(lat), "lon": float(lon)}
        except ValueError:
            location = None
        if location is not None:
            return {"type": "location", "location": location}, text
    if kind is MediaKind.CONTACT and ref:
        contact = {"name": (media.caption or "—")[:28], "phone_number": ref}
        return {"type": "contact", "contact": contact}, text
    if kind is MediaKind.STICKER and ref and ref.isdigit():
        return {"type": "sticker", "sticker_id": int(ref)}, text
    if _is_url(ref):
        # A file message needs its size in bytes, which a relayed URL does not tell: a link.
        label = media.file_name or media.caption or ""
        link = f"📎 {label}: {ref}" if label else f"📎 {ref}"
        return None, f"{link}\n\n{text}" if text else link
    note = notes.file_not_shown
    if media.caption and media.caption not in text:
        note = f"{note}\n{render_plain(media.caption)}"
    return None, f"{note}\n\n{text}" if text else note
