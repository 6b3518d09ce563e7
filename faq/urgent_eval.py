"""``otwarta faq urgent-eval``: how well the matcher tells an emergency from a look-alike.

A set is JSONL, one message a line: ``text``, ``lang`` (``uk``/``ru``/``pl``/``en``),
``urgent`` (the kind of emergency, one of :data:`faq.intents.URGENT_KINDS`, or ``null`` for
a message that must *not* be read as one) and ``tags`` (one form tag, as in the FAQ set:
``clean``, ``typo``, ``translit``, ``layout``, ``surzhyk``). Figures:

- *recall*: urgent messages read as ``urgent`` (any kind);
- *false alarms*: non-urgent messages read as ``urgent``;
- *kind right*: urgent messages read with their own kind (the reply's number depends on it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faq.content import LANGS
from faq.evaluate import FORM_TAGS, jsonl_objects
from faq.intents import URGENT_KINDS
from faq.matcher import Matcher, load_matcher

FIELDS = frozenset({"text", "lang", "urgent", "tags"})


@dataclass(frozen=True, slots=True)
class UrgentExample:
    line: int
    text: str
    lang: str
    urgent: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UrgentFigures:
    urgent: int
    other: int
    recall: float | None
    false_alarms: float | None
    kind_right: float | None


def read_urgent_examples(path: Path | str) -> list[UrgentExample]:
    """Parse and validate a set; :class:`ValueError` names the file and line."""
    path = Path(path)
    out: list[UrgentExample] = []
    for number, where, obj in jsonl_objects(path):
        if not isinstance(obj, dict) or set(obj) != FIELDS:
            raise ValueError(f"{where}: expected an object with {', '.join(sorted(FIELDS))}")
        text, lang, kind, tags = obj["text"], obj["lang"], obj["urgent"], obj["tags"]
        if not isinstance(text, str) or lang not in LANGS:
            raise ValueError(f"{where}: text must be a string and lang one of {LANGS}")
        if kind is not None and kind not in URGENT_KINDS:
            raise ValueError(f"{where}: urgent must be null or one of {', '.join(URGENT_KINDS)}")
        if not isinstance(tags, list) or len([t for t in tags if t in FORM_TAGS]) != 1:
            raise ValueError(f"{where}: tags need exactly one form tag")
        out.append(UrgentExample(number, text, lang, kind, tuple(tags)))
    if not out:
        raise ValueError(f"{path}: no examples")
    return out


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def figures(pairs: list[tuple[UrgentExample, str | None, str | None]]) -> UrgentFigures:
    """From (example, intent, kind) triples."""
    urgent = [(ex, i, k) for ex, i, k in pairs if ex.urgent is not None]
    other = [(ex, i, k) for ex, i, k in pairs if ex.urgent is None]
    return UrgentFigures(
        urgent=len(urgent),
        other=len(other),
        recall=_ratio(sum(1 for _, i, _ in urgent if i == "urgent"), len(urgent)),
        false_alarms=_ratio(sum(1 for _, i, _ in other if i == "urgent"), len(other)),
        kind_right=_ratio(sum(1 for ex, _, k in urgent if k == ex.urgent), len(urgent)),
    )


def evaluate_urgent(matcher: Matcher, examples: list[UrgentExample]) -> dict[str, Any]:
    pairs = []
    for ex in examples:
        result = matcher.match(ex.text)
        pairs.append((ex, result.intent, result.urgent_kind))
    groups: dict[str, list[tuple[UrgentExample, str | None, str | None]]] = {}
    for pair in pairs:
        for name in (f"lang:{pair[0].lang}", *(f"tag:{t}" for t in pair[0].tags)):
            groups.setdefault(name, []).append(pair)
    misses = [
        {"line": ex.line, "text": ex.text, "expected": ex.urgent, "got": kind}
        for ex, intent, kind in pairs
        if (ex.urgent is None) != (intent != "urgent") or (ex.urgent and kind != ex.urgent)
    ]
    return {
        "all": figures(pairs),
        "groups": {name: figures(g) for name, g in sorted(groups.items())},
        "misses": misses,
    }


def _pct(value: float | None) -> str:
    return "    -" if value is None else f"{value * 100:5.1f}%"


def run_urgent_eval(
    file: Path | str, content_dir: Path | str | None = None, as_json: bool = False
) -> str:
    path = Path(file)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    examples = read_urgent_examples(path)
    report = evaluate_urgent(load_matcher(content_dir), examples)
    if as_json:
        return json.dumps(
            {
                "file": str(path),
                **_json_figures(report),
            },
            ensure_ascii=False,
            indent=2,
        )
    lines = [f"Urgent detection: {path}", ""]
    lines.append(f"{'':<14}{'urgent':>7}{'other':>7}{'recall':>9}{'false al.':>11}{'kind ok':>9}")
    rows = [("all", report["all"]), *report["groups"].items()]
    for name, f in rows:
        lines.append(
            f"{name:<14}{f.urgent:>7}{f.other:>7}{_pct(f.recall):>9}"
            f"{_pct(f.false_alarms):>11}{_pct(f.kind_right):>9}"
        )
    lines += ["", f"misses ({len(report['misses'])}):"]
    for miss in report["misses"]:
        lines.append(
            f"  line {miss['line']}: {miss['text'][:80]!r} expected {miss['expected']}"
            f" -> {miss['got']}"
        )
    return "\n".join(lines)


def _json_figures(report: dict[str, Any]) -> dict[str, Any]:
    def one(f: UrgentFigures) -> dict[str, Any]:
        return {
            "urgent": f.urgent,
            "other": f.other,
            "recall": f.recall,
            "false_alarms": f.false_alarms,
            "kind_right": f.kind_right,
        }

    return {
        "all": one(report["all"]),
        "groups": {k: one(v) for k, v in report["groups"].items()},
        "misses": report["misses"],
    }
