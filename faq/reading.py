"""Reading a message: undo a wrong keyboard layout, then tell which language it is in.

Layout repair is decided for the whole message, never a word alone: every word made only
of US keys is read three ways (as typed, as the Ukrainian layout, as the Russian layout)
and each reading is checked against a lexicon (the knowledge base's own words in all four
languages plus the function-word lists, by phonetic skeleton so transliteration counts as
valid Latin). The message is converted only when the layout reading explains more of its
words than the typed one. The reverse slip (Latin typed with a Cyrillic layout on:
``зуыуд`` -> ``pesel``) is checked the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from faq.index import Lexicon
from faq.languages import LANGS
from faq.lexicon import CHILD_WORDS, INTRO_PHRASES, KIN_WORDS, SOCIAL_PHRASES
from faq.text import (
    MAX_TOKENS,
    clip,
    has_cyrillic,
    key_of,
    layout_convert,
    looks_like_layout_token,
    normalize,
    reverse_layout_convert,
    sanitize,
    skeleton,
    tokenize,
    words,
)

UK_LETTERS = frozenset("ієїґ")
RU_LETTERS = frozenset("ыэъё")
PL_LETTERS = frozenset("ąćęłńóśźż")
DEFAULT_LANG = "uk"
"""Most users write Ukrainian; used when nothing in the text tells."""


@dataclass(frozen=True, slots=True)
class Reading:
    tokens: tuple[str, ...]
    """Normalised word tokens after any layout repair."""
    layout: str | None
    """``uk``/``ru`` when the message was typed on the wrong (US) layout, ``en`` for the
    reverse slip, else ``None``."""
    distinctive: str | None
    """Language told by letters only one language has (і/ы/ą ...), if any."""
    question: tuple[str, ...] = ()
    """The tokens the question is made of: :attr:`tokens` without greetings, thanks,
    politeness, a self-introduction and people's names (:func:`question_tokens`); empty when
    nothing else is left."""


_PUNCT_EDGES = '?!/()"«»…'


def _valid_cyrillic(token: str, lexicon: Lexicon) -> bool:
    return skeleton(token) in lexicon.cyrillic_skeletons


def _valid_latin(token: str, lexicon: Lexicon) -> bool:
    return token in lexicon.latin_words or skeleton(token) in lexicon.all_skeletons


def _explains(tokens: list[str], valid: Callable[[str, Lexicon], bool], lexicon: Lexicon) -> int:
    """How many letters of ``tokens`` a lexicon check explains (longer words count more)."""
    return sum(len(t) for t in tokens if len(t) >= 2 and valid(t, lexicon))


def _repair_layout(raw_words: list[str], lexicon: Lexicon) -> tuple[list[str], str | None]:
    candidates = [
        i for i, w in enumerate(raw_words) if looks_like_layout_token(w.strip(_PUNCT_EDGES))
    ]
    if candidates:
        as_typed = 0
        as_layout = {"uk": 0, "ru": 0}
        for i in candidates:
            word = raw_words[i].strip(_PUNCT_EDGES)
            typed = tokenize(normalize(word))
            typed_score = _explains(typed, _valid_latin, lexicon)
            as_typed += typed_score
            for lang in as_layout:
                converted = tokenize(normalize(layout_convert(word, lang)))
                score = _explains(converted, _valid_cyrillic, lexicon)
                if score > typed_score:
                    as_layout[lang] += score
        best = max(as_layout, key=lambda lang: (as_layout[lang], lang == "uk"))
        if as_layout[best] > as_typed:
            if as_layout["uk"] == as_layout["ru"]:
                best = _tie_break_layout(raw_words, candidates, lexicon)
            out = list(raw_words)
            for i in candidates:
                out[i] = layout_convert(raw_words[i].strip(_PUNCT_EDGES), best)
            return out, best
    cyrillic = [i for i, w in enumerate(raw_words) if has_cyrillic(w)]
    if cyrillic:
        as_typed = as_latin = 0
        for i in cyrillic:
            typed = tokenize(normalize(raw_words[i]))
            as_typed += _explains(typed, _valid_cyrillic, lexicon)
            latin = tokenize(normalize(reverse_layout_convert(raw_words[i])))
            as_latin += _explains(latin, _valid_latin_strict, lexicon)
        if as_latin > as_typed:
            out = list(raw_words)
            for i in cyrillic:
                out[i] = reverse_layout_convert(raw_words[i])
            return out, "en"
    return raw_words, None


def _valid_latin_strict(token: str, lexicon: Lexicon) -> bool:
    return token in lexicon.latin_words


def _tie_break_layout(raw_words: list[str], candidates: list[int], lexicon: Lexicon) -> str:
    """Both layouts read the same letters: ask which language's words they are."""
    votes: Counter[str] = Counter()
    for i in candidates:
        for token in tokenize(normalize(layout_convert(raw_words[i], "ru"))):
            votes.update(_vocabulary_votes(token, lexicon, ("uk", "ru")))
    return "ru" if votes["ru"] > votes["uk"] else "uk"


def _vocabulary_votes(token: str, lexicon: Lexicon, langs: tuple[str, ...]) -> list[str]:
    hits = [lang for lang in langs if token in lexicon.words[lang]]
    return hits if len(hits) == 1 else []


def read(text: str, lexicon: Lexicon) -> Reading:
    """Tokens of ``text`` after layout repair, and what its letters say about its language."""
    text = sanitize(text)
    raw_words = clip(text).split()
    repaired, layout = _repair_layout(raw_words, lexicon)
    normalized = normalize(" ".join(repaired))
    tokens = tuple(tokenize(normalized, MAX_TOKENS))
    question = question_tokens(tokens, _names(repaired), lexicon)
    return Reading(
        tokens,
        layout,
        _distinctive_language(normalize(text) if layout else normalized),
        question,
    )


# --- the question inside the politeness ------------------------------------------------------


def _phrases(texts: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    keyed = {tuple(key_of(t) for t in words(text)) for text in texts}
    return tuple(sorted((p for p in keyed if p), key=len, reverse=True))


_SOCIAL = _phrases(SOCIAL_PHRASES)
_INTRO = _phrases(INTRO_PHRASES)


def _by_start(phrases: tuple[tuple[str, ...], ...]) -> dict[str, tuple[tuple[str, ...], ...]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:  # longest first, as given
        out.setdefault(phrase[0], []).append(phrase)
    return {k: tuple(v) for k, v in out.items()}


_SOCIAL_STARTS = _by_start(_SOCIAL)
_INTRO_STARTS = _by_start(_INTRO)
_KIN = frozenset(key_of(t) for t in words(KIN_WORDS))
_AS_CHILD = {t: child for child, forms in CHILD_WORDS.items() for t in words(forms)}
_SENTENCE_END = ".!?"


def _names(raw_words: list[str]) -> frozenset[str]:
    """Tokens of capitalised words inside a sentence (not its first word): maybe names."""
    out: set[str] = set()
    first = True
    for word in raw_words:
        core = word.strip(_PUNCT_EDGES + ",;:.")
        if core[:1].isupper() and not first and not core.isupper():
            out.update(tokenize(normalize(core)))
        first = word.endswith(tuple(_SENTENCE_END))
    return frozenset(out)


def _unknown(token: str, lexicon: Lexicon) -> bool:
    return not token.isdigit() and skeleton(token) not in lexicon.all_skeletons


def question_tokens(
    tokens: tuple[str, ...], names: frozenset[str], lexicon: Lexicon
) -> tuple[str, ...]:
    """``tokens`` without greetings, thanks and politeness (:data:`SOCIAL_PHRASES`), a
    self-introduction with the name after it (:data:`INTRO_PHRASES`), and names: an unknown
    word after a kinship word ("для доньки Марічки") or capitalised inside a sentence."""
    keys = [key_of(t) for t in tokens]
    drop: set[int] = set()
    for starts, is_intro in ((_INTRO_STARTS, True), (_SOCIAL_STARTS, False)):
        for i, key in enumerate(keys):
            for phrase in starts.get(key, ()):
                n = len(phrase)
                if any(j in drop for j in range(i, i + n)) or tuple(keys[i : i + n]) != phrase:
                    continue
                drop.update(range(i, i + n))
                if is_intro:
                    end = i + n
                    if end < len(tokens):
                        drop.add(end)  # the name
                    if end + 1 < len(tokens) and (
                        tokens[end + 1] in names and _unknown(tokens[end + 1], lexicon)
                    ):
                        drop.add(end + 1)  # and a surname
    for i, token in enumerate(tokens):
        if i in drop or not _unknown(token, lexicon):
            continue
        if token in names or (i > 0 and keys[i - 1] in _KIN):
            drop.add(i)
    return tuple(_AS_CHILD.get(t, t) for i, t in enumerate(tokens) if i not in drop)


def _distinctive_language(normalized: str) -> str | None:
    counts = {"uk": 0, "ru": 0, "pl": 0}
    for ch in normalized:
        if ch in UK_LETTERS:
            counts["uk"] += 1
        elif ch in RU_LETTERS:
            counts["ru"] += 1
        elif ch in PL_LETTERS:
            counts["pl"] += 1
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] else None


def detect_language(reading: Reading, lexicon: Lexicon, hint: str | None = None) -> str:
    """The language the user meant: layout, distinctive letters, then vocabulary.

    ``hint`` (the language of the best-matching question) breaks ties that the text alone
    cannot (``песель`` is Ukrainian and Russian alike).
    """
    if reading.layout in ("uk", "ru"):
        distinctive = _distinctive_language(" ".join(reading.tokens))
        if distinctive in ("uk", "ru"):
            return distinctive
        return _vote(reading.tokens, lexicon, ("uk", "ru"), hint) or reading.layout
    if reading.distinctive is not None:
        return reading.distinctive
    cyrillic = [t for t in reading.tokens if has_cyrillic(t)]
    latin = [t for t in reading.tokens if t.isascii() and t.isalpha()]
    if len(cyrillic) >= len(latin) and cyrillic:
        return _vote(cyrillic, lexicon, ("uk", "ru"), hint) or _hint_or(hint, ("uk", "ru"))
    if latin:
        # Polish or English as written, else transliterated Ukrainian/Russian.
        lang = _vote(latin, lexicon, ("en", "pl"), hint)
        if lang:
            return lang
        votes: Counter[str] = Counter()
        for token in latin:
            skel = skeleton(token)
            hits = [lg for lg in ("uk", "ru") if skel in lexicon.skeletons[lg]]
            if len(hits) == 1:
                votes[hits[0]] += 1
        if votes["uk"] != votes["ru"]:
            return "uk" if votes["uk"] > votes["ru"] else "ru"
        return _hint_or(hint, LANG_ORDER)
    return _hint_or(hint, LANG_ORDER)


LANG_ORDER = LANGS


def _hint_or(hint: str | None, allowed: tuple[str, ...]) -> str:
    return hint if hint in allowed else allowed[0]


def _vote(
    tokens: tuple[str, ...] | list[str], lexicon: Lexicon, langs: tuple[str, ...], hint: str | None
) -> str | None:
    votes: Counter[str] = Counter()
    for token in tokens:
        votes.update(_vocabulary_votes(token, lexicon, langs))
    if not votes:
        return None
    ranked = votes.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return hint if hint in langs else None
    return str(ranked[0][0])
