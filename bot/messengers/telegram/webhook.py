"""The webhook (``PUBLIC_URL`` set): ``POST /telegram/webhook`` answers 200 only once the update
is committed (500/503 otherwise, and Telegram delivers it again) or set aside as poison;
403 on a wrong secret. Refusals are counted (``otwarta_webhooks_rejected_total``)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web

from bot import metrics
from bot.messengers.telegram.inbound import Unparsable, parse_update
from bot.messengers.telegram.protocol import PLATFORM, SECRET_HEADER, WEBHOOK_PATH, UpdateIntake

log = logging.getLogger(__name__)

WEBHOOK_PROCESS_TIMEOUT = 50.0  # Telegram gives up on a webhook request after ~60 s


class TelegramWebhook:
    """The request handler, in front of the adapter's intake."""

    def __init__(self, intake: UpdateIntake, secret: str) -> None:
        self._intake = intake
        self._webhook_secret = secret

    def route(self) -> web.RouteDef:
        return web.post(WEBHOOK_PATH, self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Telegram's POST: 403 on a wrong secret; 200 only once the update is committed, or
        once it was set aside as poison (unparsable, or failing ``POISON_ATTEMPTS`` times),
        so Telegram stops sending it."""
        secret = request.headers.get(SECRET_HEADER, "")
        if not self._webhook_secret or not hmac.compare_digest(
            secret.encode(), self._webhook_secret.encode()
        ):
            metrics.WEBHOOKS_REJECTED.labels(PLATFORM.value, "secret").inc()
            return web.Response(status=403, text="forbidden")
        if not self._intake.accepting:
            return web.Response(status=503, text="not accepting updates")
        try:
            data = await request.json(loads=json.loads)
        except web.HTTPRequestEntityTooLarge:
            metrics.WEBHOOKS_REJECTED.labels(PLATFORM.value, "too_large").inc()
            return web.Response(status=413, text="too large")
        except Exception:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            metrics.WEBHOOKS_REJECTED.labels(PLATFORM.value, "malformed").inc()
            return web.Response(status=400, text="bad update")
        parsed = parse_update(data, self._intake.bot)
        if isinstance(parsed, Unparsable):
            # Telegram would send it again and again: record it, then say it arrived.
            metrics.UPDATES_RECEIVED.labels(PLATFORM.value).inc()
            await self._intake.poison.set_aside(
                str(parsed.update_id), parsed.update_type, parsed.error, reason="unparsable"
            )
            return web.Response(status=200)
        update = parsed
        try:
            await asyncio.wait_for(self._intake.submit(update), WEBHOOK_PROCESS_TIMEOUT)
        except TimeoutError:
            return web.Response(status=503, text="processing timed out")
        except Exception as exc:
            if await self._intake.record_attempt(update, exc):
                return web.Response(status=500, text="processing failed")
            return web.Response(status=200)  # set aside as poison: Telegram may stop
        self._intake.forget_attempts(update.update_id)
        return web.Response(status=200)
