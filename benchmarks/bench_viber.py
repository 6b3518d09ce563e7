"""Viber end to end: how fast ``otwarta serve`` takes callbacks and answers them.

    .venv/bin/python benchmarks/bench_viber.py [--db sqlite,postgres] [--callbacks 2000]

What runs: the Viber REST API double (``tests/viber_double.py``) in this process, posting
signed ``message`` callbacks to the webhook the way Viber does (many requests in parallel,
``--concurrency``); the bot as a subprocess (``python -m bot serve``: the real webhook,
router, matcher, engine, outbox and database), its webhook registered through ``set_webhook``.

Measured, per database:

- **ack**: POST → 200, i.e. verified, parsed, processed and *committed* (the webhook answers
  only then): p50 / p99, and callbacks/s over a burst of ``--callbacks`` questions, one per
  person;
- **answer**: callback sent → the answer's ``send_message`` at Viber, p50 / p99 at a steady
  ``--rate`` (default 100 callbacks/s for ``--seconds``), and the burst's answers/s;
- **memory**: the bot process's peak RSS (VmHWM).

The overall send rate to Viber is ``VIBER_MESSAGES_PER_SECOND`` (100 by default; Viber
publishes no figure); the benchmark raises it (``--send-rate``) to measure the bot itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.doubles.viber_double import ViberApiDouble, ViberCallbacks, ViberUser, sign  # noqa: E402

QUESTIONS = {
    "uk": ["як отримати песель", "де зробити мельдунек", "як знайти роботу в Кракові",
           "чи можна подорожувати зі статусом UKR", "як записатися до лікаря"],
    "ru": ["как получить песель", "где сделать мельдунек", "нужно ли разрешение на работу",
           "как записать ребенка в школу", "как получить 800 плюс"],
    "pl": ["jak uzyskać PESEL UKR", "gdzie złożyć wniosek o kartę pobytu"],
    "en": ["how do I get a PESEL", "where to apply for a residence card"],
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def people(prefix: str, count: int) -> list[ViberUser]:
    langs = list(QUESTIONS)
    return [
        ViberUser(f"{prefix}{i:06d}+AAAAAAAAAAAAA==", language=langs[i % len(langs)])
        for i in range(count)
    ]


def question(user: ViberUser, i: int) -> str:
    options = QUESTIONS[user.language or "uk"]
    return options[i % len(options)]


@contextlib.asynccontextmanager
async def database(kind: str, workdir: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.sqlite3'}"
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    base = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    name = f"otwarta_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    from bot.db.migrate import upgrade_async

    await upgrade_async(url)
    try:
        yield url
    finally:
        connection = await asyncpg.connect(admin)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


@contextlib.asynccontextmanager
async def bot_process(
    api: ViberApiDouble, db_url: str, send_rate: int, workdir: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "VIBER_AUTH_TOKEN": api.token,
        "VIBER_API_URL": api.api_url,
        "VIBER_MESSAGES_PER_SECOND": str(send_rate),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    env.pop("CONSULTANT_CHAT_ID", None)
    api.webhook_url = None
    log = (workdir / "stderr.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve",
        cwd=workdir, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    log.close()
    try:
        await api.wait_until(
            lambda: api.webhook_url is not None or process.returncode is not None, timeout=120
        )
        if process.returncode is not None:
            raise RuntimeError((workdir / "stderr.log").read_text()[-3000:])
        yield process, f"http://127.0.0.1:{port}/viber/webhook"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


class Poster:
    """Signed callbacks over a pooled connection (Viber keeps connections open too)."""

    def __init__(self, url: str, token: str, http: aiohttp.ClientSession) -> None:
        self.url = url
        self.token = token
        self.http = http
        self.builder = ViberCallbacks(url, token)

    async def post(self, user: ViberUser, text: str) -> tuple[float, float]:
        """(sent at, ack latency) for one message callback."""
        payload = self.builder.message_payload(user, {"type": "text", "text": text})
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"X-Viber-Content-Signature": sign(self.token, body)}
        started = time.perf_counter()
        async with self.http.post(self.url, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"webhook answered {response.status}")
        return started, time.perf_counter() - started


def first_answers(api: ViberApiDouble) -> dict[str, float]:
    first: dict[str, float] = {}
    for message in api.sent:
        first.setdefault(message.receiver, message.at)
    return first


async def wait_answers(api: ViberApiDouble, users: list[ViberUser], within: float) -> None:
    wanted = {u.id for u in users}
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        if wanted <= first_answers(api).keys():
            return
        await asyncio.sleep(0.01)


async def burst(api: ViberApiDouble, poster: Poster, args: argparse.Namespace) -> dict[str, float]:
    users = people("b", args.callbacks)
    for user in users:
        api.add_user(user)
        api.subscribed.add(user.id)
    gate = asyncio.Semaphore(args.concurrency)
    acks: list[float] = []

    async def one(i: int, user: ViberUser) -> None:
        async with gate:
            _at, ack = await poster.post(user, question(user, i))
            acks.append(ack)

    started = time.perf_counter()
    await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
    acked = time.perf_counter() - started
    await wait_answers(api, users, 120)
    answers = first_answers(api)
    last = max(answers[u.id] for u in users if u.id in answers)
    return {
        "callbacks_per_s": len(users) / acked,
        "answers_per_s": len(users) / (last - started),
        "ack_p50_ms": percentile(acks, 0.5) * 1000,
        "ack_p99_ms": percentile(acks, 0.99) * 1000,
        "answered": sum(1 for u in users if u.id in answers),
        "expected": len(users),
    }


async def steady(api: ViberApiDouble, poster: Poster, args: argparse.Namespace) -> dict[str, float]:
    count = int(args.rate * args.seconds)
    users = people("s", count)
    for user in users:
        api.add_user(user)
        api.subscribed.add(user.id)
    sent_at: dict[str, float] = {}
    acks: list[float] = []
    tasks = []

    async def one(i: int, user: ViberUser) -> None:
        at, ack = await poster.post(user, question(user, i))
        sent_at[user.id] = at
        acks.append(ack)

    start = time.perf_counter()
    for i, user in enumerate(users):
        delay = start + i / args.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, user)))
    await asyncio.gather(*tasks)
    await wait_answers(api, users, 60)
    answers = first_answers(api)
    latencies = [answers[u] - sent_at[u] for u in sent_at if u in answers]
    return {
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "ack_p99_ms": percentile(acks, 0.99) * 1000,
        "answered": len(latencies),
        "expected": count,
    }


def describe_burst(kind: str, b: dict[str, float]) -> str:
    return (
        f"{kind:8s} burst of {b['expected']:.0f}: {b['callbacks_per_s']:.0f} callbacks/s "
        f"acknowledged (ack p50 {b['ack_p50_ms']:.1f} ms, p99 {b['ack_p99_ms']:.1f} ms), "
        f"{b['answers_per_s']:.0f} answers/s ({b['answered']:.0f}/{b['expected']:.0f} answered)"
    )


def describe_steady(kind: str, args: argparse.Namespace, s: dict[str, float], rss: float) -> str:
    return (
        f"{kind:8s} steady {args.rate:.0f}/s for {args.seconds:.0f} s: callback -> send_message "
        f"p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms; ack p99 {s['ack_p99_ms']:.1f} ms "
        f"({s['answered']:.0f}/{s['expected']:.0f} answered); peak RSS {rss:.0f} MB"
    )


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-viber-"))
    try:
        for kind in args.db.split(","):
            async with ViberApiDouble() as api, database(kind, workdir) as db_url:
                async with (
                    bot_process(api, db_url, args.send_rate, workdir) as (process, url),
                    aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(limit=args.concurrency)
                    ) as http,
                ):
                    poster = Poster(url, api.token, http)
                    b = await burst(api, poster, args)
                    print(describe_burst(kind, b), flush=True)
                    await asyncio.sleep(1.0)
                    st = await steady(api, poster, args)
                    rss = peak_rss_mb(process.pid)
                print(describe_steady(kind, args, st, rss), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--callbacks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--send-rate", type=int, default=2000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
