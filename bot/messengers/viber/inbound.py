"""Viber callbacks → :class:`~handlers.model.IncomingEvent`.

A callback is JSON like ``{"event": "message", "timestamp": …, "message_token": …,
"sender": {"id", "name", "avatar", "language", "country", "api_version"}, "message": {"type",
"text", "media", "location", "contact", "tracking_data", …}}``. ``message_token`` is a 64-bit
integer: Python's :mod:`json` parses it exactly (no float on the way), and we keep it as text.

Translation:

- ``message`` text that is one of our ActionBody ids (``~lang:uk``, ``~/menu``; see
  :mod:`.protocol`) → BUTTON / COMMAND; a typed command word ("меню", "/forget") →
  COMMAND; any other text → TEXT; ``url`` → TEXT (the link); pictures, videos, files,
  stickers, locations, contacts → MEDIA (``ref`` is the media URL, the sticker id,
  ``"lat,lon"``, the phone number);
- ``subscribed`` → STARTED; ``unsubscribed`` → UNSUBSCRIBED;
- ``conversation_started``, ``webhook``, ``delivered``/``seen``/``failed`` are answered by the
  webhook itself (:mod:`.webhook`), never turned into events.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.messengers.viber.protocol import parse_action_body, typed_command
from handlers.model import (
    Address,
    EventKind,
    IncomingEvent,
    Media,
    MediaKind,
    Platform,
    Sender,
)

PLATFORM = Platform.VIBER
_DIGITS = re.compile(r"[0-9]{1,20}")


class MalformedCallback(ValueError):
    """The body is not a Viber callback we can read (answered 400)."""


@dataclass(frozen=True, slots=True)
class Callback:
    """A parsed, not yet interpreted callback."""

    event: str
    data: dict[str, Any]
    message_token: str | None
    timestamp: int | None

    @property
    def user_id(self) -> str | None:
        """Whose callback this is: ``sender.id`` (message), ``user.id`` (conversation_started,
        subscribed) or ``user_id`` (unsubscribed, delivered, seen, failed)."""
        for key in ("sender", "user"):
            part = self.data.get(key)
            if isinstance(part, dict) and isinstance(part.get("id"), str) and part["id"]:
                return str(part["id"])
        user_id = self.data.get("user_id")
        return user_id if isinstance(user_id, str) and user_id else None

    @property
    def dedupe_key(self) -> str:
        if self.message_token is not None:
            return self.message_token
        return f"{self.event}:{self.user_id}:{self.timestamp}"


def parse_callback(body: bytes) -> Callback:
    """Decode the raw body (exact 64-bit integers) or raise :class:`MalformedCallback`."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedCallback("not JSON") from exc
    if not isinstance(data, dict):
        raise MalformedCallback("not a JSON object")
    event = data.get("event")
    if not isinstance(event, str) or not event:
        raise MalformedCallback("no event")
    return Callback(
        event=event,
        data=data,
        message_token=_token(data.get("message_token")),
        timestamp=_integer(data.get("timestamp")),
    )


def _token(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedCallback("message_token is not an integer")
    text = str(value).strip()
    if not _DIGITS.fullmatch(text):
        raise MalformedCallback("message_token is not an integer")
    return text


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def sender_of(part: Any) -> Sender:
    """``sender`` / ``user`` object → :class:`Sender` (the id is required)."""
    if not isinstance(part, dict) or not isinstance(part.get("id"), str) or not part["id"]:
        raise MalformedCallback("no sender id")
    language = part.get("language")
    name = part.get("name")
    return Sender(
        user_id=part["id"],
        language_code=language if isinstance(language, str) and language else None,
        display_name=name if isinstance(name, str) and name else None,
    )


def callback_to_event(callback: Callback) -> IncomingEvent | None:
    """The event for the engine, or ``None`` for callbacks that are not conversation."""
    data = callback.data
    if callback.event == "message":
        return _message_event(callback, sender_of(data.get("sender")))
    if callback.event == "subscribed":
        sender = sender_of(data.get("user"))
        return IncomingEvent(
            address=Address(PLATFORM, sender.user_id),
            kind=EventKind.STARTED,
            dedupe_key=callback.dedupe_key,
            sender=sender,
        )
    if callback.event == "unsubscribed":
        user_id = data.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise MalformedCallback("unsubscribed without user_id")
        return IncomingEvent(
            address=Address(PLATFORM, user_id),
            kind=EventKind.UNSUBSCRIBED,
            dedupe_key=callback.dedupe_key,
            sender=Sender(user_id=user_id),
        )
    return None


def _message_event(callback: Callback, sender: Sender) -> IncomingEvent:
    message = callback.data.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise MalformedCallback("message without a type")
    common: dict[str, Any] = {
        "address": Address(PLATFORM, sender.user_id),
        "dedupe_key": callback.dedupe_key,
        "sender": sender,
        "message_id": callback.message_token,
    }
    kind = message["type"]
    if kind == "text":
        text = _text(message.get("text"))
        action = parse_action_body(text)
        if action is not None:
            what, value = action
            if what == "button":
                return IncomingEvent(kind=EventKind.BUTTON, payload=value, **common)
            return IncomingEvent(kind=EventKind.COMMAND, command=value, text=f"/{value}", **common)
        command = typed_command(text)
        if command is not None:
            return IncomingEvent(kind=EventKind.COMMAND, command=command, text=text, **common)
        return IncomingEvent(kind=EventKind.TEXT, text=text, **common)
    if kind == "url":
        return IncomingEvent(kind=EventKind.TEXT, text=_text(message.get("media")), **common)
    return IncomingEvent(kind=EventKind.MEDIA, media=_media(kind, message), **common)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _media(kind: str, message: dict[str, Any]) -> Media:
    caption = _optional(message.get("text"))
    url = _optional(message.get("media"))
    if kind == "picture":
        return Media(MediaKind.PHOTO, url, caption, _optional(message.get("file_name")))
    if kind == "video":
        return Media(MediaKind.VIDEO, url, caption)
    if kind == "file":
        return Media(MediaKind.DOCUMENT, url, caption, _optional(message.get("file_name")))
    if kind == "sticker":
        sticker_id = message.get("sticker_id")
        ref = str(sticker_id) if isinstance(sticker_id, int | str) and sticker_id != "" else url
        return Media(MediaKind.STICKER, ref)
    if kind == "location":
        location = message.get("location")
        ref = None
        if isinstance(location, dict):
            lat, lon = location.get("lat"), location.get("lon")
            if isinstance(lat, int | float) and isinstance(lon, int | float):
                ref = f"{lat},{lon}"
        return Media(MediaKind.LOCATION, ref)
    if kind == "contact":
        contact = message.get("contact")
        if isinstance(contact, dict):
            return Media(
                MediaKind.CONTACT,
                _optional(contact.get("phone_number")),
                _optional(contact.get("name")),
            )
        return Media(MediaKind.CONTACT)
    return Media(MediaKind.OTHER, url, caption)
