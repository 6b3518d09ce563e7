"""Running the whole bot (``bot.app.serve``) in-process with Viber pointed at the REST API
double: settings, start-up until the webhook is registered, and Viber's side of the webhook.

``PUBLIC_URL`` is our own HTTP server on loopback, so ``set_webhook`` really happens: the double
calls the webhook back (a signed ``webhook`` event) before accepting it, as Viber does.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bot.settings import Settings
from tests.doubles.telegram_harness import RunningBot, free_port, running_bot
from tests.doubles.viber_double import ViberApiDouble, ViberCallbacks


def viber_settings(api: ViberApiDouble, database_url: str, **overrides: Any) -> Settings:
    port = free_port()
    values: dict[str, Any] = {
        "database_url": database_url,
        "telegram_bot_token": None,
        "viber_auth_token": api.token,
        "viber_api_url": api.api_url,
        "http_host": "127.0.0.1",
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
        "consultant_chat_id": None,
        "log_level": "INFO",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class RunningViberBot:
    bot: RunningBot
    api: ViberApiDouble
    viber: ViberCallbacks  # Viber's side: signed callbacks to our webhook


@contextlib.asynccontextmanager
async def running_viber_bot(
    api: ViberApiDouble, settings: Settings, **kwargs: Any
) -> AsyncIterator[RunningViberBot]:
    """``serve(settings)`` until the double has accepted our webhook."""
    async with running_bot(settings, **kwargs) as bot:
        await api.wait_until(lambda: api.webhook_url is not None, timeout=30)
        assert api.webhook_url == f"{bot.url}/viber/webhook"
        yield RunningViberBot(bot, api, ViberCallbacks(api.webhook_url, api.token, api))
