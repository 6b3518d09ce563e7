"""The knowledge base: its schema, and loading it from ``content/``.

Editors change YAML, never Python. This module turns those files into typed, validated,
immutable objects; :mod:`faq.check` adds the editorial checks on top (``otwarta content check``).

Layout of a content directory::

    content/
      topics.yaml              the main menu: topics, their titles, their entries in order
      contacts.yaml            regional contact points
      entries/<topic>/<id>.yaml  one FAQ entry a file
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from faq.languages import LANGS

Topic = Literal["stay", "work", "health", "education", "social", "life", "contacts"]
TOPICS: tuple[str, ...] = ("stay", "work", "health", "education", "social", "life", "contacts")
Audience = Literal["ukr-status", "residence-card", "other-tcn", "all"]
AUDIENCES: tuple[str, ...] = ("ukr-status", "residence-card", "other-tcn", "all")

EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=40)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"

_URL = re.compile(r"^https?://\S+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PerLang(_Strict):
    """One text in each of the four languages."""

    uk: NonEmpty
    ru: NonEmpty
    pl: NonEmpty
    en: NonEmpty

    def get(self, lang: str) -> str:
        return str(getattr(self, lang if lang in LANGS else "en"))


class Questions(_Strict):
    """Ways people ask, per language (minimum counts are editorial: see ``faq.check``)."""

    uk: list[NonEmpty]
    ru: list[NonEmpty]
    pl: list[NonEmpty]
    en: list[NonEmpty]

    def items(self) -> Iterator[tuple[str, list[str]]]:
        for lang in LANGS:
            yield lang, list(getattr(self, lang))


SECTION_KEYS: tuple[str, ...] = ("children", "cost", "where", "documents", "family")


class Sections(_Strict):
    """Optional short parts of an answer that a follow-up leads with ("а для дітей?" ->
    ``children``). Each repeats, in a sentence or two, what the full answer says on it."""

    children: PerLang | None = None
    cost: PerLang | None = None
    where: PerLang | None = None
    documents: PerLang | None = None
    family: PerLang | None = None

    def get(self, key: str) -> PerLang | None:
        return getattr(self, key, None) if key in SECTION_KEYS else None


class Entry(_Strict):
    """One FAQ entry; field meanings are fixed by ``shared/CONTENT.md``."""

    id: EntryId
    topic: Topic
    audience: list[Audience] = Field(min_length=1)
    title: PerLang
    """Short label (button text, menu item): at most 40 characters in each language."""
    questions: Questions
    aliases: list[NonEmpty] = Field(default_factory=list)
    answer: PerLang
    """Light markup: **bold**, [text](https://link), lines starting with "- " or "1. "."""
    sources: list[NonEmpty] = Field(min_length=1)
    valid_as_of: dt.date
    last_verified: dt.date
    review_by: dt.date | None = None
    """When the entry must be looked at again: the earliest date on which something it states
    stops being true (a deadline, a yearly amount), at most a year after ``last_verified``.
    Required by ``otwarta content check``; past it, the bot says the answer may be out of date."""
    escalate: bool = False
    related: list[EntryId] = Field(default_factory=list)
    sections: Sections | None = None
    """Short answer sections by aspect (``faq.followup``); the full answer stays the truth."""
    notify: bool = False
    """The editor's marker on a change that matters: when this entry's answer differs from the
    version the bot last saw, its subscribers get "this answer changed" (once per version;
    :mod:`bot.announce.changes`). Leave it ``false`` for typo fixes."""

    def is_stale(self, today: dt.date) -> bool:
        """``True`` once ``review_by`` has passed: the answer may no longer be true."""
        return self.review_by is not None and today > self.review_by

    @field_validator("audience", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class MenuTopic(_Strict):
    id: Topic
    emoji: str = ""
    title: PerLang
    entries: list[EntryId] = Field(min_length=1)


class Menu(_Strict):
    topics: list[MenuTopic] = Field(min_length=1)


class ContactPoint(_Strict):
    id: EntryId
    name: PerLang
    address: str | None = None
    phone: str | None = None
    url: str | None = None
    hours: PerLang | None = None
    note: PerLang | None = None


class Contacts(_Strict):
    contacts: list[ContactPoint] = Field(default_factory=list)


@dataclass(frozen=True)
class ContentProblem:
    """A problem found in the content; ``where`` is a file (and field) an editor can open."""

    where: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"


class ContentError(Exception):
    """The knowledge base cannot be loaded; ``problems`` says every reason found."""

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything under ``content/``: entries by id (in menu order where possible)."""

    directory: Path
    entries: Mapping[str, Entry]
    menu: Menu
    contacts: Contacts
    files: Mapping[str, Path] = field(default_factory=dict)
    """Entry id -> the file it came from (for editors' messages)."""

    def entry(self, entry_id: str) -> Entry:
        return self.entries[entry_id]

    def topic(self, topic_id: str) -> MenuTopic | None:
        return next((t for t in self.menu.topics if t.id == topic_id), None)


def _format_validation(where: str, exc: ValidationError) -> list[ContentProblem]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        out.append(ContentProblem(f"{where}: {loc}" if loc else where, err["msg"]))
    return out


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it: the same documents, about ten times faster to read
(start-up reads every entry file)."""


def _read_yaml(path: Path, problems: list[ContentProblem]) -> object | None:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_SAFE_LOADER)  # a safe loader: plain data only
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(ContentProblem(str(path), f"cannot read: {exc}"))
        return None


def read_knowledge_base(
    directory: Path | str | None = None,
) -> tuple[KnowledgeBase | None, list[ContentProblem]]:
    """Read and validate the schema of every file; never raises for bad content.

    Returns the knowledge base (``None`` when it is unusable) and every problem found, so
    ``otwarta content check`` can list them all at once.
    """
    root = Path(directory) if directory is not None else DEFAULT_CONTENT_DIR
    problems: list[ContentProblem] = []
    if not root.is_dir():
        return None, [ContentProblem(str(root), "content directory does not exist")]

    entries: dict[str, Entry] = {}
    files: dict[str, Path] = {}
    entry_files = sorted((root / "entries").rglob("*.yaml"))
    if not entry_files:
        problems.append(ContentProblem(str(root / "entries"), "no entry files (*.yaml)"))
    for path in entry_files:
        raw = _read_yaml(path, problems)
        if raw is None:
            continue
        try:
            entry = Entry.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_format_validation(str(path), exc))
            continue
        if entry.id in entries:
            problems.append(
                ContentProblem(str(path), f"duplicate id {entry.id!r} (also in {files[entry.id]})")
            )
            continue
        if path.stem != entry.id:
            problems.append(ContentProblem(str(path), f"file name should be {entry.id}.yaml"))
        entries[entry.id] = entry
        files[entry.id] = path

    menu: Menu | None = None
    raw_menu = _read_yaml(root / "topics.yaml", problems)
    if raw_menu is not None:
        try:
            menu = Menu.model_validate(raw_menu)
        except ValidationError as exc:
            problems.extend(_format_validation(str(root / "topics.yaml"), exc))

    contacts = Contacts()
    contacts_path = root / "contacts.yaml"
    if contacts_path.exists():
        raw_contacts = _read_yaml(contacts_path, problems)
        if raw_contacts is not None:
            try:
                contacts = Contacts.model_validate(raw_contacts)
            except ValidationError as exc:
                problems.extend(_format_validation(str(contacts_path), exc))

    if not entries or menu is None:
        return None, problems

    # Menu order first, then anything the menu does not list.
    ordered: dict[str, Entry] = {}
    for topic in menu.topics:
        for entry_id in topic.entries:
            if entry_id in entries and entry_id not in ordered:
                ordered[entry_id] = entries[entry_id]
    for entry_id, entry in entries.items():
        ordered.setdefault(entry_id, entry)
    return KnowledgeBase(root, ordered, menu, contacts, files), problems


def load_knowledge_base(directory: Path | str | None = None) -> KnowledgeBase:
    """Load the knowledge base, raising :class:`ContentError` if any file is invalid."""
    kb, problems = read_knowledge_base(directory)
    errors = [p for p in problems if p.severity == "error"]
    if kb is None or errors:
        raise ContentError(errors or problems)
    return kb


def is_url(text: str) -> bool:
    return bool(_URL.match(text))
