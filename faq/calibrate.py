"""Calibrate the decision thresholds of :class:`faq.config.MatcherConfig` on a labelled set.

    .venv/bin/python -m faq.calibrate ../shared/eval/dev.jsonl [more.jsonl ...] [--dir content]
                                      [--folds 5] [--set k=v ...]

Three zones (:meth:`faq.matcher.Matcher._decide`): *answer* (best score >= ``answer_min``
and at least ``answer_margin`` ahead of the runner-up), *clarify* -- the unsure middle, "Maybe
one of these?" with the one to three likeliest entries (within ``clarify_window`` of the best)
-- above the floor ``handoff_below``, and *handoff* ("I don't know") under it.

Scores every message once, then sweeps the four thresholds over a grid. Among settings that
keep, each with one message to spare (an unseen set differs a little):

- confident-wrong <= 2% (a wrong ``answer``, out-of-scope messages included, over all);
- out-of-scope messages answered <= 5%, and out-of-scope messages offered anything <= 15%,

it keeps the one with the most utility -- right answers, plus 0.6 for each right entry
offered, minus three per wrong answer and 0.3 per out-of-scope offer -- breaking ties towards
the middle of the best plateau (not a knife edge).

A second step, from the configured thresholds, sweeps the bar of *long* messages
(``long_message_tokens`` words or more: ``long_answer_min``, ``long_answer_margin``, never
below the short bar), holding confident-wrong under its limit on each labelled set given on
its own: long, formal real questions must not hide behind a set of short phone messages.

``--folds K`` also cross-validates the choice: the thresholds are chosen on K-1 parts of the
set and scored on the part left out, K times; the held-out figures are what to expect on an
unseen set of the same shape. ``--set`` overrides scoring weights for an experiment
(``--set coverage_weight=0.6``).
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
from faq.matcher import Matcher, answer_bar
from faq.semantic import load_semantic

MAX_CONFIDENT_WRONG = 0.02
MAX_OOS_ANSWERED = 0.05
MAX_OOS_OFFERED = 0.15
SAFETY_MESSAGES = 1
LONG_TOKENS = (6, 12)
"""The lengths (in words) the second step tries as the start of a long message."""


@dataclass(frozen=True, slots=True)
class Scored:
    expected: str | None
    ids: tuple[str, ...]
    scores: tuple[float, ...]
    intent_handoff: bool
    fixed: str | None = None
    """A decision the thresholds do not make (a question about the bot: ``answer``)."""
    tokens: int = 0
    """The message's length in words (long messages have their own answer bar)."""
    source: int = 0
    """Which of the labelled sets the message comes from."""


@dataclass(frozen=True, slots=True)
class Outcome:
    answered_ok: int
    clarify_ok: int
    confident_wrong: int
    oos_rejected: int
    in_scope_handoff: int
    clarified: int
    oos_answered: int = 0
    oos_offered: int = 0
    in_scope: int = 0
    n: int = 0

    @property
    def helpful(self) -> int:
        return self.answered_ok + self.clarify_ok

    def utility(self) -> float:
        # A wrong answer misleads someone about their status or rights: it costs three right
        # ones; offering entries to an out-of-scope question costs a little attention.
        return (
            self.answered_ok
            + 0.6 * self.clarify_ok
            - 3.0 * self.confident_wrong
            - 0.3 * self.oos_offered
        )

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(
            *(
                a + b
                for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)
            )
        )

    def summary(self) -> str:
        n_oos = self.n - self.in_scope
        return (
            f"answered ok {self.answered_ok}/{self.in_scope}"
            f" ({_r(self.answered_ok, self.in_scope)}),"
            f" helpful {self.helpful}/{self.in_scope} ({_r(self.helpful, self.in_scope)}),"
            f" confident wrong {self.confident_wrong} ({_r(self.confident_wrong, self.n)}),"
            f" out of scope: not answered {_r(n_oos - self.oos_answered, n_oos)},"
            f" offered nothing {_r(self.oos_rejected, n_oos)}"
        )


def _r(num: int, den: int) -> str:
    return f"{num / den:.3f}" if den else "-"


def score_all(matcher: Matcher, examples: Sequence[Example], source: int = 0) -> list[Scored]:
    out = []
    for ex in examples:
        result = matcher.match(ex.text)
        out.append(
            Scored(
                ex.expected,
                tuple(c.entry_id for c in result.candidates),
                tuple(c.score for c in result.candidates),
                result.intent in ("human", "greeting", "thanks"),
                "answer" if result.intent == "about" else None,
                len(result.debug.get("tokens", ())),
                source,
            )
        )
    return out


def decide(item: Scored, cfg: MatcherConfig) -> tuple[str, tuple[str, ...]]:
    """The same rule as :meth:`faq.matcher.Matcher._decide`, on precomputed scores."""
    if item.fixed is not None:
        return item.fixed, item.ids[:1]
    if item.intent_handoff or not item.scores or item.scores[0] < cfg.handoff_below:
        return "handoff", ()
    best = item.scores[0]
    second = item.scores[1] if len(item.scores) > 1 else 0.0
    answer_min, answer_margin = answer_bar(cfg, item.tokens)
    if best >= answer_min and best - second >= answer_margin:
        return "answer", item.ids[:1]
    offered = tuple(
        i
        for i, s in zip(item.ids[: cfg.clarify_max], item.scores[: cfg.clarify_max], strict=False)
        if s >= best - cfg.clarify_window and s >= cfg.handoff_below
    )
    return "clarify", offered


def outcome(items: Sequence[Scored], cfg: MatcherConfig) -> Outcome:
    answered_ok = clarify_ok = wrong = rejected = handoff = clarified = 0
    oos_answered = oos_offered = inside = 0
    for item in items:
        decision, offered = decide(item, cfg)
        inside += item.expected is not None
        if decision == "answer":
            if offered[:1] == (item.expected,):
                answered_ok += 1
            else:
                wrong += 1
                oos_answered += item.expected is None
        elif decision == "clarify":
            clarified += 1
            clarify_ok += item.expected is not None and item.expected in offered
            oos_offered += item.expected is None
        elif item.expected is None:
            rejected += 1
        else:
            handoff += 1
    return Outcome(
        answered_ok,
        clarify_ok,
        wrong,
        rejected,
        handoff,
        clarified,
        oos_answered,
        oos_offered,
        inside,
        len(items),
    )


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
    max_oos_answered = math.floor(MAX_OOS_ANSWERED * n_oos)
    max_oos_offered = math.floor(MAX_OOS_OFFERED * n_oos) - SAFETY_MESSAGES
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
        if (
            out.confident_wrong <= max(max_wrong, 0)
            and out.oos_answered <= max_oos_answered
            and n_oos - out.oos_rejected <= max(max_oos_offered, 0)
        ):
            feasible.append((out.utility(), cfg, out))
    return feasible


def _middle_of_best(
    feasible: list[tuple[float, MatcherConfig, Outcome]],
    fields: Sequence[tuple[str, float]],
    tie: str,
) -> tuple[MatcherConfig, Outcome]:
    """The best utility; on its plateau, the setting nearest the middle of it (the median
    of each field, distances weighted), not a knife edge; then the smallest ``tie``."""
    best_utility = max(u for u, _, _ in feasible)
    plateau = [(cfg, out) for u, cfg, out in feasible if u >= best_utility - 1e-9]
    middle = {
        name: sorted(getattr(cfg, name) for cfg, _ in plateau)[len(plateau) // 2]
        for name, _ in fields
    }
    return min(
        plateau,
        key=lambda co: (
            sum(abs(getattr(co[0], name) - middle[name]) * weight for name, weight in fields),
            getattr(co[0], tie),
        ),
    )


def choose(feasible: list[tuple[float, MatcherConfig, Outcome]]) -> tuple[MatcherConfig, Outcome]:
    fields = (("handoff_below", 1.0), ("answer_min", 1.0), ("answer_margin", 1.0))
    return _middle_of_best(feasible, fields, "clarify_window")


def sweep_long(
    items: Sequence[Scored], base: MatcherConfig
) -> list[tuple[float, MatcherConfig, Outcome]]:
    """The second step: the answer bar of long messages, from ``base``'s thresholds up.

    The confident-wrong limit (with its message to spare) holds on *each* labelled set on
    its own: real questions, long and formal, must not hide behind a set of short ones.
    """
    by_set: dict[int, list[Scored]] = {}
    for item in items:
        by_set.setdefault(item.source, []).append(item)
    limits = {
        s: math.floor(MAX_CONFIDENT_WRONG * len(v)) - SAFETY_MESSAGES for s, v in by_set.items()
    }
    n_oos = sum(1 for i in items if i.expected is None)
    max_oos_answered = math.floor(MAX_OOS_ANSWERED * n_oos)
    feasible = []
    for tokens, answer, margin in itertools.product(
        range(LONG_TOKENS[0], LONG_TOKENS[1] + 1),
        _grid(base.answer_min, base.answer_min + 0.30, 0.02),
        _grid(base.answer_margin, base.answer_margin + 0.20, 0.02),
    ):
        cfg = dataclasses.replace(
            base, long_message_tokens=tokens, long_answer_min=answer, long_answer_margin=margin
        )
        parts = {s: outcome(v, cfg) for s, v in by_set.items()}
        total = sum(parts.values(), Outcome(0, 0, 0, 0, 0, 0))
        if total.oos_answered <= max_oos_answered and all(
            parts[s].confident_wrong <= max(limits[s], 0) for s in parts
        ):
            feasible.append((total.utility(), cfg, total))
    return feasible


def choose_long(
    feasible: list[tuple[float, MatcherConfig, Outcome]],
) -> tuple[MatcherConfig, Outcome]:
    """The long bar in the middle of the best plateau (a word counts a tenth of a point)."""
    fields = (("long_message_tokens", 0.1), ("long_answer_min", 1.0), ("long_answer_margin", 1.0))
    return _middle_of_best(feasible, fields, "long_message_tokens")


def cross_validate(items: Sequence[Scored], base: MatcherConfig, folds: int) -> Outcome:
    """Thresholds chosen without each fold, scored on it; the folds' outcomes summed."""
    total = Outcome(0, 0, 0, 0, 0, 0)
    for k in range(folds):
        train = [it for i, it in enumerate(items) if i % folds != k]
        held = [it for i, it in enumerate(items) if i % folds == k]
        feasible = sweep(train, base)
        cfg = choose(feasible)[0] if feasible else base
        total = total + outcome(held, cfg)
    return total


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="file")
    parser.add_argument("--dir", default=None)
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: none)")
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
    items = [
        item
        for source, path in enumerate(args.files)
        for item in score_all(matcher, read_examples(path, kb.entries), source)
    ]
    inside = [i for i in items if i.expected is not None]
    top1 = sum(1 for i in inside if i.ids[:1] == (i.expected,)) / len(inside)
    r3 = sum(1 for i in inside if i.expected in i.ids[:3]) / len(inside)
    print(f"top-1 {top1:.3f}  recall@3 {r3:.3f}  ({len(items)} messages)")
    print(f"current thresholds: {outcome(items, base).summary()}")
    feasible = sweep(items, base)
    if not feasible:
        print("no threshold setting meets the constraints")
        return
    cfg, out = choose(feasible)
    print(
        f"chosen: handoff_below={cfg.handoff_below} answer_min={cfg.answer_min} "
        f"answer_margin={cfg.answer_margin} clarify_window={cfg.clarify_window}"
    )
    print(f"  on the whole set: {out.summary()}")
    if args.folds > 1:
        held = cross_validate(items, base, args.folds)
        print(f"  {args.folds}-fold cross-validation, held out: {held.summary()}")
    # Step 2, from the current thresholds: the bar of long messages.
    long_feasible = sweep_long(items, base)
    if not long_feasible:
        print("long messages: no answer bar keeps confident-wrong under the limit on every set")
        return
    cfg, out = choose_long(long_feasible)
    print(
        f"long messages, from the current thresholds: long_message_tokens="
        f"{cfg.long_message_tokens} long_answer_min={cfg.long_answer_min} "
        f"long_answer_margin={cfg.long_answer_margin}"
    )
    print(f"  on all the sets: {out.summary()}")
    for source, path in enumerate(args.files):
        part = outcome([i for i in items if i.source == source], cfg)
        print(f"  {path}: {part.summary()}")


if __name__ == "__main__":
    main()
