"""The HTTP server (aiohttp): health, readiness, metrics, and the messengers' webhooks.

Routes are pluggable: each adapter contributes its own (``TelegramAdapter.routes()`` gives
``/telegram/webhook``; Viber will add ``/viber/webhook``) before :meth:`HttpServer.start`.

- ``GET /healthz`` — liveness: the process is alive and its event loop responsive (200, no
  dependency checked; it answers while the database or a messenger's API is unreachable);
- ``GET /readyz`` — readiness: 200 when the database answers ``SELECT 1`` and no supervised
  worker has been down longer than ``WORKER_DOWN_SECONDS``; else 503 with the reasons
  (``{"status": "unavailable", "reason": "...", "workers": ["telegram-poller", ...]}``);
  the body also says what the consultant desk misses in its group, if anything (``desk``),
  without failing;
- ``GET /metrics`` — Prometheus text format (:mod:`bot.metrics`).

Bodies are capped (:data:`MAX_BODY_BYTES`; a Telegram update is a few KB). There is no
access log: request lines carry nothing useful, and bodies and tokens are never logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from aiohttp import web

from bot import metrics

if TYPE_CHECKING:
    from bot.supervisor import Supervisor

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
READINESS_TIMEOUT = 3.0

ReadinessCheck = Callable[[], Awaitable[object]]


class HttpServer:
    """One aiohttp server for everything HTTP. ``port=0`` picks a free port (tests)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        readiness: ReadinessCheck | None = None,
        reports: Callable[[], dict[str, object]] | None = None,
        supervisor: Supervisor | None = None,
        routes: Iterable[web.AbstractRouteDef] = (),
        max_body_bytes: int = MAX_BODY_BYTES,
        shutdown_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self._readiness = readiness
        #: Parts that report on themselves in /readyz's body without failing it (the
        #: consultant desk says what is missing in its group: the bot still answers people).
        self._reports = reports
        self.supervisor = supervisor
        self._max_body = max_body_bytes
        self._shutdown_timeout = shutdown_timeout
        self._routes: list[web.AbstractRouteDef] = [
            web.get("/healthz", self._healthz),
            web.get("/readyz", self._readyz),
            web.get("/metrics", self._metrics),
        ]
        self._routes.extend(routes)
        self._runner: web.AppRunner | None = None

    def add_routes(self, routes: Iterable[web.AbstractRouteDef]) -> None:
        """Add an adapter's routes (before :meth:`start`)."""
        if self._runner is not None:
            raise RuntimeError("routes must be added before the server starts")
        self._routes.extend(routes)

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=self._max_body)
        app.add_routes(self._routes)
        return app

    async def start(self) -> None:
        runner = web.AppRunner(
            self.make_app(), access_log=None, shutdown_timeout=self._shutdown_timeout
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("http server listening on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and wait (up to ``shutdown_timeout``) for requests in progress."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, request: web.Request) -> web.Response:
        # Parts that report on themselves without failing readiness (the desk's group).
        extra = self._reports() if self._reports is not None else {}
        reasons: list[str] = []
        if self._readiness is not None:
            try:
                result = await asyncio.wait_for(self._readiness(), READINESS_TIMEOUT)
            except Exception as exc:
                log.debug("readiness check failed: %s", type(exc).__name__)
                result = False
            if result is False:
                reasons.append("database unreachable")
        workers = self.supervisor.unready() if self.supervisor is not None else []
        if workers:
            reasons.append("worker down: " + ", ".join(workers))
        if reasons:
            body: dict[str, object] = {
                "status": "unavailable",
                "reason": "; ".join(reasons),
                **extra,
            }
            if workers:
                body["workers"] = workers
            return web.json_response(body, status=503)
        return web.json_response({"status": "ready", **extra})

    async def _metrics(self, request: web.Request) -> web.Response:
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = metrics.CONTENT_TYPE_LATEST
        return response
