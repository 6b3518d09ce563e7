"""The poison-update record on both databases: recorded once, no content, and the migration
makes exactly the table the model describes (checked by tests/test_db_migrations.py too)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, select

from bot.db import Database
from bot.db.models import PoisonUpdate
from bot.db.poison import poison_count, record_poison

NOW = dt.datetime(2026, 12, 6, 21, 0, tzinfo=dt.UTC)


async def test_a_poison_update_is_recorded_once_per_platform(db: Database) -> None:
    async with db.transaction() as session:
        first = await record_poison(
            session, platform="telegram", update_id="1001", update_type="message",
            error="TypeError at telegram/_message.py:10 in de_json", attempts=1, now=NOW,
        )  # fmt: skip
    async with db.transaction() as session:
        again = await record_poison(
            session, platform="telegram", update_id="1001", update_type="message",
            error="TypeError", attempts=1, now=NOW,
        )  # fmt: skip
        viber = await record_poison(
            session, platform="viber", update_id="1001", update_type="message",
            error="KeyError", attempts=5, now=NOW,
        )  # fmt: skip
    assert (first, again, viber) == (True, False, True)
    async with db.sessions() as session:
        assert await poison_count(session) == 2
        assert await poison_count(session, "telegram") == 1
        row = (
            await session.execute(select(PoisonUpdate).where(PoisonUpdate.platform == "telegram"))
        ).scalar_one()
    assert row.update_id == "1001" and row.update_type == "message"
    assert row.error.startswith("TypeError at") and row.attempts == 1
    assert row.recorded_at == NOW


async def test_the_table_holds_no_content_columns(db: Database) -> None:
    async with db.engine.connect() as connection:
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("poison_updates")}
        )
    assert columns == {
        "id", "platform", "update_id", "update_type", "error", "attempts", "recorded_at"
    }  # fmt: skip


async def test_an_update_failing_poison_attempts_times_is_recorded_once(
    sqlite_url: str,
) -> None:
    """Polling, real PTB and the double: an update whose processing keeps failing (not an
    outage) is tried POISON_ATTEMPTS times, recorded once, counted, confirmed; the next one
    of the same chat goes through; an outage is never counted against an update."""
    from bot import metrics
    from bot.messengers.telegram import TelegramAdapter
    from handlers.model import IncomingEvent
    from tests.doubles.telegram_double import BotApiDouble, FakeUser
    from tests.doubles.telegram_harness import bot_settings
    from tests.integration.test_telegram_intake import RecordingSink

    outages = {"left": 4}

    async def hook(event: IncomingEvent) -> None:
        if event.text == "outage" and outages["left"]:
            outages["left"] -= 1
            raise ConnectionRefusedError("database down")
        if event.text == "poison":
            raise ValueError("a bug, not an outage")

    counted = metrics.POISON_UPDATES.labels("telegram", "failing")._value.get()
    sink = RecordingSink()
    sink.hook = hook
    db = Database.from_url(sqlite_url)
    async with BotApiDouble() as api:
        settings = bot_settings(api, sqlite_url, poison_attempts=3)
        adapter = TelegramAdapter(settings, sink, failure_backoff=0.01)
        adapter.poison.db = db
        await adapter.initialize()
        await adapter.start()
        try:
            user = FakeUser(1501)
            api.text(user, "outage")  # fails 4 times (more than 3): an outage, retried
            poison = api.text(user, "poison")
            api.text(user, "next")
            await api.wait_until(lambda: "next" in sink.texts(user.id), within=30, what="next")
            await api.wait_until(lambda: not api.pending_update_ids, what="all confirmed")
        finally:
            await adapter.close()
    try:
        assert "outage" in sink.texts(user.id)
        assert len([e for e in sink.started if e.text == "poison"]) == 3
        async with db.sessions() as session:
            rows = (await session.execute(select(PoisonUpdate))).scalars().all()
        assert [(r.update_id, r.update_type, r.attempts) for r in rows] == [
            (str(poison["update_id"]), "message", 3)
        ]
        assert rows[0].error.startswith("ValueError at")
        assert metrics.POISON_UPDATES.labels("telegram", "failing")._value.get() == counted + 1
    finally:
        await db.dispose()


async def test_a_viber_callback_failing_poison_attempts_times_is_set_aside(
    sqlite_url: str,
) -> None:
    """The real webhook handler on a real aiohttp server: a callback whose processing keeps
    failing gets 500 (Viber sends it again) until the POISON_ATTEMPTS-th attempt, which is
    recorded and answered 200; an outage answers 503 and never counts."""
    from aiohttp import web

    from bot.messengers.viber.webhook import ViberWebhook
    from bot.poison import PoisonGuard
    from tests.doubles.telegram_harness import free_port
    from tests.doubles.viber_double import DEFAULT_TOKEN, ViberCallbacks, ViberUser

    outages = {"left": 3}

    class FailingSink:
        async def process(self, event: object) -> bool:
            if outages["left"]:
                outages["left"] -= 1
                raise ConnectionRefusedError("database down")
            raise KeyError("a bug, not an outage")

    async def no_welcome(callback: object) -> None:
        return None

    db = Database.from_url(sqlite_url)
    webhook = ViberWebhook(
        DEFAULT_TOKEN,
        lambda: FailingSink(),  # type: ignore[arg-type, return-value]
        welcome=no_welcome,  # type: ignore[arg-type]
        poison=PoisonGuard("viber", attempts=3, db=db),
    )
    app = web.Application()
    app.add_routes([webhook.route()])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        viber = ViberCallbacks(f"http://127.0.0.1:{port}/viber/webhook", DEFAULT_TOKEN)
        payload = viber.message_payload(
            ViberUser("p01+AAAAAAAAAAAAAAAAAA=="), {"type": "text", "text": "a secret"}
        )
        statuses = [(await viber.post(payload)).status for _ in range(6)]
        assert statuses == [503, 503, 503, 500, 500, 200]
        assert (await viber.post(payload)).status == 200  # sent again: acknowledged at once
        async with db.sessions() as session:
            rows = (await session.execute(select(PoisonUpdate))).scalars().all()
        assert [(r.platform, r.update_id, r.update_type, r.attempts) for r in rows] == [
            ("viber", str(payload["message_token"]), "message", 3)
        ]
        assert rows[0].error.startswith("KeyError at")
    finally:
        await runner.cleanup()
        await db.dispose()
