"""The real knowledge base loads and answers a few unmistakable questions.

Few and robust on purpose: the wording of ``content/`` changes; these must not.
"""

from __future__ import annotations

import pytest

from faq import Matcher, load_matcher
from faq.check import REQUIRED_ENTRY_IDS
from faq.languages import LANGS


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return load_matcher()


def test_loads_every_entry(matcher: Matcher) -> None:
    """Every entry the content contract requires (../shared/CONTENT.md), each answered in the
    four languages, each reachable from the menu, and no topic pointing at a missing entry."""
    kb = matcher.kb
    assert set(kb.entries) == set(REQUIRED_ENTRY_IDS)
    for entry in kb.entries.values():
        for lang in LANGS:
            assert entry.answer.get(lang).strip(), (entry.id, lang)
            assert getattr(entry.questions, lang), (entry.id, lang)
    on_menu = {entry_id for topic in kb.menu.topics for entry_id in topic.entries}
    assert on_menu == set(kb.entries)


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


def test_an_entrys_name_is_not_read_as_a_function_word(matcher: Matcher) -> None:
    """The names "Diia"/"Дія" share their key with Russian "да": as the name of an entry they
    still count ("Дия ПЛ" finds the Diia.pl entry), while "да" itself stays a function word."""
    resolve = matcher.index.resolve
    for name in ("diia", "дія", "дия"):
        assert not resolve(name).stop, name
    assert resolve("да").stop
    offered = [c.entry_id for c in matcher.match("дия пл").candidates[:3]]
    assert "diia-card" in offered
