"""Wording consistency of what the bot says: the catalogs' house style (bot/locales/README.md)
and one spelling per language for the Polish office words in the answers (content/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "bot" / "locales"


def translations(lang: str) -> list[tuple[str, str]]:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        pairs += [(msgid, string) for string in strings if string]
    return pairs


# The bot speaking of itself in a gendered past tense: "я передав", "я передал", "przekazałem"
# (and Polish addressing the person so: "wysłałeś").
GENDERED = {
    "uk": re.compile(r"\b[Яя]\s+(?:\w+\s+)?\w+(?:в|ла)\b"),
    "ru": re.compile(r"\b[Яя]\s+(?:\w+\s+)?\w+(?:л|ла)\b"),
    "pl": re.compile(r"\b\w+(?:łem|łam|łeś|łaś)\b"),
}


@pytest.mark.parametrize("lang", sorted(GENDERED))
def test_the_bot_avoids_gendered_past_tenses(lang: str) -> None:
    found = [
        (match.group(0), string)
        for _msgid, string in translations(lang)
        for match in GENDERED[lang].finditer(string)
    ]
    assert not found, found


def test_polish_says_ty_in_lower_case_like_a_chat() -> None:
    """ "twoje", not the letter-style "Twoje", except where a sentence starts."""
    found = []
    for _msgid, string in translations("pl"):
        text = string.replace("**", "")
        for match in re.finditer(r"\b(?:Twoj|Twoi|Tobie|Ciebie|Cię)", text):
            before = text[: match.start()].rstrip()
            starts_sentence = (
                not before
                or before[-1] in ".!?:…"
                or not (before[-1].isalnum() or before[-1] in ",;—–-()")
            )
            if not starts_sentence:
                found.append(string)
    assert not found, found


PRESS = {
    "uk": r"(?:натисніть|оберіть)",
    "ru": r"(?:нажмите|выберите)",
    "pl": r"(?:kliknij|naciśnij|wybierz)",
    "en": r"(?:tap|press|choose)",
}


@pytest.mark.parametrize("lang", sorted(PRESS))
def test_every_button_a_message_names_exists(lang: str) -> None:
    """«Skip» in "tap «Skip»" is the label of a real button, in that catalog's words."""
    pairs = translations(lang)
    labels = {string for _msgid, string in pairs}
    named = [
        (label, string)
        for _msgid, string in pairs
        for label in re.findall(PRESS[lang] + r"\s+[«“„\"]([^»”\"]+)[»”\"]", string)
    ]
    assert all(label in labels for label, _string in named), named


# Polish office words transliterated in the answers: one spelling a language.
SPELLINGS = {
    "uk": (re.compile(r"\bгмін", re.IGNORECASE), "ґміна"),
    "ru": (re.compile(r"\bуженд|\bурзонд", re.IGNORECASE), "ужонд"),
}


@pytest.mark.parametrize("lang", sorted(SPELLINGS))
def test_answers_spell_the_office_words_one_way(lang: str) -> None:
    pattern, preferred = SPELLINGS[lang]
    found = []
    for path in sorted((ROOT / "content" / "entries").rglob("*.yaml")):
        answer = (yaml.safe_load(path.read_text(encoding="utf-8")).get("answer") or {}).get(lang)
        found += [(path.name, m.group(0)) for m in pattern.finditer(answer or "")]
    assert not found, f"write {preferred}: {found}"
