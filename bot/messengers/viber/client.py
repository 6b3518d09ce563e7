"""The Viber REST bot API client (aiohttp): ``set_webhook``, ``get_account_info``, ``send_message``.

Every call is ``POST {VIBER_API_URL}/{method}`` with the token in ``X-Viber-Auth-Token`` (never
in a URL, never logged) and a JSON body. Viber answers HTTP 200 even for most errors; the JSON
``status`` says what happened (0 = ok). This client turns every outcome into one of two
exceptions and retries nothing itself — the outbox owns retries (one mechanism, with backoff):

- :class:`ViberUnavailable` — transient: the network, a timeout, HTTP 429 or 5xx; ``after`` is
  the earliest sensible retry;
- :class:`ViberStatusError` — Viber answered with a non-zero ``status`` (or a 4xx): ``status``
  and ``status_message`` say why (see :data:`bot.messengers.viber.protocol.STATUS_NAMES`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp

from bot.messengers.viber.protocol import (
    AUTH_HEADER,
    EVENT_TYPES,
    STATUS_OK,
    dumps,
    status_name,
)

log = logging.getLogger(__name__)

#: Viber usually answers in well under a second; a request still hanging after this is retried.
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=15.0, connect=5.0, sock_read=10.0)


class ViberError(Exception):
    """A Viber API call did not succeed."""


class ViberUnavailable(ViberError):
    """Transient failure (network, timeout, 429, 5xx): try again after ``after`` seconds."""

    def __init__(self, reason: str, after: float = 1.0) -> None:
        super().__init__(reason)
        self.after = after


class ViberStatusError(ViberError):
    """Viber refused the request: ``status`` is its error code (``-1`` for an HTTP 4xx)."""

    def __init__(self, method: str, status: int, status_message: str, http_status: int = 200):
        self.method = method
        self.status = status
        self.status_message = status_message
        self.http_status = http_status
        super().__init__(
            f"viber {method}: status {status} ({status_name(status)}): {status_message}"
        )


class ViberClient:
    """One bot account's API client. :meth:`close` when done."""

    def __init__(
        self,
        auth_token: str,
        api_url: str = "https://chatapi.viber.com/pa",
        *,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        connections: int = 32,
    ) -> None:
        if not auth_token:
            raise ValueError("the Viber auth token is empty")
        self._token = auth_token
        self.api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:  # never the token
        return f"ViberClient({self.api_url!r})"

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={AUTH_HEADER: self._token},
            )
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def call(self, method: str, payload: dict[str, Any] | bytes) -> dict[str, Any]:
        """POST one API method; the decoded answer when its ``status`` is 0.

        ``payload`` may be pre-encoded bytes (the sender measures what it sends).
        """
        body = payload if isinstance(payload, bytes) else dumps(payload)
        url = f"{self.api_url}/{method}"
        try:
            async with self._http().post(
                url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}
            ) as response:
                raw = await response.read()
                http_status = response.status
                retry_after = response.headers.get("Retry-After")
        except TimeoutError as exc:
            raise ViberUnavailable(f"viber {method}: timed out") from exc
        except aiohttp.ClientError as exc:
            raise ViberUnavailable(f"viber {method}: {type(exc).__name__}: {exc}") from exc
        if http_status == 429:
            raise ViberUnavailable(f"viber {method}: HTTP 429", _seconds(retry_after, 1.0))
        if http_status >= 500:
            raise ViberUnavailable(
                f"viber {method}: HTTP {http_status}", _seconds(retry_after, 1.0)
            )
        if http_status != 200:
            raise ViberStatusError(method, -1, f"HTTP {http_status}", http_status)
        try:
            data = json.loads(raw)
        except ValueError as exc:  # a proxy's error page, a truncated answer
            raise ViberUnavailable(f"viber {method}: the answer is not JSON", 5.0) from exc
        if not isinstance(data, dict):
            raise ViberUnavailable(f"viber {method}: unexpected answer", 5.0)
        status = data.get("status")
        if status != STATUS_OK:
            code = status if isinstance(status, int) else -1
            raise ViberStatusError(method, code, str(data.get("status_message", "")))
        return data

    async def set_webhook(
        self, url: str, event_types: tuple[str, ...] = EVENT_TYPES, *, send_name: bool = False
    ) -> dict[str, Any]:
        """Register our webhook. Viber calls it at once (a ``webhook`` event) to check it, so
        the HTTP server must already be serving. Names and photos are not asked for: we keep
        no names (see the privacy notice)."""
        return await self.call(
            "set_webhook",
            {
                "url": url,
                "event_types": list(event_types),
                "send_name": send_name,
                "send_photo": False,
            },
        )

    async def remove_webhook(self) -> dict[str, Any]:
        return await self.call("set_webhook", {"url": ""})

    async def get_account_info(self) -> dict[str, Any]:
        """The bot account (name, uri, webhook, subscribers): the health check."""
        return await self.call("get_account_info", {})

    async def send_message(self, payload: dict[str, Any] | bytes) -> str:
        """Send one message; returns Viber's ``message_token`` (a 64-bit integer) as text."""
        data = await self.call("send_message", payload)
        token = data.get("message_token")
        return str(token) if token is not None else ""


def _seconds(value: str | None, default: float) -> float:
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


__all__ = [
    "DEFAULT_TIMEOUT",
    "ViberClient",
    "ViberError",
    "ViberStatusError",
    "ViberUnavailable",
]
