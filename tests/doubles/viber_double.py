"""A Viber REST bot API double: a real aiohttp server on loopback speaking the real wire format,
and a helper that plays Viber's side of the webhook (signed callbacks).

Point the bot at :attr:`ViberApiDouble.api_url` as ``VIBER_API_URL``. What it models:

- ``POST /pa/set_webhook``, ``/pa/get_account_info``, ``/pa/send_message`` with the token in
  ``X-Viber-Auth-Token``; answers ``{"status": 0, "status_message": "ok", …}`` or Viber's error
  statuses inside an HTTP 200 (missing/wrong token → 2, not JSON or over the limits → 3,
  no receiver → 4, unknown receiver → 5, not subscribed → 6, ``min_api_version`` above the
  person's app → 13);
- ``set_webhook`` checks the URL the way Viber does: it POSTs a signed ``webhook`` callback to
  it and fails with status 1 unless the answer is 200;
- ``send_message`` validates what Viber validates: the 30 KB body, text 1..7,000 characters,
  sender name ≤ 28, picture captions ≤ 768, keyboards (Buttons, Columns 1..6 packing into
  six-column lines, Rows, ActionType, ActionBody); every call, valid or not, is recorded;
- subscriptions: a person is subscribed by their first message (as on Viber: no ``subscribed``
  callback then) or by :meth:`ViberCallbacks.subscribed`, and leaves with ``unsubscribed``;
- failures: :meth:`ViberApiDouble.fail` injects a status (6, 12 …), HTTP 429 or 5xx for the
  next *n* calls (per method, per receiver).

:class:`ViberCallbacks` builds the real callback payloads (``sender``/``user`` objects,
``message`` with ``type``/``text``/``media``/``location``/``contact``/``tracking_data``,
64-bit ``message_token``, millisecond ``timestamp``), signs them like Viber
(``X-Viber-Content-Signature``: hex HMAC-SHA256 of the body with the auth token) and POSTs
them; :meth:`ViberCallbacks.tap` presses a button of the keyboard the person last received.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

DEFAULT_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"
TEXT_LIMIT = 7000
REQUEST_LIMIT = 30_000
CAPTION_LIMIT = 768
SENDER_NAME_LIMIT = 28
ACTION_TYPES = {"reply", "open-url", "location-picker", "share-phone", "none"}
#: Tokens above 2**53: a float on the way would change them.
FIRST_TOKEN = 5_000_000_000_000_000_001

JsonDict = dict[str, Any]


def sign(token: str, body: bytes) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ApiCall:
    method: str
    token: str | None
    body: bytes
    payload: JsonDict | None
    answer: JsonDict
    http_status: int
    at: float

    @property
    def ok(self) -> bool:
        return self.http_status == 200 and self.answer.get("status") == 0


@dataclass(frozen=True)
class SentMessage:
    """A message Viber accepted (``send_message`` with status 0)."""

    token: int
    receiver: str
    payload: JsonDict
    size: int
    at: float = 0.0  # time.perf_counter() when Viber accepted it

    @property
    def type(self) -> str:
        return str(self.payload.get("type"))

    @property
    def text(self) -> str:
        return str(self.payload.get("text", ""))

    @property
    def keyboard(self) -> JsonDict | None:
        return self.payload.get("keyboard")

    @property
    def buttons(self) -> list[JsonDict]:
        return list((self.keyboard or {}).get("Buttons", []))

    @property
    def labels(self) -> list[str]:
        return [str(button.get("Text", "")) for button in self.buttons]


@dataclass
class FailureRule:
    method: str
    count: int
    status: int | None = None  # a Viber status inside HTTP 200
    http_status: int = 200
    receiver: str | None = None
    retry_after: int | None = None

    def matches(self, method: str, payload: JsonDict | None) -> bool:
        if self.count <= 0 or method != self.method:
            return False
        return self.receiver is None or (payload or {}).get("receiver") == self.receiver


@dataclass
class ViberUser:
    """A person on Viber (the ``sender``/``user`` object of callbacks)."""

    id: str
    name: str = "Olena"
    language: str | None = "uk"
    country: str = "UA"
    api_version: int = 10
    avatar: str | None = "https://media-direct.cdn.viber.com/download_photo?dlid=avatar"

    def to_dict(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "name": self.name}
        if self.avatar is not None:
            data["avatar"] = self.avatar
        if self.language is not None:
            data["language"] = self.language
        data["country"] = self.country
        data["api_version"] = self.api_version
        return data


class ViberApiDouble:
    """The REST API. ``async with ViberApiDouble() as viber: …``."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, account_name: str = "Małopolska Otwarta"):
        self.token = token
        self.account_name = account_name
        self.calls: list[ApiCall] = []
        self.sent: list[SentMessage] = []
        self.webhook_url: str | None = None
        self.event_types: list[str] = []
        self.subscribed: set[str] = set()
        self.users: dict[str, ViberUser] = {}
        self.invalid: list[tuple[str, str]] = []  # (method, why) of refused requests
        self._failures: list[FailureRule] = []
        self._tokens = itertools.count(FIRST_TOKEN)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- server ------------------------------------------------------------------------------

    async def start(self) -> ViberApiDouble:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/pa/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ViberApiDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/pa"

    # -- inspection --------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def sent_to(self, receiver: str) -> list[SentMessage]:
        return [message for message in self.sent if message.receiver == receiver]

    def texts_to(self, receiver: str) -> list[str]:
        return [message.text for message in self.sent_to(receiver)]

    def keyboard_of(self, receiver: str) -> list[JsonDict]:
        """The buttons the person sees now: Viber shows the last keyboard it delivered."""
        for message in reversed(self.sent_to(receiver)):
            if message.keyboard is not None:
                return message.buttons
            return []
        return []

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
        async def waiter() -> None:
            while not condition():
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.5)

        await asyncio.wait_for(waiter(), timeout)

    async def wait_for_sent(
        self,
        receiver: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[SentMessage]:
        await self.wait_until(lambda: len(self.sent_to(receiver)) >= count, timeout)
        return self.sent_to(receiver)

    # -- failure injection -------------------------------------------------------------------

    def fail(
        self,
        method: str = "send_message",
        *,
        status: int | None = None,
        http_status: int = 200,
        count: int = 1,
        receiver: str | None = None,
        retry_after: int | None = None,
    ) -> FailureRule:
        """The next ``count`` matching calls fail: with Viber ``status`` (in an HTTP 200), or
        with ``http_status`` (429, 500, 503 …)."""
        if status is None and http_status == 200:
            raise ValueError("give a status or an HTTP error")
        rule = FailureRule(method, count, status, http_status, receiver, retry_after)
        self._failures.append(rule)
        return rule

    def clear_failures(self) -> None:
        self._failures.clear()

    def add_user(self, user: ViberUser) -> None:
        self.users[user.id] = user

    # -- the API -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.read()
        token = request.headers.get("X-Viber-Auth-Token")
        payload: JsonDict | None = None
        with contextlib.suppress(ValueError):
            decoded = json.loads(body)
            payload = decoded if isinstance(decoded, dict) else None
        http_status, answer = await self._answer(method, token, body, payload)
        self.calls.append(
            ApiCall(method, token, body, payload, answer, http_status, time.monotonic())
        )
        self._changed.set()
        if http_status != 200:
            headers = {}
            if answer.get("retry_after") is not None:
                headers["Retry-After"] = str(answer["retry_after"])
            return web.Response(status=http_status, text="error", headers=headers)
        return web.Response(body=json.dumps(answer).encode(), content_type="application/json")

    async def _answer(
        self, method: str, token: str | None, body: bytes, payload: JsonDict | None
    ) -> tuple[int, JsonDict]:
        for rule in self._failures:
            if rule.matches(method, payload):
                rule.count -= 1
                if rule.http_status != 200:
                    return rule.http_status, {"retry_after": rule.retry_after}
                return 200, _error(rule.status or 0, "injected")
        if not token:
            return 200, _error(2, "missing_auth_token")
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return 200, _error(2, "invalidAuthToken")
        if payload is None:
            return 200, self._invalid(method, 3, "not a JSON object")
        handler = {
            "set_webhook": self._set_webhook,
            "get_account_info": self._get_account_info,
            "send_message": self._send_message,
        }.get(method)
        if handler is None:
            return 404, {}
        return 200, await handler(body, payload)

    def _invalid(self, method: str, status: int, why: str) -> JsonDict:
        self.invalid.append((method, why))
        names = {1: "invalidUrl", 3: "badData", 4: "missingData"}
        return _error(status, f"{names.get(status, 'error')}: {why}")

    async def _set_webhook(self, body: bytes, payload: JsonDict) -> JsonDict:
        url = payload.get("url")
        if not isinstance(url, str):
            return self._invalid("set_webhook", 4, "no url")
        if url == "":
            self.webhook_url = None
            return {"status": 0, "status_message": "ok"}
        event_types = payload.get("event_types", [])
        check = ViberCallbacks(url, self.token, self)
        try:
            response = await check.post(
                {
                    "event": "webhook",
                    "timestamp": _now_ms(),
                    "chat_hostname": "SN-CHAT-07_",
                    "message_token": check.next_token(),
                }
            )
        except Exception as exc:
            return self._invalid("set_webhook", 1, f"webhook unreachable: {exc}")
        if response.status != 200:
            return self._invalid("set_webhook", 1, f"webhook answered {response.status}")
        self.webhook_url = url
        self.event_types = list(event_types)
        return {
            "status": 0,
            "status_message": "ok",
            "chat_hostname": "SN-CHAT-07_",
            "event_types": list(event_types),
        }

    async def _get_account_info(self, body: bytes, payload: JsonDict) -> JsonDict:
        return {
            "status": 0,
            "status_message": "ok",
            "id": "pa:75346594275468546724",
            "name": self.account_name,
            "uri": "malopolskaotwarta",
            "icon": "https://example.org/avatar.jpg",
            "category": "Public Services",
            "subcategory": "Government",
            "location": {"lon": 19.94, "lat": 50.06},
            "country": "PL",
            "webhook": self.webhook_url or "",
            "event_types": self.event_types,
            "subscribers_count": len(self.subscribed),
            "members": [{"id": "01234567890A=", "name": "Admin", "role": "admin"}],
        }

    async def _send_message(self, body: bytes, payload: JsonDict) -> JsonDict:
        invalid = self._validate_message(body, payload)
        if invalid is not None:
            return self._invalid("send_message", *invalid)
        receiver = str(payload["receiver"])
        user = self.users.get(receiver)
        if user is None:
            return _error(5, "receiverNotRegistered")
        if receiver not in self.subscribed:
            return _error(6, "notSubscribed")
        if int(payload.get("min_api_version", 1)) > user.api_version:
            return _error(13, "apiVersionNotSupported")
        token = next(self._tokens)
        self.sent.append(SentMessage(token, receiver, payload, len(body), time.perf_counter()))
        return {
            "status": 0,
            "status_message": "ok",
            "message_token": token,
            "chat_hostname": "SN-CHAT-07_",
            "billing_status": 1,
        }

    def _validate_message(self, body: bytes, payload: JsonDict) -> tuple[int, str] | None:
        if len(body) > REQUEST_LIMIT:
            return 3, f"request of {len(body)} bytes is over 30 KB"
        if not payload.get("receiver"):
            return 4, "no receiver"
        sender = payload.get("sender")
        if not isinstance(sender, dict) or not isinstance(sender.get("name"), str):
            return 4, "no sender name"
        if len(sender["name"]) > SENDER_NAME_LIMIT:
            return 3, "sender name over 28 characters"
        kind = payload.get("type")
        if kind == "text":
            text = payload.get("text")
            if not isinstance(text, str) or not text:
                return 4, "text message without text"
            if len(text) > TEXT_LIMIT:
                return 3, f"text of {len(text)} characters"
        elif kind == "picture":
            if not isinstance(payload.get("media"), str):
                return 4, "picture without media"
            if len(str(payload.get("text", ""))) > CAPTION_LIMIT:
                return 3, "picture caption over 768 characters"
        elif kind == "location":
            location = payload.get("location")
            if not isinstance(location, dict) or not {"lat", "lon"} <= set(location):
                return 4, "location without lat/lon"
        elif kind == "contact":
            contact = payload.get("contact")
            if not isinstance(contact, dict) or not contact.get("phone_number"):
                return 4, "contact without a phone number"
        elif kind == "sticker":
            if not isinstance(payload.get("sticker_id"), int):
                return 4, "sticker without sticker_id"
        elif kind in ("file", "video"):
            if not isinstance(payload.get("size"), int) or not payload.get("media"):
                return 4, f"{kind} without media and size"
            if kind == "file" and not payload.get("file_name"):
                return 4, "file without file_name"
        elif kind == "url":
            if not payload.get("media"):
                return 4, "url without media"
        else:
            return 3, f"unknown message type {kind!r}"
        keyboard = payload.get("keyboard")
        if keyboard is not None:
            return _validate_keyboard(keyboard)
        return None


def _validate_keyboard(keyboard: Any) -> tuple[int, str] | None:
    if not isinstance(keyboard, dict) or keyboard.get("Type", "keyboard") != "keyboard":
        return 3, "keyboard is not a keyboard object"
    buttons = keyboard.get("Buttons")
    if not isinstance(buttons, list) or not buttons:
        return 4, "keyboard without Buttons"
    for button in buttons:
        if not isinstance(button, dict):
            return 3, "a button is not an object"
        columns = button.get("Columns", 6)
        rows = button.get("Rows", 1)
        if not isinstance(columns, int) or not 1 <= columns <= 6:
            return 3, f"Columns {columns!r}"
        if not isinstance(rows, int) or not 1 <= rows <= 2:
            return 3, f"Rows {rows!r}"
        if button.get("ActionType", "reply") not in ACTION_TYPES:
            return 3, f"ActionType {button.get('ActionType')!r}"
        if not isinstance(button.get("ActionBody"), str) or not button["ActionBody"]:
            return 4, "button without ActionBody"
        if not any(button.get(k) for k in ("Text", "Image", "BgMedia", "BgColor")):
            return 4, "button without Text"
    return None


def _error(status: int, message: str) -> JsonDict:
    return {"status": status, "status_message": message}


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class CallbackResult:
    status: int
    body: bytes
    payload: JsonDict = field(default_factory=dict)

    def json(self) -> JsonDict:
        return json.loads(self.body) if self.body else {}


class ViberCallbacks:
    """Viber's side of the webhook: builds real callback payloads, signs and POSTs them.

    ``api`` (the double) is kept informed: a message subscribes its sender, ``unsubscribed``
    unsubscribes, and :meth:`tap` reads the keyboard the person last received.
    """

    def __init__(self, url: str, token: str, api: ViberApiDouble | None = None) -> None:
        self.url = url
        self.token = token
        self.api = api
        self._tokens = itertools.count(4912661846655238145)

    def next_token(self) -> int:
        return next(self._tokens)

    async def post_raw(
        self, body: bytes, signature: str | None = None, *, sign_it: bool = True
    ) -> CallbackResult:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Viber-Content-Signature"] = signature
        elif sign_it:
            headers["X-Viber-Content-Signature"] = sign(self.token, body)
        async with (
            ClientSession(timeout=ClientTimeout(total=30)) as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            return CallbackResult(response.status, await response.read())

    async def post(self, payload: JsonDict) -> CallbackResult:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        result = await self.post_raw(body)
        result.payload = payload
        return result

    # -- payloads ----------------------------------------------------------------------------

    def _register(self, user: ViberUser) -> None:
        if self.api is not None:
            self.api.add_user(user)

    def message_payload(
        self, user: ViberUser, message: JsonDict, *, token: int | None = None
    ) -> JsonDict:
        return {
            "event": "message",
            "timestamp": _now_ms(),
            "chat_hostname": "SN-CHAT-07_",
            "message_token": token if token is not None else self.next_token(),
            "sender": user.to_dict(),
            "message": message,
            "silent": False,
        }

    async def message(self, user: ViberUser, message: JsonDict, **kwargs: Any) -> CallbackResult:
        """A message from ``user`` (which, as on Viber, subscribes them)."""
        self._register(user)
        result = await self.post(self.message_payload(user, message, **kwargs))
        if self.api is not None and result.status == 200:
            self.api.subscribed.add(user.id)
        return result

    async def text(self, user: ViberUser, text: str, **kwargs: Any) -> CallbackResult:
        return await self.message(
            user, {"type": "text", "text": text, "tracking_data": "tracking data"}, **kwargs
        )

    async def picture(
        self, user: ViberUser, caption: str = "", url: str = "https://dl-media.viber.com/1.jpg"
    ) -> CallbackResult:
        return await self.message(
            user,
            {
                "type": "picture",
                "text": caption,
                "media": url,
                "thumbnail": url + "?thumb",
                "file_name": "photo.jpg",
                "size": 123456,
            },
        )

    async def tap(self, user: ViberUser, label: str) -> CallbackResult:
        """Press the button whose label contains ``label`` on the keyboard the person sees:
        Viber sends the button's ActionBody back as an ordinary text message."""
        assert self.api is not None
        buttons = self.api.keyboard_of(user.id)
        for button in buttons:
            if label in str(button.get("Text", "")) and button.get("ActionType") == "reply":
                return await self.message(user, {"type": "text", "text": button["ActionBody"]})
        raise AssertionError(f"no button {label!r} in {[b.get('Text') for b in buttons]}")

    async def conversation_started(
        self, user: ViberUser, *, subscribed: bool = False, context: str | None = None
    ) -> CallbackResult:
        self._register(user)
        payload: JsonDict = {
            "event": "conversation_started",
            "timestamp": _now_ms(),
            "chat_hostname": "SN-CHAT-07_",
            "message_token": self.next_token(),
            "type": "open",
            "user": user.to_dict(),
            "subscribed": subscribed,
        }
        if context is not None:
            payload["context"] = context
        return await self.post(payload)

    async def subscribed(self, user: ViberUser) -> CallbackResult:
        self._register(user)
        if self.api is not None:
            self.api.subscribed.add(user.id)
        return await self.post(
            {
                "event": "subscribed",
                "timestamp": _now_ms(),
                "chat_hostname": "SN-CHAT-07_",
                "user": user.to_dict(),
                "message_token": self.next_token(),
            }
        )

    async def unsubscribed(self, user: ViberUser) -> CallbackResult:
        if self.api is not None:
            self.api.subscribed.discard(user.id)
        return await self.post(
            {
                "event": "unsubscribed",
                "timestamp": _now_ms(),
                "chat_hostname": "SN-CHAT-07_",
                "user_id": user.id,
                "message_token": self.next_token(),
            }
        )

    async def receipt(
        self, event: str, message_token: int, user: ViberUser, desc: str | None = None
    ) -> CallbackResult:
        """``delivered`` / ``seen`` / ``failed`` (with ``desc``) for one of our messages."""
        payload: JsonDict = {
            "event": event,
            "timestamp": _now_ms(),
            "chat_hostname": "SN-CHAT-07_",
            "message_token": message_token,
            "user_id": user.id,
        }
        if desc is not None:
            payload["desc"] = desc
        return await self.post(payload)
