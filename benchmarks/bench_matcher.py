"""Benchmark the FAQ matcher: cold build and warm (cached) load, match latency, memory.

    nice -n 10 .venv/bin/python benchmarks/bench_matcher.py [--json] [--runs 3]
        [--synthetic 10000] [--dir content]

Runs on one core (``os.sched_setaffinity(0, {0})``), every figure the median of ``--runs``
fresh processes. Two knowledge bases:

- the real one (``content/``);
- a synthetic one of N entries (default 10,000) made from the real entries: each copy gets
  a new id, and a share of its question words are replaced by made-up words, so the
  vocabulary and the posting lists grow as they would with a larger real base (its answers
  are the real ones, repeated).

*Start-up*: ``import faq`` and ``load_matcher`` (read the content, index, warm up) as the
bot does it, cold (no cache) and warm (``INDEX_CACHE_DIR`` filled by an earlier start).
*Index*: in a fresh process the base is read or made first (not timed), then the index is
built (cold; the cold runs also write the cache, timed apart) or read from the cache
(warm), plus the ``Matcher`` around it; RSS growth is over that step.

Queries: every knowledge-base question perturbed the ways people type (typos, wrong keyboard
layout, lower/upper case, a sentence of context in front), plus the development set messages
when ``../shared/eval/dev.jsonl`` is there (2,446 in all). Each query is matched once in a
fresh order (word caches are cold for words not seen before: p50/p99, the first and the
thousandth), then the whole set again (warm p99).

Last run (2026-12-07, the 2-core machine with nothing else running, medians of 3; 3,020
queries)::

                      load s   CPU s   RSS +    p99 (CPU)  1st / 1000th match
    start-up, cold      0.32     0.31   75 MB peak     -     0.65 ms after load
    start-up, warm      0.14     0.14   66 MB peak     -     0.58 ms after load
    real, cold          0.24     0.24   22 MB      1.46 ms   1.65 / 0.83 ms
    real, warm          0.07     0.07   13 MB      1.56 ms   1.46 / 0.82 ms
    10,000, cold       11.9     11.9   298 MB      7.73 ms   3.63 / 7.49 ms
    10,000, warm        1.68     1.68  284 MB      7.93 ms   3.54 / 7.62 ms

The 10,000-entry cache file is 63 MB (written in 1.2 s), the real one 0.8 MB. The first of
the shuffled queries is a long one with words no query before it used: 1.4 ms the first
time, 0.9 ms when asked again (its words' readings are cached), against 0.8 ms for the
thousandth. The cold build, this code against the previous in one process on 2,000 entries
(the same arrays): 3.11 -> 2.90 s; earlier, under load, 21.3 -> 12.5 s CPU at 10,000.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faq.config import DEFAULT_CONFIG  # noqa: E402
from faq.content import Entry, KnowledgeBase, Questions, load_knowledge_base  # noqa: E402
from faq.evaluate import percentile  # noqa: E402
from faq.matcher import Matcher  # noqa: E402
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
        "first_ms": cold[0],
        "first_cpu_ms": cold_cpu[0],
        "thousandth_cpu_ms": cold_cpu[min(999, len(cold_cpu) - 1)],
        "thousandth_ms": cold[min(999, len(cold) - 1)],
        "warm_p50_ms": percentile(warm, 50),
        "warm_p99_ms": percentile(warm, 99),
    }


def _child(mode: str, content_dir: str | None, size: int, cache_dir: str | None) -> dict[str, Any]:
    """One measurement in this (fresh) process: the knowledge base is read or made first (not
    timed), then the index is built (``cold``) or read from ``cache_dir`` (``warm``)."""
    from faq.index import Index
    from faq.index_cache import cache_file, cache_key, read_index, write_index

    kb = load_knowledge_base(content_dir)
    texts = queries(kb)
    if size:
        kb = synthetic_kb(kb, size)
    config = DEFAULT_CONFIG
    gc.collect()
    rss0 = _rss_mb()
    started, cpu0 = time.perf_counter(), time.process_time()
    out: dict[str, Any] = {"entries": len(kb.entries)}
    if mode == "cold":
        index = Index(kb, config)
    else:
        assert cache_dir is not None
        key = cache_key(kb, config)
        loaded = read_index(cache_file(cache_dir, f"bench-{size}"), key, config)
        if loaded is None:
            raise SystemExit("no valid cache to read: run the cold build first")
        index = loaded
    matcher = Matcher(kb, config, index=index)  # intents, lexicon, warm-up
    out["load_s"] = time.perf_counter() - started
    out["load_cpu_s"] = time.process_time() - cpu0
    out["rss_growth_mb"] = _rss_mb() - rss0
    if mode == "cold" and cache_dir is not None:
        started = time.perf_counter()
        write_index(cache_file(cache_dir, f"bench-{size}"), cache_key(kb, config), index)
        out["cache_write_s"] = time.perf_counter() - started
        out["cache_file_mb"] = cache_file(cache_dir, f"bench-{size}").stat().st_size / 2**20
    out.update(latency(matcher, texts))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def in_fresh_process(
    mode: str, content_dir: str | None, size: int, cache_dir: str | None
) -> dict[str, Any]:
    """:func:`_child` in a new interpreter on one core."""
    args = [sys.executable, __file__, "--child", mode, "--synthetic", str(size)]
    if content_dir is not None:
        args += ["--dir", content_dir]
    if cache_dir is not None:
        args += ["--cache-dir", cache_dir]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every number over the runs."""
    return {
        k: statistics.median(r[k] for r in runs) if isinstance(v, int | float) else v
        for k, v in runs[0].items()
    }


def load_in_fresh_process(content_dir: str | None, cache_dir: str | None) -> dict[str, float]:
    """``load_matcher`` timed in a new interpreter, as at the bot's start-up (with
    ``cache_dir``: ``INDEX_CACHE_DIR`` set)."""
    code = (
        "import os,sys,time,json,resource; os.sched_setaffinity(0,{0})\n"
        f"sys.path.insert(0,{str(ROOT)!r})\n"
        "t0=time.perf_counter(); import faq; from faq import load_matcher\n"
        "t1=time.perf_counter(); c1=time.process_time()\n"
        f"m=load_matcher({content_dir!r}, cache_dir={cache_dir!r})\n"
        "t2=time.perf_counter(); c2=time.process_time(); r=m.match('як отримати песель')\n"
        "t3=time.perf_counter()\n"
        "print(json.dumps({'import_s':t1-t0,'load_matcher_s':t2-t1,'load_matcher_cpu_s':c2-c1,"
        "'first_match_ms':(t3-t2)*1e3,"
        "'peak_rss_mb':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure, each the median of ``args.runs`` fresh processes."""
    runs = max(1, args.runs)
    report: dict[str, Any] = {"runs": runs}
    with tempfile.TemporaryDirectory(prefix="bench-matcher-") as cache:
        startup_cache = os.path.join(cache, "startup")
        report["startup_cold"] = median_of(
            [load_in_fresh_process(args.dir, None) for _ in range(runs)]
        )
        load_in_fresh_process(args.dir, startup_cache)  # fills the cache
        report["startup_warm"] = median_of(
            [load_in_fresh_process(args.dir, startup_cache) for _ in range(runs)]
        )
        for name, size in (("real", 0), ("synthetic", args.synthetic)):
            if name == "synthetic" and not size:
                continue
            for mode in ("cold", "warm"):  # the cold runs write the cache the warm ones read
                report[f"{name}_{mode}"] = median_of(
                    [in_fresh_process(mode, args.dir, size, cache) for _ in range(runs)]
                )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the FAQ matcher.")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--synthetic", type=int, default=10_000, help="entries (0: skip)")
    parser.add_argument("--dir", default=None, help="content directory (default: content/)")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per figure")
    parser.add_argument("--child", choices=("cold", "warm"), help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    if args.child:
        print(json.dumps(_child(args.child, args.dir, args.synthetic, args.cache_dir)))
        return

    report = measure(args)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"FAQ matcher benchmark (one core; medians of {report['runs']} fresh processes)")
    print()
    print("start-up as the bot does it: import faq, load_matcher (read content + index + warm-up)")
    print(
        f"{'':<14}{'import s':>10}{'load s':>9}{'load CPU s':>12}{'1st match':>11}{'peak RSS':>10}"
    )
    for mode in ("cold", "warm"):
        r = report[f"startup_{mode}"]
        label = "cold (build)" if mode == "cold" else "warm (cache)"
        print(
            f"{label:<14}{r['import_s']:>10.3f}{r['load_matcher_s']:>9.3f}"
            f"{r['load_matcher_cpu_s']:>12.3f}{r['first_match_ms']:>9.2f}ms"
            f"{r['peak_rss_mb']:>8.0f}MB"
        )
    print()
    print("index: built (cold) or read from the cache (warm), the base read or made first")
    header = f"{'knowledge base':<22}{'entries':>8}{'load s':>8}{'CPU s':>7}{'RSS +':>8}"
    header += f"{'1st':>8}{'1000th':>8}{'p50':>8}{'p99':>8}{'warm p99':>10}{'CPU p99':>9}"
    print(header)
    for name in ("real", "synthetic"):
        for mode in ("cold", "warm"):
            r = report.get(f"{name}_{mode}")
            if r is None:
                continue
            label = f"{name} {mode}"
            print(
                f"{label:<22}{r['entries']:>8}{r['load_s']:>8.2f}{r['load_cpu_s']:>7.2f}"
                f"{r['rss_growth_mb']:>6.0f}MB{r['first_ms']:>6.2f}ms{r['thousandth_ms']:>6.2f}ms"
                f"{r['cold_p50_ms']:>6.2f}ms{r['cold_p99_ms']:>6.2f}ms{r['warm_p99_ms']:>8.2f}ms"
                f"{r['cold_cpu_p99_ms']:>7.2f}ms"
            )
    for name in ("real", "synthetic"):
        r = report.get(f"{name}_cold")
        if r is not None and "cache_write_s" in r:
            print(
                f"{name}: cache file {r['cache_file_mb']:.1f} MB written in "
                f"{r['cache_write_s']:.2f} s; peak RSS cold {r['peak_rss_mb']:.0f} MB, "
                f"warm {report[name + '_warm']['peak_rss_mb']:.0f} MB"
            )
    print()
    print(
        "p50/p99: each query once in a fresh order (word caches cold); warm p99: the set "
        "again; CPU p99: the same in thread CPU time (robust on a loaded machine)"
    )


if __name__ == "__main__":
    main()
