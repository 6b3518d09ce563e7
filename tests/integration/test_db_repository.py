"""The aggregates' building blocks on both backends: time zones, the outbox payload, the
per-chat claim, and the SQLite connection settings."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from bot.db import Database, create_engine
from bot.db.codec import reply_from_payload, reply_to_payload
from bot.db.models import OutboxMessage, QueryLog
from handlers.model import Address, Button, Media, MediaKind, Platform, Reply
from tests.conftest import Clock


def test_payload_round_trips_a_reply() -> None:
    address = Address(Platform.TELEGRAM, "-100", thread_id=7)
    reply = Reply(
        address,
        "**Text** [a](https://a.pl)",
        buttons=((Button("A", "a:1"),), (Button("Link", url="https://b.pl"), Button("B", "b"))),
        media=Media(MediaKind.VOICE, ref="file", caption="c", mime_type="audio/ogg"),
        silent=True,
        meta={"kind": "relay", "ticket": "42"},
        lang="ru",
    )
    assert reply_from_payload(address, reply_to_payload(reply)) == reply
    assert reply_from_payload(address, {"text": "old row"}) == Reply(address, "old row")


async def test_times_come_back_aware_utc(db: Database, clock: Clock) -> None:
    warsaw = dt.timezone(dt.timedelta(hours=2))
    local = dt.datetime(2026, 5, 4, 11, 0, tzinfo=warsaw)
    async with db.transaction() as uow:
        user = await uow.people.touch("telegram", "1", local)
    async with db.read() as uow:
        found = await uow.people.find("telegram", "1")
    assert found is not None and found.first_seen is not None
    assert found.first_seen.tzinfo is not None
    assert found.first_seen == local == dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    assert user.is_new and not found.is_new


async def test_claim_takes_each_chats_first_pending_message_only(
    db: Database, clock: Clock
) -> None:
    def reply(chat: str, text: str) -> Reply:
        return Reply(Address(Platform.TELEGRAM, chat), text)

    async with db.transaction() as uow:
        await uow.outbox.enqueue(
            [(reply("a", "a1"), None), (reply("a", "a2"), None), (reply("b", "b1"), None)],
            clock(),
        )
    lease = clock() + dt.timedelta(seconds=60)
    async with db.transaction() as uow:
        first = await uow.outbox.claim_due(["telegram"], clock(), lease, 10)
    assert [item.reply.text for item in first] == ["a1", "b1"]
    async with db.transaction() as uow:  # a1 and b1 are being sent: nothing else is due
        assert await uow.outbox.claim_due(["telegram"], clock(), lease, 10) == []
        assert await uow.outbox.next_due_at(["telegram"]) is None
    async with db.transaction() as uow:
        await uow.outbox.mark_sent([(first[0].id, clock(), "9")])
    async with db.transaction() as uow:
        again = await uow.outbox.claim_due(["telegram"], clock(), lease, 10)
    assert [item.reply.text for item in again] == ["a2"]
    async with db.read() as uow:
        depth = await uow.outbox.depth()
    assert depth == {"telegram": 2}  # b1 and a2 are still on their way


async def test_claim_never_takes_more_than_its_limit(db: Database, clock: Clock) -> None:
    """On PostgreSQL, a claim written as ``IN (subquery ... SKIP LOCKED)`` took every due chat
    head whatever the limit (the planner ran the subquery again); the limit is the worker's
    number of free delivery slots."""
    async with db.transaction() as uow:
        await uow.outbox.enqueue(
            [(Reply(Address(Platform.TELEGRAM, str(chat)), "hi"), None) for chat in range(12)],
            clock(),
        )
    lease = clock() + dt.timedelta(seconds=60)
    claimed: list[str] = []
    for _ in range(4):
        async with db.transaction() as uow:
            items = await uow.outbox.claim_due(["telegram"], clock(), lease, 3)
        assert len(items) == 3
        claimed += [item.reply.address.chat_id for item in items]
    assert claimed == [str(chat) for chat in range(12)]  # oldest first, each once


async def test_delete_cascades_in_the_database_itself(db: Database, clock: Clock) -> None:
    """ON DELETE CASCADE is enforced by the database (SQLite: foreign keys are on)."""
    async with db.transaction() as uow:
        user = await uow.people.touch("telegram", "1", clock())
        await uow.queries.log(user.id, "q", "answer", None, "uk", [], clock())
        await uow.outbox.enqueue([(Reply(user.address, "x"), user.id)], clock())
    async with db.transaction() as uow:
        await uow.session.execute(text("DELETE FROM users"))
    async with db.sessions() as session:
        assert list(await session.scalars(select(QueryLog.id))) == []
        assert list(await session.scalars(select(OutboxMessage.id))) == []


async def test_in_memory_sqlite_keeps_one_database() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("SELECT count(*) FROM t")).scalar() == 0
    finally:
        await engine.dispose()


def test_a_driver_statement_binds_like_sqlalchemy() -> None:
    """PostgreSQL's hot statements skip SQLAlchemy's execution (bot/db/driver.py), so they
    supply what it would: the statement's own values, column defaults, the types' conversion."""
    from sqlalchemy import bindparam, insert, update

    from bot.db.driver import DriverStatement
    from bot.db.models import User

    outbox = OutboxMessage.__table__
    when = dt.datetime(2026, 5, 4, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    enqueue = DriverStatement(insert(outbox))._for({"platform": 1, "payload": 1, "created_at": 1})
    assert enqueue.sql.startswith("INSERT INTO outbox (platform, payload, created_at, attempts")
    assert enqueue.args({"platform": "telegram", "payload": {"text": "ą"}, "created_at": when}) == [
        "telegram",
        '{"text": "\\u0105"}',  # JSON, as the column's type writes it
        dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC),  # UTCDateTime: in UTC
        0,  # the columns' defaults: attempts, status, lane
        "queued",
        0,
    ]
    mark = DriverStatement(
        update(User.__table__)
        .where(User.__table__.c.id == bindparam("p_id"))
        .values(active=False, lang=None)
    )._for({})
    assert mark.args({"p_id": 7}) == [None, False, 7]  # the statement's own values
    with pytest.raises(KeyError, match="p_id"):
        mark.args({})


def test_a_driver_statement_refuses_what_it_cannot_bind() -> None:
    """A callable default or an ``onupdate`` would bind NULL on the driver and a value on the
    session: the driver refuses such a statement instead of differing silently."""
    from sqlalchemy import Column, Integer, MetaData, Table, insert, update

    from bot.db.driver import DriverStatement

    table = Table(
        "t",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("made", Integer, default=lambda: 1),
        Column("changed", Integer, onupdate=lambda: 2),
    )
    with pytest.raises(ValueError, match="made"):
        DriverStatement(insert(table))._for({"id": 1})
    with pytest.raises(ValueError, match="onupdate"):
        DriverStatement(update(table).values(id=3))._for({})
    assert DriverStatement(insert(table))._for({"id": 1, "made": 5}).args({"id": 1, "made": 5})
