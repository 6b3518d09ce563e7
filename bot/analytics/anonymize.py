"""Example texts fit to publish: the query log's masking (:func:`bot.privacy.scrub`: phones,
e-mails, PESEL, document and account numbers), plus the names people gave.

A name is found the way the matcher's reader leaves it out of a question (a
self-introduction's name — "мене звати Оксана", "nazywam się Jan Kowalski" —, an unknown word
after a kinship word, an unknown word capitalised inside a sentence); a name someone gave in
*any* of their messages is masked in every example taken from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.privacy import scrub
from faq.index import Lexicon
from faq.lexicon import CHILD_WORDS, INTRO_PHRASES, KIN_WORDS, SOCIAL_PHRASES
from faq.reading import read
from faq.text import normalize, tokenize, words

NAME = "[name]"
_WORD = re.compile(r"[^\W\d_](?:[\w'ʼ’-]*[^\W_])?")
#: Words of the phrases around a name: never taken for one.
_FRAME = frozenset(
    words(" ".join((*INTRO_PHRASES, *SOCIAL_PHRASES, KIN_WORDS, *CHILD_WORDS.values())))
)


_CACHE: dict[tuple[int, str], frozenset[str]] = {}
_CACHE_MAX = 50_000


def _names_in(text: str, lexicon: Lexicon) -> frozenset[str]:
    cached = _CACHE.get((id(lexicon), text))
    if cached is not None:
        return cached
    reading = read(text, lexicon)
    kept = set(reading.question)
    found = frozenset(
        token
        for token in reading.tokens
        if token not in kept and token not in _FRAME and not token.isdigit()
    )
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[(id(lexicon), text)] = found
    return found


def names_given(texts: Iterable[str], lexicon: Lexicon) -> frozenset[str]:
    """The normalised tokens of the names in ``texts``."""
    out: set[str] = set()
    for text in texts:
        out |= _names_in(text, lexicon)
    return frozenset(out)


def mask_names(text: str, names: frozenset[str]) -> str:
    """``text`` with every word that is one of ``names`` replaced by ``[name]``."""
    if not names:
        return text

    def replace(match: re.Match[str]) -> str:
        tokens = tokenize(normalize(match.group(0)))
        return NAME if any(t in names for t in tokens) else match.group(0)

    return _WORD.sub(replace, text)


def publishable(text: str, person_texts: Iterable[str], lexicon: Lexicon) -> str:
    """``text`` scrubbed, without the names its author gave in ``person_texts`` or in it."""
    names = names_given([text, *person_texts], lexicon)
    return mask_names(scrub(text), names)
