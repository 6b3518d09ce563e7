"""The bot's languages: the one definition every layer reads (``faq/`` is the lowest layer, so
the content schema, the matcher, the catalogs, the settings, the CLI and the messengers all
import it from here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

Lang = Literal["uk", "ru", "pl", "en"]
"""A language of the bot, as the content schema types it."""

LANGS: tuple[str, ...] = get_args(Lang)
"""The languages of the bot, most used first (Ukrainian and Russian first)."""

LANGUAGE_NAMES: Mapping[str, str] = {
    "uk": "Українська",
    "ru": "Русский",
    "pl": "Polski",
    "en": "English",
}
"""Each language named in itself (the language-choice buttons): the same in every catalog."""

assert tuple(LANGUAGE_NAMES) == LANGS, "every language needs its own name"
