"""Messages that are not FAQ questions: asking for a person, greetings, thanks, danger.

Word lists live in :mod:`faq.lexicon`; they are compared by key (:func:`faq.text.key_of`),
so inflections, transliteration and wrong-layout typing are covered as for FAQ words.

Danger (the ``urgent`` intent) comes with its *kind* (:data:`URGENT_KINDS`): what happens,
told by the patterns of :data:`faq.lexicon.URGENT_PATTERNS` (a symptom, a threat, a night
outside), with spans that disarm a symptom (:data:`faq.lexicon.URGENT_DISARM`: "після
інсульту" is the past). Its words also match inflected or with a typo (one edit in 6-8
letters, two from 9) when the knowledge base does not know the word, since a person in an
emergency types fast. ``match(text).urgent_kind`` carries the kind (**contract** beside
``intent == "urgent"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import OSA

from faq.lexicon import (
    FILLER_WORDS,
    GREETING_WORDS,
    HUMAN_NOUNS,
    HUMAN_PHRASES,
    HUMAN_VERBS,
    STOP_WORDS,
    THANKS_WORDS,
    URGENT_DISARM,
    URGENT_GROUPS,
    URGENT_PATTERNS,
)
from faq.text import has_cyrillic, key_of, normalize, tokenize, words

Intent = Literal["human", "greeting", "thanks", "urgent"]
INTENTS: tuple[str, ...] = ("human", "greeting", "thanks", "urgent")

UrgentKind = Literal["medical", "suicide", "violence", "danger", "trafficking", "arrest", "shelter"]
URGENT_KINDS: tuple[str, ...] = tuple(URGENT_PATTERNS)
"""``medical`` (not breathing, unconscious, bleeding, heart, stroke, poisoning, a child hurt,
seizures, drowning ...), ``suicide``, ``violence``, ``danger`` (threats, stalking, a missing
person, fire, gas), ``trafficking``, ``arrest`` (police, Border Guard, detention), ``shelter``
(nowhere to sleep tonight): the first that matches, in this order."""

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
        self.urgent = UrgentDetector()

    def detect(self, tokens: Sequence[str]) -> Intent | None:
        return self.classify(tokens)[0]

    def classify(self, tokens: Sequence[str]) -> tuple[Intent | None, str | None]:
        """The intent of a message's tokens, and for ``urgent`` the kind of emergency."""
        keys = [key_of(t) for t in tokens]
        if not keys:
            return None, None
        kind = self.urgent.kind(keys)
        if kind is not None:
            return "urgent", kind
        return self._social(keys), None

    def _social(self, keys: list[str]) -> Intent | None:
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


# --- danger --------------------------------------------------------------------------------


def _expand(text: str, depth: int = 0) -> str:
    """Replace ``{name}`` by the alternatives of :data:`URGENT_GROUPS` (which may nest)."""
    if "{" not in text or depth > 3:
        return text
    for name, alternatives in URGENT_GROUPS.items():
        text = text.replace("{" + name + "}", _expand(alternatives, depth + 1))
    return text


_Phrase = tuple[str, ...]
_Group = tuple[_Phrase, ...]


class _UrgentPattern(tuple[_Group, ...]):
    """Groups of alternative phrases, with each group's first words (a cheap first test)."""

    firsts: tuple[frozenset[str], ...]

    def possible(self, present: frozenset[str]) -> bool:
        return all(not present.isdisjoint(f) for f in self.firsts)


def _urgent_pattern(text: str) -> _UrgentPattern:
    groups = []
    for group in _expand(text).split("+"):
        alternatives = tuple(dict.fromkeys(p for p in (_phrase(a) for a in group.split("|")) if p))
        groups.append(alternatives)
    pattern = _UrgentPattern(groups)
    pattern.firsts = tuple(frozenset(phrase[0] for phrase in group) for group in groups)
    return pattern


_FUZZY_MIN = 6
_FUZZY_TWO_EDITS = 9
_VOWELS = frozenset("aeiou")
_PATTERN_WINDOW = 8
"""The words of a pattern's groups lie within this many words ("мене ... б'є", not "мене"
in one sentence and "бил" three sentences later)."""


class UrgentDetector:
    """Which kind of emergency, if any, a message's keys describe (see the module docstring).

    Every message key is read once (cached) as the set of pattern words it can be: the same
    key, an inflected form of it, or a typo of it (OSA distance 1 for 6-8 letters, 2 for 9+,
    first two letters kept) -- the last two only for words the knowledge base does not know
    (:meth:`know`). A phrase then needs its words in order, at most :data:`_PHRASE_GAP`
    words apart; a pattern needs one phrase of every group, within :data:`_PATTERN_WINDOW`.
    """

    def __init__(self) -> None:
        self.kinds: tuple[tuple[str, tuple[_UrgentPattern, ...]], ...] = tuple(
            (kind, tuple(_urgent_pattern(p) for p in patterns))
            for kind, patterns in URGENT_PATTERNS.items()
        )
        self.disarm: dict[str, tuple[_UrgentPattern, ...]] = {
            kind: tuple(_urgent_pattern(p) for p in patterns)
            for kind, patterns in URGENT_DISARM.items()
        }
        vocabulary = {
            word
            for patterns in (*(p for _, p in self.kinds), *self.disarm.values())
            for pattern in patterns
            for group in pattern
            for phrase in group
            for word in phrase
        }
        self.vocabulary = frozenset(vocabulary)
        self.known: frozenset[str] = frozenset()
        by_start: dict[str, list[str]] = {}
        for word in sorted(vocabulary):
            if len(word) >= _FUZZY_MIN and not word.isdigit():
                by_start.setdefault(word[:2], []).append(word)
        self._fuzzy = {start: tuple(ws) for start, ws in by_start.items()}
        self._one_vowel_more: dict[str, set[str]] = {}
        for word in vocabulary:
            if len(word) >= 4 and word[-1] in _VOWELS:
                self._one_vowel_more.setdefault(word[:-1], set()).add(word)
        self.word_hits = lru_cache(maxsize=20_000)(self._word_hits)

    def surface_words(self) -> dict[str, set[str]]:
        """The patterns' own words per language (``uk``/``ru`` by their letters), for the
        reader's lexicon: a danger word typed on the wrong keyboard is repaired like others."""
        out: dict[str, set[str]] = {"uk": set(), "ru": set(), "pl": set(), "en": set()}
        texts = [p for ps in URGENT_PATTERNS.values() for p in ps]
        texts += [p for ps in URGENT_DISARM.values() for p in ps]
        texts += list(URGENT_GROUPS.values())
        for text in texts:
            for token in tokenize(normalize(text.replace("|", " ").replace("+", " "), False)):
                if not has_cyrillic(token):
                    continue
                uk = any(ch in "ієїґ" for ch in token)
                ru = any(ch in "ыэъ" for ch in token)
                if uk or not ru:
                    out["uk"].add(token)
                if ru or not uk:
                    out["ru"].add(token)
        return out

    def know(self, keys: Iterable[str]) -> None:
        """Words of the knowledge base: read only as themselves, never as a typo or a short
        form of a danger word (``побиту`` is not ``побили``, ``народження`` not ``народжує``)."""
        self.known = frozenset(keys) - self.vocabulary
        self.word_hits.cache_clear()

    def _word_hits(self, key: str) -> frozenset[str]:
        if key in self.vocabulary:
            return frozenset((key,))
        if key in self.known or key.isdigit() or len(key) < 3:
            return frozenset()
        found: set[str] = set()
        # An inflected form: a danger word of 5+ letters plus a short ending.
        for cut in range(max(_FUZZY_MIN, len(key) - 3), len(key)):
            if key[:cut] in self.vocabulary:
                found.add(key[:cut])
        # The stemmer took one vowel more or less (``dih``/``diha``: дыхает/дихає).
        if key[-1] in _VOWELS and key[:-1] in self.vocabulary:
            found.add(key[:-1])
        found |= self._one_vowel_more.get(key, set())
        # A typo: same first two letters, one edit in 6-8 letters, two from 9.
        if len(key) >= _FUZZY_MIN:
            edits = 1 if len(key) < _FUZZY_TWO_EDITS else 2
            for word, _, _ in process.extract(
                key, self._fuzzy.get(key[:2], ()), scorer=OSA.distance, score_cutoff=edits, limit=8
            ):
                if abs(len(word) - len(key)) <= edits:
                    found.add(word)
        return frozenset(found)

    def kind(self, keys: Sequence[str]) -> str | None:
        hits = [self.word_hits(k) for k in keys]
        present = frozenset().union(*hits)
        if not present:
            return None
        for kind, patterns in self.kinds:
            mine = hits
            disarm = self.disarm.get(kind)
            if disarm:
                covered: set[int] = set()
                for pattern in disarm:
                    if pattern.possible(present):
                        covered |= _pattern_span(pattern, hits, present)
                if covered:
                    mine = [h for i, h in enumerate(hits) if i not in covered]
            if any(
                pattern.possible(present) and _pattern_span(pattern, mine, present)
                for pattern in patterns
            ):
                return kind
        return None


def _phrase_span(phrase: _Phrase, hits: Sequence[frozenset[str]]) -> tuple[int, ...]:
    """Positions of the first occurrence of ``phrase`` among the words' hits, or ``()``."""
    first = phrase[0]
    for start, here in enumerate(hits):
        if first not in here:
            continue
        positions = [start]
        for part in phrase[1:]:
            pos = positions[-1]
            window = hits[pos + 1 : pos + 2 + _PHRASE_GAP]
            nxt = next((j for j, h in enumerate(window) if part in h), None)
            if nxt is None:
                break
            positions.append(pos + 1 + nxt)
        else:
            return tuple(positions)
    return ()


def _pattern_span(
    pattern: tuple[_Group, ...], hits: Sequence[frozenset[str]], present: frozenset[str]
) -> set[int]:
    """The positions one phrase of every group covers, or an empty set if a group misses
    (``present``: every word any message word can be, to skip phrases at once)."""
    covered: set[int] = set()
    for group in pattern:
        for phrase in group:
            if not present.issuperset(phrase):
                continue
            span = _phrase_span(phrase, hits)
            if span:
                covered.update(span)
                break
        else:
            return set()
    if len(pattern) > 1 and max(covered) - min(covered) > _PATTERN_WINDOW:
        return set()
    return covered
