"""The real knowledge base loads and answers a few unmistakable questions.

Few and robust on purpose: the wording of ``content/`` changes; these must not.
"""

from __future__ import annotations

import pytest

from faq import Matcher, load_matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return load_matcher()


def test_loads_every_entry(matcher: Matcher) -> None:
    assert len(matcher.kb.entries) >= 40


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("PESEL UKR", "pesel-ukr"),
        ("ЦУКР", "cukr-card"),
        ("800+", "benefit-800plus"),
        ("мельдунек", "residence-registration"),
        ("meldunek", "residence-registration"),
        ("Profil Zaufany", "trusted-profile"),
    ],
)
def test_obvious_queries(matcher: Matcher, text: str, entry: str) -> None:
    result = matcher.match(text)
    assert result.candidates[0].entry_id == entry
    assert result.decision in ("answer", "clarify")
    if result.decision == "clarify":
        assert entry in result.offered
