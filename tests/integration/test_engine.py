"""The engine on real databases (SQLite file and PostgreSQL): once-only processing, the turn's
transaction, flood control, /forget, and what reaches the query log."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from bot.db import Database
from bot.db.models import OutboxMessage, ProcessedEvent, QueryLog, User
from bot.engine import (
    ERROR_NOTICE,
    FLOOD_NOTICE,
    JOINED_NOTICE,
    MAX_INPUT_CHARS,
    Engine,
    FloodGuard,
    FloodPolicy,
    IdentityTranslator,
)
from handlers.context import TurnContext
from handlers.model import Address, Button, EventKind, IncomingEvent, Platform, Sender
from tests.conftest import Clock

CHAT = Address(Platform.TELEGRAM, "1001")


def event(
    key: str,
    text: str = "hello",
    *,
    kind: EventKind = EventKind.TEXT,
    user: str = "1001",
    command: str | None = None,
    payload: str | None = None,
) -> IncomingEvent:
    return IncomingEvent(
        address=Address(Platform.TELEGRAM, user),
        kind=kind,
        dedupe_key=key,
        sender=Sender(user_id=user, language_code="uk"),
        text=text,
        command=command,
        payload=payload,
    )


class StubMatcher:
    """The engine only hands the matcher to handlers; these handlers do not use it."""

    kb = None


class Recorder:
    """A handler that answers every text and remembers what it saw."""

    def __init__(self) -> None:
        self.seen: list[IncomingEvent] = []
        self.gate: asyncio.Event | None = None

    async def __call__(self, ctx: TurnContext) -> None:
        self.seen.append(ctx.event)
        if self.gate is not None:
            await self.gate.wait()
        if ctx.event.kind is EventKind.COMMAND and ctx.event.command == "lang":
            ctx.user.lang = ctx.event.args[0]
        ctx.reply(f"echo: {ctx.event.text}", [[Button("👍", "fb:1")]], kind="answer")


def make_engine(db: Database, handler: Any, clock: Clock, **kwargs: Any) -> Engine:
    return Engine(
        db,
        matcher=StubMatcher(),  # type: ignore[arg-type]
        translator_for=IdentityTranslator,
        handler=handler,
        clock=clock,
        **kwargs,
    )


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def outbox_texts(db: Database) -> list[str]:
    async with db.sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [row.payload["text"] for row in rows]


async def test_event_runs_the_turn_and_queues_the_reply(db: Database, clock: Clock) -> None:
    handler = Recorder()
    engine = make_engine(db, handler, clock)

    assert await engine.process(event("u1", "як отримати песель")) is True

    assert [e.text for e in handler.seen] == ["як отримати песель"]
    async with db.sessions() as session:
        user = await session.scalar(select(User))
        message = await session.scalar(select(OutboxMessage))
    assert user is not None and (user.platform, user.external_id) == ("telegram", "1001")
    assert user.first_seen == user.last_seen == clock.now
    assert message is not None
    assert (message.platform, message.chat_id, message.status) == ("telegram", "1001", "queued")
    assert message.user_id == user.id
    assert message.payload["text"] == "echo: як отримати песель"
    assert message.payload["buttons"] == [[{"label": "👍", "id": "fb:1"}]]
    assert await count(db, ProcessedEvent) == 1


async def test_a_reply_to_the_person_carries_their_language(db: Database, clock: Clock) -> None:
    """What the outbox keeps for the sender (Viber's keyboard speaks it): the phone's language
    until the person chooses one, then theirs, changed in the very turn that changes it."""
    engine = make_engine(db, Recorder(), clock)
    choose = dataclasses.replace(
        event("u2", "/lang pl", kind=EventKind.COMMAND, command="lang"), args=("pl",)
    )
    assert await engine.process(event("u1", "hi"))  # the phone says "uk"
    assert await engine.process(choose)
    assert await engine.process(event("u3", "and now?"))
    async with db.sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        assert [row.payload.get("lang") for row in rows] == ["uk", "pl", "pl"]


async def test_duplicate_is_processed_once(db: Database, clock: Clock) -> None:
    handler = Recorder()
    engine = make_engine(db, handler, clock)
    before = (
        REGISTRY.get_sample_value("otwarta_updates_duplicate_total", {"platform": "telegram"})
        or 0.0
    )

    assert await engine.process(event("u1")) is True
    assert await engine.process(event("u1")) is False

    assert len(handler.seen) == 1
    assert await count(db, OutboxMessage) == 1
    after = REGISTRY.get_sample_value("otwarta_updates_duplicate_total", {"platform": "telegram"})
    assert after == before + 1


async def test_same_key_on_another_platform_is_another_event(db: Database, clock: Clock) -> None:
    engine = make_engine(db, Recorder(), clock)
    viber = IncomingEvent(
        address=Address(Platform.VIBER, "v1"),
        kind=EventKind.TEXT,
        dedupe_key="u1",
        sender=Sender("v1"),
        text="hi",
    )
    assert await engine.process(event("u1")) is True
    assert await engine.process(viber) is True


async def test_concurrent_duplicates_are_answered_once(db_url: str, clock: Clock) -> None:
    # Separate engines (own pools), as if two processes received the same redelivery.
    handler = Recorder()
    dbs = [Database.from_url(db_url) for _ in range(4)]
    try:
        engines = [make_engine(db, handler, clock) for db in dbs]
        results = await asyncio.gather(
            *(engines[i % len(engines)].process(event("same")) for i in range(12))
        )
        assert sorted(results) == [False] * 11 + [True]
        assert len(handler.seen) == 1
        assert await count(dbs[0], OutboxMessage) == 1
        assert await count(dbs[0], ProcessedEvent) == 1
    finally:
        for db in dbs:
            await db.dispose()


async def test_concurrent_first_events_of_one_person_make_one_user(
    db_url: str, clock: Clock
) -> None:
    dbs = [Database.from_url(db_url) for _ in range(4)]
    try:
        engines = [
            make_engine(db, Recorder(), clock, flood=FloodPolicy(max_events=100)) for db in dbs
        ]
        results = await asyncio.gather(
            *(engines[i % len(engines)].process(event(f"k{i}")) for i in range(8))
        )
        assert results == [True] * 8
        assert await count(dbs[0], User) == 1
        assert await count(dbs[0], OutboxMessage) == 8
    finally:
        for db in dbs:
            await db.dispose()


async def test_crash_before_commit_records_nothing_so_redelivery_is_processed(
    db: Database, clock: Clock
) -> None:
    class Crash(BaseException):
        """Stands for the process dying mid-turn (not an ordinary handler bug)."""

    async def crashing(ctx: TurnContext) -> None:
        ctx.reply("never sent")
        await ctx.store.log_query(ctx.user, ctx.event.text, "answer", None, "uk", [])
        raise Crash

    with pytest.raises(Crash):
        await make_engine(db, crashing, clock).process(event("u1"))
    assert await count(db, ProcessedEvent) == 0
    assert await count(db, OutboxMessage) == 0
    assert await count(db, QueryLog) == 0

    handler = Recorder()
    assert await make_engine(db, handler, clock).process(event("u1")) is True
    assert len(handler.seen) == 1
    assert await outbox_texts(db) == ["echo: hello"]


async def test_handler_bug_is_recorded_with_an_apology_and_its_writes_undone(
    db: Database, clock: Clock
) -> None:
    calls = 0

    async def buggy(ctx: TurnContext) -> None:
        nonlocal calls
        calls += 1
        ctx.user.lang = "pl"
        await ctx.store.log_query(ctx.user, ctx.event.text, "answer", None, "uk", [("a", 1.0)])
        ctx.reply("half an answer")
        raise ValueError("bug")

    engine = make_engine(db, buggy, clock)
    assert await engine.process(event("u1")) is True
    assert await engine.process(event("u1")) is False  # not redelivered into the bug again
    assert calls == 1
    assert await outbox_texts(db) == [ERROR_NOTICE]
    assert await count(db, QueryLog) == 0
    async with db.sessions() as session:
        user = await session.scalar(select(User))
    assert user is not None and user.lang is None


async def test_user_state_persists_between_turns(db: Database, clock: Clock) -> None:
    seen_langs: list[str | None] = []

    async def handler(ctx: TurnContext) -> None:
        seen_langs.append(ctx.user.lang)
        if ctx.event.kind is EventKind.BUTTON:
            ctx.user.lang = ctx.event.payload
            ctx.user.notice_seen = True

    engine = make_engine(db, handler, clock)
    await engine.process(event("1", kind=EventKind.BUTTON, payload="ru"))
    clock.advance(60)
    await engine.process(event("2"))
    assert seen_langs == [None, "ru"]
    async with db.sessions() as session:
        user = await session.scalar(select(User))
    assert user is not None
    assert (user.lang, user.notice_seen) == ("ru", True)
    assert user.last_seen == clock.now and user.first_seen < user.last_seen


async def test_is_new_only_on_the_first_event(db: Database, clock: Clock) -> None:
    flags: list[bool] = []

    async def handler(ctx: TurnContext) -> None:
        flags.append(ctx.user.is_new)

    engine = make_engine(db, handler, clock)
    await engine.process(event("1"))
    await engine.process(event("2"))
    assert flags == [True, False]


async def test_long_input_reaches_handlers_truncated(db: Database, clock: Clock) -> None:
    handler = Recorder()
    await make_engine(db, handler, clock).process(event("1", "ж" * (MAX_INPUT_CHARS * 5)))
    assert len(handler.seen[0].text) == MAX_INPUT_CHARS


async def test_a_flood_of_texts_is_answered_joined_never_dropped(
    db: Database, clock: Clock
) -> None:
    """Someone pasting several questions: the first ones are answered one by one, the rest
    get one calm note and then one answer to all of them together."""
    handler = Recorder()
    engine = make_engine(db, handler, clock, flood=FloodPolicy(max_events=3, window=10.0))

    results = [await engine.process(event(f"k{i}", f"m{i}")) for i in range(7)]

    assert results == [True] * 7  # all recorded: no redelivery storm either
    assert [e.text for e in handler.seen] == ["m0", "m1", "m2"]
    assert await outbox_texts(db) == ["echo: m0", "echo: m1", "echo: m2", JOINED_NOTICE]

    await engine.flush_held()  # what the settle timer does join_after seconds later
    assert [e.text for e in handler.seen][3:] == ["m3\nm4\nm5\nm6"]
    assert (await outbox_texts(db))[4:] == ["echo: m3\nm4\nm5\nm6"]
    assert await count(db, ProcessedEvent) == 8  # the seven, and the joined question

    clock.advance(10.5)  # the person calmed down
    assert await engine.process(event("k7", "m7")) is True
    assert handler.seen[-1].text == "m7"


async def test_held_texts_are_answered_after_the_burst_by_themselves(
    db: Database, clock: Clock
) -> None:
    seen: list[str] = []
    joined = asyncio.Event()

    async def handler(ctx: TurnContext) -> None:
        seen.append(ctx.event.text)
        if "\n" in ctx.event.text:
            joined.set()

    # The second held text reaches join_max: the joined question goes at once, by itself.
    policy = FloodPolicy(max_events=2, window=10.0, join_after=600.0, join_max=2)
    engine = make_engine(db, handler, clock, flood=policy)
    for i in range(4):
        await engine.process(event(f"k{i}", f"m{i}"))
    await asyncio.wait_for(joined.wait(), timeout=10)
    await engine.flush_held()  # the joined turn commits before the database goes away
    assert seen == ["m0", "m1", "m2\nm3"]


async def test_an_emergency_in_a_flood_is_answered_at_once(db: Database, clock: Clock) -> None:
    from faq import load_matcher

    handler = Recorder()
    engine = Engine(
        db,
        matcher=load_matcher(),
        translator_for=IdentityTranslator,
        handler=handler,
        clock=clock,
        flood=FloodPolicy(max_events=2, window=10.0, join_after=600.0),
    )
    for i, text in enumerate(["привіт", "є питання", "ще одне", "дитина впала і не дихає"]):
        await engine.process(event(f"k{i}", text))
    assert [e.text for e in handler.seen] == ["привіт", "є питання", "дитина впала і не дихає"]
    await engine.flush_held()
    assert handler.seen[-1].text == "ще одне"  # the ordinary one, joined and answered after


async def test_a_flood_of_buttons_gets_one_notice_and_the_rest_are_recorded_unhandled(
    db: Database, clock: Clock
) -> None:
    handler = Recorder()
    engine = make_engine(db, handler, clock, flood=FloodPolicy(max_events=3, window=10.0))
    for i in range(7):
        await engine.process(event(f"k{i}", "👍", kind=EventKind.BUTTON, payload="fb:1"))
    assert len(handler.seen) == 3
    assert (await outbox_texts(db))[3:] == [FLOOD_NOTICE]
    assert await count(db, ProcessedEvent) == 7
    await engine.flush_held()
    assert len(handler.seen) == 3


async def test_flood_is_per_person(db: Database, clock: Clock) -> None:
    handler = Recorder()
    engine = make_engine(db, handler, clock, flood=FloodPolicy(max_events=2, window=10.0))
    for i in range(3):
        await engine.process(event(f"a{i}", user="1"))
    await engine.process(event("b0", user="2"))
    assert [e.address.chat_id for e in handler.seen] == ["1", "1", "2"]


def test_flood_guard_is_bounded() -> None:
    guard = FloodGuard(FloodPolicy(max_events=1, window=60.0, max_tracked=2))
    assert guard.check(("t", "a"), 0.0) == "ok"
    assert guard.check(("t", "a"), 1.0) == "notify"
    assert guard.check(("t", "a"), 2.0) == "drop"
    guard.check(("t", "b"), 3.0)
    guard.check(("t", "c"), 4.0)  # "a" is the least recently seen: forgotten
    assert guard.check(("t", "a"), 5.0) == "ok"
    assert guard.check(("t", "c"), 6.0) == "notify"


async def test_query_log_is_scrubbed_and_feedback_is_per_person(db: Database, clock: Clock) -> None:
    query_ids: dict[str, int] = {}
    feedback: list[bool] = []

    async def handler(ctx: TurnContext) -> None:
        if ctx.event.kind is EventKind.BUTTON:
            _, _, query = (ctx.event.payload or "").partition(":")
            ok = await ctx.store.record_feedback(ctx.user, query_ids[query], True)
            feedback.append(ok)
            return
        query_ids[ctx.event.address.chat_id] = await ctx.store.log_query(
            ctx.user,
            ctx.event.text,
            "answer",
            "question",
            "uk",
            [("pesel-ukr", 0.91234567), ("ukr-status", 0.5)],
        )

    engine = make_engine(db, handler, clock)
    await engine.process(event("1", "мій песель 85010112345 тел +48 600 123 456", user="1"))
    await engine.process(event("2", "інше питання", user="2"))
    await engine.process(event("3", kind=EventKind.BUTTON, payload="x:1", user="1"))
    await engine.process(event("4", kind=EventKind.BUTTON, payload="x:1", user="2"))

    assert feedback == [True, False]  # user 2 cannot rate user 1's question
    async with db.sessions() as session:
        rows = list(await session.scalars(select(QueryLog).order_by(QueryLog.id)))
    assert rows[0].text_scrubbed == "мій песель [pesel] тел [phone]"
    assert rows[0].candidates == [["pesel-ukr", 0.9123], ["ukr-status", 0.5]]
    assert (rows[0].top_entry, rows[0].top_score) == ("pesel-ukr", 0.9123)
    assert (rows[0].decision, rows[0].intent, rows[0].lang) == ("answer", "question", "uk")
    assert rows[0].feedback is True and rows[0].feedback_at == clock.now
    assert rows[1].feedback is None


async def test_forget_cascades_and_the_goodbye_still_goes_out(db: Database, clock: Clock) -> None:
    async def handler(ctx: TurnContext) -> None:
        if ctx.event.command == "forget":
            await ctx.store.forget_user(ctx.user)
            ctx.reply("deleted")
            return
        await ctx.store.log_query(ctx.user, ctx.event.text, "answer", None, "uk", [])
        ctx.reply("answer")

    engine = make_engine(db, handler, clock)
    await engine.process(event("1", "q1"))
    await engine.process(event("2", "q2"))
    assert await count(db, QueryLog) == 2
    assert await count(db, OutboxMessage, OutboxMessage.status == "queued") == 2

    await engine.process(event("3", "/forget", kind=EventKind.COMMAND, command="forget"))

    assert await count(db, User) == 0
    assert await count(db, QueryLog) == 0
    # The pending answers went with the person; only the confirmation is left, unlinked.
    async with db.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert [(row.payload["text"], row.user_id) for row in rows] == [("deleted", None)]

    flags: list[bool] = []

    async def again(ctx: TurnContext) -> None:
        flags.append(ctx.user.is_new)

    await make_engine(db, again, clock).process(event("4", "hi"))
    assert flags == [True]


async def test_replies_to_other_chats_are_linked_to_their_person(
    db: Database, clock: Clock
) -> None:
    desk = Address(Platform.TELEGRAM, "-100777", thread_id=5)

    async def handler(ctx: TurnContext) -> None:
        ctx.reply("to the desk", address=desk)
        ctx.reply("to person 2", address=Address(Platform.TELEGRAM, "2"))

    engine = make_engine(db, Recorder(), clock)
    await engine.process(event("a", user="2"))
    await make_engine(db, handler, clock).process(event("b", user="1"))
    async with db.read() as uow:
        rows = {
            row.payload["text"]: row for row in await uow.session.scalars(select(OutboxMessage))
        }
        person2 = await uow.people.find("telegram", "2")
    assert person2 is not None
    assert rows["to the desk"].user_id is None
    assert (rows["to the desk"].chat_id, rows["to the desk"].thread_id) == ("-100777", 5)
    assert rows["to person 2"].user_id == person2.id


async def test_unsubscribed_marks_inactive_and_drops_pending(db: Database, clock: Clock) -> None:
    handler = Recorder()
    engine = make_engine(db, handler, clock)
    await engine.process(event("1"))
    await engine.process(event("2", kind=EventKind.UNSUBSCRIBED, text=""))
    assert len(handler.seen) == 1
    async with db.sessions() as session:
        user = await session.scalar(select(User))
        statuses = list(await session.scalars(select(OutboxMessage.status)))
    assert user is not None and user.active is False
    assert statuses == ["failed"]

    await engine.process(event("3"))  # back again
    async with db.sessions() as session:
        user = await session.scalar(select(User))
    assert user is not None and user.active is True


async def test_housekeeping_prunes_old_keys_and_sent_messages(db: Database, clock: Clock) -> None:
    engine = make_engine(db, Recorder(), clock)
    await engine.process(event("old"))
    async with db.transaction() as uow:
        await uow.session.execute(OutboxMessage.__table__.update().values(status="sent"))
    clock.advance(8 * 86400)
    await engine.process(event("new"))
    await engine.housekeeping()
    async with db.sessions() as session:
        keys = list(await session.scalars(select(ProcessedEvent.dedupe_key)))
        statuses = list(await session.scalars(select(OutboxMessage.status)))
    assert keys == ["new"]
    assert statuses == ["queued"]
