"""The adapter's lifecycle against the REST API double: the token check at start, registering
the webhook (retried until Viber accepts it), running without ``PUBLIC_URL``, the welcome."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.engine import IdentityTranslator
from bot.messengers.viber.adapter import ViberAdapter, welcome_message
from bot.messengers.viber.protocol import parse_action_body
from bot.ports import CredentialsRejected
from bot.settings import Settings
from handlers.model import IncomingEvent
from tests.doubles.viber_double import ViberApiDouble


@pytest.fixture
async def api() -> AsyncIterator[ViberApiDouble]:
    async with ViberApiDouble() as double:
        yield double


def settings(api: ViberApiDouble, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "viber_auth_token": api.token,
        "viber_api_url": api.api_url,
        "telegram_bot_token": None,
        "public_url": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


class NoEvents:
    """The engine, for tests in which no event may arrive."""

    async def process(self, event: IncomingEvent) -> bool:
        raise AssertionError(f"no event expected, got {event}")


NO_EVENTS = NoEvents()


async def serve_routes(adapter: ViberAdapter) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.add_routes(adapter.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def test_a_rejected_token_stops_the_bot(api: ViberApiDouble) -> None:
    adapter = ViberAdapter(settings(api, viber_auth_token="x" * 50), NO_EVENTS)
    try:
        with pytest.raises(CredentialsRejected, match="VIBER_AUTH_TOKEN"):
            await adapter.initialize()
    finally:
        await adapter.close()


async def test_an_unreachable_api_does_not_stop_the_bot(caplog: pytest.LogCaptureFixture) -> None:
    adapter = ViberAdapter(
        Settings(_env_file=None, viber_auth_token="t" * 50, viber_api_url="http://127.0.0.1:9/pa"),  # type: ignore[call-arg]
        NO_EVENTS,
    )
    try:
        await adapter.initialize()
    finally:
        await adapter.close()
    assert "unreachable" in caplog.text


async def test_webhook_registration_is_retried_until_viber_accepts_it(
    api: ViberApiDouble,
) -> None:
    api.fail("set_webhook", http_status=503)
    adapter = ViberAdapter(settings(api, public_url="http://placeholder"), NO_EVENTS)
    runner, url = await serve_routes(adapter)
    adapter.public_url = url  # our route is served: Viber's check callback reaches it
    try:
        await adapter.initialize()
        await adapter.start()
        await api.wait_until(adapter.webhook_registered.is_set, timeout=15)
    finally:
        await adapter.stop()
        await adapter.close()
        await runner.cleanup()
    attempts = api.calls_to("set_webhook")
    assert [c.http_status for c in attempts] == [503, 200]
    assert api.webhook_url == f"{url}/viber/webhook"


async def test_without_public_url_nothing_is_registered(
    api: ViberApiDouble, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = ViberAdapter(settings(api), NO_EVENTS)
    try:
        with caplog.at_level(logging.WARNING):
            await adapter.initialize()
            await adapter.start()
    finally:
        await adapter.stop()
        await adapter.close()
    assert api.calls_to("set_webhook") == []
    assert "PUBLIC_URL" in caplog.text


def test_welcome_asks_first_in_the_phones_language() -> None:
    message = welcome_message(IdentityTranslator, device_lang="pl", known_lang=None)
    assert message["sender"] == {"name": "Małopolska Otwarta"}
    assert message["text"]  # (English msgids here: the catalogs are tested elsewhere)
    bodies = [parse_action_body(b["ActionBody"]) for b in message["keyboard"]["Buttons"]]
    assert bodies == [("button", f"lang:{code}") for code in ("uk", "ru", "pl", "en")]


def test_welcome_back_carries_the_bottom_keyboard() -> None:
    message = welcome_message(IdentityTranslator, device_lang=None, known_lang="uk")
    bodies = [parse_action_body(b["ActionBody"]) for b in message["keyboard"]["Buttons"]]
    assert ("command", "menu") in bodies and ("command", "forget") in bodies
