"""Starting in a bad moment (issue 18, items 7 and 8), with real ``otwarta serve`` processes:

- the Bot API unreachable at start: the HTTP server and Viber work at once, Telegram's
  start-up retries in the background (``/readyz`` names it) and catches up when it is back;
- PostgreSQL unreachable at start: the process waits with backoff, says why in one line (JSON
  with ``LOG_JSON=true``), ``/readyz`` 503 meanwhile, and serves once the database is there;
- a bad setting: one clear line and exit 2, no traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.doubles.fault_harness import BotProcess, Gate, eventually
from tests.doubles.private_postgres import PrivateServer
from tests.doubles.telegram_double import BotApiDouble
from tests.doubles.viber_double import ViberApiDouble, ViberCallbacks, ViberUser


async def test_bot_api_unreachable_at_start_holds_up_neither_http_nor_viber(
    sqlite_url: str, tmp_path: Path
) -> None:
    from tests.e2e.test_viber_crash import deliver

    person = ViberUser("s01+AAAAAAAAAAAAAAAAAA==", language="uk")
    async with (
        BotApiDouble() as telegram,
        Gate(telegram.api_url) as gate,
        ViberApiDouble() as viber_api,
    ):
        viber_api.add_user(person)
        viber_api.subscribed.add(person.id)
        await gate.set("refuse")
        bot = BotProcess(
            {
                "DATABASE_URL": sqlite_url,
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_API_URL": gate.url,
                "VIBER_AUTH_TOKEN": viber_api.token,
                "VIBER_API_URL": viber_api.api_url,
            },
            tmp_path,
        )
        bot.env["PUBLIC_URL"] = bot.url
        await bot.start()  # returns once /healthz answers: with the Bot API unreachable
        try:
            viber = ViberCallbacks(f"{bot.url}/viber/webhook", viber_api.token, viber_api)
            await deliver(viber, person, ["меню"])
            await viber_api.wait_until(lambda: len(viber_api.sent_to(person.id)) == 1, 30)
            await eventually(
                lambda: _readyz_names(bot, "telegram-start"), what="/readyz naming Telegram"
            )
            assert not telegram.calls  # nothing reached the Bot API yet
            await gate.set("open")
            await telegram.wait_until(
                lambda: telegram.webhook_url is not None, within=60, what="Telegram started"
            )
            await eventually(bot.ready, within=30, what="/readyz 200 once Telegram is up")
        finally:
            code = await bot.terminate()
    bot.assert_clean_exit(code)
    log = bot.log_text()
    assert log.count("telegram API unreachable at start") == 1, log[-3000:]
    assert "Traceback" not in log


async def _readyz_names(bot: BotProcess, worker: str) -> bool:
    status, body = await bot.get("/readyz")
    return status == 503 and worker in (body or {}).get("workers", [])


async def test_postgres_unreachable_at_start_waits_says_why_once_then_serves(
    private_postgres: PrivateServer, tmp_path: Path
) -> None:
    private_postgres.stop()
    bot = BotProcess({"DATABASE_URL": private_postgres.url, "LOG_JSON": "true"}, tmp_path)
    await bot.start()  # /healthz answers while the database is unreachable
    try:
        status, body = await bot.get("/readyz")
        assert status == 503 and "database unreachable" in body["reason"]
        await eventually(lambda: "database unreachable" in bot.log_text(), what="the reason logged")
        private_postgres.start()
        await eventually(bot.ready, within=60, what="/readyz 200 once the database is up")
    finally:
        code = await bot.terminate()
    bot.assert_clean_exit(code)
    lines = [line for line in bot.log_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON
    unreachable = [r for r in records if "database unreachable" in r["msg"]]
    assert len(unreachable) == 1, lines
    assert "ConnectionRefusedError" in unreachable[0]["msg"] or "OSError" in unreachable[0]["msg"]
    assert any("database reachable again" in r["msg"] for r in records)
    assert not any("exc" in r or "Traceback" in r["msg"] for r in records)


async def _serve_once(env: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=tmp_path,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "VIBER_",
             "DESK_", "CONSULTANT_"))}, "HTTP_PORT": "0", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, (out + err).decode()


async def test_a_typo_in_desk_hours_is_one_json_line(tmp_path: Path) -> None:
    code, output = await _serve_once(
        {"DESK_HOURS": "mon-fir 09:00-17:00", "LOG_JSON": "true"}, tmp_path
    )
    lines = output.strip().splitlines()
    assert code == 2
    assert len(lines) == 1, output
    record = json.loads(lines[0])
    assert record["level"] == "ERROR"
    assert record["msg"].startswith("invalid settings: DESK_HOURS: ")


async def test_the_desk_without_a_telegram_token_is_one_line(tmp_path: Path) -> None:
    code, output = await _serve_once(
        {"CONSULTANT_CHAT_ID": "-1001234567890", "DATABASE_URL": "sqlite+aiosqlite:///x.sqlite3"},
        tmp_path,
    )
    assert code == 2
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if "ERROR" in line]
    assert (
        len(errors) == 1 and "CONSULTANT_CHAT_ID is set but TELEGRAM_BOT_TOKEN is not" in errors[0]
    )


#: Every background loop of ``serve`` with Telegram and the desk: each a supervised worker.
SERVE_WORKERS = (
    "telegram-poller",
    "outbox",
    "housekeeping",
    "gauges",
    "retention",
    "announcements",
    "desk-reminder",
    "desk-check",
    "desk-topic-sync",
)


async def test_every_background_loop_of_serve_is_a_supervised_worker(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Issue 12: the poller, the outbox, housekeeping, retention, announcements and the
    desk's loops all run under the supervisor — each has its up gauge and restart counter on
    ``/metrics`` (a plain task would have neither, and could die unseen) — and SIGTERM stops
    them all cleanly."""
    async with BotApiDouble() as telegram:
        telegram.add_forum_group(-1001234567890)
        bot = BotProcess(
            {
                "DATABASE_URL": sqlite_url,
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_API_URL": telegram.api_url,
                "CONSULTANT_CHAT_ID": "-1001234567890",
            },
            tmp_path,
        )
        await bot.start()
        try:

            async def all_up() -> bool:
                up = [await bot.metric("otwarta_worker_up", worker=w) for w in SERVE_WORKERS]
                return up == [1.0] * len(SERVE_WORKERS)

            await eventually(all_up, within=60, what="every worker up")
            await eventually(bot.ready, within=30, what="/readyz 200")
            _, body = await bot.get("/metrics")
            for worker in SERVE_WORKERS:
                assert f'otwarta_worker_restarts_total{{worker="{worker}"}} 0.0' in body
        finally:
            code = await bot.terminate()
    bot.assert_clean_exit(code)
    assert "Traceback" not in bot.log_text()
