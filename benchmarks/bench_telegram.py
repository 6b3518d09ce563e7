"""Telegram end to end: sustained updates/s, latency and memory of ``otwarta serve``.

    .venv/bin/python benchmarks/bench_telegram.py [--db sqlite,postgres] [--repeat 3]

What runs: the Bot API double (``tests/telegram_double.py``) in this process; the bot as a
subprocess (``python -m bot serve``: the real router, matcher, engine, outbox, database) in
polling mode; for comparison, in the same run and the same delivery mode, the minimal
python-telegram-bot echo bot (PTB's own example: ``run_polling`` + one ``reply_text``).

Measured, per target:

- **throughput**: a burst of ``--updates`` questions, one per person (Telegram allows about one
  message a second per chat, so load must be spread over many chats), from arrival at the
  double to the answer's ``sendMessage``; updates/s = updates / time to the last answer;
- **latency** at a steady ``--rate`` (default 100 updates/s, ``--seconds`` long): arrival at the
  double → the first ``sendMessage`` to that chat; p50 and p99;
- **memory**: the bot process's peak RSS (VmHWM).

The bot's overall send rate is Telegram's ~30 messages/s by default
(``TELEGRAM_MESSAGES_PER_SECOND``); the benchmark raises it (``--send-rate``, default 2000) to
measure the bot itself, and reports one line at the production default to show that cap.

Targets (a 2-core machine): ≥ 200 updates/s, ≥ 0.5 × the echo bot, p99 ≤ 100 ms at
100 updates/s, RSS ≤ 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.doubles.telegram_double import BotApiDouble, FakeUser  # noqa: E402

QUESTIONS = {
    "uk": ["як отримати песель", "де зробити мельдунек", "як знайти роботу в Кракові",
           "чи можна подорожувати зі статусом UKR", "як записатися до лікаря"],
    "ru": ["как получить песель", "где сделать мельдунек", "нужно ли разрешение на работу",
           "как записать ребенка в школу", "как получить 800 плюс"],
    "pl": ["jak uzyskać PESEL UKR", "gdzie złożyć wniosek o kartę pobytu",
           "jak zarejestrować się w urzędzie pracy"],
    "en": ["how do I get a PESEL", "where to apply for a residence card",
           "how to register at a doctor"],
}  # fmt: skip

PER_CHAT_WINDOW = 3.5  # seconds: the sender's per-chat limit (3 messages / 3 s) is empty again

ECHO_BOT = """
import os, sys
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(update.message.text)

root = os.environ["TELEGRAM_API_URL"]
app = (ApplicationBuilder().token(os.environ["TELEGRAM_BOT_TOKEN"])
       .base_url(root + "/bot").base_file_url(root + "/file/bot").build())
app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
app.run_polling(poll_interval=0.0, timeout=25)
"""


@dataclass
class Result:
    name: str
    throughput: float  # updates/s, arrival to answer
    intake: float  # updates/s, arrival to committed and confirmed (ours) / fetched (echo)
    p50_ms: float
    p99_ms: float
    rss_mb: float
    answered: int
    expected: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Replies:
    """Each chat's messages (arrival times), read incrementally from the double's record."""

    def __init__(self, api: BotApiDouble) -> None:
        self.api = api
        self.times: dict[int, list[float]] = {}
        self._seen = 0

    def scan(self) -> set[int]:
        """Read what arrived since the last scan; returns the chats that got messages."""
        sent = self.api.sent
        chats = set()
        for message in sent[self._seen :]:
            self.times.setdefault(message.chat_id, []).append(message.at)
            chats.add(message.chat_id)
        self._seen = len(sent)
        return chats

    def count(self, chat: int) -> int:
        return len(self.times.get(chat, ()))

    async def wait(self, expected: dict[int, int], within: float) -> None:
        """Until every chat has at least ``expected[chat]`` messages (or the timeout). Cheap:
        only the chats that just got a message are looked at (this process shares the CPUs
        with the bot under test)."""
        deadline = time.perf_counter() + within
        missing = {c: n for c, n in expected.items() if self.count(c) < n}
        while missing and time.perf_counter() < deadline:
            for chat in self.scan():
                if chat in missing and self.count(chat) >= missing[chat]:
                    del missing[chat]
            await asyncio.sleep(0.02)

    async def settle(self, quiet: float = 0.5, within: float = 60) -> None:
        """Until no message arrived for ``quiet`` seconds (follow-up messages included)."""
        deadline = time.perf_counter() + within
        last = time.perf_counter()
        while time.perf_counter() < deadline:
            if self.scan():
                last = time.perf_counter()
            elif time.perf_counter() - last > quiet:
                return
            await asyncio.sleep(0.01)


class Users:
    def __init__(self, start: int, count: int) -> None:
        langs = list(QUESTIONS)
        self.all = [FakeUser(start + i, language_code=langs[i % len(langs)]) for i in range(count)]


def question_for(user: FakeUser, n: int = 0) -> str:
    options = QUESTIONS[user.language_code or "uk"]
    return options[(user.id + n) % len(options)]


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@contextlib.asynccontextmanager
async def bot_process(
    api: BotApiDouble, env_extra: dict[str, str], argv: list[str], workdir: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.api_url,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
        **env_extra,
    }
    env.pop("PUBLIC_URL", None)
    polls = api.polls_started
    process = await asyncio.create_subprocess_exec(
        sys.executable, *argv, cwd=workdir, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=(workdir / "stderr.log").open("ab"),
    )  # fmt: skip
    try:
        await api.wait_until(
            lambda: api.polls_started > polls or process.returncode is not None, within=120
        )
        if process.returncode is not None:
            raise RuntimeError((workdir / "stderr.log").read_text()[-3000:])
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def measure(
    name: str,
    api: BotApiDouble,
    process: asyncio.subprocess.Process,
    args: argparse.Namespace,
    *,
    latency: bool = True,
) -> Result:
    """Warm up (every person's first message: a new user's turn, not timed), then a burst, then
    a steady rate; each update is matched with its chat's next message."""
    replies = Replies(api)
    users = Users(10_000_000 + 1_000_000 * len(api.calls), args.users).all
    for user in users:
        api.text(user, question_for(user))
    await replies.wait({u.id: 1 for u in users}, 300)
    await replies.settle(within=args.timeout)

    def send(batch: list[FakeUser], round_: int) -> dict[int, list[float]]:
        sent: dict[int, list[float]] = {}
        for user in batch:
            update = api.text(user, question_for(user, round_))
            sent.setdefault(user.id, []).append(api.injected_at[update["update_id"]])
        return sent

    def latencies(injected: dict[int, list[float]], base: dict[int, int]) -> list[float]:
        out: list[float] = []
        for chat, times in injected.items():
            got = replies.times.get(chat, [])[base[chat] :]
            out.extend((reply - at) * 1000 for at, reply in zip(times, got, strict=False))
        return sorted(out)

    # throughput: a burst, one update per person (at most one message a second per chat)
    await asyncio.sleep(PER_CHAT_WINDOW)  # the warm-up's messages leave the per-chat limits
    base = {u.id: replies.count(u.id) for u in users}
    burst: dict[int, list[float]] = {}
    started = time.perf_counter()
    for chat, times in send(users[: args.updates], 1).items():
        burst.setdefault(chat, []).extend(times)
    last_update = max(api.injected_at)
    confirmed_at: list[float] = []
    confirmed = asyncio.ensure_future(
        api.wait_until(lambda: api.confirmed_offset > last_update, within=args.timeout)
    )
    confirmed.add_done_callback(lambda _: confirmed_at.append(time.perf_counter()))
    await replies.wait({c: base[c] + len(t) for c, t in burst.items()}, args.timeout)
    done = [
        replies.times[c][base[c] + len(t) - 1]
        for c, t in burst.items()
        if replies.count(c) >= base[c] + len(t)
    ]
    total = sum(len(t) for t in burst.values())
    answered = len(latencies(burst, base))
    throughput = answered / (max(done) - started) if done else 0.0
    with contextlib.suppress(AssertionError):
        await confirmed
    intake = total / (confirmed_at[0] - started) if confirmed_at else 0.0
    await replies.settle(within=args.timeout)
    await asyncio.sleep(PER_CHAT_WINDOW)

    p50 = p99 = float("nan")
    expected = total
    if latency:
        base = {u.id: replies.count(u.id) for u in users}
        count = int(args.rate * args.seconds)
        expected += count
        steady: dict[int, list[float]] = {}
        t0 = time.perf_counter()
        for n in range(count):
            delay = t0 + n / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            user = users[n % len(users)]  # each person at most once (--users ≥ rate × s)
            for chat, times in send([user], 100 + n).items():
                steady.setdefault(chat, []).extend(times)
        await replies.wait({c: base[c] + len(t) for c, t in steady.items()}, args.timeout)
        values = latencies(steady, base)
        answered += len(values)
        if values:
            p50 = statistics.median(values)
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return Result(name, throughput, intake, p50, p99, peak_rss_mb(process.pid), answered, expected)


async def postgres_database(base_url: str) -> tuple[str, Callable[[], object]]:
    import asyncpg
    from sqlalchemy.engine import make_url

    from bot.db.migrate import upgrade_async

    parsed = make_url(base_url)
    name = f"otwarta_bench_{uuid.uuid4().hex[:8]}"
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=3)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    url = parsed.set(database=name).render_as_string(hide_password=False)
    await upgrade_async(url)

    async def drop() -> None:
        connection = await asyncpg.connect(dsn, timeout=3)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()

    return url, drop


async def run(args: argparse.Namespace) -> list[Result]:
    """Every target ``--repeat`` times, interleaved (ours, then the echo bot, again...), so a
    slow spell of a shared machine hits them alike; the rows are the medians."""
    runs: dict[str, list[Result]] = {}
    workdir = Path(tempfile.mkdtemp(prefix="bench-telegram-"))
    try:
        for _ in range(args.repeat):
            for result in await run_once(args, workdir):
                runs.setdefault(result.name, []).append(result)
                if args.repeat > 1:
                    print_row(result, prefix="  run: ")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = [median_result(name, values) for name, values in runs.items()]
    if args.repeat > 1:
        print(f"medians of {args.repeat} runs:")
    for result in results:
        print_row(result)
    return results


def median_result(name: str, runs: list[Result]) -> Result:
    def median(field: str) -> float:
        return float(statistics.median(getattr(r, field) for r in runs))

    return Result(
        name,
        throughput=median("throughput"),
        intake=median("intake"),
        p50_ms=median("p50_ms"),
        p99_ms=median("p99_ms"),
        rss_mb=max(r.rss_mb for r in runs),  # the worst, not the typical
        answered=sum(r.answered for r in runs),
        expected=sum(r.expected for r in runs),
    )


async def run_once(args: argparse.Namespace, workdir: Path) -> list[Result]:
    results: list[Result] = []
    for db in args.db:
        drop = None
        if db == "sqlite":
            url = f"sqlite+aiosqlite:///{workdir / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
        else:
            try:
                url, drop = await postgres_database(args.postgres_url)
            except Exception as exc:
                print(f"skipping PostgreSQL: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
        try:
            for send_rate in (args.send_rate, 30) if args.show_default_cap else (args.send_rate,):
                async with BotApiDouble(require_known_chat=False) as api:
                    env = {"DATABASE_URL": url, "TELEGRAM_MESSAGES_PER_SECOND": str(send_rate)}
                    async with bot_process(api, env, ["-m", "bot", "serve"], workdir) as proc:
                        label = f"otwarta serve, {db}"
                        if send_rate == 30:
                            label += " (default 30 msg/s cap)"
                        results.append(
                            await measure(label, api, proc, args, latency=send_rate != 30)
                        )
        finally:
            if drop is not None:
                await drop()  # type: ignore[misc]
    async with (
        BotApiDouble(require_known_chat=False) as api,
        bot_process(api, {}, ["-c", ECHO_BOT], workdir) as proc,
    ):
        results.append(await measure("PTB echo bot (reference)", api, proc, args))
    return results


HEADER = (
    f"{'target':<44} {'updates/s':>10} {'intake/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'RSS MB':>7} {'answered':>10}"
)


def print_row(r: Result, prefix: str = "") -> None:
    print(
        f"{prefix + r.name:<44} {r.throughput:>10.0f} {r.intake:>9.0f} "
        f"{r.p50_ms:>8.1f} {r.p99_ms:>8.1f} "
        f"{r.rss_mb:>7.0f} "
        f"{r.answered:>5}/{r.expected:<5}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgres", type=lambda v: v.split(","))
    parser.add_argument("--users", type=int, default=3000, help="people (chats) sending")
    parser.add_argument("--updates", type=int, default=3000, help="burst, one per person")
    parser.add_argument("--rate", type=float, default=100.0, help="steady rate for latency")
    parser.add_argument("--seconds", type=float, default=10.0, help="steady phase length")
    parser.add_argument("--send-rate", type=int, default=2000, help="TELEGRAM_MESSAGES_PER_SECOND")
    parser.add_argument("--show-default-cap", action="store_true",
                        help="also run once at the production default of 30 msg/s")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure every target this often; report the medians")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; {args.users} people; burst of {args.updates} updates; "
          f"latency at {args.rate:.0f} updates/s for {args.seconds:.0f} s")  # fmt: skip
    print(HEADER)
    results = asyncio.run(run(args))
    echo = next((r for r in results if r.name.startswith("PTB echo")), None)
    print()
    for r in results:
        if r is echo or "cap)" in r.name:
            continue
        ratio = r.throughput / echo.throughput if echo and echo.throughput else float("nan")
        checks = [
            ("≥ 200 updates/s", r.throughput >= 200),
            ("≥ 0.5 × echo", ratio >= 0.5),
            ("p99 ≤ 100 ms", r.p99_ms <= 100),
            ("RSS ≤ 200 MB", r.rss_mb <= 200),
            ("all answered", r.answered == r.expected),
        ]
        verdict = ", ".join(f"{label}: {'ok' if good else 'MISSED'}" for label, good in checks)
        print(f"{r.name}: {ratio:.2f} × echo; {verdict}")


if __name__ == "__main__":
    main()
