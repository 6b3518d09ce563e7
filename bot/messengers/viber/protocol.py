"""Viber's REST bot API on the wire: limits, status codes, the callback signature, and how our
buttons and the words people type travel as plain text.

Nothing here does I/O; the client (:mod:`.client`), the webhook
(:mod:`.webhook`) and the renderer (:mod:`.render`) share it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from handlers import ids

# -- limits -----------------------------------------------------------------------------------

#: Characters of a text message.
TEXT_LIMIT = 7_000
#: Bytes of a whole ``send_message`` request body ("30 KB"; taken as 30,000 to be safe).
REQUEST_LIMIT = 30_000
#: Characters of a picture's caption.
CAPTION_LIMIT = 768
#: Characters of the sender name shown above our messages.
SENDER_NAME_LIMIT = 28
#: The keyboard grid is six columns wide.
KEYBOARD_COLUMNS = 6
#: Characters of a button label we send (Viber truncates long labels anyway).
BUTTON_LABEL_LIMIT = 120

#: The name shown as the author of our messages.
SENDER_NAME = "Małopolska Otwarta"
assert len(SENDER_NAME) <= SENDER_NAME_LIMIT

#: API level our messages need: ``Silent`` reply buttons (the tapped button's opaque id is not
#: shown in the chat) need a recent client. Clients older than this get ``status 13``, and the
#: sender then retries once with :data:`BASIC_API_VERSION` and no ``Silent``.
MIN_API_VERSION = 7
BASIC_API_VERSION = 1

#: The optional callbacks we subscribe to (``set_webhook``'s ``event_types``); ``message`` and
#: ``webhook`` are always sent.
EVENT_TYPES = ("delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started")

SIGNATURE_HEADER = "X-Viber-Content-Signature"
AUTH_HEADER = "X-Viber-Auth-Token"

# -- status codes -----------------------------------------------------------------------------

STATUS_OK = 0
STATUS_NAMES: dict[int, str] = {
    0: "ok",
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "receiverNotSubscribed",
    7: "publicAccountBlocked",
    8: "publicAccountNotFound",
    9: "publicAccountSuspended",
    10: "webhookNotSet",
    11: "receiverNoSuitableDevice",
    12: "tooManyRequests",
    13: "apiVersionNotSupported",
    14: "incompatibleWithVersion",
    15: "publicAccountNotAuthorized",
    16: "inchatReplyMessageNotAllowed",
    17: "publicAccountIsNotInline",
    18: "noPublicChat",
    19: "cannotSendBroadcast",
    20: "broadcastNotAllowed",
}
#: The person is not (or no longer) reachable: blocked us, left Viber, never subscribed.
RECIPIENT_GONE = frozenset({5, 6})
#: Rate control breach: try again later.
TOO_MANY_REQUESTS = 12
#: The person's devices are older than our ``min_api_version``.
API_VERSION_NOT_SUPPORTED = 13


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, "generalError")


# -- the callback signature -------------------------------------------------------------------


def signature(token: str, body: bytes) -> str:
    """``X-Viber-Content-Signature``: hex HMAC-SHA256 of the raw body keyed by the auth token."""
    return hmac.new(token.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(token: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of a callback's signature; a missing header never verifies."""
    if not header:
        return False
    expected = signature(token, body).encode("ascii")
    given = header.strip().lower().encode("ascii", "replace")
    return hmac.compare_digest(expected, given)


def dumps(payload: Any) -> bytes:
    """The exact bytes we send: UTF-8, not ``\\uXXXX`` escapes (Cyrillic would triple in size
    against the 30 KB request limit), no padding."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- buttons as text --------------------------------------------------------------------------
#
# A tap on a Viber keyboard button comes back as an ordinary text message whose text is the
# button's ``ActionBody``. Ours are our opaque button ids behind a marker, so nothing a person
# types is ever taken for a button: ``~<id>`` is a button (``~lang:uk``), ``~/<command>`` one
# of the bottom keyboard's commands (``~/menu``).

BUTTON_MARK = "~"
COMMAND_MARK = "~/"


def button_body(button_id: str) -> str:
    return BUTTON_MARK + button_id


def command_body(command: str) -> str:
    return COMMAND_MARK + command


def parse_action_body(text: str) -> tuple[str, str] | None:
    """``("command", name)`` or ``("button", id)`` for one of our ActionBody texts, else ``None``.

    Ids are checked against the rules of :mod:`handlers.ids` (ASCII, at most 64 bytes, no
    spaces): a person who types ``~something long`` is just writing text.
    """
    if not text.startswith(BUTTON_MARK):
        return None
    if text.startswith(COMMAND_MARK):
        name = text[len(COMMAND_MARK) :]
        return ("command", name) if _COMMAND_NAME.fullmatch(name) else None
    button_id = text[len(BUTTON_MARK) :]
    if (
        not button_id
        or not button_id.isascii()
        or len(button_id) > ids.MAX_BYTES
        or any(ch.isspace() for ch in button_id)
    ):
        return None
    return ("button", button_id)


_COMMAND_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")

# -- words people type ------------------------------------------------------------------------
#
# Viber has no slash commands, so the commands are keyboard buttons (the bottom keyboard) and
# plain words. Only a message that is nothing but one of these words (or "/word", out of
# Telegram habit, or as the help text writes them) counts; anything longer is a question.

COMMAND_WORDS: dict[str, tuple[str, ...]] = {
    "start": ("start", "старт", "почати", "начать", "zacznij", "od nowa", "почати знову",
              "начать заново"),
    "menu": ("menu", "меню", "головне меню", "главное меню", "menu główne", "main menu"),
    "language": ("language", "lang", "мова", "язык", "język", "jezyk", "змінити мову",
                 "сменить язык", "zmień język", "zmien jezyk", "change language", "мову"),
    "consultant": ("consultant", "консультант", "konsultant", "оператор", "operator"),
    "help": ("help", "допомога", "помощь", "pomoc"),
    "privacy": ("privacy", "приватність", "конфіденційність", "конфиденциальность",
                "prywatność", "prywatnosc"),
    "forget": ("forget", "forget me", "забудь мене", "забудь меня", "zapomnij mnie",
               "zapomnij o mnie", "delete my data", "видалити мої дані", "удалить мои данные",
               "usuń moje dane", "usun moje dane"),
    "cancel": ("cancel", "скасувати", "відміна", "отмена", "отменить", "anuluj"),
}  # fmt: skip
KNOWN_COMMANDS = frozenset(COMMAND_WORDS)
_WORD_TO_COMMAND = {word: command for command, words in COMMAND_WORDS.items() for word in words}
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_SPACES = re.compile(r"\s+")


def typed_command(text: str) -> str | None:
    """The command a short typed message asks for ("Меню!" → ``menu``, "/forget" → ``forget``)."""
    if len(text) > 40:
        return None
    stripped = text.strip()
    if stripped.startswith("/"):
        name = stripped[1:].split("@", 1)[0].strip().lower()
        if name in KNOWN_COMMANDS:
            return name
    normalized = _SPACES.sub(" ", _EDGES.sub("", stripped.casefold()))
    return _WORD_TO_COMMAND.get(normalized)
