"""The driver path (bot/db/driver.py) writes and returns exactly what the session path does.

On PostgreSQL a few hot statements skip SQLAlchemy's execution and run straight on asyncpg
(``bot.db.sql.fetch`` / ``execute_many``), re-doing SQLAlchemy's binding: the statement's own
values, the columns' defaults, the types' conversions (JSON, UTC times). A slip there would
differ silently, on PostgreSQL only. So the same workload runs on two fresh databases, once
with the driver and once without (``Database(..., use_driver=False)``: the session path), and
everything is compared:

- a few turns through the real engine, router and matcher (a new person, a known one, a
  duplicate event, logged questions, replies queued), then the outbox worker's claims and
  "sent" batches with a fake sender: every table dumped, every column, as stored (the JSON
  columns as their text);
- each hot statement called directly, its parameters chosen to reach what the engine does
  not (columns left to their defaults, a duplicate key, a claim across platforms): the rows
  it returns, and the tables after.

The hot statements are listed once here (:data:`HOT`); the test fails when a call of
``fetch``/``execute_many`` appears in the code that the list does not name, when the driver is
reached any other way, or when the workload sends the driver a statement not in the list.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import datetime as dt
import itertools
import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.db import Database, unit
from bot.db import outbox as outbox_module
from bot.db import query_log as query_log_module
from bot.db.driver import DriverStatement
from bot.db.schema import metadata
from bot.db.sql import execute_many, fetch
from bot.engine import Engine
from bot.i18n import translator_for
from bot.outbox import OutboxWorker
from bot.ports import Delivered, RateLimit
from faq import load_matcher
from faq.matcher import Matcher
from handlers.model import Address, EventKind, IncomingEvent, Platform, Reply, Sender
from tests.conftest import Clock
from tests.doubles.faq_synthetic_kb import write_kb

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
#: Where a call of the hot helpers may hide: every package of the bot.
PACKAGES = ("bot", "handlers", "faq")
#: The only modules that may know the driver itself.
DRIVER_MODULES = {"bot/db/driver.py", "bot/db/sql.py", "bot/db/engine.py"}

#: Warsaw in May: the times given are not UTC, and must be stored and returned as UTC.
CEST = dt.timezone(dt.timedelta(hours=2))
START = dt.datetime(2026, 5, 4, 11, 0, tzinfo=CEST)


@dataclasses.dataclass(frozen=True)
class Hot:
    """A hot statement: the call that runs it (module, statement argument as written)."""

    module: str
    argument: str
    statement: Any


HOT = {
    "record_and_touch": Hot("bot/db/unit.py", "_RECORD_AND_TOUCH", unit._RECORD_AND_TOUCH),
    "log_query": Hot("bot/db/query_log.py", "_LOG", query_log_module._LOG),
    "enqueue": Hot("bot/db/outbox.py", "_ENQUEUE", outbox_module._ENQUEUE),
    "claim": Hot("bot/db/outbox.py", "_CLAIM[self.dialect]", outbox_module._CLAIM["postgresql"]),
    "mark_sent": Hot("bot/db/outbox.py", "_MARK_SENT", outbox_module._MARK_SENT),
}
_HOT_BY_ID = {id(hot.statement): name for name, hot in HOT.items()}


# -- which statements are hot: read from the code ------------------------------------------


def _hot_calls(source: str) -> tuple[set[str], bool]:
    """The statement arguments of the module's calls of ``bot.db.sql.fetch`` /
    ``execute_many`` (however imported), and whether it names the driver itself."""
    tree = ast.parse(source)
    helpers: set[str] = set()  # local names of the two functions
    modules: set[str] = set()  # local names of the module bot.db.sql
    names_driver = False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "bot.db.sql":
            helpers |= {
                alias.asname or alias.name
                for alias in node.names
                if alias.name in ("fetch", "execute_many")
            }
        elif isinstance(node, ast.ImportFrom) and node.module == "bot.db":
            modules |= {alias.asname or alias.name for alias in node.names if alias.name == "sql"}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "bot.db.sql":
                    modules.add(alias.asname or "bot.db.sql")
                names_driver |= alias.name == "bot.db.driver"
        if isinstance(node, ast.ImportFrom):
            names_driver |= node.module == "bot.db.driver" or (
                node.module == "bot.db" and any(a.name == "driver" for a in node.names)
            )
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            names_driver |= name in ("DriverStatement", "DRIVER_CONNECTION")
    arguments: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        func = node.func
        called = ast.unparse(func)
        is_hot = (isinstance(func, ast.Name) and func.id in helpers) or (
            isinstance(func, ast.Attribute)
            and func.attr in ("fetch", "execute_many")
            and ast.unparse(func.value) in modules
        )
        if is_hot or called in ("bot.db.sql.fetch", "bot.db.sql.execute_many"):
            arguments.add(ast.unparse(node.args[1]))
    return arguments, names_driver


def test_every_hot_statement_in_the_code_is_covered_here() -> None:
    """A new ``fetch``/``execute_many`` call (or another way to the driver) must be added to
    :data:`HOT`, and so to the parity checks below."""
    found: set[tuple[str, str]] = set()
    reaching_the_driver: set[str] = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = path.relative_to(ROOT).as_posix()
            if module == "bot/db/sql.py":
                continue  # where the two helpers are defined
            arguments, names_driver = _hot_calls(path.read_text(encoding="utf-8"))
            found |= {(module, argument) for argument in arguments}
            if names_driver and module not in DRIVER_MODULES:
                reaching_the_driver.add(module)
    assert found == {(hot.module, hot.argument) for hot in HOT.values()}
    assert reaching_the_driver == set()


def test_the_scan_sees_calls_however_imported() -> None:
    """The scan above is what keeps :data:`HOT` complete: it must not miss an aliased call."""
    source = (
        "from bot.db.sql import fetch as get, execute_many\n"
        "from bot.db import sql\n"
        "import bot.db.sql as raw\n"
        "async def f(s):\n"
        "    await get(s, A, {})\n"
        "    await execute_many(s, B[1], [])\n"
        "    await sql.fetch(s, C, {})\n"
        "    await raw.execute_many(s, D, [])\n"
        "    await other.fetch(s, E, {})\n"
    )
    assert _hot_calls(source) == ({"A", "B[1]", "C", "D"}, False)
    for reaching in (
        "from bot.db.driver import translated\n",
        "from bot.db import driver\n",
        "import bot.db.driver\n",
        "x = session.info[DRIVER_CONNECTION]\n",
    ):
        assert _hot_calls(reaching)[1] is True, reaching


# -- two fresh databases, one per path ------------------------------------------------------


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _reset(url: str) -> None:
    """No rows, and every id sequence back to 1: the same ids on both databases."""
    connection = await asyncpg.connect(_dsn(url))
    try:
        tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
        await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture
def two_postgres_urls(postgres_url: str, _postgres_pool: Any) -> Iterator[tuple[str, str]]:
    """Two migrated databases: ``postgres_url``'s and one more from the same pool (skipped,
    saying why, when PostgreSQL is unreachable, as ``postgres_url`` is)."""
    name = _postgres_pool.take()
    try:
        other = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        yield postgres_url, other
    finally:
        _postgres_pool.give_back(name)


@dataclasses.dataclass
class Paths:
    driver: Database
    session: Database
    #: Per path: the statements it sent to the driver, and those it ran through SQLAlchemy.
    to_driver: dict[str, list[Any]]
    executed: dict[str, list[Any]]
    #: The path running now (what reaches the driver is put down to it).
    running: list[str] = dataclasses.field(default_factory=list)

    def __iter__(self) -> Iterator[tuple[str, Database]]:
        return iter((("driver", self.driver), ("session", self.session)))

    @contextlib.contextmanager
    def on(self, label: str) -> Iterator[None]:
        self.running.append(label)
        try:
            yield
        finally:
            self.running.pop()


@pytest.fixture
async def paths(
    two_postgres_urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Paths]:
    first, second = two_postgres_urls
    for url in two_postgres_urls:
        await _reset(url)
    observed = Paths(
        driver=Database.from_url(first),
        session=Database.from_url(second, use_driver=False),
        to_driver={"driver": [], "session": []},
        executed={"driver": [], "session": []},
    )
    for label, db in observed:

        def executing(
            _conn: Any, clause: Any, *_rest: Any, into: list[Any] = observed.executed[label]
        ) -> None:
            into.append(clause)

        event.listen(db.engine.sync_engine, "before_execute", executing)

    original = DriverStatement.of  # bound to the class

    def recording(statement: Any) -> DriverStatement:
        observed.to_driver[observed.running[-1]].append(statement)
        return original(statement)

    monkeypatch.setattr(DriverStatement, "of", recording)
    try:
        yield observed
    finally:
        await observed.driver.dispose()
        await observed.session.dispose()


def hot_names(statements: Sequence[Any]) -> set[str]:
    """The names in :data:`HOT` of ``statements``; a statement not in it, as itself."""
    return {_HOT_BY_ID.get(id(statement), repr(statement)) for statement in statements}


# -- what is compared -----------------------------------------------------------------------


def assert_same(driver: Any, session: Any, what: str) -> None:
    """Equal, and of the same types (``repr``: ``1`` is not ``True``, an aware time shows its
    zone, a JSON text is not the dict it encodes)."""
    assert driver == session, f"{what} differs between the paths"
    assert repr(driver) == repr(session), f"{what} differs in its types between the paths"


def rows_of(rows: Sequence[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    return [{str(key): row[key] for key in row.keys()} for row in rows]  # noqa: SIM118


async def dump(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every table, every column, as PostgreSQL stores it: read by a plain asyncpg connection
    (no SQLAlchemy type on the way), JSON columns as their text, ordered by primary key."""
    connection = await asyncpg.connect(_dsn(db.engine.url.render_as_string(hide_password=False)))
    try:
        tables: dict[str, list[dict[str, Any]]] = {}
        for table in metadata.sorted_tables:
            columns = ", ".join(f'"{column.name}"' for column in table.columns)
            order = ", ".join(f'"{column.name}"' for column in table.primary_key.columns)
            records = await connection.fetch(
                f'SELECT {columns} FROM "{table.name}" ORDER BY {order}'
            )
            tables[table.name] = [dict(record.items()) for record in records]
        return tables
    finally:
        await connection.close()


def assert_same_tables(driver: dict[str, Any], session: dict[str, Any]) -> None:
    assert driver.keys() == session.keys()
    for table in driver:
        assert_same(driver[table], session[table], f"table {table}")


# -- the engine's workload ------------------------------------------------------------------


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    return load_matcher(write_kb(tmp_path_factory.mktemp("kb")))


class NumberingSender:
    """A MessageSender double: every reply accepted, numbered per chat (a chat's messages go
    one at a time, so the numbers do not depend on how the chats interleave)."""

    def __init__(self) -> None:
        self.platform = Platform.TELEGRAM
        self.counts: dict[str, itertools.count[int]] = {}
        self.sent: list[Reply] = []

    def limits_for(self, _address: Address) -> tuple[RateLimit, ...]:
        return ()

    async def send(self, reply: Reply) -> Delivered:
        self.sent.append(reply)
        number = next(self.counts.setdefault(reply.address.chat_id, itertools.count(1)))
        return Delivered(message_id=f"{reply.address.chat_id}-{number}")


def incoming(key: str, user: str, lang: str, text: str, command: str | None = None) -> Any:
    return IncomingEvent(
        address=Address(Platform.TELEGRAM, user),
        kind=EventKind.COMMAND if command else EventKind.TEXT,
        dedupe_key=key,
        sender=Sender(user_id=user, language_code=lang),
        text=text,
        command=command,
    )


TURNS = [
    incoming("u1", "501", "uk", "/start", command="start"),  # a new person
    incoming("u2", "501", "uk", "як отримати песель укр"),  # known; a question answered
    incoming("u2", "501", "uk", "як отримати песель укр"),  # the same event again
    incoming("u3", "502", "ru", "как сделать мельдунек"),  # a newcomer's first words
    incoming("u4", "501", "uk", "щось зовсім незрозуміле про погоду"),  # unanswered
    incoming("u5", "502", "ru", "спасибо"),
]


async def engine_workload(db: Database, matcher: Matcher) -> tuple[list[bool], list[str]]:
    clock = Clock(START)
    engine = Engine(db, matcher=matcher, translator_for=translator_for, clock=clock)
    processed = []
    for turn in TURNS:
        clock.advance(61)
        processed.append(await engine.process(turn))
    sender = NumberingSender()
    worker = OutboxWorker(db, [sender], clock=clock)
    clock.advance(5)
    assert await worker.drain(timeout=30)
    return processed, [reply.text for reply in sender.sent]


async def test_the_engine_and_the_outbox_write_the_same_rows_on_both_paths(
    paths: Paths, matcher: Matcher
) -> None:
    results = {}
    for label, db in paths:
        with paths.on(label):
            results[label] = await engine_workload(db, matcher)

    assert_same(results["driver"], results["session"], "what the engine and the sender saw")
    processed, sent = results["driver"]
    assert processed == [True, True, False, True, True, True]
    driver, session = await dump(paths.driver), await dump(paths.session)
    assert_same_tables(driver, session)
    # The workload reached what the comparison is about.
    assert len(driver["users"]) == 2 and len(driver["processed_events"]) == 5
    assert len(driver["query_log"]) == 4
    assert len(driver["outbox"]) == len(sent) >= 5
    assert {row["status"] for row in driver["outbox"]} == {"sent"}
    # Every hot statement ran on each path, and only the driver's path reached the driver.
    assert hot_names(paths.to_driver["driver"]) == set(HOT)
    assert paths.to_driver["session"] == []
    assert hot_names(paths.executed["session"]) >= set(HOT)
    assert hot_names(paths.executed["driver"]) & set(HOT) == set()


# -- each hot statement directly ------------------------------------------------------------


def payload(text: str) -> dict[str, Any]:
    return {
        "text": text,
        "buttons": [[{"label": "👍 Так", "id": "fb:1:1"}]],
        "meta": {"kind": "answer", "lang": "uk"},
        "no_preview": True,
    }


async def direct_workload(db: Database) -> dict[str, list[Any]]:
    """Each hot statement through ``fetch``/``execute_many``; per statement, what it returned
    (``execute_many`` returns nothing: the tables are compared afterwards)."""
    at = START
    returned: dict[str, list[Any]] = {name: [] for name in HOT}

    async def run(name: str, params: Any) -> None:
        async with db.transaction() as uow:
            statement = HOT[name].statement
            if isinstance(params, list):
                await execute_many(uow.session, statement, params)
                returned[name].append(len(params))
            else:
                returned[name].append(rows_of(await fetch(uow.session, statement, params)))

    def turn(key: str, person: str) -> dict[str, Any]:
        return {"p_platform": "telegram", "p_key": key, "p_external_id": person, "p_now": at}

    await run("record_and_touch", turn("k1", "601"))  # a new key, nobody known: no person
    async with db.transaction() as uow:
        person = await uow.people.touch("telegram", "601", at)
    at += dt.timedelta(minutes=3)
    await run("record_and_touch", turn("k2", "601"))  # a known person, seen now
    await run("record_and_touch", turn("k2", "601"))  # the same key: not fresh
    await run("record_and_touch", {**turn("k3", "601"), "p_platform": "viber"})

    query = {
        "user_id": person.id,
        "created_at": at,
        "text_scrubbed": "де оформити номер песель, пан Ґонта?",
        "lang": "uk",
        "decision": "answer",
        "intent": None,
        "candidates": [["pesel-ukr", 0.9731], ["residence-registration", 0.41]],
        "top_entry": "pesel-ukr",
        "top_score": 0.9731,
    }
    await run("log_query", query)
    await run("log_query", {**query, "candidates": [], "top_entry": None, "top_score": None})
    await run(  # feedback given at once: the optional columns too
        "log_query", {**query, "decision": "clarify", "feedback": True, "feedback_at": at}
    )

    message = {
        "platform": "telegram",
        "chat_id": "601",
        "thread_id": None,
        "payload": payload("Номер PESEL UKR: «ось як»"),
        "created_at": at,
        "not_before": at,
        "attempts": 0,
        "status": "queued",
        "user_id": person.id,
    }
    await run(
        "enqueue",
        [
            message,
            {**message, "payload": payload("друге"), "not_before": at + dt.timedelta(hours=1)},
            {**message, "chat_id": "-100700", "thread_id": 42, "user_id": None},
        ],
    )
    defaults = {k: v for k, v in message.items() if k not in ("attempts", "status", "thread_id")}
    await run("enqueue", [{**defaults, "platform": "viber", "chat_id": "v+AbC=="}])  # defaults
    await run("enqueue", [{**defaults, "payload": payload("третє")}])

    lease = dt.timedelta(minutes=1)
    claim = {
        "p_lane": 0,
        "p_now": at,
        "p_platforms": ["telegram"],
        "p_limit": 10,
        "p_lease_until": at + lease,
    }
    await run("claim", claim)  # each chat's first message
    await run("claim", claim)  # nothing: the heads are being sent
    await run("claim", {**claim, "p_platforms": ["viber", "telegram"], "p_limit": 1})
    await run("mark_sent", [{"p_id": 1, "p_sent_at": at, "p_message_id": "601-1"}])
    await run(
        "mark_sent",
        [
            {"p_id": 3, "p_sent_at": at + lease, "p_message_id": None},
            {"p_id": 4, "p_sent_at": at + lease, "p_message_id": "v-1"},
        ],
    )
    at += dt.timedelta(hours=2)  # the second message is due now
    await run("claim", {**claim, "p_now": at, "p_lease_until": at + lease})
    return returned


async def test_each_hot_statement_returns_and_writes_the_same_on_both_paths(
    paths: Paths,
) -> None:
    results = {}
    for label, db in paths:
        with paths.on(label):
            results[label] = await direct_workload(db)

    driver, session = results["driver"], results["session"]
    for name in HOT:
        assert driver[name], f"{name} was not run"
        assert_same(driver[name], session[name], f"what {name} returned")
    # What was returned is what the checks are about (not empty rows on both sides).
    new, known, duplicate, elsewhere = (rows[0] for rows in driver["record_and_touch"])
    assert (new["fresh"], known["fresh"], duplicate["fresh"], elsewhere["fresh"]) == (1, 1, 0, 1)
    assert new["id"] is elsewhere["id"] is None and known["id"] == 1
    assert repr(known["last_seen"]) == repr(dt.datetime(2026, 5, 4, 9, 3, tzinfo=dt.UTC))
    assert [len(rows) for rows in driver["claim"]] == [2, 0, 1, 1]
    assert {type(row["payload"]) for rows in driver["claim"] for row in rows} == {dict}

    tables = await dump(paths.driver)
    assert_same_tables(tables, await dump(paths.session))
    outbox = {row["id"]: row for row in tables["outbox"]}
    assert (outbox[4]["attempts"], outbox[4]["status"]) == (0, "sent")  # defaults, then sent
    assert (outbox[5]["attempts"], outbox[5]["status"]) == (0, "queued")
    assert outbox[1]["payload"] == json.dumps(payload("Номер PESEL UKR: «ось як»"))
    assert hot_names(paths.to_driver["driver"]) == set(HOT)
    assert paths.to_driver["session"] == []
