"""python-telegram-bot's HTTP requests over aiohttp's client, and the Bot built on them.

PTB talks to the Bot API through a :class:`telegram.request.BaseRequest`; its default,
``HTTPXRequest``, spent about a third of the bot's CPU under load in
``benchmarks/bench_telegram.py``: httpcore scans its whole connection pool, polling every socket,
whenever a request starts or ends. aiohttp (already our HTTP server) has a C HTTP parser and an
O(1) connection pool. PTB documents this extension point; only the transport changes, so every
Bot API method, error mapping and retry in PTB works as before.

Timeouts map onto aiohttp's: ``connect_timeout`` → ``sock_connect``, ``read_timeout`` →
``sock_read``, ``pool_timeout`` → ``connect`` (which in aiohttp includes waiting for a free
connection). aiohttp has no per-write timeout: ``write_timeout`` bounds the whole request instead
(with the other three added), so a stalled upload still ends.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot
from telegram.request import BaseRequest, RequestData

from bot.messengers.telegram.protocol import LONG_POLL_SECONDS

if TYPE_CHECKING:
    from bot.settings import Settings

_JSON = {"Content-Type": "application/json"}


def _seconds(value: Any, default: float | None) -> float | None:
    """PTB passes ``DEFAULT_NONE`` for "use the request's default"; ``None`` means no limit."""
    return default if value is BaseRequest.DEFAULT_NONE else value


class AiohttpRequest(BaseRequest):
    """A :class:`~telegram.request.BaseRequest` on one :class:`aiohttp.ClientSession`."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 16,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 10.0,
        write_timeout: float | None = 10.0,
        pool_timeout: float | None = 5.0,
        media_write_timeout: float | None = 60.0,
    ) -> None:
        self.connection_pool_size = connection_pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connection_pool_size),
                headers={"User-Agent": self.USER_AGENT},
                raise_for_status=False,
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else None
        fields = request_data.json_parameters if request_data is not None else None
        data: aiohttp.FormData | bytes | None = None
        headers = None
        if files:
            data = aiohttp.FormData(fields or {})
            for name, (filename, content, mimetype) in files.items():
                data.add_field(name, content, filename=filename, content_type=mimetype)
        elif fields:
            # A JSON body, the cheapest of the Bot API's encodings to produce (url-encoding
            # every field cost more than the request itself). PTB's parameters are strings,
            # as they would be in a form: the Bot API reads both alike.
            data = json.dumps(fields, ensure_ascii=False).encode()
            headers = _JSON

        read = _seconds(read_timeout, self._read_timeout)
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, self._pool_timeout)
        write = _seconds(write_timeout, self._media_write_timeout if files else self._write_timeout)
        parts = (read, connect, pool, write)
        total = None if any(part is None for part in parts) else sum(parts)  # type: ignore[arg-type]
        timeout = aiohttp.ClientTimeout(
            total=total, connect=pool, sock_connect=connect, sock_read=read
        )
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as error:
            raise TimedOut(
                "Pool or connect timeout: the request was not sent to Telegram"
            ) from error
        except TimeoutError as error:  # asyncio's, on Python 3.11+
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def telegram_bot(settings: Settings, *, connection_pool_size: int = 32) -> ExtBot[None]:
    """The Bot API client on aiohttp (``TELEGRAM_API_URL``): what the sender sends through and
    the adapter's PTB application runs on. No request is made until it is initialized."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    root = settings.telegram_api_url.rstrip("/")
    return ExtBot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=AiohttpRequest(connection_pool_size=connection_pool_size),
        get_updates_request=AiohttpRequest(
            connection_pool_size=2, read_timeout=LONG_POLL_SECONDS + 10.0
        ),
    )
