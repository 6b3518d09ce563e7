"""The webhook (``PUBLIC_URL`` set): ``POST /telegram/webhook`` answers 200 only once the update
is committed (500/503 otherwise, and Telegram delivers it again); 403 on a wrong secret."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web
from telegram import Update

from bot.messengers.telegram.protocol import SECRET_HEADER, WEBHOOK_PATH, UpdateIntake

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
        """Telegram's POST: 403 on a wrong secret; 200 only once the update is committed."""
        secret = request.headers.get(SECRET_HEADER, "")
        if not self._webhook_secret or not hmac.compare_digest(
            secret.encode(), self._webhook_secret.encode()
        ):
            return web.Response(status=403, text="forbidden")
        if not self._intake.accepting:
            return web.Response(status=503, text="not accepting updates")
        try:
            data = await request.json(loads=json.loads)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self._intake.bot)
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="too large")
        except Exception:
            return web.Response(status=400, text="bad update")
        try:
            await asyncio.wait_for(self._intake.submit(update), WEBHOOK_PROCESS_TIMEOUT)
        except TimeoutError:
            return web.Response(status=503, text="processing timed out")
        except Exception as exc:
            if self._intake.record_attempt(update, exc):
                log.warning(
                    "telegram update %s failed (%s); Telegram will redeliver it",
                    update.update_id,
                    type(exc).__name__,
                )
                return web.Response(status=500, text="processing failed")
        self._intake.forget_attempts(update.update_id)
        return web.Response(status=200)
