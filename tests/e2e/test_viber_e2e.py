"""The whole conversation on Viber, end to end: ``serve`` with the real engine, handlers,
knowledge base and catalogs on SQLite; Viber played by the REST API double.

Opening the chat → the welcome (in the HTTP answer) → a language → greeting and the optional
question → the menu → a question in the person's own words → the answer with 👍/👎 and the
bottom keyboard → 👍 stored → another language by a typed word → "forget me" → gone.
Every request the bot made is checked against what Viber accepts (``api.invalid``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.db.models import QueryLog, User
from bot.messengers.viber.protocol import REQUEST_LIMIT, parse_action_body
from tests.doubles.viber_double import SentMessage, ViberApiDouble, ViberUser
from tests.doubles.viber_harness import RunningViberBot, running_viber_bot, viber_settings

OLENA = ViberUser("o1ena+AAAAAAAAAAAAAAAA==", name="Олена", language="uk", country="UA")


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
    async with running_viber_bot(api, viber_settings(api, sqlite_url)) as running:
        yield running


def bodies(message: SentMessage | dict[str, Any]) -> list[tuple[str, str] | None]:
    buttons = (
        message.buttons if isinstance(message, SentMessage) else message["keyboard"]["Buttons"]
    )
    return [parse_action_body(b["ActionBody"]) for b in buttons if b["ActionType"] == "reply"]


class Conversation:
    """Olena's side: what she sends, and what arrived since her last step."""

    def __init__(self, bot: RunningViberBot, user: ViberUser) -> None:
        self.bot = bot
        self.api = bot.api
        self.user = user
        self.seen = 0

    async def step(self, send: Any, expect: int) -> list[SentMessage]:
        result = await send
        assert result.status == 200
        await self.api.wait_for_sent(self.user.id, self.seen + expect, timeout=20)
        new = self.api.sent_to(self.user.id)[self.seen :]
        self.seen += len(new)
        assert len(new) == expect, [m.text for m in new]
        return new

    async def say(self, text: str, expect: int = 1) -> list[SentMessage]:
        return await self.step(self.bot.viber.text(self.user, text), expect)

    async def tap(self, button_id: str, expect: int = 1) -> list[SentMessage]:
        """Tap the button with that id on the keyboard Olena sees now."""
        visible = [parse_action_body(b["ActionBody"]) for b in self.api.keyboard_of(self.user.id)]
        assert ("button", button_id) in visible or ("command", button_id) in visible, visible
        body = f"~{button_id}" if ("button", button_id) in visible else f"~/{button_id}"
        return await self.step(
            self.bot.viber.message(self.user, {"type": "text", "text": body}), expect
        )


async def test_the_whole_conversation(
    bot: RunningViberBot, api: ViberApiDouble, db: Database
) -> None:
    olena = Conversation(bot, OLENA)

    # She opens the chat: the welcome comes back in the HTTP answer, nothing is sent.
    welcome = (await bot.viber.conversation_started(OLENA)).json()
    assert welcome["text"].startswith("👋 Вітаємо! Оберіть мову:")  # her phone speaks Ukrainian
    assert ("button", "lang:uk") in bodies(welcome)
    assert api.calls_to("send_message") == []

    # She taps "Українська" in the welcome: greeting + privacy notice, then the optional question.
    greeting, audience = await olena.step(
        bot.viber.message(OLENA, {"type": "text", "text": "~lang:uk"}), 2
    )
    assert "Małopolska Otwarta" in greeting.text and "🔒" in greeting.text
    assert ("button", "priv") in bodies(greeting)
    assert ("button", "aud:skip") in bodies(audience)
    nav = [
        b["Text"] for b in audience.buttons if parse_action_body(b["ActionBody"])[0] == "command"
    ]
    assert nav == ["🏠 Меню", "💬 Консультант", "🌐 Мова", "🗑 Забути мене"]

    # She skips it and gets the menu; then asks in her own words.
    (menu,) = await olena.tap("aud:skip")
    assert any(b and b[1].startswith("t:") for b in bodies(menu))
    (answer,) = await olena.say("як отримати песель?")
    assert "PESEL" in answer.text
    assert "**" not in answer.text  # markup rendered as plain text
    feedback = [b for b in bodies(answer) if b and b[1].startswith("fb:")]
    assert len(feedback) == 2
    helpful = next(b[1] for b in feedback if b[1].endswith(":1"))

    # 👍 is stored against her logged question.
    (thanks,) = await olena.tap(helpful)
    assert "🙂" in thanks.text
    async with db.sessions() as session:
        logged = (await session.scalars(select(QueryLog))).all()
    assert [(q.decision, q.feedback) for q in logged] == [("answer", True)]

    # No slash commands on Viber: the bottom keyboard switches the language ...
    (choice,) = await olena.tap("language")
    assert ("button", "lang:pl") in bodies(choice)
    (done,) = await olena.tap("lang:pl")
    assert "🌐 Język" in done.labels and "🗑 Zapomnij mnie" in done.labels

    # ... and typed words do the rest: "forget me", confirmed, and everything is gone.
    # (Eight events in a few seconds: one more would meet the engine's flood control.)
    (confirm,) = await olena.say("Забудь мене")
    assert ("button", "fg:yes") in bodies(confirm)
    (gone,) = await olena.tap("fg:yes")
    assert gone.text.startswith("Gotowe")  # said in the language she last used
    async with db.sessions() as session:
        assert (await session.scalars(select(User))).all() == []
        assert (await session.scalars(select(QueryLog))).all() == []

    assert api.invalid == []  # every request was one Viber accepts
    assert all(m.size <= REQUEST_LIMIT for m in api.sent)
    assert all(m.payload["sender"]["name"] == "Małopolska Otwarta" for m in api.sent)


async def test_subscribing_from_the_chat_info_starts_the_conversation(
    bot: RunningViberBot, api: ViberApiDouble
) -> None:
    """``subscribed`` (the Subscribe button, not a message) greets like /start does."""
    person = ViberUser("sub+AAAAAAAAAAAAAAAAAA==", language="ru")
    result = await bot.viber.subscribed(person)
    assert result.status == 200
    sent = await api.wait_for_sent(person.id, 2)
    assert "Małopolska Otwarta" in sent[0].text
    assert "🌐 Язык" in sent[-1].labels


async def test_media_gets_the_short_explanation_in_the_persons_language(
    bot: RunningViberBot, api: ViberApiDouble
) -> None:
    person = ViberUser("pic+AAAAAAAAAAAAAAAAAA==", language="pl")
    await bot.viber.picture(person, "moja karta")
    (reply,) = await api.wait_for_sent(person.id)
    assert reply.text and "🌐 Język" in reply.labels
    await bot.viber.message(person, {"type": "sticker", "sticker_id": 46105})
    await api.wait_for_sent(person.id, 2)
    assert api.invalid == []
