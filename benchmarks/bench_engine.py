"""Benchmark the core: events through the engine, replies through the outbox.

    .venv/bin/python benchmarks/bench_engine.py [--events 2000] [--concurrency 32] [--json]

On the embedded SQLite (a file in a temporary directory) and, when reachable, on the
PostgreSQL of ``TEST_POSTGRES_URL`` (a throw-away database). Each event is a text message from
a different person (flood control stays out of it) answered by a trivial handler with one
reply, so what is measured is the engine's transaction (dedupe key, person, reply) and the
outbox's delivery through a sender that returns at once:

- engine: events/s with ``--concurrency`` events in flight, and per-event latency p50/p99;
- outbox: replies/s from queued to sent, and the mean time a reply spends accepted by the
  messenger but not yet recorded "sent" (a crash in that window sends it again).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.db import Database
from bot.db.migrate import upgrade_async
from bot.engine import Engine, FloodPolicy, IdentityTranslator
from bot.outbox import OutboxWorker
from bot.ports import Delivered, RateLimit
from handlers.context import TurnContext
from handlers.model import Address, EventKind, IncomingEvent, Platform, Reply, Sender

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


class NullSender:
    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.sent = 0

    def limits_for(self, address: Address) -> tuple[RateLimit, ...]:
        return ()

    async def send(self, reply: Reply) -> Delivered:
        self.sent += 1
        return Delivered(str(self.sent))


async def answer(ctx: TurnContext) -> None:
    ctx.reply("answer", kind="answer")


class NoMatcher:
    kb = None


def _unrecorded() -> tuple[float, float]:
    """The outbox's crash window so far: (seconds summed, messages)."""
    from prometheus_client import REGISTRY

    name = "otwarta_outbox_unrecorded_seconds"
    return (
        REGISTRY.get_sample_value(f"{name}_sum") or 0.0,
        REGISTRY.get_sample_value(f"{name}_count") or 0.0,
    )


async def bench(url: str, events: int, concurrency: int) -> dict[str, Any]:
    await upgrade_async(url)
    db = Database.from_url(url)
    try:
        engine = Engine(
            db,
            matcher=NoMatcher(),  # type: ignore[arg-type]
            translator_for=IdentityTranslator,
            handler=answer,
            flood=FloodPolicy(max_events=1_000_000),
        )
        latencies: list[float] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(events):
            queue.put_nowait(i)

        async def feed() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                event = IncomingEvent(
                    Address(Platform.TELEGRAM, str(10_000 + i)),
                    EventKind.TEXT,
                    str(i),
                    Sender(str(10_000 + i)),
                    text="як отримати песель",
                )
                started = time.perf_counter()
                await engine.process(event)
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(feed() for _ in range(concurrency)))
        engine_seconds = time.perf_counter() - started

        sender = NullSender()
        outbox = OutboxWorker(db, [sender], concurrency=concurrency)
        window_before = _unrecorded()
        started = time.perf_counter()
        await outbox.drain(timeout=600)
        outbox_seconds = time.perf_counter() - started
        window_sum, window_count = (
            a - b for a, b in zip(_unrecorded(), window_before, strict=True)
        )
        assert sender.sent == events, sender.sent
        latencies.sort()
        return {
            "events": events,
            "concurrency": concurrency,
            "engine_events_per_s": round(events / engine_seconds),
            "engine_latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
            "engine_latency_ms_p99": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
            "outbox_replies_per_s": round(events / outbox_seconds),
            # accepted by the messenger, "sent" not committed yet: a crash repeats these
            "outbox_unrecorded_ms_mean": round(window_sum / max(window_count, 1) * 1000, 2),
        }
    finally:
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        results["sqlite"] = await bench(url, args.events, args.concurrency)

    try:
        import asyncpg
        from sqlalchemy.engine import make_url

        server = make_url(PG_URL).set(drivername="postgresql")
        name = f"otwarta_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(server.render_as_string(hide_password=False), timeout=3)
    except Exception as exc:
        results["postgresql"] = f"skipped: {type(exc).__name__}: {exc}"
    else:
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
            results["postgresql"] = await bench(url, args.events, args.concurrency)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()

    if args.json:
        print(json.dumps(results, indent=2))
        return
    for backend, result in results.items():
        print(f"{backend}:")
        if isinstance(result, str):
            print(f"  {result}")
            continue
        for key, value in result.items():
            print(f"  {key:24} {value}")


if __name__ == "__main__":
    asyncio.run(main())
