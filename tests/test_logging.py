"""Logs: secrets never written (also by PTB at DEBUG), JSON on request."""

from __future__ import annotations

import io
import json
import logging

import pytest
from telegram_double import BotApiDouble, FakeUser
from telegram_harness import bot_settings, echo_handler, running_bot, webhook_settings

from bot.logging import JsonFormatter, TextFormatter, install_redaction, redact, register_secret
from bot.settings import Settings

TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_x"
VIBER = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"


def test_redact_known_secrets_and_anything_token_shaped() -> None:
    register_secret(VIBER)
    assert redact(f"POST https://api.telegram.org/bot{TOKEN}/getMe") == (
        "POST https://api.telegram.org/bot[REDACTED]/getMe"
    )
    assert redact(f"auth {VIBER} ok") == "auth [REDACTED] ok"
    other = "1234567:" + "A" * 35  # a token we were never told about
    assert redact(other) == "[REDACTED]"
    assert redact("chat 1001: answered in 12:30") == "chat 1001: answered in 12:30"


def test_records_are_scrubbed_before_any_handler(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction([TOKEN])
    log = logging.getLogger("test.redaction")
    with caplog.at_level(logging.DEBUG):
        log.debug("calling %s", f"https://api.telegram.org/bot{TOKEN}/sendMessage")
        try:
            raise RuntimeError(f"connect failed for /bot{TOKEN}/getUpdates")
        except RuntimeError:
            log.exception("polling failed")
    assert TOKEN not in caplog.text
    assert "/bot[REDACTED]/sendMessage" in caplog.text
    assert "connect failed for /bot[REDACTED]/getUpdates" in caplog.text  # the traceback too


def test_text_and_json_formats_scrub_extra_fields() -> None:
    install_redaction([TOKEN])
    record = logging.getLogger("test.fmt").makeRecord(
        "test.fmt", logging.INFO, __file__, 1, "sent to %s", ("chat",), None,
        extra={"platform": "telegram", "url": f"/bot{TOKEN}/x"},
    )  # fmt: skip
    text = TextFormatter().format(record)
    assert "sent to chat" in text and "platform='telegram'" in text
    assert TOKEN not in text
    line = JsonFormatter().format(record)
    payload = json.loads(line)
    assert payload["msg"] == "sent to chat"
    assert payload["level"] == "INFO"
    assert payload["logger"] == "test.fmt"
    assert payload["platform"] == "telegram"
    assert payload["url"] == "/bot[REDACTED]/x"


@pytest.mark.parametrize("log_json", [False, True])
async def test_debug_logs_of_ptb_never_show_the_token(
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    log_json: bool,
) -> None:
    async with BotApiDouble() as api:
        settings = bot_settings(api, sqlite_url, log_level="DEBUG", log_json=log_json)
        with caplog.at_level(logging.DEBUG):
            async with running_bot(settings, handler=echo_handler):
                api.text(FakeUser(1001), "hello")
                await api.wait_for_sent(1001, 1)
    stderr = capsys.readouterr().err
    secret = api.token.split(":")[1]
    for output in (caplog.text, stderr):
        assert secret not in output
        assert "getUpdates" in output  # PTB's debug lines about its calls were written
    assert (settings.webhook_secret() or "-") not in caplog.text
    if log_json:
        lines = [line for line in stderr.splitlines() if line.startswith("{")]
        assert lines and all(json.loads(line)["level"] for line in lines)


async def test_webhook_secret_never_logged(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with BotApiDouble() as api:
        settings = webhook_settings(api, sqlite_url, log_level="DEBUG")
        with caplog.at_level(logging.DEBUG):
            async with running_bot(settings, handler=echo_handler):
                api.text(FakeUser(1001), "hello")
                await api.wait_for_sent(1001, 1)
    secret = settings.webhook_secret()
    assert secret and secret not in caplog.text
    assert "setWebhook" in caplog.text


def test_setup_logging_keeps_foreign_handlers() -> None:
    from bot.logging import setup_logging

    root = logging.getLogger()
    foreign = logging.StreamHandler(io.StringIO())
    root.addHandler(foreign)
    try:
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        setup_logging(settings)
        setup_logging(settings)
        ours = [h for h in root.handlers if isinstance(h.formatter, TextFormatter | JsonFormatter)]
        assert len(ours) == 1
        assert foreign in root.handlers
    finally:
        root.removeHandler(foreign)
