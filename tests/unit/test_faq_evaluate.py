"""``otwarta faq eval``: the figures, the baseline, the report and its error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faq import load_matcher
from faq.evaluate import Example, Outcome, compute_metrics, format_match, percentile, run_eval
from tests.doubles.faq_synthetic_kb import write_kb


def ex(expected: str | None, tags: tuple[str, ...] = ("clean",), lang: str = "uk") -> Example:
    return Example(1, "text", lang, expected, tags)


def out(
    decision: str,
    ranked: tuple[str, ...],
    offered: tuple[str, ...] = (),
    ms: float = 1.0,
    lang: str | None = "uk",
) -> Outcome:
    return Outcome(decision, ranked, offered, lang, ms)


def test_metrics_by_hand() -> None:
    pairs = [
        (ex("a"), out("answer", ("a", "b"), ("a",), 1.0)),  # right answer
        (ex("a"), out("answer", ("b", "a"), ("b",), 2.0)),  # wrong answer, right in top 3
        (ex("b"), out("clarify", ("c", "b", "a"), ("c", "b"), 3.0)),  # clarify, offered
        (ex("c"), out("handoff", ("a", "b", "d", "c"), (), 4.0, lang="ru")),  # lost
        (ex(None), out("handoff", ("a",), (), 5.0)),  # rejected
        (ex(None), out("answer", ("a",), ("a",), 6.0)),  # out of scope answered: wrong
        (ex(None), out("clarify", ("a", "b"), ("a", "b"), 7.0)),  # not a rejection
    ]
    m = compute_metrics(pairs)
    assert (m.n, m.in_scope, m.out_of_scope) == (7, 4, 3)
    assert m.top1 == pytest.approx(1 / 4)
    assert m.recall3 == pytest.approx(3 / 4)
    assert m.answered_correctly == pytest.approx(1 / 4)
    assert m.confident_wrong == pytest.approx(2 / 7)
    assert m.oos_rejection == pytest.approx(1 / 3)
    assert m.helpful == pytest.approx(2 / 4)  # the right answer, and the right entry offered
    assert m.oos_no_answer == pytest.approx(2 / 3)  # handed off or offered: not answered
    assert m.clarify_rate == pytest.approx(2 / 7)
    assert m.clarify_success == pytest.approx(1 / 1)
    assert m.in_scope_handoff == pytest.approx(1 / 4)
    assert m.lang_accuracy == pytest.approx(6 / 7)
    assert m.latency_p50_ms == 4.0
    assert m.latency_p99_ms == 7.0


def test_metrics_without_out_of_scope_messages() -> None:
    m = compute_metrics([(ex("a"), out("answer", ("a",), ("a",)))])
    assert m.oos_rejection is None
    assert m.clarify_success is None


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 99) == 0.0
    assert percentile([5.0], 50) == 5.0
    assert percentile([float(i) for i in range(1, 101)], 99) == 99.0
    assert percentile([float(i) for i in range(1, 101)], 50) == 50.0


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kb(tmp_path_factory.mktemp("kb"))


def write_set(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


ROWS = [
    {"text": "як отримати песель", "lang": "uk", "expected": "pesel-ukr", "tags": ["clean"]},
    {
        "text": "как сделать мельдунек",
        "lang": "ru",
        "expected": "residence-registration",
        "tags": ["clean"],
    },
    {"text": "zr jnhbvfnb gtctkm", "lang": "uk", "expected": "pesel-ukr", "tags": ["layout"]},
    {"text": "800+", "lang": "uk", "expected": "benefit-800plus", "tags": ["clean", "keyword"]},
    {
        "text": "who won the football match yesterday",
        "lang": "en",
        "expected": None,
        "tags": ["clean", "oos-far"],
    },
]


def test_report_matches_the_matcher(kb_dir: Path, tmp_path: Path) -> None:
    path = write_set(tmp_path / "set.jsonl", ROWS)
    report = json.loads(run_eval(path, content_dir=kb_dir, as_json=True, list_errors=True))
    matcher = load_matcher(kb_dir)
    results = [matcher.match(r["text"]) for r in ROWS]
    inside = [(r, res) for r, res in zip(ROWS, results, strict=True) if r["expected"]]
    top1 = sum(res.candidates[0].entry_id == r["expected"] for r, res in inside) / len(inside)
    rejected = sum(
        res.decision == "handoff"
        for r, res in zip(ROWS, results, strict=True)
        if r["expected"] is None
    )
    ours = report["ours"]
    assert (ours["n"], ours["in_scope"], ours["out_of_scope"]) == (5, 4, 1)
    assert ours["top1"] == pytest.approx(top1)
    assert ours["oos_rejection"] == pytest.approx(rejected / 1)
    assert report["baseline"]["n"] == 5
    assert set(report["by_tag"]) == {"clean", "layout", "keyword", "oos-far"}
    assert report["by_tag"]["layout"]["ours"]["n"] == 1
    assert set(report["by_lang"]) == {"uk", "ru", "en"}
    assert isinstance(report["errors"], list)


def test_text_report_shows_both_columns(kb_dir: Path, tmp_path: Path) -> None:
    text = run_eval(write_set(tmp_path / "set.jsonl", ROWS), content_dir=kb_dir)
    assert "ours" in text and "naive" in text
    assert "top-1 accuracy" in text and "out of scope: nothing offered" in text
    assert "helpful: answered or offered" in text and "out of scope: no answer" in text
    assert "by tag" in text and "by language" in text
    no_baseline = run_eval(
        write_set(tmp_path / "b.jsonl", ROWS), content_dir=kb_dir, baseline=False
    )
    assert "top-1 accuracy" in no_baseline


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"text": "x", "lang": "uk", "tags": ["clean"]}', "missing field(s): expected"),
        ('{"text": "x", "lang": "de", "expected": null, "tags": ["clean"]}', "lang must be one of"),
        (
            '{"text": "x", "lang": "uk", "expected": "no-such-entry", "tags": ["clean"]}',
            "'no-such-entry' is not an entry id",
        ),
        (
            '{"text": "x", "lang": "uk", "expected": null, "tags": ["shiny"]}',
            "unknown tag(s): shiny",
        ),
        (
            '{"text": "x", "lang": "uk", "expected": null, "tags": ["keyword"]}',
            "exactly one form tag",
        ),
        ('{"text": 5, "lang": "uk", "expected": null, "tags": ["clean"]}', "text must be a string"),
        (
            '{"text": "x", "lang": "uk", "expected": null, "tags": ["clean"], "note": 1}',
            "unknown field(s): note",
        ),
    ],
)
def test_bad_lines_are_named(kb_dir: Path, tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps(ROWS[0], ensure_ascii=False)
    path.write_text(f"{good}\n\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError) as info:
        run_eval(path, content_dir=kb_dir)
    assert f"{path}:3:" in str(info.value)
    assert message in str(info.value)


def test_missing_and_empty_files(kb_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        run_eval(tmp_path / "missing.jsonl", content_dir=kb_dir)
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no examples"):
        run_eval(tmp_path / "empty.jsonl", content_dir=kb_dir)


def test_format_match_names_the_entries(kb_dir: Path) -> None:
    matcher = load_matcher(kb_dir)
    text = format_match(matcher.match("як отримати песель"), matcher, 3)
    assert "decision:" in text and "pesel-ukr" in text and "Номер PESEL UKR" in text
    assert "candidates: none" in format_match(matcher.match("дякую"), matcher, 3)


def test_alt_counts_as_right_everywhere() -> None:
    both = Example(1, "text", "uk", "a", ("clean",), alt="b")
    pairs = [
        (both, out("answer", ("b", "a"), ("b",))),  # the alt answered: right, not wrong
        (both, out("clarify", ("c", "b"), ("c", "b"))),  # alt offered in a clarification
        (both, out("answer", ("c", "a"), ("c",))),  # a third entry: wrong
    ]
    m = compute_metrics(pairs)
    assert m.top1 == pytest.approx(1 / 3)
    assert m.recall3 == pytest.approx(1.0)
    assert m.answered_correctly == pytest.approx(1 / 3)
    assert m.confident_wrong == pytest.approx(1 / 3)
    assert m.clarify_success == pytest.approx(1.0)
    assert not both.accepts(None) and both.accepts("a") and both.accepts("b")


def test_real_question_fields_are_read_and_checked(tmp_path: Path) -> None:
    kb = write_kb(tmp_path / "kb")
    ids = load_matcher(kb).kb.entries
    good = {
        "text": "Як записатися до лікаря без знання польської?",
        "lang": "uk",
        "expected": "doctor-visit",
        "alt": "pesel-ukr",
        "tags": ["clean", "guide"],
        "source": "https://example.org/faq",
    }
    path = tmp_path / "real.jsonl"
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n", encoding="utf-8")
    from faq.evaluate import read_examples

    (example,) = read_examples(path, ids)
    assert (example.expected, example.alt, example.tags) == (
        "doctor-visit",
        "pesel-ukr",
        ("clean", "guide"),
    )
    for bad, message in (
        ({**good, "alt": "no-such-entry"}, "alt"),
        ({**good, "expected": None, "tags": ["clean", "oos-near"]}, "alt"),
        ({**good, "author": "x"}, "unknown field"),
    ):
        path.write_text(json.dumps(bad, ensure_ascii=False) + "\n", encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            read_examples(path, ids)


def test_the_real_question_set_is_valid_and_shaped_as_promised() -> None:
    from faq.evaluate import read_examples

    root = Path(__file__).resolve().parents[1]
    examples = read_examples(root / "data" / "real_dev.jsonl", load_matcher().kb.entries)
    lines = [
        json.loads(x)
        for x in (root / "data" / "real_dev.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(examples) >= 200
    assert sum(ex.lang in ("uk", "ru") for ex in examples) >= 0.6 * len(examples)
    assert len({ex.expected for ex in examples if ex.expected}) >= 40
    oos = sum(ex.expected is None for ex in examples)
    assert 0.10 * len(examples) <= oos <= 0.20 * len(examples)
    assert all(line["source"].startswith("http") for line in lines)
    assert all(("forum" in ex.tags) != ("guide" in ex.tags) for ex in examples)
