"""``otwarta announce FILE``: validate a file, say whom it reaches, queue it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.announce.render import FILE
from bot.db import Database
from bot.db.announcements import AnnouncementRow, Audience
from faq.announcements import Announcement, Target
from faq.check import read_checked_announcement
from faq.content import ContentProblem, KnowledgeBase

#: The messengers announcements go through (the console has no one to reach later).
PLATFORMS = ("telegram", "viber")


@dataclass(frozen=True, slots=True)
class Reach:
    """How many people an announcement reaches, by the language of their message and by
    platform."""

    by_lang: Counter[str]
    by_platform: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.by_platform.values())


def audience_of(target: Target) -> Audience:
    return Audience(target.entries, target.topics, target.situation, target.audiences)


def load(path: Path, kb: KnowledgeBase) -> tuple[Announcement | None, list[ContentProblem]]:
    return read_checked_announcement(path, kb)


async def reach(db: Database, announcement: Announcement) -> Reach:
    async with db.read() as uow:
        counts = await uow.announcements.reach(audience_of(announcement.target), PLATFORMS)
    by_lang: Counter[str] = Counter()
    by_platform: Counter[str] = Counter()
    for (platform, lang), count in counts.items():
        by_lang[announcement.lang_for(None if lang == "?" else lang)] += count
        by_platform[platform] += count
    return Reach(by_lang, by_platform)


async def queue(
    db: Database, announcement: Announcement, now: dt.datetime
) -> tuple[AnnouncementRow, bool]:
    """Queue the announcement (publishing at its time, or now); ``False`` when a file with
    this id was queued before (it is not queued twice)."""
    async with db.transaction() as uow:
        created = await uow.announcements.create(
            key=f"file:{announcement.id}",
            kind=FILE,
            content={
                "kind": FILE,
                "texts": announcement.texts,
                "fallback": announcement.fallback,
                "entry": announcement.entry,
            },
            who=audience_of(announcement.target),
            publish_at=announcement.publish_at or now,
            now=now,
            audience=announcement.audience,
            entry_id=announcement.entry,
            topic=announcement.topic,
        )
        row = await uow.announcements.by_key(f"file:{announcement.id}")
    assert row is not None
    return row, created is not None
