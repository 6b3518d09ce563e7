"""SQLite for SQLAlchemy's asyncio engine, without a thread hop per statement.

aiosqlite runs every call on a worker thread, and SQLAlchemy's adapter makes four such calls
per statement (cursor, execute, fetchall, close): about 280 µs a statement on this machine,
against 7 µs for the same statement through SQLAlchemy on plain ``sqlite3``. A turn of the
conversation is about ten statements, so the hops, not SQLite, set the bot's throughput.

On a local file in WAL mode a statement takes microseconds, so :class:`InlineConnection` runs
it on the event loop itself, behind the interface SQLAlchemy's aiosqlite dialect expects of an
aiosqlite connection (it is handed over through ``create_async_engine(async_creator=...)``).
The one wait that can be long — another *process* holding the write lock — never blocks the
loop: SQLite's own busy handler waits only :data:`INLINE_BUSY_MS`, and a ``BEGIN`` that still
finds the database locked is retried with ``asyncio.sleep`` until ``busy_timeout`` runs out.
(Within one process, :class:`bot.db.engine.Database` already makes writers take turns.)
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

#: How long one statement may block the event loop waiting for another process's lock, ms.
INLINE_BUSY_MS = 20
_RETRY_FIRST = 0.005  # seconds: the first asynchronous wait for a busy lock (then doubling)
_RETRY_MAX = 0.1


def _is_busy(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


class InlineCursor:
    """A ``sqlite3`` cursor with aiosqlite's awaitable methods (they never suspend, except a
    ``BEGIN`` waiting for another process's write lock)."""

    def __init__(self, connection: InlineConnection) -> None:
        self._owner = connection
        self._cursor = connection.sqlite.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        if sql.lstrip()[:5].upper() == "BEGIN":
            await self._owner.wait_for_lock(lambda: self._cursor.execute(sql, parameters or ()))
        else:
            self._cursor.execute(sql, parameters or ())
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _InlineQueue:
    """SQLAlchemy's aiosqlite adapter sets ``isolation_level`` by putting a function on the
    connection's thread queue (``_tx``) and awaiting a future: here the function runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the awaiting caller
            future.set_exception(error)


class InlineConnection:
    """A ``sqlite3`` connection with the aiosqlite ``Connection`` interface SQLAlchemy uses."""

    def __init__(self, connection: sqlite3.Connection, *, busy_timeout: float) -> None:
        self.sqlite = connection
        self.busy_timeout = busy_timeout  # seconds a BEGIN may wait for another process
        # The names SQLAlchemy's adapter reaches for: ``_conn`` and ``_tx`` to set the
        # isolation level (see _InlineQueue), ``_connection`` (None once closed) before
        # committing or rolling back.
        self._conn = connection
        self._tx = _InlineQueue()
        self._connection: sqlite3.Connection | None = connection

    @property
    def isolation_level(self) -> str | None:
        return self.sqlite.isolation_level

    async def wait_for_lock(self, statement: Callable[[], object]) -> None:
        """Run ``statement``; while another process holds the lock, retry without blocking."""
        deadline = time.monotonic() + self.busy_timeout
        delay = _RETRY_FIRST
        while True:
            try:
                statement()
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(_RETRY_MAX, delay * 2)

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        cursor = self.cursor()
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        self.sqlite.commit()

    async def rollback(self) -> None:
        self.sqlite.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.sqlite.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's "terminate")."""
        if self._connection is not None:
            self._connection = None
            self.sqlite.close()


def inline_connector(
    args: Sequence[Any], kwargs: Mapping[str, Any], *, busy_timeout: float
) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``: ``args``/``kwargs`` are the
    dialect's ``create_connect_args`` for the URL (path, ``uri=``...)."""
    options = {key: value for key, value in kwargs.items() if key != "factory"}
    options["timeout"] = INLINE_BUSY_MS / 1000
    options["check_same_thread"] = False  # the pool may close it from another thread

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(*args, **options), busy_timeout=busy_timeout)

    return connect
