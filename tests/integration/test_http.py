"""The HTTP server: /healthz, /readyz (503 when the database is gone), /metrics, pluggable
routes, body limits — on the real aiohttp server, started by ``bot.app.serve`` where it can be."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.app import database_ready
from bot.db import Database
from bot.http import HttpServer
from bot.messengers.telegram import SECRET_HEADER, WEBHOOK_PATH
from bot.settings import Settings
from tests.conftest import run_in_thread
from tests.doubles.telegram_double import BotApiDouble, FakeUser
from tests.doubles.telegram_harness import echo_handler, running_bot, webhook_settings


def plain_settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url, http_port=0)  # type: ignore[call-arg]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_health_and_readiness(db_url: str, http: aiohttp.ClientSession) -> None:
    async with running_bot(plain_settings(db_url)) as bot:
        async with http.get(f"{bot.url}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok"}
        async with http.get(f"{bot.url}/readyz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ready"}


@pytest.mark.postgres
async def test_readyz_is_503_when_the_database_is_gone(
    postgres_url: str, http: aiohttp.ClientSession
) -> None:
    from sqlalchemy.engine import make_url

    from tests.conftest import _pg_execute

    name = make_url(postgres_url).database
    async with running_bot(plain_settings(postgres_url)) as bot:
        async with http.get(f"{bot.url}/readyz") as response:
            assert response.status == 200
        run_in_thread(lambda: _pg_execute(f'DROP DATABASE "{name}" WITH (FORCE)'))
        async with http.get(f"{bot.url}/readyz") as response:
            assert response.status == 503
            assert (await response.json())["status"] == "unavailable"
        async with http.get(f"{bot.url}/healthz") as response:
            assert response.status == 200  # alive, just not ready


async def test_readyz_with_an_unreachable_server(http: aiohttp.ClientSession) -> None:
    db = Database.from_url("postgresql+asyncpg://postgres@127.0.0.1:9/nothing")
    server = HttpServer("127.0.0.1", 0, readiness=lambda: database_ready(db))
    await server.start()
    try:
        async with http.get(f"{server.url}/readyz") as response:
            assert response.status == 503
    finally:
        await server.stop()
        await db.dispose()


async def test_metrics_count_what_happened(sqlite_url: str, http: aiohttp.ClientSession) -> None:
    async with (
        BotApiDouble() as api,
        running_bot(webhook_settings(api, sqlite_url), handler=echo_handler) as bot,
    ):
        olena = FakeUser(1001)
        update = api.text(olena, "hello")
        await api.wait_for_sent(olena.id, 1)
        api.inject(update)  # a redelivery
        api.text(olena, "again")
        await api.wait_for_sent(olena.id, 2)
        async with http.get(f"{bot.url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=")
            body = await response.text()
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in body.splitlines()
        if line and not line.startswith("#")
    }
    assert samples['otwarta_updates_received_total{platform="telegram"}'] >= 3
    assert samples['otwarta_updates_processed_total{platform="telegram"}'] >= 2
    assert samples['otwarta_updates_duplicate_total{platform="telegram"}'] >= 1
    assert samples['otwarta_update_processing_seconds_count{platform="telegram"}'] >= 2
    assert samples['otwarta_messages_sent_total{platform="telegram"}'] >= 2
    assert "otwarta_outbox_depth" in body
    assert "otwarta_send_errors_total" in body or "otwarta_send_errors" in body
    assert "process_resident_memory_bytes" in body


async def test_webhook_body_is_limited(sqlite_url: str, http: aiohttp.ClientSession) -> None:
    async with BotApiDouble() as api:
        settings = webhook_settings(api, sqlite_url)
        async with running_bot(settings, handler=echo_handler) as bot:
            async with http.post(
                f"{bot.url}{WEBHOOK_PATH}",
                data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                headers={
                    SECRET_HEADER: settings.webhook_secret() or "",
                    "Content-Type": "application/json",
                },
            ) as response:
                assert response.status == 413
            async with http.post(
                f"{bot.url}{WEBHOOK_PATH}",
                data=b"not json",
                headers={SECRET_HEADER: settings.webhook_secret() or ""},
            ) as response:
                assert response.status == 400


async def test_routes_are_pluggable(http: aiohttp.ClientSession) -> None:
    async def viber(request: web.Request) -> web.Response:
        return web.Response(text="viber")

    server = HttpServer("127.0.0.1", 0)
    server.add_routes([web.post("/viber/webhook", viber)])
    await server.start()
    try:
        async with http.post(f"{server.url}/viber/webhook") as response:
            assert await response.text() == "viber"
        with pytest.raises(RuntimeError):
            server.add_routes([web.get("/late", viber)])
    finally:
        await server.stop()


async def test_serve_migrates_a_blank_embedded_database(
    blank_sqlite_url: str, http: aiohttp.ClientSession
) -> None:
    async with (
        running_bot(plain_settings(blank_sqlite_url)) as bot,
        http.get(f"{bot.url}/readyz") as response,
    ):
        assert response.status == 200


@pytest.mark.postgres
async def test_serve_refuses_a_postgres_schema_behind_head(
    blank_postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.app import serve

    with pytest.raises(SystemExit) as exited:
        await serve(plain_settings(blank_postgres_url))
    assert exited.value.code == 2
    assert "otwarta db upgrade" in caplog.text
