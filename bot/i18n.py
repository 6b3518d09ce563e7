"""UI strings in Ukrainian, Russian, Polish and English, from the babel catalogs.

Message ids are the English source strings, marked in the code with ``_()`` / ``gettext()`` /
``ngettext()`` (or :func:`N_` where a string is only *marked* and translated later) and
extracted with ``pybabel extract -F babel.cfg`` (see ``bot/locales/README.md``).

**The .po files are read directly at start-up** (``babel.messages.pofile``), not compiled .mo
files: a fresh clone works after ``pip install -e .`` with no build step, and there is no
compiled artefact that can fall out of date with its source. Reading four small catalogs
takes a few milliseconds, once per process. ``make i18n-compile`` still works (it checks the
catalogs), but nothing needs the .mo files it writes.

Lookup order for a message: the person's language, then English, then the msgid itself.
Empty and fuzzy translations count as missing (they fall through to English).
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import logging
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from faq.languages import LANGS

log = logging.getLogger(__name__)

FALLBACK_LANG = "en"
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"


# Dates in English follow British order ("5 March 2026"): the bot speaks to people in Europe.
_BABEL_LOCALES: Mapping[str, str] = {"uk": "uk", "ru": "ru", "pl": "pl", "en": "en_GB"}


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translate it later)."""
    return message


# Bot commands (Telegram setMyCommands, /help): command -> what it does, in the UI language.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("menu", N_("Topics and questions")),
    ("consultant", N_("Talk to a consultant")),
    ("language", N_("Change the language")),
    ("help", N_("What I can do")),
    ("privacy", N_("What I store about you")),
    ("forget", N_("Delete my data")),
    ("start", N_("Start over")),
)

# Strings the engine (bot/engine.py) translates through ``ctx.t.gettext(CONSTANT)``, which
# extraction cannot see; marked here so ``pybabel update`` keeps them in the catalogs
# (tests/test_i18n.py checks the engine's constants are present).
_ENGINE_MESSAGES = (
    N_("You are sending messages very fast. I will answer the next one in a moment."),
    N_(
        "You sent several messages at once, so I will read the next ones together, as one "
        "question, and answer in a moment."
    ),
    N_("Sorry, something went wrong on my side. Please try again in a moment."),
)


def normalize_language(code: str | None) -> str | None:
    """A platform language code ("uk", "ru-RU", "pl_PL") -> one of :data:`LANGS`, or ``None``.

    Only the primary subtag counts, and only our four languages are accepted: anything else
    (including ``None``, "be", "kk") means *ask*, because guessing Russian for a Ukrainian (or
    the reverse) is worse than one question.
    """
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    if primary == "ua":  # not an ISO 639 code, but a common mistake for Ukrainian
        primary = "uk"
    return primary if primary in LANGS else None


class BabelTranslator:
    """:class:`handlers.context.Translator` over one language's catalog."""

    def __init__(self, lang: str, translations: gettext.NullTranslations) -> None:
        self.lang = lang
        self.locale = Locale.parse(_BABEL_LOCALES.get(lang, lang))
        self._translations = translations

    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    def format_date(self, value: dt.date) -> str:
        """A date written out the way the language does ("5 березня 2026 р.", "5 marca 2026")."""
        return format_date(value, format="long", locale=self.locale)

    def __repr__(self) -> str:
        return f"BabelTranslator({self.lang!r})"


def catalog_path(lang: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str, locale_dir: Path = LOCALE_DIR) -> Catalog:
    """The parsed .po catalog of ``lang`` (tools and tests; the bot uses :func:`translator_for`)."""
    with catalog_path(lang, locale_dir).open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def _translations(catalog: Catalog) -> Translations:
    """A gettext ``Translations`` object built in memory from a parsed catalog.

    ``write_mo`` leaves out empty and fuzzy messages and carries the catalog's
    ``Plural-Forms`` header, which gettext then uses for ``ngettext``.
    """
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


@lru_cache(maxsize=4)
def _load(locale_dir: Path) -> Mapping[str, gettext.NullTranslations]:
    loaded: dict[str, gettext.NullTranslations] = {}
    for lang in LANGS:
        try:
            loaded[lang] = _translations(read_catalog(lang, locale_dir))
        except OSError:
            log.warning("no UI catalog for %r under %s: using English", lang, locale_dir)
            loaded[lang] = gettext.NullTranslations()
    english = loaded[FALLBACK_LANG]
    for lang, translations in loaded.items():
        if lang != FALLBACK_LANG:
            translations.add_fallback(english)
    return loaded


@lru_cache(maxsize=16)
def translator_for(lang: str, locale_dir: Path = LOCALE_DIR) -> BabelTranslator:
    """The translator for ``lang`` (English for anything that is not one of :data:`LANGS`).

    This is the engine's :class:`handlers.context.TranslatorFactory`.
    """
    code = lang if lang in LANGS else FALLBACK_LANG
    return BabelTranslator(code, _load(locale_dir)[code])


def command_descriptions(lang: str) -> list[tuple[str, str]]:
    """(command, description) pairs in ``lang``, for Telegram's ``setMyCommands``
    (call it once per language with ``language_code``; English is the default list)."""
    t = translator_for(lang)
    return [(command, t.gettext(description)) for command, description in COMMANDS]
