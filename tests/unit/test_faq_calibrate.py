"""The answer bar of long messages: the matcher applies it, the calibrator chooses it."""

from __future__ import annotations

import dataclasses

import pytest

from faq import DEFAULT_CONFIG, Matcher, load_matcher
from faq.calibrate import Scored, choose_long, outcome, sweep_long
from faq.content import load_knowledge_base
from faq.matcher import answer_bar
from tests.doubles.faq_synthetic_kb import write_kb

LONG = "Добрий день, ми з дітьми приїхали з Харкова минулого тижня, як отримати песель укр"
SHORT = "як отримати песель укр"


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(write_kb(tmp_path_factory.mktemp("kb")))


def test_a_long_message_needs_the_long_bar_for_a_direct_answer(kb_dir: str) -> None:
    plain = load_matcher(kb_dir)
    long_result, short_result = plain.match(LONG), plain.match(SHORT)
    assert long_result.decision == short_result.decision == "answer"
    assert len(long_result.debug["tokens"]) >= 9 > len(short_result.debug["tokens"])
    # A bar just above the long message's score: it is offered, the short one still answered.
    strict = dataclasses.replace(
        DEFAULT_CONFIG,
        long_message_tokens=9,
        long_answer_min=long_result.candidates[0].score + 0.01,
    )
    matcher = Matcher(load_knowledge_base(kb_dir), strict)
    offered = matcher.match(LONG)
    assert offered.decision == "clarify"
    assert offered.offered[0] == long_result.offered[0]
    assert matcher.match(SHORT).decision == "answer"


def test_the_long_bar_applies_from_long_message_tokens_words() -> None:
    cfg = dataclasses.replace(
        DEFAULT_CONFIG, long_message_tokens=9, long_answer_min=0.6, long_answer_margin=0.2
    )
    assert answer_bar(cfg, 8) == (cfg.answer_min, cfg.answer_margin)
    assert answer_bar(cfg, 9) == (0.6, 0.2)


def _item(expected: str | None, best: str, score: float, tokens: int, source: int) -> Scored:
    return Scored(expected, (best, "other"), (score, 0.1), False, None, tokens, source)


def test_the_calibrator_holds_confident_wrong_on_each_set_on_its_own() -> None:
    # Set 0: 100 short messages answered right. Set 1: 100 long ones, 90 right at 0.70 and
    # 10 wrong at 0.50: pooled, 10 wrong in 200 is within 2%; on set 1 alone it is 10%.
    items = [_item("a", "a", 0.9, 4, 0) for _ in range(100)]
    items += [_item("b", "b", 0.7, 12, 1) for _ in range(90)]
    items += [_item("b", "c", 0.5, 12, 1) for _ in range(10)]
    base = dataclasses.replace(DEFAULT_CONFIG, answer_min=0.44, answer_margin=0.08)
    cfg, total = choose_long(sweep_long(items, base))
    assert cfg.long_message_tokens <= 12
    assert 0.5 < cfg.long_answer_min <= 0.7
    assert total.confident_wrong == 0
    assert total.answered_ok == 190  # the right long answers stay direct
    # the ten wrong ones are offered instead (their right entry was never among the scores)
    assert outcome([i for i in items if i.source == 1], cfg).clarified == 10
