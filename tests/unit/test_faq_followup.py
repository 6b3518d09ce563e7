"""Follow-ups in context, questions about the bot, the dialog evaluation format, and the
index's compact structures (checked against a brute-force reading of the knowledge base)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faq import Matcher, load_matcher
from faq.evaluate import Dialog, read_dialogs, run_dialogs, run_eval
from faq.followup import MatchContext, read_followup
from faq.identity import asks_about_the_bot
from faq.text import normalize, term_of, tokenize, words
from tests.doubles.faq_synthetic_kb import write_kb


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    return load_matcher(write_kb(tmp_path_factory.mktemp("kb")))


@pytest.fixture(scope="module")
def real() -> Matcher:
    return load_matcher()


def toks(text: str) -> list[str]:
    return tokenize(normalize(text))


# --- who the bot is ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "хто ти",
        "ти бот чи людина?",
        "а ти хто?",
        "кто ты такой",
        "ты бот или человек",
        "что ты умеешь",
        "що ти вмієш",
        "who are you",
        "are you a bot or a human",
        "what can you do",
        "is this official",
        "kto ty",
        "kim jesteś?",
        "co potrafisz",
        "hto ty",  # transliterated
        "khto ty?",
        "[nj nb",  # хто ти on the US layout
        "хто тии",  # a typo
    ],
)
def test_questions_about_the_bot_answer_about_project(real: Matcher, text: str) -> None:
    result = real.match(text)
    assert (result.decision, result.offered, result.intent) == (
        "answer",
        ("about-project",),
        "about",
    )


@pytest.mark.parametrize(
    "text",
    [
        "хочу поговорити з людиною а не з ботом",
        "what can you tell me about pesel",
        "can you help me with pesel",
        "do you know where to get pesel",
        "how to get an official translation of this",
    ],
)
def test_other_messages_are_not_about_the_bot(text: str) -> None:
    assert not asks_about_the_bot(toks(text))


def test_asking_for_a_person_is_still_that(real: Matcher) -> None:
    assert real.match("хочу поговорити з живою людиною").intent == "human"


# --- follow-ups ----------------------------------------------------------------------------


def test_reading_a_follow_up() -> None:
    assert read_followup(toks("а для дітей що треба")) == read_followup(toks("а для детей"))
    assert read_followup(toks("а для дітей")).aspect == "children"  # type: ignore[union-attr]
    assert read_followup(toks("а скільки це коштує?")).aspect == "cost"  # type: ignore[union-attr]
    assert read_followup(toks("a dla dzieci?")).aspect == "children"  # type: ignore[union-attr]
    assert read_followup(toks("what about my husband?")).aspect == "family"  # type: ignore[union-attr]
    long = "Добрий день, ми приїхали місяць тому, я з двома дітьми, чоловік лишився вдома"
    assert read_followup(toks(long)) is None


@pytest.mark.parametrize("text", ["а для дітей?", "а скільки це коштує?", "a dla dzieci?"])
def test_an_aspect_alone_is_the_same_entry(matcher: Matcher, text: str) -> None:
    result = matcher.match(text, context=MatchContext("residence-registration"))
    assert result.decision == "answer"
    assert result.offered == ("residence-registration",)
    assert result.followup == "same"
    assert result.section in ("children", "cost")


def test_a_new_topic_drops_the_context(matcher: Matcher) -> None:
    result = matcher.match("як відкрити рахунок в банку", context=MatchContext("pesel-ukr"))
    assert result.offered == ("bank-account",)
    assert result.followup == "new"
    assert result.section is None


def test_no_context_no_follow_up(matcher: Matcher) -> None:
    result = matcher.match("а для дітей?")
    assert result.followup is None and result.section is None


def test_an_unknown_context_entry_is_ignored(matcher: Matcher) -> None:
    plain = matcher.match("як зробити мельдунек")
    assert matcher.match("як зробити мельдунек", context=MatchContext("gone")) == plain


def test_out_of_scope_after_an_answer_is_not_that_answer(real: Matcher) -> None:
    result = real.match("де подивитися розклад автобусів", context=MatchContext("bank-account"))
    assert result.decision != "answer"


# --- the dialog format ---------------------------------------------------------------------


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    return path


def test_dialogs_are_validated(tmp_path: Path) -> None:
    ids = {"a", "b"}
    good = {"lang": "uk", "tags": ["same"], "turns": [{"text": "x", "expected": "a"}] * 2}
    assert read_dialogs(_write(tmp_path / "ok.jsonl", [good]), ids)[0].turns == (
        ("x", "a"),
        ("x", "a"),
    )
    for bad, message in [
        ({**good, "turns": good["turns"][:1]}, "two or three turns"),
        ({**good, "lang": "de"}, "lang must be"),
        ({**good, "tags": ["odd"]}, "tags must be"),
        ({**good, "turns": [{"text": "x", "expected": "zzz"}] * 2}, "not an entry id"),
    ]:
        with pytest.raises(ValueError, match=message):
            read_dialogs(_write(tmp_path / "bad.jsonl", [bad]), ids)


def test_dialog_figures_by_hand() -> None:
    dialogs = [
        Dialog(1, "uk", ("same",), (("q1", "a"), ("f1", "a"))),
        Dialog(2, "uk", ("new",), (("q2", "b"), ("f2", None))),
        Dialog(3, "uk", ("same",), (("q3", "a"), ("f3", "a"), ("g3", "b"))),
    ]
    seen: list[tuple[str, str | None]] = []

    def step(text: str, context: str | None) -> tuple[str, tuple[str, ...]]:
        seen.append((text, context))
        return {
            "q1": ("answer", ("a",)),
            "f1": ("answer", ("a",)),  # right
            "q2": ("clarify", ("c", "b")),  # offered: they tap b
            "f2": ("clarify", ("c",)),  # out of scope offered: not answered, so right
            "q3": ("answer", ("b",)),  # wrong first turn
            "f3": ("clarify", ("a",)),  # helpful, not right
            "g3": ("handoff", ()),  # lost
        }[text]

    figures, errors = run_dialogs(dialogs, step)
    assert (figures.first_right, figures.later_turns) == (pytest.approx(1 / 3), 4)
    assert figures.later_right == pytest.approx(2 / 4)
    assert figures.later_helpful == pytest.approx(2 / 4)  # f1, f3 (f2 offered something)
    assert ("f2", "b") in seen and ("f3", "b") in seen and ("g3", "a") in seen
    assert [(e["line"], e["turn"]) for e in errors] == [(3, 2), (3, 3)]


def test_the_dialog_set_in_the_repository_is_valid_and_reported(real: Matcher) -> None:
    path = Path(__file__).resolve().parents[1] / "data" / "dialogs.jsonl"
    dialogs = read_dialogs(path, real.kb.entries)
    assert len(dialogs) >= 60
    assert {d.lang for d in dialogs} == {"uk", "ru", "pl", "en"}
    text = run_eval(path, baseline=False)
    assert "later turns right" in text and "ours, no context" in text


# --- the index against brute force ---------------------------------------------------------


def test_index_postings_and_answer_terms_match_the_content(matcher: Matcher) -> None:
    index = matcher.index
    for e, entry in enumerate(matcher.kb.entries.values()):
        unit_texts = [entry.title.get(lg) for lg in ("uk", "ru", "pl", "en")] + [
            *entry.aliases,
            *(q for _, qs in entry.questions.items() for q in qs),
        ]
        unit_keys = {term_of(t) for text in unit_texts for t in words(text)}
        answer_keys = {
            term_of(t) for lg in ("uk", "ru", "pl", "en") for t in words(entry.answer.get(lg))
        }
        for key in unit_keys:
            assert e in index.postings[index.term_ids[key]]
        for key in answer_keys - unit_keys:
            assert index.in_answer_only(index.term_ids[key], e)
        for key in unit_keys:
            assert not index.in_answer_only(index.term_ids[key], e)
        units = [index.units[u] for u in index.entry_units[e]]
        assert len(units) == sum(1 for text in unit_texts if words(text))
