"""SQLite statements run on the event loop (bot/db/sqlite.py): results as through aiosqlite,
and another process's write lock waited for without ever blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.db import Database
from bot.db.sqlite import InlineConnection, inline_connector


async def _ticks_while(awaitable: object) -> tuple[int, object]:
    """Run ``awaitable`` and count how often a 10 ms ticker ran meanwhile."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        result = await awaitable  # type: ignore[misc]
    finally:
        task.cancel()
    return ticks, result


async def test_statements_and_transactions_behave_as_usual(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        async with db.transaction() as uow:
            await uow.session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
            await uow.session.execute(
                text("INSERT INTO t (v) VALUES (:v)"), [{"v": "a"}, {"v": "b"}]
            )
        with pytest.raises(RuntimeError):
            async with db.transaction() as uow:
                await uow.session.execute(text("INSERT INTO t (v) VALUES ('rolled back')"))
                raise RuntimeError
        async with db.sessions() as session:
            rows = (await session.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
            mode = (await session.execute(text("PRAGMA journal_mode"))).scalar()
        assert rows == ["a", "b"]
        assert mode == "wal"
    finally:
        await db.dispose()


async def test_another_processs_lock_is_awaited_without_blocking_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)  # another process, as far as SQLite knows
    try:
        async with db.transaction() as uow:
            await uow.session.execute(text("CREATE TABLE t (v TEXT)"))
        other.execute("BEGIN IMMEDIATE")
        asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")

        async def write() -> float:
            started = time.monotonic()
            async with db.transaction() as uow:
                await uow.session.execute(text("INSERT INTO t VALUES ('after the lock')"))
            return time.monotonic() - started

        ticks, waited = await _ticks_while(write())
        assert isinstance(waited, float) and waited >= 0.25  # it did wait for the lock...
        # ...and the loop ran on meanwhile: a blocked loop ticks at most once; a loaded
        # machine may starve a free one of some of its 30 ticks, never of all but two.
        assert ticks >= 3
    finally:
        other.close()
        await db.dispose()


async def test_a_lock_held_past_the_busy_timeout_fails_the_begin(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    sqlite3.connect(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    connection: InlineConnection = await inline_connector([str(path)], {}, busy_timeout=0.2)()
    try:
        other.execute("BEGIN IMMEDIATE")
        cursor = connection.cursor()
        started = time.monotonic()
        ticks, error = await _ticks_while(_expect_error(cursor.execute("BEGIN IMMEDIATE")))
        assert isinstance(error, sqlite3.OperationalError) and "locked" in str(error)
        assert 0.2 <= time.monotonic() - started < 2
        assert ticks >= 3  # the loop ran on while SQLite waited (blocked: at most one tick)
    finally:
        other.close()
        await connection.close()


async def _expect_error(awaitable: object) -> BaseException:
    try:
        await awaitable  # type: ignore[misc]
    except Exception as error:
        return error
    raise AssertionError("no error raised")
