"""``POST /viber/webhook`` through the whole bot (``serve``) on SQLite, with Viber played by the
REST API double: signatures, malformed and oversized bodies, the welcome, deduplication,
unsubscribing, delivery receipts, and the engine's commit before the 200."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from bot.db import Database
from bot.db.models import OutboxMessage, ProcessedEvent, User
from bot.messengers.viber.protocol import parse_action_body
from bot.messengers.viber.webhook import MAX_CALLBACK_BYTES
from tests.doubles.telegram_harness import echo_handler
from tests.doubles.viber_double import ViberApiDouble, ViberUser, sign
from tests.doubles.viber_harness import RunningViberBot, running_viber_bot, viber_settings

OLENA = ViberUser("o1ena+AAAAAAAAAAAAAAAA==", language="uk")


class StubMatcher:
    kb = None


@pytest.fixture
async def api() -> AsyncIterator[ViberApiDouble]:
    async with ViberApiDouble() as double:
        yield double


@pytest.fixture
async def db(sqlite_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(sqlite_url)
    yield database
    await database.dispose()


@pytest.fixture
async def bot(api: ViberApiDouble, sqlite_url: str) -> AsyncIterator[RunningViberBot]:
    settings = viber_settings(api, sqlite_url)
    async with running_viber_bot(
        api, settings, handler=echo_handler, matcher=StubMatcher()
    ) as running:
        yield running


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_webhook_is_registered_at_start_and_checked_by_viber(
    bot: RunningViberBot, api: ViberApiDouble
) -> None:
    (call,) = api.calls_to("set_webhook")
    assert call.ok and call.token == api.token
    assert call.payload is not None
    assert set(call.payload["event_types"]) >= {"conversation_started", "unsubscribed", "failed"}
    assert call.payload["send_name"] is False  # we keep no names
    assert api.calls_to("get_account_info")  # the start-up check


@pytest.mark.parametrize("signature", ["aaaaaaaaaaaaaaaaaaaaaa", None, "", "0" * 64])
async def test_bad_signature_is_403_and_nothing_happens(
    bot: RunningViberBot, api: ViberApiDouble, db: Database, signature: str | None
) -> None:
    payload = bot.viber.message_payload(OLENA, {"type": "text", "text": "hello"})
    body = json.dumps(payload).encode()
    result = await bot.viber.post_raw(body, signature, sign_it=False)
    assert result.status == 403
    assert await count(db, OutboxMessage) == 0
    assert api.calls_to("send_message") == []
    assert await count(db, ProcessedEvent) == 0
    assert await count(db, User) == 0


async def test_signature_of_another_body_is_403(bot: RunningViberBot, db: Database) -> None:
    payload = bot.viber.message_payload(OLENA, {"type": "text", "text": "hello"})
    body = json.dumps(payload).encode()
    forged = json.dumps({**payload, "message": {"type": "text", "text": "evil"}}).encode()
    assert (await bot.viber.post_raw(forged, sign(bot.api.token, body))).status == 403
    assert await count(db, ProcessedEvent) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"no_event": 1}',
    ],
)
async def test_malformed_body_is_400(bot: RunningViberBot, db: Database, body: bytes) -> None:
    result = await bot.viber.post_raw(body)
    assert result.status == 400
    assert await count(db, ProcessedEvent) == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"event":"message","message_token":1,"message":{"type":"text","text":"x"}}',
        b'{"event":"message","message_token":1,"sender":{"id":"u=="},"message":{}}',
        b'{"event":"unsubscribed","message_token":1}',
    ],
)
async def test_signed_unreadable_callback_is_set_aside_once_and_acknowledged(
    bot: RunningViberBot, db: Database, body: bytes
) -> None:
    """Signed by Viber but unreadable (issue 12, poison): recorded once, answered 200 so
    Viber stops sending it again; nothing processed, nothing sent."""
    from bot.db.models import PoisonUpdate

    for _ in range(3):  # Viber's re-tries
        assert (await bot.viber.post_raw(body)).status == 200
    assert await count(db, ProcessedEvent) == 0
    assert await count(db, PoisonUpdate) == 1
    assert not bot.api.calls_to("send_message")


async def test_oversized_body_is_413(bot: RunningViberBot, db: Database) -> None:
    payload = bot.viber.message_payload(OLENA, {"type": "text", "text": "я" * MAX_CALLBACK_BYTES})
    result = await bot.viber.post(payload)
    assert result.status == 413
    assert await count(db, ProcessedEvent) == 0


async def test_conversation_started_answers_with_the_welcome_and_sends_nothing(
    bot: RunningViberBot, api: ViberApiDouble, db: Database
) -> None:
    result = await bot.viber.conversation_started(
        ViberUser("new+AAAAAAAAAAAAAAAAAA==", language="ru")
    )
    assert result.status == 200
    welcome = result.json()
    assert welcome["type"] == "text"
    assert welcome["sender"]["name"] == "Małopolska Otwarta"
    assert "receiver" not in welcome
    lines = welcome["text"].split("\n")
    assert len(lines) == 4  # the language question in all four languages
    bodies = [parse_action_body(b["ActionBody"]) for b in welcome["keyboard"]["Buttons"]]
    assert bodies == [("button", f"lang:{code}") for code in ("uk", "ru", "pl", "en")]
    assert api.calls_to("send_message") == []  # the person is not subscribed: no sending
    assert await count(db, User) == 0  # nor stored before they write


async def test_welcome_back_in_the_persons_language(
    bot: RunningViberBot, api: ViberApiDouble, db: Database
) -> None:
    assert (await bot.viber.text(OLENA, "hello")).status == 200
    async with db.transaction() as uow:
        user = await uow.session.scalar(select(User).where(User.external_id == OLENA.id))
        assert user is not None
        user.lang = "pl"
    welcome = (await bot.viber.conversation_started(OLENA, subscribed=True)).json()
    commands = [parse_action_body(b["ActionBody"]) for b in welcome["keyboard"]["Buttons"]]
    assert ("command", "menu") in commands and ("command", "language") in commands
    assert "lang:pl" not in json.dumps(welcome)


async def test_text_reaches_the_handlers_and_the_reply_comes_back(
    bot: RunningViberBot, api: ViberApiDouble
) -> None:
    assert (await bot.viber.text(OLENA, "Привіт")).status == 200
    (message,) = await api.wait_for_sent(OLENA.id)
    assert message.text == "echo: Привіт"
    assert api.invalid == []


async def test_duplicate_message_token_is_answered_once(
    bot: RunningViberBot, api: ViberApiDouble, db: Database
) -> None:
    payload = bot.viber.message_payload(OLENA, {"type": "text", "text": "once"})
    api.add_user(OLENA)
    api.subscribed.add(OLENA.id)
    results = await asyncio.gather(*(bot.viber.post(payload) for _ in range(3)))
    assert [r.status for r in results] == [200, 200, 200]  # Viber stops retrying
    assert (await bot.viber.post(payload)).status == 200  # and a late retry too
    # Every 200 came after the engine's commit: a second answer would be in the outbox now.
    assert await count(db, ProcessedEvent) == 1
    assert await count(db, OutboxMessage) == 1
    await api.wait_for_sent(OLENA.id)
    assert api.texts_to(OLENA.id) == ["echo: once"]


async def test_picture_reaches_the_handlers_as_media_with_its_url(
    bot: RunningViberBot, api: ViberApiDouble
) -> None:
    await bot.viber.picture(OLENA, "card", url="https://dl-media.viber.com/abc.jpg")
    (message,) = await api.wait_for_sent(OLENA.id)
    assert message.text == "media photo https://dl-media.viber.com/abc.jpg"


async def test_unsubscribed_marks_the_person_inactive_and_sends_nothing(
    bot: RunningViberBot, api: ViberApiDouble, db: Database
) -> None:
    await bot.viber.text(OLENA, "hi")
    await api.wait_for_sent(OLENA.id)
    assert (await bot.viber.unsubscribed(OLENA)).status == 200
    assert await count(db, User, User.external_id == OLENA.id, User.active.is_(False)) == 1
    assert await count(db, OutboxMessage) == 1  # nothing queued for them on leaving
    await bot.viber.text(OLENA, "I'm back")  # writing again subscribes and reactivates
    await api.wait_for_sent(OLENA.id, 2)
    assert await count(db, User, User.external_id == OLENA.id, User.active.is_(True)) == 1


def _receipts(event: str) -> float:
    value = REGISTRY.get_sample_value("otwarta_viber_callbacks_total", {"event": event})
    return value or 0.0


async def test_receipts_are_tracked_and_failed_marks_the_outbox_row(
    bot: RunningViberBot, api: ViberApiDouble, db: Database
) -> None:
    await bot.viber.text(OLENA, "hi")
    (message,) = await api.wait_for_sent(OLENA.id)
    delivered, seen = _receipts("delivered"), _receipts("seen")
    assert (await bot.viber.receipt("delivered", message.token, OLENA)).status == 200
    assert (await bot.viber.receipt("seen", message.token, OLENA)).status == 200
    assert (_receipts("delivered"), _receipts("seen")) == (delivered + 1, seen + 1)

    async def row_status() -> tuple[str, str | None]:
        async with db.sessions() as session:
            row = await session.scalar(
                select(OutboxMessage).where(OutboxMessage.message_id == str(message.token))
            )
            assert row is not None
            return row.status, row.last_error

    for _ in range(50):  # the outbox marks the row sent right after Viber's answer
        if (await row_status())[0] == "sent":
            break
        await asyncio.sleep(0.05)
    result = await bot.viber.receipt("failed", message.token, OLENA, desc="user blocked")
    assert result.status == 200
    status, error = await row_status()
    assert status == "failed" and error is not None and "user blocked" in error


async def test_receipts_need_a_signature_too(bot: RunningViberBot, db: Database) -> None:
    body = json.dumps({"event": "failed", "message_token": 1, "user_id": "x", "desc": "d"})
    assert (await bot.viber.post_raw(body.encode(), "bad", sign_it=False)).status == 403


async def test_health_route_asks_viber(bot: RunningViberBot, api: ViberApiDouble) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{bot.bot.url}/viber/health") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok"}
        async with http.get(f"{bot.bot.url}/readyz") as response:
            assert response.status == 200  # the database; Viber's API is not a readiness matter


async def test_the_viber_token_never_reaches_a_log_line(
    bot: RunningViberBot, api: ViberApiDouble, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("anything").warning("calling with token %s", api.token)
        api.fail(status=2)  # Viber refuses the token: the sender logs the refusal
        await bot.viber.text(OLENA, "hello")
        await api.wait_until(lambda: bool(api.calls_to("send_message")))
        await api.wait_until(lambda: "VIBER_AUTH_TOKEN" in caplog.text)
    assert api.token not in caplog.text
    assert "[REDACTED]" in caplog.text
