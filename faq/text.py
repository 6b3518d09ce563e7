"""Text primitives of the matcher: normalisation, tokens, keyboard layouts, phonetic keys.

Everything here is a pure function of its input (no knowledge base), so the same code turns
both the knowledge base and a user's message into comparable keys:

- :func:`normalize` folds case, Unicode forms, apostrophe variants, ``ё`` and control
  characters, and spells ``800+`` as ``800 plus``;
- :func:`layout_convert` reads text typed on a US QWERTY keyboard as the Ukrainian or
  Russian layout the user meant (``ghbdtn`` -> ``привет``);
- :func:`skeleton` maps Cyrillic, Polish and Latin transliteration to one reduced
  alphabet, so ``песель``/``pesel``, ``побиту``/``pobytu``, ``отримати``/``otrymaty`` and
  ``ужонд``/``urząd`` meet;
- :func:`stem` strips inflection from a skeleton (crudely, but the same way on both sides).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_TEXT_CHARS = 2000
"""Longer messages keep their head and tail (context first, question last)."""

MAX_TOKENS = 120

# --- normalisation -------------------------------------------------------------------------

_APOSTROPHES = "'ʼ’‘`´′ʹʻ＇"
INVISIBLE = "\u00ad\u034f\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"
"""Characters that never show and may sit inside a word (soft hyphen, zero-width space and
joiners, word joiner, byte-order mark ...): deleted, so ``пе\u200bсель`` is ``песель``."""
_INVISIBLE = str.maketrans({ch: None for ch in INVISIBLE})
_SURROGATE = re.compile("[\ud800-\udfff]")
_DELETE_CHARS = _APOSTROPHES  # invisible characters are gone already (sanitize)
_PLUS = re.compile(r"(\d)\s*\+")
_TOKEN = re.compile(r"[^\W\d_]+|\d+")
"""Runs of letters, runs of digits: ``800plus`` -> ``800``, ``plus``."""


def clip(text: str) -> str:
    """Bound the work for huge messages: keep the head and the tail."""
    if len(text) <= MAX_TEXT_CHARS:
        return text
    half = MAX_TEXT_CHARS // 2
    return text[:half] + " " + text[-half:]


def sanitize(text: str) -> str:
    """Text any later step can handle: invisible characters deleted (they must not split a
    word), lone surrogates (not encodable as UTF-8) replaced by a space, NUL and other control
    characters kept for :func:`normalize` to turn into spaces."""
    # A scan per invisible character (fast, in C) where translate looks up every character:
    # the knowledge base's long answers have none, so this costs almost nothing there.
    if any(ch in text for ch in INVISIBLE):
        text = text.translate(_INVISIBLE)
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub(" ", text)
    return text


def _clean_controls(text: str) -> str:
    # Control and format characters become spaces (a NUL or RTL mark must not glue words).
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)


def normalize(text: str, bounded: bool = True) -> str:
    """Lower-case, NFKC-normalised text with apostrophes removed and ``ё`` folded to ``е``.

    ``bounded`` clips huge messages (:func:`clip`); the knowledge base is read whole.
    """
    text = _clean_controls(sanitize(clip(text) if bounded else text))
    text = unicodedata.normalize("NFKC", text).casefold()
    # str.replace per character present: a fast scan, where translate looks up every char.
    for ch in _DELETE_CHARS:
        if ch in text:
            text = text.replace(ch, "")
    if "ё" in text:
        text = text.replace("ё", "е")
    return _PLUS.sub(r"\1 plus ", text) if "+" in text else text


def tokenize(normalized: str, limit: int | None = None) -> list[str]:
    """Word tokens (letters and digits) of normalised text; digits split from letters."""
    tokens = _TOKEN.findall(normalized)
    return tokens if limit is None else tokens[:limit]


def words(text: str) -> list[str]:
    """:func:`normalize` then :func:`tokenize` (for the knowledge base: no length limit)."""
    return tokenize(normalize(text, bounded=False))


def has_cyrillic(token: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in token)


def is_latin_word(token: str) -> bool:
    return token.isascii() and token.isalpha()


# --- keyboard layouts ----------------------------------------------------------------------

_US = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>~"
_RU = "йцукенгшщзхъфывапролджэячсмитьбюёЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮЁ"
_UK = "йцукенгшщзхїфівапролджєячсмитьбю'ЙЦУКЕНГШЩЗХЇФІВАПРОЛДЖЄЯЧСМИТЬБЮ'"
LAYOUTS: dict[str, dict[int, str]] = {
    "ru": {ord(a): b for a, b in zip(_US, _RU, strict=True)},
    "uk": {**{ord(a): b for a, b in zip(_US, _UK, strict=True)}, ord("\\"): "ґ", ord("|"): "Ґ"},
}
LAYOUT_KEYS = frozenset(_US + "\\|")
"""Characters a US keyboard produces on keys that carry Cyrillic letters."""

_REVERSE_RU = {ord(b): a for a, b in zip(_US, _RU, strict=True)}
_REVERSE_UK = {ord(b): a for a, b in zip(_US, _UK, strict=True) if b != "'"}
REVERSE_LAYOUT: dict[int, str] = {**_REVERSE_RU, **_REVERSE_UK, ord("ґ"): "\\"}
"""Cyrillic keyboard letter -> the US key under it (Latin typed with a Cyrillic layout on)."""


def looks_like_layout_token(raw: str) -> bool:
    """A raw (whitespace-separated) token made only of US keys, with at least one letter."""
    return bool(raw) and all(ch in LAYOUT_KEYS for ch in raw) and any(ch.isalpha() for ch in raw)


def layout_convert(raw: str, lang: str) -> str:
    """Read ``raw`` as typed with the ``lang`` (``uk``/``ru``) layout: ``ghbdtn`` -> ``привет``."""
    return raw.translate(LAYOUTS[lang])


def reverse_layout_convert(raw: str) -> str:
    """Read Cyrillic keyboard letters as the US keys under them: ``зуыуд`` -> ``pesel``."""
    return raw.translate(REVERSE_LAYOUT)


# --- phonetic skeleton ---------------------------------------------------------------------

# Upper-case letters are the skeleton's own symbols: S = ш/щ/sz/sh, Z = ж/ż/rz/zh, C = ч/cz/ch.
_CYR = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "h",
    "ґ": "h",
    "д": "d",
    "е": "e",
    "є": "ie",
    "ж": "Z",
    "з": "z",
    "и": "i",
    "і": "i",
    "ї": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "h",
    "ц": "c",
    "ч": "C",
    "ш": "S",
    "щ": "S",
    "ь": "",
    "ъ": "",
    "ы": "i",
    "э": "e",
    "ю": "iu",
    "я": "ia",
    "ё": "io",
    "ў": "u",
}
_LAT1 = {
    "ą": "on",
    "ę": "en",
    "ó": "u",
    "ł": "l",
    "ś": "s",
    "ź": "z",
    "ż": "Z",
    "ć": "c",
    "ń": "n",
    "w": "v",
    "y": "i",
    "j": "i",
    "g": "h",
    "x": "ks",
    "q": "k",
    "ä": "a",
    "ö": "o",
    "ü": "u",
    "é": "e",
    "è": "e",
    "á": "a",
    "í": "i",
    "ú": "u",
    "č": "C",
    "š": "S",
    "ž": "Z",
}
_TABLE = str.maketrans({**_CYR, **_LAT1})
# Multi-letter spellings, applied in order after the one-letter table.
_MULTI = (
    ("shch", "S"),
    ("szcz", "S"),
    ("sch", "S"),
    ("sh", "S"),
    ("sz", "S"),
    ("zh", "Z"),
    ("rz", "Z"),
    ("ch", "C"),
    ("cz", "C"),
    ("kh", "h"),
    ("ts", "c"),
    ("ck", "k"),
    ("sC", "S"),
)
_DOUBLE = re.compile(r"([a-zA-Z])\1+")
_IOTA = re.compile(r"i(?=[aeiou])")


@lru_cache(maxsize=65536)
def skeleton(token: str) -> str:
    """Cross-script phonetic key of a normalised token (``песель``, ``pesel`` -> ``pesel``)."""
    key = token.translate(_TABLE)
    for src, dst in _MULTI:
        if src in key:
            key = key.replace(src, dst)
    key = _DOUBLE.sub(r"\1", key)
    key = _IOTA.sub("", key)
    return _DOUBLE.sub(r"\1", key)


_ENDINGS = tuple(
    sorted(
        {
            # Ukrainian / Russian inflection, as it looks after skeleton()
            "ami",
            "ah",
            "am",
            "ov",
            "ev",
            "iv",
            "om",
            "em",
            "ou",
            "ei",
            "oi",
            "oho",
            "eho",
            "omu",
            "emu",
            "imi",
            "ih",
            "im",
            "ui",
            "oe",
            "ee",
            "ie",
            "ati",
            "iti",
            "eti",
            "uti",
            "at",
            "it",
            "et",
            "ut",
            "ete",
            "ite",
            "ili",
            "ala",
            "ila",
            "ali",
            "alo",
            "ilo",
            "al",
            "il",
            "ue",
            "ues",
            "osa",
            "asa",
            "isa",
            "sa",
            "ca",
            "eS",
            "iS",
            # Polish
            "aC",
            "iC",
            "ovi",
            "uv",
            "en",
            "on",
            "ia",
            "ac",
            "ic",
            "ec",
            # English
            "es",
            "ed",
            "ing",
        }
        - {""},
        key=len,
        reverse=True,
    )
)
_ENDINGS_BY_SIZE = tuple(
    (size, frozenset(e for e in _ENDINGS if len(e) == size))
    for size in sorted({len(e) for e in _ENDINGS}, reverse=True)
)
_VOWELS = frozenset("aeiou")


@lru_cache(maxsize=65536)
def stem(key: str) -> str:
    """Strip one inflectional ending (and a final vowel) from a skeleton; keep 3+ letters."""
    if len(key) <= 3 or key.isdigit():
        return key
    for size, endings in _ENDINGS_BY_SIZE:  # the longest ending first, as listed in _ENDINGS
        if len(key) - size >= 4 and key[-size:] in endings:
            key = key[:-size]
            break
    if len(key) > 3 and key[-1] in _VOWELS:
        key = key[:-1]
    return key


@lru_cache(maxsize=65536)
def light_stem(key: str) -> str:
    """A skeleton without its final vowels (``zarplatu``/``zarplati`` -> ``zarplat``)."""
    end = len(key)
    while end > 3 and key[end - 1] in _VOWELS:
        end -= 1
    return key[:end]


def key_of(token: str) -> str:
    """The heavy key of a normalised token: :func:`stem` of its skeleton (one ending off)."""
    return stem(skeleton(token))


def term_of(token: str) -> str:
    """The index term of a normalised token: :func:`light_stem` of its skeleton."""
    return stem(skeleton(token))
