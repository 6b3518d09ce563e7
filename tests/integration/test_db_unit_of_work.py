"""The unit of work that ``Database.transaction()`` yields, on both backends: every aggregate's
writes commit or roll back together, commit hooks run after a commit only, a read sees only
committed work; and the outbox table is written through its own module alone."""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.db import Database, UnitOfWork
from bot.db.desk_models import Ticket
from bot.db.models import OutboxMessage, ProcessedEvent, QueryLog, User
from bot.desk.store import SqlDeskStore
from handlers.desk.model import NewTicket
from handlers.model import Address, Platform, Reply
from tests.conftest import Clock

ROOT = Path(__file__).resolve().parents[2]
TABLES = (ProcessedEvent, User, QueryLog, OutboxMessage, Ticket)


async def _counts(db: Database) -> dict[str, int]:
    async with db.read() as uow:
        return {
            model.__tablename__: int(
                await uow.session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in TABLES
        }


async def _write_everything(uow: UnitOfWork, clock: Clock, key: str) -> None:
    """One turn's worth of writes to every aggregate, and a desk ticket on top."""
    user = await uow.begin_turn("telegram", key, "501", clock())
    assert user is not None
    query_id = await uow.queries.log(
        user.id, "як отримати песель", "handoff", None, "uk", [], clock()
    )
    assert query_id > 0
    await uow.outbox.enqueue([(Reply(user.address, "hello"), user.id)], clock())
    if await SqlDeskStore(uow, clock).open_ticket_of(user.id) is None:
        await SqlDeskStore(uow, clock).open_ticket(
            user.id, NewTicket(origin="request", lang="uk", question="q")
        )


async def test_a_rollback_undoes_the_writes_of_every_aggregate(db: Database, clock: Clock) -> None:
    nothing = dict.fromkeys((model.__tablename__ for model in TABLES), 0)
    with pytest.raises(RuntimeError, match="the handler failed"):
        async with db.transaction() as uow:
            await _write_everything(uow, clock, "u1")
            assert await _counts(db) == nothing  # not visible to others before the commit
            raise RuntimeError("the handler failed")
    assert await _counts(db) == nothing

    async with db.transaction() as uow:
        await _write_everything(uow, clock, "u1")
    committed = await _counts(db)
    assert committed == {
        "processed_events": 1,
        "users": 1,
        "query_log": 1,
        "outbox": 1,
        "tickets": 1,
    }
    async with db.transaction() as uow:  # a known person now: one statement on PostgreSQL
        user = await uow.begin_turn("telegram", "u2", "501", clock())
        assert user is not None and not user.is_new
        assert await uow.begin_turn("telegram", "u2", "501", clock()) is None  # a duplicate


async def test_a_constraint_violation_is_sqlalchemys_integrity_error(
    db: Database, clock: Clock
) -> None:
    """The engine tells a racing duplicate from a real error by this exception."""
    with pytest.raises(IntegrityError):  # no such person: the foreign key refuses it
        async with db.transaction() as uow:
            await uow.queries.log(404, "text", "answer", None, "uk", [], clock())
    assert (await _counts(db))["query_log"] == 0


async def test_commit_hooks_run_after_a_commit_only(db: Database, clock: Clock) -> None:
    """The desk counts its metrics once the turn commits (UnitOfWork.on_commit)."""
    committed: list[str] = []
    for fail in (True, False):
        with pytest.raises(RuntimeError) if fail else contextlib.nullcontext():
            async with db.transaction() as uow:
                await uow.people.touch("telegram", "1", clock())
                uow.on_commit(lambda: committed.append("first"))
                uow.on_commit(lambda: committed.append("second"))
                assert committed == []
                if fail:
                    raise RuntimeError("rolled back")
    assert committed == ["first", "second"]  # once each: for the transaction that committed
    assert (await _counts(db))["users"] == 1


async def test_a_read_sees_committed_work(db: Database, clock: Clock) -> None:
    async with db.transaction() as uow:
        person = dataclasses.replace(await uow.people.touch("viber", "abc", clock()), is_new=False)
    async with db.read() as uow:
        found = await uow.people.find("viber", "abc")
        assert found == person
        assert await uow.people.get(person.id) == person
        assert await uow.people.get(person.id + 1) is None
        assert await uow.outbox.depth() == {}


async def test_delivery_failed_and_blank_content_touch_only_their_rows(
    db: Database, clock: Clock
) -> None:
    """What Viber's receipts and the desk's /forget do to the outbox, through its module."""
    desk = Address(Platform.TELEGRAM, "-100")
    replies = [
        Reply(desk, "about #1", meta={"ticket": "1"}),
        Reply(desk, "about #2", meta={"ticket": "2"}),
        Reply(Address(Platform.VIBER, "v1"), "to viber"),
    ]
    async with db.transaction() as uow:
        await uow.outbox.enqueue([(reply, None) for reply in replies], clock())
        items = await uow.outbox.claim_due(["telegram", "viber"], clock(), clock(), 10)
        await uow.outbox.mark_sent(
            [(item.id, clock(), f"m{item.id}") for item in items if item.chat[0] == "viber"]
        )
        viber_id = next(item.id for item in items if item.chat[0] == "viber")
    async with db.transaction() as uow:
        assert await uow.outbox.blank_content("telegram", "-100", "ticket", {"1"}) == 1
        assert await uow.outbox.blank_content("telegram", "-100", "ticket", {"1"}) == 0
        assert await uow.outbox.delivery_failed("viber", f"m{viber_id}", "blocked") == 1
        assert await uow.outbox.delivery_failed("viber", "unknown", "blocked") == 0
    async with db.read() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [row.payload["text"] for row in rows] == ["", "about #2", "to viber"]
    assert rows[0].payload["meta"] == {"ticket": "1"}
    assert [row.status for row in rows] == ["sending", "queued", "failed"]
    assert rows[2].last_error == "blocked"


# -- one owner per table -------------------------------------------------------------------

_OWNER = {
    "outbox": "bot/db/outbox.py",
    "subscriptions": "bot/db/subscriptions.py",
    "announcements": "bot/db/announcements.py",
}


def _writes(model: str, constant: str, table: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?:insert|update|delete|insert_)\(\s*(?:{model}|_?{constant})\b"
        rf"|{model}\.__table__\.(?:insert|update|delete)\("
        rf"|_?{constant}\.(?:insert|update|delete)\("
        rf"|(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?{table}\b",
        re.IGNORECASE,
    )


_WRITES = {
    "outbox": _writes("OutboxMessage", "OUTBOX", "outbox"),
    "subscriptions": _writes("Subscription", "SUBSCRIPTIONS", "subscriptions"),
    "announcements": re.compile(
        "|".join(
            _writes(model, constant, table).pattern
            for model, constant, table in (
                ("Announcement", "ANNOUNCEMENTS", "announcements"),
                ("AnnouncementRecipient", "RECIPIENTS", "announcement_recipients"),
                ("EntryVersion", "VERSIONS", "entry_versions"),
            )
        ),
        re.IGNORECASE,
    ),
}


def _python_files() -> list[Path]:
    return [
        path
        for folder in ("bot", "handlers", "faq")
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    ]


@pytest.mark.parametrize("table", sorted(_OWNER))
def test_a_table_is_written_by_its_owner_module_only(table: str) -> None:
    owner = ROOT / _OWNER[table]
    pattern = _WRITES[table]
    assert pattern.search(owner.read_text(encoding="utf-8")), "the pattern must match the owner"
    writers = [
        str(path.relative_to(ROOT))
        for path in _python_files()
        if path != owner and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert writers == []


def test_the_pattern_catches_the_usual_spellings() -> None:
    pattern = _WRITES["outbox"]
    for text in (
        "update(OutboxMessage).where(x)",
        "insert(OUTBOX)",
        "delete( OutboxMessage )",
        "OutboxMessage.__table__.update()",
        'text("UPDATE outbox SET status = 1")',
        "DELETE FROM outbox WHERE",
    ):
        assert pattern.search(text), text
    for text in ("select(OutboxMessage)", "update(OutboxItem)", "UPDATE outboxes"):
        assert not pattern.search(text), text


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_tables_modules_import_the_base_not_each_other() -> None:
    models = _imports(ROOT / "bot/db/models.py")
    desk_models = _imports(ROOT / "bot/db/desk_models.py")
    announce_models = _imports(ROOT / "bot/db/announce_models.py")
    assert "bot.db.base" in announce_models
    assert not any(n.startswith(("bot.db.models", "bot.db.desk_models")) for n in announce_models)
    assert "bot.db.base" in models and "bot.db.base" in desk_models
    assert not any(name.startswith("bot.db.desk_models") for name in models)
    assert not any(name.startswith("bot.db.models") for name in desk_models)


def test_the_desk_reaches_the_bots_tables_through_the_unit_of_work_only() -> None:
    for path in sorted((ROOT / "bot/desk").glob("*.py")):
        imported = _imports(path)
        assert not any(name.startswith("bot.db.models") for name in imported), path.name
