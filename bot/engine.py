"""The conversation engine: one incoming event, one database transaction, replies to the outbox.

:meth:`Engine.process` (the :class:`bot.ports.EventSink` every adapter calls) does, in ONE
transaction: record the event's dedupe key (already there: a duplicate, do nothing), get or
create the person, run the handlers on a :class:`~handlers.context.TurnContext`, save the
person's state, and write the replies to the outbox. Then it wakes the outbox worker.

So, in effect, every event is answered exactly once:
- delivered twice, even at the same moment: the second insert of the key finds the first
  (PostgreSQL makes it wait for the first transaction) and the event is dropped;
- a crash after the commit loses nothing: the replies wait in the outbox;
- a crash before the commit recorded nothing: the platform redelivers and we start over.

A bug in a handler must not make the platform redeliver the same event forever: the turn is
rolled back and done again without the handlers, so the event is still recorded and the person
gets a short apology instead.

:func:`open_database` and :func:`running_core` build the core in dependency order (database →
outbox → engine) for ``otwarta serve``, which builds the messengers' senders in between and the
adapters after; :func:`open_core` is both at once, for ``otwarta chat``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy.exc import IntegrityError

from bot import metrics
from bot.db import Database, SqlConversationStore, UnitOfWork
from bot.i18n import translator_for as catalogs
from bot.outbox import OutboxWorker, utcnow
from bot.ports import MessageSender
from bot.supervisor import DATABASE, Supervisor
from handlers.context import TranslatorFactory, TurnContext, UserState
from handlers.model import EventKind, IncomingEvent, Reply

if TYPE_CHECKING:
    from bot.announce.worker import AnnouncementWorker
    from faq.content import KnowledgeBase
    from faq.matcher import Matcher

log = logging.getLogger(__name__)

Handler = Callable[[TurnContext], Awaitable[None]]

#: The matcher sees at most this much of a message; nobody asks a question in 2,000 characters,
#: and a pasted document must not cost more than a question.
MAX_INPUT_CHARS = 2_000

#: Dedupe keys are kept this long (platforms stop redelivering within a day).
PROCESSED_EVENTS_RETENTION = dt.timedelta(days=7)
#: Sent and failed outbox rows are kept this long (for support questions), then deleted.
OUTBOX_RETENTION = dt.timedelta(days=7)
HOUSEKEEPING_EVERY = 3600.0  # seconds

# UI strings (msgids of the babel catalogs, translated by the handlers' catalogs).
FLOOD_NOTICE = "You are sending messages very fast. I will answer the next one in a moment."
JOINED_NOTICE = (
    "You sent several messages at once, so I will read the next ones together, as one "
    "question, and answer in a moment."
)
ERROR_NOTICE = "Sorry, something went wrong on my side. Please try again in a moment."


@dataclass(frozen=True, slots=True)
class FloodPolicy:
    """Per-person flood control: beyond ``max_events`` events within ``window`` seconds,
    texts are joined (one calm notice, then one answer to them all, ``join_after`` seconds
    after the last of them, or at once past ``join_max`` texts); other events (buttons,
    commands, media) get one notice and are recorded without being handled."""

    max_events: int = 8
    window: float = 10.0
    max_tracked: int = 10_000  # people remembered at once (least recently seen forgotten)
    join_after: float = 3.0
    join_max: int = 20


FloodVerdict = Literal["ok", "notify", "drop"]


class FloodGuard:
    """In-memory and per process, bounded: the last ``max_events`` times of each person."""

    def __init__(self, policy: FloodPolicy = FloodPolicy()) -> None:
        self.policy = policy
        self._seen: OrderedDict[tuple[str, str], tuple[deque[float], bool]] = OrderedDict()

    def check(self, key: tuple[str, str], now: float) -> FloodVerdict:
        policy = self.policy
        times, notified = self._seen.pop(key, (deque(maxlen=policy.max_events), False))
        flooded = len(times) == policy.max_events and now - times[0] < policy.window
        times.append(now)
        verdict: FloodVerdict = "ok"
        if flooded:
            verdict = "drop" if notified else "notify"
        self._seen[key] = (times, flooded)
        while len(self._seen) > policy.max_tracked:
            self._seen.popitem(last=False)
        return verdict


@dataclass
class _Held:
    """A person's texts held during a flood, to be answered together as one question."""

    first: IncomingEvent
    texts: list[str]
    timer: asyncio.TimerHandle | None = None


class _Duplicate(Exception):
    pass


class _HandlerFailed(Exception):
    pass


FloodExempt = Callable[[TurnContext], Awaitable[bool]]
"""Asked only when someone floods: may this turn go through anyway?"""


async def _never_exempt(_ctx: TurnContext) -> bool:
    return False


class TurnMiddleware(Protocol):
    """The one plug-in point into a turn (the desk: :class:`bot.desk.runtime.DeskRuntime`):
    it runs in front of the handler on the turn's own unit of work, and is asked whether a
    flooding sender's turn goes through anyway."""

    async def handle(self, ctx: TurnContext, uow: UnitOfWork, inner: Handler) -> None: ...

    async def flood_exempt(self, ctx: TurnContext, uow: UnitOfWork) -> bool: ...


class Engine:
    """Implements :class:`bot.ports.EventSink`."""

    def __init__(
        self,
        db: Database,
        *,
        matcher: Matcher,
        translator_for: TranslatorFactory,
        kb: KnowledgeBase | None = None,
        handler: Handler | None = None,
        outbox: OutboxWorker | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        flood: FloodPolicy = FloodPolicy(),
        flood_exempt: FloodExempt | None = None,
        context_minutes: float = 30.0,
        middleware: TurnMiddleware | None = None,
    ) -> None:
        if handler is None:
            from handlers.router import handle

            handler = handle
        self.db = db
        self.matcher = matcher
        self.kb = kb if kb is not None else matcher.kb
        self.translator_for = translator_for
        self.handler = handler
        self.outbox = outbox
        self.clock = clock
        self.context_window = dt.timedelta(minutes=context_minutes)
        self.flood = FloodGuard(flood)
        #: Asked only when someone floods: may this turn go through anyway? The consultant desk
        #: gives it: staff paste ten messages at once, and a person with an open ticket sends
        #: an album — both are relayed to a human, and none of it may be dropped.
        self.flood_exempt: FloodExempt = flood_exempt or _never_exempt
        # Texts held during a flood (in memory: a crash before the joined answer loses it),
        # and the dedupe keys of the joined questions being answered.
        self._held: dict[tuple[str, str], _Held] = {}
        self._joining: set[str] = set()
        self._flushes: set[asyncio.Task[None]] = set()
        self.middleware = middleware

    async def process(self, event: IncomingEvent) -> bool:
        """Handle ``event`` once; ``False`` when its dedupe key was already processed."""
        platform = event.address.platform.value
        started = time.perf_counter()
        event = event.cleaned()  # the border: no NUL, no lone surrogate reaches the turn
        if len(event.text) > MAX_INPUT_CHARS:
            event = dataclasses.replace(event, text=event.text[:MAX_INPUT_CHARS])
        try:
            decisions, queued, held = await self._process(event)
        except _Duplicate:
            metrics.UPDATES_DUPLICATE.labels(platform).inc()
            return False
        except IntegrityError:
            # A unique key raced us (e.g. another process created the same person); if it
            # was this event's own key, the event is a duplicate, otherwise a real error.
            if await self._already_processed(event):
                metrics.UPDATES_DUPLICATE.labels(platform).inc()
                return False
            raise
        metrics.UPDATES_PROCESSED.labels(platform).inc()
        metrics.PROCESSING_SECONDS.labels(platform).observe(time.perf_counter() - started)
        for decision in decisions:
            metrics.DECISIONS.labels(decision).inc()
        if queued and self.outbox is not None:
            self.outbox.wake()
        if held:
            self._hold(event)
        return True

    # -- texts joined during a flood ---------------------------------------------------------

    def _hold(self, event: IncomingEvent) -> None:
        """Keep a flooded text (its event is recorded) for the joined question."""
        person = (event.address.platform.value, event.sender.user_id)
        held = self._held.get(person)
        if held is None:
            held = self._held[person] = _Held(event, [])
        held.texts.append(event.text)
        if held.timer is not None:
            held.timer.cancel()
        delay = (
            0.0 if len(held.texts) >= self.flood.policy.join_max else self.flood.policy.join_after
        )
        held.timer = asyncio.get_running_loop().call_later(delay, self._start_flush, person)

    def _start_flush(self, person: tuple[str, str]) -> None:
        task = asyncio.create_task(self._flush(person), name="engine-join")
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush(self, person: tuple[str, str]) -> None:
        held = self._held.pop(person, None)
        if held is None:
            return
        if held.timer is not None:
            held.timer.cancel()
        first = held.first
        joined = dataclasses.replace(
            first,
            kind=EventKind.TEXT,
            dedupe_key=f"{first.dedupe_key}+{len(held.texts)}",
            text="\n".join(held.texts),
        )
        self._joining.add(joined.dedupe_key)
        try:
            await self.process(joined)
        except Exception:
            log.exception("could not answer a joined question")
        finally:
            self._joining.discard(joined.dedupe_key)

    async def flush_held(self) -> None:
        """Answer every held text now (at shutdown; tests)."""
        await asyncio.gather(*(self._flush(person) for person in list(self._held)))
        if self._flushes:
            await asyncio.gather(*list(self._flushes), return_exceptions=True)

    async def _already_processed(self, event: IncomingEvent) -> bool:
        async with self.db.read() as uow:
            return await uow.events.is_processed(event.address.platform.value, event.dedupe_key)

    async def _process(self, event: IncomingEvent) -> tuple[list[str], int, bool]:
        try:
            return await self._turn(event)
        except _HandlerFailed:
            # The transaction is gone with every write of the turn: record the event and
            # apologise in a fresh one.
            return await self._turn(event, failed=True)

    async def _turn(
        self, event: IncomingEvent, *, failed: bool = False
    ) -> tuple[list[str], int, bool]:
        """One transaction: the dedupe key, the person, the handlers (or, after they failed,
        the apology), the person's state, the replies; and whether the event's text is to be
        held for a joined question (flood)."""
        platform = event.address.platform.value
        async with self.db.transaction() as uow:
            now = self.clock()
            if event.kind is EventKind.UNSUBSCRIBED:
                if not await uow.events.mark_processed(platform, event.dedupe_key, now):
                    raise _Duplicate
                gone = await uow.people.ids_for_chat(platform, event.sender.user_id)
                await uow.people.set_active(gone, False)
                await uow.subscriptions.remove_all(gone)  # and tells them nothing more
                await uow.outbox.fail_pending_for_chat(
                    platform, event.address.chat_id, "unsubscribed"
                )
                return [], 0, False
            user = await uow.begin_turn(platform, event.dedupe_key, event.sender.user_id, now)
            if user is None:
                raise _Duplicate
            loaded = dataclasses.replace(user)
            store = SqlConversationStore(uow, self.clock)
            ctx = TurnContext(
                event=event,
                user=user,
                kb=self.kb,
                matcher=self.matcher,
                store=store,
                translator_for=self.translator_for,
                now=now,
                context_window=self.context_window,
            )
            hold = False
            if failed:
                ctx.reply(ctx.t.gettext(ERROR_NOTICE), kind="error")
            elif event.dedupe_key in self._joining:
                await self._run_handler(ctx, uow)
            else:
                person = (platform, event.sender.user_id)
                verdict = self.flood.check(person, now.timestamp())
                if verdict != "ok" and await self._exempt(ctx, uow):
                    verdict = "ok"
                if verdict != "ok" and self._urgent(ctx):
                    verdict = "ok"  # an emergency is answered at once, flood or not
                if verdict == "ok":
                    await self._run_handler(ctx, uow)
                elif event.kind is EventKind.TEXT and event.text.strip():
                    hold = True  # answered with the others of the burst, joined
                    if person not in self._held:
                        ctx.reply(ctx.t.gettext(JOINED_NOTICE), kind="flood")
                elif verdict == "notify":
                    ctx.reply(ctx.t.gettext(FLOOD_NOTICE), kind="flood")
            if user.id not in store.forgotten:
                await uow.people.save(ctx.user, before=loaded)
            await uow.outbox.enqueue(await self._recipients(uow, ctx.replies, user, store), now)
            return store.decisions, len(ctx.replies), hold

    def _urgent(self, ctx: TurnContext) -> bool:
        """Does this text describe an emergency (the matcher's ``urgent`` intent)?"""
        match = getattr(self.matcher, "match", None)  # stand-ins in tests may have none
        if match is None or ctx.event.kind is not EventKind.TEXT or not ctx.event.text.strip():
            return False
        return bool(match(ctx.event.text, lang=ctx.user.lang).intent == "urgent")

    async def _exempt(self, ctx: TurnContext, uow: UnitOfWork) -> bool:
        if self.middleware is not None and await self.middleware.flood_exempt(ctx, uow):
            return True
        return await self.flood_exempt(ctx)

    async def _run_handler(self, ctx: TurnContext, uow: UnitOfWork) -> None:
        """Run the handlers; if they fail, the whole turn is rolled back (no savepoint on the
        way of every turn: failures are rare) and :meth:`_process` starts over without them."""
        try:
            if self.middleware is not None:
                await self.middleware.handle(ctx, uow, self.handler)
            else:
                await self.handler(ctx)
        except Exception as error:
            log.exception(
                "handler failed on a %s event",
                ctx.event.kind.value,
                extra={"platform": ctx.event.address.platform.value},
            )
            raise _HandlerFailed from error

    async def _recipients(
        self,
        uow: UnitOfWork,
        replies: Sequence[Reply],
        user: UserState,
        store: SqlConversationStore,
    ) -> list[tuple[Reply, int | None]]:
        """Pair each reply with the person it goes to (so /forget and "blocked" reach it)."""
        known: dict[tuple[str, str], int | None] = {
            (user.address.platform.value, user.address.chat_id): (
                None if user.id in store.forgotten else user.id
            )
        }
        paired: list[tuple[Reply, int | None]] = []
        for reply in replies:
            chat = (reply.address.platform.value, reply.address.chat_id)
            if chat not in known:
                ids = await uow.people.ids_for_chat(*chat)
                known[chat] = ids[0] if ids and ids[0] not in store.forgotten else None
            paired.append((reply, known[chat]))
        return paired

    async def housekeeping(self) -> None:
        """Prune old dedupe keys and delivered outbox rows."""
        now = self.clock()
        async with self.db.transaction() as uow:
            keys = await uow.events.prune(now - PROCESSED_EVENTS_RETENTION)
            rows = await uow.outbox.prune(now - OUTBOX_RETENTION)
        if keys or rows:
            log.info("housekeeping: pruned %d dedupe keys, %d outbox rows", keys, rows)


@dataclass
class Core:
    """The running core: what adapters need (``engine`` as their EventSink, ``outbox`` to
    register their sender) and what shutdown must close."""

    db: Database
    engine: Engine
    outbox: OutboxWorker
    announcements: AnnouncementWorker | None = None


@contextlib.asynccontextmanager
async def open_database(
    database_url: str, *, migrate: bool | None = None
) -> AsyncIterator[Database]:
    """The database (migrated first when ``migrate``, by default on SQLite); disposed on exit."""
    from bot.db.engine import is_sqlite
    from bot.db.migrate import ensure_schema

    if migrate if migrate is not None else is_sqlite(database_url):
        await ensure_schema(database_url)
    db = Database.from_url(database_url)
    try:
        yield db
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def running_core(
    db: Database,
    senders: Iterable[MessageSender],
    *,
    matcher: Matcher,
    translator_for: TranslatorFactory = catalogs,
    handler: Handler | None = None,
    flood_exempt: FloodExempt | None = None,
    middleware: TurnMiddleware | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    supervisor: Supervisor | None = None,
    context_minutes: float = 30.0,
) -> AsyncIterator[Core]:
    """The outbox (with ``senders``), then the engine that wakes it, and the housekeeping job
    (a worker of ``supervisor`` when given: ``serve``).

    The outbox is not started: the caller starts it (``outbox.start(supervisor)``). On exit
    the outbox is stopped (what was claimed but not sent goes back to the queue)."""
    outbox = OutboxWorker(db, senders, clock=clock)
    engine = Engine(
        db,
        matcher=matcher,
        translator_for=translator_for,
        handler=handler,
        outbox=outbox,
        clock=clock,
        flood_exempt=flood_exempt,
        context_minutes=context_minutes,
        middleware=middleware,
    )
    # Announcements (issue 16): fed into the outbox's announcement lane in small batches.
    from bot.announce.changes import sync_entry_versions
    from bot.announce.worker import AnnouncementWorker

    announcements = AnnouncementWorker(db, outbox, translator_for, clock=clock)
    housekeeping: asyncio.Task[None] | None = None
    if supervisor is not None:  # serve: housekeeping as a supervised worker
        supervisor.every(
            "housekeeping", HOUSEKEEPING_EVERY, engine.housekeeping, dependency=DATABASE
        )
    else:
        housekeeping = asyncio.create_task(_every(HOUSEKEEPING_EVERY, engine.housekeeping))
    try:
        if engine.kb is not None:  # (a test's matcher may come without a knowledge base)
            await sync_entry_versions(db, engine.kb, clock())
        # Its rows wait in the outbox until the outbox starts.
        await announcements.start(supervisor)
        yield Core(db=db, engine=engine, outbox=outbox, announcements=announcements)
    finally:
        if housekeeping is not None:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping
        await engine.flush_held()
        await announcements.stop()
        await outbox.stop()


async def load_matcher_for(content_dir: Any = None, cache_dir: Any = None) -> Matcher:
    """The matcher on ``content_dir`` (the bundled content by default), loaded off the loop;
    with ``cache_dir`` (``INDEX_CACHE_DIR``) its index is read from there when still valid."""
    from faq import load_matcher

    return await asyncio.to_thread(load_matcher, content_dir, cache_dir=cache_dir)


@contextlib.asynccontextmanager
async def open_core(
    database_url: str,
    senders: Iterable[MessageSender] = (),
    *,
    matcher: Matcher | None = None,
    translator_for: TranslatorFactory = catalogs,
    handler: Handler | None = None,
    content_dir: Any = None,
    migrate: bool | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    context_minutes: float = 30.0,
) -> AsyncIterator[Core]:
    """The whole core at once (``otwarta chat``): the database (see :func:`open_database`), the
    outbox with ``senders`` (started) and the engine (:func:`running_core`)."""
    if matcher is None:
        matcher = await load_matcher_for(content_dir)
    async with (
        open_database(database_url, migrate=migrate) as db,
        running_core(
            db,
            senders,
            matcher=matcher,
            translator_for=translator_for,
            handler=handler,
            clock=clock,
            context_minutes=context_minutes,
        ) as core,
    ):
        await core.outbox.start()
        yield core


async def _every(seconds: float, job: Callable[[], Awaitable[None]]) -> None:
    while True:
        try:
            await job()
        except Exception:
            log.exception("periodic job failed")
        await asyncio.sleep(seconds)


class IdentityTranslator:
    """Returns the English msgids: for tests and for running without compiled catalogs."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural

    def format_date(self, value: dt.date) -> str:
        return value.isoformat()
