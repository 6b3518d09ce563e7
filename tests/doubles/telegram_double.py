"""A Telegram Bot API double: a real aiohttp server on loopback speaking the real wire format.

Point python-telegram-bot (or anything else) at :attr:`BotApiDouble.api_url` as
``TELEGRAM_API_URL`` and it talks to this server exactly as to ``api.telegram.org``:
``POST /bot<token>/<method>`` with query-string, urlencoded, multipart or JSON parameters, and
``{"ok": true, "result": …}`` / ``{"ok": false, "error_code": …, "description": …}`` answers.

What it models (enough for the adapter, the consultant desk and the benchmarks):

- **getUpdates** long polling with the real offset semantics: an update is returned again and
  again until a later call confirms it with a higher ``offset`` (so a bot killed before
  confirming gets it redelivered). A newer getUpdates ends a waiting one with 409, like the
  real server.
- **Webhooks**: after ``setWebhook`` it POSTs each pending update to the URL (with the
  ``X-Telegram-Bot-Api-Secret-Token`` header when a secret was set), at most
  ``max_connections`` at a time and one at a time per chat, and retries on anything but 2xx.
  getUpdates answers 409 while a webhook is set, like the real server.
- **Sending**: sendMessage and the media methods, copyMessage, editMessageText/ReplyMarkup,
  answerCallbackQuery, setMyCommands, forum topics, getChatMember. Inputs are validated like
  the real API: text 1..4096 characters (UTF-16 units) after entity parsing, captions ≤ 1024,
  ``callback_data`` ≤ 64 bytes, well-formed HTML with only the supported tags, known chats,
  existing forum topics.
- **Failures**: :meth:`BotApiDouble.fail` injects 429 (with ``parameters.retry_after``), 5xx,
  403, 400 … for a number of calls or a span of time, per method and chat;
  :meth:`BotApiDouble.block` makes a person "block the bot" (403 from then on).
- **Inspection**: every call is recorded (:attr:`BotApiDouble.calls`); :meth:`sent_to` lists
  what reached a chat; :meth:`wait_until` waits (with a deadline) for a condition.

Update builders (:meth:`text`, :meth:`command`, :meth:`callback`, :meth:`photo`, :meth:`sticker`,
:meth:`media`, :meth:`group_message`, :meth:`my_chat_member`) create realistic update JSON and
queue it; ``inject=False`` returns it without queueing (to POST it to a webhook yourself).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklm"
BOT_ID = 123456789
BOT_USERNAME = "otwarta_test_bot"

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64

JsonDict = dict[str, Any]

SEND_METHODS = {
    "sendMessage": None,
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVoice": "voice",
    "sendVideo": "video",
    "sendVideoNote": "video_note",
    "sendSticker": "sticker",
    "sendAudio": "audio",
    "sendAnimation": "animation",
    "sendLocation": "location",
    "sendContact": "contact",
}
_NO_CAPTION = {"sendSticker", "sendVideoNote", "sendLocation", "sendContact", "sendMessage"}


class ApiError(Exception):
    """An error answer: becomes ``{"ok": false, ...}`` with this HTTP status."""

    def __init__(self, code: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


# --------------------------------------------------------------------------------------------
# Telegram HTML: the subset the Bot API accepts, parsed as strictly as the real server.

_HTML_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
    "tg-time",
}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)>")
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html(text: str) -> str:
    """The visible text of a Telegram-HTML message, or :class:`ApiError` "can't parse entities"."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "<":
            tag = _TAG.match(text, pos)
            if tag is None:
                raise bad_request(
                    f"can't parse entities: Unsupported start tag at byte offset "
                    f"{len(text[:pos].encode())}"
                )
            closing, name, attrs = tag.group(1), tag.group(2).lower(), tag.group(3)
            if name not in _HTML_TAGS:
                raise bad_request(
                    f'can\'t parse entities: Unsupported start tag "{name}" at byte offset '
                    f"{len(text[:pos].encode())}"
                )
            if closing:
                if not stack or stack[-1] != name:
                    expected = f'expected "</{stack[-1]}>"' if stack else "no tag is open"
                    raise bad_request(
                        f"can't parse entities: Unmatched end tag at byte offset "
                        f'{len(text[:pos].encode())}, {expected}, found "</{name}>"'
                    )
                stack.pop()
            else:
                if name == "a" and "href=" not in attrs:
                    raise bad_request("can't parse entities: Can't find href in <a> tag")
                stack.append(name)
            pos = tag.end()
        elif char == ">":
            out.append(">")  # Telegram tolerates a bare ">"
            pos += 1
        elif char == "&":
            entity = _ENTITY.match(text, pos)
            if entity is None:
                out.append("&")
                pos += 1
                continue
            body = entity.group(1)
            if body.startswith("#x"):
                out.append(chr(int(body[2:], 16)))
            elif body.startswith("#"):
                out.append(chr(int(body[1:])))
            elif body in _NAMED_ENTITIES:
                out.append(_NAMED_ENTITIES[body])
            else:
                raise bad_request(f'can\'t parse entities: Unsupported HTML entity "&{body};"')
            pos = entity.end()
        else:
            out.append(char)
            pos += 1
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units (an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def media_content(kind: str, file_id: str, unique: str) -> JsonDict:
    """The message fields of a media message of ``kind`` (as the real server sends them)."""
    content: JsonDict
    if kind == "photo":
        content = {
            "photo": [
                {
                    "file_id": f"{file_id}-s",
                    "file_unique_id": f"{unique}s",
                    "width": 90,
                    "height": 67,
                    "file_size": 1200,
                },
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "width": 1280,
                    "height": 960,
                    "file_size": 98000,
                },
            ]
        }
    elif kind == "document":
        content = {
            "document": {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_name": "wniosek.pdf",
                "mime_type": "application/pdf",
                "file_size": 51234,
            }
        }
    elif kind == "voice":
        content = {
            "voice": {
                "file_id": file_id,
                "file_unique_id": unique,
                "duration": 4,
                "mime_type": "audio/ogg",
                "file_size": 9000,
            }
        }
    elif kind == "video":
        content = {
            "video": {
                "file_id": file_id,
                "file_unique_id": unique,
                "width": 640,
                "height": 360,
                "duration": 7,
                "mime_type": "video/mp4",
            }
        }
    elif kind == "video_note":
        content = {
            "video_note": {
                "file_id": file_id,
                "file_unique_id": unique,
                "length": 240,
                "duration": 5,
            }
        }
    elif kind == "sticker":
        content = {
            "sticker": {
                "file_id": file_id,
                "file_unique_id": unique,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            }
        }
    elif kind == "audio":
        content = {
            "audio": {
                "file_id": file_id,
                "file_unique_id": unique,
                "duration": 180,
                "title": "Song",
                "mime_type": "audio/mpeg",
            }
        }
    elif kind == "animation":
        animation = {
            "file_id": file_id,
            "file_unique_id": unique,
            "width": 320,
            "height": 240,
            "duration": 3,
            "mime_type": "video/mp4",
            "file_name": "giphy.mp4",
        }
        content = {"animation": animation, "document": dict(animation)}
    elif kind == "location":
        content = {"location": {"latitude": 50.061947, "longitude": 19.936856}}
    elif kind == "contact":
        content = {
            "contact": {
                "phone_number": "+48123456789",
                "first_name": "Anna",
                "user_id": 5550001,
            }
        }
    else:
        raise ValueError(f"unknown media kind {kind!r}")
    return content


# --------------------------------------------------------------------------------------------
# Records


@dataclass
class ApiCall:
    """One request the bot made: method, parsed parameters, what the double answered."""

    method: str
    params: JsonDict
    status: int
    response: JsonDict
    at: float  # time.perf_counter() when the request arrived


@dataclass
class SentMessage:
    """A message the bot put into a chat (send*, copyMessage), as the chat would show it."""

    method: str
    chat_id: int
    message_id: int
    text: str  # visible text (entities parsed) or caption
    raw: str  # the text/caption as sent (HTML source when parse_mode=HTML)
    parse_mode: str | None
    reply_markup: JsonDict | None
    message_thread_id: int | None
    params: JsonDict
    at: float

    @property
    def buttons(self) -> list[list[JsonDict]]:
        if not self.reply_markup:
            return []
        return list(self.reply_markup.get("inline_keyboard", []))

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]


@dataclass
class FailureRule:
    """Answer matching calls with an error instead of performing them."""

    code: int
    description: str
    method: str | None = None  # None: every method except getUpdates/getMe/webhook ones
    chat_id: int | None = None
    retry_after: int | None = None
    times: int | None = None  # None: until ``until`` (or forever)
    until: float | None = None  # time.perf_counter() deadline
    skip: int = 0  # let this many matching calls through first
    hits: int = 0
    seen: int = 0

    def matches(self, method: str, params: JsonDict, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is None:
            if method in _CONTROL_METHODS:
                return False
        elif self.method != method:
            return False
        return not (self.chat_id is not None and _as_int(params.get("chat_id")) != self.chat_id)

    @property
    def exhausted(self) -> bool:
        if self.times is not None and self.hits >= self.times:
            return True
        return self.until is not None and time.perf_counter() >= self.until


_CONTROL_METHODS = {"getUpdates", "getMe", "setWebhook", "deleteWebhook", "getWebhookInfo"}


@dataclass
class FakeUser:
    """A Telegram user for the builders (a private chat has the same id)."""

    id: int
    first_name: str = "Olena"
    language_code: str | None = "uk"
    username: str | None = None
    last_name: str | None = None
    is_bot: bool = False

    def to_dict(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def private_chat(self) -> JsonDict:
        chat: JsonDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass
class ForumTopic:
    chat_id: int
    message_thread_id: int
    name: str
    icon_color: int = 7322096
    icon_custom_emoji_id: str | None = None
    closed: bool = False

    def to_dict(self) -> JsonDict:
        data: JsonDict = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _Pending:
    update: JsonDict
    chat_key: int | None
    injected_at: float


@dataclass
class WebhookDelivery:
    update_id: int
    status: int | None  # None: connection failed
    at: float


@dataclass
class _ChatInfo:
    chat: JsonDict
    next_message_id: int = 1
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    # user id -> administrator rights that differ from "everything" (see set_rights)
    rights: dict[int, JsonDict] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------


class BotApiDouble:
    """The Bot API server double. Use as ``async with BotApiDouble() as api: …``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = BOT_USERNAME,
        webhook_retry_delay: float = 0.05,
        require_known_chat: bool = True,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.webhook_retry_delay = webhook_retry_delay
        self.require_known_chat = require_known_chat

        self.calls: list[ApiCall] = []
        self.sent: list[SentMessage] = []
        self.failures: list[FailureRule] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}  # (scope type, lang) -> list
        self.callback_answers: dict[str, JsonDict] = {}
        self.topics: dict[tuple[int, int], ForumTopic] = {}
        self.deleted_topics: set[tuple[int, int]] = set()
        self.blocked: set[int] = set()
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self.downloads: list[str] = []  # file paths fetched through /file/bot<token>/...
        self.injected_at: dict[int, float] = {}
        self.confirmed_offset = 0
        self.polls_started = 0  # getUpdates requests received (counted on arrival)
        self._closing = False
        self._webhook_stopping = False

        self._chats: dict[int, _ChatInfo] = {}
        self._messages: dict[tuple[int, int], JsonDict] = {}
        self._pending: list[_Pending] = []
        self._next_update_id = 100_000
        self._next_topic_id = 1000
        self._callback_ids = itertools.count(1)
        # Set (and replaced) on every change; waiters take the current one. (An Event, not a
        # Condition: on Python 3.11 cancelling wait_for(Condition.wait()) can hang.)
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._webhook: _Webhook | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_inflight: dict[int, int | None] = {}  # update_id -> chat key
        self._session: ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._site_port = 0

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> BotApiDouble:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._site_port = sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self._closing = True
        await self._notify()  # end waiting long polls (their client may be dead)
        await self._stop_webhook()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_url(self) -> str:
        """The server root, for ``TELEGRAM_API_URL`` (methods live under ``/bot<token>/``)."""
        return f"http://127.0.0.1:{self._site_port}"

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    @property
    def pending_update_ids(self) -> list[int]:
        return [p.update["update_id"] for p in self._pending]

    # ---------------------------------------------------------------- inspection

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def sent_to(self, chat_id: int | str, thread_id: int | None = None) -> list[SentMessage]:
        chat = int(chat_id)
        return [
            m
            for m in self.sent
            if m.chat_id == chat and (thread_id is None or m.message_thread_id == thread_id)
        ]

    def texts_to(self, chat_id: int | str) -> list[str]:
        return [m.text for m in self.sent_to(chat_id)]

    def chat_of(self, chat_id: int) -> JsonDict:
        return self._chats[chat_id].chat

    async def wait_until(
        self, condition: Callable[[], bool], within: float = 10.0, what: str = "condition"
    ) -> None:
        """Wait until ``condition()`` holds (re-checked on every API call and injection);
        ``within`` is a deadline against hangs, not a speed assertion."""

        async def waiter() -> None:
            # Woken by every API call; also re-checked now and then for conditions on state
            # outside the double (the database).
            while not condition():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)

        try:
            await asyncio.wait_for(waiter(), within)
        except TimeoutError:
            raise AssertionError(
                f"{what} not reached within {within}s; last calls: "
                f"{[(c.method, c.status) for c in self.calls[-10:]]}"
            ) from None

    async def wait_for_sent(
        self, chat_id: int | str, count: int = 1, within: float = 10.0
    ) -> list[SentMessage]:
        await self.wait_until(
            lambda: len(self.sent_to(chat_id)) >= count,
            within,
            what=f"{count} message(s) to chat {chat_id}",
        )
        return self.sent_to(chat_id)

    async def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # ---------------------------------------------------------------- failure injection

    def fail(
        self,
        code: int = 500,
        description: str | None = None,
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        duration: float | None = None,
        skip: int = 0,
    ) -> FailureRule:
        """Answer matching calls with an error, ``times`` times or for ``duration`` seconds.

        ``skip`` lets that many matching calls succeed first (fail the 2nd part of a message).
        Common shapes: ``fail(429, retry_after=2, duration=3)`` (flood control),
        ``fail(500)``, ``fail(403, "Forbidden: bot was blocked by the user", chat_id=…)``,
        ``fail(400, "Bad Request: message thread not found")``.
        """
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after or 1}",
                500: "Internal Server Error",
                502: "Bad Gateway",
                403: "Forbidden: bot was blocked by the user",
                400: "Bad Request: message thread not found",
            }.get(code, f"Error {code}")
        if code == 429 and retry_after is None:
            retry_after = 1
        rule = FailureRule(
            code=code,
            description=description,
            method=method,
            chat_id=int(chat_id) if chat_id is not None else None,
            retry_after=retry_after,
            times=None if duration is not None and times == 1 else times,
            until=time.perf_counter() + duration if duration is not None else None,
            skip=skip,
        )
        self.failures.append(rule)
        return rule

    def add_file(self, file_id: str, content: bytes, file_path: str) -> None:
        """A file ``getFile`` knows (and ``/file/bot<token>/<file_path>`` serves)."""
        self.files[file_id] = (file_path, content)

    def clear_failures(self) -> None:
        self.failures.clear()

    def block(self, user: FakeUser | int) -> None:
        """The person blocks the bot: every send to them answers 403 from now on."""
        self.blocked.add(user.id if isinstance(user, FakeUser) else int(user))

    def unblock(self, user: FakeUser | int) -> None:
        self.blocked.discard(user.id if isinstance(user, FakeUser) else int(user))

    # ---------------------------------------------------------------- chats

    def add_chat(self, chat: JsonDict) -> None:
        info = self._chats.get(chat["id"])
        if info is None:
            self._chats[chat["id"]] = _ChatInfo(chat=dict(chat))
        else:
            info.chat.update(chat)

    def add_forum_group(self, chat_id: int, title: str = "Consultants") -> JsonDict:
        """Register a supergroup with topics on (the consultant desk) and the bot as admin."""
        chat = {"id": chat_id, "type": "supergroup", "title": title, "is_forum": True}
        self.add_chat(chat)
        self._chats[chat_id].members[self.bot_id] = "administrator"
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        info = self._chats.get(chat_id)
        if info is None:
            info = self._chats[chat_id] = _ChatInfo(chat=_guess_chat(chat_id))
        message_id = info.next_message_id
        info.next_message_id += 1
        return message_id

    # ---------------------------------------------------------------- update builders

    def inject(self, update: JsonDict) -> JsonDict:
        """Queue an update (an ``update_id`` is assigned when missing) and return it."""
        update = self.make_update(update)
        chat_key = _chat_key(update)
        self._pending.append(_Pending(update, chat_key, time.perf_counter()))
        self.injected_at[update["update_id"]] = time.perf_counter()
        self._wake()
        return update

    def make_update(self, update: JsonDict) -> JsonDict:
        """Give ``update`` an ``update_id`` (and remember its chat) without queueing it."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
            self._next_update_id += 1
        else:
            self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        for chat in _chats_in(update):
            self.add_chat(chat)
        return update

    def _wake(self) -> None:
        asyncio.get_running_loop().create_task(self._notify())

    def _message(
        self, user: FakeUser, chat: JsonDict, *, thread_id: int | None = None, **content: Any
    ) -> JsonDict:
        self.add_chat(chat)
        message: JsonDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user.to_dict(),
            "chat": chat,
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        message.update(content)
        return message

    def text(
        self,
        user: FakeUser,
        text: str,
        *,
        inject: bool = True,
        chat: JsonDict | None = None,
        thread_id: int | None = None,
    ) -> JsonDict:
        """A text message from ``user`` (a command when it starts with "/")."""
        content: JsonDict = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        update = {
            "message": self._message(
                user, chat or user.private_chat(), thread_id=thread_id, **content
            )
        }
        return self.inject(update) if inject else self.make_update(update)

    def command(self, user: FakeUser, name: str, *args: str, inject: bool = True) -> JsonDict:
        return self.text(user, " ".join([f"/{name}", *args]), inject=inject)

    def callback(
        self,
        user: FakeUser,
        data: str,
        *,
        message_id: int | None = None,
        chat: JsonDict | None = None,
        inject: bool = True,
    ) -> JsonDict:
        """A tap on an inline button: ``message_id`` defaults to the last message with buttons
        sent to the user's chat."""
        chat = chat or user.private_chat()
        message = None
        if message_id is None:
            with_buttons = [m for m in self.sent_to(chat["id"]) if m.reply_markup]
            if with_buttons:
                message_id = with_buttons[-1].message_id
        if message_id is not None:
            message = self._messages.get((chat["id"], message_id))
        if message is None:
            message = {
                "message_id": message_id or self._next_message_id(chat["id"]),
                "from": self._bot_user(),
                "chat": chat,
                "date": int(time.time()),
                "text": "…",
            }
        update = {
            "callback_query": {
                "id": str(next(self._callback_ids) * 1_000_003),
                "from": user.to_dict(),
                "message": message,
                "chat_instance": str(-abs(hash(chat["id"])) % 10**18),
                "data": data,
            }
        }
        return self.inject(update) if inject else self.make_update(update)

    def media(
        self,
        user: FakeUser,
        kind: str,
        *,
        caption: str | None = None,
        inject: bool = True,
        chat: JsonDict | None = None,
        thread_id: int | None = None,
    ) -> JsonDict:
        """A media message: photo, document, voice, video, video_note, sticker, audio,
        animation, location or contact, shaped like the real payloads."""
        file_no = next(self._callback_ids)
        file_id = f"{kind.upper()}-FILE-{file_no:06d}-AgACAgIAAxkBAAIB"
        unique = f"AQAD{file_no:06d}"
        content = media_content(kind, file_id, unique)
        if caption is not None:
            content["caption"] = caption
        update = {
            "message": self._message(
                user, chat or user.private_chat(), thread_id=thread_id, **content
            )
        }
        return self.inject(update) if inject else self.make_update(update)

    def photo(self, user: FakeUser, caption: str | None = None, inject: bool = True) -> JsonDict:
        return self.media(user, "photo", caption=caption, inject=inject)

    def sticker(self, user: FakeUser, inject: bool = True) -> JsonDict:
        return self.media(user, "sticker", inject=inject)

    def group_message(
        self,
        chat_id: int,
        user: FakeUser,
        text: str,
        *,
        thread_id: int | None = None,
        title: str = "Consultants",
        inject: bool = True,
    ) -> JsonDict:
        """A message in a group (a forum topic when ``thread_id`` is given)."""
        chat = (
            dict(self._chats[chat_id].chat)
            if chat_id in self._chats
            else {
                "id": chat_id,
                "type": "supergroup",
                "title": title,
                "is_forum": thread_id is not None,
            }
        )
        return self.text(user, text, inject=inject, chat=chat, thread_id=thread_id)

    def my_chat_member(
        self, user: FakeUser, status: str = "kicked", *, inject: bool = True
    ) -> JsonDict:
        """The bot's membership in ``user``'s private chat changed ("kicked": blocked)."""
        old = "member" if status in ("kicked", "left") else "kicked"
        new_member: JsonDict = {"user": self._bot_user(), "status": status}
        if status == "kicked":
            new_member["until_date"] = 0
        update = {
            "my_chat_member": {
                "chat": user.private_chat(),
                "from": user.to_dict(),
                "date": int(time.time()),
                "old_chat_member": {
                    "user": self._bot_user(),
                    "status": old,
                    **({"until_date": 0} if old == "kicked" else {}),
                },
                "new_chat_member": new_member,
            }
        }
        if status == "kicked":
            self.blocked.add(user.id)
        return self.inject(update) if inject else self.make_update(update)

    def _bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Małopolska Otwarta",
            "username": self.bot_username,
        }

    # ---------------------------------------------------------------- HTTP entry point

    async def _handle(self, request: web.Request) -> web.Response:
        at = time.perf_counter()
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _json_response(
                401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
        try:
            params = await _read_params(request)
        except ValueError as exc:
            return _json_response(400, _error_body(bad_request(str(exc))))
        status, body = await self._dispatch(method, params, at)
        self.calls.append(ApiCall(method, params, status, body, at))
        await self._notify()
        return _json_response(status, body)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for file_path, content in self.files.values():
            if file_path == path:
                self.downloads.append(path)
                return web.Response(body=content, content_type="application/octet-stream")
        return web.Response(status=404)

    async def _api_getFile(self, params: JsonDict) -> JsonDict:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise bad_request("invalid file_id")
        path, content = self.files[file_id]
        if len(content) > 20 * 1024 * 1024:
            raise bad_request("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": "u" + file_id[-8:],
            "file_size": len(content),
            "file_path": path,
        }

    async def _dispatch(self, method: str, params: JsonDict, at: float) -> tuple[int, JsonDict]:
        try:
            rule = None
            for candidate in self.failures:
                if candidate.matches(method, params, at):
                    candidate.seen += 1
                    if candidate.seen > candidate.skip:
                        rule = candidate
                        break
            if rule is not None:
                rule.hits += 1
                parameters = {"retry_after": rule.retry_after} if rule.retry_after else None
                raise ApiError(rule.code, rule.description, parameters)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                if method in SEND_METHODS:
                    result = await self._api_send(method, params, at)
                else:
                    raise ApiError(404, "Not Found: method not found")
            else:
                result = await handler(params)
        except ApiError as error:
            return error.code, _error_body(error)
        return 200, {"ok": True, "result": result}

    # ---------------------------------------------------------------- methods: bot & updates

    async def _api_getMe(self, params: JsonDict) -> JsonDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getUpdates(self, params: JsonDict) -> list[JsonDict]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self.polls_started += 1
        offset = _as_int(params.get("offset")) or 0
        limit = max(1, min(100, _as_int(params.get("limit")) or 100))
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates") or None
        if offset > 0:
            self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        deadline = time.perf_counter() + timeout
        while True:
            if self._closing:
                return []
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            ready = [
                p.update
                for p in self._pending
                if p.update["update_id"] >= offset
                and (allowed is None or _update_type(p.update) in allowed)
            ][:limit]
            remaining = deadline - time.perf_counter()
            if ready or remaining <= 0:
                return ready
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def _confirm(self, offset: int) -> None:
        """Drop every pending update below ``offset`` (the real server's "confirmation")."""
        self.confirmed_offset = max(self.confirmed_offset, offset)
        self._pending = [p for p in self._pending if p.update["update_id"] >= offset]

    async def _api_setWebhook(self, params: JsonDict) -> bool:
        url = params.get("url") or ""
        if not url:
            await self._stop_webhook()
            self._webhook = None
            return True
        if not url.startswith(("http://", "https://")):
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        # The real server requires https; the double accepts http so tests need no TLS.
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        if _as_bool(params.get("drop_pending_updates")):
            self._pending.clear()
        await self._stop_webhook()
        self._webhook = _Webhook(
            url=url,
            secret_token=str(secret) if secret else None,
            max_connections=_as_int(params.get("max_connections")) or 40,
            allowed_updates=params.get("allowed_updates") or None,
        )
        self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhooks())
        return True

    async def _api_deleteWebhook(self, params: JsonDict) -> bool:
        await self._stop_webhook()
        self._webhook = None
        if _as_bool(params.get("drop_pending_updates")):
            self._pending.clear()
        return True

    async def _api_getWebhookInfo(self, params: JsonDict) -> JsonDict:
        hook = self._webhook
        info: JsonDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if hook:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    async def _stop_webhook(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            # A flag as well as cancel(): on Python 3.11 wait_for() can swallow a cancellation.
            self._webhook_stopping = True
            await self._notify()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._webhook_stopping = False
        self._webhook_inflight.clear()

    async def _deliver_webhooks(self) -> None:
        """POST pending updates to the webhook: in order per chat, a few chats at a time."""
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=60))
        tasks: set[asyncio.Task[None]] = set()
        try:
            while not self._webhook_stopping:
                hook = self._webhook
                assert hook is not None
                busy = set(self._webhook_inflight.values())
                started = False
                for pending in list(self._pending):
                    if len(self._webhook_inflight) >= hook.max_connections:
                        break
                    update_id = pending.update["update_id"]
                    if update_id in self._webhook_inflight:
                        continue
                    if pending.chat_key is not None and pending.chat_key in busy:
                        continue
                    if (
                        hook.allowed_updates
                        and _update_type(pending.update) not in hook.allowed_updates
                    ):
                        self._pending.remove(pending)
                        continue
                    busy.add(pending.chat_key)
                    self._webhook_inflight[update_id] = pending.chat_key
                    task = asyncio.get_running_loop().create_task(self._post_update(hook, pending))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    started = True
                if not started:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 1.0)
        finally:
            for task in tasks:
                task.cancel()

    async def _post_update(self, hook: _Webhook, pending: _Pending) -> None:
        update_id = pending.update["update_id"]
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        assert self._session is not None
        status: int | None = None
        try:
            async with self._session.post(
                hook.url, data=json.dumps(pending.update), headers=headers
            ) as response:
                status = response.status
                await response.read()
        except (TimeoutError, OSError) as exc:
            hook.last_error_message = f"Connection failed: {type(exc).__name__}"
        self.webhook_deliveries.append(WebhookDelivery(update_id, status, time.perf_counter()))
        if status is not None and 200 <= status < 300:
            self._pending = [p for p in self._pending if p.update["update_id"] != update_id]
        else:
            if status is not None:
                hook.last_error_message = f"Wrong response from the webhook: {status}"
            hook.last_error_date = int(time.time())
            await asyncio.sleep(self.webhook_retry_delay)
        self._webhook_inflight.pop(update_id, None)
        await self._notify()

    # ---------------------------------------------------------------- methods: sending

    def _target_chat(self, params: JsonDict) -> tuple[int, JsonDict]:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            raise bad_request("chat not found")
        chat_id = _as_int(raw)
        if chat_id is None:
            raise bad_request("chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        info = self._chats.get(chat_id)
        if info is None:
            if self.require_known_chat:
                raise bad_request("chat not found")
            self.add_chat(_guess_chat(chat_id))
            info = self._chats[chat_id]
        return chat_id, info.chat

    def _check_thread(self, chat_id: int, chat: JsonDict, params: JsonDict) -> int | None:
        thread_id = _as_int(params.get("message_thread_id"))
        if thread_id is None:
            return None
        if chat.get("is_forum"):
            topic = self.topics.get((chat_id, thread_id))
            if topic is None and thread_id != 1:  # 1 is the forum's "General" topic
                raise bad_request("message thread not found")
            if topic is not None and topic.closed:
                raise bad_request("TOPIC_CLOSED")
        return thread_id

    def _check_text(self, params: JsonDict, key: str, limit: int) -> tuple[str, str]:
        raw = params.get(key)
        raw = "" if raw is None else str(raw)
        parse_mode = params.get("parse_mode")
        if parse_mode is not None and str(parse_mode).upper() == "HTML":
            visible = parse_html(raw)
        elif parse_mode not in (None, "", "MarkdownV2", "Markdown"):
            raise bad_request(f"unsupported parse_mode {parse_mode}")
        else:
            visible = raw
        if key == "text":
            if not visible.strip():
                raise bad_request("message text is empty")
            if utf16_len(visible) > limit:
                raise bad_request("message is too long")
        elif utf16_len(visible) > limit:
            raise bad_request("message caption is too long")
        return raw, visible

    def _check_markup(self, params: JsonDict) -> JsonDict | None:
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise bad_request("can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not str(button.get("text", "")).strip():
                    raise bad_request("BUTTON_TEXT_INVALID")
                kinds = [
                    k
                    for k in (
                        "callback_data",
                        "url",
                        "switch_inline_query",
                        "web_app",
                        "login_url",
                        "copy_text",
                        "pay",
                    )
                    if k in button
                ]
                if len(kinds) != 1:
                    raise bad_request(
                        "can't parse inline keyboard button: exactly one of the "
                        "optional fields must be used"
                    )
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode())
                    if not 1 <= size <= CALLBACK_DATA_LIMIT:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"(https?|tg)://", str(button["url"])):
                    raise bad_request("BUTTON_URL_INVALID")
        return markup

    async def _api_send(self, method: str, params: JsonDict, at: float) -> JsonDict:
        chat_id, chat = self._target_chat(params)
        thread_id = self._check_thread(chat_id, chat, params)
        markup = self._check_markup(params)
        field_name = SEND_METHODS[method]
        message: JsonDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self._bot_user(),
            "chat": chat,
            "date": int(time.time()),
        }
        raw, visible = "", ""
        if method == "sendMessage":
            raw, visible = self._check_text(params, "text", MESSAGE_LIMIT)
            message["text"] = visible
            link_preview = params.get("link_preview_options")
            if isinstance(link_preview, str):
                link_preview = json.loads(link_preview)
            if link_preview:
                message["link_preview_options"] = link_preview
        else:
            assert field_name is not None
            value = params.get(field_name)
            if field_name == "location":
                lat, lon = params.get("latitude"), params.get("longitude")
                if lat is None or lon is None:
                    raise bad_request("latitude and longitude must be given")
                message["location"] = {"latitude": float(lat), "longitude": float(lon)}
            elif field_name == "contact":
                if not params.get("phone_number") or not params.get("first_name"):
                    raise bad_request("phone_number and first_name must be given")
                message["contact"] = {
                    "phone_number": str(params["phone_number"]),
                    "first_name": str(params["first_name"]),
                }
            else:
                if not value:
                    raise bad_request(f"there is no {field_name} in the request")
                message.update(media_content(field_name, str(value), "u" + str(value)[-8:]))
            if method not in _NO_CAPTION and params.get("caption") is not None:
                raw, visible = self._check_text(params, "caption", CAPTION_LIMIT)
                message["caption"] = visible
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.get("is_forum"):
                message["is_topic_message"] = True
        if markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        self.sent.append(
            SentMessage(
                method=method,
                chat_id=chat_id,
                message_id=message["message_id"],
                text=visible,
                raw=raw,
                parse_mode=params.get("parse_mode"),
                reply_markup=markup,
                message_thread_id=thread_id,
                params=params,
                at=at,
            )
        )
        return message

    async def _api_copyMessage(self, params: JsonDict) -> JsonDict:
        chat_id, chat = self._target_chat(params)
        thread_id = self._check_thread(chat_id, chat, params)
        from_chat = _as_int(params.get("from_chat_id"))
        source = self._messages.get((from_chat or 0, _as_int(params.get("message_id")) or 0))
        if source is None:
            raise bad_request("message to copy not found")
        message_id = self._next_message_id(chat_id)
        copy = {**source, "message_id": message_id, "chat": chat, "from": self._bot_user()}
        self._messages[(chat_id, message_id)] = copy
        self.sent.append(
            SentMessage(
                "copyMessage",
                chat_id,
                message_id,
                source.get("text") or source.get("caption") or "",
                "",
                None,
                self._check_markup(params),
                thread_id,
                params,
                time.perf_counter(),
            )
        )
        return {"message_id": message_id}

    async def _api_sendChatAction(self, params: JsonDict) -> bool:
        self._target_chat(params)
        return True

    async def _api_answerCallbackQuery(self, params: JsonDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if not query_id:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and utf16_len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = params
        return True

    async def _api_setMyCommands(self, params: JsonDict) -> bool:
        commands = params.get("commands")
        if isinstance(commands, str):
            commands = json.loads(commands)
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH" if commands else "commands must be a list")
        for command in commands:
            name = str(command.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        scope = params.get("scope") or {"type": "default"}
        if isinstance(scope, str):
            scope = json.loads(scope)
        lang = str(params.get("language_code") or "")
        if lang and not re.fullmatch(r"[a-z]{2}", lang):
            raise bad_request("LANG_CODE_INVALID")
        self.commands[(scope.get("type", "default"), lang)] = commands
        return True

    async def _api_getMyCommands(self, params: JsonDict) -> list[JsonDict]:
        scope = params.get("scope") or {"type": "default"}
        if isinstance(scope, str):
            scope = json.loads(scope)
        return self.commands.get(
            (scope.get("type", "default"), str(params.get("language_code") or "")), []
        )

    async def _api_deleteMyCommands(self, params: JsonDict) -> bool:
        scope = params.get("scope") or {"type": "default"}
        if isinstance(scope, str):
            scope = json.loads(scope)
        self.commands.pop(
            (scope.get("type", "default"), str(params.get("language_code") or "")), None
        )
        return True

    def _find_message(self, params: JsonDict) -> tuple[int, JsonDict]:
        chat_id, _ = self._target_chat(params)
        message = self._messages.get((chat_id, _as_int(params.get("message_id")) or 0))
        if message is None:
            raise bad_request("message to edit not found")
        return chat_id, message

    async def _api_editMessageText(self, params: JsonDict) -> JsonDict:
        _, message = self._find_message(params)
        _, visible = self._check_text(params, "text", MESSAGE_LIMIT)
        markup = self._check_markup(params)
        if message.get("text") == visible and message.get("reply_markup") == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message["text"] = visible
        message["edit_date"] = int(time.time())
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    async def _api_editMessageReplyMarkup(self, params: JsonDict) -> JsonDict:
        _, message = self._find_message(params)
        markup = self._check_markup(params)
        if message.get("reply_markup") == markup:
            raise bad_request("message is not modified")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message

    def _forum(self, params: JsonDict) -> tuple[int, JsonDict]:
        chat_id, chat = self._target_chat(params)
        if not chat.get("is_forum"):
            raise bad_request("the chat is not a forum")
        return chat_id, chat

    def _topic(self, params: JsonDict) -> ForumTopic:
        chat_id, _ = self._forum(params)
        thread_id = _as_int(params.get("message_thread_id")) or 0
        topic = self.topics.get((chat_id, thread_id))
        if topic is None:
            raise bad_request("message thread not found")
        return topic

    async def _api_createForumTopic(self, params: JsonDict) -> JsonDict:
        chat_id, _ = self._forum(params)
        if not self._bot_may(chat_id, "can_manage_topics"):
            raise bad_request("not enough rights to create a topic")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        self._next_topic_id += 1
        topic = ForumTopic(
            chat_id=chat_id,
            message_thread_id=self._next_topic_id,
            name=name,
            icon_color=_as_int(params.get("icon_color")) or 7322096,
            icon_custom_emoji_id=params.get("icon_custom_emoji_id") or None,
        )
        self.topics[(chat_id, topic.message_thread_id)] = topic
        return topic.to_dict()

    async def _api_editForumTopic(self, params: JsonDict) -> bool:
        topic = self._topic(params)
        if params.get("name"):
            topic.name = str(params["name"])
        if params.get("icon_custom_emoji_id") is not None:
            topic.icon_custom_emoji_id = str(params["icon_custom_emoji_id"]) or None
        return True

    async def _api_closeForumTopic(self, params: JsonDict) -> bool:
        topic = self._topic(params)
        if topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = True
        return True

    async def _api_reopenForumTopic(self, params: JsonDict) -> bool:
        topic = self._topic(params)
        if not topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = False
        return True

    async def _api_deleteForumTopic(self, params: JsonDict) -> bool:
        topic = self._topic(params)
        del self.topics[(topic.chat_id, topic.message_thread_id)]
        self.deleted_topics.add((topic.chat_id, topic.message_thread_id))
        return True

    def add_topic(self, chat_id: int, name: str = "Topic") -> int:
        """Create a forum topic as if a consultant had (returns its ``message_thread_id``)."""
        if chat_id not in self._chats:
            self.add_forum_group(chat_id)
        self._next_topic_id += 1
        self.topics[(chat_id, self._next_topic_id)] = ForumTopic(chat_id, self._next_topic_id, name)
        return self._next_topic_id

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """A consultant deleted the topic by hand (sends to it then fail "thread not found")."""
        self.topics.pop((chat_id, thread_id), None)
        self.deleted_topics.add((chat_id, thread_id))

    async def _api_getChatMember(self, params: JsonDict) -> JsonDict:
        chat_id, _ = self._target_chat(params)
        user_id = _as_int(params.get("user_id"))
        if user_id is None:
            raise bad_request("user not found")
        status = self._chats[chat_id].members.get(
            user_id, "member" if user_id != self.bot_id else "administrator"
        )
        user = (
            self._bot_user()
            if user_id == self.bot_id
            else {"id": user_id, "is_bot": False, "first_name": "User"}
        )
        member: JsonDict = {"user": user, "status": status}
        if status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": True,
                    "can_manage_topics": True,
                }
            )
            member.update(self._chats[chat_id].rights.get(user_id, {}))
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def set_rights(self, chat_id: int, user_id: int | None = None, **rights: bool) -> None:
        """Take administrator rights away (``can_manage_topics=False`` …) from a member (the
        bot by default); topic calls then fail as Telegram's do."""
        who = self.bot_id if user_id is None else user_id
        self._chats[chat_id].rights.setdefault(who, {}).update(rights)

    def _bot_may(self, chat_id: int, right: str) -> bool:
        info = self._chats.get(chat_id)
        if info is None or info.members.get(self.bot_id, "administrator") != "administrator":
            return False
        return bool(info.rights.get(self.bot_id, {}).get(right, True))

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """Set someone's status in a group ("administrator", "member", "left", "kicked")."""
        if chat_id not in self._chats:
            self.add_chat(_guess_chat(chat_id))
        self._chats[chat_id].members[user_id] = status

    async def _api_getChat(self, params: JsonDict) -> JsonDict:
        _, chat = self._target_chat(params)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _api_deleteMessage(self, params: JsonDict) -> bool:
        chat_id, _ = self._target_chat(params)
        if self._messages.pop((chat_id, _as_int(params.get("message_id")) or 0), None) is None:
            raise bad_request("message to delete not found")
        return True

    async def _api_close(self, params: JsonDict) -> bool:
        return True

    async def _api_logOut(self, params: JsonDict) -> bool:
        return True


# --------------------------------------------------------------------------------------------
# helpers


async def _read_params(request: web.Request) -> JsonDict:
    """Parameters from the query string and the body (JSON, urlencoded or multipart), with
    JSON-encoded values (reply_markup, commands, …) decoded."""
    params: JsonDict = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else "<file>"
    decoded: JsonDict = {}
    for key, value in params.items():
        if isinstance(value, str) and value[:1] in "[{" and key not in ("text", "caption"):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        decoded[key] = value
    return decoded


def _json_response(status: int, body: JsonDict) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode(),
        content_type="application/json",
    )


def _error_body(error: ApiError) -> JsonDict:
    body: JsonDict = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return body


def _as_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_bool(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


def _guess_chat(chat_id: int) -> JsonDict:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "User"}
    return {"id": chat_id, "type": "supergroup", "title": "Group"}


_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "my_chat_member",
    "chat_member",
    "inline_query",
    "chosen_inline_result",
    "chat_join_request",
    "message_reaction",
    "poll",
    "poll_answer",
    "shipping_query",
    "pre_checkout_query",
)


def _update_type(update: JsonDict) -> str:
    return next((t for t in _UPDATE_TYPES if t in update), "unknown")


def _chat_key(update: JsonDict) -> int | None:
    for kind in ("message", "edited_message", "channel_post", "my_chat_member", "chat_member"):
        if kind in update:
            return int(update[kind]["chat"]["id"])
    query = update.get("callback_query")
    if query is not None:
        message = query.get("message")
        return int(message["chat"]["id"]) if message else int(query["from"]["id"])
    return None


def _chats_in(update: JsonDict) -> Iterable[JsonDict]:
    for kind in ("message", "edited_message", "channel_post", "my_chat_member", "chat_member"):
        if kind in update:
            yield update[kind]["chat"]
    query = update.get("callback_query")
    if query is not None and query.get("message"):
        yield query["message"]["chat"]


async def run_forever(
    double: BotApiDouble, ready: Callable[[str], Awaitable[None]] | None = None
) -> None:
    """Serve until cancelled (for running the double as a standalone process in benchmarks)."""
    await double.start()
    if ready is not None:
        await ready(double.api_url)
    try:
        await asyncio.Event().wait()
    finally:
        await double.close()
