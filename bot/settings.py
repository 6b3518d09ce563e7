"""Settings from environment variables (and a ``.env`` file); every one has a sane default.

The names and defaults are a public contract (``shared/ARCHITECTURE.md``).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from faq.content import DEFAULT_CONTENT_DIR
from faq.languages import LANGS

DATA_DIR = Path("data")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DATA_DIR / 'otwarta.sqlite3'}",
        description="SQLAlchemy async URL",
    )
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    consultant_chat_id: int | None = None
    public_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_messages_per_second: int = Field(
        default=30,
        ge=1,
        description="overall send rate to Telegram (its published bulk limit is about 30/s)",
    )
    viber_auth_token: SecretStr | None = None
    viber_api_url: str = "https://chatapi.viber.com/pa"
    viber_messages_per_second: int = Field(
        default=100,
        ge=1,
        description="overall send rate to Viber (it publishes no figure; it answers status 12)",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    content_dir: Path = DEFAULT_CONTENT_DIR
    index_cache_dir: Path | None = Field(
        default=DATA_DIR / "cache",
        description="the FAQ index is kept here between restarts (rebuilt when the content "
        "changes; faq.index_cache); empty: built at every start",
    )
    log_json: bool = False
    log_level: str = "INFO"

    # -- reliability (issue 12) -------------------------------------------------------------
    worker_down_seconds: float = Field(
        default=30.0,
        gt=0,
        description="/readyz answers 503 while a background worker is down longer than this",
    )
    poison_attempts: int = Field(
        default=5,
        ge=1,
        description="an update whose processing fails this often is set aside (recorded)",
    )

    # -- the consultant desk (issue 4; on when CONSULTANT_CHAT_ID is set) ------------------
    desk_lang: str = Field(
        default="uk", description="language of cards and notices in the desk group"
    )
    desk_hours: str = Field(
        default="mon-fri 09:00-17:00",
        description="working hours, e.g. 'mon-fri 09:00-17:00; sat 10:00-14:00' ('' = always)",
    )
    desk_timezone: str = "Europe/Warsaw"
    desk_holidays: bool = Field(default=True, description="closed on Polish public holidays")
    desk_reopen_hours: float = Field(
        default=72.0, description="a message this soon after a closing reopens the ticket"
    )
    context_minutes: float = Field(
        default=30.0,
        description="a short follow-up this soon after an answer is read in its context",
    )
    desk_comment_minutes: float = Field(
        default=30.0, description="how long a rating's optional comment is awaited"
    )
    desk_reminder_minutes: float = Field(
        default=30.0, description="remind the desk of tickets waiting longer than this"
    )
    desk_reminder_interval_seconds: float = Field(
        default=60.0, description="how often the reminder job looks"
    )
    desk_expected_wait_minutes: float = Field(
        default=15.0, description="the wait announced until there is history to estimate it"
    )
    desk_show_names: bool = Field(
        default=False, description="show people's names on cards (default: a pseudonym)"
    )
    desk_pseudonym_key: SecretStr | None = Field(
        default=None, description="key of the pseudonyms' hash (default: derived from the token)"
    )

    @field_validator("index_cache_dir", mode="before")
    @classmethod
    def _empty_means_no_cache(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("desk_hours")
    @classmethod
    def _valid_desk_hours(cls, value: str) -> str:
        from bot.desk.hours import parse_schedule

        parse_schedule(value)  # raises ScheduleError (a ValueError) with the reason
        return value

    @field_validator("desk_lang")
    @classmethod
    def _valid_desk_lang(cls, value: str) -> str:
        if value not in LANGS:
            raise ValueError(f"DESK_LANG must be one of {', '.join(LANGS)}")
        return value

    consultants: str = Field(
        default="",
        description=(
            "who may act as a consultant besides the group's admins and those added with "
            "/desk add: Telegram user ids or @usernames, separated by commas or spaces"
        ),
    )
    desk_ticket_messages_per_minute: int = Field(
        default=6,
        ge=1,
        description="messages one ticket may put into the desk group per minute; the rest "
        "are joined into one batch",
    )

    def consultant_allow_list(self) -> tuple[frozenset[int], frozenset[str]]:
        """``CONSULTANTS`` as (Telegram user ids, lower-case usernames without the ``@``)."""
        ids: set[int] = set()
        names: set[str] = set()
        for word in self.consultants.replace(",", " ").split():
            if word.lstrip("-").isdigit():
                ids.add(int(word))
            else:
                names.add(word.lstrip("@").lower())
        return frozenset(ids), frozenset(names)

    def serve_problems(self) -> list[str]:
        """Combinations ``otwarta serve`` refuses (each alone is valid: tests and the console
        use them), one clear sentence each."""
        problems = []
        if self.consultant_chat_id is not None and self.telegram_bot_token is None:
            problems.append(
                "CONSULTANT_CHAT_ID is set but TELEGRAM_BOT_TOKEN is not: the desk is a "
                "Telegram group, so set the token or unset CONSULTANT_CHAT_ID"
            )
        return problems

    def desk_pseudonym_secret(self) -> bytes:
        """The key of the desk's pseudonyms: set, or derived from the bot token."""
        if self.desk_pseudonym_key is not None:
            return self.desk_pseudonym_key.get_secret_value().encode()
        token = self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else ""
        return hashlib.sha256(b"otwarta-desk-pseudonym:" + token.encode()).digest()

    # -- end of the consultant desk block --------------------------------------------------

    # -- analytics and retention (issue 15) ------------------------------------------------
    analytics_min_count: int = Field(
        default=5, ge=1, description="k-anonymity: figures resting on fewer people are hidden"
    )
    retention_days: int = Field(
        default=180, ge=1, description="question texts and ticket contents are kept this long"
    )

    # -- end of the analytics block --------------------------------------------------

    # -- the web console (issue 19) --------------------------------------------------------
    console_idle_minutes: int = Field(
        default=30, ge=1, description="a console session ends after this long unused"
    )
    console_session_hours: int = Field(
        default=12, ge=1, description="a console session ends this long after sign-in anyway"
    )
    # -- end of the web console block ------------------------------------------------------

    @property
    def is_embedded_db(self) -> bool:
        return self.database_url.startswith("sqlite")

    def webhook_secret(self) -> str | None:
        """The secret Telegram echoes in ``X-Telegram-Bot-Api-Secret-Token``.

        Derived from the token when not set, so a webhook is never left unauthenticated.
        Telegram allows 1-256 characters of ``A-Za-z0-9_-``: a hex digest fits.
        """
        if self.telegram_webhook_secret is not None:
            return self.telegram_webhook_secret.get_secret_value()
        if self.telegram_bot_token is None:
            return None
        token = self.telegram_bot_token.get_secret_value().encode()
        return hashlib.sha256(b"otwarta-webhook:" + token).hexdigest()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def describe_invalid(error: ValidationError) -> str:
    """One line for invalid settings: each bad variable by its environment name and why
    (never its value: it may be a token)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        names = [str(part).upper() for part in item.get("loc", ()) if part != "__root__"]
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{'.'.join(names)}: {message}" if names else message)
    return "invalid settings: " + "; ".join(problems)
