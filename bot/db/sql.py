"""Small helpers the aggregates' modules share for building statements once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import UTCDateTime
from bot.db.driver import DRIVER_CONNECTION, DriverStatement

#: The type of time parameters (aware UTC on both backends).
TIME = UTCDateTime()


def per_backend(build: Callable[[Callable[[Table], Any]], Any]) -> dict[str, Any]:
    """A statement built once per backend, given that backend's INSERT (it has
    ``on_conflict_do_nothing``)."""
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE matched."""
    return int(result.rowcount)


async def fetch(
    session: AsyncSession, statement: Any, params: Mapping[str, Any]
) -> Sequence[Mapping[Any, Any]]:
    """The rows of a hot statement: straight on the driver in a PostgreSQL transaction
    (:mod:`bot.db.driver`), else through the session (also on a PostgreSQL ``Database`` made
    with ``use_driver=False``). Every call of this and :func:`execute_many` is listed in
    ``tests/test_db_driver_parity.py``, which runs it both ways."""
    driver = session.info.get(DRIVER_CONNECTION)
    if driver is not None:
        return await DriverStatement.of(statement).fetch(driver, params)
    return (await session.execute(statement, params)).mappings().all()


async def execute_many(
    session: AsyncSession, statement: Any, rows: Sequence[Mapping[str, Any]]
) -> None:
    """A hot statement once per row, in order (see :func:`fetch`): a plain executemany."""
    driver = session.info.get(DRIVER_CONNECTION)
    if driver is not None:
        await DriverStatement.of(statement).executemany(driver, rows)
        return
    connection = await session.connection()
    await connection.execute(statement, list(rows))
