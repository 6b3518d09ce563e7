"""Subscriptions and announcements end to end: ``serve`` with the real PTB against the Bot API
double (and Viber against its double), the real handlers, catalogs and knowledge base, the
announcement worker and the outbox, on SQLite and PostgreSQL.

Subscribe (the button under an answer, /subscribe's choices) → an announcement is queued
(what ``otwarta announce FILE`` does) → each subscriber receives it once, in their language
(Polish without a Polish text: wholly in the fallback), with a one-tap unsubscribe → tapping
it stops the next one. Also: a 429 storm mid-announcement (everyone still gets it once),
someone who blocked the bot (unsubscribed, marked inactive), and replies overtaking an
announcement in progress.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.announce.queue import load, queue
from bot.db import Database
from bot.db.announce_models import Subscription
from bot.db.models import User
from bot.i18n import translator_for
from faq.content import load_knowledge_base
from tests.doubles.telegram_double import BotApiDouble, FakeUser
from tests.doubles.telegram_harness import bot_settings, running_bot
from tests.doubles.viber_double import ViberApiDouble, ViberUser
from tests.doubles.viber_harness import running_viber_bot, viber_settings

FOOTER = (
    "You get this because you asked to be told when the rules change. "
    "To stop: the button below or /unsubscribe."
)
NEWS = {
    "uk": "📣 **Важливо**: заяви на CUKR приймають до 4 березня 2027.",
    "ru": "📣 **Важно**: заявления на CUKR принимают до 4 марта 2027.",
    "en": "📣 **Important**: CUKR applications are accepted until 4 March 2027.",
}


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    async with BotApiDouble(require_known_chat=False) as double:
        yield double


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(db_url)
    yield database
    await database.dispose()


def write_announcement(tmp_path: Path, name: str, texts: dict[str, str], **fields: Any) -> Path:
    import yaml

    path = tmp_path / "announcements" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump({**fields, "text": texts}, allow_unicode=True), "utf-8")
    return path


async def announce(db: Database, path: Path) -> int:
    announcement, problems = load(path, load_knowledge_base())
    assert announcement is not None, problems
    row, created = await queue(db, announcement, dt.datetime.now(dt.UTC))
    assert created
    return row.id


class Person:
    """One Telegram user's side of the conversation."""

    def __init__(self, api: BotApiDouble, user: FakeUser) -> None:
        self.api = api
        self.user = user

    @property
    def received(self) -> list[Any]:
        return self.api.sent_to(self.user.id)

    async def _step(self, act: Any, replies: int = 1) -> Any:
        before = len(self.received)
        act()
        await self.api.wait_for_sent(self.user.id, before + replies)
        return self.received[before + replies - 1]

    async def command(self, name: str) -> Any:
        return await self._step(lambda: self.api.command(self.user, name))

    async def tap(self, data: str) -> Any:
        last = [m for m in self.received if m.reply_markup][-1]
        assert data in last.callback_data, (data, last.callback_data)
        return await self._step(lambda: self.api.callback(self.user, data))

    async def onboard(self, lang: str, audience: str = "skip") -> None:
        """The first contact: a language (the welcome, then the optional question), then the
        situation or "skip" (the menu)."""
        await self._step(lambda: self.api.callback(self.user, f"lang:{lang}"), replies=2)
        await self.tap(f"aud:{audience}")

    def announcements(self, marker: str) -> list[Any]:
        return [m for m in self.received if marker in m.text]


async def test_subscribe_announce_once_in_their_language_and_unsubscribe_from_it(
    api: BotApiDouble, db_url: str, db: Database, tmp_path: Path
) -> None:
    olena = Person(api, FakeUser(5001, language_code="uk"))
    ivan = Person(api, FakeUser(5002, language_code="ru"))
    marek = Person(api, FakeUser(5003, language_code="pl"))
    john = Person(api, FakeUser(5004, language_code="en"))  # never subscribes
    async with running_bot(bot_settings(api, db_url)):
        await olena.onboard("uk", "ukr-status")
        await ivan.onboard("ru")
        await marek.onboard("pl")
        await john.onboard("en")

        # Olena: /subscribe → "important changes for my situation".
        options = await olena.command("subscribe")
        assert "sb:me" in options.callback_data and "sb:t:stay" in options.callback_data
        done = await olena.tap("sb:me")
        assert done.text.startswith("✅")
        # Ivan: the button under an answer on a deadline topic (escalate).
        await ivan.command("menu")
        await ivan.tap("t:stay")
        answer = await ivan._step(lambda: ivan.api.callback(ivan.user, "e:cukr-card"))
        assert "sb:e:cukr-card" in answer.callback_data
        await ivan.tap("sb:e:cukr-card")
        # Marek: a topic, from the main menu's Updates button.
        await marek.command("menu")
        await marek.tap("sb")
        await marek.tap("sb:t:stay")

        first = await announce(
            db, write_announcement(tmp_path, "cukr", NEWS, entry="cukr-card", fallback="ru")
        )
        people = (olena, ivan, marek)
        await api.wait_until(
            lambda: all(p.announcements("📣") for p in people), within=30, what="the news"
        )
        await asyncio.sleep(0.5)  # a duplicate would come right after: give it a chance
        for p, lang, marker in (
            (olena, "uk", "Важливо"),
            (ivan, "ru", "Важно"),
            (marek, "ru", "Важно"),
        ):
            [message] = p.announcements("📣")
            assert marker in message.text and "<b>" in message.raw
            t = translator_for(lang)
            assert t.gettext(FOOTER) in message.text  # the whole message in one language
            assert message.callback_data == ["e:cukr-card", "us:all"]
            labels = [b["text"] for row in message.buttons for b in row]
            assert labels == [t.gettext("📖 Open the answer"), t.gettext("🔕 Unsubscribe")]
        assert not john.announcements("📣")

        # One tap under the announcement: no more updates for Olena.
        stopped = await olena.tap("us:all")
        assert stopped.text == translator_for("uk").gettext(
            "Done: I won't send you any more updates. /subscribe starts them again."
        )
        second = await announce(
            db,
            write_announcement(
                tmp_path,
                "second",
                {**NEWS, "uk": "Друга новина 800+", "ru": "Вторая новость 800+"},
                entry="cukr-card",
            ),
        )
        await api.wait_until(
            lambda: bool(ivan.announcements("800+")) and bool(marek.announcements("800+")),
            within=30,
            what="the second announcement",
        )
        for announcement_id, reached in ((first, 3), (second, 2)):
            await _wait_done(db, announcement_id)
            async with db.read() as uow:
                assert await uow.announcements.progress(announcement_id) == {"sent": reached}
    assert not olena.announcements("800+")


async def _wait_done(db: Database, announcement_id: int) -> None:
    for _ in range(200):
        async with db.read() as uow:
            row = await uow.announcements.get(announcement_id)
        if row is not None and row.status == "done":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"announcement {announcement_id} never finished")


async def subscribers(db: Database, count: int, first_id: int, lang: str = "uk") -> list[int]:
    """People who subscribed earlier (set up directly: the conversation is tested above)."""
    now = dt.datetime.now(dt.UTC)
    async with db.transaction() as uow:
        for i in range(count):
            user = await uow.people.touch("telegram", str(first_id + i), now)
            user.lang = lang
            await uow.people.save(user)
            await uow.subscriptions.add(user.id, "situation", "", now)
    return [first_id + i for i in range(count)]


async def test_a_429_storm_and_a_blocked_person_mid_announcement(
    api: BotApiDouble, db_url: str, db: Database, tmp_path: Path
) -> None:
    chats = await subscribers(db, 30, 6000)
    blocked = chats[7]
    api.block(blocked)
    api.fail(429, retry_after=1, method="sendMessage", times=25, skip=5)
    async with running_bot(bot_settings(api, db_url)):
        announcement_id = await announce(db, write_announcement(tmp_path, "storm", NEWS))
        await api.wait_until(
            lambda: all(api.sent_to(c) for c in chats if c != blocked), within=60, what="all"
        )
        for _ in range(400):
            async with db.read() as uow:
                progress = await uow.announcements.progress(announcement_id)
            if progress == {"sent": 29, "failed": 1}:
                break
            await asyncio.sleep(0.05)
    assert progress == {"sent": 29, "failed": 1}
    rejected = [c for c in api.calls_to("sendMessage") if c.status == 429]
    assert len(rejected) == 25  # the storm happened, and every message still went once
    for chat in chats:
        assert len(api.sent_to(chat)) == (0 if chat == blocked else 1)
    async with db.read() as uow:
        gone = await uow.session.scalar(select(User.active).where(User.external_id == str(blocked)))
        left = await uow.session.scalar(
            select(func.count())
            .select_from(Subscription)
            .join(User, User.id == Subscription.user_id)
            .where(User.external_id == str(blocked))
        )
    assert gone is False and left == 0  # blocked: inactive and unsubscribed


async def test_replies_overtake_an_announcement_in_progress(
    api: BotApiDouble, db_url: str, db: Database, tmp_path: Path
) -> None:
    chats = await subscribers(db, 150, 7000)  # 5 s at Telegram's 30/s
    asker = Person(api, FakeUser(7999, language_code="uk"))
    async with running_bot(bot_settings(api, db_url)) as bot:
        await asker.onboard("uk")
        await announce(db, write_announcement(tmp_path, "big", NEWS))
        announced = lambda: sum(1 for m in api.sent if "📣" in m.text)  # noqa: E731
        await api.wait_until(lambda: announced() >= 20, within=60, what="under way")
        async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/metrics") as response:
            metrics = await response.text()
        pending = [
            float(line.split()[-1])
            for line in metrics.splitlines()
            if line.startswith('otwarta_announcement_recipients{status="pending"}')
        ]
        assert pending and pending[0] > 0  # the progress is in the metrics
        assert 'otwarta_announcement_recipients{status="delivered"}' in metrics
        answer = await asker._step(lambda: api.text(asker.user, "як отримати песель"))
        at_answer = announced()
        assert "PESEL" in answer.text
        assert at_answer < len(chats) - 30, "the answer waited for the announcement"
        await api.wait_until(lambda: announced() >= len(chats), within=90, what="the rest")
    assert sorted(int(m.chat_id) for m in api.sent if "📣" in m.text) == chats


async def test_viber_subscribe_announce_unsubscribe(
    db_url: str, db: Database, tmp_path: Path
) -> None:
    oksana = ViberUser("oksana+AAAAAAAAAAAAAAAA==", name="Оксана", language="uk", country="UA")
    async with (
        ViberApiDouble() as viber_api,
        running_viber_bot(viber_api, viber_settings(viber_api, db_url)) as bot,
    ):
        await bot.viber.conversation_started(oksana)
        count = len(viber_api.sent_to(oksana.id))
        await bot.viber.text(oksana, "~lang:uk")  # a language button's ActionBody
        await viber_api.wait_for_sent(oksana.id, count + 2)  # welcome, the question
        count = len(viber_api.sent_to(oksana.id))
        await bot.viber.tap(oksana, "Маю статус UKR")
        await viber_api.wait_for_sent(oksana.id, count + 1)
        count = len(viber_api.sent_to(oksana.id))
        await bot.viber.text(oksana, "~/subscribe")
        await viber_api.wait_for_sent(oksana.id, count + 1)
        count = len(viber_api.sent_to(oksana.id))
        await bot.viber.tap(oksana, "⭐")  # "Important changes for my situation"
        await viber_api.wait_for_sent(oksana.id, count + 1)
        await announce(db, write_announcement(tmp_path, "viber", NEWS))
        await viber_api.wait_until(
            lambda: any("📣" in t for t in viber_api.texts_to(oksana.id)), timeout=30
        )
        [news] = [t for t in viber_api.texts_to(oksana.id) if "📣" in t]
        assert "Важливо" in news and translator_for("uk").gettext(FOOTER) in news
        count = len(viber_api.sent_to(oksana.id))
        await bot.viber.tap(oksana, "🔕")  # the one-tap unsubscribe
        await viber_api.wait_for_sent(oksana.id, count + 1)
        assert not viber_api.invalid
    async with db.read() as uow:
        left = await uow.session.scalar(select(func.count()).select_from(Subscription))
    assert left == 0


@pytest.mark.parametrize(
    ("typed", "command"),
    [("Підписатися", "subscribe"), ("подписка!", "subscribe"), ("/subscribe", "subscribe"),
     ("Wypisz się", "unsubscribe"), ("стоп", "unsubscribe"), ("/unsubscribe", "unsubscribe"),
     ("підписатися на новини про песель", None)],
)  # fmt: skip
def test_viber_plain_words_for_subscribe_and_unsubscribe(typed: str, command: str | None) -> None:
    from bot.messengers.viber.protocol import typed_command

    assert typed_command(typed) == command
