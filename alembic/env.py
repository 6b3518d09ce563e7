"""Alembic environment: generic, so later migrations (0002+) only add files in versions/.

Two ways in:
- from :mod:`bot.db.migrate` (``otwarta db upgrade``, start-up on the embedded database):
  a live connection arrives in ``config.attributes["connection"]`` and we migrate on it;
- from the ``alembic`` command line (``alembic revision --autogenerate``, ``alembic upgrade``):
  we open an async engine on ``sqlalchemy.url`` (or ``DATABASE_URL``) and do the same.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from sqlalchemy.engine import Connection

from alembic import context
from bot.db.engine import create_engine
from bot.db.schema import metadata

config = context.config
if config.config_file_name is not None:  # the command line, with alembic.ini
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bot.settings import get_settings

    return get_settings().database_url


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: Alembic rebuilds the table ("batch" mode).
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """``alembic upgrade --sql``: print the SQL instead of running it."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(_url(), foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
