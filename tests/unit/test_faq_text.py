"""Normalisation, keyboard layouts, the phonetic skeleton and stemming (faq.text)."""

from __future__ import annotations

import pytest

from faq.text import (
    MAX_TEXT_CHARS,
    key_of,
    layout_convert,
    looks_like_layout_token,
    normalize,
    reverse_layout_convert,
    sanitize,
    skeleton,
    tokenize,
    words,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ПЕСЕЛЬ", "песель"),
        ("Ёлка", "елка"),
        ("прав'о", "право"),
        ("правʼо", "право"),
        ("прав’о", "право"),
        ("прав`о", "право"),
        ("ＰＥＳＥＬ", "pesel"),  # full-width letters (NFKC)
    ],
)
def test_normalize_folds_case_apostrophes_yo_and_width(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_turns_control_characters_into_spaces() -> None:
    assert tokenize(normalize("песель\x00укр\u200eтест")) == ["песель", "укр", "тест"]


def test_plus_after_a_number_is_spelled_out() -> None:
    assert words("800+") == ["800", "plus"]
    assert words("на 800 + для дітей") == ["на", "800", "plus", "для", "дітей"]


def test_tokens_split_digits_from_letters_and_drop_punctuation_and_emoji() -> None:
    assert words("5-6 тижнів!!! 🙂 e-urząd 2тижні") == [
        "5",
        "6",
        "тижнів",
        "e",
        "urząd",
        "2",
        "тижні",
    ]


def test_huge_messages_keep_head_and_tail() -> None:
    text = "початок " + "x" * 100_000 + " кінець"
    clipped = normalize(text)
    assert len(clipped) <= MAX_TEXT_CHARS + 1
    assert clipped.startswith("початок") and clipped.endswith("кінець")


@pytest.mark.parametrize(
    ("typed", "lang", "meant"),
    [
        ("ghbdtn", "ru", "привет"),
        ("ult cltkfnm gtctkm", "ru", "где сделать песель"),
        ("rfr gjkexbnm", "ru", "как получить"),
        ("ds,jhs", "ru", "выборы"),  # s -> ы in the Russian layout
        ("db,jhb", "uk", "вибори"),
        ("ds,jhb", "uk", "вібори"),
        ("zr jnhbvfnb", "uk", "як отримати"),
        ("rehcb gjkmcmrj] vjdb", "uk", "курси польської мови"),  # ] -> ї, s -> і
        ("'rcgthn", "uk", "єксперт"),
        ("'rcgthn", "ru", "эксперт"),
        ("pfhgkfne", "ru", "зарплату"),
    ],
)
def test_layout_convert(typed: str, lang: str, meant: str) -> None:
    assert layout_convert(typed, lang) == meant


def test_layout_candidates_are_tokens_of_us_keys_only() -> None:
    assert looks_like_layout_token("pfue,bkf")
    assert looks_like_layout_token("cnhf[jdre")
    assert not looks_like_layout_token("песель")
    assert not looks_like_layout_token("800")
    assert not looks_like_layout_token("łódź")


def test_reverse_layout_reads_cyrillic_keys_as_latin() -> None:
    assert reverse_layout_convert("зуыуд") == "pesel"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("песель", "pesel"),
        ("побиту", "pobytu"),
        ("побыту", "pobytu"),
        ("отримати", "otrymaty"),
        ("ужонд", "urząd"),
        ("вньосек", "wniosek"),
        ("мельдунек", "meldunek"),
        ("зауфани", "zaufany"),
        ("що", "shcho"),
        ("якщо", "yakshcho"),
        ("коштує", "koshtuie"),
        ("счет", "schet"),
        ("записаться", "zapisatsya"),
        ("виїжджати", "vyizhdzhaty"),
        ("психолог", "psyholog"),
        ("нострифікація", "nostryfikacja"),
        ("часови", "czasowy"),
        ("цукр", "cukr"),
    ],
)
def test_skeleton_meets_across_scripts(a: str, b: str) -> None:
    assert skeleton(normalize(a)) == skeleton(normalize(b))


def test_skeleton_keeps_digits() -> None:
    assert skeleton("800") == "800"
    assert skeleton("112") == "112"


@pytest.mark.parametrize(
    "forms",
    [
        ("зарплата", "зарплату", "зарплатою", "zarplatu"),
        ("карта", "карту", "картою", "karty"),
        ("песель", "песеля", "pesel"),
        ("документи", "документів", "dokumentach", "документов"),
        ("понаглення", "ponaglenie"),
        ("отримати", "otrymaty", "отримать"),
    ],
)
def test_key_of_conflates_inflections(forms: tuple[str, ...]) -> None:
    keys = {key_of(normalize(f)) for f in forms}
    assert len(keys) == 1, keys


def test_different_words_keep_different_keys() -> None:
    assert key_of("песель") != key_of("паспорт")
    assert key_of("віза") != key_of("вода")


def test_sanitize_deletes_invisible_characters_and_lone_surrogates() -> None:
    assert sanitize("пе\u200bсе\u00adль\ufeff") == "песель"
    assert sanitize("a\ud800b") == "a b"
    assert sanitize("a\x00b") == "a\x00b"  # controls are normalize's (they become spaces)
    assert normalize("пе\u200cсель\x00так") == "песель так"
    assert sanitize("plain text") == "plain text"
