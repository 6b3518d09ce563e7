"""The consultant desk end to end: ``bot.app.serve`` with the real python-telegram-bot against
the Bot API double (a forum supergroup as the desk), the real conversation, the engine, the
outbox and a real database (SQLite, and PostgreSQL where reachable)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text

from bot.db.engine import create_engine
from bot.settings import Settings
from tests.conftest import names_ticket
from tests.doubles.telegram_double import BotApiDouble, FakeUser, SentMessage
from tests.doubles.telegram_harness import bot_settings, running_bot

DESK = -1001987654321
PERSON = FakeUser(2001, first_name="Oksana", language_code="uk")
OLENA = FakeUser(7001, first_name="Olena", last_name="Koval", language_code="uk")
TARAS = FakeUser(7002, first_name="Taras", language_code="uk")


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    async with BotApiDouble() as double:
        double.add_forum_group(DESK)
        yield double


def desk_settings(api: BotApiDouble, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "consultant_chat_id": DESK,
        "consultants": "7001 7002",  # OLENA, TARAS: the consultants' list
        "desk_hours": "",  # always open: the hours have their own tests
        "desk_reminder_interval_seconds": 3600.0,
    }
    values.update(overrides)
    return bot_settings(api, db_url, **values)


async def query(db_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


def desk_chat(api: BotApiDouble) -> dict[str, Any]:
    return api.chat_of(DESK)


def topics(api: BotApiDouble) -> dict[int, str]:
    return {thread: topic.name for (chat, thread), topic in api.topics.items() if chat == DESK}


def in_topic(api: BotApiDouble, thread: int) -> list[SentMessage]:
    return api.sent_to(DESK, thread)


async def wait_for_topic(api: BotApiDouble, count: int = 1) -> int:
    await api.wait_until(lambda: len(topics(api)) >= count, what=f"{count} desk topic(s)")
    thread = max(topics(api))
    await api.wait_until(lambda: len(in_topic(api, thread)) >= 1, what="the card")
    return thread


def card_of(api: BotApiDouble, thread: int) -> SentMessage:
    return in_topic(api, thread)[0]


def current_card_text(api: BotApiDouble, thread: int) -> str:
    """The card as the group shows it now (edits included)."""
    card = card_of(api, thread)
    return str(api._messages[(DESK, card.message_id)]["text"])


def current_card_buttons(api: BotApiDouble, thread: int) -> list[str]:
    card = card_of(api, thread)
    markup = api._messages[(DESK, card.message_id)].get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


async def ask_for_a_person(api: BotApiDouble, person: FakeUser = PERSON) -> int:
    """The person types that they want a human; returns the desk topic's thread id."""
    before = len(topics(api))
    api.text(person, "Хочу поговорити з консультантом про мій песель")
    return await wait_for_topic(api, before + 1)


async def test_the_whole_ticket_life(api: BotApiDouble, db_url: str) -> None:
    """Ask for a human → topic + card → Take → the consultant's reply reaches the person →
    the person's photo reaches the topic → /close → rating and comment, all stored."""
    async with running_bot(desk_settings(api, db_url)):
        thread = await ask_for_a_person(api)
        name = topics(api)[thread]
        t = ticket_of(api, thread)
        assert name.startswith(f"#{t} · UK · ")
        card = card_of(api, thread)
        assert re.search(r"👤 \S+ #[0-9A-F]{4}\n", card.text)  # a pseudonym
        assert "Oksana" not in card.text
        assert "хочу поговорити" in card.text.lower()
        assert card.callback_data == [f"dk:take:{t}", f"dk:close:{t}", f"dk:xfer:{t}"]
        await api.wait_until(
            lambda: any(names_ticket(m.text, t) for m in api.sent_to(PERSON.id)),
            what="the acknowledgement",
        )
        ack = next(m for m in api.sent_to(PERSON.id) if names_ticket(m.text, t))
        assert ack.callback_data == [f"dk:cancel:{t}"]

        api.callback(OLENA, f"dk:take:{t}", message_id=card.message_id, chat=desk_chat(api))
        await api.wait_until(
            lambda: "Olena Koval" in current_card_text(api, thread), what="the card names the owner"
        )
        assert f"dk:take:{t}" not in current_card_buttons(api, thread)

        sent_before = len(api.sent_to(PERSON.id))
        api.group_message(DESK, OLENA, "Добрий день! Чим можу допомогти?", thread_id=thread)
        await api.wait_until(
            lambda: any("Чим можу допомогти" in m.text for m in api.sent_to(PERSON.id)),
            what="the consultant's reply reaches the person",
        )
        assert len(api.sent_to(PERSON.id)) > sent_before

        api.media(PERSON, "photo", caption="ось мій документ")
        await api.wait_until(
            lambda: any(m.method == "sendPhoto" for m in in_topic(api, thread)),
            what="the person's photo in the topic",
        )
        photo = next(m for m in in_topic(api, thread) if m.method == "sendPhoto")
        assert "ось мій документ" in photo.text

        api.group_message(DESK, OLENA, "!перевірити статус у понеділок", thread_id=thread)
        api.group_message(DESK, OLENA, "/close", thread_id=thread)
        await api.wait_until(
            lambda: any(f"dk:rate:{t}:5" in m.callback_data for m in api.sent_to(PERSON.id)),
            what="the rating buttons",
        )
        assert all("перевірити статус" not in m.text for m in api.sent_to(PERSON.id))
        await api.wait_until(lambda: api.topics[(DESK, thread)].closed, what="topic closed")
        assert topics(api)[thread].startswith("✅ ")

        rating = next(m for m in api.sent_to(PERSON.id) if f"dk:rate:{t}:5" in m.callback_data)
        api.callback(PERSON, f"dk:rate:{t}:4", message_id=rating.message_id)
        await api.wait_until(
            lambda: any(f"dk:skip:{t}" in m.callback_data for m in api.sent_to(PERSON.id)),
            what="the comment invitation",
        )
        api.text(PERSON, "Дуже дякую, все зрозуміло")
        await api.wait_until(
            lambda: any("Дуже дякую" in m.text for m in api.sent_to(DESK)), what="the comment"
        )

    [ticket] = await query(
        db_url,
        "SELECT state, close_reason, consultant_id, assigned_at, first_response_at, closed_at "
        "FROM tickets",
    )
    assert ticket.state == "closed" and ticket.close_reason == "resolved"
    assert ticket.assigned_at and ticket.first_response_at and ticket.closed_at
    [rating_row] = await query(db_url, "SELECT score, comment FROM ticket_ratings")
    assert (rating_row.score, rating_row.comment) == (4, "Дуже дякую, все зрозуміло")
    notes = await query(db_url, "SELECT direction, kind FROM ticket_messages ORDER BY id")
    assert [(n.direction, n.kind) for n in notes] == [
        ("out", "text"),
        ("in", "photo"),
        ("note", "text"),
    ]


async def test_two_consultants_press_take_at_once(api: BotApiDouble, db_url: str) -> None:
    """Both presses reach the bot back to back: one owner, the other is told who has it."""
    async with running_bot(desk_settings(api, db_url)):
        thread = await ask_for_a_person(api)
        ticket = ticket_of(api, thread)
        card = card_of(api, thread)
        api.callback(OLENA, f"dk:take:{ticket}", message_id=card.message_id, chat=desk_chat(api))
        api.callback(TARAS, f"dk:take:{ticket}", message_id=card.message_id, chat=desk_chat(api))
        await api.wait_until(
            lambda: any(
                "Taras" in m.text and "Olena Koval" in m.text for m in in_topic(api, thread)
            ),
            what="the second consultant is told who has it",
        )
        assert "Olena Koval" in current_card_text(api, thread)
    [row] = await query(
        db_url, "SELECT c.display_name FROM tickets t JOIN consultants c ON c.id = t.consultant_id"
    )
    assert row.display_name == "Olena Koval"


def ticket_of(api: BotApiDouble, thread: int) -> int:
    """The ticket number in the topic's name ("#12 · UK · …")."""
    name = topics(api)[thread]
    return int(name.split("#", 1)[1].split(" ", 1)[0])


async def test_restart_mid_ticket(api: BotApiDouble, db_url: str) -> None:
    """The bot stops with a ticket taken; a new process on the same database carries on in
    the same topic, both ways."""
    async with running_bot(desk_settings(api, db_url)):
        thread = await ask_for_a_person(api)
        ticket = ticket_of(api, thread)
        api.callback(
            OLENA,
            f"dk:take:{ticket}",
            message_id=card_of(api, thread).message_id,
            chat=desk_chat(api),
        )
        await api.wait_until(lambda: "Olena Koval" in current_card_text(api, thread))
    async with running_bot(desk_settings(api, db_url)):
        api.group_message(DESK, OLENA, "Я тут, після перезапуску", thread_id=thread)
        await api.wait_until(
            lambda: any("після перезапуску" in m.text for m in api.sent_to(PERSON.id)),
            what="the consultant's message after the restart",
        )
        api.text(PERSON, "Дякую, а скільки це коштує?")
        await api.wait_until(
            lambda: any("скільки це коштує" in m.text for m in in_topic(api, thread)),
            what="the person's message in the same topic",
        )
    assert len(topics(api)) == 1


async def test_a_deleted_topic_is_recreated_on_the_next_message(
    api: BotApiDouble, db_url: str
) -> None:
    async with running_bot(desk_settings(api, db_url)):
        old = await ask_for_a_person(api)
        ticket = ticket_of(api, old)
        api.delete_topic(DESK, old)  # a consultant deletes the topic by hand
        api.text(PERSON, "Ви мене чуєте?")
        await api.wait_until(
            lambda: len(topics(api)) == 1 and old not in topics(api), what="a new topic"
        )
        new = next(iter(topics(api)))
        await api.wait_until(
            lambda: any("Ви мене чуєте?" in m.text for m in in_topic(api, new)),
            what="the message in the new topic",
        )
        assert topics(api)[new].startswith(f"#{ticket} · ")
        assert in_topic(api, new)[0].callback_data[0] == f"dk:take:{ticket}"  # a fresh card
        # The consultant answers in the new topic, and it reaches the person.
        api.group_message(DESK, OLENA, "Так, чую", thread_id=new)
        await api.wait_until(lambda: any("Так, чую" in m.text for m in api.sent_to(PERSON.id)))
    [row] = await query(db_url, "SELECT thread_id FROM tickets WHERE id = :id", id=ticket)
    assert row.thread_id == new


async def test_a_429_storm_on_the_desk_group_loses_nothing_and_keeps_order(
    api: BotApiDouble, db_url: str
) -> None:
    """Telegram answers 429 for everything sent to the group for a while, while two people
    open tickets and write: every topic, card and message arrives, each topic in order."""
    people = [FakeUser(2100 + n, first_name=f"P{n}", language_code="uk") for n in range(2)]
    async with running_bot(desk_settings(api, db_url)):
        api.fail(429, chat_id=DESK, retry_after=1, duration=1.5)
        for person in people:
            api.text(person, "Хочу поговорити з консультантом")
        for n in range(3):
            for person in people:
                api.text(person, f"{person.first_name} повідомлення {n}")

        def complete() -> bool:
            if len(topics(api)) != len(people):
                return False
            return all(len(relayed_lines(api, thread)) == 3 for thread in topics(api))

        await api.wait_until(complete, within=60, what="every desk message")
    assert any(c.status == 429 for c in api.calls if c.params.get("chat_id") in (DESK, str(DESK)))
    for thread in topics(api):
        assert in_topic(api, thread)[0].callback_data[0].startswith("dk:take:")  # card first
        # What waited out the storm went out joined (issue 18 item 2), one line a message.
        relayed = relayed_lines(api, thread)
        sender = relayed[0].split()[1]
        assert relayed == [f"👤 {sender} повідомлення {n}" for n in range(3)]


def relayed_lines(api: BotApiDouble, thread: int) -> list[str]:
    return [
        line
        for m in in_topic(api, thread)
        for line in m.text.splitlines()
        if "повідомлення" in line
    ]


async def test_an_urgent_ticket(api: BotApiDouble, db_url: str) -> None:
    """Danger words: the emergency numbers at once, and an urgent ticket first in line."""
    other = FakeUser(2300, first_name="Ivan", language_code="uk")
    async with running_bot(desk_settings(api, db_url)):
        await ask_for_a_person(api, other)
        api.text(PERSON, "Мене б'є чоловік, допоможіть")
        await api.wait_until(
            lambda: any("112" in m.text for m in api.sent_to(PERSON.id)), what="emergency numbers"
        )
        thread = await wait_for_topic(api, 2)
        assert topics(api)[thread].startswith("🚨 ")
        assert card_of(api, thread).text.startswith("🚨")
        urgent = ticket_of(api, thread)
        assert "112" in api.sent_to(PERSON.id)[0].text  # the numbers before anything else
        # First in line although the other person asked earlier.
        api.group_message(DESK, OLENA, "/queue")
        await api.wait_until(
            lambda: any("🚨" in m.text for m in api.sent_to(DESK) if m.message_thread_id is None),
            what="the queue",
        )
        queue = next(
            m.text for m in api.sent_to(DESK) if "🚨" in m.text and m.message_thread_id is None
        )
        lines = [line for line in queue.splitlines() if "#" in line]
        assert lines[0].startswith(f"• 🚨 #{urgent}") and len(lines) == 2
    [row] = await query(db_url, "SELECT urgent, origin FROM tickets WHERE urgent")
    assert row.origin == "urgent"


async def test_forget_erases_and_tells_the_desk(api: BotApiDouble, db_url: str) -> None:
    async with running_bot(desk_settings(api, db_url)):
        thread = await ask_for_a_person(api)
        ticket = ticket_of(api, thread)
        api.text(PERSON, "мій номер телефону 600 123 456")
        await api.wait_until(lambda: any("600" in m.text for m in in_topic(api, thread)))
        api.command(PERSON, "forget")
        await api.wait_until(
            lambda: any("fg:yes" in m.callback_data for m in api.sent_to(PERSON.id)),
            what="the confirmation",
        )
        confirm = next(m for m in api.sent_to(PERSON.id) if "fg:yes" in m.callback_data)
        api.callback(PERSON, "fg:yes", message_id=confirm.message_id)
        await api.wait_until(lambda: (DESK, thread) in api.deleted_topics, what="topic deleted")
        notice = [m for m in api.sent_to(DESK) if m.message_thread_id is None]
        assert any(names_ticket(m.text, ticket) for m in notice)
    assert (
        await query(db_url, "SELECT id FROM users WHERE external_id = :id", id=str(PERSON.id)) == []
    )
    assert await query(db_url, "SELECT id FROM ticket_messages") == []
    [row] = await query(db_url, "SELECT state, close_reason, user_id, question FROM tickets")
    assert (row.state, row.close_reason, row.user_id, row.question) == (
        "closed",
        "erased",
        None,
        None,
    )


async def test_forget_closes_the_topic_where_deleting_is_not_allowed(
    api: BotApiDouble, db_url: str
) -> None:
    async with running_bot(desk_settings(api, db_url)):
        thread = await ask_for_a_person(api)
        ticket = ticket_of(api, thread)
        api.fail(400, "Bad Request: CHAT_ADMIN_REQUIRED", method="deleteForumTopic", times=None)
        api.callback(PERSON, "fg:yes")
        await api.wait_until(lambda: api.topics[(DESK, thread)].closed, what="topic closed")
        await api.wait_until(lambda: topics(api)[thread] == f"🗑 #{ticket}", what="renamed")
        assert (DESK, thread) not in api.deleted_topics
        await api.wait_until(lambda: "Особа" not in current_card_text(api, thread))
        assert current_card_buttons(api, thread) == []  # the card is a stub without buttons


async def test_a_429_on_closing_the_topic_does_not_double_the_closing_message(
    api: BotApiDouble, db_url: str
) -> None:
    """The closing notice is posted, then closeForumTopic gets a 429: the topic still gets
    closed and the notice is not posted a second time."""
    async with running_bot(desk_settings(api, db_url)):
        thread = await ask_for_a_person(api)
        api.group_message(DESK, OLENA, "Вітаю!", thread_id=thread)  # answering takes it
        await api.wait_until(lambda: "Olena Koval" in current_card_text(api, thread))
        api.fail(429, method="closeForumTopic", retry_after=1, times=1)
        api.group_message(DESK, OLENA, "/close", thread_id=thread)
        await api.wait_until(lambda: api.topics[(DESK, thread)].closed, what="topic closed")
        closing = [m for m in in_topic(api, thread) if "Olena Koval" in m.text and "✅" in m.text]
        assert len(closing) == 1
        assert any(c.status == 429 for c in api.calls_to("closeForumTopic"))
