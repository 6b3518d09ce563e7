"""The UI catalogs: complete for what the code uses, plural rules and dates right, fallbacks."""

from __future__ import annotations

import datetime as dt
import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import write_po

from bot.i18n import (
    COMMANDS,
    command_descriptions,
    normalize_language,
    read_catalog,
    translator_for,
)
from faq.languages import LANGS, LANGUAGE_NAMES

ROOT = Path(__file__).resolve().parents[2]

MessageId = str | tuple[str, str]


def extracted() -> dict[MessageId, str]:
    """Every message the code marks (``pybabel extract -F babel.cfg``), with where it is."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[MessageId, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        key: MessageId = message if isinstance(message, str) else (message[0], message[1])
        found.setdefault(key, f"{filename}:{lineno}")
    return found


CODE_MESSAGES = extracted()


def catalog_messages(catalog: Catalog) -> dict[MessageId, Message]:
    out: dict[MessageId, Message] = {}
    for message in catalog:
        if not message.id:
            continue
        key: MessageId = (
            message.id if isinstance(message.id, str) else (message.id[0], message.id[1])
        )
        out[key] = message
    return out


def forms(message: Message) -> tuple[str, ...]:
    """The translation(s) of a message: one string, or one per plural form."""
    value = message.string
    if isinstance(value, str):
        return (value,)
    return tuple(value or ())


def test_extraction_finds_the_ui_strings() -> None:
    # A guard for the test below: if babel.cfg stopped matching the code, it would pass empty.
    assert "Did this help?" in CODE_MESSAGES
    assert ("{count} answer here. Pick one:", "{count} answers here. Pick one:") in CODE_MESSAGES
    assert all(description in CODE_MESSAGES for _command, description in COMMANDS)


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_has_every_message_the_code_uses(lang: str) -> None:
    catalog = read_catalog(lang)
    messages = catalog_messages(catalog)
    missing = [f"{where}: {key!r}" for key, where in CODE_MESSAGES.items() if key not in messages]
    assert not missing, f"{lang} catalog lacks (run `make i18n-update`, then translate):\n" + (
        "\n".join(missing)
    )


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_translations_are_complete(lang: str) -> None:
    catalog = read_catalog(lang)
    assert catalog.num_plurals == get_plural(lang).num_plurals
    problems = []
    for key, message in catalog_messages(catalog).items():
        if message.fuzzy:
            problems.append(f"fuzzy: {key!r}")
        strings = forms(message)
        if message.pluralizable and len(strings) != catalog.num_plurals:
            problems.append(f"{len(strings)} of {catalog.num_plurals} plural forms: {key!r}")
        if not all(s and s.strip() for s in strings):
            problems.append(f"empty translation: {key!r}")
    assert not problems, f"{lang}:\n" + "\n".join(problems)


def _fields(text: str) -> set[str]:
    brace = {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}
    percent = set(re.findall(r"%\((\w+)\)[sdif]", text))
    return brace | percent


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_the_placeholders(lang: str) -> None:
    """``{audience}`` must stay ``{audience}``: a typo would raise KeyError at .format()."""
    problems = []
    for key, message in catalog_messages(read_catalog(lang)).items():
        if isinstance(key, tuple):  # a plural form may leave out what the others say
            wanted = _fields(key[0]) | _fields(key[1])
            ok = all(_fields(text) <= wanted for text in forms(message) if text)
        else:
            ok = all(not text or _fields(text) == _fields(key) for text in forms(message))
        if not ok:
            problems.append(f"{key!r}: {message.string!r}")
    assert not problems, f"{lang}:\n" + "\n".join(problems)


def test_engine_notices_are_translated() -> None:
    """The engine translates two constants (extraction cannot see them: ``gettext(NAME)``)."""
    from bot.engine import ERROR_NOTICE, FLOOD_NOTICE, JOINED_NOTICE

    for lang in ("uk", "ru", "pl"):
        t = translator_for(lang)
        for notice in (ERROR_NOTICE, FLOOD_NOTICE, JOINED_NOTICE):
            assert t.gettext(notice) != notice, (lang, notice)


@pytest.mark.parametrize(
    ("lang", "forms"),
    [
        # n -> which form; the three Slavic plural forms, with the traps 11-14, 21, 111.
        (
            "uk",
            {
                1: "відповідь",
                2: "відповіді",
                4: "відповіді",
                5: "відповідей",
                11: "відповідей",
                12: "відповідей",
                21: "відповідь",
                22: "відповіді",
                25: "відповідей",
                111: "відповідей",
                0: "відповідей",
            },
        ),
        (
            "ru",
            {
                1: "ответ",
                3: "ответа",
                5: "ответов",
                11: "ответов",
                14: "ответов",
                21: "ответ",
                23: "ответа",
                100: "ответов",
                0: "ответов",
            },
        ),
        (
            "pl",
            {
                1: "odpowiedź",
                2: "odpowiedzi",
                5: "odpowiedzi",
                12: "odpowiedzi",
                21: "odpowiedzi",
                22: "odpowiedzi",
                0: "odpowiedzi",
            },
        ),
        ("en", {1: "answer here", 2: "answers here", 0: "answers here", 21: "answers here"}),
    ],
)
def test_plural_forms(lang: str, forms: dict[int, str]) -> None:
    t = translator_for(lang)
    for n, word in forms.items():
        text = t.ngettext("{count} answer here. Pick one:", "{count} answers here. Pick one:", n)
        assert f"{{count}} {word}" in text, (n, text)


def test_polish_verb_agrees_with_the_number() -> None:
    t = translator_for("pl")

    def say(n: int) -> str:
        text = t.ngettext("{count} answer here. Pick one:", "{count} answers here. Pick one:", n)
        return text.format(count=n)

    assert say(1) == "Jest tu 1 odpowiedź. Wybierz:"
    assert say(3) == "Są tu 3 odpowiedzi. Wybierz:"
    assert say(5) == "Jest tu 5 odpowiedzi. Wybierz:"
    assert say(22) == "Są tu 22 odpowiedzi. Wybierz:"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("uk", "5 березня 2026\u202fр."),
        ("ru", "5 марта 2026\u202fг."),
        ("pl", "5 marca 2026"),
        ("en", "5 March 2026"),
    ],
)
def test_dates(lang: str, expected: str) -> None:
    assert translator_for(lang).format_date(dt.date(2026, 3, 5)) == expected


def test_unknown_language_is_english() -> None:
    t = translator_for("de")
    assert t.lang == "en"
    assert t.gettext("Did this help?") == "Did this help?"


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("uk", "uk"),
        ("uk-UA", "uk"),
        ("UK", "uk"),
        ("ua", "uk"),
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("ru_UA", "ru"),
        ("pl", "pl"),
        ("pl-PL", "pl"),
        ("en", "en"),
        ("en-US", "en"),
        (None, None),
        ("", None),
        ("be", None),
        ("kk", None),
        ("de-DE", None),
        ("rus", None),
        (" uk ", "uk"),
    ],
)
def test_normalize_language(code: str | None, lang: str | None) -> None:
    assert normalize_language(code) == lang


def _write_catalog(root: Path, lang: str, messages: dict[str, str]) -> None:
    catalog = Catalog(locale=lang, domain="messages")
    for msgid, msgstr in messages.items():
        flags = ("fuzzy",) if msgstr.startswith("FUZZY ") else ()
        catalog.add(msgid, msgstr.removeprefix("FUZZY "), flags=flags)
    path = root / lang / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as fh:
        write_po(fh, catalog)


def test_fallback_to_english_then_to_the_msgid(tmp_path: Path) -> None:
    _write_catalog(tmp_path, "en", {"Only in English": "Only in English, edited", "Both": "Both"})
    _write_catalog(
        tmp_path,
        "uk",
        {"Both": "Обидва", "Only in English": "", "Unsure": "FUZZY Неточно"},
    )
    _write_catalog(tmp_path, "ru", {})
    # (no pl catalog at all)
    uk = translator_for("uk", tmp_path)
    assert uk.gettext("Both") == "Обидва"
    assert uk.gettext("Only in English") == "Only in English, edited"  # empty -> English
    assert uk.gettext("Unsure") == "Unsure"  # fuzzy -> English -> msgid
    assert uk.gettext("Nowhere") == "Nowhere"
    assert translator_for("pl", tmp_path).gettext("Both") == "Both"
    assert translator_for("ru", tmp_path).ngettext("one", "many", 5) == "many"


@pytest.mark.parametrize("lang", LANGS)
def test_command_descriptions(lang: str) -> None:
    from handlers.router import COMMANDS as ROUTED

    pairs = command_descriptions(lang)
    assert [command for command, _d in pairs] == [command for command, _d in COMMANDS]
    for command, description in pairs:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command)  # Telegram's rules
        assert 1 <= len(description) <= 256
        assert command in ROUTED  # every advertised command does something
    if lang != "en":
        english = dict(command_descriptions("en"))
        assert all(description != english[command] for command, description in pairs)


def test_language_names_are_endonyms() -> None:
    assert list(LANGUAGE_NAMES) == list(LANGS)
    assert LANGUAGE_NAMES["uk"] == "Українська"


@pytest.mark.parametrize("lang", LANGS)
def test_button_labels_are_short(lang: str) -> None:
    """Buttons show ~30 characters on a phone: labels in every language stay short."""
    from handlers.answers import AUDIENCE_PHRASES  # noqa: F401  (imports the markers)
    from handlers.start import AUDIENCE_CHOICES

    t = translator_for(lang)
    labels = [t.gettext(label) for _value, label in AUDIENCE_CHOICES] + [
        t.gettext(msgid)
        for msgid in (
            "🏠 Menu",
            "💬 Talk to a consultant",
            "🔒 Privacy notice",
            "Skip",
            "None of these",
            "🗑 Yes, delete",
            "Cancel",
        )
    ]
    assert all(len(label) <= 40 for label in labels), labels
