"""Shared fixtures: real databases, migrated by the real migrations.

- ``sqlite_url``: a migrated SQLite file in ``tmp_path`` (copied from one migrated template,
  so each test pays a file copy, not a migration).
- ``postgres_url``: a uniquely named, migrated, empty database on the server of
  ``TEST_POSTGRES_URL`` (cloned from a migrated template; wiped and reused by later tests of
  the session, dropped at the end); the test is skipped, saying why, when the server is
  unreachable.
- ``db_url``: both of the above, one test run each (``[sqlite]``, ``[postgres]``).
- ``blank_sqlite_url`` / ``blank_postgres_url`` / ``blank_db_url``: the same, unmigrated.
- ``db``: a :class:`bot.db.Database` on ``db_url``, disposed afterwards.
- ``clock``: a settable clock (aware UTC datetimes) for code that takes ``clock=``.

Database setup runs in a helper thread with its own event loop, so fixtures stay synchronous
and never interfere with the test's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.db import Database
from bot.db.migrate import upgrade_async

T = TypeVar("T")

TEST_POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
DB_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def run_in_thread(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a fresh event loop in another thread."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(factory()))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name="db-fixture")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


# -- SQLite --------------------------------------------------------------------------------


def sqlite_url_for(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    run_in_thread(lambda: upgrade_async(sqlite_url_for(path)))
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    path = tmp_path / "otwarta.sqlite3"
    shutil.copyfile(_sqlite_template, path)
    return sqlite_url_for(path)


@pytest.fixture
def blank_sqlite_url(tmp_path: Path) -> str:
    return sqlite_url_for(tmp_path / "blank.sqlite3")


# -- PostgreSQL ----------------------------------------------------------------------------


def _pg_dsn(url: str, database: str | None = None) -> str:
    """An asyncpg DSN (no "+asyncpg") for ``url``, optionally on another database."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_url(database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(TEST_POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


async def _pg_execute(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_pg_dsn(TEST_POSTGRES_URL), timeout=3)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def _postgres_server() -> str | None:
    """``None`` when reachable, else why not. Also drops what killed test runs left behind."""
    try:
        run_in_thread(_drop_orphans)
    except Exception as exc:
        return f"PostgreSQL at TEST_POSTGRES_URL is unreachable ({type(exc).__name__}: {exc})"
    return None


_OURS = re.compile(r"^otwarta_(?:tmpl|test|blank)_(\d+)_[0-9a-f]{10}$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _drop_orphans() -> None:
    """Drop the test databases of test processes that no longer run (a run killed before
    its teardown). Only on a server on this machine, where the process ids in the names
    are ours to check."""
    import asyncpg
    from sqlalchemy.engine import make_url

    connection = await asyncpg.connect(_pg_dsn(TEST_POSTGRES_URL), timeout=3)
    try:
        if make_url(TEST_POSTGRES_URL).host not in ("127.0.0.1", "localhost", "::1", None):
            return
        for record in await connection.fetch("SELECT datname FROM pg_database"):
            match = _OURS.match(record["datname"])
            if match and not _pid_alive(int(match.group(1))):
                with contextlib.suppress(Exception):
                    await connection.execute(
                        f'DROP DATABASE IF EXISTS "{record["datname"]}" WITH (FORCE)'
                    )
    finally:
        await connection.close()


def _unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"


class _PostgresPool:
    """Databases cloned from one migrated template. A test's database is wiped (every row
    deleted, 1 ms) and reused by a later test rather than dropped and cloned again (200 ms);
    one whose schema a test changed is dropped instead. All are dropped at the end."""

    def __init__(self) -> None:
        self.template = _unique_name("otwarta_tmpl")
        self.free: list[str] = []
        self.created: list[str] = []

    def setup(self) -> None:
        run_in_thread(lambda: _pg_execute(f'CREATE DATABASE "{self.template}"'))
        run_in_thread(lambda: upgrade_async(_pg_url(self.template)))

    def take(self) -> str:
        if self.free:
            return self.free.pop()
        name = _unique_name("otwarta_test")
        run_in_thread(lambda: _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.created.append(name)
        return name

    def give_back(self, name: str) -> None:
        try:
            run_in_thread(lambda: _pg_wipe(name))
        except Exception:
            run_in_thread(lambda: _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.created.remove(name)
        else:
            self.free.append(name)

    def close(self) -> None:
        names = [*self.created, self.template]
        run_in_thread(
            lambda: _pg_execute(*(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names))
        )


async def _pg_wipe(database: str) -> None:
    """Delete every row, children first; raise if the schema is not the migrated head."""
    import asyncpg

    from bot.db.migrate import head_revision
    from bot.db.schema import metadata

    connection = await asyncpg.connect(_pg_dsn(TEST_POSTGRES_URL, database), timeout=3)
    try:
        await connection.execute("SET lock_timeout = '2s'")
        revision = await connection.fetchval("SELECT version_num FROM alembic_version")
        if revision != head_revision():
            raise RuntimeError(f"schema changed by the test ({revision})")
        existing = {
            row[0]
            for row in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        expected = {table.name for table in metadata.sorted_tables}
        if existing - {"alembic_version"} != expected:
            raise RuntimeError("tables differ from the models")
        async with connection.transaction():
            for table in reversed(metadata.sorted_tables):
                await connection.execute(f'DELETE FROM "{table.name}"')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def _postgres_pool(_postgres_server: str | None) -> Iterator[_PostgresPool]:
    if _postgres_server is not None:
        pytest.skip(_postgres_server)
    pool = _PostgresPool()
    try:
        pool.setup()
        yield pool
    finally:
        pool.close()


@pytest.fixture
def postgres_url(_postgres_pool: _PostgresPool) -> Iterator[str]:
    name = _postgres_pool.take()
    try:
        yield _pg_url(name)
    finally:
        _postgres_pool.give_back(name)


@pytest.fixture
def blank_postgres_url(_postgres_server: str | None) -> Iterator[str]:
    if _postgres_server is not None:
        pytest.skip(_postgres_server)
    name = _unique_name("otwarta_blank")
    run_in_thread(lambda: _pg_execute(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        run_in_thread(lambda: _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# -- both ------------------------------------------------------------------------------------


@pytest.fixture(params=DB_KINDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database URL: the test runs once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(params=DB_KINDS)
def blank_db_url(request: pytest.FixtureRequest) -> str:
    """An empty (unmigrated) database URL, on SQLite and on PostgreSQL."""
    return str(request.getfixturevalue(f"blank_{request.param}_url"))


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(db_url)
    try:
        yield database
    finally:
        await database.dispose()


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def names_ticket(text: str, number: int) -> bool:
    """Whether ``text`` names ticket ``number``: "#1" must not match "#12" (or "#1" of #19)."""
    return re.search(rf"#{number}(?!\d)", text) is not None


# -- a PostgreSQL server of the test's own (tests/private_postgres.py) ----------------------
from tests.doubles.private_postgres import private_postgres  # noqa: E402, F401
