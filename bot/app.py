"""``otwarta serve``: the composition root.

settings → logging → schema (migrated on the embedded SQLite; on PostgreSQL it must already be
at head: ``otwarta db upgrade`` is an explicit step there) → then everything is built in
dependency order, each part given what it needs at construction: the matcher → the database →
the messengers' outgoing halves (:class:`Outlets`: Telegram's ``Bot`` and sender, Viber's
client and sender) → the desk around Telegram's sender → the outbox with those senders and
the engine that wakes it (:func:`bot.engine.running_core`) → the adapters, with the engine as
their sink → the tokens checked (getMe) → the outbox started → the HTTP server with every
adapter's routes → updates in → run until SIGINT/SIGTERM.

Shutdown, in that order: stop taking updates (the ones in flight are committed and
acknowledged), stop the HTTP server, let the outbox deliver what is due for a few seconds,
stop it (claimed-but-unsent messages go back to the queue), close the messengers' clients and
the database. A ``kill -9`` anywhere loses nothing either: unacknowledged updates come back,
committed replies wait in the outbox.

Adding a messenger: give it a sender (:class:`bot.ports.MessageSender`) in :func:`outlets` and
an adapter (:class:`Messenger`) in :func:`messengers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from sqlalchemy import text

from bot.http import HttpServer
from bot.logging import setup_logging
from bot.ports import CredentialsRejected, EventSink, MessageSender, MessengerUnreachable

if TYPE_CHECKING:
    from telegram import Bot as PtbBot

    from bot.analytics.retention import RetentionJob
    from bot.db import Database
    from bot.desk.sync import DeskTopics
    from bot.engine import Core, Handler
    from bot.messengers.viber import ViberOutlet
    from bot.settings import Settings
    from faq.matcher import Matcher

log = logging.getLogger(__name__)

#: How long shutdown lets the outbox deliver what is already due.
DRAIN_SECONDS = 3.0
_INIT_RETRY_MAX = 30.0


class SchemaNotCurrent(RuntimeError):
    """The PostgreSQL schema is behind (or ahead of) the code's migrations."""


class Messenger(Protocol):
    """What the composition root needs from a messenger adapter (built with its sink).

    ``initialize`` raises :class:`~bot.ports.CredentialsRejected` for a refused token (the bot
    stops) and :class:`~bot.ports.MessengerUnreachable` while the API cannot be reached (it is
    retried)."""

    def routes(self) -> list[web.RouteDef]: ...

    async def initialize(self) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Outlets:
    """Every configured messenger's outgoing half, built before the engine (the outbox needs
    the senders; the adapters, built after the engine, run on the same clients)."""

    telegram_bot: PtbBot | None = None
    telegram_sender: MessageSender | None = None
    viber: ViberOutlet | None = None

    @property
    def senders(self) -> list[MessageSender]:
        found = [self.telegram_sender, self.viber.sender if self.viber is not None else None]
        return [sender for sender in found if sender is not None]

    def forum_topics(self) -> DeskTopics | None:
        """Telegram's forum topics (the consultant desk), when Telegram is configured."""
        if self.telegram_bot is None:
            return None
        from bot.messengers.telegram import TelegramForumTopics

        return TelegramForumTopics(self.telegram_bot)


def outlets(settings: Settings, db: Database) -> Outlets:
    """The senders of every messenger whose token is configured (no request is made yet)."""
    bot: PtbBot | None = None
    telegram_sender: MessageSender | None = None
    viber: ViberOutlet | None = None
    if settings.telegram_bot_token is not None:
        from bot.messengers.telegram import TelegramSender, telegram_bot

        bot = telegram_bot(settings)
        telegram_sender = TelegramSender(
            bot, messages_per_second=settings.telegram_messages_per_second
        )
    if settings.viber_auth_token is not None:
        from bot.i18n import translator_for
        from bot.messengers.viber import ViberOutlet

        viber = ViberOutlet.from_settings(settings, translator_for=translator_for, db=db)
    return Outlets(bot, telegram_sender, viber)


def messengers(
    settings: Settings, sink: EventSink, outlets: Outlets, db: Database
) -> list[Messenger]:
    """The adapter of every configured messenger, taking updates in for ``sink`` (the engine)."""
    found: list[Messenger] = []
    if outlets.telegram_bot is not None:
        from bot.messengers.telegram import TelegramAdapter

        # Updates in flight at once. More would not go faster: SQLite takes one write
        # transaction at a time, and on PostgreSQL every extra turn in flight takes event-loop
        # time from the outbox's deliveries (benchmarks/bench_telegram.py: 4 and 8 were best).
        found.append(
            TelegramAdapter(
                settings,
                sink,
                bot=outlets.telegram_bot,
                max_running=4 if settings.is_embedded_db else 8,
            )
        )
    # Viber: /viber/webhook goes to the HTTP server like any messenger's routes; its
    # initialize() never raises for an unreachable API.
    if outlets.viber is not None:
        from bot.messengers.viber import ViberAdapter

        found.append(ViberAdapter(settings, sink, outlet=outlets.viber, db=db))
    return found


async def database_ready(db: Database) -> bool:
    """``SELECT 1`` through the database layer: what ``/readyz`` reports."""
    async with db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return True


async def check_schema(database_url: str) -> None:
    """On PostgreSQL, refuse to start on a schema that is not at the newest migration."""
    from bot.db.engine import create_engine, is_sqlite
    from bot.db.migrate import current_revision, head_revision

    if is_sqlite(database_url):
        return  # the embedded database is migrated at start (open_core)
    engine = create_engine(database_url)
    try:
        current = await current_revision(engine)
    finally:
        await engine.dispose()
    head = head_revision()
    if current != head:
        raise SchemaNotCurrent(
            f"the database schema is at revision {current or 'none (empty database)'}, "
            f"the code needs {head}: run `otwarta db upgrade` first"
        )


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    handler: Handler | None = None,
    matcher: Matcher | None = None,
    on_ready: Callable[[HttpServer], Awaitable[None] | None] | None = None,
) -> None:
    """Run every configured messenger and the HTTP server until SIGINT/SIGTERM (or ``stop``).

    ``handler`` replaces the conversation router and ``matcher`` the one loaded from
    ``CONTENT_DIR`` (tests); ``on_ready`` is told the HTTP server once everything runs (its
    ``port`` is the real one when ``HTTP_PORT=0``).
    """
    setup_logging(settings)
    stop = stop or asyncio.Event()
    with _signals_set(stop):
        try:
            await check_schema(settings.database_url)
        except SchemaNotCurrent as exc:
            log.error("%s", exc)
            raise SystemExit(2) from None
        await _serve(settings, stop, handler, matcher, on_ready)


async def _serve(
    settings: Settings,
    stop: asyncio.Event,
    handler: Handler | None,
    matcher: Matcher | None,
    on_ready: Callable[[HttpServer], Awaitable[None] | None] | None,
) -> None:
    from bot.desk.runtime import attach_desk
    from bot.engine import load_matcher_for, open_database, running_core

    if matcher is None:
        matcher = await load_matcher_for(settings.content_dir)
    adapters: list[Messenger] = []

    async def close_adapters() -> None:
        for adapter in adapters:
            await adapter.close()

    async with contextlib.AsyncExitStack() as stack:
        db = await stack.enter_async_context(open_database(settings.database_url))
        out = outlets(settings, db)
        # The clients close after the outbox has stopped (it sends through them until then).
        stack.push_async_callback(close_adapters)
        # The consultant desk (CONSULTANT_CHAT_ID): the engine's middleware (in front of the
        # router, the flood exemption) and the desk group's one sender (the topic-sync worker).
        desk = attach_desk(settings, db, out.senders, out.forum_topics(), matcher.kb)
        core: Core = await stack.enter_async_context(
            running_core(
                db,
                out.senders,
                matcher=matcher,
                handler=handler,
                middleware=desk,
                context_minutes=settings.context_minutes,
            )
        )
        adapters.extend(messengers(settings, core.engine, out, db))
        for adapter in adapters:
            if not await _initialize(adapter, stop):
                return
        await core.outbox.start()  # the senders work now: deliver what waited from before
        if desk is not None:
            await desk.start(core.db, core.outbox.wake)
            stack.push_async_callback(desk.stop)
        # Analytics (issue 15): the daily roll-up, and pruning after RETENTION_DAYS.
        await stack.enter_async_context(retention_job(settings, db, matcher).running())
        http = HttpServer(
            settings.http_host,
            settings.http_port,
            readiness=lambda: database_ready(core.db),
            reports=desk.report if desk is not None else None,
        )
        for adapter in adapters:
            http.add_routes(adapter.routes())
        # The supervisors' web console (issue 19) under /console/, on the same database (it
        # reads CONTENT_DIR itself, at its first request).
        from bot.webconsole.pages import routes as console_routes
        from bot.webconsole.web import WebConsole

        http.add_routes(console_routes(WebConsole(db, settings)))
        await http.start()
        stack.push_async_callback(http.stop)
        try:
            for adapter in adapters:
                await adapter.start()
            if not adapters:
                log.warning(
                    "no messenger configured (TELEGRAM_BOT_TOKEN and VIBER_AUTH_TOKEN unset): "
                    "serving HTTP only"
                )
            if on_ready is not None:
                result = on_ready(http)
                if result is not None:
                    await result
            log.info("serving; stop with Ctrl+C or SIGTERM")
            await stop.wait()
            log.info("shutting down")
        finally:
            for adapter in adapters:
                await adapter.stop()
            await http.stop()
            if not await core.outbox.drain(timeout=DRAIN_SECONDS):
                log.info("outbox not empty at shutdown; the rest goes out after the restart")
    log.info("stopped")


def retention_job(settings: Settings, db: Database, matcher: Matcher) -> RetentionJob:
    """The retention job of ``serve`` (run like the engine's housekeeping, a periodic task)."""
    from bot.analytics.figures import Knowledge
    from bot.analytics.retention import RetentionJob

    kb = getattr(matcher, "kb", None)
    index = getattr(matcher, "index", None)  # a test's stand-in matcher may have neither
    lexicon = getattr(index, "lexicon", None)
    knowledge = Knowledge.from_kb(kb, lexicon) if kb is not None else Knowledge({}, lexicon)
    return RetentionJob(db, knowledge, retention_days=settings.retention_days)


async def _initialize(adapter: Messenger, stop: asyncio.Event) -> bool:
    """Initialize a messenger, retrying while its API is unreachable; ``False`` if stopped."""
    delay = 1.0
    while True:
        try:
            await adapter.initialize()
            return True
        except CredentialsRejected as exc:
            log.error("%s", exc)
            raise SystemExit(2) from None
        except (MessengerUnreachable, OSError) as exc:
            log.warning("messenger API unreachable (%s); retrying in %.0fs", exc, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return False
        delay = min(_INIT_RETRY_MAX, delay * 2)


@contextlib.contextmanager
def _signals_set(stop: asyncio.Event) -> Any:
    """SIGINT and SIGTERM set ``stop`` (a second one is left to the default: exit now)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, _on_signal, loop, sig, stop)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _on_signal(loop: asyncio.AbstractEventLoop, sig: signal.Signals, stop: asyncio.Event) -> None:
    log.info("received %s", sig.name)
    stop.set()
    loop.remove_signal_handler(sig)
