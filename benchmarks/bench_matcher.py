"""Benchmark the FAQ matcher: load/index time, match latency (p50/p99), memory.

    .venv/bin/python benchmarks/bench_matcher.py [--json] [--synthetic 10000] [--dir content]

Runs on one core (``os.sched_setaffinity(0, {0})``). Two knowledge bases:

- the real one (``content/``);
- a synthetic one of N entries (default 10,000) made from the real entries: each copy gets
  a new id, and a share of its question words are replaced by made-up words, so the
  vocabulary and the posting lists grow as they would with a larger real base.

Queries: every knowledge-base question perturbed the ways people type (typos, wrong keyboard
layout, lower/upper case, a sentence of context in front), plus the development set messages
when ``../shared/eval/dev.jsonl`` is there. Each query is matched once in a fresh order
(word caches are cold for words not seen before), then the whole set again (warm).
Index build time is measured in a fresh process for the real base (as ``load_matcher``
runs at start-up), in-process for the synthetic one.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faq.content import Entry, KnowledgeBase, Questions, load_knowledge_base  # noqa: E402
from faq.evaluate import percentile  # noqa: E402
from faq.matcher import Matcher, build_matcher  # noqa: E402
from faq.text import REVERSE_LAYOUT  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"
CONTEXT = (
    "Добрий день, я з Харкова, живу в Кракові вже два роки з дітьми. ",
    "Здравствуйте, мы приехали в марте, муж работает на складе. ",
    "Hello, I came from Georgia last year and work in a hotel. ",
)


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def perturb(text: str, rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return " ".join(_typo(w, rng) if rng.random() < 0.4 else w for w in text.split())
    if kind == 1:
        return text.lower().translate(REVERSE_LAYOUT)  # typed with the US layout on
    if kind == 2:
        return text.upper() + "?!"
    if kind == 3:
        return rng.choice(CONTEXT) + text + "?"
    return text


def queries(kb: KnowledgeBase, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = [
        perturb(q, rng) for e in kb.entries.values() for _, qs in e.questions.items() for q in qs
    ]
    if DEV_SET.exists():
        out += [
            json.loads(line)["text"] for line in DEV_SET.read_text("utf-8").splitlines() if line
        ]
    rng.shuffle(out)
    return out


def _nonce(rng: random.Random) -> str:
    syllables = ("ka", "lo", "mi", "ne", "ro", "su", "ta", "vy", "zo", "ba", "de", "fi")
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))


def synthetic_kb(kb: KnowledgeBase, size: int, seed: int = 11) -> KnowledgeBase:
    """``size`` entries: perturbed copies of the real ones with new ids."""
    rng = random.Random(seed)
    real = list(kb.entries.values())
    entries: dict[str, Entry] = {}

    def mutate(text: str) -> str:
        return " ".join(_nonce(rng) if rng.random() < 0.3 else w for w in text.split())

    for n in range(size):
        base = real[n % len(real)]
        questions = Questions(
            **{lang: [mutate(q) for q in qs] for lang, qs in base.questions.items()}
        )
        new_id = f"{base.id}-s{n}"[:40]
        entries[new_id] = base.model_copy(
            update={
                "id": new_id,
                "questions": questions,
                "aliases": [mutate(a) for a in base.aliases],
            }
        )
    return KnowledgeBase(kb.directory, entries, kb.menu, kb.contacts)


def latency(matcher: Matcher, texts: list[str]) -> dict[str, float]:
    cpu: list[float] = []

    def run() -> list[float]:
        times = []
        for text in texts:
            started, cpu0 = time.perf_counter(), time.thread_time()
            matcher.match(text)
            cpu.append((time.thread_time() - cpu0) * 1000.0)
            times.append((time.perf_counter() - started) * 1000.0)
        return times

    gc.collect()
    cold = run()
    cold_cpu = list(cpu)
    cpu.clear()
    warm = run()
    return {
        "cold_cpu_p50_ms": percentile(cold_cpu, 50),
        "cold_cpu_p99_ms": percentile(cold_cpu, 99),
        "warm_cpu_p50_ms": percentile(cpu, 50),
        "warm_cpu_p99_ms": percentile(cpu, 99),
        "queries": len(texts),
        "cold_p50_ms": percentile(cold, 50),
        "cold_p99_ms": percentile(cold, 99),
        "cold_max_ms": max(cold),
        "warm_p50_ms": percentile(warm, 50),
        "warm_p99_ms": percentile(warm, 99),
    }


def load_in_fresh_process(content_dir: str | None) -> dict[str, float]:
    """``load_matcher`` timed in a new interpreter, as at the bot's start-up."""
    code = (
        "import os,sys,time,json; os.sched_setaffinity(0,{0})\n"
        f"sys.path.insert(0,{str(ROOT)!r})\n"
        "t0=time.perf_counter(); import faq; from faq import load_matcher\n"
        f"t1=time.perf_counter(); c1=time.process_time(); m=load_matcher({content_dir!r})\n"
        "t2=time.perf_counter(); c2=time.process_time(); r=m.match('як отримати песель')\n"
        "t3=time.perf_counter()\n"
        "print(json.dumps({'import_s':t1-t0,'load_matcher_s':t2-t1,'load_matcher_cpu_s':c2-c1,"
        "'first_match_ms':(t3-t2)*1e3}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the FAQ matcher.")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--synthetic", type=int, default=10_000)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})

    report: dict[str, Any] = {}
    report["real_load"] = load_in_fresh_process(args.dir)
    kb = load_knowledge_base(args.dir)
    texts = queries(kb)

    rss0 = _rss_mb()
    tracemalloc.start()
    started, cpu0 = time.perf_counter(), time.process_time()
    matcher = build_matcher(kb)
    build_s = time.perf_counter() - started
    build_cpu_s = time.process_time() - cpu0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    report["real"] = {
        "entries": len(kb.entries),
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        "tracemalloc_peak_mb": peak,
        "rss_growth_mb": _rss_mb() - rss0,
        **latency(matcher, texts),
    }
    del matcher
    gc.collect()

    if args.synthetic:
        big = synthetic_kb(kb, args.synthetic)
        gc.collect()
        rss0 = _rss_mb()
        started, cpu0 = time.perf_counter(), time.process_time()
        matcher = build_matcher(big)
        build_s = time.perf_counter() - started
        report["synthetic"] = {
            "entries": len(big.entries),
            "build_s": build_s,
            "build_cpu_s": time.process_time() - cpu0,
            "rss_growth_mb": _rss_mb() - rss0,
            **latency(matcher, texts),
        }
    report["rss_mb"] = _rss_mb()

    if args.json:
        print(json.dumps(report, indent=2))
        return
    load = report["real_load"]
    print("FAQ matcher benchmark (one core)")
    print(
        f"start-up, fresh process: import {load['import_s']:.3f} s, load_matcher "
        f"{load['load_matcher_s']:.3f} s (CPU {load['load_matcher_cpu_s']:.3f} s; read + index + "
        "warm-up), first match "
        f"{load['first_match_ms']:.2f} ms"
    )
    print()
    header = f"{'knowledge base':<18}{'entries':>8}{'build s':>9}{'queries':>8}"
    header += f"{'cold p50':>10}{'cold p99':>10}{'cold max':>10}{'warm p50':>10}{'warm p99':>10}"
    print(header)
    for name in ("real", "synthetic"):
        if name not in report:
            continue
        r = report[name]
        print(
            f"{name:<18}{r['entries']:>8}{r['build_s']:>9.2f}{r['queries']:>8}"
            f"{r['cold_p50_ms']:>8.2f}ms{r['cold_p99_ms']:>8.2f}ms{r['cold_max_ms']:>8.2f}ms"
            f"{r['warm_p50_ms']:>8.2f}ms{r['warm_p99_ms']:>8.2f}ms"
        )
    print()
    print("the same in CPU time (what the process itself spent: robust on a loaded machine)")
    print(
        f"{'knowledge base':<18}{'build s':>9}{'cold p50':>10}{'cold p99':>10}{'warm p50':>10}"
        f"{'warm p99':>10}"
    )
    for name in ("real", "synthetic"):
        if name in report:
            r = report[name]
            print(
                f"{name:<18}{r['build_cpu_s']:>9.2f}{r['cold_cpu_p50_ms']:>8.2f}ms"
                f"{r['cold_cpu_p99_ms']:>8.2f}ms{r['warm_cpu_p50_ms']:>8.2f}ms"
                f"{r['warm_cpu_p99_ms']:>8.2f}ms"
            )
    print()
    real = report["real"]
    print(
        f"memory: real index tracemalloc peak {real['tracemalloc_peak_mb']:.1f} MB, "
        f"RSS +{real['rss_growth_mb']:.1f} MB"
        + (
            f"; synthetic RSS +{report['synthetic']['rss_growth_mb']:.1f} MB"
            if "synthetic" in report
            else ""
        )
        + f"; process RSS {report['rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
