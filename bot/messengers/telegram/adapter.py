"""Telegram end to end: the PTB application, update intake (polling or webhook), the command
menu, the lifecycle.

Inbound. A PTB :class:`~telegram.ext.Application` (``.updater(None)``) dispatches every update
through :class:`~bot.messengers.telegram.ordering.ChatOrderedUpdateProcessor` to one handler
that translates it (:mod:`~bot.messengers.telegram.inbound`) and hands it to the engine
(:class:`~bot.ports.EventSink`). An update is acknowledged to Telegram only after the engine has
committed it: by the webhook (:mod:`~bot.messengers.telegram.webhook`) or the poller
(:mod:`~bot.messengers.telegram.poller`); a failed one holds back its chat
(:mod:`~bot.messengers.telegram.holdback`).

Outbound is :class:`~bot.messengers.telegram.sender.TelegramSender`, on the same ``Bot``
(:func:`~bot.messengers.telegram.http.telegram_bot`), built before the adapter so the outbox
can have it before the engine exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from telegram import Bot as PtbBot
from telegram import CallbackQuery, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, TypeHandler

from bot import metrics
from bot.i18n import command_descriptions as default_command_descriptions
from bot.messengers.telegram.commands import CommandDescriptions, set_commands
from bot.messengers.telegram.holdback import HeldBack, HoldBack, is_transient
from bot.messengers.telegram.http import telegram_bot
from bot.messengers.telegram.inbound import chat_key_of, update_to_event, update_type_of
from bot.messengers.telegram.ordering import MAX_RUNNING_UPDATES, ChatOrderedUpdateProcessor
from bot.messengers.telegram.poller import TelegramPoller
from bot.messengers.telegram.protocol import ALLOWED_UPDATES, PLATFORM, WEBHOOK_PATH
from bot.messengers.telegram.webhook import TelegramWebhook
from bot.poison import PoisonGuard
from bot.ports import CredentialsRejected, EventSink, MessengerUnreachable
from bot.supervisor import DATABASE, describe

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.supervisor import Supervisor

log = logging.getLogger(__name__)


class TelegramAdapter:
    """Implements the composition root's ``Messenger`` for Telegram.

    Lifecycle: :meth:`initialize` (getMe, command menu; a rejected token raises
    :class:`~bot.ports.CredentialsRejected`, an unreachable API
    :class:`~bot.ports.MessengerUnreachable`) → :meth:`start` (dispatching, then the webhook
    or polling) → :meth:`stop` (no more intake; updates in flight finish) → :meth:`close`
    (the Bot's connections, once nothing is sent any more). ``routes()`` gives the webhook
    route for our HTTP server.
    """

    platform = PLATFORM

    def __init__(
        self,
        settings: Settings,
        sink: EventSink,
        *,
        bot: PtbBot | None = None,
        command_descriptions: CommandDescriptions = default_command_descriptions,
        max_running: int = MAX_RUNNING_UPDATES,
        failure_backoff: float = 0.5,
    ) -> None:
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self._settings = settings
        self.sink = sink
        self.failure_backoff = failure_backoff  # first wait after a failed batch (doubles)
        self._command_descriptions = command_descriptions
        self._consultant_chat_id = settings.consultant_chat_id
        self.use_webhook = bool(settings.public_url)

        self.processor = ChatOrderedUpdateProcessor(max_running, on_done=self._on_processed)
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .bot(bot if bot is not None else telegram_bot(settings))
            .updater(None)
            .concurrent_updates(self.processor)
            .build()
        )
        self.application.add_handler(TypeHandler(Update, self._handle_update))
        self.application.add_error_handler(self._on_error)
        self.webhook = TelegramWebhook(self, settings.webhook_secret() or "")

        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._outcomes: dict[int, BaseException] = {}
        self._hold_back = HoldBack()
        #: Poison updates (unparsable, or failing POISON_ATTEMPTS times); its ``db`` is set by
        #: the composition root.
        self.poison = PoisonGuard(PLATFORM.value, attempts=settings.poison_attempts)
        #: Set by the composition root: the poller then runs as its supervised worker.
        self.supervisor: Supervisor | None = None
        self._poller: TelegramPoller | None = None
        self._accepting = False
        self._initialized = False
        self._started = False

    @property
    def bot(self) -> PtbBot:
        return self.application.bot

    @property
    def accepting(self) -> bool:
        return self._accepting

    # ------------------------------------------------------------ lifecycle

    async def initialize(self) -> None:
        """Check the token (getMe) and publish the command menu."""
        try:
            await self.application.initialize()
        except InvalidToken as exc:
            raise CredentialsRejected(
                "telegram rejected TELEGRAM_BOT_TOKEN; check the token"
            ) from exc
        except NetworkError as exc:
            raise MessengerUnreachable(f"telegram: {exc.message}") from exc
        self._initialized = True
        log.info("telegram bot @%s ready", self.bot.username)
        await self.set_commands()

    async def start(self) -> None:
        """Start dispatching, then receiving updates: register the webhook, or start polling."""
        if not self._initialized:
            await self.initialize()
        if not self._started:  # a retried start (the Bot API failed after this) skips it
            await self.application.start()
            self._started = True
        try:
            await self._receive()
        except NetworkError as exc:
            raise MessengerUnreachable(f"telegram: {exc.message}") from exc

    async def _receive(self) -> None:
        """Register the webhook, or start polling."""
        if self.use_webhook:
            url = f"{(self._settings.public_url or '').rstrip('/')}{WEBHOOK_PATH}"
            await self.bot.set_webhook(
                url=url,
                secret_token=self._settings.webhook_secret() or "",
                allowed_updates=list(ALLOWED_UPDATES),
                max_connections=40,
            )
            self._accepting = True
            log.info("telegram: receiving updates by webhook at %s", url)
        else:
            log.info("telegram: receiving updates by polling")
            self._accepting = True
            await self.bot.delete_webhook(drop_pending_updates=False)
            self._poller = TelegramPoller(self)
            self._poller.start(self.supervisor)

    async def stop(self) -> None:
        """Stop taking updates and let the ones in flight finish (the Bot still sends, so the
        outbox can drain; :meth:`close` ends that)."""
        self._accepting = False
        if self._poller is not None:
            await self._poller.stop()
            self._poller = None
        if self._started:
            self._started = False
            await self.application.stop()  # waits for the updates in flight

    async def close(self) -> None:
        """Release PTB's HTTP connections (after :meth:`stop`, once nothing is sent any more)."""
        await self.stop()
        if self._initialized:
            self._initialized = False
            await self.application.shutdown()
        # Also when getMe never succeeded (PTB closes its requests only after it): a failed
        # attempt may have opened their sessions ("Unclosed client session" otherwise).
        for request in getattr(self.bot, "_request", ()):
            await request.shutdown()

    async def set_commands(self) -> None:
        await set_commands(self.bot, self._command_descriptions)

    # ------------------------------------------------------------ intake

    async def submit(self, update: Update) -> None:
        """Queue ``update`` for processing and wait until the engine has committed it.

        Raises what processing raised (the update must not be acknowledged then)."""
        metrics.UPDATES_RECEIVED.labels(PLATFORM.value).inc()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(update.update_id, []).append(future)
        try:
            await self.application.update_queue.put(update)
            await future
        finally:
            waiters = self._waiters.get(update.update_id)
            if waiters is not None:
                with contextlib.suppress(ValueError):
                    waiters.remove(future)
                if not waiters:
                    del self._waiters[update.update_id]

    async def _handle_update(self, update: Update, context: Any) -> None:
        """The one PTB handler: translate, hand to the engine, answer button spinners."""
        chat = chat_key_of(update)
        if chat is not None and self._hold_back.is_held_back(chat, update.update_id):
            self._outcomes[update.update_id] = HeldBack(update.update_id)
            return
        try:
            event = update_to_event(
                update,
                bot_username=self.bot.username if self._initialized else None,
                consultant_chat_id=self._consultant_chat_id,
            )
        except Exception as exc:
            # A bug in translation: retrying cannot help; set aside, and acknowledged.
            metrics.UPDATES_FAILED.labels(PLATFORM.value).inc()
            await self.poison.set_aside(
                str(update.update_id), update_type_of(update), exc, reason="untranslatable"
            )
            if chat is not None:
                self._hold_back.release(chat, update.update_id)
            return
        if event is None:
            log.debug("telegram update %s ignored (not for us)", update.update_id)
        else:
            log.debug("telegram update %s: %s event", update.update_id, event.kind.value)
            try:
                await self.sink.process(event)
            except Exception as exc:
                metrics.UPDATES_FAILED.labels(PLATFORM.value).inc()
                self._outcomes[update.update_id] = exc
                if chat is not None:
                    self._hold_back.hold(chat, update.update_id)
                return
        if chat is not None:
            self._hold_back.release(chat, update.update_id)
        if update.callback_query is not None:
            await self._answer_callback(update.callback_query)

    async def _answer_callback(self, query: CallbackQuery) -> None:
        """Stop the button's spinner. Best effort: an old query cannot be answered anyway."""
        try:
            await query.answer()
        except TelegramError as exc:
            log.debug("answerCallbackQuery failed: %s", exc)

    def _on_processed(self, update: object) -> None:
        if not isinstance(update, Update):
            return
        error = self._outcomes.pop(update.update_id, None)
        for future in self._waiters.get(update.update_id, ()):
            if not future.done():
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)

    async def _on_error(self, update: object, context: Any) -> None:
        log.error("error while handling a telegram update", exc_info=context.error)

    async def record_attempt(self, update: Update, error: BaseException) -> bool:
        """Count a failed attempt; ``True`` while the update should be retried, ``False``
        once it was set aside as poison (``POISON_ATTEMPTS`` failures that were not outages)."""
        if isinstance(error, HeldBack):
            return True
        if is_transient(error):
            DATABASE.failed(error)  # logs the outage once (a network error: nothing)
            return True
        update_id = update.update_id
        attempts = self.poison.failed(str(update_id), error)
        if attempts is None:
            log.warning(
                "telegram update %s failed (%s); it will be tried again",
                update_id,
                describe(error),
            )
            return True
        chat = chat_key_of(update)
        if chat is not None:
            self._hold_back.release(chat, update_id)
        await self.poison.set_aside(
            str(update_id), update_type_of(update), error, reason="failing", attempts=attempts
        )
        return False

    def forget_attempts(self, update_id: int) -> None:
        self.poison.succeeded(str(update_id))

    # ------------------------------------------------------------ webhook

    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes this adapter contributes (the webhook, when configured)."""
        return [self.webhook.route()] if self.use_webhook else []
