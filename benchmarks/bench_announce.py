"""An announcement to many subscribers at Telegram's production cap, and the people talking to
the bot meanwhile.

    .venv/bin/python benchmarks/bench_announce.py [--subscribers 10000] [--db sqlite,postgres]

What runs: the Bot API double (``tests/telegram_double.py``) in this process; the bot as a
subprocess (``python -m bot serve``, polling: the real router, matcher, engine, outbox,
announcement worker, database) at the production send cap (``TELEGRAM_MESSAGES_PER_SECOND``,
30 by default: ``--send-rate``). ``--subscribers`` people are subscribed (set up in the
database beforehand); an announcement for all of them is queued (what ``otwarta announce
FILE`` does) while the bot runs.

Measured, per database:

- **duration**: from queueing to the last subscriber's message at the double; messages/s;
- **reply latency during it**: other people ask questions (``--rate`` a second, each person at
  most one every 2 s, as Telegram allows about one message a second per chat) from the moment
  the announcement is under way until it ends; question at the double → the answer's
  ``sendMessage``; p50 and p99 (target: p99 ≤ 2 s);
- **once each**: every subscriber got exactly one message.

10,000 subscribers at 30/s is about 6 minutes a database; ``--subscribers 1000`` is ~35 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from bench_telegram import QUESTIONS, bot_process, postgres_database  # noqa: E402

from tests.doubles.telegram_double import BotApiDouble, FakeUser  # noqa: E402

MARK = "📣"
TEXTS = {
    "uk": f"{MARK} **Важливо**: заяви на CUKR приймають до 4 березня 2027.",
    "ru": f"{MARK} **Важно**: заявления на CUKR принимают до 4 марта 2027.",
    "pl": f"{MARK} **Ważne**: wnioski o CUKR przyjmowane są do 4 marca 2027.",
    "en": f"{MARK} **Important**: CUKR applications are accepted until 4 March 2027.",
}
FIRST_SUBSCRIBER = 10_000_000


@dataclass
class Result:
    db: str
    subscribers: int
    duration: float
    delivered: int
    duplicates: int
    replies: int
    p50: float
    p99: float


async def subscribe(url: str, count: int) -> None:
    from bot.db import Database
    from bot.db.migrate import ensure_schema

    if url.startswith("sqlite"):
        await ensure_schema(url)
    db = Database.from_url(url)
    now = dt.datetime.now(dt.UTC)
    langs = ["uk", "ru", "pl", "en"]
    try:
        for start in range(0, count, 1000):
            async with db.transaction() as uow:
                for i in range(start, min(count, start + 1000)):
                    user = await uow.people.touch("telegram", str(FIRST_SUBSCRIBER + i), now)
                    user.lang = langs[i % 4]
                    await uow.people.save(user)
                    await uow.subscriptions.add(user.id, "situation", "", now)
    finally:
        await db.dispose()


async def announce(url: str, workdir: Path) -> None:
    import yaml

    from bot.announce.queue import load, queue
    from bot.db import Database
    from faq.content import load_knowledge_base

    path = workdir / f"bench-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump({"text": TEXTS}, allow_unicode=True), "utf-8")
    announcement, problems = load(path, load_knowledge_base())
    assert announcement is not None, problems
    db = Database.from_url(url)
    try:
        await queue(db, announcement, dt.datetime.now(dt.UTC))
    finally:
        await db.dispose()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def measure(db_name: str, url: str, args: argparse.Namespace, workdir: Path) -> Result:
    await subscribe(url, args.subscribers)
    askers = [FakeUser(900_000 + i, language_code=list(QUESTIONS)[i % 4]) for i in range(64)]
    async with BotApiDouble(require_known_chat=False) as api:
        env = {"DATABASE_URL": url, "TELEGRAM_MESSAGES_PER_SECOND": str(args.send_rate)}
        async with bot_process(api, env, ["-m", "bot", "serve"], workdir):
            started = time.perf_counter()
            await announce(url, workdir)
            announced = 0
            seen = 0
            asked: dict[int, float] = {}  # chat → when its question reached the double
            latencies: list[float] = []
            last_asked: dict[int, float] = {}
            next_question = time.perf_counter()
            n = 0
            finished_at = None
            deadline = started + args.subscribers / args.send_rate * 3 + 120
            while time.perf_counter() < deadline:
                for message in api.sent[seen:]:
                    if MARK in message.text:
                        announced += 1
                    elif message.chat_id in asked:
                        latencies.append(message.at - asked.pop(message.chat_id))
                seen = len(api.sent)
                if announced >= args.subscribers:
                    finished_at = time.perf_counter()
                    break
                now = time.perf_counter()
                if announced > 0 and now >= next_question:
                    user = askers[n % len(askers)]
                    if user.id not in asked and now - last_asked.get(user.id, 0) > 2.0:
                        options = QUESTIONS[user.language_code or "uk"]
                        update = api.text(user, options[n % len(options)])
                        asked[user.id] = api.injected_at[update["update_id"]]
                        last_asked[user.id] = now
                    n += 1
                    next_question = now + 1 / args.rate
                await asyncio.sleep(0.01)
            duration = (finished_at or time.perf_counter()) - started
            counts = Counter(m.chat_id for m in api.sent if MARK in m.text)
    return Result(
        db_name,
        args.subscribers,
        duration,
        len(counts),
        sum(counts.values()) - len(counts),
        len(latencies),
        percentile(latencies, 50) * 1000,
        percentile(latencies, 99) * 1000,
    )


async def run(args: argparse.Namespace) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-announce-") as tmp:
        workdir = Path(tmp)
        for db_name in args.db:
            drop = None
            if db_name == "sqlite":
                url = f"sqlite+aiosqlite:///{workdir / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
            else:
                try:
                    url, drop = await postgres_database(args.postgres_url)
                except Exception as exc:
                    print(f"skipping PostgreSQL: {type(exc).__name__}: {exc}", file=sys.stderr)
                    continue
            try:
                results.append(await measure(db_name, url, args, workdir))
            finally:
                if drop is not None:
                    await drop()  # type: ignore[misc]
    return results


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--db", default="sqlite,postgres", type=lambda v: v.split(","))
    parser.add_argument("--send-rate", type=int, default=30, help="the bot's overall cap")
    parser.add_argument("--rate", type=float, default=4.0, help="questions a second meanwhile")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    results = asyncio.run(run(args))
    print(
        f"{'db':<10} {'subscribers':>11} {'duration s':>10} {'msg/s':>7} {'delivered':>9} "
        f"{'twice':>5} {'replies':>7} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for r in results:
        print(
            f"{r.db:<10} {r.subscribers:>11} {r.duration:>10.1f} "
            f"{r.delivered / r.duration:>7.1f} {r.delivered:>9} {r.duplicates:>5} "
            f"{r.replies:>7} {r.p50:>7.0f} {r.p99:>7.0f}"
        )


if __name__ == "__main__":
    main()
