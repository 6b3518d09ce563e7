"""``otwarta serve``: the composition root.

settings → logging → schema (migrated on the embedded SQLite; on PostgreSQL it must already be
at head: ``otwarta db upgrade`` is an explicit step there) → messengers' senders (getMe) →
the core (matcher, engine, outbox worker: :func:`bot.engine.open_core`) → the HTTP server
with every adapter's routes → updates in → run until SIGINT/SIGTERM.

Shutdown, in that order: stop taking updates (the ones in flight are committed and
acknowledged), stop the HTTP server, let the outbox deliver what is due for a few seconds,
stop it (claimed-but-unsent messages go back to the queue), close the messengers' clients and
the database. A ``kill -9`` anywhere loses nothing either: unacknowledged updates come back,
committed replies wait in the outbox.

Adding a messenger (Viber): implement :class:`Messenger` and add it in :func:`messengers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from sqlalchemy import text

from bot.http import HttpServer
from bot.logging import setup_logging
from bot.ports import EventSink, MessageSender

if TYPE_CHECKING:
    from bot.db import Database
    from bot.engine import Core, Handler
    from bot.settings import Settings
    from faq.matcher import Matcher

log = logging.getLogger(__name__)

#: How long shutdown lets the outbox deliver what is already due.
DRAIN_SECONDS = 3.0
_INIT_RETRY_MAX = 30.0


class SchemaNotCurrent(RuntimeError):
    """The PostgreSQL schema is behind (or ahead of) the code's migrations."""


class Messenger(Protocol):
    """What the composition root needs from a messenger adapter (Telegram, later Viber)."""

    sink: EventSink | None

    @property
    def sender(self) -> MessageSender: ...

    def routes(self) -> list[web.RouteDef]: ...

    async def initialize(self) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def close(self) -> None: ...


def messengers(settings: Settings) -> list[Messenger]:
    """Every messenger whose token is configured."""
    found: list[Messenger] = []
    if settings.telegram_bot_token is not None:
        from bot.telegram import TelegramAdapter

        # Updates in flight at once. More would not go faster: SQLite takes one write
        # transaction at a time, and on PostgreSQL every extra turn in flight takes event-loop
        # time from the outbox's deliveries (benchmarks/bench_telegram.py: 4 and 8 were best).
        found.append(TelegramAdapter(settings, max_running=4 if settings.is_embedded_db else 8))
    # -- Viber (issue 5): its sender goes to the outbox and /viber/webhook to the HTTP server
    # like any messenger's; its initialize() never raises for an unreachable API.
    if settings.viber_auth_token is not None:
        from bot.viber import ViberAdapter

        found.append(ViberAdapter(settings))
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
    from bot.engine import open_core

    adapters = messengers(settings)
    async with contextlib.AsyncExitStack() as stack:
        for adapter in adapters:
            stack.push_async_callback(adapter.close)
            if not await _initialize(adapter, stop):
                return
        # The consultant desk (CONSULTANT_CHAT_ID): in front of the router, around Telegram's
        # sender.
        from bot.desk.runtime import attach_desk

        desk, senders = attach_desk(settings, adapters)
        core: Core = await stack.enter_async_context(
            open_core(
                settings.database_url,
                senders,
                handler=desk.handler(handler) if desk is not None else handler,
                matcher=matcher,
                content_dir=settings.content_dir,
                context_minutes=settings.context_minutes,
            )
        )
        if desk is not None:
            await desk.start(core)
            stack.push_async_callback(desk.stop)
        http = HttpServer(
            settings.http_host, settings.http_port, readiness=lambda: database_ready(core.db)
        )
        for adapter in adapters:
            adapter.sink = core.engine
            http.add_routes(adapter.routes())
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


async def _initialize(adapter: Messenger, stop: asyncio.Event) -> bool:
    """Initialize a messenger, retrying while its API is unreachable; ``False`` if stopped."""
    from telegram.error import InvalidToken, NetworkError

    delay = 1.0
    while True:
        try:
            await adapter.initialize()
            return True
        except InvalidToken:
            log.error("telegram rejected TELEGRAM_BOT_TOKEN; check the token")
            raise SystemExit(2) from None
        except (NetworkError, OSError) as exc:
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
