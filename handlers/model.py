"""The platform-neutral conversation model: what adapters translate to and from.

Handlers see only these types, never a python-telegram-bot ``Update`` or a Viber payload.
Every platform quirk (message length, button encoding, markup, media upload) is the
adapter's job; a handler that needs ``if platform == ...`` means a capability is missing here.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import unicodedata
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


# NUL and the other C0/C1 control characters but tab, newline and carriage return; and any
# UTF-16 surrogate (in a str, only a lone one: JSON's "\ud83d" without its pair).
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """What a person typed, safe to store and to match: NUL (PostgreSQL refuses it) and other
    control characters removed, a lone surrogate (no encoder accepts it) replaced by U+FFFD,
    and the text in Unicode NFC (one code point for "й", however the keyboard sent it).
    Zero-width characters are the matcher's business (``faq.text``) and stay."""
    if _UNWANTED.search(text):
        text = _UNWANTED.sub(lambda m: "\ufffd" if m.group(0) >= "\ud800" else "", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def _clean(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


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

    def cleaned(self) -> IncomingEvent:
        """This event with every text a person controls passed through :func:`clean_text`
        (the engine does it to every event, whichever adapter built it)."""
        media = self.media
        if media is not None:
            media = dataclasses.replace(
                media,
                caption=_clean(media.caption),
                file_name=_clean(media.file_name),
                mime_type=_clean(media.mime_type),
            )
        sender = dataclasses.replace(self.sender, display_name=_clean(self.sender.display_name))
        cleaned = dataclasses.replace(
            self,
            text=clean_text(self.text),
            command=_clean(self.command),
            args=tuple(clean_text(arg) for arg in self.args),
            payload=_clean(self.payload),
            media=media,
            sender=sender,
        )
        return self if cleaned == self else cleaned


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
