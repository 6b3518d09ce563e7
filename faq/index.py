"""The search index over the knowledge base, and how a message's words are read against it.

Each entry's title, aliases and questions (all four languages) are *units*; its answers are
weak text. Every word becomes a *key* (:func:`faq.text.key_of`: the stem of its cross-script
phonetic skeleton), so one posting list serves Ukrainian, Russian, Polish, English,
transliteration and Polish terms written in Cyrillic alike.

A word of a message is *resolved* to keys once (cached): its own key, keys that extend it
or that it extends by a short ending, and -- for words the index does not know -- the
closest known words by rapidfuzz (typos), all with a strength in (0, 1].
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

from rapidfuzz import process
from rapidfuzz.distance import OSA

from faq.config import MatcherConfig
from faq.content import KnowledgeBase
from faq.languages import LANGS
from faq.lexicon import FRAMING_WORDS, STOP_WORDS
from faq.text import normalize, skeleton, stem, term_of, tokenize, words


def extends(a: str, b: str) -> bool:
    """One key is the other plus a short ending (``otrim``/``otrimav``): likely one word."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    extra = len(long_) - len(short)
    return 0 < extra <= (2 if len(short) <= 5 else 3) and long_.startswith(short)


@dataclass(frozen=True, slots=True)
class Resolved:
    """How one message word reads against the index."""

    matches: tuple[tuple[int, float], ...]
    """(term id, strength) pairs, strongest first."""
    weight: float
    """The word's information: IDF of its best term (or the unknown-word weight)."""
    stop: bool


_SEPARATOR = "|"


def _unit_words(texts: list[str]) -> list[list[str]]:
    """:func:`words` of each text, normalised in one call (one pass over the entry)."""
    joined = normalize(_SEPARATOR.join(t.replace("\n", " ") for t in texts), bounded=False)
    pieces = joined.split(_SEPARATOR)
    if len(pieces) != len(texts):  # a text had the separator in it: one at a time
        return [words(t) for t in texts]
    return [tokenize(p) for p in pieces]


def _lang_at(by_lang: list[tuple[str, int, int]], i: int) -> str | None:
    return next((lang for lang, start, stop in by_lang if start <= i < stop), None)


def _answer_words(text: str, chunks_read: dict[str, frozenset[str]]) -> set[str]:
    """The distinct words of an answer. The text is normalised once and split at white space;
    each distinct chunk (``**PESEL**,``) is tokenised once for the whole build."""
    chunks = set(normalize(text.replace("\n", " "), bounded=False).split())
    for chunk in chunks.difference(chunks_read):
        chunks_read[chunk] = frozenset(tokenize(chunk))
    return set().union(*map(chunks_read.__getitem__, chunks))


class Lexicon:
    """Surface words and skeletons per language: for layout repair and language detection."""

    def __init__(self) -> None:
        self.words: dict[str, set[str]] = {lang: set() for lang in LANGS}
        self.skeletons: dict[str, set[str]] = {lang: set() for lang in LANGS}

    def add(self, lang: str, tokens: Iterable[str]) -> None:
        seen = self.words[lang]
        skeletons = self.skeletons[lang]
        for token in set(tokens) - seen:
            if token.isdigit() or len(token) < 2:
                continue
            seen.add(token)
            skeletons.add(skeleton(token))

    def freeze(self) -> None:
        self.cyrillic_skeletons = frozenset(self.skeletons["uk"] | self.skeletons["ru"])
        self.latin_words = frozenset(self.words["pl"] | self.words["en"])
        self.all_skeletons = frozenset().union(*self.skeletons.values())


class Index:
    """Inverted index over entries (candidate generation) and units (reranking).

    Built in one pass, linear in the size of the knowledge base, and compact: every distinct
    word is read once (a cache from surface word to term id), an answer contributes its set of
    distinct words, and each entry's answer-only terms are one sorted ``array('i')`` (4 bytes
    a term) looked up by bisection. The per-entry term -> units map of the reranker is not
    stored: the reranker walks the dozen entries it needs (:meth:`term_units`).
    """

    def __init__(self, kb: KnowledgeBase, config: MatcherConfig) -> None:
        self.config = config
        self.entry_ids: tuple[str, ...] = tuple(kb.entries)
        self.entry_number = {entry_id: e for e, entry_id in enumerate(self.entry_ids)}
        self.lexicon = Lexicon()
        term_ids: dict[str, int] = {}
        strong: list[dict[int, int]] = []  # term -> {entry: units containing it}
        answer_df: Counter[int] = Counter()  # term -> entries with it only in the answer
        answer_only: list[array[int]] = []  # entry -> its answer-only terms, ascending
        units: list[tuple[int, ...]] = []
        unit_langs: list[str | None] = []
        entry_units: list[range] = []
        surface: dict[str, str] = {}  # skeleton -> key (fuzzy correction vocabulary)
        token_tid: dict[str, int] = {}  # normalised word -> term id (each word read once)

        def learn(tokens: set[str]) -> None:
            for token in tokens.difference(token_tid):
                key = term_of(token)
                tid = term_ids.get(key)
                if tid is None:
                    tid = term_ids[key] = len(term_ids)
                    strong.append({})
                token_tid[token] = tid
                surface.setdefault(skeleton(token), key)

        tid_of = token_tid.__getitem__
        chunks_read: dict[str, frozenset[str]] = {}
        for e, entry in enumerate(kb.entries.values()):
            texts = [entry.title.get(lg) for lg in LANGS] + list(entry.aliases)
            keywords = len(texts)
            by_lang: list[tuple[str, int, int]] = []
            for lang, questions in entry.questions.items():
                by_lang.append((lang, len(texts), len(texts) + len(questions)))
                texts += questions
            pieces = _unit_words(texts)
            learn(set().union(*pieces))
            for lang, start, stop in by_lang:
                self.lexicon.add(lang, set().union(*pieces[start:stop]))
            first = len(units)
            for i, ws in enumerate(pieces):
                if ws:
                    units.append(tuple(dict.fromkeys(map(tid_of, ws))))
                    unit_langs.append(None if i < keywords else _lang_at(by_lang, i))
            entry_units.append(range(first, len(units)))
            counts = Counter(chain.from_iterable(units[first:]))
            for term, count in counts.items():
                strong[term][e] = count
            in_answers: set[int] = set()
            for lang in LANGS:
                tokens = _answer_words(entry.answer.get(lang), chunks_read)
                self.lexicon.add(lang, tokens)
                learn(tokens)
                in_answers.update(map(tid_of, tokens))
            only = in_answers.difference(counts)
            answer_df.update(only)
            answer_only.append(array("i", sorted(only)))

        function_words = {lang: STOP_WORDS[lang] + FRAMING_WORDS.get(lang, "") for lang in LANGS}
        for lang, text in function_words.items():
            self.lexicon.add(lang, words(text))
        self.lexicon.freeze()
        self.stop_keys = frozenset(
            term_of(t) for text in function_words.values() for t in words(text)
        )
        # A name one entry goes by may share its key with a function word ("Diia"/"Дія" and
        # "да"): as that name it is no function word. Only names of one entry, 3+ letters.
        surfaces = {t for text in function_words.values() for t in words(text)}
        owners: dict[str, set[int]] = defaultdict(set)
        for e, entry in enumerate(kb.entries.values()):
            for text in [*(entry.title.get(lg) for lg in LANGS), *entry.aliases]:
                for token in words(text):
                    if len(token) >= 3 and token not in surfaces:
                        owners[token].add(e)
        self.named = frozenset(
            token
            for token, entries in owners.items()
            if len(entries) == 1 and term_of(token) in self.stop_keys
        )
        """Surface words that name an entry although their key is a function word's."""

        n = len(self.entry_ids)
        self.term_ids = term_ids
        self.keys: tuple[str, ...] = tuple(term_ids)
        idf: list[float] = []
        for tid in range(len(term_ids)):
            df = len(strong[tid]) + config.answer_df_weight * answer_df[tid]
            idf.append(math.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        self.max_idf = math.log(1.0 + (n - 0.5) / 1.5) if n > 1 else 1.0
        self.idf = tuple(idf)
        self.term_weight = tuple(
            w * (config.stop_word_factor if key in self.stop_keys else 1.0)
            for w, key in zip(idf, self.keys, strict=True)
        )

        # Entry postings: term -> {entry: units containing it} for questions/aliases/title
        # (``tf_factor[count]`` is the field factor), and per entry its answer-only terms.
        base, k = config.centrality_base, config.centrality_k
        max_tf = max((max(row.values()) for row in strong if row), default=1)
        self.tf_factor: tuple[float, ...] = tuple(
            base + (1 - base) * tf / (tf + k) for tf in range(max_tf + 1)
        )
        self.postings: tuple[dict[int, int], ...] = tuple(strong)
        self.answer_only: tuple[array[int], ...] = tuple(answer_only)
        self.units = tuple(units)
        self.unit_langs = tuple(unit_langs)
        self.unit_is_question = tuple(lang is not None for lang in unit_langs)
        """Questions are sentences; titles and aliases are keywords (scored differently)."""
        tw = self.term_weight
        weight_of = tw.__getitem__
        self.unit_norm = tuple(sum(map(weight_of, tids)) or 1.0 for tids in units)
        self.entry_units = tuple(entry_units)

        by_stem: dict[str, list[int]] = defaultdict(list)
        for key, tid in term_ids.items():
            by_stem[stem(key)].append(tid)
        self.by_stem = {k: tuple(v) for k, v in by_stem.items()}
        """Heavy stem -> terms (``pesel``/``pesela``, ``otrimat``/``otrimav``: one word)."""
        by_prefix: dict[str, list[str]] = defaultdict(list)
        for key in self.keys:
            if len(key) >= 4 and not key.isdigit():
                by_prefix[key[:4]].append(key)
        self.by_prefix = {p: tuple(v) for p, v in by_prefix.items()}
        buckets: dict[str, list[str]] = defaultdict(list)
        for skel in surface:
            if len(skel) >= 4:
                buckets[skel[0]].append(skel)
        # Typos rarely hit the first letter: only words with the same first letter compete.
        self.fuzzy_buckets: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
            first: (tuple(skels), tuple(surface[s] for s in skels))
            for first, skels in buckets.items()
        }
        self.resolve = lru_cache(maxsize=50_000)(self._resolve)

    def in_answer_only(self, tid: int, e: int) -> bool:
        """Whether entry ``e`` has term ``tid`` in its answer but not in its questions."""
        row = self.answer_only[e]
        i = bisect_left(row, tid)
        return i < len(row) and row[i] == tid

    def term_units(self, e: int, wanted: Mapping[int, object]) -> dict[int, list[int]]:
        """Entry ``e``'s units containing each of the ``wanted`` terms."""
        out: dict[int, list[int]] = {}
        units = self.units
        for u in self.entry_units[e]:
            for tid in units[u]:
                if tid in wanted:
                    out.setdefault(tid, []).append(u)
        return out

    # ---------------------------------------------------------------------------------------

    def _resolve(self, token: str) -> Resolved:
        """Read one normalised message word against the index (see the module docstring)."""
        cfg = self.config
        key = term_of(token)
        stop = key in self.stop_keys and token not in self.named
        found: dict[int, float] = {}
        tid = self.term_ids.get(key)
        if tid is not None:
            found[tid] = 1.0
        for other_tid in self.by_stem.get(stem(key), ()):
            found.setdefault(other_tid, cfg.stem_strength)
        if len(key) >= 4 and not key.isdigit():
            for other in self.by_prefix.get(key[:4], ()):
                if other != key and extends(key, other):
                    found.setdefault(self.term_ids[other], cfg.prefix_strength)
        if tid is None and not stop and not key.isdigit():
            skel = skeleton(token)
            if len(skel) >= cfg.fuzzy_min_length:
                max_edits = 1 if len(skel) < cfg.fuzzy_two_edits_length else 2
                choices, keys = self.fuzzy_buckets.get(skel[0], ((), ()))
                for _, distance, i in process.extract(
                    skel, choices, scorer=OSA.distance, score_cutoff=max_edits, limit=4
                ):
                    other_tid = self.term_ids[keys[i]]
                    strength = max(0.0, 1.0 - cfg.fuzzy_edit_cost * distance / len(skel))
                    if strength > found.get(other_tid, 0.0):
                        found[other_tid] = strength
        if found:
            matches = tuple(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))
            best, strength = matches[0]
            weight = self.term_weight[best]
            if not stop and strength < 1.0:
                # An approximate reading is only partly trusted: the rest counts as unknown.
                weight = (
                    strength * weight + (1.0 - strength) * cfg.unknown_word_weight * self.max_idf
                )
        elif stop:
            matches, weight = (), cfg.stop_word_factor * self.max_idf * 0.2
        elif key.isdigit():
            matches, weight = (), cfg.unknown_number_weight * self.max_idf
        else:
            matches, weight = (), cfg.unknown_word_weight * self.max_idf
        return Resolved(matches, weight, stop)
