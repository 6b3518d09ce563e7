"""What the fault tests (tests/test_faults.py) need around real ``otwarta serve`` processes.

- :class:`BotProcess`: ``python -m bot serve`` as a subprocess with its own log file; its
  ``/healthz``, ``/readyz`` and ``/metrics``; SIGTERM with the exit code and the time it took;
  ``kill -9``.
- :class:`Gate`: an HTTP gateway in front of a messenger's API double, the network between
  the bot and the API: ``open`` (forwards), ``refuse`` (nothing listens: connection refused),
  ``status`` (answers 502/503 itself), ``hang`` (accepts and never answers: the client times
  out). Switching away from ``open`` waits until no forwarded request other than a long poll
  is in flight, so a cut never loses the answer of a request the API already carried out.
- :class:`Balancer`: a round-robin HTTP front for several bot processes (webhook mode): a
  process that refuses the connection is skipped, as a load balancer would.
- :func:`eventually`: wait (with a deadline) for a condition; the tests never sleep and hope.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.doubles.telegram_harness import free_port

_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], *, within: float = 60, what: str = ""
) -> None:
    """Until ``condition()`` holds (polled every 50 ms), or fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what or condition}")
        await asyncio.sleep(0.05)


class BotProcess:
    """One ``otwarta serve`` subprocess (``python -m bot serve``)."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str = "bot") -> None:
        self.port = int(env.get("HTTP_PORT") or free_port())
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "VIBER_"))},
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(self.port),
            "LOG_LEVEL": "INFO",
            "WORKER_DOWN_SECONDS": "2",
            **env,
        }
        for key in ("PUBLIC_URL", "CONSULTANT_CHAT_ID"):
            if key not in env:
                self.env.pop(key, None)
        self.workdir = workdir
        self.log = workdir / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None
        self.stopped_in: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> BotProcess:
        with self.log.open("ab") as stderr:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "serve", cwd=self.workdir, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
            )  # fmt: skip
        await eventually(self._alive_or_dead, within=60, what="/healthz")
        assert self.process.returncode is None, self.log_text()
        return self

    async def _alive_or_dead(self) -> bool:
        assert self.process is not None
        if self.process.returncode is not None:
            return True
        status, _ = await self.get("/healthz")
        return status == 200

    async def get(self, path: str) -> tuple[int, Any]:
        """``GET path`` on the bot's HTTP server: (status, JSON or text); (0, None) if it
        does not answer."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
                http.get(f"{self.url}{path}") as response,
            ):
                if response.content_type == "application/json":
                    return response.status, await response.json()
                return response.status, await response.text()
        except (aiohttp.ClientError, OSError, TimeoutError):
            return 0, None

    async def ready(self) -> bool:
        return (await self.get("/readyz"))[0] == 200

    async def metric(self, name: str, **labels: str) -> float:
        """The sum of a metric's samples matching ``labels`` on ``/metrics``."""
        _, body = await self.get("/metrics")
        total = 0.0
        for line in str(body or "").splitlines():
            match = re.match(rf"^{re.escape(name)}(?:\{{([^}}]*)\}})? ([0-9.e+-]+)$", line)
            if not match:
                continue
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(match.group(2))
        return total

    async def terminate(self, within: float = 30) -> int:
        """SIGTERM; the exit code (the time it took is kept in :attr:`stopped_in`)."""
        assert self.process is not None
        if self.process.returncode is not None:
            return self.process.returncode
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(
                f"no exit {within:.0f}s after SIGTERM:\n{self.log_text()}"
            ) from None
        self.stopped_in = time.monotonic() - started
        return code

    async def kill(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def assert_clean_exit(self, code: int) -> None:
        """Exit 0, within 10 s of SIGTERM, and no asyncio/aiohttp leak warnings."""
        text = self.log_text()
        assert code == 0, text[-4000:]
        assert self.stopped_in is not None and self.stopped_in < 10, self.stopped_in
        for leak in (
            "Unclosed client session",
            "Unclosed connector",
            "Task was destroyed",
            "returned unexpectedly",  # a worker's end at shutdown taken for a failure
        ):
            assert leak not in text, f"{leak!r} in the log:\n{text[-4000:]}"


class Gate:
    """An HTTP gateway between the bot and an API double (see the module docstring)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = free_port()
        self.mode = "open"
        self.status = 502
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._in_flight: dict[asyncio.Task[Any], bool] = {}  # task -> is a long poll
        self._reopened = asyncio.Event()
        self.refused_since: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Gate:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        await self._listen()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._reopened.set()
        await self._close_listener()
        if self._session is not None:
            await self._session.close()

    async def _listen(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True).start()
        self._runner = runner

    async def _close_listener(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _quiesce(self) -> None:
        """Wait until no request but long polls is being forwarded; cancel the long polls."""
        await eventually(
            lambda: not any(not poll for poll in self._in_flight.values()),
            within=30,
            what="the gate's requests in flight",
        )
        for task, poll in list(self._in_flight.items()):
            if poll:
                task.cancel()

    async def set(self, mode: str, status: int = 502) -> None:
        """``open``, ``refuse``, ``status`` (answers ``status``), ``hang``."""
        if mode == self.mode and status == self.status:
            return
        previous, self.mode, self.status = self.mode, "closing", status
        if previous == "open":
            await self._quiesce()
        if previous == "hang":
            self._reopened.set()  # the hung requests end (connection dropped)
            self._reopened = asyncio.Event()
        if mode == "refuse":
            await self._close_listener()
        elif self._runner is None:
            await self._listen()
        self.mode = mode

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        mode = self.mode
        if mode == "status":
            return web.json_response(
                {"ok": False, "error_code": self.status, "description": "Bad Gateway"},
                status=self.status,
            )
        if mode in ("hang", "closing"):
            await self._reopened.wait()
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=502)
        assert self._session is not None
        body = await request.read()
        is_poll = request.path.endswith("/getUpdates")
        task = asyncio.current_task()
        assert task is not None
        self._in_flight[task] = is_poll
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
            async with self._session.request(
                request.method, f"{self.upstream}{request.path_qs}", data=body, headers=headers
            ) as upstream:
                payload = await upstream.read()
                return web.Response(
                    status=upstream.status,
                    body=payload,
                    headers={
                        k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_HEADERS
                    },
                )
        finally:
            self._in_flight.pop(task, None)


class Balancer:
    """Round robin over bot processes' HTTP servers (what a load balancer does for webhooks)."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets
        self.port = free_port()
        self._next = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Balancer:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        for _ in range(len(self.targets)):
            target = self.targets[self._next % len(self.targets)]
            self._next += 1
            with contextlib.suppress(aiohttp.ClientConnectionError, OSError):
                async with self._session.request(
                    request.method, f"{target}{request.path_qs}", data=body, headers=headers
                ) as upstream:
                    return web.Response(status=upstream.status, body=await upstream.read())
        return web.Response(status=502, text="no backend")
