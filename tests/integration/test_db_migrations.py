"""The schema is made by the migrations alone, and matches the ORM models, on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.db import create_engine, sqlite_file
from bot.db.migrate import (
    current_revision,
    downgrade_async,
    ensure_schema,
    head_revision,
    upgrade_async,
)
from bot.db.schema import metadata

TABLES = {"users", "processed_events", "query_log", "outbox"}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
        return set(names) - {"alembic_version"}
    finally:
        await engine.dispose()


async def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(blank_db_url: str) -> None:
    assert await _tables(blank_db_url) == set()
    await upgrade_async(blank_db_url, "0001")
    assert await _tables(blank_db_url) == TABLES
    assert await _revision(blank_db_url) == "0001"

    await upgrade_async(blank_db_url)  # later migrations (0002+) build on 0001
    assert await _tables(blank_db_url) >= TABLES
    assert await _revision(blank_db_url) == head_revision()

    await downgrade_async(blank_db_url, "base")
    assert await _tables(blank_db_url) == set()
    assert await _revision(blank_db_url) is None

    await upgrade_async(blank_db_url)
    assert await _tables(blank_db_url) >= TABLES
    assert await _revision(blank_db_url) == head_revision()


async def test_models_match_the_migrations(db_url: str) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []


async def test_ensure_schema_migrates_once(blank_sqlite_url: str) -> None:
    await ensure_schema(blank_sqlite_url)
    assert await _revision(blank_sqlite_url) == head_revision()
    await ensure_schema(blank_sqlite_url)  # already there: nothing to do, no error
    assert await _tables(blank_sqlite_url) >= TABLES


async def test_sqlite_file_directory_is_created_with_wal(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'dir' / 'bot.sqlite3'}"
    await upgrade_async(url)
    path = sqlite_file(url)
    assert path is not None and path.exists()
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            fks = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    finally:
        await engine.dispose()
    assert mode == "wal"
    assert fks == 1


def test_cli_db_upgrade_from_another_directory(tmp_path: Path) -> None:
    """``otwarta db upgrade`` finds the migrations whatever the working directory."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "head" in done.stdout
    assert (tmp_path / "cli.sqlite3").exists()
