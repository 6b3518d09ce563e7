"""``POST /viber/webhook``: Viber's callbacks, verified, translated, and acknowledged only once
they are safe.

Order of checks: a body over :data:`MAX_CALLBACK_BYTES` → 413 (not even read whole); a missing
or wrong ``X-Viber-Content-Signature`` (hex HMAC-SHA256 of the raw body keyed by the auth token,
compared in constant time) → 403 and nothing else happens; a body that is not a callback → 400.

Then, by event:

- ``webhook`` (Viber checking the URL during ``set_webhook``) → 200;
- ``conversation_started`` → 200 whose body is the welcome message (Viber's only way to greet
  someone who has not subscribed yet; the person is not stored until they write);
- ``delivered`` / ``seen`` / ``failed`` → counted, ``failed`` logged with Viber's description and
  its outbox row marked failed → 200;
- ``message``, ``subscribed``, ``unsubscribed`` → an :class:`~handlers.model.IncomingEvent` for
  the engine, whose :meth:`~bot.ports.EventSink.process` records the dedupe key
  (``message_token``), runs the handlers and queues the replies in ONE transaction.

**Exactly once, in effect.** The answer is 200 only after that transaction committed; if it
fails, or the process dies before, Viber gets no 200 and sends the callback again (its re-try
logic), and we start over. If the process dies after the commit but before Viber saw the 200,
the redelivered callback finds its ``message_token`` recorded and is answered 200 without
being handled again; the replies are already in the outbox, which survives restarts. So nothing
is lost and nothing doubled, with no second store: the engine's commit *is* the durable record.
Processing is a few milliseconds (one transaction; the matcher is in memory), well within the
time Viber waits. Callbacks of one person are handled one after another, in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import Counter

from bot import metrics
from bot.messengers.viber.inbound import (
    Callback,
    MalformedCallback,
    callback_to_event,
    parse_callback,
)
from bot.messengers.viber.protocol import SIGNATURE_HEADER, dumps, verify_signature
from bot.poison import PoisonGuard
from bot.ports import EventSink
from bot.supervisor import DATABASE, describe
from handlers.model import IncomingEvent, Platform

log = logging.getLogger(__name__)

PLATFORM = Platform.VIBER
WEBHOOK_PATH = "/viber/webhook"
#: A callback is well under 10 KB (a text message is at most 7,000 characters).
MAX_CALLBACK_BYTES = 64 * 1024

KNOWN_EVENTS = frozenset(
    {
        "webhook",
        "conversation_started",
        "subscribed",
        "unsubscribed",
        "message",
        "delivered",
        "seen",
        "failed",
    }
)
RECEIPT_EVENTS = frozenset({"delivered", "seen", "failed"})

CALLBACKS = Counter(
    "otwarta_viber_callbacks",
    "Viber callbacks with a valid signature, by event (delivery receipts included).",
    ["event"],
)
REJECTED = Counter(
    "otwarta_viber_callbacks_rejected",
    "Viber webhook requests refused, by reason (signature, malformed, too_large).",
    ["reason"],
)

WelcomeBuilder = Callable[[Callback], Awaitable[dict[str, Any] | None]]
ReceiptTracker = Callable[[Callback], Awaitable[None]]
SinkProvider = Callable[[], EventSink | None]
EventObserver = Callable[[IncomingEvent], None]


@dataclass
class _ChatLock:
    lock: asyncio.Lock
    users: int = 0


class ViberWebhook:
    """The request handler; ``sink()`` is the engine, or ``None`` while not accepting."""

    def __init__(
        self,
        auth_token: str,
        sink: SinkProvider,
        *,
        welcome: WelcomeBuilder,
        track: ReceiptTracker | None = None,
        observe: EventObserver | None = None,
        max_body: int = MAX_CALLBACK_BYTES,
        poison: PoisonGuard | None = None,
    ) -> None:
        """``observe`` is told of each event before it is processed and again right after its
        commit (before anything else runs), e.g. to forget what the turn may have changed."""
        self._token = auth_token
        self._sink = sink
        self._welcome = welcome
        self._track = track
        self._observe = observe
        self._max_body = max_body
        self.poison = poison if poison is not None else PoisonGuard(PLATFORM.value)
        self._chats: dict[str, _ChatLock] = {}

    def route(self) -> web.RouteDef:
        return web.post(WEBHOOK_PATH, self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await self._read(request)
        if body is None:
            _rejected("too_large")
            return web.Response(status=413, text="too large")
        if not verify_signature(self._token, body, request.headers.get(SIGNATURE_HEADER)):
            _rejected("signature")
            return web.Response(status=403, text="forbidden")
        try:
            callback = parse_callback(body)
        except MalformedCallback as exc:
            _rejected("malformed")
            return web.Response(status=400, text=f"bad callback: {exc}")
        event = callback.event
        CALLBACKS.labels(event if event in KNOWN_EVENTS else "other").inc()
        metrics.UPDATES_RECEIVED.labels(PLATFORM.value).inc()

        if event == "conversation_started":
            return await self._conversation_started(callback)
        if event in RECEIPT_EVENTS:
            await self._receipt(callback)
            return _ok()
        try:
            incoming = callback_to_event(callback)
        except MalformedCallback as exc:
            if callback.message_token is None:
                _rejected("malformed")
                return web.Response(status=400, text=f"bad callback: {exc}")
            # Signed by Viber but not a message we can read: Viber would send it again and
            # again. Set it aside (recorded once), and say it arrived.
            await self.poison.set_aside(
                str(callback.message_token), event, exc, reason="unparsable"
            )
            return _ok()
        if incoming is None:  # "webhook" (set_webhook's check) and events we do not use
            return _ok()
        sink = self._sink()
        if sink is None:
            return web.Response(status=503, text="not accepting callbacks")
        if self._observe is not None:
            self._observe(incoming)
        try:
            async with self._chat_lock(incoming.sender.user_id):
                await sink.process(incoming)
                if self._observe is not None:  # again, right after the commit (see observe)
                    self._observe(incoming)
        except Exception as exc:
            metrics.UPDATES_FAILED.labels(PLATFORM.value).inc()
            if DATABASE.failed(exc):  # an outage: logged once, never held against the callback
                return web.Response(status=503, text="database unavailable")
            key = incoming.dedupe_key
            attempts = self.poison.failed(key, exc)
            if attempts is None:
                log.warning(
                    "viber %s callback failed (%s); Viber will send it again", event, describe(exc)
                )
                return web.Response(status=500, text="processing failed")
            await self.poison.set_aside(key, event, exc, reason="failing", attempts=attempts)
            return _ok()
        self.poison.succeeded(incoming.dedupe_key)
        return _ok()

    async def _read(self, request: web.Request) -> bytes | None:
        """The raw body (the signature covers its exact bytes), ``None`` if over the limit."""
        if request.content_length is not None and request.content_length > self._max_body:
            return None
        body = bytearray()
        async for chunk in request.content.iter_chunked(16 * 1024):
            body += chunk
            if len(body) > self._max_body:
                return None
        return bytes(body)

    async def _conversation_started(self, callback: Callback) -> web.Response:
        try:
            message = await self._welcome(callback)
        except Exception:
            log.exception("viber: could not build the welcome message")
            message = None
        if message is None:
            return _ok()
        return web.Response(body=dumps(message), content_type="application/json", charset="utf-8")

    async def _receipt(self, callback: Callback) -> None:
        if callback.event == "failed":
            log.warning(
                "viber could not deliver message %s: %s",
                callback.message_token,
                str(callback.data.get("desc", ""))[:300],
            )
        if self._track is None:
            return
        try:
            await self._track(callback)
        except Exception:
            log.warning("viber: could not record a %s receipt", callback.event, exc_info=True)

    def _chat_lock(self, user_id: str) -> _ChatGuard:
        return _ChatGuard(self._chats, user_id)


class _ChatGuard:
    """Holds one person's lock; the lock lives only while that person has callbacks in flight."""

    def __init__(self, chats: dict[str, _ChatLock], key: str) -> None:
        self._chats = chats
        self._key = key
        self._entry: _ChatLock | None = None

    async def __aenter__(self) -> None:
        entry = self._chats.get(self._key)
        if entry is None:
            entry = self._chats[self._key] = _ChatLock(asyncio.Lock())
        entry.users += 1
        self._entry = entry
        try:
            await entry.lock.acquire()
        except BaseException:
            self._release_entry()
            raise

    async def __aexit__(self, *exc: object) -> None:
        assert self._entry is not None
        self._entry.lock.release()
        self._release_entry()

    def _release_entry(self) -> None:
        entry = self._entry
        if entry is None:
            return
        entry.users -= 1
        if entry.users == 0 and self._chats.get(self._key) is entry:
            del self._chats[self._key]
        self._entry = None


def _rejected(reason: str) -> None:
    REJECTED.labels(reason).inc()
    metrics.WEBHOOKS_REJECTED.labels(PLATFORM.value, reason).inc()


def _ok() -> web.Response:
    return web.Response(status=200, text="ok")
