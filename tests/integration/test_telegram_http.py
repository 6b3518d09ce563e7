"""PTB over aiohttp (bot/messengers/telegram/http.py): what reaches the server for plain and file
methods, and how timeouts and network failures surface as PTB's own errors."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.messengers.telegram.http import AiohttpRequest

TOKEN = "123456:" + "A" * 35


class RecordingApi:
    """A few Bot API methods on loopback, recording each request's parts."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        parts: dict[str, Any] = {}
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                parts[part.name] = (part.filename, await part.read())  # type: ignore[union-attr]
        elif request.content_type == "application/json":
            parts = await request.json()
        else:
            parts = dict(await request.post())
        self.requests.append({"method": method, "type": request.content_type, "parts": parts})
        if self.delay:
            await asyncio.sleep(self.delay)
        if method == "getMe":
            result: Any = {"id": 1, "is_bot": True, "first_name": "b", "username": "b_bot"}
        elif parts.get("chat_id") == "400":
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
                status=400,
            )
        else:
            result = {
                "message_id": 7,
                "date": 0,
                "chat": {"id": 1, "type": "private"},
                "text": "ok",
            }
        return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def api() -> AsyncIterator[tuple[RecordingApi, str]]:
    recording = RecordingApi()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", recording.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield recording, f"http://127.0.0.1:{port}/bot"
    finally:
        await runner.cleanup()


def make_bot(base_url: str, **request: Any) -> Bot:
    return Bot(TOKEN, base_url=base_url, request=AiohttpRequest(**request))


async def test_plain_methods_send_a_json_body(api: tuple[RecordingApi, str]) -> None:
    recording, base_url = api
    async with make_bot(base_url) as bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Так", callback_data="yes")]])
        message = await bot.send_message(chat_id=1, text="Привіт", reply_markup=keyboard)
    assert message.message_id == 7
    sent = recording.requests[-1]
    assert (sent["method"], sent["type"]) == ("sendMessage", "application/json")
    assert sent["parts"]["text"] == "Привіт"
    markup = json.loads(sent["parts"]["reply_markup"])
    assert markup["inline_keyboard"][0][0]["callback_data"] == "yes"


async def test_files_go_as_multipart_with_the_other_fields(api: tuple[RecordingApi, str]) -> None:
    recording, base_url = api
    async with make_bot(base_url) as bot:
        await bot.send_document(chat_id=1, document=b"%PDF-1.4 data", filename="wniosek.pdf",
                                caption="Ваш документ")  # fmt: skip
    sent = recording.requests[-1]
    assert (sent["method"], sent["type"]) == ("sendDocument", "multipart/form-data")
    assert sent["parts"]["document"] == ("wniosek.pdf", b"%PDF-1.4 data")
    assert sent["parts"]["caption"] == (None, "Ваш документ".encode())


async def test_api_errors_become_ptb_errors(api: tuple[RecordingApi, str]) -> None:
    _recording, base_url = api
    async with make_bot(base_url) as bot:
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(chat_id=400, text="x")


async def test_a_slow_answer_is_a_timeout(api: tuple[RecordingApi, str]) -> None:
    recording, base_url = api
    async with make_bot(base_url, read_timeout=0.2) as bot:
        recording.delay = 2.0
        with pytest.raises(TimedOut):
            await bot.send_message(chat_id=1, text="x")


async def test_a_full_pool_is_a_timeout_and_nothing_is_sent(
    api: tuple[RecordingApi, str],
) -> None:
    recording, base_url = api
    async with make_bot(base_url, connection_pool_size=1, pool_timeout=0.2) as bot:
        recording.delay = 1.0
        first = asyncio.create_task(bot.send_message(chat_id=1, text="first"))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="not sent"):
            await bot.send_message(chat_id=1, text="second")
        await first
    assert [r["parts"].get("text") for r in recording.requests] == [None, "first"]


async def test_an_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()


async def test_used_before_initialize_says_so() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:1/x", "POST")
