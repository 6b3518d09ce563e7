"""Messages that are not FAQ questions: asking for a person, greetings, thanks, danger.

Word lists live in :mod:`faq.lexicon`; they are compared by key (:func:`faq.text.key_of`),
so inflections, transliteration and wrong-layout typing are covered as for FAQ words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from faq.lexicon import (
    FILLER_WORDS,
    GREETING_WORDS,
    HUMAN_NOUNS,
    HUMAN_PHRASES,
    HUMAN_VERBS,
    STOP_WORDS,
    THANKS_WORDS,
    URGENT_PATTERNS,
)
from faq.text import key_of, words

Intent = Literal["human", "greeting", "thanks", "urgent"]
INTENTS: tuple[str, ...] = ("human", "greeting", "thanks", "urgent")

_HUMAN_MAX_WORDS = 6
"""A request for a person is short; longer messages go to the FAQ (and may hand off there)."""

_PHRASE_GAP = 2
"""Words of a phrase may be this many words apart (``забрали у мене паспорт``)."""


def _keys(text: str) -> frozenset[str]:
    return frozenset(key_of(t) for t in words(text))


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(key_of(t) for t in words(text))


def _same_word(pattern: str, key: str) -> bool:
    """Equal keys, or (both long enough) one a short extension of the other."""
    if pattern == key:
        return True
    if len(pattern) < 5 or len(key) < 5:
        return False
    short, long_ = (pattern, key) if len(pattern) <= len(key) else (key, pattern)
    return long_.startswith(short) and len(long_) - len(short) <= 3


def _has_any(patterns: Iterable[str], keys: Sequence[str]) -> bool:
    return any(_same_word(p, k) for p in patterns for k in keys)


def _has_phrase(phrase: tuple[str, ...], keys: Sequence[str]) -> bool:
    if not phrase:
        return False
    for start, key in enumerate(keys):
        if not _same_word(phrase[0], key):
            continue
        pos = start
        for part in phrase[1:]:
            window = keys[pos + 1 : pos + 2 + _PHRASE_GAP]
            nxt = next((j for j, k in enumerate(window) if _same_word(part, k)), None)
            if nxt is None:
                break
            pos += 1 + nxt
        else:
            return True
    return False


Pattern = tuple[tuple[tuple[str, ...], ...], ...]
"""Groups (all must be present) of alternatives (any one) of phrases (keys in order)."""


def _pattern(text: str) -> Pattern:
    groups = []
    for group in text.split("+"):
        alternatives = tuple(p for p in (_phrase(alt) for alt in group.split("|")) if p)
        groups.append(alternatives)
    return tuple(groups)


def _matches(pattern: Pattern, keys: Sequence[str]) -> bool:
    return all(any(_has_phrase(alt, keys) for alt in group) for group in pattern)


class _WordFinder:
    """Which of a fixed set of pattern words occur among message keys (by :func:`_same_word`),
    in a few dictionary look-ups per key instead of a comparison with every pattern word."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.exact: dict[str, set[str]] = {}
        self.prefixes: dict[str, set[str]] = {}  # pattern prefixes that are a whole key
        for p in set(patterns):
            self.exact.setdefault(p, set()).add(p)
            if len(p) >= 5:
                for cut in range(max(5, len(p) - 3), len(p)):
                    self.prefixes.setdefault(p[:cut], set()).add(p)

    def find(self, keys: Sequence[str]) -> frozenset[str]:
        found: set[str] = set()
        for key in keys:
            found |= self.exact.get(key, set())
            if len(key) >= 5:
                found |= self.prefixes.get(key, set())  # the key is a short pattern prefix
                for cut in range(max(5, len(key) - 3), len(key)):
                    hit = self.exact.get(key[:cut])  # a pattern is a short key prefix
                    if hit:
                        found |= hit
        return frozenset(found)


class IntentDetector:
    def __init__(self) -> None:
        self.greeting = _keys(GREETING_WORDS)
        self.thanks = _keys(THANKS_WORDS)
        self.neutral = _keys(FILLER_WORDS) | frozenset(
            k for t in STOP_WORDS.values() for k in _keys(t)
        )
        self.human_nouns = _keys(HUMAN_NOUNS)
        self.human_verbs = _keys(HUMAN_VERBS)
        self.human_phrases = tuple(_phrase(p) for p in HUMAN_PHRASES)
        self.urgent = tuple(_pattern(p) for p in URGENT_PATTERNS)
        self.urgent_words = _WordFinder(
            word
            for pattern in self.urgent
            for group in pattern
            for phrase in group
            for word in phrase
        )
        # A pattern can only match if the first word of each group's phrases is present.
        self.urgent_needs = tuple(
            tuple(frozenset(phrase[0] for phrase in group) for group in pattern)
            for pattern in self.urgent
        )

    def detect(self, tokens: Sequence[str]) -> Intent | None:
        keys = [key_of(t) for t in tokens]
        if not keys:
            return None
        present = self.urgent_words.find(keys)
        if present and any(
            all(needs & present for needs in groups) and _matches(pattern, keys)
            for pattern, groups in zip(self.urgent, self.urgent_needs, strict=True)
        ):
            return "urgent"
        social = self.greeting | self.thanks
        rest = [k for k in keys if k not in social and k not in self.neutral]
        if self._asks_for_person(keys, rest):
            return "human"
        if not rest:
            if any(k in self.thanks for k in keys):
                return "thanks"
            if any(k in self.greeting for k in keys):
                return "greeting"
        return None

    def _asks_for_person(self, keys: list[str], rest: list[str]) -> bool:
        if len(rest) > _HUMAN_MAX_WORDS:
            return False  # a story that mentions a person, not a request for one
        if any(_has_phrase(p, keys) for p in self.human_phrases):
            return True
        nouns = [i for i, k in enumerate(keys) if k in self.human_nouns]
        if not nouns:
            return False
        verbs = [i for i, k in enumerate(keys) if k in self.human_verbs]
        if any(abs(i - j) <= 3 for i in nouns for j in verbs):
            return True
        # "оператор", "консультант, будь ласка": nothing else of substance.
        return all(k in self.human_nouns or k in self.human_verbs for k in rest)
