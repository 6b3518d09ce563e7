"""``kill -9`` in the middle of an announcement, then a restart: nobody gets it twice, nobody
is skipped.

``python -m bot serve`` sends an announcement to 60 subscribers at 10 messages a second; it is
killed with SIGKILL after a part of them got it, and started again. Why this holds: a recipient
row moves from "pending" to "queued" in the same transaction that writes its message to the
outbox, so after the kill every recipient is either still pending (queued by the next process)
or has its outbox row (sent by the outbox). The one window that can repeat a message is the
outbox's own, documented in ``tests/test_telegram_crash.py``: a message Telegram accepted whose
row the killed process had not yet marked "sent". The test allows exactly the rows in state
"sending" at the moment of the kill, read from the database right after it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.announce.queue import load, queue
from bot.db import Database
from faq.content import load_knowledge_base
from tests.doubles.telegram_double import BotApiDouble
from tests.doubles.telegram_harness import free_port
from tests.e2e.test_announce_e2e import NEWS, subscribers, write_announcement
from tests.e2e.test_telegram_crash import expire_leases, sending_rows

PEOPLE = 60


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    async with BotApiDouble(require_known_chat=False) as double:
        yield double


async def start_bot(api: BotApiDouble, db_url: str, workdir: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.api_url,
        "TELEGRAM_MESSAGES_PER_SECOND": "10",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(free_port()),
    }
    env.pop("PUBLIC_URL", None)
    log = (workdir / "bot.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve",
        cwd=workdir, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    log.close()
    return process


async def stuck(db_url: str) -> list[object]:
    """The outbox rows of recipients not marked sent (for the failure message)."""
    from sqlalchemy import text

    from bot.db.engine import create_engine

    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT r.status, r.outbox_id, o.status, o.lane, o.not_before, o.lease_until,"
                    " o.attempts, o.last_error FROM announcement_recipients r"
                    " LEFT JOIN outbox o ON o.id = r.outbox_id WHERE r.status != 'sent'"
                )
            )
            return [tuple(row) for row in rows]
    finally:
        await engine.dispose()


async def test_kill_mid_announcement_and_restart_sends_each_once(
    api: BotApiDouble, db_url: str, tmp_path: Path
) -> None:
    db = Database.from_url(db_url)
    try:
        chats = await subscribers(db, PEOPLE, 8000)
        announcement, problems = load(
            write_announcement(tmp_path, "crash", NEWS), load_knowledge_base()
        )
        assert announcement is not None, problems
        row, _created = await queue(db, announcement, dt.datetime.now(dt.UTC))
    finally:
        await db.dispose()

    def announced() -> int:
        return sum(1 for m in api.sent if "📣" in m.text)

    bot = await start_bot(api, db_url, tmp_path)
    await api.wait_until(lambda: announced() >= 15, within=90, what="a part of the announcement")
    bot.send_signal(signal.SIGKILL)
    await bot.wait()
    before_kill = announced()
    may_repeat = await sending_rows(db_url)
    await expire_leases(db_url)

    bot = await start_bot(api, db_url, tmp_path)
    try:
        await api.wait_until(
            lambda: all(api.sent_to(chat) for chat in chats), within=120, what="everyone"
        )
        db = Database.from_url(db_url)
        try:
            deadline = asyncio.get_running_loop().time() + 90  # against hangs, not timing
            while asyncio.get_running_loop().time() < deadline:
                async with db.read() as uow:
                    progress = await uow.announcements.progress(row.id)
                    done = (await uow.announcements.get(row.id)).status == "done"  # type: ignore[union-attr]
                if done:
                    break
                await asyncio.sleep(0.1)
        finally:
            await db.dispose()
    finally:
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 30) == 0

    assert before_kill < PEOPLE, "the kill came too late to test anything"
    assert done and progress == {"sent": PEOPLE}, (progress, await stuck(db_url))
    received = Counter(m.chat_id for m in api.sent if "📣" in m.text)
    assert set(received) == set(chats)  # nobody skipped
    for chat, count in received.items():
        assert count - 1 <= may_repeat[str(chat)], f"chat {chat} got it {count} times"
    assert sum(received.values()) - PEOPLE <= sum(may_repeat.values())
