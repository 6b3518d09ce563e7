"""``match`` never raises and is deterministic, whatever Unicode it is given."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faq import Matcher, load_matcher
from faq.text import INVISIBLE
from tests.doubles.faq_synthetic_kb import write_kb


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    return load_matcher(write_kb(tmp_path_factory.mktemp("kb")))


def _check(matcher: Matcher, text: str) -> None:
    first = matcher.match(text)
    again = matcher.match(text)
    assert first == again
    assert first.decision in ("answer", "clarify", "handoff")
    assert first.lang in ("uk", "ru", "pl", "en")
    assert first.intent in (None, "human", "greeting", "thanks", "urgent")
    assert all(0.0 <= c.score <= 1.0 for c in first.candidates)
    assert first.to_dict(3)["decision"] == first.decision
    assert "error" not in first.debug  # the guard in ``match`` did not have to catch anything


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text())
def test_any_text(matcher: Matcher, text: str) -> None:
    _check(matcher, text)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from(
            [
                "песель",
                "ghbdtn",
                "800+",
                "🙂",
                "\u202e",
                "ё",
                "ʼ",
                " ",
                "\x00",
                "שלום",
                "مرحبا",
                "pesel",
                "як",
                "[",
                ",",
                "ŁÓDŹ",
            ]
        ),
        max_size=30,
    )
)
def test_mixtures_of_tricky_pieces(matcher: Matcher, pieces: list[str]) -> None:
    _check(matcher, "".join(pieces))


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\n\t  \r\n",
        "песель " * 20_000,  # 120,000 characters
        "x" * 100_000,
        "\x00\x01\x02\x1b[31m\x7f",
        "🙂🙂🙂🇺🇦",
        "שלום, מה שלומך?",  # right-to-left
        "مرحبا كيف حالك",
        "\u202eлесеп\u202c",  # RTL override around Cyrillic
        "\ud800",  # a lone surrogate
        "ᚠᛇᚻ᛫ᛒᛦᚦ",
        "Z̸̢̛a̵͓̐l̶̰̊g̴̱̈o̴̗͑",
    ],
)
def test_edge_cases(matcher: Matcher, text: str) -> None:
    _check(matcher, text)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet=st.characters(exclude_categories=())))
def test_any_code_point_even_lone_surrogates(matcher: Matcher, text: str) -> None:
    _check(matcher, text)


# --- invisible characters inside words (issue 18, item 10) ---------------------------------

REAL_MESSAGES = (
    "як отримати песель",
    "где сделать песель",
    "ult cltkfnm gtctkm",  # wrong layout
    "kak poluchit pesel",
    "jak przedłużyć kartę pobytu",
    "how much does a karta pobytu cost",
    "дитина впала і не дихає",
    "Добрий день, мене звати Оксана, як отримати песель",
    "нема де ночувати сьогодні з дітьми",
)


@pytest.fixture(scope="module")
def real() -> Matcher:
    return load_matcher()


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(REAL_MESSAGES),
    st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(sorted(INVISIBLE))),
        min_size=1,
        max_size=6,
    ),
)
def test_invisible_characters_do_not_change_the_decision(
    real: Matcher, text: str, inserts: list[tuple[int, str]]
) -> None:
    noisy = text
    for where, ch in inserts:
        at = where % (len(noisy) + 1)
        noisy = noisy[:at] + ch + noisy[at:]
    clean, dirty = real.match(text), real.match(noisy)
    assert (dirty.decision, dirty.offered, dirty.intent, dirty.urgent_kind, dirty.lang) == (
        clean.decision,
        clean.offered,
        clean.intent,
        clean.urgent_kind,
        clean.lang,
    )
    assert dirty.candidates == clean.candidates


@pytest.mark.parametrize(
    "text",
    [
        "пе\u200bсель як отримати",
        "як отримати пе\u00adсель",
        "\ufeffяк отримати песель",
        "як отри\u2060мати пе\u200dсель",
        "ult cltkf\u200bnm gtctkm",  # inside a wrong-layout word too
    ],
)
def test_a_word_split_by_an_invisible_character_is_one_word(real: Matcher, text: str) -> None:
    assert real.match(text).offered == ("pesel-ukr",)


@pytest.mark.parametrize("text", ["як\x00отримати песель", "як отримати \ud800 песель"])
def test_nul_and_lone_surrogate_do_not_lose_the_question(real: Matcher, text: str) -> None:
    result = real.match(text)
    assert result.offered == ("pesel-ukr",) and "error" not in result.debug
