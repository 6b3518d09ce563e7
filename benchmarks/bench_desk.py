"""Benchmark the consultant desk's hot paths through the real engine.

    .venv/bin/python benchmarks/bench_desk.py [--people 200] [--messages 5] [--json]

On the embedded SQLite (a file in a temporary directory) and, when reachable, on the
PostgreSQL of ``TEST_POSTGRES_URL`` (a throw-away database). The real router with the desk in
front of it, the real matcher and catalogs; replies stay in the outbox (no sender), so what is
measured is the turn: the desk's SQL, the relay, the outbox rows.

- open: a person asks for a human (ticket + acknowledgement + the desk's "open");
- relay: a person with an open ticket writes (the message goes to the desk, with the urgent
  check by the matcher and a scrubbed copy stored): per-event latency p50/p99 one at a time,
  and events/s with every person writing at once;
- take: two consultants press Take on the same ticket at once through two engines (two
  processes' worth of connection pools): rounds/s, and that each round had one winner.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
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

from sqlalchemy import text

from bot.db import Database
from bot.db.migrate import upgrade_async
from bot.desk.runtime import DeskRuntime
from bot.engine import Engine, FloodPolicy
from bot.i18n import translator_for
from bot.settings import Settings
from faq import load_matcher
from faq.matcher import Matcher
from handlers.model import Address, EventKind, IncomingEvent, Platform, Sender

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
DESK = "-1009999"
_keys = itertools.count()


def event(user: str, kind: EventKind, chat: str | None = None, **fields: Any) -> IncomingEvent:
    return IncomingEvent(
        address=Address(Platform.TELEGRAM, chat or user),
        kind=kind,
        dedupe_key=f"b{next(_keys)}",
        sender=Sender(user_id=user, language_code="uk", display_name=f"C{user}"),
        **fields,
    )


def engine_for(db: Database, matcher: Matcher) -> Engine:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, consultant_chat_id=int(DESK), desk_hours="", desk_pseudonym_key="bench"
    )
    runtime = DeskRuntime(settings, translator_for=translator_for)
    engine = Engine(
        db,
        matcher=matcher,
        translator_for=translator_for,
        handler=runtime.handler(),
        flood=FloodPolicy(max_events=10_000),
        flood_exempt=runtime.flood_exempt,
    )
    return engine


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(url: str, matcher: Matcher, people: int, messages: int) -> dict[str, Any]:
    db = Database.from_url(url)
    engine = engine_for(db, matcher)
    result: dict[str, Any] = {}
    try:
        users = [f"{9_000_000 + n}" for n in range(people)]
        started = time.perf_counter()
        opens = []
        for user in users:
            t0 = time.perf_counter()
            await engine.process(
                event(user, EventKind.TEXT, text="Хочу поговорити з консультантом")
            )
            opens.append(time.perf_counter() - t0)
        result["open_ms_p50"] = round(statistics.median(opens) * 1000, 2)
        result["open_ms_p99"] = round(pct(opens, 0.99) * 1000, 2)

        lat = []
        for user in users:
            t0 = time.perf_counter()
            await engine.process(event(user, EventKind.TEXT, text="скільки коштує карта побиту?"))
            lat.append(time.perf_counter() - t0)
        result["relay_ms_p50"] = round(statistics.median(lat) * 1000, 2)
        result["relay_ms_p99"] = round(pct(lat, 0.99) * 1000, 2)

        async def person(user: str) -> None:
            for n in range(messages):
                await engine.process(event(user, EventKind.TEXT, text=f"повідомлення {n}"))

        started = time.perf_counter()
        await asyncio.gather(*(person(user) for user in users))
        elapsed = time.perf_counter() - started
        result["relay_events_per_s"] = round(people * messages / elapsed, 1)

        # Two engines, two pools: concurrent Take presses on one ticket per round.
        other = Database.from_url(url)
        engines = [engine, engine_for(other, matcher)]
        try:
            rounds = min(people, 100)
            started = time.perf_counter()
            for ticket_id in range(1, rounds + 1):
                await asyncio.gather(
                    *(
                        e.process(
                            event(
                                f"77{i}",
                                EventKind.BUTTON,
                                chat=DESK,
                                payload=f"dk:take:{ticket_id}",
                            )
                        )
                        for i, e in enumerate(engines)
                    )
                )
            result["take_rounds_per_s"] = round(rounds / (time.perf_counter() - started), 1)
            async with db.transaction() as uow:
                payloads = (
                    await uow.session.execute(
                        text("SELECT payload FROM outbox WHERE chat_id = :desk"), {"desk": DESK}
                    )
                ).scalars()
                cards = sum(
                    (p if isinstance(p, dict) else json.loads(p)).get("meta", {}).get("desk_op")
                    == "card"
                    for p in payloads
                )
            result["take_one_winner_every_round"] = cards == rounds
        finally:
            await other.dispose()
    finally:
        await db.dispose()
    return result


async def postgres_url() -> str | None:
    try:
        import asyncpg
        from sqlalchemy.engine import make_url

        base = make_url(PG_URL)
        dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn, timeout=3)
    except Exception:
        return None
    name = f"otwarta_bench_desk_{uuid.uuid4().hex[:8]}"
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return base.set(database=name).render_as_string(hide_password=False)


async def drop_postgres(url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=3)
    await connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    matcher = load_matcher()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        await upgrade_async(url)
        report["sqlite"] = await run(url, matcher, args.people, args.messages)
    pg = await postgres_url()
    if pg is not None:
        try:
            await upgrade_async(pg)
            report["postgresql"] = await run(pg, matcher, args.people, args.messages)
        finally:
            await drop_postgres(pg)
    report["at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for backend, figures in report.items():
            print(backend, figures)


if __name__ == "__main__":
    asyncio.run(main())
