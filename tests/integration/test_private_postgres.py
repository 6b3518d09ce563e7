"""The private PostgreSQL fixture itself: it runs on its own port, stops (clients lose their
connections) and starts again with the data kept — never touching the shared server."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.db import create_engine
from bot.supervisor import is_database_outage
from tests.doubles.private_postgres import PrivateServer


async def test_private_server_stops_and_starts_with_its_data(
    private_postgres: PrivateServer,
) -> None:
    assert private_postgres.port != 5432
    engine = create_engine(private_postgres.url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE kept (n int)"))
            await connection.execute(text("INSERT INTO kept VALUES (7)"))
        private_postgres.stop()
        with pytest.raises(DBAPIError) as raised:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        assert is_database_outage(raised.value)
        private_postgres.start()
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT n FROM kept"))).scalar_one() == 7
    finally:
        await engine.dispose()
