"""The platform-neutral conversation model: what adapters translate to and from.

Handlers see only these types, never a python-telegram-bot ``Update`` or a Viber payload.
Every platform quirk (message length, button encoding, markup, media upload) is the
adapter's job; a handler that needs ``if platform == ...`` means a capability is missing here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Platform(enum.StrEnum):
    TELEGRAM = "telegram"
    VIBER = "viber"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class Address:
    """Who a message comes from or goes to: a person (or the desk) on one platform.

    ``chat_id`` is the platform's id as text (Telegram chat id, Viber user id).
    ``thread_id`` is a Telegram forum topic (the consultant desk); ``None`` elsewhere.
    """

    platform: Platform
    chat_id: str
    thread_id: int | None = None

    def __str__(self) -> str:
        thread = f"#{self.thread_id}" if self.thread_id is not None else ""
        return f"{self.platform.value}:{self.chat_id}{thread}"


class EventKind(enum.StrEnum):
    TEXT = "text"  # free text typed by the person
    COMMAND = "command"  # /start, /menu ... (Viber: keyboard words mapped by the adapter)
    BUTTON = "button"  # a tap on one of our buttons; ``payload`` is the button id
    MEDIA = "media"  # photo, document, voice, video, sticker, location, contact
    STARTED = "started"  # the person opened the conversation (Viber conversation_started)
    UNSUBSCRIBED = "unsubscribed"  # the person blocked/left: mark inactive, send nothing


class MediaKind(enum.StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    VOICE = "voice"
    VIDEO = "video"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACT = "contact"
    AUDIO = "audio"  # a music file (Telegram audio), relayed as such
    ANIMATION = "animation"  # a GIF/silent video (Telegram animation)
    VIDEO_NOTE = "video_note"  # a round video message (Telegram video_note)
    OTHER = "other"


CAPTIONED_MEDIA: frozenset[MediaKind] = frozenset(
    {
        MediaKind.PHOTO,
        MediaKind.DOCUMENT,
        MediaKind.VOICE,
        MediaKind.VIDEO,
        MediaKind.AUDIO,
        MediaKind.ANIMATION,
    }
)
"""Media that carry a caption; the rest (stickers, locations, contacts) travel bare."""


@dataclass(frozen=True, slots=True)
class Media:
    """A non-text message. ``ref`` is the adapter's own handle to re-send it (file_id, URL)."""

    kind: MediaKind
    ref: str | None = None
    caption: str | None = None
    file_name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """What the platform tells us about the author. Not stored unless a setting allows it."""

    user_id: str
    language_code: str | None = None  # e.g. Telegram's "uk", "ru-RU"
    display_name: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """One thing that happened in a chat, already translated from the platform.

    ``dedupe_key`` is unique per platform (Telegram ``update_id``, Viber ``message_token``):
    an event whose key was already processed is dropped, so redeliveries answer once.
    """

    address: Address
    kind: EventKind
    dedupe_key: str
    sender: Sender
    text: str = ""
    command: str | None = None  # without the slash, lower case: "start", "menu"
    args: tuple[str, ...] = ()
    payload: str | None = None  # button id for BUTTON
    media: Media | None = None
    message_id: str | None = None  # the platform's id of the message (for replies/edits)


@dataclass(frozen=True, slots=True)
class Button:
    """A button: ``id`` is short and opaque (<= 64 bytes UTF-8), never FAQ text.

    ``url`` makes it a link button instead (opens a page, no event comes back).
    """

    label: str
    id: str = ""
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to send. ``text`` uses the content's light markup (see ``faq.content``):
    **bold**, [label](https://url), "- " list lines; adapters render it per platform and
    split it where it exceeds the platform's limit.

    ``lang`` is the language the reply is written in (the person's, for a reply to a person):
    an adapter whose own parts of the message speak (Viber's bottom keyboard) uses it instead
    of looking the person up on every send. ``None``: not known (a message to the desk).
    """

    address: Address
    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()  # rows of buttons
    media: Media | None = None  # relay a photo/document (the desk); ``text`` is the caption
    silent: bool = False
    meta: dict[str, str] = field(default_factory=dict)  # e.g. {"kind": "answer"} for metrics
    lang: str | None = None

    def with_address(self, address: Address) -> Reply:
        return Reply(
            address, self.text, self.buttons, self.media, self.silent, dict(self.meta), self.lang
        )
