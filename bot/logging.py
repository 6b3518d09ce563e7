"""Logging: readable lines by default, one JSON object per line with ``LOG_JSON=1``, and no
secret ever written.

The Bot API puts the token in every request URL (``https://…/bot<token>/sendMessage``), and
HTTP clients log those URLs (httpx at INFO, should anything use PTB's default transport; PTB at
DEBUG), in exception messages too. So redaction cannot be left to one handler's formatter:
:func:`setup_logging` installs a log-record factory that formats each record's message (and
its traceback) and scrubs it the moment the record is created, before any handler — pytest's
``caplog`` included — sees it. The formatters scrub again (extra fields, stack info) as a
second belt.

What is scrubbed: every secret registered with :func:`register_secret` (the Telegram token,
the webhook secret, the Viber token — :func:`setup_logging` registers those from the
settings), plus anything shaped like a Telegram bot token (``123456:AA…``), so even a token
we were never told about does not leak.

Personal data is scrubbed the same way, at every level and from every logger (PTB writes
whole updates and requests at DEBUG, SQLAlchemy its parameters and rows, both put parameters
in exception messages):

- the values of personal fields, whatever wrote them — ``'first_name': 'Olena'``,
  ``"text": "…"``, ``username='…'`` (Python reprs, JSON, keyword reprs): names, usernames,
  texts, captions, phone numbers, contacts' cards, places;
- the parameters and rows SQLAlchemy logs, and the ``[parameters: …]`` of its errors (and
  asyncpg's "query argument $1: …");
- in what is left, whatever :func:`bot.privacy.scrub` masks in a question (e-mails, phone
  numbers, PESEL, documents, accounts), except bare digit runs, which in log lines are chat,
  update and message ids.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from bot.privacy import scrub

if TYPE_CHECKING:
    from bot.settings import Settings

REDACTED = "[REDACTED]"

# A Telegram bot token: numeric bot id, colon, 35 URL-safe base64 characters (be lenient on
# the length). Matched with or without the "bot" prefix of API URLs.
_TELEGRAM_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_pattern: re.Pattern[str] | None = None

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is a
# structured field worth printing.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def register_secret(value: str | None) -> None:
    """Scrub ``value`` from every log line from now on (short values are ignored: a 1-3
    character "secret" would shred ordinary words)."""
    global _secret_pattern
    if not value or len(value) < 4:
        return
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Longest first, so a secret containing another is scrubbed whole.
        alternatives = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(s) for s in alternatives))


# Fields whose value is personal, in the Bot API's and Viber's payloads and in our models.
_PERSONAL_KEYS = (
    "first_name", "last_name", "username", "display_name", "name", "title", "text",
    "caption", "quote", "phone_number", "vcard", "email", "bio", "avatar", "address",
    "latitude", "longitude", "question", "query", "comment",
)  # fmt: skip
_QUOTED = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
_PERSONAL_FIELD = re.compile(
    r"(?P<key>(?P<q>['\"]?)\b(?:" + "|".join(_PERSONAL_KEYS) + r")(?P=q)\s*[:=]\s*)"
    r"(?:" + _QUOTED + r"|-?\d+(?:\.\d+)?(?![\w.]))"
)
# SQLAlchemy's errors: "[parameters: ('text', 1)]" on one line; asyncpg's data errors.
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
_QUERY_ARGUMENT = re.compile(r"(query argument \$\d+: )[^\n]*")
# SQLAlchemy's engine log: a statement's parameters ("[generated in 0.0001s] (…)",
# "[cached since 2s ago] {…}") and, at DEBUG, its rows ("Row (…)").
_SQL_PARAMETER_LINE = re.compile(r"^(\[[^\]\n]*\] )\S.*", re.DOTALL)


def _redact_personal(text: str) -> str:
    text = _PERSONAL_FIELD.sub(lambda m: f"{m.group('key')}{REDACTED}", text)
    text = _SQL_PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
    text = _QUERY_ARGUMENT.sub(rf"\g<1>{REDACTED}", text)
    return scrub(text, keep_bare_numbers=True)


def redact(text: str) -> str:
    """``text`` with every known secret, anything token-shaped and personal data replaced by
    ``[REDACTED]`` (or :func:`bot.privacy.scrub`'s placeholders)."""
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    return _redact_personal(_TELEGRAM_TOKEN.sub(REDACTED, text))


_base_factory = logging.getLogRecordFactory()
_factory_installed = False


def _redacting_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    _scrub_record(record)
    return record


def _scrub_record(record: logging.LogRecord) -> None:
    """Format the message now and keep only the scrubbed text (lazy ``%`` args included)."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to logging's own error report
        return
    if record.name.startswith("sqlalchemy.engine"):
        if message.startswith("Row ") or message.startswith("Col "):
            message = message[:4] + REDACTED
        else:
            message = _SQL_PARAMETER_LINE.sub(rf"\g<1>{REDACTED}", message)
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(_EXCEPTION_FORMATTER.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


_EXCEPTION_FORMATTER = logging.Formatter()


def install_redaction(secrets: Iterable[str | None] = ()) -> None:
    """Register ``secrets`` and make every log record scrubbed at creation (idempotent)."""
    global _factory_installed
    for secret in secrets:
        register_secret(secret)
    if not _factory_installed:
        logging.setLogRecordFactory(_redacting_record_factory)
        _factory_installed = True


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and k[0] != "_"}


class TextFormatter(logging.Formatter):
    """``2026-11-24 20:51:03,412 INFO bot.engine: message key=value …`` (scrubbed)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extra_fields(record)
        if extras:
            fields = " ".join(f"{key}={value!r}" for key, value in extras.items())
            head, sep, rest = line.partition("\n")
            line = f"{head} {fields}{sep}{rest}"
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, extra fields, ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _extra_fields(record).items():
            payload.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = record.stack_info
        return redact(json.dumps(payload, ensure_ascii=False, default=str))


_handler: logging.Handler | None = None

# Loggers that are chatty at INFO (one line per HTTP request); kept at WARNING unless the
# operator asks for DEBUG.
_NOISY_LOGGERS = ("httpx", "httpcore", "aiohttp.access", "telegram.ext.ExtBot")


def setup_logging(settings: Settings) -> None:
    """Configure the root logger from ``LOG_LEVEL``/``LOG_JSON`` and scrub the settings' secrets."""
    secrets = [
        settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None,
        settings.viber_auth_token.get_secret_value() if settings.viber_auth_token else None,
        settings.webhook_secret(),
    ]
    install_redaction(secrets)
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        level = logging.INFO
    global _handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_json else TextFormatter())
    root = logging.getLogger()
    # Replace only our own handler (calling this twice must not double every line; handlers
    # others installed, pytest's capture for one, stay).
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = handler
    root.addHandler(handler)
    root.setLevel(level)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.DEBUG if level <= logging.DEBUG else logging.WARNING
        )
