"""PostgreSQL specifics of bot/db: the pool replaces a connection the server closed, or one that
does not answer its ping after a long idle, without a round trip before every transaction; and
a cancelled transaction never goes back to the pool open. (What a unit of work does on both
backends: tests/test_db_unit_of_work.py.)"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.engine import make_url

import bot.db.engine
from bot.db import Database
from bot.db.models import OutboxMessage, ProcessedEvent, User
from tests.conftest import Clock

pytestmark = pytest.mark.postgres


async def _backend_pids(db: Database, count: int) -> set[int]:
    """The server processes behind ``count`` transactions held open at once."""
    gate = asyncio.Event()
    pids: list[int] = []

    async def hold() -> None:
        async with db.transaction() as uow:
            pids.append(
                int((await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            )
            if len(pids) == count:
                gate.set()
            await gate.wait()

    await asyncio.wait_for(asyncio.gather(*(hold() for _ in range(count))), 10)
    return set(pids)


async def test_connections_the_server_closed_are_replaced_without_a_failed_transaction(
    postgres_url: str,
) -> None:
    db = Database.from_url(postgres_url, pool_size=2, max_overflow=0)
    try:
        before = await _backend_pids(db, 2)
        dsn = make_url(postgres_url).set(drivername="postgresql")
        admin = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        try:  # what a database restart does to every pooled connection
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", list(before)
            )
        finally:
            await admin.close()
        await asyncio.sleep(0.2)  # the end of each stream reaches the event loop

        after = await _backend_pids(db, 2)
        assert after and not after & before
    finally:
        await db.dispose()


async def test_a_long_idle_connection_that_fails_its_ping_is_replaced(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database.from_url(postgres_url, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pids(db, 1)
        pings: list[Any] = []
        real_ping = AsyncAdapt_asyncpg_connection.ping

        def ping(self: AsyncAdapt_asyncpg_connection) -> None:
            pings.append(self)
            if len(pings) == 1:
                raise ConnectionResetError("the server is gone and nobody told us")
            real_ping(self)

        monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", ping)
        assert await _backend_pids(db, 1) == first  # used a moment ago: trusted, not pinged
        assert pings == []

        monkeypatch.setattr(bot.db.engine, "PING_AFTER_IDLE_SECONDS", 0.0)
        replaced = await _backend_pids(db, 1)
        assert replaced != first
        assert len(pings) == 1  # the new connection is fresh: not idle, not pinged
    finally:
        await db.dispose()


async def _counts(db: Database) -> tuple[int, int, int]:
    async with db.sessions() as session:
        return tuple(  # type: ignore[return-value]
            [
                int(await session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (ProcessedEvent, User, OutboxMessage)
            ]
        )


async def test_a_cancelled_transaction_never_goes_back_to_the_pool_open(
    postgres_url: str, clock: Clock
) -> None:
    db = Database.from_url(postgres_url, pool_size=1, max_overflow=0)
    inside = asyncio.Event()

    async def turn() -> None:
        async with db.transaction() as uow:
            await uow.people.touch("telegram", "1", clock())
            inside.set()
            await asyncio.sleep(60)

    try:
        task = asyncio.create_task(turn())
        await asyncio.wait_for(inside.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await _counts(db))[1] == 0  # rolled back
        async with asyncio.timeout(5):  # the pool's one connection: usable, no lock left held
            async with db.transaction() as uow:
                user = await uow.people.touch("telegram", "1", clock())
        assert user.is_new
    finally:
        await db.dispose()
