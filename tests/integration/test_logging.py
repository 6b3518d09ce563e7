"""Logs: secrets never written (also by PTB at DEBUG), JSON on request."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.engine import Engine
from bot.i18n import translator_for
from bot.logging import JsonFormatter, TextFormatter, install_redaction, redact, register_secret
from bot.settings import Settings
from faq import load_matcher
from handlers.model import Address, EventKind, IncomingEvent, Platform, Sender
from tests.doubles.telegram_double import BotApiDouble, FakeUser
from tests.doubles.telegram_harness import bot_settings, echo_handler, running_bot, webhook_settings

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


# -- personal data -----------------------------------------------------------------------------

NAME, SURNAME, USERNAME = "Myroslava", "Kowalenko", "myroslava_k77"
QUESTION = "Мене звати Мирослава, як отримати песель? Мій номер +48 600 123 456, miro@example.com"
PERSONAL = (NAME, SURNAME, USERNAME, "Мирослава", "600 123 456", "miro@example.com", "отримати")


def assert_no_personal_data(*outputs: str) -> None:
    for output in outputs:
        leaked = [value for value in PERSONAL if value in output]
        assert not leaked, f"{leaked} in the logs"


@pytest.mark.parametrize("log_json", [False, True])
async def test_debug_logs_of_a_telegram_turn_hold_no_personal_data(
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    log_json: bool,
) -> None:
    """PTB logs every update it receives and every request it makes (with the text, the
    person's name and username) at DEBUG: none of it reaches a log line."""
    user = FakeUser(1001, first_name=NAME, last_name=SURNAME, username=USERNAME)
    async with BotApiDouble() as api:
        settings = bot_settings(api, sqlite_url, log_level="DEBUG", log_json=log_json)
        with caplog.at_level(logging.DEBUG):
            async with running_bot(settings, handler=echo_handler):
                api.text(user, QUESTION)
                await api.wait_for_sent(1001, 1)
    assert api.texts_to(1001) == [f"echo: {QUESTION}"]  # the text did travel both ways
    stderr = capsys.readouterr().err
    assert_no_personal_data(caplog.text, stderr)
    for output in (caplog.text, stderr):
        assert "Processing update" in output  # PTB's lines with the update were written
        assert "`sendMessage` with parameters" in output  # and with the request
        assert "'first_name': [REDACTED]" in output


async def test_an_engine_turn_logged_by_sqlalchemy_at_debug_holds_no_personal_data(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A real turn (router, matcher, query log, outbox) with SQLAlchemy's statement,
    parameter and row logging on: the question and the name stay out of the logs."""
    from bot.db import Database

    install_redaction()
    sql_logger = logging.getLogger("sqlalchemy.engine")
    db = Database.from_url(db_url)
    engine = Engine(db, matcher=load_matcher(), translator_for=translator_for)
    event = IncomingEvent(
        Address(Platform.TELEGRAM, "1001"),
        EventKind.TEXT,
        "u1",
        Sender("1001", language_code="uk", display_name=f"{NAME} {SURNAME}"),
        text=QUESTION,
    )
    previous = sql_logger.level
    sql_logger.setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG):
            assert await engine.process(event)
    finally:
        sql_logger.setLevel(previous)
        await db.dispose()
    assert "[REDACTED]" in caplog.text  # SQLAlchemy's parameter lines were written, redacted
    assert_no_personal_data(caplog.text)


def test_database_errors_logged_keep_their_parameters_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SQLAlchemy puts a failed statement's parameters in the exception's message."""
    import sqlalchemy as sa

    install_redaction()
    engine = sa.create_engine("sqlite://")
    with caplog.at_level(logging.DEBUG), engine.connect() as connection:
        try:
            connection.execute(sa.text("SELECT :q + nonexistent"), {"q": QUESTION})
        except sa.exc.OperationalError:
            logging.getLogger("test.db").exception("turn failed")
    assert "[parameters: [REDACTED]]" in caplog.text
    assert "nonexistent" in caplog.text  # the error itself is still there
    assert_no_personal_data(caplog.text)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{'first_name': 'Olena', 'id': 5}", "{'first_name': [REDACTED], 'id': 5}"),
        ('{"text": "мій \\"номер\\"", "chat_id": 1}', '{"text": [REDACTED], "chat_id": 1}'),
        ("User(first_name='Olena', id=5, username='o_k')", None),
        ("'text': \"it's me\", 'x': 1", "'text': [REDACTED], 'x': 1"),
        ("location={'latitude': 50.06, 'longitude': 19.94}", None),
        (
            "update 987654321 for chat 1001 took 0.012s",
            "update 987654321 for chat 1001 took 0.012s",
        ),
        ("contact +48 600 123 456 / ola@example.com", "contact [phone] / [email]"),
    ],
)
def test_redact_personal_fields_in_any_notation(line: str, expected: str | None) -> None:
    redacted = redact(line)
    if expected is not None:
        assert redacted == expected
    for value in ("Olena", "o_k", "it's me", "50.06", "19.94", "номер"):
        assert value not in redacted
