"""Editorial checks on the knowledge base: ``otwarta content check``.

The schema (``faq.content``) says what a file must look like; this module says whether the base
is fit to publish: every required entry present, enough ways of asking, answers that fit one
message on every platform, https links, fresh dates, working cross-references, and no two
entries competing for the same question.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from babel.dates import get_month_names
from rapidfuzz import fuzz, process

from faq.content import ContentProblem, KnowledgeBase, read_knowledge_base
from faq.languages import LANGS

REQUIRED_ENTRY_IDS: tuple[str, ...] = (
    "ukr-status", "ukr-status-check", "ukr-status-travel", "pesel-ukr", "diia-card", "cukr-card",
    "temporary-residence", "residence-case-status", "residence-card", "permanent-residence",
    "visa-extension", "international-protection", "citizenship", "family-reunification",
    "work-ukr-notification", "work-permit", "employment-contracts", "labour-rights",
    "unemployed-registration", "business-registration", "taxes", "health-access-ukr",
    "health-insurance", "doctor-visit", "emergency-care", "mental-health", "school-enrolment",
    "kindergarten", "polish-courses", "diploma-recognition", "university-studies",
    "benefit-800plus", "social-assistance", "collective-accommodation", "housing-rental",
    "legal-aid", "trusted-profile", "bank-account", "driving-licence", "residence-registration",
    "ukrainian-passport", "sworn-translation", "discrimination", "scams", "emergency-numbers",
    "foreigners-office", "info-point-krakow", "about-project", "first-steps", "what-changed",
)  # fmt: skip
"""The entry ids fixed by ``shared/CONTENT.md``: never renamed once published."""

MIN_QUESTIONS: dict[str, int] = {"uk": 8, "ru": 8, "pl": 3, "en": 3}
MAX_ANSWER_CHARS = 3_500
"""Leaves room in Telegram's 4,096 for the date footer, sources and buttons (Viber: 7,000)."""
MAX_TITLE_CHARS = 40
DEFAULT_MAX_AGE_DAYS = 180
MAX_REVIEW_DAYS = 366
"""``review_by`` is at most a year after ``last_verified``."""
NEAR_DUPLICATE_SCORE = 92.0
"""Levenshtein ratio (0-100) above which questions of two entries look like one question."""

_MARKUP_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]*)\)")
_BARE_URL = re.compile(r"(?<![(\[])\b(?:https?|ftp)://[^\s)\]]+")
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?>")


@dataclass
class CheckReport:
    entries: int = 0
    problems: list[ContentProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[ContentProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[ContentProblem]:
        return [p for p in self.problems if p.severity == "warning"]


def check_content(
    directory: Path | str,
    *,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    today: dt.date | None = None,
) -> CheckReport:
    """Validate the whole knowledge base; never raises for bad content."""
    kb, problems = read_knowledge_base(directory)
    report = CheckReport(problems=list(problems))
    if kb is None:
        return report
    report.entries = len(kb.entries)
    today = today or dt.date.today()
    for check in (_check_ids, _check_menu, _check_related):
        report.problems.extend(check(kb))
    for entry_id in kb.entries:
        report.problems.extend(_check_entry(kb, entry_id, today, max_age_days))
    report.problems.extend(_check_contacts(kb))
    report.problems.extend(_check_competing_questions(kb))
    return report


def _where(kb: KnowledgeBase, entry_id: str, fieldname: str = "") -> str:
    path = kb.files.get(entry_id)
    base = str(path) if path is not None else entry_id
    return f"{base}: {fieldname}" if fieldname else base


def _check_ids(kb: KnowledgeBase) -> list[ContentProblem]:
    out = []
    entries_dir = str(kb.directory / "entries")
    for missing in sorted(set(REQUIRED_ENTRY_IDS) - set(kb.entries)):
        out.append(ContentProblem(entries_dir, f"required entry {missing!r} is missing"))
    for unknown in sorted(set(kb.entries) - set(REQUIRED_ENTRY_IDS)):
        out.append(
            ContentProblem(
                _where(kb, unknown),
                f"id {unknown!r} is not in shared/CONTENT.md (new ids need agreement first)",
                "warning",
            )
        )
    for entry_id, path in kb.files.items():
        if path.parent.name != kb.entries[entry_id].topic:
            out.append(
                ContentProblem(
                    str(path),
                    f"file is under {path.parent.name}/ but its topic is "
                    f"{kb.entries[entry_id].topic!r}",
                    "warning",
                )
            )
    return out


def _check_menu(kb: KnowledgeBase) -> list[ContentProblem]:
    out = []
    where = str(kb.directory / "topics.yaml")
    seen: dict[str, str] = {}
    topic_ids = [t.id for t in kb.menu.topics]
    for dup in sorted({t for t in topic_ids if topic_ids.count(t) > 1}):
        out.append(ContentProblem(where, f"topic {dup!r} appears more than once"))
    for topic in kb.menu.topics:
        if len(topic.title.get("en")) > MAX_TITLE_CHARS:
            out.append(ContentProblem(where, f"topic {topic.id!r}: title too long for a button"))
        for entry_id in topic.entries:
            if entry_id not in kb.entries:
                out.append(
                    ContentProblem(where, f"topic {topic.id!r} lists unknown entry {entry_id!r}")
                )
                continue
            if entry_id in seen:
                out.append(
                    ContentProblem(
                        where,
                        f"entry {entry_id!r} is listed under both "
                        f"{seen[entry_id]!r} and {topic.id!r}",
                    )
                )
            seen[entry_id] = topic.id
            if kb.entries[entry_id].topic != topic.id:
                out.append(
                    ContentProblem(
                        where,
                        f"entry {entry_id!r} has topic {kb.entries[entry_id].topic!r} "
                        f"but is listed under {topic.id!r}",
                    )
                )
    for entry_id in kb.entries:
        if entry_id not in seen:
            out.append(ContentProblem(_where(kb, entry_id), "entry is not reachable from the menu"))
    return out


def _check_related(kb: KnowledgeBase) -> list[ContentProblem]:
    out = []
    for entry in kb.entries.values():
        for rel in entry.related:
            if rel == entry.id:
                out.append(
                    ContentProblem(_where(kb, entry.id, "related"), "entry relates to itself")
                )
            elif rel not in kb.entries:
                out.append(
                    ContentProblem(_where(kb, entry.id, "related"), f"unknown entry {rel!r}")
                )
    return out


def _check_entry(
    kb: KnowledgeBase, entry_id: str, today: dt.date, max_age_days: int
) -> list[ContentProblem]:
    entry = kb.entries[entry_id]
    out: list[ContentProblem] = []

    def problem(fieldname: str, message: str, severity: str = "error") -> None:
        out.append(ContentProblem(_where(kb, entry_id, fieldname), message, severity))  # type: ignore[arg-type]

    for lang, questions in entry.questions.items():
        if len(questions) < MIN_QUESTIONS[lang]:
            problem(
                f"questions.{lang}",
                f"{len(questions)} ways of asking; at least {MIN_QUESTIONS[lang]} are needed",
            )
        folded = [_fold(q) for q in questions]
        for dup in sorted({q for q in folded if folded.count(q) > 1}):
            problem(f"questions.{lang}", f"the question {dup!r} is listed twice", "warning")
    for lang in LANGS:
        answer = entry.answer.get(lang)
        if len(answer) > MAX_ANSWER_CHARS:
            problem(
                f"answer.{lang}",
                f"{len(answer)} characters; at most {MAX_ANSWER_CHARS} fit one message with "
                "its footer and buttons",
            )
        out.extend(_check_markup(_where(kb, entry_id, f"answer.{lang}"), answer))
        title = entry.title.get(lang)
        if len(title) > MAX_TITLE_CHARS:
            problem(
                f"title.{lang}", f"{len(title)} characters; at most {MAX_TITLE_CHARS} (a button)"
            )
    for i, source in enumerate(entry.sources):
        if not source.startswith("https://") or " " in source:
            problem(f"sources[{i}]", f"{source!r} is not an https link")
    if entry.last_verified > today:
        problem("last_verified", f"{entry.last_verified} is in the future")
    elif (today - entry.last_verified).days > max_age_days:
        problem(
            "last_verified",
            f"last verified {(today - entry.last_verified).days} days ago "
            f"(more than {max_age_days}): check it against the sources",
            "warning",
        )
    if entry.valid_as_of > entry.last_verified:
        problem(
            "valid_as_of",
            f"{entry.valid_as_of} is after last_verified {entry.last_verified}",
            "warning",
        )
    if len(set(entry.related)) != len(entry.related):
        problem("related", "an id is listed twice", "warning")
    out.extend(_check_review_by(kb, entry_id, today))
    for lang in LANGS:
        for found, date in past_deadlines(entry.answer.get(lang), lang, today):
            problem(
                f"answer.{lang}",
                f"past deadline: {found!r} ({date.isoformat()}) is before {today.isoformat()}; "
                "say what it means now",
                "warning",
            )
    return out


def _check_review_by(kb: KnowledgeBase, entry_id: str, today: dt.date) -> list[ContentProblem]:
    entry = kb.entries[entry_id]
    where = _where(kb, entry_id, "review_by")
    if entry.review_by is None:
        return [
            ContentProblem(
                where,
                "missing: the date by which the entry must be checked again "
                "(the earliest date something it states stops being true)",
            )
        ]
    if entry.review_by < entry.last_verified:
        return [ContentProblem(where, f"{entry.review_by} is before last_verified")]
    if (entry.review_by - entry.last_verified).days > MAX_REVIEW_DAYS:
        return [
            ContentProblem(
                where,
                f"{entry.review_by} is more than a year after last_verified {entry.last_verified}",
            )
        ]
    if entry.is_stale(today):
        return [
            ContentProblem(
                where,
                f"review_by {entry.review_by} has passed: check the entry against its sources, "
                "then move last_verified and review_by on",
                "warning",
            )
        ]
    return []


# Words that make the date after them a deadline ("до 31 серпня 2026", "by 31 August 2026").
# Dates themselves are read with babel's month names (below), in the form a date takes after a
# day number (Ukrainian, Russian and Polish genitive: "серпня", "августа", "sierpnia").
DEADLINE_WORDS: dict[str, tuple[str, ...]] = {
    "uk": ("до", "не пізніше", "не пізніше ніж", "не пізніш", "термін", "строк", "дедлайн"),
    "ru": ("до", "не позднее", "не позже", "срок", "дедлайн"),
    "pl": ("do", "najpóźniej", "nie później niż", "termin", "przed"),
    "en": ("by", "until", "till", "before", "no later than", "deadline", "due"),
}


@dataclass(frozen=True)
class _DatePattern:
    regex: re.Pattern[str]
    months: dict[str, int]


_DATE_PATTERNS: dict[str, _DatePattern] = {}


def _date_pattern(lang: str) -> _DatePattern:
    """A deadline word, then a date: day, month by name (babel, ``lang``) or number, year."""
    if lang not in _DATE_PATTERNS:
        months: dict[str, int] = {}
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context=context, locale=lang).items():
                    months[name.casefold().rstrip(".")] = number
        names = "|".join(re.escape(n) for n in sorted(months, key=len, reverse=True))
        words = "|".join(
            re.escape(w).replace(r"\ ", r"\s+")
            for w in sorted(DEADLINE_WORDS[lang], key=len, reverse=True)
        )
        regex = re.compile(
            rf"(?<!\w)(?:{words})\s+(?:the\s+|dnia\s+)?"
            rf"(?P<day>\d{{1,2}})(?:\s*(?P<month>{names})\.?|\.(?P<mnum>\d{{1,2}})\.)"
            rf"\s*(?P<year>\d{{4}})(?!\d)",
            re.IGNORECASE,
        )
        _DATE_PATTERNS[lang] = _DatePattern(regex, months)
    return _DATE_PATTERNS[lang]


def past_deadlines(text: str, lang: str, today: dt.date) -> list[tuple[str, dt.date]]:
    """Dates in ``text`` that stand after a deadline word and are before ``today``."""
    pattern = _date_pattern(lang)
    out = []
    for match in pattern.regex.finditer(text.replace("**", "")):
        if match["month"] is not None:
            month = pattern.months[match["month"].casefold()]
        else:
            month = int(match["mnum"])
        try:
            date = dt.date(int(match["year"]), month, int(match["day"]))
        except ValueError:
            continue
        if date < today:
            out.append((" ".join(match.group(0).split()), date))
    return out


def _check_markup(where: str, text: str) -> list[ContentProblem]:
    out = []
    if _HTML_TAG.search(text):
        out.append(
            ContentProblem(where, "HTML tags are not allowed; use **bold** and [text](https://…)")
        )
    if text.count("**") % 2:
        out.append(ContentProblem(where, "unbalanced ** (bold) markers"))
    for label, url in _MARKUP_LINK.findall(text):
        if not label.strip():
            out.append(ContentProblem(where, f"link to {url!r} has no text"))
        if not url.startswith("https://"):
            out.append(ContentProblem(where, f"link {url!r} is not https"))
    for url in _BARE_URL.findall(_MARKUP_LINK.sub("", text)):
        if not url.startswith("https://"):
            out.append(ContentProblem(where, f"link {url!r} is not https"))
    return out


def _check_contacts(kb: KnowledgeBase) -> list[ContentProblem]:
    out = []
    where = str(kb.directory / "contacts.yaml")
    ids = [c.id for c in kb.contacts.contacts]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        out.append(ContentProblem(where, f"contact id {dup!r} appears more than once"))
    for contact in kb.contacts.contacts:
        if contact.url is not None and not contact.url.startswith("https://"):
            out.append(ContentProblem(where, f"{contact.id}: url {contact.url!r} is not https"))
        if contact.phone is not None and not re.fullmatch(r"\+?[\d ()-]{3,20}", contact.phone):
            out.append(ContentProblem(where, f"{contact.id}: phone {contact.phone!r} looks wrong"))
    return out


def _fold(text: str) -> str:
    """Case, accents of no meaning, punctuation and spacing folded away, for comparisons."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    text = re.sub(r"[ʼ’'`]", "", text)
    return " ".join(re.sub(r"[^\w+]+", " ", text).split())


def _check_competing_questions(kb: KnowledgeBase) -> list[ContentProblem]:
    """Questions or aliases of different entries that are (nearly) the same text."""
    out: list[ContentProblem] = []
    texts: list[str] = []
    owners: list[str] = []
    for entry in kb.entries.values():
        for _lang, questions in entry.questions.items():
            for question in questions:
                texts.append(_fold(question))
                owners.append(entry.id)
    if texts:
        scores = process.cdist(
            texts,
            texts,
            scorer=fuzz.ratio,
            score_cutoff=NEAR_DUPLICATE_SCORE,
            workers=1,
        )
        reported: set[tuple[str, str, str]] = set()
        rows, cols = scores.nonzero()
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            if i >= j or owners[i] == owners[j]:
                continue
            key = (owners[i], owners[j], texts[i])
            if key in reported:
                continue
            reported.add(key)
            exact = texts[i] == texts[j]
            out.append(
                ContentProblem(
                    _where(kb, owners[i], "questions"),
                    f"{texts[i]!r} {'is the same as' if exact else 'nearly repeats'} "
                    f"{texts[j]!r} of {owners[j]!r}: the two entries compete",
                    "error" if exact else "warning",
                )
            )
    alias_owners: dict[str, set[str]] = defaultdict(set)
    for entry in kb.entries.values():
        for alias in entry.aliases:
            alias_owners[_fold(alias)].add(entry.id)
    for alias, ids in sorted(alias_owners.items()):
        if len(ids) > 1:
            first = sorted(ids)[0]
            out.append(
                ContentProblem(
                    _where(kb, first, "aliases"),
                    f"alias {alias!r} points to several entries: {', '.join(sorted(ids))}",
                    "warning",
                )
            )
    return out


def format_report(report: CheckReport) -> str:
    """A readable list of problems, errors first, grouped by file."""
    lines: list[str] = []
    for severity in ("error", "warning"):
        for problem in sorted(
            (p for p in report.problems if p.severity == severity), key=lambda p: p.where
        ):
            lines.append(str(problem))
    summary = (
        f"{report.entries} entries: {len(report.errors)} error(s), "
        f"{len(report.warnings)} warning(s)"
    )
    lines.append(("FAILED: " if report.errors else "OK: ") + summary)
    return "\n".join(lines)
