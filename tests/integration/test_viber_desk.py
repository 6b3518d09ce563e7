"""A person on Viber, the consultants on Telegram: one ``serve`` with both messengers (each
against its double), the consultant desk in a Telegram forum group, the real conversation,
engine and outbox on SQLite.

Viber person asks for a human → a topic and a card (platform: Viber) in the Telegram desk →
the consultant's message in the topic → Viber ``send_message`` to the person; the person's
photo (a Viber media URL) → the topic; the consultant's photo (a Telegram ``file_id``, which
Viber cannot fetch) → a note to the person instead of a silent drop; a reply more than 24 hours
after the person's last message → held with a warning in the topic until confirmed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import update

from bot.db import Database
from bot.db.desk_models import Ticket
from bot.settings import Settings
from tests.doubles.telegram_double import BotApiDouble, FakeUser, SentMessage
from tests.doubles.telegram_harness import free_port, running_bot
from tests.doubles.viber_double import ViberApiDouble, ViberCallbacks, ViberUser

DESK = -1001987654321
CONSULTANT = FakeUser(7001, first_name="Olena", last_name="Koval", language_code="uk")
MYKOLA = ViberUser("myk0la+AAAAAAAAAAAAAAA==", name="Микола", language="uk")


@pytest.fixture
async def telegram() -> AsyncIterator[BotApiDouble]:
    async with BotApiDouble() as double:
        double.add_forum_group(DESK)
        yield double


@pytest.fixture
async def viber() -> AsyncIterator[ViberApiDouble]:
    async with ViberApiDouble() as double:
        yield double


def both_settings(telegram: BotApiDouble, viber: ViberApiDouble, db_url: str) -> Settings:
    port = free_port()
    values: dict[str, Any] = {
        "database_url": db_url,
        "telegram_bot_token": telegram.token,
        "telegram_api_url": telegram.api_url,
        "viber_auth_token": viber.token,
        "viber_api_url": viber.api_url,
        "http_host": "127.0.0.1",
        "http_port": port,
        # Viber needs a webhook; Telegram then uses one too (both on our loopback server).
        "public_url": f"http://127.0.0.1:{port}",
        "consultant_chat_id": DESK,
        "consultants": str(CONSULTANT.id),  # the consultants' list (issue 18 item 5)
        "desk_hours": "",  # always open
        "desk_reminder_interval_seconds": 3600.0,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def topics(api: BotApiDouble) -> dict[int, str]:
    return {thread: topic.name for (chat, thread), topic in api.topics.items() if chat == DESK}


def in_topic(api: BotApiDouble, thread: int) -> list[SentMessage]:
    return api.sent_to(DESK, thread)


@pytest.fixture
async def running(
    telegram: BotApiDouble, viber: ViberApiDouble, sqlite_url: str
) -> AsyncIterator[ViberCallbacks]:
    async with running_bot(both_settings(telegram, viber, sqlite_url)):
        await viber.wait_until(lambda: viber.webhook_url is not None, timeout=30)
        assert viber.webhook_url is not None
        yield ViberCallbacks(viber.webhook_url, viber.token, viber)


async def open_ticket(telegram: BotApiDouble, viber: ViberApiDouble, cb: ViberCallbacks) -> int:
    result = await cb.text(MYKOLA, "Хочу поговорити з консультантом про мій песель")
    assert result.status == 200
    await telegram.wait_until(lambda: len(topics(telegram)) >= 1, what="the ticket's topic")
    thread = max(topics(telegram))
    await telegram.wait_until(lambda: len(in_topic(telegram, thread)) >= 1, what="the card")
    await viber.wait_until(lambda: any("#1" in t for t in viber.texts_to(MYKOLA.id)))
    # ...and the rest of that first turn (a newcomer also gets the short privacy notice)
    await viber.wait_until(lambda: any("🔒" in t for t in viber.texts_to(MYKOLA.id)))
    return thread


async def test_a_viber_ticket_in_the_telegram_desk(
    running: ViberCallbacks, telegram: BotApiDouble, viber: ViberApiDouble
) -> None:
    thread = await open_ticket(telegram, viber, running)
    card = in_topic(telegram, thread)[0]
    assert "Viber" in card.text  # the card names the person's messenger
    assert "Микола" not in card.text  # a pseudonym, never the name
    assert "песель" in card.text.lower()

    # The consultant writes in the topic: it reaches the person through send_message.
    before = len(viber.sent_to(MYKOLA.id))
    telegram.group_message(DESK, CONSULTANT, "Добрий день! Чим можу допомогти?", thread_id=thread)
    await viber.wait_until(
        lambda: any("Чим можу допомогти" in t for t in viber.texts_to(MYKOLA.id))
    )
    reply = next(m for m in viber.sent_to(MYKOLA.id)[before:] if "Чим можу" in m.text)
    assert reply.type == "text" and "**" not in reply.text  # rendered for Viber
    assert reply.keyboard is not None  # the bottom keyboard stays

    # The person's photo (a Viber media URL) reaches the topic.
    await running.picture(MYKOLA, "ось мій документ", url="https://dl-media.viber.com/doc.jpg")
    await telegram.wait_until(
        lambda: any(m.method == "sendPhoto" for m in in_topic(telegram, thread)),
        what="the person's photo in the topic",
    )
    photo = next(m for m in in_topic(telegram, thread) if m.method == "sendPhoto")
    assert photo.params.get("photo") == "https://dl-media.viber.com/doc.jpg"

    # The consultant's photo is a Telegram file_id: Viber gets a note, not silence.
    before = len(viber.sent_to(MYKOLA.id))
    telegram.media(CONSULTANT, "photo", caption="Зразок заяви", chat=telegram.chat_of(DESK),
                   thread_id=thread)  # fmt: skip
    await viber.wait_until(lambda: len(viber.sent_to(MYKOLA.id)) > before)
    note = viber.sent_to(MYKOLA.id)[-1]
    assert note.type == "text" and "Viber" in note.text and "Зразок заяви" in note.text
    assert viber.invalid == []


async def test_a_reply_after_24_hours_waits_for_the_consultants_confirmation(
    running: ViberCallbacks, telegram: BotApiDouble, viber: ViberApiDouble, sqlite_url: str
) -> None:
    thread = await open_ticket(telegram, viber, running)
    db = Database.from_url(sqlite_url)
    try:
        async with db.transaction() as uow:
            # The person's last message was 26 hours ago (the clock is real: move the past).
            await uow.session.execute(
                update(Ticket).values(
                    last_person_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=26)
                )
            )
    finally:
        await db.dispose()
    before = len(viber.sent_to(MYKOLA.id))
    in_topic_before = len(in_topic(telegram, thread))
    telegram.group_message(DESK, CONSULTANT, "Ваша справа готова", thread_id=thread)
    await telegram.wait_until(
        lambda: len(in_topic(telegram, thread)) > in_topic_before, what="the warning"
    )
    warning = in_topic(telegram, thread)[-1]
    assert "26" in warning.text and "/send" in warning.text
    assert len(viber.sent_to(MYKOLA.id)) == before  # nothing went out

    telegram.group_message(DESK, CONSULTANT, "/send Ваша справа готова", thread_id=thread)
    await viber.wait_until(
        lambda: any("Ваша справа готова" in t for t in viber.texts_to(MYKOLA.id))
    )
    sent = next(m for m in viber.sent_to(MYKOLA.id) if "Ваша справа готова" in m.text)
    assert "/send" not in sent.text
