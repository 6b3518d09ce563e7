"""Connecting to the database: engines tuned per backend, and transactions.

SQLite is the embedded default, through SQLAlchemy's aiosqlite dialect but with statements run
on the event loop (:mod:`bot.db.sqlite` says why): WAL journal so readers never block the
writer, foreign keys on (``ON DELETE CASCADE`` is how /forget works), a busy timeout, and real
transactions (SQLAlchemy emits ``BEGIN`` itself; the sqlite3 module's legacy mode would not).
SQLite allows one writer at a time, so :meth:`Database.transaction` serialises this process's
write transactions with an asyncio lock instead of letting them collide on the file lock.
PostgreSQL (asyncpg) is the production database; several bot processes may share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import StaticPool

from bot.db.driver import DRIVER_CONNECTION, translated
from bot.db.sqlite import inline_connector
from bot.db.unit import UnitOfWork

#: How long a SQLite connection waits for another process's write lock, milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 5_000
_SQLITE_WRITE = "otwarta_sqlite_write"
#: A pooled PostgreSQL connection idle for longer than this is pinged before use, seconds.
PING_AFTER_IDLE_SECONDS = 10.0


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str | URL) -> Path | None:
    """The database file of a SQLite URL; ``None`` for in-memory databases and other backends."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(url: str | URL, *, foreign_keys: bool = True, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``).

    Creates the directory of a SQLite file. ``foreign_keys=False`` is for migrations only:
    Alembic's batch mode rebuilds SQLite tables, and with foreign keys on, dropping the old
    copy would cascade into the rows that reference it.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        if path is None:  # in memory: every connection would see its own empty database
            kwargs.setdefault("poolclass", StaticPool)
        connect_args, connect_kwargs = SQLiteDialect_aiosqlite().create_connect_args(parsed)
        kwargs.setdefault(
            "async_creator",
            inline_connector(
                connect_args, connect_kwargs, busy_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
            ),
        )
        engine = _create_async_engine(parsed, **kwargs)
        _configure_sqlite(engine, foreign_keys=foreign_keys, in_memory=path is None)
        return engine
    options: dict[str, Any] = {"pool_size": 10, "max_overflow": 10, "pool_recycle": 1800}
    options.update(kwargs)
    engine = _create_async_engine(parsed, **options)
    if not options.get("pool_pre_ping"):
        _check_on_checkout(engine)
    return engine


def _check_on_checkout(engine: AsyncEngine) -> None:
    """Survive a database restart without a failed update, at no round trip for a busy pool.

    SQLAlchemy's ``pool_pre_ping`` costs three round trips on asyncpg (``BEGIN``, ``;``,
    ``ROLLBACK``) before every transaction: a third of a turn's. Instead, a connection whose
    socket the server closed (a restart, ``pg_terminate_backend``, an idle timeout: asyncpg
    sees the end of the stream as soon as it arrives) is replaced without asking, and only a
    connection idle for a while, which may have lost its server silently, is pinged first.
    """

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed the connection")
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since > PING_AFTER_IDLE_SECONDS:
            try:
                dbapi_connection.ping()
            except Exception as error:
                raise DisconnectionError("the connection did not answer a ping") from error


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool, in_memory: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Write transactions take the write lock up front (waiting up to the busy timeout):
        # a deferred one that reads first could not upgrade to writing if another
        # connection wrote meanwhile, and SQLite would fail it at once with "database is locked".
        # Straight to the DBAPI cursor: a statement through SQLAlchemy's execution machinery
        # would cost more than the whole of SQLite's work for a turn.
        immediate = connection.get_execution_options().get(_SQLITE_WRITE, False)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        finally:
            cursor.close()


class Database:
    """One database: the engine, a session factory, and the write discipline of its backend.

    ``use_driver=False`` (PostgreSQL) runs the aggregates' hot statements through the session
    like every other statement instead of straight on asyncpg (:mod:`bot.db.driver`): the
    reference path that ``tests/test_db_driver_parity.py`` compares the driver with, and the
    way back should the driver ever bind differently. SQLite has no driver path."""

    def __init__(self, engine: AsyncEngine, *, use_driver: bool = True) -> None:
        self.engine = engine
        self.use_driver = use_driver
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.dialect = engine.dialect.name
        self.is_sqlite = self.dialect == "sqlite"
        self.parallel_reads = not self.is_sqlite
        """Whether two reads may run side by side on connections of their own and both gain
        (PostgreSQL). SQLite here runs its statements inline, one at a time (and an
        in-memory database has one connection only)."""
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @classmethod
    def from_url(cls, url: str | URL, *, use_driver: bool = True, **kwargs: Any) -> Database:
        if not is_sqlite(url):  # transactions are the driver's (see transaction())
            kwargs.setdefault("isolation_level", "AUTOCOMMIT")
        return cls(create_engine(url, **kwargs), use_driver=use_driver)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work in one transaction: committed on normal exit, rolled back on error.

        On SQLite the process's write transactions take turns (one writer), and each takes
        the database's write lock when it begins. Read-only work can use :meth:`read`.

        On PostgreSQL the transaction is asyncpg's, on a connection SQLAlchemy keeps in
        ``AUTOCOMMIT`` mode (:meth:`from_url`): the session's statements run inside it, and so
        do the aggregates' hot statements, which go to the driver directly (:mod:`bot.db.driver`)
        unless the database was made with ``use_driver=False``.
        """
        if self._write_lock is None:
            async with self._asyncpg_transaction() as session:
                yield UnitOfWork(session)
            return
        async with self._write_lock:
            session = self.sessions()
            try:
                async with session.begin():
                    await session.connection(execution_options={_SQLITE_WRITE: True})
                    yield UnitOfWork(session)
            finally:
                # Not ``async with session``: its exit closes in a task of its own, so that a
                # cancellation cannot cut the close short, at three turns of the event loop
                # per transaction. Here the statements run inline (bot.db.sqlite): the close
                # never suspends, so nothing can cut it short.
                await session.close()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work for reading only: no write lock taken on SQLite. On PostgreSQL a
        read-only transaction (one snapshot, so a report's figures agree with each other, and
        server-side cursors for streaming): a write through it fails."""
        if self._write_lock is None:
            async with self._asyncpg_transaction(readonly=True) as session:
                yield UnitOfWork(session)
            return
        async with self.sessions() as session:
            yield UnitOfWork(session)

    @contextlib.asynccontextmanager
    async def _asyncpg_transaction(self, *, readonly: bool = False) -> AsyncIterator[AsyncSession]:
        async with self.engine.connect() as connection:
            pooled = await connection.get_raw_connection()
            adapted: Any = pooled.dbapi_connection
            if adapted.isolation_level != "autocommit":
                raise RuntimeError("a PostgreSQL Database needs an AUTOCOMMIT engine: from_url")
            driver: Any = pooled.driver_connection  # asyncpg.Connection
            # The hot statements find the driver here (bot.db.sql); without it, the session.
            info = {DRIVER_CONNECTION: driver} if self.use_driver else {}
            session = AsyncSession(bind=connection, expire_on_commit=False, info=info)
            transaction = (
                driver.transaction(isolation="repeatable_read", readonly=True)
                if readonly
                else driver.transaction()
            )
            try:
                await _translating(transaction.start())
                yield session
                if session.new or session.dirty or session.deleted:
                    await session.flush()
                await _translating(transaction.commit())
                if session.in_transaction():
                    # Nothing reaches the server (AUTOCOMMIT): this runs the session's
                    # after_commit hooks, now that the work is committed.
                    await session.commit()
            except BaseException:
                if driver.is_in_transaction():
                    with contextlib.suppress(Exception):
                        await transaction.rollback()
                raise
            finally:
                if session.in_transaction() or session.identity_map:
                    await session.close()
                if driver.is_in_transaction():  # never back to the pool inside a transaction
                    await connection.invalidate()

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _translating(step: Awaitable[None]) -> None:
    try:
        await step
    except Exception as error:
        raise translated(error) from error
