"""Settings from environment variables (and a ``.env`` file); every one has a sane default.

The names and defaults are a public contract (``shared/ARCHITECTURE.md``).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from faq.content import DEFAULT_CONTENT_DIR

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
    viber_auth_token: SecretStr | None = None
    viber_api_url: str = "https://chatapi.viber.com/pa"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    content_dir: Path = DEFAULT_CONTENT_DIR
    log_json: bool = False
    log_level: str = "INFO"

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
