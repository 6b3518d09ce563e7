"""The supervisor: every background loop of the bot runs under it, so none dies silently.

A worker is a named coroutine function (the Telegram poller, the outbox, the desk reminder,
housekeeping, Viber's webhook registration, …). The supervisor

- runs it as a task; if it raises (anything but cancellation), logs the failure with context
  (the worker, the exception's type and where it was raised — never its message, which may
  quote a person's text; tokens are scrubbed by :mod:`bot.logging` anyway), counts it in
  ``otwarta_worker_restarts_total{worker=…}`` and starts it again after a capped exponential
  backoff (reset once a run has lasted ``healthy_after`` seconds);
- knows which workers are down: crashed and waiting for their restart, or running but
  reporting themselves down (:meth:`Worker.down`, e.g. Telegram retrying its start-up while
  the Bot API is unreachable). :meth:`Supervisor.unready` names those down longer than
  ``WORKER_DOWN_SECONDS``: ``/readyz`` answers 503 with their names;
- stops them all on shutdown: each worker gets its ``stop`` callback first (finish the work
  in hand), then whatever still runs after the grace period is cancelled and awaited, so no
  task is left to be "destroyed while pending".

A worker that returns normally is finished (``once=True``: a one-shot job such as webhook
registration) or, for a loop, ended unexpectedly and is restarted like a crash.

:class:`Dependency` is the companion for outages of something shared (the database): the
first failure logs one line, the recovery another, nothing in between — not a traceback per
second per loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot import metrics

log = logging.getLogger(__name__)

#: ``/readyz`` fails while a worker has been down longer than this (``WORKER_DOWN_SECONDS``).
DEFAULT_DOWN_SECONDS = 30.0

WorkerFunction = Callable[["Worker"], Awaitable[None]]


def where(exc: BaseException, depth: int = 3) -> str:
    """Where ``exc`` was raised: the innermost ``depth`` frames as ``file:line in function``
    (file names relative to the package root), without the exception's message."""
    frames = traceback.extract_tb(exc.__traceback__)[-depth:]
    parts = []
    for frame in frames:
        path = Path(frame.filename)
        short = "/".join(path.parts[-2:]) if len(path.parts) >= 2 else path.name
        parts.append(f"{short}:{frame.lineno} in {frame.name}")
    return " < ".join(reversed(parts)) or "?"


def describe(exc: BaseException) -> str:
    """An exception as context for a log line: its type (and its cause's) and where."""
    name = type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    if cause is not None and not isinstance(cause, asyncio.CancelledError):
        name = f"{name} (from {type(cause).__name__})"
    return f"{name} at {where(exc)}"


@dataclass
class Worker:
    """One supervised worker's state (read by ``/readyz`` and by tests)."""

    name: str
    function: WorkerFunction
    once: bool = False
    stop: Callable[[], Awaitable[None] | None] | None = None
    #: When the worker went down (monotonic); ``None`` while it is up.
    down_since: float | None = None
    reason: str | None = None
    restarts: int = 0
    failures_in_a_row: int = 0
    finished: bool = False
    task: asyncio.Task[None] | None = None
    _started_at: float = 0.0
    _clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def down(self, reason: str) -> None:
        """The worker runs but cannot do its work (its API or database is unreachable)."""
        if self.down_since is None:
            self.down_since = self._clock()
        self.reason = reason
        metrics.WORKER_UP.labels(self.name).set(0)

    def finish(self) -> None:
        """The worker was asked to stop by its owner (not by the supervisor): its coming
        return is the end, not a failure to restart."""
        self.once = True

    def up(self) -> None:
        """The worker does its work again."""
        self.down_since = None
        self.reason = None
        metrics.WORKER_UP.labels(self.name).set(1)

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    def down_for(self) -> float:
        return 0.0 if self.down_since is None else self._clock() - self.down_since


class Supervisor:
    """Runs named workers, restarts them when they fail, knows which are down."""

    def __init__(
        self,
        *,
        down_after: float = DEFAULT_DOWN_SECONDS,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        healthy_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.down_after = down_after
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.healthy_after = healthy_after
        self._clock = clock
        self.workers: dict[str, Worker] = {}
        self._stopping = asyncio.Event()
        self.restarted = asyncio.Condition()  # notified on every restart (tests wait on it)

    # -- starting -------------------------------------------------------------------------

    def start(
        self,
        name: str,
        function: WorkerFunction,
        *,
        once: bool = False,
        stop: Callable[[], Awaitable[None] | None] | None = None,
        down: str | None = None,
    ) -> Worker:
        """Run ``function(worker)`` under supervision. ``stop`` asks it to finish (shutdown);
        ``down`` starts it as down with that reason (it calls :meth:`Worker.up` once working).
        """
        if name in self.workers and not self.workers[name].finished:
            raise ValueError(f"a worker named {name!r} is already running")
        worker = Worker(name, function, once=once, stop=stop, _clock=self._clock)
        metrics.WORKER_RESTARTS.labels(name)  # the series exists (at 0) from the start
        if down is not None:
            worker.down(down)
        else:
            worker.up()
        self.workers[name] = worker
        worker.task = asyncio.get_running_loop().create_task(
            self._supervise(worker), name=f"worker:{name}"
        )
        return worker

    def every(
        self,
        name: str,
        seconds: float | Callable[[], float],
        job: Callable[[], Awaitable[object]],
        *,
        first_after: float = 0.0,
        dependency: Dependency | None = None,
        wake: asyncio.Event | None = None,
        stop: Callable[[], Awaitable[None] | None] | None = None,
    ) -> Worker:
        """Run ``job`` every ``seconds`` (a periodic job). A failure of ``job`` is the
        worker's failure (logged, counted, backed off), unless it is an outage of
        ``dependency``: then the dependency logs it once and the job simply tries again.

        ``seconds`` may be a function, asked after each round (a loop that waits less while
        it has work); ``wake`` set ends the wait at once (new work arrived: it is cleared
        before each round, so a wake during a round is not lost); ``stop`` as for
        :meth:`start`."""
        pause = seconds if callable(seconds) else (lambda: seconds)

        async def loop(worker: Worker) -> None:
            if first_after and await self.sleep(first_after):
                return
            while not self.stopping:
                if wake is not None:
                    wake.clear()
                try:
                    await job()
                except Exception as exc:
                    if dependency is None or not dependency.failed(exc):
                        raise
                    worker.down(f"{dependency.name} unreachable")
                else:
                    if dependency is not None:
                        dependency.ok()
                    if worker.is_down:
                        worker.up()
                await self.sleep(pause(), wake)

        return self.start(name, loop, stop=stop)

    # -- state ----------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> bool:
        """Sleep ``seconds``, or until shutdown begins or ``wake`` is set; ``True`` if
        shutdown began."""
        if wake is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)
            return self._stopping.is_set()
        if seconds > 0 and not wake.is_set() and not self.stopping:
            waiters = {
                asyncio.ensure_future(self._stopping.wait()),
                asyncio.ensure_future(wake.wait()),
            }
            try:
                await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
                await asyncio.gather(*waiters, return_exceptions=True)
        return self._stopping.is_set()

    def unready(self) -> list[str]:
        """Workers down longer than ``down_after``: what ``/readyz`` reports."""
        return sorted(
            worker.name
            for worker in self.workers.values()
            if worker.is_down and worker.down_for() >= self.down_after
        )

    def backoff(self, failures_in_a_row: int) -> float:
        return min(self.backoff_cap, self.backoff_base * 2 ** max(0, failures_in_a_row - 1))

    # -- the supervising loop -------------------------------------------------------------

    async def _supervise(self, worker: Worker) -> None:
        while not self.stopping:
            worker._started_at = self._clock()
            try:
                await worker.function(worker)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = describe(exc)
            else:
                if worker.once or self.stopping:
                    worker.finished = True
                    if not self.stopping:
                        worker.up()
                    return
                failure = "returned unexpectedly"
            if self.stopping:
                log.info("worker %s ended during shutdown: %s", worker.name, failure)
                return
            if self._clock() - worker._started_at >= self.healthy_after:
                worker.failures_in_a_row = 0
            worker.failures_in_a_row += 1
            worker.restarts += 1
            delay = self.backoff(worker.failures_in_a_row)
            worker.down(failure)
            metrics.WORKER_RESTARTS.labels(worker.name).inc()
            log.error(
                "worker %s failed: %s; restarting in %.1fs (failure %d in a row)",
                worker.name,
                failure,
                delay,
                worker.failures_in_a_row,
                extra={"worker": worker.name},
            )
            async with self.restarted:
                self.restarted.notify_all()
            if await self.sleep(delay):
                return
            worker.up()

    # -- stopping -------------------------------------------------------------------------

    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a grace period
        """Ask every worker to finish (its ``stop``), wait up to ``timeout``, cancel the rest
        and wait for them: when this returns, no worker task is left."""
        self._stopping.set()
        workers = [w for w in self.workers.values() if w.task is not None]
        for worker in workers:
            if worker.stop is not None:
                try:
                    result = worker.stop()
                    if result is not None:
                        await asyncio.wait_for(result, timeout)
                except Exception as exc:
                    log.warning("worker %s did not stop cleanly: %s", worker.name, describe(exc))
        tasks = [w.task for w in workers if w.task is not None and not w.task.done()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                log.warning("worker %s still running at shutdown; cancelled", task.get_name())
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for worker in workers:
            if worker.task is not None and worker.task.done() and not worker.task.cancelled():
                error = worker.task.exception()
                if error is not None:
                    log.warning("worker %s ended with %s", worker.name, describe(error))


class Dependency:
    """Something many loops share (the database): its outages are logged once per change.

    :meth:`failed` answers whether an exception is this dependency being unreachable (then
    the caller logs nothing itself); the first such failure logs one WARNING line with the
    reason, and :meth:`ok` after it one INFO line saying how long it lasted.
    """

    def __init__(
        self,
        name: str,
        is_outage: Callable[[BaseException], bool],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._is_outage = is_outage
        self._clock = clock
        self.down_since: float | None = None
        self.outages = 0

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: BaseException) -> bool:
        if not self._is_outage(exc):
            return False
        if self.down_since is None:
            self.down_since = self._clock()
            self.outages += 1
            metrics.DEPENDENCY_UP.labels(self.name).set(0)
            log.warning(
                "%s unreachable (%s); retrying until it is back",
                self.name,
                outage_reason(exc),
                extra={"dependency": self.name},
            )
        return True

    def ok(self) -> None:
        if self.down_since is not None:
            lasted = self._clock() - self.down_since
            self.down_since = None
            metrics.DEPENDENCY_UP.labels(self.name).set(1)
            log.info(
                "%s reachable again after %.0fs", self.name, lasted, extra={"dependency": self.name}
            )


def outage_reason(exc: BaseException) -> str:
    """A one-line reason for an outage: the innermost OS/driver error's type and message
    (connection errors name the host and port, never a person's data)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    innermost = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        innermost = current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or None)
    message = str(innermost).strip().splitlines()[0] if str(innermost).strip() else ""
    if len(message) > 160:
        message = message[:157] + "..."
    name = type(innermost).__name__
    return f"{name}: {message}" if message else name


def is_database_outage(exc: BaseException) -> bool:
    """Failures that say "the database is unreachable", not "this statement is wrong"."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError | TimeoutError | ConnectionError):
            return True
        for cls in type(current).__mro__:
            module = cls.__module__
            if module.startswith("sqlalchemy") and cls.__name__ in {
                "OperationalError",
                "InterfaceError",
                "DisconnectionError",
                "TimeoutError",
            }:
                return True
            if module.startswith("asyncpg") and cls.__name__ in {
                "CannotConnectNowError",
                "InternalClientError",  # a connection left mid-operation by a dying server
                "ConnectionDoesNotExistError",
                "ConnectionFailureError",
                "InterfaceError",
                "AdminShutdownError",
                "CrashShutdownError",
                "TooManyConnectionsError",
            }:
                return True
        if getattr(current, "connection_invalidated", False):
            return True
        current = current.__cause__ or current.__context__
    return False


#: The database, shared by every loop that touches it.
DATABASE = Dependency("database", is_database_outage)
