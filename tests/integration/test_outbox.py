"""The outbox worker on real databases: delivery, order per chat, retries, recipients gone,
rate limits, and crash safety (claims of a dead process, several workers at once)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.db.models import OutboxMessage, User
from bot.engine import Engine, IdentityTranslator
from bot.outbox import OutboxWorker, RetryPolicy
from bot.ports import Delivered, PermanentFailure, RateLimit, RecipientGone, RetryLater
from handlers.context import TurnContext
from handlers.model import (
    Address,
    Button,
    EventKind,
    IncomingEvent,
    Media,
    MediaKind,
    Platform,
    Reply,
    Sender,
)
from tests.conftest import Clock


class FakeSender:
    """A MessageSender double: records what it sends; ``script`` decides per call."""

    def __init__(
        self,
        platform: Platform = Platform.TELEGRAM,
        limits: Callable[[Address], tuple[RateLimit, ...]] = lambda _a: (),
    ) -> None:
        self.platform = platform
        self.sent: list[Reply] = []
        self.calls: list[str] = []
        self.script: dict[str, list[BaseException | None]] = defaultdict(list)
        self.before_send: Callable[[Reply], Any] | None = None
        self._limits = limits

    def limits_for(self, address: Address) -> tuple[RateLimit, ...]:
        return self._limits(address)

    async def send(self, reply: Reply) -> Delivered:
        self.calls.append(reply.text)
        if self.before_send is not None:
            await self.before_send(reply)
        outcomes = self.script.get(reply.text)
        if outcomes:
            outcome = outcomes.pop(0)
            if outcome is not None:
                raise outcome
        self.sent.append(reply)
        return Delivered(message_id=f"m{len(self.sent)}")


def to(chat: str, text: str, **kwargs: Any) -> Reply:
    return Reply(Address(Platform.TELEGRAM, chat), text, **kwargs)


async def enqueue(db: Database, clock: Clock, *replies: Reply, user_id: int | None = None) -> None:
    async with db.transaction() as uow:
        await uow.outbox.enqueue([(reply, user_id) for reply in replies], clock())


async def make_user(db: Database, clock: Clock, chat: str) -> int:
    async with db.transaction() as uow:
        return (await uow.people.touch("telegram", chat, clock())).id


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def worker(db: Database, sender: FakeSender, clock: Clock, **kwargs: Any) -> OutboxWorker:
    kwargs.setdefault("rand", lambda: 0.0)
    return OutboxWorker(db, [sender], clock=clock, **kwargs)


def texts(replies: Sequence[Reply]) -> list[str]:
    return [reply.text for reply in replies]


async def test_delivers_and_records_the_platform_message_id(db: Database, clock: Clock) -> None:
    sender = FakeSender()
    reply = to(
        "1",
        "**Hi** [gov](https://gov.pl)",
        buttons=((Button("Yes", "y"), Button("Site", url="https://x.pl")),),
        media=Media(MediaKind.PHOTO, ref="file-1", caption="c"),
        silent=True,
        meta={"kind": "answer"},
    )
    await enqueue(db, clock, reply)
    assert await worker(db, sender, clock).drain(timeout=2) is True
    assert sender.sent == [reply]  # the payload round-trips the whole Reply
    [row] = await rows(db)
    assert (row.status, row.message_id, row.sent_at, row.attempts) == ("sent", "m1", clock.now, 0)


async def test_only_registered_platforms_are_claimed(db: Database, clock: Clock) -> None:
    await enqueue(db, clock, Reply(Address(Platform.VIBER, "v"), "viber message"))
    console = FakeSender(Platform.CONSOLE)
    assert await worker(db, console, clock).drain(timeout=2) is True
    assert console.sent == []
    assert [r.status for r in await rows(db)] == ["queued"]


async def test_order_within_a_chat_and_concurrency_across_chats(db: Database, clock: Clock) -> None:
    sender = FakeSender()
    b_started = asyncio.Event()

    async def before_send(reply: Reply) -> None:
        if reply.text == "b0":
            b_started.set()
        if reply.text == "a0":
            # Only finishes once chat b is being served at the same time.
            await asyncio.wait_for(b_started.wait(), timeout=2)
        await asyncio.sleep(0)

    sender.before_send = before_send
    for i in range(5):  # interleaved inserts
        await enqueue(db, clock, to("a", f"a{i}"), to("b", f"b{i}"))
    assert await worker(db, sender, clock).drain(timeout=5) is True
    by_chat: dict[str, list[str]] = defaultdict(list)
    for reply in sender.sent:
        by_chat[reply.address.chat_id].append(reply.text)
    assert by_chat == {"a": [f"a{i}" for i in range(5)], "b": [f"b{i}" for i in range(5)]}


async def test_retry_later_honours_after_and_holds_the_chat(db: Database, clock: Clock) -> None:
    sender = FakeSender()
    sender.script["first"] = [RetryLater(30.0)]
    await enqueue(db, clock, to("1", "first"), to("1", "second"), to("2", "other chat"))
    outbox = worker(db, sender, clock)

    assert await outbox.drain(timeout=2) is True
    assert texts(sender.sent) == ["other chat"]  # "second" waits behind "first"
    first = (await rows(db))[0]
    assert (first.status, first.attempts) == ("queued", 1)
    assert first.not_before == clock.now + dt.timedelta(seconds=30)
    assert first.last_error is not None and "retry after" in first.last_error

    clock.advance(29.9)
    await outbox.drain(timeout=2)
    assert texts(sender.sent) == ["other chat"]

    clock.advance(0.1)
    assert await outbox.drain(timeout=2) is True
    assert texts(sender.sent) == ["other chat", "first", "second"]


async def test_backoff_grows_then_gives_up_and_the_chat_moves_on(
    db: Database, clock: Clock
) -> None:
    sender = FakeSender()
    sender.script["flaky"] = [ConnectionError("boom")] * 10
    await enqueue(db, clock, to("1", "flaky"), to("1", "next"))
    policy = RetryPolicy(base=1.0, cap=8.0, max_attempts=5, max_age=3600)
    outbox = worker(db, sender, clock, retry=policy, rand=lambda: 1.0)

    waits = []
    for _ in range(4):
        await outbox.drain(timeout=2)
        row = (await rows(db))[0]
        waits.append((row.not_before - clock.now).total_seconds())
        clock.now = row.not_before
    assert waits == [1.0, 2.0, 4.0, 8.0]  # exponential, capped at 8 next time
    await outbox.drain(timeout=2)
    flaky, after = await rows(db)
    assert (flaky.status, flaky.attempts) == ("failed", 5)
    assert flaky.last_error is not None and "ConnectionError: boom" in flaky.last_error
    assert after.status == "sent"
    assert texts(sender.sent) == ["next"]


async def test_messages_too_old_are_given_up(db: Database, clock: Clock) -> None:
    sender = FakeSender()
    sender.script["late"] = [RetryLater(120.0)]
    await enqueue(db, clock, to("1", "late"))
    await worker(db, sender, clock, retry=RetryPolicy(max_age=60)).drain(timeout=2)
    assert [r.status for r in await rows(db)] == ["failed"]


def test_backoff_has_jitter_within_bounds() -> None:
    policy = RetryPolicy(base=2.0, cap=100.0)
    assert policy.backoff(1, 0.0) == 1.0 and policy.backoff(1, 1.0) == 2.0
    assert policy.backoff(3, 0.5) == 6.0
    assert policy.backoff(30, 1.0) == 100.0


async def test_recipient_gone_marks_inactive_and_drops_their_messages(
    db: Database, clock: Clock
) -> None:
    sender = FakeSender()
    sender.script["one"] = [RecipientGone("blocked")]
    user_id = await make_user(db, clock, "1")
    await enqueue(db, clock, to("1", "one"), to("1", "two"), user_id=user_id)
    await enqueue(db, clock, to("2", "someone else"))

    assert await worker(db, sender, clock).drain(timeout=2) is True

    assert texts(sender.sent) == ["someone else"]
    assert sender.calls.count("two") == 0
    statuses = [(r.payload["text"], r.status) for r in await rows(db)]
    assert statuses == [("one", "failed"), ("two", "failed"), ("someone else", "sent")]
    async with db.sessions() as session:
        user = await session.get(User, user_id)
    assert user is not None and user.active is False


async def test_permanent_failure_fails_one_message_only(db: Database, clock: Clock) -> None:
    sender = FakeSender()
    sender.script["bad"] = [PermanentFailure("Bad Request: can't parse entities")]
    await enqueue(db, clock, to("1", "bad"), to("1", "good"))
    assert await worker(db, sender, clock).drain(timeout=2) is True
    bad, good = await rows(db)
    assert bad.status == "failed" and "can't parse entities" in (bad.last_error or "")
    assert good.status == "sent"


async def test_rate_limit_holds_messages_beyond_the_allowance(db: Database, clock: Clock) -> None:
    sender = FakeSender(limits=lambda _address: (RateLimit("global", 2, 3600.0),))
    await enqueue(db, clock, to("1", "x"), to("2", "y"), to("3", "z"))
    outbox = worker(db, sender, clock)
    assert await outbox.drain(timeout=0.2) is False  # the third waits for the limiter
    assert len(sender.sent) == 2
    await outbox.stop(timeout=0.05)
    assert sorted(r.status for r in await rows(db)) == ["queued", "sent", "sent"]


async def test_one_limiter_per_key_and_a_bounded_number_of_them(sqlite_url: str) -> None:
    db = Database.from_url(sqlite_url)
    outbox = OutboxWorker(db, max_limiters=2)
    a = outbox._limiter(RateLimit("chat:1", 1, 1.0))
    assert outbox._limiter(RateLimit("chat:1", 1, 1.0)) is a
    outbox._limiter(RateLimit("chat:2", 1, 1.0))
    outbox._limiter(RateLimit("chat:1", 1, 1.0))  # used again: now the most recent
    outbox._limiter(RateLimit("chat:3", 1, 1.0))
    assert list(outbox._limiters) == ["chat:1", "chat:3"]
    await db.dispose()


async def test_replies_committed_but_never_sent_are_delivered_after_a_restart(
    db_url: str, clock: Clock
) -> None:
    async def handler(ctx: TurnContext) -> None:
        ctx.reply("answer 1")
        ctx.reply("answer 2")

    first = Database.from_url(db_url)
    engine = Engine(
        first,
        matcher=type("M", (), {"kb": None})(),  # type: ignore[arg-type]
        translator_for=IdentityTranslator,
        handler=handler,
        clock=clock,
        outbox=None,  # the process "dies" right after the commit
    )
    event = IncomingEvent(
        Address(Platform.TELEGRAM, "1"), EventKind.TEXT, "u1", Sender("1"), text="q"
    )
    assert await engine.process(event) is True
    await first.dispose()

    second = Database.from_url(db_url)
    try:
        sender = FakeSender()
        outbox = worker(second, sender, clock)
        await outbox.start()
        assert await outbox.drain(timeout=2) is True
        await outbox.stop()
        assert texts(sender.sent) == ["answer 1", "answer 2"]
    finally:
        await second.dispose()


async def _claim_and_die(db: Database, clock: Clock, lease: float) -> None:
    """A process claims the due messages and dies before sending them."""
    async with db.transaction() as uow:
        items = await uow.outbox.claim_due(
            ["telegram"], clock(), clock() + dt.timedelta(seconds=lease), 10
        )
    assert items


@pytest.mark.postgres
async def test_a_live_claim_is_respected_and_an_expired_one_taken_over(
    postgres_url: str, clock: Clock
) -> None:
    db = Database.from_url(postgres_url)
    try:
        await enqueue(db, clock, to("1", "claimed by a dead process"))
        await _claim_and_die(db, clock, lease=60)
        sender = FakeSender()
        outbox = worker(db, sender, clock, lease=60)

        assert await outbox.recover() == 0  # the lease still holds: maybe it is alive
        await outbox.drain(timeout=2)
        assert sender.sent == []

        clock.advance(61)
        assert await outbox.recover() == 1
        assert await outbox.drain(timeout=2) is True
        assert texts(sender.sent) == ["claimed by a dead process"]
    finally:
        await db.dispose()


async def test_embedded_database_requeues_every_claim_at_start(
    sqlite_url: str, clock: Clock
) -> None:
    db = Database.from_url(sqlite_url)
    try:
        await enqueue(db, clock, to("1", "interrupted"))
        await _claim_and_die(db, clock, lease=60)
        sender = FakeSender()
        outbox = worker(db, sender, clock)  # SQLite: this process is the only one
        await outbox.start()
        assert await outbox.drain(timeout=2) is True
        await outbox.stop()
        assert texts(sender.sent) == ["interrupted"]
    finally:
        await db.dispose()


async def test_two_workers_never_send_a_message_twice(db_url: str, clock: Clock) -> None:
    dbs = [Database.from_url(db_url) for _ in range(2)]
    try:
        for i in range(6):
            await enqueue(dbs[0], clock, *(to(str(chat), f"{chat}:{i}") for chat in range(4)))
        senders = [FakeSender(), FakeSender()]
        order: list[str] = []  # both workers' sends, as they happen

        async def record(reply: Reply) -> None:
            order.append(reply.text)
            # A send takes a moment, as a real one does: the other worker claims meanwhile
            # (with instant sends, one worker could drain all before the other's first claim).
            await asyncio.sleep(0.005)

        for sender in senders:
            sender.before_send = record
        workers = [
            worker(db, sender, clock, single_process=False, concurrency=2)
            for db, sender in zip(dbs, senders, strict=True)
        ]
        for w in workers:  # connected before the race starts
            await w.depth()
        results = await asyncio.gather(*(w.drain(timeout=5) for w in workers))
        assert results == [True, True]

        expected = [f"{c}:{i}" for c in range(4) for i in range(6)]
        assert sorted(order) == sorted(expected)  # each message exactly once
        if dbs[0].dialect == "postgresql":  # SQLite lets one writer at a time: may be one
            assert all(sender.sent for sender in senders)  # both took part
        for chat in range(4):
            assert [t for t in order if t.startswith(f"{chat}:")] == [
                f"{chat}:{i}" for i in range(6)
            ]
        assert all(r.status == "sent" for r in await rows(dbs[0]))
    finally:
        for db in dbs:
            await db.dispose()


async def test_wake_delivers_without_waiting_for_the_poll(db: Database, clock: Clock) -> None:
    sender = FakeSender()
    delivered = asyncio.Event()

    async def mark(_reply: Reply) -> None:
        delivered.set()

    sender.before_send = mark
    outbox = worker(db, sender, clock, poll_interval=3600)
    await outbox.start()
    try:
        await asyncio.sleep(0)
        await enqueue(db, clock, to("1", "now"))
        outbox.wake()
        await asyncio.wait_for(delivered.wait(), timeout=5)
    finally:
        await outbox.stop()
    assert [r.status for r in await rows(db)] == ["sent"]


async def test_stop_gives_claimed_messages_back(db: Database, clock: Clock) -> None:
    sender = FakeSender()
    entered = asyncio.Event()

    async def hang(_reply: Reply) -> None:
        entered.set()
        await asyncio.Event().wait()

    sender.before_send = hang
    await enqueue(db, clock, to("1", "stuck"))
    outbox = worker(db, sender, clock)
    await outbox.start()
    await asyncio.wait_for(entered.wait(), timeout=5)
    await outbox.stop(timeout=0.05)
    [row] = await rows(db)
    assert (row.status, row.attempts) == ("queued", 0)


async def test_depth_counts_pending_messages(db: Database, clock: Clock) -> None:
    await enqueue(db, clock, to("1", "a"), to("1", "b"), Reply(Address(Platform.VIBER, "v"), "c"))
    sender = FakeSender()
    outbox = worker(db, sender, clock)
    assert await outbox.depth() == 3
    await outbox.drain(timeout=2)
    assert await outbox.depth() == 1  # the Viber one: no Viber sender here


async def test_a_crash_right_after_the_sends_returned_repeats_nothing(
    db_url: str, clock: Clock
) -> None:
    """ "Sent" is committed by each delivery as soon as the messenger accepted it, not on the
    worker's next round: a process killed just after its sends returned (before its loop ran
    again) sends none of them a second time after the restart."""
    first_db = Database.from_url(db_url)
    await enqueue(first_db, clock, to("1", "a"), to("2", "b"), to("3", "c"))
    sender = FakeSender()
    first = worker(first_db, sender, clock, lease=5.0)
    assert await first.run_once() == 3  # claimed, and the sends started
    sends = [t for t in asyncio.all_tasks() if t.get_name() == "outbox-send"]
    await asyncio.gather(*sends)  # every send returned; the worker's loop never ran again
    assert [row.status for row in await rows(first_db)] == ["sent"] * 3
    await first_db.dispose()  # the process is killed here (no stop(): nothing is recorded)

    clock.advance(10)  # past the dead process's lease
    second_db = Database.from_url(db_url)
    try:
        second = worker(second_db, sender, clock)
        await second.start()
        assert await second.drain(timeout=2) is True
        await second.stop()
    finally:
        await second_db.dispose()
    assert sorted(sender.calls) == ["a", "b", "c"]  # each sent exactly once


async def test_the_periodic_statements_read_the_pending_index_not_every_sent_message(
    sqlite_url: str, clock: Clock
) -> None:
    """The depth gauge and the take-back of dead claims run every few seconds for as long as
    the bot runs, while the sent messages pile up until housekeeping: each must be answered
    by the partial index of pending messages, never by a scan of the whole table (the
    30-minute soak found them growing with it)."""
    from sqlalchemy import event

    db = Database.from_url(sqlite_url)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "outbox" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.transaction() as uow:
            await uow.outbox.depth()
            await uow.outbox.requeue_stale(["telegram", "viber"], clock())
            await uow.outbox.fail_pending_for_chat("telegram", "1", "blocked")
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
        assert len(seen) == 3
        async with db.engine.connect() as connection:
            for statement, parameters in seen:
                plan = await connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters
                )
                details = " | ".join(str(row[-1]) for row in plan.all())
                assert "ix_outbox_pending_chat" in details, (statement, details)
    finally:
        if event.contains(db.engine.sync_engine, "before_cursor_execute", record):
            event.remove(db.engine.sync_engine, "before_cursor_execute", record)
        await db.dispose()
