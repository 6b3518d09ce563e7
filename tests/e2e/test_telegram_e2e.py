"""End to end: ``bot.app.serve`` with the real python-telegram-bot against the Bot API double,
through the engine, the outbox and a real database (SQLite and PostgreSQL), in polling and in
webhook mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from bot.db.engine import create_engine
from bot.messengers.telegram import SECRET_HEADER, WEBHOOK_PATH
from bot.settings import Settings
from handlers.context import TurnContext
from tests.doubles.telegram_double import BotApiDouble, FakeUser
from tests.doubles.telegram_harness import bot_settings, echo_handler, running_bot, webhook_settings

MODES = ["polling", "webhook"]


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    async with BotApiDouble() as double:
        yield double


def settings_for(mode: str, api: BotApiDouble, db_url: str, **overrides: Any) -> Settings:
    make = webhook_settings if mode == "webhook" else bot_settings
    return make(api, db_url, **overrides)


async def query(db_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    """Poll an async condition until it holds (a deadline against hangs, not a timing test)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("mode", MODES)
async def test_conversation_start_language_question_answer(
    api: BotApiDouble, db_url: str, mode: str
) -> None:
    """The real conversation: /start → the language buttons → Ukrainian → a question →
    the answer, rendered as HTML, with an inline keyboard."""
    olena = FakeUser(1001, language_code=None)  # the phone's language tells us nothing
    async with running_bot(settings_for(mode, api, db_url)):
        api.command(olena, "start")
        [choose] = await api.wait_for_sent(olena.id, 1)
        assert {"lang:uk", "lang:ru", "lang:pl", "lang:en"} <= set(choose.callback_data)

        api.callback(olena, "lang:uk", message_id=choose.message_id)
        await api.wait_for_sent(olena.id, 2)
        await api.wait_until(lambda: bool(api.callback_answers), what="spinner stopped")

        api.text(olena, "як отримати песель")
        await api.wait_until(
            lambda: any("PESEL" in m.text for m in api.sent_to(olena.id)[2:]),
            what="the answer",
        )
    answer = next(m for m in api.sent_to(olena.id)[2:] if "PESEL" in m.text)
    assert answer.method == "sendMessage"
    assert answer.parse_mode == "HTML"
    assert "<b>" in answer.raw
    assert answer.reply_markup and answer.callback_data
    assert all(len(data.encode()) <= 64 for data in answer.callback_data)
    if mode == "webhook":
        assert api.calls_to("setWebhook")[0].params["secret_token"]
        assert api.calls_to("getUpdates") == []
    [user] = await query(db_url, "SELECT lang FROM users WHERE external_id = '1001'")
    assert user.lang == "uk"


@pytest.mark.parametrize("mode", MODES)
async def test_same_update_delivered_twice_is_answered_once(
    api: BotApiDouble, db_url: str, mode: str
) -> None:
    olena = FakeUser(1001)
    async with running_bot(settings_for(mode, api, db_url), handler=echo_handler):
        first = api.text(olena, "pierwsze")
        await api.wait_for_sent(olena.id, 1)
        await api.wait_until(lambda: first["update_id"] not in api.pending_update_ids)
        api.inject(first)  # Telegram delivers it again (same update_id)
        api.text(olena, "drugie")  # same chat, so processed after the redelivery
        await api.wait_for_sent(olena.id, 2)
        await api.wait_until(lambda: not api.pending_update_ids, what="all confirmed")
    assert api.texts_to(olena.id) == ["echo: pierwsze", "echo: drugie"]


@pytest.mark.parametrize("mode", MODES)
async def test_flood_control_storm_delivers_everything_in_order(
    api: BotApiDouble, db_url: str, mode: str
) -> None:
    """The double answers 429 (retry_after 1) for a while: nothing is dropped, each chat's
    answers arrive in the order of its questions."""
    users = [FakeUser(5000 + i) for i in range(12)]
    async with running_bot(settings_for(mode, api, db_url), handler=echo_handler):
        api.fail(429, method="sendMessage", retry_after=1, duration=2.0)
        for n in range(3):
            for user in users:
                api.text(user, f"q{n}")
        await api.wait_until(
            lambda: all(len(api.sent_to(u.id)) == 3 for u in users), within=40, what="all answers"
        )
    assert any(call.status == 429 for call in api.calls_to("sendMessage"))
    for user in users:
        assert api.texts_to(user.id) == ["echo: q0", "echo: q1", "echo: q2"]


async def test_blocked_user_is_marked_inactive(api: BotApiDouble, db_url: str) -> None:
    olena, taras = FakeUser(1001), FakeUser(1002)
    async with running_bot(bot_settings(api, db_url), handler=echo_handler):
        api.fail(403, "Forbidden: bot was blocked by the user", chat_id=olena.id, times=None)
        api.text(olena, "hello")
        api.text(taras, "hello")
        await api.wait_for_sent(taras.id, 1)

        async def olena_inactive() -> bool:
            rows = await query(db_url, "SELECT active FROM users WHERE external_id = '1001'")
            return bool(rows) and not rows[0].active

        await eventually(olena_inactive)
    assert api.sent_to(olena.id) == []
    [taras_row] = await query(db_url, "SELECT active FROM users WHERE external_id = '1002'")
    assert taras_row.active


async def test_kicking_the_bot_unsubscribes_without_an_answer(
    api: BotApiDouble, sqlite_url: str
) -> None:
    olena = FakeUser(1001)
    async with running_bot(bot_settings(api, sqlite_url), handler=echo_handler):
        api.text(olena, "hello")
        await api.wait_for_sent(olena.id, 1)
        kicked = api.my_chat_member(olena, "kicked")
        await api.wait_until(lambda: kicked["update_id"] not in api.pending_update_ids)
    [row] = await query(sqlite_url, "SELECT active FROM users WHERE external_id = '1001'")
    assert not row.active
    assert len(api.sent_to(olena.id)) == 1


async def test_webhook_with_a_wrong_secret_is_refused_and_not_processed(
    api: BotApiDouble, sqlite_url: str
) -> None:
    settings = webhook_settings(api, sqlite_url)
    update = api.text(FakeUser(1001), "forged", inject=False)
    async with running_bot(settings, handler=echo_handler) as bot, aiohttp.ClientSession() as http:
        url = f"{bot.url}{WEBHOOK_PATH}"
        statuses = []
        for headers in (
            {},
            {SECRET_HEADER: "wrong"},
            {SECRET_HEADER: (settings.webhook_secret() or "") + "x"},
        ):
            async with http.post(url, json=update, headers=headers) as response:
                statuses.append(response.status)
        async with http.post(
            url, json=update, headers={SECRET_HEADER: settings.webhook_secret() or ""}
        ) as response:
            assert response.status == 200  # the genuine delivery is taken
    assert statuses == [403, 403, 403]
    assert api.texts_to(1001) == ["echo: forged"]
    [count] = await query(sqlite_url, "SELECT count(*) AS n FROM processed_events")
    assert count.n == 1


async def test_webhook_answers_only_after_the_update_is_committed(
    api: BotApiDouble, sqlite_url: str
) -> None:
    release = asyncio.Event()

    async def slow_handler(ctx: TurnContext) -> None:
        await release.wait()
        await echo_handler(ctx)

    async with running_bot(webhook_settings(api, sqlite_url), handler=slow_handler):
        update = api.text(FakeUser(1001), "wait")
        await api.wait_until(lambda: bool(api._webhook_inflight), what="delivery in flight")
        await asyncio.sleep(0.2)  # the handler is blocked: the POST must still be open
        assert api.webhook_deliveries == []
        assert await query(sqlite_url, "SELECT * FROM processed_events") == []
        release.set()
        await api.wait_until(lambda: bool(api.webhook_deliveries), what="delivery answered")
        assert [(d.update_id, d.status) for d in api.webhook_deliveries] == [
            (update["update_id"], 200)
        ]
        [row] = await query(sqlite_url, "SELECT dedupe_key FROM processed_events")
        assert row.dedupe_key == str(update["update_id"])


async def test_media_from_a_person_reaches_the_handlers(api: BotApiDouble, sqlite_url: str) -> None:
    olena = FakeUser(1001)
    async with running_bot(bot_settings(api, sqlite_url), handler=echo_handler):
        photo = api.photo(olena, caption="mój dokument")
        api.sticker(olena)
        await api.wait_for_sent(olena.id, 2)
    file_id = photo["message"]["photo"][-1]["file_id"]
    assert api.texts_to(olena.id)[0] == f"media photo {file_id}"
    assert api.texts_to(olena.id)[1].startswith("media sticker STICKER-FILE-")


async def test_without_a_messenger_it_serves_http_and_says_so(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(_env_file=None, database_url=sqlite_url, http_port=0)  # type: ignore[call-arg]
    async with (
        running_bot(settings) as bot,
        aiohttp.ClientSession() as http,
        http.get(f"{bot.url}/healthz") as response,
    ):
        assert response.status == 200
    assert "no messenger configured" in caplog.text
