"""Viber end to end: the client, the webhook, the sender, the welcome, the receipts.

Lifecycle (driven by :mod:`bot.app`): :meth:`ViberAdapter.initialize` checks the token
(``get_account_info``); the composition root, which built the adapter with the engine as its
sink, mounts :meth:`ViberAdapter.routes` on the HTTP server and starts it;
:meth:`ViberAdapter.start` then registers the webhook (``set_webhook`` to
``PUBLIC_URL + /viber/webhook``, retried in the background until Viber accepts it: Viber checks
the URL by calling it, so the server must be up first); :meth:`ViberAdapter.stop` stops taking
callbacks (Viber sends them again later); :meth:`ViberAdapter.close` closes the HTTP client.

Viber has no polling: without ``PUBLIC_URL`` nothing reaches the bot unless the webhook was
registered some other way (a reverse proxy in front of ``/viber/webhook``); we say so at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.i18n import N_, normalize_language
from bot.i18n import translator_for as catalogs
from bot.logging import register_secret
from bot.messengers.viber.client import ViberClient, ViberError, ViberStatusError
from bot.messengers.viber.inbound import Callback
from bot.messengers.viber.media import MediaLinks, media_links_for
from bot.messengers.viber.protocol import MIN_API_VERSION, SENDER_NAME
from bot.messengers.viber.render import build_keyboard
from bot.messengers.viber.sender import ViberSender, nav_buttons
from bot.messengers.viber.store import ViberStore
from bot.messengers.viber.webhook import WEBHOOK_PATH, ViberWebhook
from bot.poison import PoisonGuard
from bot.ports import CredentialsRejected, EventSink
from faq.languages import LANGS
from handlers.context import TranslatorFactory
from handlers.model import Address, IncomingEvent, Platform
from handlers.ui import language_rows

if TYPE_CHECKING:
    from bot.db import Database
    from bot.settings import Settings
    from bot.supervisor import Supervisor

log = logging.getLogger(__name__)

PLATFORM = Platform.VIBER
HEALTH_PATH = "/viber/health"
#: ``get_account_info`` answers are reused this long by ``/viber/health``.
HEALTH_CACHE_SECONDS = 30.0
_REGISTER_RETRY_MAX = 300.0
_INVALID_TOKEN = 2
_PEOPLE_KEPT = 50_000  # per-person memory (languages) is bounded: least recent dropped
#: How long a person's chosen language is reused before it is read again (see _language_of).
LANGUAGE_CACHE_SECONDS = 30.0

# UI strings (msgids of the babel catalogs).
WELCOME_CHOOSE_LANGUAGE = N_("👋 Welcome! Please choose your language:")
WELCOME_BACK = N_(
    "👋 Welcome back! Type your question in your own words or pick a topic from the menu."
)


def welcome_message(
    translator_for: TranslatorFactory, *, device_lang: str | None, known_lang: str | None
) -> dict[str, Any]:
    """The message Viber shows someone who opens the chat (``conversation_started``).

    Someone new gets the language choice, asked in all four languages (theirs first when their
    phone speaks one of ours); someone we know gets a greeting in their language and the
    bottom keyboard.
    """
    if known_lang is not None:
        t = translator_for(known_lang)
        text = t.gettext(WELCOME_BACK)
        keyboard = build_keyboard((), nav_buttons(t))
    else:
        order = [device_lang] if device_lang in LANGS else []
        order += [code for code in LANGS if code not in order]
        lines = [translator_for(code).gettext(WELCOME_CHOOSE_LANGUAGE) for code in order]
        text = "\n".join(dict.fromkeys(lines))  # an untranslated line only once
        keyboard = build_keyboard(language_rows(), ())
    message: dict[str, Any] = {
        "sender": {"name": SENDER_NAME},
        "min_api_version": MIN_API_VERSION,
        "type": "text",
        "text": text,
    }
    if keyboard is not None:
        message["keyboard"] = keyboard
    return message


@dataclass(frozen=True)
class ViberOutlet:
    """Viber's outgoing half, built before the engine (the outbox needs the sender): the REST
    client, the signed media links (consultants' Telegram files, when ``PUBLIC_URL`` is set)
    and the sender. :class:`ViberAdapter` takes it in."""

    client: ViberClient
    sender: ViberSender
    media_links: MediaLinks | None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        translator_for: TranslatorFactory,
        db: Database | None = None,
        client: ViberClient | None = None,
    ) -> ViberOutlet:
        """``db`` answers the person's language for replies that do not carry it (rows queued
        before replies carried their language)."""
        if settings.viber_auth_token is None:
            raise ValueError("VIBER_AUTH_TOKEN is not set")
        token = settings.viber_auth_token.get_secret_value()
        register_secret(token)  # never in a log line, whoever logs
        client = client or ViberClient(token, settings.viber_api_url)
        # Consultants' Telegram files reach Viber through signed links to our server.
        bot_token = settings.telegram_bot_token
        media_links = media_links_for(
            token,
            settings.public_url,
            bot_token.get_secret_value() if bot_token is not None else None,
            settings.telegram_api_url,
        )
        sender = ViberSender(
            client,
            translator_for=translator_for,
            language_of=ViberStore(db).language_of if db is not None else None,
            messages_per_second=settings.viber_messages_per_second,
            media_links=media_links,
        )
        return cls(client, sender, media_links)


class ViberAdapter:
    """Implements the composition root's ``Messenger`` for Viber."""

    platform = PLATFORM

    def __init__(
        self,
        settings: Settings,
        sink: EventSink,
        *,
        translator_for: TranslatorFactory = catalogs,
        outlet: ViberOutlet | None = None,
        db: Database | None = None,
    ) -> None:
        if settings.viber_auth_token is None:
            raise ValueError("VIBER_AUTH_TOKEN is not set")
        token = settings.viber_auth_token.get_secret_value()
        if outlet is None:
            outlet = ViberOutlet.from_settings(settings, translator_for=translator_for, db=db)
        self._translator_for = translator_for
        self.client = outlet.client
        self.sender = outlet.sender
        self.media_links = outlet.media_links
        self.sink = sink
        self.public_url = settings.public_url
        self._store = ViberStore(db) if db is not None else None
        #: Poison callbacks (unreadable, or failing POISON_ATTEMPTS times), recorded in ``db``.
        self.poison = PoisonGuard(PLATFORM.value, attempts=settings.poison_attempts, db=db)
        #: Set by the composition root: webhook registration then runs as a supervised worker.
        self.supervisor: Supervisor | None = None
        self.webhook = ViberWebhook(
            token,
            self._accepting_sink,
            welcome=self.welcome,
            track=self.track_receipt,
            observe=self._observe,
            poison=self.poison,
        )
        # The phone's language of people who have not chosen one (handlers answer in it): the
        # welcome should speak it too. In memory and bounded; English after a restart.
        self._device_langs: OrderedDict[str, str] = OrderedDict()
        self._chosen_langs: OrderedDict[str, tuple[str | None, float]] = OrderedDict()
        self.account: dict[str, Any] | None = None
        self.webhook_registered = asyncio.Event()
        self._accepting = False
        self._register_task: asyncio.Task[None] | None = None
        self._health: tuple[float, bool] = (0.0, False)

    # -- wiring -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The webhook, Viber's health check and the media links, for the HTTP server."""
        routes = [self.webhook.route(), web.get(HEALTH_PATH, self._health_check)]
        if self.media_links is not None:
            routes.append(self.media_links.route())
        return routes

    def _accepting_sink(self) -> EventSink | None:
        return self.sink if self._accepting else None

    async def _language_of(self, address: Address) -> str | None:
        """The person's chosen language, else their phone's (if one of ours).

        Every message carries the bottom keyboard in it, so this is asked for every send:
        the chosen language is cached per person (a database read per send would cost more
        than the send). A language changes only in a turn of that person's own event, and
        the webhook drops their entry before and right after each such turn commits, so this
        process never serves a stale one; other processes (PostgreSQL) may, for at most
        :data:`LANGUAGE_CACHE_SECONDS`.
        """
        key = address.chat_id
        now = time.monotonic()
        cached = self._chosen_langs.get(key)
        if cached is not None and cached[1] > now:
            chosen = cached[0]
        else:
            store = self._store
            chosen = await store.language_of(address) if store is not None else None
            self._chosen_langs[key] = (chosen, now + LANGUAGE_CACHE_SECONDS)
            self._chosen_langs.move_to_end(key)
            while len(self._chosen_langs) > _PEOPLE_KEPT:
                self._chosen_langs.popitem(last=False)
        return chosen or self._device_langs.get(key)

    def _observe(self, event: IncomingEvent) -> None:
        key = event.sender.user_id
        self._chosen_langs.pop(key, None)
        lang = normalize_language(event.sender.language_code)
        self._device_langs.pop(key, None)
        if lang is not None:
            self._device_langs[key] = lang
            while len(self._device_langs) > _PEOPLE_KEPT:
                self._device_langs.popitem(last=False)

    # -- lifecycle ----------------------------------------------------------------------------

    async def initialize(self) -> None:
        """Check the token with ``get_account_info`` (a rejected token raises
        :class:`~bot.ports.CredentialsRejected`, which stops the bot; an
        unreachable API does not: the webhook still takes callbacks and sending retries)."""
        try:
            self.account = await self.client.get_account_info()
        except ViberStatusError as exc:
            if exc.status == _INVALID_TOKEN:
                raise CredentialsRejected(
                    "viber rejected VIBER_AUTH_TOKEN; check the token"
                ) from None
            log.error("viber get_account_info failed: %s", exc)
            return
        except ViberError as exc:
            log.warning("viber API unreachable at start (%s); carrying on", exc)
            return
        self._health = (time.monotonic(), True)
        log.info("viber bot %r ready", self.account.get("name"))

    async def start(self) -> None:
        """Take callbacks; register the webhook when ``PUBLIC_URL`` is set."""
        self._accepting = True
        if not self.public_url:
            log.warning(
                "viber: PUBLIC_URL is not set, so the webhook is not registered; Viber has no "
                "polling and reaches the bot only through %s",
                WEBHOOK_PATH,
            )
            return
        if self.supervisor is not None:
            self.supervisor.start(
                "viber-webhook",
                lambda _worker: self._register_webhook(),
                once=True,
                down="webhook not registered yet",
            )
            return
        self._register_task = asyncio.create_task(
            self._register_webhook(), name="viber-set-webhook"
        )

    @property
    def webhook_url(self) -> str | None:
        return f"{self.public_url.rstrip('/')}{WEBHOOK_PATH}" if self.public_url else None

    async def _register_webhook(self) -> None:
        url = self.webhook_url
        assert url is not None
        delay = 1.0
        while True:
            try:
                await self.client.set_webhook(url)
            except ViberError as exc:
                log.warning("viber set_webhook failed (%s); retrying in %.0fs", exc, delay)
                if self.supervisor is not None:
                    if await self.supervisor.sleep(delay):
                        return  # shutting down
                else:
                    await asyncio.sleep(delay)
                delay = min(_REGISTER_RETRY_MAX, delay * 2)
                continue
            log.info("viber webhook set to %s", url)
            self.webhook_registered.set()
            return

    async def stop(self) -> None:
        """Stop taking callbacks (answered 503: Viber sends them again later)."""
        self._accepting = False
        task, self._register_task = self._register_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        await self.client.close()
        if self.media_links is not None:
            await self.media_links.close()

    # -- callbacks the webhook answers itself -------------------------------------------------

    async def welcome(self, callback: Callback) -> dict[str, Any] | None:
        """The ``conversation_started`` answer (see :func:`welcome_message`)."""
        user = callback.data.get("user")
        user = user if isinstance(user, dict) else {}
        language = user.get("language")
        device_lang = normalize_language(language if isinstance(language, str) else None)
        known_lang = None
        user_id = callback.user_id
        if user_id is not None:
            known_lang = await self._language_of(Address(PLATFORM, user_id))
        return welcome_message(self._translator_for, device_lang=device_lang, known_lang=known_lang)

    async def track_receipt(self, callback: Callback) -> None:
        """``failed`` receipts mark their outbox row failed (``delivered``/``seen`` are only
        counted, by the webhook's metric)."""
        if callback.event != "failed" or callback.message_token is None:
            return
        store = self._store
        if store is not None:
            reason = str(callback.data.get("desc") or "no description")
            await store.delivery_failed(callback.message_token, reason)

    # -- health -------------------------------------------------------------------------------

    async def healthy(self) -> bool:
        """``get_account_info`` answers (cached for :data:`HEALTH_CACHE_SECONDS`)."""
        checked_at, ok = self._health
        if time.monotonic() - checked_at < HEALTH_CACHE_SECONDS:
            return ok
        try:
            self.account = await self.client.get_account_info()
            ok = True
        except ViberError as exc:
            log.warning("viber health check failed: %s", exc)
            ok = False
        self._health = (time.monotonic(), ok)
        return ok

    async def _health_check(self, request: web.Request) -> web.Response:
        if await self.healthy():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unavailable"}, status=503)
