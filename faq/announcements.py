"""Announcements: ``content/announcements/<id>.yaml``, reviewed like the rest of the content.

Pure: reading and validating the files, and saying whom an announcement is for in terms of
subscriptions. Queueing and sending are the bot's (:mod:`bot.announce`). The format::

    # content/announcements/2026-12-cukr-deadline.yaml  (the file name is its id)
    publish_at: 2026-12-07T09:00:00+01:00   # optional: as soon as it is queued; no zone = Warsaw
    audience: ukr-status      # optional: only people in this situation
    entry: cukr-card          # optional: the answer it is about (a button opens it)
    topic: stay               # optional: the menu topic it is about
    fallback: uk              # uk or ru: the language for people whose language has no text
    text:
      uk: …                   # required
      ru: …                   # required
      pl: …                   # expected (a warning without it: Polish speakers get `fallback`)
      en: …                   # expected

Who gets it (always only people who subscribed, and are active):
- those subscribed to ``entry``, to ``topic`` (or the entry's topic);
- those subscribed to "important changes for my situation" whose situation is ``audience``
  (or, without one, one of the entry's audiences; with neither: whatever their situation).

Each person gets the whole message in one language: theirs when the file has it, otherwise
the ``fallback`` — text, buttons and the unsubscribe line alike, never mixed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from faq.content import (
    LANGS,
    Audience,
    ContentProblem,
    EntryId,
    KnowledgeBase,
    NonEmpty,
    Topic,
)

ANNOUNCEMENTS_DIR = "announcements"
MAX_TEXT_CHARS = 3_500
"""Leaves room in Telegram's 4,096 for the unsubscribe line and the buttons."""
REQUIRED_LANGS = ("uk", "ru")
WARSAW = ZoneInfo("Europe/Warsaw")


class Texts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    uk: NonEmpty
    ru: NonEmpty
    pl: NonEmpty | None = None
    en: NonEmpty | None = None

    def as_dict(self) -> dict[str, str]:
        return {lang: text for lang in LANGS if (text := getattr(self, lang)) is not None}


class AnnouncementFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    publish_at: dt.datetime | dt.date | None = None
    audience: Audience | None = None
    entry: EntryId | None = None
    topic: Topic | None = None
    fallback: Literal["uk", "ru"] = "uk"
    text: Texts = Field()


@dataclass(frozen=True, slots=True)
class Target:
    """Whom an announcement is for, in terms of subscriptions (see the module docstring)."""

    entries: tuple[str, ...]
    topics: tuple[str, ...]
    situation: bool
    audiences: tuple[str, ...] | None  # None: whatever their situation


@dataclass(frozen=True, slots=True)
class Announcement:
    id: str
    path: Path
    texts: dict[str, str]
    fallback: str
    publish_at: dt.datetime | None
    audience: str | None
    entry: str | None
    topic: str | None
    target: Target

    def lang_for(self, lang: str | None) -> str:
        """The one language a person with ``lang`` gets the whole message in."""
        return lang if lang is not None and lang in self.texts else self.fallback


def target_of(
    kb: KnowledgeBase, entry_id: str | None, topic: str | None, audience: str | None
) -> Target:
    entry = kb.entries.get(entry_id) if entry_id else None
    topics = {topic} if topic else set()
    if entry is not None:
        topics.add(entry.topic)
    audiences: tuple[str, ...] | None = None
    if audience is not None and audience != "all":
        audiences = (audience,)
    elif entry is not None and "all" not in entry.audience:
        audiences = tuple(entry.audience)
    return Target(
        entries=(entry_id,) if entry_id else (),
        topics=tuple(sorted(topics)),
        situation=True,
        audiences=audiences,
    )


MarkupCheck = Callable[[str, str], list[ContentProblem]]


def read_announcement(
    path: Path, kb: KnowledgeBase | None, *, check_markup: MarkupCheck | None = None
) -> tuple[Announcement | None, list[ContentProblem]]:
    """Read and check one file; never raises for bad content. ``check_markup(where, text)``
    checks the light markup (``faq.check`` passes the answers' own check)."""
    where = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [ContentProblem(where, f"cannot read: {exc}")]
    try:
        parsed = AnnouncementFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(part) for part in err["loc"])
            problems.append(ContentProblem(f"{where}: {loc}" if loc else where, err["msg"]))
        return None, problems
    problems = []
    texts = parsed.text.as_dict()
    for lang in LANGS:
        if lang not in texts:
            problems.append(
                ContentProblem(
                    f"{where}: text.{lang}",
                    f"no {lang} text: people who use {lang} get the {parsed.fallback} one",
                    "warning",
                )
            )
    for lang, text in texts.items():
        if len(text) > MAX_TEXT_CHARS:
            problems.append(
                ContentProblem(
                    f"{where}: text.{lang}",
                    f"{len(text)} characters; at most {MAX_TEXT_CHARS} fit one message",
                )
            )
        if check_markup is not None:
            problems.extend(check_markup(f"{where}: text.{lang}", text))
    if kb is not None:
        if parsed.entry is not None and parsed.entry not in kb.entries:
            problems.append(ContentProblem(f"{where}: entry", f"unknown entry {parsed.entry!r}"))
        if parsed.topic is not None and kb.topic(parsed.topic) is None:
            problems.append(ContentProblem(f"{where}: topic", f"no menu topic {parsed.topic!r}"))
    publish_at = _publish_time(parsed.publish_at)
    if any(p.severity == "error" for p in problems):
        return None, problems
    target = (
        target_of(kb, parsed.entry, parsed.topic, parsed.audience)
        if kb is not None
        else Target(
            (parsed.entry,) if parsed.entry else (),
            (parsed.topic,) if parsed.topic else (),
            True,
            None if parsed.audience in (None, "all") else (str(parsed.audience),),
        )
    )
    return (
        Announcement(
            id=path.stem,
            path=path,
            texts=texts,
            fallback=parsed.fallback,
            publish_at=publish_at,
            audience=parsed.audience,
            entry=parsed.entry,
            topic=parsed.topic,
            target=target,
        ),
        problems,
    )


def _publish_time(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(9, 0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=WARSAW)
    return value.astimezone(dt.UTC)


def check_announcements(
    root: Path, kb: KnowledgeBase | None, check_markup: MarkupCheck | None = None
) -> list[ContentProblem]:
    """Every file in ``<content>/announcements/`` (what ``otwarta content check`` adds)."""
    folder = root / ANNOUNCEMENTS_DIR
    if not folder.is_dir():
        return []
    problems: list[ContentProblem] = []
    for path in sorted(folder.glob("*.y*ml")):
        if path.suffix not in (".yaml", ".yml"):
            continue
        _announcement, found = read_announcement(path, kb, check_markup=check_markup)
        problems.extend(found)
    return problems
