"""``match`` never raises and is deterministic, whatever Unicode it is given."""

from __future__ import annotations

import pytest
from faq_synthetic_kb import write_kb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faq import Matcher, load_matcher


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
