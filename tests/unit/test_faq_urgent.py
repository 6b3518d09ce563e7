"""Emergencies: ``match(text).intent == "urgent"`` with the kind in ``urgent_kind``.

Measured on the real knowledge base (the detector skips typo readings of its own words, so
it depends on the base's vocabulary) with the labelled sets in ``tests/data/``:
``urgent.jsonl`` (the set the lexicon was built beside) and ``urgent_heldout.jsonl`` (written
afterwards and never tuned on: its floor is lower than the target on purpose -- read the
figures with ``otwarta faq urgent-eval``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from faq import Matcher, load_matcher
from faq.intents import URGENT_KINDS, IntentDetector
from faq.urgent_eval import evaluate_urgent, read_urgent_examples, run_urgent_eval

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return load_matcher()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("дитина впала і не дихає", "medical"),
        ("ребенок не дышит", "medical"),
        ("у мужа сердечный приступ", "medical"),
        ("людина без свідомості", "medical"),
        ("dziecko nie oddycha", "medical"),
        ("my child is not breathing", "medical"),
        ("lbnbyf yt lb[f'", "medical"),  # the same, typed on the US layout
        ("rebenok ne dyshit", "medical"),  # transliterated
        ("дитина нэ дыхает", "medical"),  # surzhyk with a typo
        ("нема де ночувати сьогодні з дітьми", "shelter"),
        ("мені погрожують і я боюся за своє життя", "danger"),
        ("мене б'є чоловік, допоможіть", "violence"),
        ("не хочу жити", "suicide"),
    ],
)
def test_the_issues_emergencies(matcher: Matcher, text: str, kind: str) -> None:
    result = matcher.match(text)
    assert result.intent == "urgent"
    assert result.urgent_kind == kind
    assert result.to_dict()["urgent_kind"] == kind


@pytest.mark.parametrize(
    "text",
    [
        "скорая помощь по NFZ платная?",
        "де купити аптечку",
        "лікар для дитини",
        "сердечні ліки рецепт",
        "реабілітація після інсульту для мами",
        "how many days can I be abroad with UKR status",  # "be" is not "б'є"
        "тимчасовий мельдунек на який строк роблять",  # "строк" is not "stroke"
        "бездомні тварини притулок",
        "меня преследуют на родине могу попросить защиту?",
    ],
)
def test_look_alikes_are_not_urgent(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.intent != "urgent"
    assert result.urgent_kind is None


def test_an_urgent_message_is_still_ranked(matcher: Matcher) -> None:
    result = matcher.match("пахне газом у квартирі куди дзвонити")
    assert result.intent == "urgent" and result.urgent_kind == "danger"
    assert result.candidates[0].entry_id == "emergency-numbers"


def test_past_symptoms_are_disarmed_but_a_new_one_is_not(matcher: Matcher) -> None:
    assert matcher.match("після інсульту у тата, де реабілітація").intent is None
    assert matcher.match("після інсульту тата знову перекосило обличчя").urgent_kind == "medical"


def test_the_detector_alone_knows_no_base_and_still_reads_danger() -> None:
    detector = IntentDetector()
    assert detector.classify(["ребенок", "не", "дышит"]) == ("urgent", "medical")
    assert detector.classify(["дякую"]) == ("thanks", None)
    assert detector.detect(["привіт"]) == "greeting"


def test_build_set_meets_the_targets(matcher: Matcher) -> None:
    examples = read_urgent_examples(DATA / "urgent.jsonl")
    assert sum(ex.urgent is not None for ex in examples) >= 80
    assert sum(ex.urgent is None for ex in examples) >= 80
    assert {ex.lang for ex in examples} == {"uk", "ru", "pl", "en"}
    figures = evaluate_urgent(matcher, examples)["all"]
    assert figures.recall is not None and figures.recall >= 0.98
    assert figures.false_alarms is not None and figures.false_alarms <= 0.05
    assert figures.kind_right is not None and figures.kind_right >= 0.95


def test_held_out_set_floor(matcher: Matcher) -> None:
    figures = evaluate_urgent(matcher, read_urgent_examples(DATA / "urgent_heldout.jsonl"))["all"]
    assert figures.recall is not None and figures.recall >= 0.95
    assert figures.false_alarms is not None and figures.false_alarms <= 0.05


def test_urgent_eval_report_and_bad_input(tmp_path: Path) -> None:
    report = run_urgent_eval(DATA / "urgent_heldout.jsonl")
    assert report.splitlines()[0].startswith("Urgent detection:")
    assert "lang:pl" in report and "misses (" in report
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "lang": "uk", "urgent": "fire", "tags": ["clean"]}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1: urgent must be null or one of"):
        read_urgent_examples(bad)
    assert "medical" in URGENT_KINDS
