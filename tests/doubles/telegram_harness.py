"""Running the whole bot (``bot.app.serve``) in-process against the Bot API double.

Shared by the Telegram, HTTP and logging tests (and reusable by the desk's): settings pointing
at the double, a way to start ``serve`` and wait until it is up, and a small handler that
answers every kind of event so adapter tests do not depend on the conversation's wording.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bot.app import serve
from bot.http import HttpServer
from bot.settings import Settings
from handlers.context import TurnContext
from handlers.model import Button, EventKind
from tests.doubles.telegram_double import BotApiDouble


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_settings(double: BotApiDouble, database_url: str, **overrides: Any) -> Settings:
    """Settings for a bot talking to ``double`` (no ``.env``; HTTP on a free port)."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "telegram_bot_token": double.token,
        "telegram_api_url": double.api_url,
        "http_host": "127.0.0.1",
        "http_port": free_port(),
        "public_url": None,
        "consultant_chat_id": None,
        "log_level": "INFO",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def webhook_settings(double: BotApiDouble, database_url: str, **overrides: Any) -> Settings:
    """Settings for webhook mode: PUBLIC_URL is our own HTTP server on loopback."""
    port = free_port()
    return bot_settings(
        double, database_url, http_port=port, public_url=f"http://127.0.0.1:{port}", **overrides
    )


async def echo_handler(ctx: TurnContext) -> None:
    """Answers every event in a way a test can check: the markup exercises bold, links and
    both kinds of buttons."""
    event = ctx.event
    if event.kind is EventKind.COMMAND:
        ctx.reply(
            f"**/{event.command}** {' '.join(event.args)} <ok> & [gov](https://www.gov.pl)",
            [[Button("English", id="lang:en"), Button("gov.pl", url="https://www.gov.pl")]],
        )
    elif event.kind is EventKind.TEXT:
        ctx.reply(f"echo: {event.text}")
    elif event.kind is EventKind.BUTTON:
        ctx.reply(f"button {event.payload}")
    elif event.kind is EventKind.MEDIA:
        assert event.media is not None
        ctx.reply(f"media {event.media.kind.value} {event.media.ref}")


@dataclass
class RunningBot:
    settings: Settings
    http: HttpServer
    task: asyncio.Task[None]
    stop_event: asyncio.Event

    @property
    def url(self) -> str:
        return self.http.url

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.wait_for(self.task, 30)


@contextlib.asynccontextmanager
async def running_bot(settings: Settings, **kwargs: Any) -> AsyncIterator[RunningBot]:
    """``serve(settings)`` in a task, yielded once it is up; stopped gracefully on exit."""
    stop = asyncio.Event()
    ready: asyncio.Future[HttpServer] = asyncio.get_running_loop().create_future()

    def on_ready(http: HttpServer) -> None:
        ready.set_result(http)

    task = asyncio.create_task(serve(settings, stop=stop, on_ready=on_ready, **kwargs))
    waiting: set[asyncio.Future[Any]] = {task, ready}
    await asyncio.wait(waiting, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raises what serve raised
        raise AssertionError("serve() returned before it was ready")
    if not ready.done():
        task.cancel()
        raise AssertionError("serve() did not become ready")
    bot = RunningBot(settings, ready.result(), task, stop)
    try:
        yield bot
    finally:
        if not task.done():
            await bot.stop()
