"""Calibrate the decision thresholds of :class:`faq.config.MatcherConfig` on a labelled set.

    .venv/bin/python -m faq.calibrate ../shared/eval/dev.jsonl [--dir content] [--set k=v ...]

Scores every message once, then sweeps ``answer_min``, ``answer_margin``, ``handoff_below``
and ``clarify_window`` over a grid. Among settings with confident-wrong <= 3% (a wrong
``answer``, out-of-scope included, over all messages) and out-of-scope rejection >= 90%,
each with one message to spare,
it keeps the one with the most correct answers plus half the successful clarifications
minus two per wrong answer, breaking ties towards the middle of the best plateau (not a
knife edge).
``--set`` overrides scoring weights for an experiment (``--set coverage_weight=0.6``).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from faq.config import DEFAULT_CONFIG, MatcherConfig
from faq.content import load_knowledge_base
from faq.evaluate import Example, read_examples
from faq.matcher import Matcher
from faq.semantic import load_semantic

MAX_CONFIDENT_WRONG = 0.03
MIN_OOS_REJECTION = 0.90
SAFETY_MESSAGES = 1


@dataclass(frozen=True, slots=True)
class Scored:
    expected: str | None
    ids: tuple[str, ...]
    scores: tuple[float, ...]
    intent_handoff: bool


@dataclass(frozen=True, slots=True)
class Outcome:
    answered_ok: int
    clarify_ok: int
    confident_wrong: int
    oos_rejected: int
    in_scope_handoff: int
    clarified: int

    def utility(self) -> float:
        # A wrong answer misleads someone about their status or rights: it costs two right ones.
        return self.answered_ok + 0.5 * self.clarify_ok - 2.0 * self.confident_wrong


def score_all(matcher: Matcher, examples: Sequence[Example]) -> list[Scored]:
    out = []
    for ex in examples:
        result = matcher.match(ex.text)
        out.append(
            Scored(
                ex.expected,
                tuple(c.entry_id for c in result.candidates),
                tuple(c.score for c in result.candidates),
                result.intent in ("human", "greeting", "thanks"),
            )
        )
    return out


def decide(item: Scored, cfg: MatcherConfig) -> tuple[str, tuple[str, ...]]:
    """The same rule as :meth:`faq.matcher.Matcher._decide`, on precomputed scores."""
    if item.intent_handoff or not item.scores or item.scores[0] < cfg.handoff_below:
        return "handoff", ()
    best = item.scores[0]
    second = item.scores[1] if len(item.scores) > 1 else 0.0
    if best >= cfg.answer_min and best - second >= cfg.answer_margin:
        return "answer", item.ids[:1]
    offered = tuple(
        i
        for i, s in zip(item.ids[: cfg.clarify_max], item.scores[: cfg.clarify_max], strict=False)
        if s >= best - cfg.clarify_window and s >= cfg.handoff_below
    )
    return "clarify", offered


def outcome(items: Sequence[Scored], cfg: MatcherConfig) -> Outcome:
    answered_ok = clarify_ok = wrong = rejected = handoff = clarified = 0
    for item in items:
        decision, offered = decide(item, cfg)
        if decision == "answer":
            if offered[:1] == (item.expected,):
                answered_ok += 1
            else:
                wrong += 1
        elif decision == "clarify":
            clarified += 1
            clarify_ok += item.expected in offered
        elif item.expected is None:
            rejected += 1
        else:
            handoff += 1
    return Outcome(answered_ok, clarify_ok, wrong, rejected, handoff, clarified)


def _grid(lo: float, hi: float, step: float) -> list[float]:
    n = round((hi - lo) / step)
    return [round(lo + i * step, 4) for i in range(n + 1)]


def sweep(
    items: Sequence[Scored], base: MatcherConfig
) -> list[tuple[float, MatcherConfig, Outcome]]:
    n = len(items)
    n_oos = sum(1 for i in items if i.expected is None)
    # The targets, with one message to spare on each (the unseen set differs a little).
    max_wrong = math.floor(MAX_CONFIDENT_WRONG * n) - SAFETY_MESSAGES
    max_oos_missed = math.floor((1 - MIN_OOS_REJECTION) * n_oos) - SAFETY_MESSAGES
    feasible = []
    for handoff, answer, margin, window in itertools.product(
        _grid(0.20, 0.60, 0.02),
        _grid(0.40, 0.90, 0.02),
        _grid(0.0, 0.30, 0.02),
        (0.10, 0.15, 0.20),
    ):
        if answer < handoff:
            continue
        cfg = dataclasses.replace(
            base,
            handoff_below=handoff,
            answer_min=answer,
            answer_margin=margin,
            clarify_window=window,
        )
        out = outcome(items, cfg)
        if out.confident_wrong <= max_wrong and n_oos - out.oos_rejected <= max_oos_missed:
            feasible.append((out.utility(), cfg, out))
    return feasible


def choose(feasible: list[tuple[float, MatcherConfig, Outcome]]) -> tuple[MatcherConfig, Outcome]:
    best_utility = max(u for u, _, _ in feasible)
    plateau = [(cfg, out) for u, cfg, out in feasible if u >= best_utility - 1e-9]

    def centre(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[len(ordered) // 2]

    target = (
        centre([c.handoff_below for c, _ in plateau]),
        centre([c.answer_min for c, _ in plateau]),
        centre([c.answer_margin for c, _ in plateau]),
    )
    return min(
        plateau,
        key=lambda co: (
            abs(co[0].handoff_below - target[0])
            + abs(co[0].answer_min - target[1])
            + abs(co[0].answer_margin - target[2]),
            co[0].clarify_window,
        ),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--dir", default=None)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        kind = type(getattr(DEFAULT_CONFIG, name))
        overrides[name] = (
            value.lower() in ("1", "true", "yes", "on") if kind is bool else kind(value)
        )
    base = dataclasses.replace(DEFAULT_CONFIG, **overrides)
    kb = load_knowledge_base(args.dir)
    # Step 1, before the thresholds: the semantic blend (faq.semantic, its own numbers in
    # SemanticConfig) re-orders and rescales the lexical scores; the thresholds below are
    # then calibrated on the blended scores. ``--set semantic=false`` calibrates lexical only.
    matcher = Matcher(kb, base, load_semantic(kb) if base.semantic else None)
    examples = read_examples(args.file, kb.entries)
    items = score_all(matcher, examples)
    inside = [i for i in items if i.expected is not None]
    top1 = sum(1 for i in inside if i.ids[:1] == (i.expected,)) / len(inside)
    r3 = sum(1 for i in inside if i.expected in i.ids[:3]) / len(inside)
    print(f"top-1 {top1:.3f}  recall@3 {r3:.3f}  ({len(items)} messages)")
    current = outcome(items, base)
    print(f"current thresholds: {current}")
    feasible = sweep(items, base)
    if not feasible:
        print("no threshold setting meets the constraints")
        return
    cfg, out = choose(feasible)
    print(
        f"chosen: handoff_below={cfg.handoff_below} answer_min={cfg.answer_min} "
        f"answer_margin={cfg.answer_margin} clarify_window={cfg.clarify_window}"
    )
    n = len(items)
    print(
        f"  answered ok {out.answered_ok}/{len(inside)}, clarify ok {out.clarify_ok}/"
        f"{out.clarified}, confident wrong {out.confident_wrong} ({out.confident_wrong / n:.1%}),"
        f" oos rejected {out.oos_rejected}, in-scope handoff {out.in_scope_handoff}"
    )


if __name__ == "__main__":
    main()
