"""Applying the Alembic migrations: the only way the schema is made.

The Alembic configuration is built here in code, so migrations run the same from any working
directory, from ``otwarta db upgrade``, and at start on the embedded database. The alembic
scripts are found next to the package (``<repo>/alembic``); set ``OTWARTA_MIGRATIONS`` to
point elsewhere (for instance when the package is installed without the source tree).

``alembic/env.py`` runs migrations on the connection handed over in ``config.attributes``
(the async engine's connection, through ``run_sync``), or, when started by the ``alembic``
command line, on its own async engine.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from bot.db.engine import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "alembic"


def migrations_dir() -> Path:
    return Path(os.environ.get("OTWARTA_MIGRATIONS") or MIGRATIONS_DIR)


def alembic_config(url: str | None = None) -> Config:
    scripts = migrations_dir()
    if not (scripts / "env.py").is_file():
        raise FileNotFoundError(
            f"no Alembic migrations at {scripts}: run from the source tree "
            "(pip install -e .) or set OTWARTA_MIGRATIONS to the alembic/ directory"
        )
    config = Config()
    config.set_main_option("script_location", str(scripts))
    if url is not None:
        # ConfigParser interpolation: a literal "%" in a password must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _run(connection: Connection, config: Config, action: str, revision: str) -> None:
    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def _migrate(url: str, action: str, revision: str) -> None:
    # Foreign keys off while migrating: batch mode on SQLite rebuilds tables (see create_engine).
    engine = create_engine(url, foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run, alembic_config(url), action, revision)
    finally:
        await engine.dispose()


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Apply pending migrations (used at start on the embedded database)."""
    await _migrate(url, "upgrade", revision)


async def downgrade_async(url: str, revision: str) -> None:
    await _migrate(url, "downgrade", revision)


def upgrade(url: str, revision: str = "head") -> None:
    """``alembic upgrade`` on ``url`` (an async URL); the entry point of ``otwarta db upgrade``."""
    asyncio.run(upgrade_async(url, revision))


def downgrade(url: str, revision: str) -> None:
    asyncio.run(downgrade_async(url, revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (``None`` when never migrated)."""

    def read(connection: Connection) -> Any:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        revision: str | None = await connection.run_sync(read)
        return revision


async def ensure_schema(url: str) -> None:
    """Bring the database to the newest revision if it is behind (cheap when it is not)."""
    engine = create_engine(url)
    try:
        current = await current_revision(engine)
    finally:
        await engine.dispose()
    if current != head_revision():
        await upgrade_async(url)
