"""``otwarta faq eval`` and ``otwarta faq ask``: measuring the matcher on a labelled set.

The set's format is ``shared/eval/README.md``: one JSON object a line with ``text``,
``lang``, ``expected`` (an entry id or ``null``) and ``tags``.

**Dialogs** (follow-ups in context) are a second format, told apart by a ``turns`` field::

    {"lang": "uk", "tags": ["same"], "turns": [
        {"text": "де зробити песель укр", "expected": "pesel-ukr"},
        {"text": "а для дітей що треба", "expected": "pesel-ukr"}]}

Two or three turns, each with the entry that should answer it (``null``: none should). Tags
say what the later turns are: ``same`` (an aspect of the entry just shown), ``related`` (a
neighbouring entry, said briefly), ``new`` (a new topic). Each turn is matched with the
context a person would have (:class:`faq.followup.MatchContext`): the entry the bot
answered, or the expected one if the bot offered it ("Maybe one of these?": they tap it),
else none. A turn is *right* when the expected entry is answered (for ``null``: nothing is
answered); *helpful* when it is answered or offered. The same matcher without context and
the naive baseline are measured on the same turns. Every figure is computed for
our matcher and, in the same run, for the naive baseline (rapidfuzz ``extractOne`` with
``WRatio`` over every question of the knowledge base, ``score_cutoff=85``: answer on a hit,
else hand off), so the two can be read side by side.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process, utils

from faq.content import KnowledgeBase
from faq.followup import MatchContext
from faq.languages import LANGS
from faq.matcher import Candidate, Matcher, MatchResult, load_matcher

FORM_TAGS = frozenset({"clean", "typo", "translit", "layout", "surzhyk"})
EXTRA_TAGS = frozenset({"keyword", "long", "oos-near", "oos-far", "forum", "guide"})
FIELDS = frozenset({"text", "lang", "expected", "tags"})
OPTIONAL_FIELDS = frozenset({"alt", "source"})
"""``alt``: a second entry id that answers the message as well (real questions often fit
two entries); ``source``: where a real question was found. ``forum``/``guide`` tag who
wrote it (a person asking, or a guide's question heading)."""
BASELINE_CUTOFF = 85.0


@dataclass(frozen=True, slots=True)
class Example:
    line: int
    text: str
    lang: str
    expected: str | None
    tags: tuple[str, ...]
    alt: str | None = None

    def accepts(self, entry_id: str | None) -> bool:
        """Whether ``entry_id`` is a right answer: the expected entry or its ``alt``."""
        return entry_id is not None and entry_id in (self.expected, self.alt)

    def right(self, ids: Sequence[str]) -> bool:
        """Whether the first of ``ids`` is right (an out-of-scope message has none)."""
        return bool(ids) and self.accepts(ids[0])


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one matcher did with one example."""

    decision: str
    ranked: tuple[str, ...]
    offered: tuple[str, ...]
    lang: str | None
    elapsed_ms: float


# --- reading the set -----------------------------------------------------------------------


def jsonl_objects(path: Path | str) -> Iterator[tuple[int, str, object]]:
    """``(line number, "file:line", parsed JSON)`` for each non-blank line of a labelled set;
    :class:`ValueError` names the file (and the line) that cannot be read."""
    path = Path(path)
    try:
        raw_lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: invalid JSON: {exc.msg}") from None
        yield number, where, obj


def read_examples(path: Path | str, known_ids: Iterable[str]) -> list[Example]:
    """Parse and validate a JSONL set; :class:`ValueError` names the file and line."""
    path = Path(path)
    ids = set(known_ids)
    examples = [_example(obj, where, number, ids) for number, where, obj in jsonl_objects(path)]
    if not examples:
        raise ValueError(f"{path}: no examples")
    return examples


def _example(obj: object, where: str, number: int, ids: set[str]) -> Example:
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object")
    missing = FIELDS - obj.keys()
    if missing:
        raise ValueError(f"{where}: missing field(s): {', '.join(sorted(missing))}")
    unknown = obj.keys() - FIELDS - OPTIONAL_FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown field(s): {', '.join(sorted(unknown))}")
    text, lang, expected, tags = obj["text"], obj["lang"], obj["expected"], obj["tags"]
    if not isinstance(text, str):
        raise ValueError(f"{where}: text must be a string")
    if lang not in LANGS:
        raise ValueError(f"{where}: lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if expected is not None and (not isinstance(expected, str) or expected not in ids):
        raise ValueError(f"{where}: expected {expected!r} is not an entry id of the knowledge base")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError(f"{where}: tags must be a list of strings")
    bad = [t for t in tags if t not in FORM_TAGS | EXTRA_TAGS]
    if bad:
        raise ValueError(f"{where}: unknown tag(s): {', '.join(bad)}")
    forms = [t for t in tags if t in FORM_TAGS]
    if len(forms) != 1:
        raise ValueError(
            f"{where}: needs exactly one form tag ({', '.join(sorted(FORM_TAGS))}), got {forms}"
        )
    oos = {"oos-near", "oos-far"} & set(tags)
    if oos and expected is not None:
        raise ValueError(f"{where}: tagged {sorted(oos)[0]} but expects {expected!r}")
    alt = obj.get("alt")
    if alt is not None and (expected is None or not isinstance(alt, str) or alt not in ids):
        raise ValueError(f"{where}: alt {alt!r} is not an entry id (or expected is null)")
    return Example(number, text, lang, expected, tuple(tags), alt)


# --- the two matchers ----------------------------------------------------------------------


def ours(matcher: Matcher) -> Callable[[str], Outcome]:
    def run(text: str) -> Outcome:
        started = time.perf_counter()
        result = matcher.match(text)
        elapsed = (time.perf_counter() - started) * 1000.0
        return Outcome(
            result.decision,
            tuple(c.entry_id for c in result.candidates),
            result.offered,
            result.lang,
            elapsed,
        )

    return run


def naive_baseline(kb: KnowledgeBase) -> Callable[[str], Outcome]:
    """rapidfuzz ``WRatio`` over every question string: answer if the best reaches 85."""
    choices: list[str] = []
    owners: list[str] = []
    for entry_id, entry in kb.entries.items():
        for _, questions in entry.questions.items():
            choices += questions
            owners += [entry_id] * len(questions)

    def run(text: str) -> Outcome:
        started = time.perf_counter()
        hit = process.extractOne(
            text,
            choices,
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            score_cutoff=BASELINE_CUTOFF,
        )
        # The ranking (for top-1 / recall@3) ignores the cutoff, as the decision does not.
        ranked: list[str] = []
        for _, _, i in process.extract(
            text, choices, scorer=fuzz.WRatio, processor=utils.default_process, limit=60
        ):
            if owners[i] not in ranked:
                ranked.append(owners[i])
        elapsed = (time.perf_counter() - started) * 1000.0
        if hit is None:
            return Outcome("handoff", tuple(ranked), (), None, elapsed)
        return Outcome("answer", tuple(ranked), (owners[hit[2]],), None, elapsed)

    return run


# --- metrics -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Metrics:
    n: int
    in_scope: int
    out_of_scope: int
    top1: float | None
    recall3: float | None
    answered_correctly: float | None
    helpful: float | None
    """In scope: the right entry answered, or among those offered ("Maybe one of these?")."""
    confident_wrong: float
    oos_no_answer: float | None
    """Out of scope: not answered (offering entries is allowed)."""
    oos_rejection: float | None
    """Out of scope: nothing offered at all (``handoff``)."""
    clarify_rate: float
    clarify_success: float | None
    in_scope_handoff: float | None
    lang_accuracy: float | None
    latency_p50_ms: float
    latency_p99_ms: float


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in [0, 100]); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def compute_metrics(pairs: Sequence[tuple[Example, Outcome]]) -> Metrics:
    inside = [(ex, out) for ex, out in pairs if ex.expected is not None]
    outside = [(ex, out) for ex, out in pairs if ex.expected is None]
    top1 = sum(1 for ex, out in inside if ex.right(out.ranked))
    recall3 = sum(1 for ex, out in inside if any(map(ex.accepts, out.ranked[:3])))
    answered_ok = sum(1 for ex, out in inside if out.decision == "answer" and ex.right(out.offered))
    confident_wrong = sum(
        1 for ex, out in pairs if out.decision == "answer" and not ex.right(out.offered)
    )
    rejected = sum(1 for _, out in outside if out.decision == "handoff")
    not_answered = sum(1 for _, out in outside if out.decision != "answer")
    helpful = sum(
        1
        for ex, out in inside
        if (out.decision == "answer" and out.offered[:1] == (ex.expected,))
        or (out.decision == "clarify" and ex.expected in out.offered)
    )
    clarified = [(ex, out) for ex, out in pairs if out.decision == "clarify"]
    clarified_in = [(ex, out) for ex, out in clarified if ex.expected is not None]
    clarify_ok = sum(1 for ex, out in clarified_in if any(map(ex.accepts, out.offered)))
    handed_off = sum(1 for _, out in inside if out.decision == "handoff")
    with_lang = [(ex, out) for ex, out in pairs if out.lang is not None]
    lang_ok = sum(1 for ex, out in with_lang if out.lang == ex.lang)
    latencies = [out.elapsed_ms for _, out in pairs]
    return Metrics(
        n=len(pairs),
        in_scope=len(inside),
        out_of_scope=len(outside),
        top1=_ratio(top1, len(inside)),
        recall3=_ratio(recall3, len(inside)),
        answered_correctly=_ratio(answered_ok, len(inside)),
        helpful=_ratio(helpful, len(inside)),
        confident_wrong=confident_wrong / len(pairs) if pairs else 0.0,
        oos_no_answer=_ratio(not_answered, len(outside)),
        oos_rejection=_ratio(rejected, len(outside)),
        clarify_rate=len(clarified) / len(pairs) if pairs else 0.0,
        clarify_success=_ratio(clarify_ok, len(clarified_in)),
        in_scope_handoff=_ratio(handed_off, len(inside)),
        lang_accuracy=_ratio(lang_ok, len(with_lang)),
        latency_p50_ms=percentile(latencies, 50),
        latency_p99_ms=percentile(latencies, 99),
    )


@dataclass(frozen=True, slots=True)
class Report:
    ours: Metrics
    baseline: Metrics | None
    by_tag: dict[str, tuple[Metrics, Metrics | None]]
    by_lang: dict[str, tuple[Metrics, Metrics | None]]
    errors: list[dict[str, Any]]


def evaluate(
    examples: Sequence[Example],
    run_ours: Callable[[str], Outcome],
    run_baseline: Callable[[str], Outcome] | None,
) -> Report:
    mine = [(ex, run_ours(ex.text)) for ex in examples]
    base = [(ex, run_baseline(ex.text)) for ex in examples] if run_baseline else None

    def split(key: Callable[[Example], Iterable[str]]) -> dict[str, tuple[Metrics, Metrics | None]]:
        groups: dict[str, list[int]] = {}
        for i, ex in enumerate(examples):
            for name in key(ex):
                groups.setdefault(name, []).append(i)
        return {
            name: (
                compute_metrics([mine[i] for i in idx]),
                compute_metrics([base[i] for i in idx]) if base else None,
            )
            for name, idx in sorted(groups.items())
        }

    errors = []
    for ex, out in mine:
        wrong_top = ex.expected is not None and not ex.right(out.ranked)
        wrong_answer = out.decision == "answer" and not ex.right(out.offered)
        missed_oos = ex.expected is None and out.decision != "handoff"
        if wrong_top or wrong_answer or missed_oos:
            errors.append(
                {
                    "line": ex.line,
                    "text": ex.text,
                    "tags": list(ex.tags),
                    "expected": ex.expected,
                    "decision": out.decision,
                    "top": list(out.ranked[:3]),
                }
            )
    return Report(
        ours=compute_metrics(mine),
        baseline=compute_metrics(base) if base else None,
        by_tag=split(lambda ex: ex.tags),
        by_lang=split(lambda ex: (ex.lang,)),
        errors=errors,
    )


# --- dialogs (follow-ups in context) -------------------------------------------------------

DIALOG_TAGS = frozenset({"same", "related", "new"})


@dataclass(frozen=True, slots=True)
class Dialog:
    line: int
    lang: str
    tags: tuple[str, ...]
    turns: tuple[tuple[str, str | None], ...]
    """(text, expected entry id or ``None``) per turn."""


def is_dialog_file(path: Path) -> bool:
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip():
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError:
                return False
            return isinstance(obj, dict) and "turns" in obj
    return False


def read_dialogs(path: Path | str, known_ids: Iterable[str]) -> list[Dialog]:
    """Parse and validate a dialog JSONL set; :class:`ValueError` names the file and line."""
    path = Path(path)
    ids = set(known_ids)
    dialogs: list[Dialog] = []
    for number, where, obj in jsonl_objects(path):
        if not isinstance(obj, dict) or set(obj) != {"lang", "tags", "turns"}:
            raise ValueError(f"{where}: expected an object with lang, tags and turns")
        lang, tags, turns = obj["lang"], obj["tags"], obj["turns"]
        if lang not in LANGS:
            raise ValueError(f"{where}: lang must be one of {', '.join(LANGS)}, not {lang!r}")
        if not isinstance(tags, list) or not set(tags) <= DIALOG_TAGS:
            raise ValueError(f"{where}: tags must be among {', '.join(sorted(DIALOG_TAGS))}")
        if not isinstance(turns, list) or not 2 <= len(turns) <= 3:
            raise ValueError(f"{where}: a dialog has two or three turns")
        parsed: list[tuple[str, str | None]] = []
        for turn in turns:
            if not isinstance(turn, dict) or set(turn) != {"text", "expected"}:
                raise ValueError(f"{where}: each turn is an object with text and expected")
            text, expected = turn["text"], turn["expected"]
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{where}: a turn's text must be a non-empty string")
            if expected is not None and expected not in ids:
                raise ValueError(f"{where}: expected {expected!r} is not an entry id")
            parsed.append((text, expected))
        dialogs.append(Dialog(number, lang, tuple(tags), tuple(parsed)))
    if not dialogs:
        raise ValueError(f"{path}: no dialogs")
    return dialogs


@dataclass(frozen=True, slots=True)
class DialogFigures:
    turns: int
    first_right: float
    later_turns: int
    later_right: float
    later_helpful: float


def _turn(decision: str, offered: tuple[str, ...], expected: str | None) -> tuple[bool, bool]:
    """(right, helpful) of one turn's outcome."""
    answered = decision == "answer"
    if expected is None:
        return not answered, decision == "handoff"
    right = answered and offered[:1] == (expected,)
    return right, right or (decision == "clarify" and expected in offered)


def run_dialogs(
    dialogs: Sequence[Dialog],
    step: Callable[[str, str | None], tuple[str, tuple[str, ...]]],
    tags: frozenset[str] | None = None,
) -> tuple[DialogFigures, list[dict[str, Any]]]:
    """Play every dialog; ``step(text, context entry)`` -> (decision, offered)."""
    first = later = later_ok = later_helpful = 0
    errors: list[dict[str, Any]] = []
    for dialog in dialogs:
        if tags is not None and not tags & set(dialog.tags):
            continue
        context: str | None = None
        for i, (text, expected) in enumerate(dialog.turns):
            decision, offered = step(text, context)
            right, helpful = _turn(decision, offered, expected)
            if i == 0:
                first += right
            else:
                later += 1
                later_ok += right
                later_helpful += helpful
                if not right:
                    errors.append(
                        {
                            "line": dialog.line,
                            "turn": i + 1,
                            "text": text,
                            "context": context,
                            "expected": expected,
                            "decision": decision,
                            "offered": list(offered),
                        }
                    )
            if decision == "answer" and offered:
                context = offered[0]
            elif decision == "clarify" and expected in offered:
                context = expected
            else:
                context = None
    n = sum(1 for d in dialogs if tags is None or tags & set(d.tags))
    return (
        DialogFigures(
            n + later,
            first / n if n else 0.0,
            later,
            later_ok / later if later else 0.0,
            later_helpful / later if later else 0.0,
        ),
        errors,
    )


def dialog_report(
    dialogs: Sequence[Dialog], matcher: Matcher, kb: KnowledgeBase | None, list_errors: bool
) -> dict[str, Any]:
    def with_context(text: str, context: str | None) -> tuple[str, tuple[str, ...]]:
        r = matcher.match(text, context=MatchContext(context) if context else None)
        return r.decision, r.offered

    def without_context(text: str, context: str | None) -> tuple[str, tuple[str, ...]]:
        r = matcher.match(text)
        return r.decision, r.offered

    runners: dict[str, Callable[[str, str | None], tuple[str, tuple[str, ...]]]] = {
        "ours": with_context,
        "ours, no context": without_context,
    }
    if kb is not None:
        naive = naive_baseline(kb)

        def baseline(text: str, context: str | None) -> tuple[str, tuple[str, ...]]:
            out = naive(text)
            return out.decision, out.offered

        runners["naive"] = baseline
    report: dict[str, Any] = {"dialogs": len(dialogs)}
    for name, step in runners.items():
        figures, errors = run_dialogs(dialogs, step)
        report[name] = asdict(figures)
        report[name]["by_tag"] = {
            tag: asdict(run_dialogs(dialogs, step, frozenset({tag}))[0])
            for tag in sorted({t for d in dialogs for t in d.tags})
        }
        if list_errors and name == "ours":
            report["errors"] = errors
    return report


def format_dialog_report(report: dict[str, Any], path: Path) -> str:
    names = [n for n in ("ours", "ours, no context", "naive") if n in report]
    lines = [
        f"FAQ follow-up dialogs: {path}",
        f"{report['dialogs']} dialogs",
        "",
        f"{'metric':<30}" + "".join(f"{n:>18}" for n in names),
        "-" * (30 + 18 * len(names)),
    ]
    for label, key in (
        ("first turns right", "first_right"),
        ("later turns right", "later_right"),
        ("later turns helpful", "later_helpful"),
    ):
        lines.append(f"{label:<30}" + "".join(f"{_pct(report[n][key]):>18}" for n in names))
    tags = sorted(report["ours"]["by_tag"])
    for tag in tags:
        label = f"later turns right: {tag}"
        lines.append(
            f"{label:<30}"
            + "".join(f"{_pct(report[n]['by_tag'][tag]['later_right']):>18}" for n in names)
        )
    if "errors" in report:
        lines += ["", f"later turns missed ({len(report['errors'])}):"]
        for err in report["errors"]:
            lines.append(
                f"  line {err['line']} turn {err['turn']}: {err['text']!r} after "
                f"{err['context']} expected {err['expected']} -> {err['decision']} "
                f"{err['offered']}"
            )
    return "\n".join(lines)


# --- the command ---------------------------------------------------------------------------


def run_eval(
    file: Path | str,
    content_dir: Path | str | None = None,
    as_json: bool = False,
    baseline: bool = True,
    list_errors: bool = False,
) -> str:
    """``otwarta faq eval``: the report as text (or JSON). Bad input -> ValueError."""
    path = Path(file)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    matcher = load_matcher(content_dir)
    if is_dialog_file(path):
        dialogs = read_dialogs(path, matcher.kb.entries)
        dreport = dialog_report(dialogs, matcher, matcher.kb if baseline else None, list_errors)
        if as_json:
            return json.dumps({"file": str(path), **dreport}, ensure_ascii=False, indent=2)
        return format_dialog_report(dreport, path)
    examples = read_examples(path, matcher.kb.entries)
    report = evaluate(examples, ours(matcher), naive_baseline(matcher.kb) if baseline else None)
    if as_json:
        return json.dumps(_report_dict(report, path, list_errors), ensure_ascii=False, indent=2)
    return format_report(report, path, list_errors)


def _report_dict(report: Report, path: Path, list_errors: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "file": str(path),
        "ours": asdict(report.ours),
        "baseline": asdict(report.baseline) if report.baseline else None,
        "by_tag": {
            k: {"ours": asdict(a), "baseline": asdict(b) if b else None}
            for k, (a, b) in report.by_tag.items()
        },
        "by_lang": {
            k: {"ours": asdict(a), "baseline": asdict(b) if b else None}
            for k, (a, b) in report.by_lang.items()
        },
    }
    if list_errors:
        out["errors"] = report.errors
    return out


def _pct(value: float | None) -> str:
    return "   -" if value is None else f"{value * 100:5.1f}%"


_ROWS: tuple[tuple[str, str, bool], ...] = (
    ("top-1 accuracy (in scope)", "top1", True),
    ("recall@3 (in scope)", "recall3", True),
    ("answered correctly (in scope)", "answered_correctly", True),
    ("helpful: answered or offered", "helpful", True),
    ("confident wrong (all)", "confident_wrong", True),
    ("out of scope: no answer", "oos_no_answer", True),
    ("out of scope: nothing offered", "oos_rejection", True),
    ("clarify rate (all)", "clarify_rate", True),
    ("clarify success", "clarify_success", True),
    ("handed off (in scope)", "in_scope_handoff", True),
    ("reply language right", "lang_accuracy", True),
    ("latency p50", "latency_p50_ms", False),
    ("latency p99", "latency_p99_ms", False),
)


def format_report(report: Report, path: Path, list_errors: bool = False) -> str:
    mine, base = report.ours, report.baseline
    lines = [
        f"FAQ matcher evaluation: {path}",
        f"{mine.n} messages: {mine.in_scope} in scope, {mine.out_of_scope} out of scope",
        "",
        f"{'metric':<32}{'ours':>10}{'naive':>10}",
        "-" * 52,
    ]
    for label, attr, is_pct in _ROWS:
        a = getattr(mine, attr)
        b = getattr(base, attr) if base else None
        if is_pct:
            lines.append(f"{label:<32}{_pct(a):>10}{_pct(b) if base else '':>10}")
        else:
            fb = f"{b:7.2f} ms" if base else ""
            lines.append(f"{label:<32}{a:7.2f} ms{fb:>10}")
    for title, groups in (("by tag", report.by_tag), ("by language", report.by_lang)):
        lines += [
            "",
            f"{title:<12}{'n':>5}  {'top-1':>13}  {'recall@3':>13}  {'answered ok':>13}"
            f"  {'conf. wrong':>13}  {'oos rejected':>13}",
            f"{'':<12}{'':>5}  " + "  ".join(f"{'ours':>6} {'naive':>6}" for _ in range(5)),
        ]
        for name, (a, b) in groups.items():
            cells = []
            for attr in (
                "top1",
                "recall3",
                "answered_correctly",
                "confident_wrong",
                "oos_rejection",
            ):
                va = getattr(a, attr)
                vb = getattr(b, attr) if b else None
                cells.append(f"{_short(va):>6} {_short(vb) if b else '':>6}")
            lines.append(f"{name:<12}{a.n:>5}  " + "  ".join(cells))
    if list_errors:
        lines += ["", f"misses ({len(report.errors)}):"]
        for err in report.errors:
            lines.append(
                f"  line {err['line']}: {err['text'][:90]!r} [{','.join(err['tags'])}] "
                f"expected {err['expected']} -> {err['decision']} {err['top']}"
            )
    return "\n".join(lines)


def _short(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def format_match(result: MatchResult, matcher: Matcher, top: int = 5) -> str:
    """``otwarta faq ask``: decision, intent, language and the top candidates with titles."""
    lines = [
        f"decision: {result.decision}",
        f"intent:   {result.intent or '-'}",
        f"lang:     {result.lang}",
    ]
    if result.offered:
        lines.append(f"offered:  {', '.join(result.offered)}")
    if result.debug.get("layout"):
        lines.append(f"layout:   typed on the wrong keyboard, read as {result.debug['layout']}")
    if result.candidates:
        lines.append("candidates:")
        for c in result.candidates[:top]:
            lines.append(f"  {c.score:.3f}  {c.entry_id:<26} {_title(matcher, c, result.lang)}")
    else:
        lines.append("candidates: none")
    lines.append(f"time:     {result.elapsed_ms:.2f} ms")
    return "\n".join(lines)


def _title(matcher: Matcher, candidate: Candidate, lang: str) -> str:
    entry = matcher.kb.entries.get(candidate.entry_id)
    return entry.title.get(lang) if entry is not None else ""
