"""Subscriptions and announcements on real databases (SQLite file and PostgreSQL): whom an
announcement reaches, the worker feeding the outbox's announcement lane in small batches,
each person once in one language, a failed round leaving nobody skipped or doubled, the
outbox's lanes, and an entry's change marked ``notify: true`` announced once."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.announce.changes import entry_digest, sync_entry_versions
from bot.announce.queue import queue, reach
from bot.announce.render import ENTRY_CHANGE
from bot.announce.worker import AnnouncementWorker
from bot.db import Database
from bot.db.announce_models import AnnouncementRecipient, Subscription
from bot.db.announcements import Audience
from bot.db.models import OutboxMessage
from bot.db.outbox import LANE_ANNOUNCEMENT, LANE_CONVERSATION
from bot.engine import IdentityTranslator
from bot.i18n import translator_for
from bot.outbox import OutboxWorker
from faq.announcements import Announcement, Target
from faq.content import KnowledgeBase, load_knowledge_base
from handlers.model import Address, Platform, Reply
from tests.conftest import Clock


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


async def person(
    db: Database,
    clock: Clock,
    external_id: str,
    *,
    platform: str = "telegram",
    lang: str | None = "uk",
    audience: str | None = None,
    follows: tuple[tuple[str, str], ...] = (),
) -> int:
    async with db.transaction() as uow:
        user = await uow.people.touch(platform, external_id, clock())
        user.lang, user.audience = lang, audience
        await uow.people.save(user)
        for kind, target in follows:
            await uow.subscriptions.add(user.id, kind, target, clock())
    return user.id


def announcement(
    entries: tuple[str, ...] = (),
    topics: tuple[str, ...] = (),
    audiences: tuple[str, ...] | None = None,
    *,
    texts: dict[str, str] | None = None,
    name: str = "news",
    entry: str | None = None,
) -> Announcement:
    from pathlib import Path

    return Announcement(
        id=name,
        path=Path(f"{name}.yaml"),
        texts=texts or {"uk": "Новина", "ru": "Новость", "en": "News"},
        fallback="ru",
        publish_at=None,
        audience=None,
        entry=entry,
        topic=None,
        target=Target(entries, topics, True, audiences),
    )


def worker(db: Database, clock: Clock, **kwargs: Any) -> AnnouncementWorker:
    outbox = OutboxWorker(db, clock=clock)
    return AnnouncementWorker(
        db, outbox, translator_for, platforms=lambda: ["telegram", "viber"], clock=clock, **kwargs
    )


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.read() as uow:
        return list((await uow.session.scalars(select(OutboxMessage).order_by("id"))).all())


async def deliver_all(db: Database, clock: Clock) -> None:
    """What the outbox worker does with the rows, without the network: claim, mark sent."""
    while True:
        async with db.transaction() as uow:
            items = await uow.outbox.claim_due(
                ["telegram", "viber"], clock(), clock(), 100, lane=LANE_ANNOUNCEMENT
            )
            await uow.outbox.mark_sent([(item.id, clock(), "1") for item in items])
        if not items:
            return


async def test_subscriptions_are_kept_per_person_and_go_with_forget(
    db: Database, clock: Clock
) -> None:
    olena = await person(db, clock, "1")
    async with db.transaction() as uow:
        assert await uow.subscriptions.add(olena, "entry", "cukr-card", clock())
        assert not await uow.subscriptions.add(olena, "entry", "cukr-card", clock())
        assert await uow.subscriptions.add(olena, "situation", "", clock())
        assert [(s.kind, s.target) for s in await uow.subscriptions.of_user(olena)] == [
            ("entry", "cukr-card"),
            ("situation", ""),
        ]
        assert await uow.subscriptions.remove(olena, "entry", "cukr-card")
        assert not await uow.subscriptions.remove(olena, "entry", "cukr-card")
    async with db.transaction() as uow:
        await uow.people.forget(olena)
    async with db.read() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(Subscription))
    assert count == 0


async def test_reach_counts_subscribers_by_language_and_platform(
    db: Database, clock: Clock
) -> None:
    await person(db, clock, "1", lang="uk", audience="ukr-status", follows=(("situation", ""),))
    await person(db, clock, "2", lang="ru", follows=(("entry", "cukr-card"),))
    await person(db, clock, "v3", platform="viber", lang="pl", follows=(("topic", "stay"),))
    await person(db, clock, "4", lang="en", audience="other-tcn", follows=(("situation", ""),))
    await person(db, clock, "5", lang="uk")  # follows nothing: never reached
    gone = await person(db, clock, "6", lang="uk", follows=(("entry", "cukr-card"),))
    async with db.transaction() as uow:
        await uow.people.set_active([gone], False)

    news = announcement(("cukr-card",), ("stay",), ("ukr-status",))
    reached = await reach(db, news)
    assert reached.total == 3
    assert reached.by_platform == Counter({"telegram": 2, "viber": 1})
    # pl has no text: that person's message is in the fallback (ru), wholly.
    assert reached.by_lang == Counter({"uk": 1, "ru": 2})
    everyone = await reach(db, announcement())  # no entry, topic, audience: the situation list
    assert everyone.total == 2


async def test_each_subscriber_gets_it_once_in_one_language_in_small_batches(
    db: Database, clock: Clock
) -> None:
    langs = ["uk", "ru", "pl", "en", None]
    people = {
        await person(
            db, clock, str(100 + i), lang=langs[i % 5], follows=(("situation", ""),)
        ): langs[i % 5]
        for i in range(23)
    }
    row, created = await queue(db, announcement(entry="cukr-card"), clock())
    assert created
    assert not (await queue(db, announcement(entry="cukr-card"), clock()))[1]  # once only

    feeder = worker(db, clock, batch=4, window=6)
    assert await feeder.run_once() == 6  # the window: the outbox holds few at a time
    assert await feeder.run_once() == 0  # nothing sent yet: it waits
    rows = await outbox_rows(db)
    assert len(rows) == 6 and {r.lane for r in rows} == {LANE_ANNOUNCEMENT}
    for _ in range(10):
        await deliver_all(db, clock)
        await feeder.run_once()
    await feeder.run_once()  # reconcile the last ones, then done

    rows = await outbox_rows(db)
    assert Counter(r.user_id for r in rows) == Counter(dict.fromkeys(people, 1))
    uk, ru, en = translator_for("uk"), translator_for("ru"), translator_for("en")
    for r in rows:
        lang = people[r.user_id]
        expected = {"uk": "uk", "ru": "ru", "en": "en"}.get(lang or "", "ru")  # fallback ru
        assert r.payload["meta"]["lang"] == expected
        text = r.payload["text"]
        assert text.startswith({"uk": "Новина", "ru": "Новость", "en": "News"}[expected])
        footer = {"uk": uk, "ru": ru, "en": en}[expected].gettext(
            "You get this because you asked to be told when the rules change. "
            "To stop: the button below or /unsubscribe."
        )
        assert text.endswith(footer)
        buttons = [b["id"] for row_ in r.payload["buttons"] for b in row_]
        assert buttons == ["e:cukr-card", "us:all"]  # ends with the one-tap unsubscribe
    async with db.read() as uow:
        assert await uow.announcements.progress(row.id) == {"sent": 23}
        assert (await uow.announcements.get(row.id)).status == "done"  # type: ignore[union-attr]


async def test_a_failed_round_leaves_nobody_skipped_or_twice(db: Database, clock: Clock) -> None:
    for i in range(10):
        await person(db, clock, str(200 + i), follows=(("situation", ""),))
    await queue(db, announcement(), clock())
    calls = 0

    def flaky(lang: str) -> Any:
        nonlocal calls
        calls += 1
        if calls == 6:  # in the middle of the second batch
            raise RuntimeError("the process dies here")
        return IdentityTranslator(lang)

    feeder = AnnouncementWorker(
        db, OutboxWorker(db, clock=clock), flaky, platforms=lambda: ["telegram"], clock=clock,
        batch=4, window=100,
    )  # fmt: skip
    with pytest.raises(RuntimeError):
        await feeder.run_once()  # the whole round rolls back: the first batch too
    assert await outbox_rows(db) == []
    async with db.read() as uow:
        moved_on = await uow.session.scalar(
            select(func.count()).where(AnnouncementRecipient.status != "pending")
        )
    assert moved_on == 0  # nobody marked queued without their message in the outbox
    while await feeder.run_once():
        pass
    rows = await outbox_rows(db)
    assert len(rows) == 10 and len({r.user_id for r in rows}) == 10


async def test_unsubscribed_before_their_turn_are_skipped(db: Database, clock: Clock) -> None:
    first = await person(db, clock, "301", follows=(("topic", "stay"),))
    second = await person(db, clock, "302", follows=(("topic", "stay"),))
    await queue(db, announcement(topics=("stay",)), clock())
    feeder = worker(db, clock, batch=1, window=1)
    assert await feeder.run_once() == 1
    async with db.transaction() as uow:
        await uow.subscriptions.remove_all([second])
    await deliver_all(db, clock)
    assert await feeder.run_once() == 0
    assert [r.user_id for r in await outbox_rows(db)] == [first]


async def test_replies_are_claimed_before_announcements(db: Database, clock: Clock) -> None:
    address = Address(Platform.TELEGRAM, "42")
    async with db.transaction() as uow:
        await uow.outbox.enqueue(
            [(Reply(Address(Platform.TELEGRAM, str(i)), "news"), None) for i in range(5)],
            clock(),
            lane=LANE_ANNOUNCEMENT,
        )
        await uow.outbox.enqueue(
            [(Reply(address, "announcement to 42"), None)], clock(), lane=LANE_ANNOUNCEMENT
        )
        await uow.outbox.enqueue([(Reply(address, "the answer"), None)], clock())
    sent: list[str] = []

    class Recorder:
        platform = Platform.TELEGRAM

        def limits_for(self, _address: Address) -> tuple[()]:
            return ()

        async def send(self, reply: Reply) -> Any:
            from bot.ports import Delivered

            sent.append(reply.text)
            return Delivered("1")

    outbox = OutboxWorker(db, [Recorder()], clock=clock, bulk_in_flight=2)
    claimed = await outbox.run_once()
    assert claimed == 3  # the reply, then at most two announcement messages
    await outbox.drain()
    assert sent[0] == "the answer"  # even though its chat had an announcement queued first
    assert sorted(sent) == sorted(["the answer", "announcement to 42", *["news"] * 5])
    async with db.read() as uow:
        assert await uow.outbox.pending_in_lane(LANE_ANNOUNCEMENT) == 0
        assert await uow.outbox.pending_in_lane(LANE_CONVERSATION) == 0


async def test_a_changed_entry_marked_notify_is_announced_once(
    db: Database, clock: Clock, kb: KnowledgeBase
) -> None:
    follower = await person(db, clock, "401", follows=(("entry", "cukr-card"),))
    assert await sync_entry_versions(db, kb, clock()) == []  # first sight: versions only
    entry = kb.entries["cukr-card"]
    changed = entry.model_copy(
        update={"answer": entry.answer.model_copy(update={"uk": entry.answer.uk + " Нове."})}
    )
    quiet = dataclasses.replace(kb, entries={**kb.entries, "cukr-card": changed})
    assert await sync_entry_versions(db, quiet, clock()) == []  # changed, no notify: silent

    again = changed.model_copy(
        update={
            "notify": True,
            "answer": changed.answer.model_copy(update={"ru": entry.answer.ru + " Новое."}),
        }
    )
    assert entry_digest(again) != entry_digest(changed)
    loud = dataclasses.replace(kb, entries={**kb.entries, "cukr-card": again})
    [announced] = await sync_entry_versions(db, loud, clock())
    assert await sync_entry_versions(db, loud, clock()) == []  # once per version
    async with db.read() as uow:
        row = await uow.announcements.get(announced)
    assert row is not None and row.kind == ENTRY_CHANGE
    assert row.who == Audience(entries=("cukr-card",))

    feeder = worker(db, clock)
    assert await feeder.run_once() == 1
    [message] = await outbox_rows(db)
    assert message.user_id == follower
    title = entry.title.uk
    assert message.payload["text"].startswith(f"🔔 Відповідь «{title}» змінилася.")
    assert [b["id"] for r in message.payload["buttons"] for b in r] == ["e:cukr-card", "us:all"]
