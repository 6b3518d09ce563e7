"""``otwarta serve``: the composition root.

settings (a bad combination: one line, exit 2) → logging → everything is built in dependency
order, each part given what it needs at construction, and no request made yet: the matcher →
the database object (it connects on first use) → the messengers' outgoing halves
(:class:`Outlets`) → the adapters, with a sink the engine takes over once it runs → the HTTP
server with every adapter's routes starts (``/healthz`` answers from here on, ``/readyz`` says
503 until the rest is up) → the database is waited for with backoff while unreachable (one line
when it goes, one when it is back; the embedded SQLite is migrated, PostgreSQL must be at head:
``otwarta db upgrade``) → the desk around Telegram's sender → the outbox and the engine
(:func:`bot.engine.running_core`) → every messenger's start-up (token check, webhook or
polling) as a supervised worker in the background, so an unreachable Bot API holds up neither
the HTTP server nor Viber → run until SIGINT/SIGTERM.

Every background loop runs under one :class:`~bot.supervisor.Supervisor` (the Telegram poller,
the outbox, housekeeping, retention, announcements, the desk's reminder, group check and
topic sync, the gauges, Viber's webhook registration, the messengers' start-up): a failure is
logged, counted and restarted with backoff, and ``/readyz`` names a worker down longer than
``WORKER_DOWN_SECONDS``.

Shutdown, within 10 s even mid-burst, in that order: stop taking updates (the batch in hand is
committed and confirmed), stop the HTTP server, let the outbox deliver what is due for a
moment, stop every worker, hand back claimed-but-unsent messages, close the messengers'
clients and the database; exit 0. A ``kill -9`` anywhere loses nothing either:
unacknowledged updates come back, committed replies wait in the outbox.

Adding a messenger: give it a sender (:class:`bot.ports.MessageSender`) in :func:`outlets` and
an adapter (:class:`Messenger`) in :func:`messengers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from sqlalchemy import text

from bot import metrics
from bot.http import HttpServer
from bot.logging import setup_logging
from bot.ports import CredentialsRejected, EventSink, MessageSender, MessengerUnreachable
from bot.supervisor import DATABASE, Supervisor, Worker, describe, outage_reason

if TYPE_CHECKING:
    from telegram import Bot as PtbBot

    from bot.analytics.retention import RetentionJob
    from bot.db import Database
    from bot.desk.runtime import DeskRuntime
    from bot.desk.sync import DeskTopics
    from bot.engine import Core, Handler
    from bot.messengers.viber import ViberOutlet
    from bot.settings import Settings
    from faq.matcher import Matcher
    from handlers.model import IncomingEvent

log = logging.getLogger(__name__)

#: Shutdown's budget (SIGTERM to exit within 10 s even mid-burst): the outbox delivers what
#: is due for this long, the HTTP server waits this long for requests in flight, and workers
#: get this long to finish before they are cancelled.
DRAIN_SECONDS = 2.0
HTTP_SHUTDOWN_SECONDS = 2.0
WORKER_STOP_SECONDS = 2.0
#: The outbox-depth and waiting-ticket gauges are read this often (seconds).
GAUGES_EVERY = 2.5
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
    """``SELECT 1`` through the database layer: what ``/readyz`` reports. An outage is told
    to :data:`bot.supervisor.DATABASE` (one log line per change, not one per probe)."""
    try:
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        DATABASE.failed(exc)
        raise
    DATABASE.ok()
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
    problems = settings.serve_problems()
    if problems:
        log.error("invalid settings: %s", "; ".join(problems))
        raise SystemExit(2)
    stop = stop or asyncio.Event()
    with _signals_set(stop):
        await _serve(settings, stop, handler, matcher, on_ready)


class _Running:
    """What ``/readyz`` and the shutdown need to know of the parts started so far."""

    def __init__(self) -> None:
        self.core: Core | None = None
        self.exit_code = 0

    async def ready(self) -> bool:
        if self.core is None:
            return False  # still waiting for the database
        return await database_ready(self.core.db)


async def _serve(
    settings: Settings,
    stop: asyncio.Event,
    handler: Handler | None,
    matcher: Matcher | None,
    on_ready: Callable[[HttpServer], Awaitable[None] | None] | None,
) -> None:
    """Start-up order: the parts are built (no request made yet), the HTTP server starts
    (``/healthz`` answers from the first second, ``/readyz`` says 503 until the rest is up),
    the database is waited for with backoff while unreachable, then the core runs and every
    messenger starts as a supervised worker in the background (one API unreachable holds up
    neither the others nor the HTTP server)."""
    from bot.db import Database
    from bot.desk.runtime import attach_desk
    from bot.engine import load_matcher_for, running_core

    if matcher is None:
        matcher = await load_matcher_for(settings.content_dir, settings.index_cache_dir)
    supervisor = Supervisor(down_after=settings.worker_down_seconds)
    running = _Running()
    # Built now, connected later: the engine connects on first use.
    db = Database.from_url(settings.database_url)
    sink = _LateSink()
    out = outlets(settings, db)
    adapters = messengers(settings, sink, out, db)
    # The consultant desk (CONSULTANT_CHAT_ID): the engine's middleware (in front of the
    # router, the flood exemption) and the desk group's one sender (the topic-sync worker).
    desk = attach_desk(settings, db, out.senders, out.forum_topics(), matcher.kb)
    http = HttpServer(
        settings.http_host,
        settings.http_port,
        readiness=running.ready,
        reports=desk.report if desk is not None else None,
        supervisor=supervisor,
        shutdown_timeout=HTTP_SHUTDOWN_SECONDS,
    )
    for adapter in adapters:
        http.add_routes(adapter.routes())
        if hasattr(adapter, "supervisor"):
            setattr(adapter, "supervisor", supervisor)  # noqa: B010 - not in the Protocol
        poison = getattr(adapter, "poison", None)
        if poison is not None:
            poison.db = db
    # The supervisors' web console (issue 19) under /console/, on the same database (it
    # reads CONTENT_DIR itself, at its first request).
    from bot.webconsole.pages import routes as console_routes
    from bot.webconsole.web import WebConsole

    http.add_routes(console_routes(WebConsole(db, settings)))
    await http.start()
    try:
        if not await _wait_for_database(settings, stop):
            return
        async with (
            running_core(
                db,
                out.senders,
                matcher=matcher,
                handler=handler,
                middleware=desk,
                context_minutes=settings.context_minutes,
                supervisor=supervisor,
            ) as core,
            # Analytics (issue 15): the daily roll-up, and pruning after RETENTION_DAYS.
            retention_job(settings, db, matcher).running(supervisor),
        ):
            running.core = core
            sink.target = core.engine
            # Senders that cannot send yet (Telegram before getMe) keep their messages queued.
            await core.outbox.start(supervisor)
            if desk is not None:
                await desk.start(core.db, core.outbox.wake, supervisor=supervisor)
            supervisor.every(
                "gauges", GAUGES_EVERY, lambda: _refresh_gauges(core, desk), dependency=DATABASE
            )
            starts = [
                supervisor.start(
                    f"{_name_of(adapter)}-start",
                    functools.partial(_start_messenger, adapter, supervisor, running, stop),
                    once=True,
                    down="starting",
                )
                for adapter in adapters
            ]
            if not adapters:
                log.warning(
                    "no messenger configured (TELEGRAM_BOT_TOKEN and VIBER_AUTH_TOKEN unset): "
                    "serving HTTP only"
                )
            announce = asyncio.create_task(_announce(starts, http, on_ready), name="announce")
            try:
                await stop.wait()
                log.info("shutting down")
            finally:
                announce.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await announce
                # Stop taking updates (the batch in hand is committed and confirmed), stop the
                # HTTP server, deliver what is due for a moment, stop every worker; leaving
                # running_core then hands back unsent claims.
                for adapter in adapters:
                    await _quietly(adapter.stop(), f"{_name_of(adapter)} stop")
                await http.stop()
                if not await core.outbox.drain(timeout=DRAIN_SECONDS):
                    log.info("outbox not empty at shutdown; the rest goes out after the restart")
                await supervisor.stop(timeout=WORKER_STOP_SECONDS)
                if desk is not None:
                    await desk.stop()
    finally:
        await supervisor.stop(timeout=WORKER_STOP_SECONDS)
        await http.stop()
        for adapter in adapters:  # the clients close after the outbox (it sends through them)
            await _quietly(adapter.close(), f"{_name_of(adapter)} close")
        await db.dispose()
    log.info("stopped")
    if running.exit_code:
        raise SystemExit(running.exit_code)


def retention_job(settings: Settings, db: Database, matcher: Matcher) -> RetentionJob:
    """The retention job of ``serve`` (run like the engine's housekeeping, a periodic task)."""
    from bot.analytics.figures import Knowledge
    from bot.analytics.retention import RetentionJob

    kb = getattr(matcher, "kb", None)
    index = getattr(matcher, "index", None)  # a test's stand-in matcher may have neither
    lexicon = getattr(index, "lexicon", None)
    knowledge = Knowledge.from_kb(kb, lexicon) if kb is not None else Knowledge({}, lexicon)
    return RetentionJob(db, knowledge, retention_days=settings.retention_days)


class _LateSink:
    """The adapters' sink, built before the engine exists (the HTTP server starts before the
    database is reachable); bound to the engine once it runs. Nothing reaches it before: the
    adapters start taking updates only after that."""

    def __init__(self) -> None:
        self.target: EventSink | None = None

    async def process(self, event: IncomingEvent) -> bool:
        if self.target is None:
            raise RuntimeError("the engine is not running yet")
        return await self.target.process(event)


async def _announce(
    starts: list[Worker],
    http: HttpServer,
    on_ready: Callable[[HttpServer], Awaitable[None] | None] | None,
) -> None:
    """Once every messenger has started: "serving", and ``on_ready`` (tests) is told."""
    await asyncio.gather(*(w.task for w in starts if w.task is not None))
    log.info("serving; stop with Ctrl+C or SIGTERM")
    if on_ready is not None:
        result = on_ready(http)
        if result is not None:
            await result


def _name_of(adapter: Messenger) -> str:
    platform = getattr(adapter, "platform", None)
    value = getattr(platform, "value", None)
    return str(value) if value else type(adapter).__name__.lower()


async def _quietly(step: Awaitable[None], what: str) -> None:
    """One shutdown step; its failure is logged in a line and does not skip the others."""
    try:
        await step
    except Exception as exc:
        log.warning("%s failed: %s", what, describe(exc))


async def _wait_for_database(settings: Settings, stop: asyncio.Event) -> bool:
    """Until the database answers (and, on PostgreSQL, its schema is current): one line when
    it is unreachable, one when it is back, retries with capped backoff; ``False`` if stopped
    meanwhile. A schema that is behind ends the process (exit 2) with the reason."""
    from bot.db.migrate import ensure_schema

    delay = 1.0
    while True:
        try:
            if settings.is_embedded_db:
                await ensure_schema(settings.database_url)  # the embedded database: migrated
            await check_schema(settings.database_url)
        except SchemaNotCurrent as exc:
            log.error("%s", exc)
            raise SystemExit(2) from None
        except Exception as exc:
            if not DATABASE.failed(exc):
                log.error("cannot use the database: %s", outage_reason(exc))
                raise SystemExit(2) from None
        else:
            DATABASE.ok()
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return False
        delay = min(_INIT_RETRY_MAX, delay * 2)


async def _start_messenger(
    adapter: Messenger,
    supervisor: Supervisor,
    running: _Running,
    stop: asyncio.Event,
    worker: Worker,
) -> None:
    """A messenger's start-up (token check, webhook or polling), retried with backoff while
    its API is unreachable; a rejected token stops the bot (exit 2)."""
    name = _name_of(adapter)
    delay = 1.0
    announced = False
    initialized = False
    while not supervisor.stopping:
        try:
            if not initialized:
                await adapter.initialize()
                initialized = True
            await adapter.start()
        except CredentialsRejected as exc:
            log.error("%s", exc)
            running.exit_code = 2
            stop.set()
            return
        except (MessengerUnreachable, OSError, TimeoutError) as exc:
            worker.down(f"{name} API unreachable")
            if not announced:
                log.warning(
                    "%s API unreachable at start (%s); retrying in the background",
                    name,
                    type(exc).__name__,
                )
                announced = True
        else:
            if announced:
                log.info("%s started after its API came back", name)
            return
        if await supervisor.sleep(delay):
            return
        delay = min(_INIT_RETRY_MAX, delay * 2)


async def _refresh_gauges(core: Core, desk: DeskRuntime | None) -> None:
    """The outbox depth and the desk's tickets by state, read every :data:`GAUGES_EVERY`
    seconds (so never older than that on ``/metrics``)."""
    await core.outbox.depth()
    if desk is not None:
        from bot.desk.store import SqlDeskStore

        async with core.db.read() as uow:
            counts = await SqlDeskStore(uow, core.engine.clock).count_open()
        for state in ("waiting", "assigned"):
            metrics.DESK_TICKETS.labels(state).set(counts.get(state, 0))
    metrics.GAUGES_REFRESHED.set(time.time())


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
