"""Benchmark the analytics at the programme's scale (issue 15).

    .venv/bin/python benchmarks/bench_analytics.py [--questions 1000000] [--tickets 50000]
        [--people 100000] [--no-sqlite] [--no-postgres] [--json]

Fills a fresh database — the embedded SQLite (a temporary file) and, when reachable, a
throw-away PostgreSQL database on ``TEST_POSTGRES_URL`` — with ``--questions`` logged
questions and ``--tickets`` tickets spread over a year (bulk inserts), then times:

- ``month_raw``: one month's dashboard figures straight from the query log (no roll-up yet:
  "before");
- ``roll_up``: rolling the year up (the daily job's work, done once here for 365 days);
- ``month``: one month's dashboard figures (clusters and the previous month included) after
  the roll-up — the target is 300 ms; ``month_filtered``: the same for one language (the
  console's filter), counted from the rolled-up facts rather than the daily cells;
- ``year``: the year's report figures (targets: 10 s on PostgreSQL, 30 s on SQLite), and
  ``year_html``: rendering its html.

Measured on 2026-12-07 (``--questions 1000000 --tickets 50000``, 100,000 people, one run)
on the 2-core machine with nothing else running:

=========================  ========  ============
                           SQLite    PostgreSQL
=========================  ========  ============
month, best of 3 (300 ms)  254 ms    237 ms
month, one language        1.57 s    0.73 s
year (30 s / 10 s)         3.55 s    3.24 s
roll-up of the year        58 s      80 s
month_raw (no roll-up)     4.3 s     4.5 s
year_html                  0.13 s    0.08 s
=========================  ========  ============

On PostgreSQL the previous month is counted side by side with the month (a connection of
its own): 346 ms before that, the same day. (This machine's shared server runs with
autovacuum off: the freshly written tables are read without index-only scans.)

Before the daily cells and the set-based roll-up (2026-12-06, same command, load 6-12):
month 6.5 s / 2.1 s, year 45 s / 16.7 s, roll-up 171 s / 235 s, month_raw 27 s / 22 s.
The same at ``--questions 200000 --tickets 10000 --people 20000``, before and after run back
to back (load 2.7): month 404 -> 93 ms / 476 -> 107 ms, year 3.87 -> 1.07 s / 2.34 -> 0.66 s,
roll-up 9.7 -> 12.5 s / 21.1 -> 17.5 s (the daily cells cost about what the set-based insert
of the facts saves).
The month is the dashboard's figures with the previous month and the clusters; it sums the
daily cells (``analytics_cells``) and counts the period's distinct people from the facts'
``(day, person)`` index. On a loaded machine the month lands near its target: expect a few
hundred milliseconds more when the load is high.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.analytics.figures import Filters, Knowledge, Period, compute
from bot.analytics.report import render_html
from bot.analytics.retention import roll_up
from bot.db import Database
from bot.db.migrate import upgrade_async

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
YEAR_START = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
DAYS = 365
NOW = YEAR_START + dt.timedelta(days=DAYS, hours=12)
LANGS = ("uk", "uk", "uk", "ru", "ru", "pl", "en")
PLATFORMS = ("telegram", "telegram", "telegram", "viber")
AUDIENCES = ("ukr-status", "residence-card", "other-tcn", None)
UNANSWERED = (
    "де можна ловити рибу у {place}",
    "як записатися до стоматолога в {place}",
    "чи можна взяти собаку в потяг до {place}",
    "де купити квиток на автобус до {place}",
    "як знайти курси польської мови в {place}",
    "чи потрібна віза щоб поїхати в {place}",
    "где сдать на права в {place}",
    "jak zapisać dziecko na basen w {place}",
)
PLACES = ("Кракові", "Тарнові", "Новому Сончі", "Освенцимі", "Закопаному", "Бохні", "Величці")


def _texts(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(UNANSWERED).format(place=rng.choice(PLACES)) for _ in range(n)]


def generate(
    questions: int, tickets: int, people: int, knowledge: Knowledge, seed: int = 7
) -> dict[str, list[tuple[Any, ...]]]:
    """Rows for ``users``, ``query_log``, ``tickets``, ``ticket_ratings`` (no ids)."""
    rng = random.Random(seed)
    entries = sorted(knowledge.topics)
    weights = [1 / (i + 1) for i in range(len(entries))]  # a few entries are most asked
    users = [
        (
            rng.choice(PLATFORMS),
            f"bench-{i}",
            rng.choice(LANGS),
            rng.choice(AUDIENCES),
            True,
            YEAR_START,
            NOW,
            True,
        )
        for i in range(people)
    ]
    unknown_texts = _texts(rng, 400)
    log: list[tuple[Any, ...]] = []
    for _ in range(questions):
        user = rng.randrange(people) + 1
        when = YEAR_START + dt.timedelta(seconds=rng.randrange(DAYS * 86400))
        roll = rng.random()
        entry = rng.choices(entries, weights)[0]
        candidates = json.dumps([[entry, 0.8], [rng.choice(entries), 0.5]])
        lang = users[user - 1][2]
        platform, audience = users[user - 1][0], users[user - 1][3]
        intent, chosen, none, feedback = None, None, False, None
        if roll < 0.55:
            decision, text = "answer", f"питання про {entry}"
            feedback = rng.choice((None, None, True, False))
        elif roll < 0.75:
            decision, text = "clarify", f"щось про {entry}"
            if rng.random() < 0.6:
                chosen = entry
            else:
                none = rng.random() < 0.5
        elif roll < 0.88:
            decision, text = "handoff", rng.choice(unknown_texts)
        elif roll < 0.95:
            decision, intent, text = "handoff", "human", "хочу консультанта"
        elif roll < 0.97:
            decision, intent, text = "handoff", "urgent", "мені погано"
        else:
            decision, intent, text = "handoff", "greeting", "привіт"
        log.append(
            (
                user,
                when,
                text,
                lang,
                decision,
                intent,
                candidates,
                entry,
                0.8,
                feedback,
                platform,
                audience,
                chosen,
                none,
            )
        )
    ticket_rows: list[tuple[Any, ...]] = []
    ratings: list[tuple[Any, ...]] = []
    for i in range(tickets):
        user = rng.randrange(people) + 1
        opened = YEAR_START + dt.timedelta(seconds=rng.randrange(DAYS * 86400))
        first = opened + dt.timedelta(minutes=rng.expovariate(1 / 20))
        closed = first + dt.timedelta(minutes=rng.expovariate(1 / 90))
        is_closed = closed < NOW - dt.timedelta(days=1) or rng.random() < 0.5
        reason = rng.choice(("resolved", "resolved", "resolved", "no_reply", "cancelled"))
        ticket_rows.append(
            (
                None,
                "closed" if is_closed else "waiting",
                reason if is_closed else None,
                "request",
                False,
                users[user - 1][0],
                users[user - 1][2],
                None,
                users[user - 1][3],
                "питання",
                None,
                "[]",
                None,
                None,
                None,
                opened,
                first,
                first,
                closed if is_closed else None,
                None,
                0,
                None,
                None,
            )
        )
        if is_closed and rng.random() < 0.6:
            ratings.append((i + 1, 0, rng.choice((5, 5, 4, 4, 3, 2, 1)), None, False, closed))
    # At most one open ticket per person (the database enforces it): open ones get a user
    # only when that person has no other open ticket; closed ones always have one.
    open_users: set[int] = set()
    rows_out = []
    for row in ticket_rows:
        user = rng.randrange(people) + 1
        if row[1] != "closed":
            if user in open_users:
                user = None  # type: ignore[assignment]
            else:
                open_users.add(user)
        rows_out.append((user, *row[1:]))
    return {"users": users, "query_log": log, "tickets": rows_out, "ticket_ratings": ratings}


USER_COLS = (
    "platform",
    "external_id",
    "lang",
    "audience",
    "notice_seen",
    "first_seen",
    "last_seen",
    "active",
)
LOG_COLS = (
    "user_id",
    "created_at",
    "text_scrubbed",
    "lang",
    "decision",
    "intent",
    "candidates",
    "top_entry",
    "top_score",
    "feedback",
    "platform",
    "audience",
    "chosen_entry",
    "none_of_these",
)
TICKET_COLS = (
    "user_id",
    "state",
    "close_reason",
    "origin",
    "urgent",
    "platform",
    "lang",
    "topic",
    "audience",
    "question",
    "person_name",
    "candidates",
    "consultant_id",
    "thread_id",
    "card_message_id",
    "opened_at",
    "assigned_at",
    "first_response_at",
    "closed_at",
    "reopened_at",
    "reopen_count",
    "last_person_at",
    "reminded_at",
)
RATING_COLS = ("ticket_id", "round", "score", "comment", "comment_open", "created_at")
COLUMNS = {
    "users": USER_COLS,
    "query_log": LOG_COLS,
    "tickets": TICKET_COLS,
    "ticket_ratings": RATING_COLS,
}


def fill_sqlite(path: Path, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    connection = sqlite3.connect(path)
    try:
        for table, data in rows.items():
            cols = COLUMNS[table]
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            connection.executemany(sql, ([plain(v) for v in row] for row in data))
        connection.commit()
    finally:
        connection.close()


async def fill_postgres(url: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        for table, data in rows.items():
            await connection.copy_records_to_table(table, records=data, columns=COLUMNS[table])
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def postgres_url() -> str | None:
    try:
        import asyncpg
        from sqlalchemy.engine import make_url

        base = make_url(PG_URL)
        dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn, timeout=3)
    except Exception:
        return None
    name = f"otwarta_bench_analytics_{uuid.uuid4().hex[:8]}"
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


async def timed(coro: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = await coro
    return time.perf_counter() - started, value


async def best_of_three(make: Any) -> tuple[float, Any]:
    """The shortest of three runs of the coroutine ``make()`` makes, and the last result."""
    runs = [await timed(make()) for _ in range(3)]
    return min(seconds for seconds, _ in runs), runs[-1][1]


async def run(url: str, knowledge: Knowledge, rows: dict[str, Any], fill: Any) -> dict[str, Any]:
    await upgrade_async(url)
    started = time.perf_counter()
    await fill(rows)
    result: dict[str, Any] = {"fill_s": round(time.perf_counter() - started, 1)}
    db = Database.from_url(url)
    year = Period(YEAR_START.date(), (YEAR_START + dt.timedelta(days=DAYS - 1)).date())
    month = Period(dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    try:
        seconds, _ = await timed(compute(db, month, knowledge=knowledge, bucket="day"))
        result["month_raw_s"] = round(seconds, 3)
        seconds, days = await timed(roll_up(db, knowledge, now=NOW))
        result["roll_up_s"] = round(seconds, 1)
        result["rolled_days"] = days
        seconds, figures = await best_of_three(
            lambda: compute(db, month, knowledge=knowledge, bucket="day")
        )
        result["month_ms"] = round(seconds * 1000)
        result["month_rows"] = figures.rows
        seconds, _ = await best_of_three(  # the console with a filter: counted from the facts
            lambda: compute(
                db, month, knowledge=knowledge, bucket="day", filters=Filters(lang="uk")
            )
        )
        result["month_filtered_ms"] = round(seconds * 1000)
        seconds, figures = await timed(compute(db, year, knowledge=knowledge, bucket="month"))
        result["year_s"] = round(seconds, 2)
        result["year_rows"] = figures.rows
        started = time.perf_counter()
        page = render_html(figures, knowledge, "pl")
        result["year_html_s"] = round(time.perf_counter() - started, 2)
        result["html_kb"] = len(page.encode()) // 1024
        result["clusters_shown"] = sum(1 for c in figures.unanswered if not c.rest)
    finally:
        await db.dispose()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--people", type=int, default=None, help="default: questions / 10")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    knowledge = Knowledge.load()
    people = args.people or max(10, args.questions // 10)
    started = time.perf_counter()
    rows = generate(args.questions, args.tickets, people, knowledge)
    results: dict[str, Any] = {
        "questions": args.questions,
        "tickets": args.tickets,
        "people": people,
        "generate_s": round(time.perf_counter() - started, 1),
    }
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.sqlite3"
            url = f"sqlite+aiosqlite:///{path}"

            async def fill_lite(data: dict[str, Any]) -> None:
                await asyncio.to_thread(fill_sqlite, path, data)

            results["sqlite"] = await run(url, knowledge, rows, fill_lite)
            print(json.dumps({"sqlite": results["sqlite"]}), file=sys.stderr)
    if not args.no_postgres:
        url = await postgres_url()
        if url is None:
            results["postgres"] = "unreachable"
        else:
            try:

                async def fill_pg(data: dict[str, Any]) -> None:
                    await fill_postgres(url, data)

                results["postgres"] = await run(url, knowledge, rows, fill_pg)
            finally:
                await drop_postgres(url)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    asyncio.run(main())
