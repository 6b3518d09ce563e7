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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from faq.config import MatcherConfig
from faq.content import KnowledgeBase
from faq.languages import LANGS
from faq.lexicon import STOP_WORDS
from faq.text import skeleton, stem, term_of, words


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


class Lexicon:
    """Surface words and skeletons per language: for layout repair and language detection."""

    def __init__(self) -> None:
        self.words: dict[str, set[str]] = {lang: set() for lang in LANGS}
        self.skeletons: dict[str, set[str]] = {lang: set() for lang in LANGS}

    def add(self, lang: str, tokens: Iterable[str]) -> None:
        for token in tokens:
            if token.isdigit() or len(token) < 2:
                continue
            self.words[lang].add(token)
            self.skeletons[lang].add(skeleton(token))

    def freeze(self) -> None:
        self.cyrillic_skeletons = frozenset(self.skeletons["uk"] | self.skeletons["ru"])
        self.latin_words = frozenset(self.words["pl"] | self.words["en"])
        self.all_skeletons = frozenset().union(*self.skeletons.values())


class Index:
    """Inverted index over entries (candidate generation) and units (reranking)."""

    def __init__(self, kb: KnowledgeBase, config: MatcherConfig) -> None:
        self.config = config
        self.entry_ids: tuple[str, ...] = tuple(kb.entries)
        self.lexicon = Lexicon()
        term_ids: dict[str, int] = {}
        strong: list[dict[int, int]] = []  # term -> {entry: units containing it}
        weak: list[set[int]] = []  # term -> entries whose answer contains it
        units: list[tuple[int, tuple[int, ...]]] = []
        unit_langs: list[str | None] = []
        entry_units: list[list[int]] = []
        surface: dict[str, str] = {}  # skeleton -> key (fuzzy correction vocabulary)

        def term(key: str) -> int:
            tid = term_ids.get(key)
            if tid is None:
                tid = term_ids[key] = len(term_ids)
                strong.append({})
                weak.append(set())
            return tid

        for e, entry in enumerate(kb.entries.values()):
            texts: list[tuple[str | None, str]] = [(None, entry.title.get(lg)) for lg in LANGS]
            texts += [(None, alias) for alias in entry.aliases]
            for lang, questions in entry.questions.items():
                texts += [(lang, q) for q in questions]
                self.lexicon.add(lang, (t for q in questions for t in words(q)))
            mine: list[int] = []
            for unit_lang, text in texts:
                tokens = words(text)
                tids = tuple(dict.fromkeys(term(term_of(t)) for t in tokens))
                if not tids:
                    continue
                for t in tokens:
                    surface.setdefault(skeleton(t), term_of(t))
                for tid in tids:
                    strong[tid][e] = strong[tid].get(e, 0) + 1
                mine.append(len(units))
                units.append((e, tids))
                unit_langs.append(unit_lang)
            entry_units.append(mine)
            for lang in LANGS:
                tokens = words(entry.answer.get(lang))
                self.lexicon.add(lang, tokens)
                for t in tokens:
                    weak[term(term_of(t))].add(e)
                    surface.setdefault(skeleton(t), term_of(t))

        for lang, text in STOP_WORDS.items():
            self.lexicon.add(lang, words(text))
        self.lexicon.freeze()
        self.stop_keys = frozenset(term_of(t) for text in STOP_WORDS.values() for t in words(text))

        n = len(self.entry_ids)
        self.term_ids = term_ids
        self.keys: tuple[str, ...] = tuple(term_ids)
        idf: list[float] = []
        for tid in range(len(term_ids)):
            only_weak = len(weak[tid] - strong[tid].keys())
            df = len(strong[tid]) + config.answer_df_weight * only_weak
            idf.append(math.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        self.max_idf = math.log(1.0 + (n - 0.5) / 1.5) if n > 1 else 1.0
        self.idf = tuple(idf)
        self.term_weight = tuple(
            w * (config.stop_word_factor if key in self.stop_keys else 1.0)
            for w, key in zip(idf, self.keys, strict=True)
        )

        # Entry postings: term -> {entry: field factor} for questions/aliases/title, and the
        # entries that have the term only in their answer.
        base, k = config.centrality_base, config.centrality_k
        self.postings: tuple[dict[int, float], ...] = tuple(
            {e: base + (1 - base) * tf / (tf + k) for e, tf in row.items()} for row in strong
        )
        self.answer_only: tuple[frozenset[int], ...] = tuple(
            frozenset(w - s.keys()) for w, s in zip(weak, strong, strict=True)
        )
        self.units = tuple(units)
        self.unit_langs = tuple(unit_langs)
        self.unit_is_question = tuple(lang is not None for lang in unit_langs)
        """Questions are sentences; titles and aliases are keywords (scored differently)."""
        self.unit_terms = tuple(frozenset(tids) for _, tids in units)
        self.unit_norm = tuple(sum(self.term_weight[t] for t in tids) or 1.0 for _, tids in units)
        self.entry_units = tuple(tuple(u) for u in entry_units)
        entry_term_units: list[dict[int, tuple[int, ...]]] = []
        for mine in entry_units:
            by_term: dict[int, list[int]] = {}
            for u in mine:
                for tid in units[u][1]:
                    by_term.setdefault(tid, []).append(u)
            entry_term_units.append({tid: tuple(us) for tid, us in by_term.items()})
        self.entry_term_units = tuple(entry_term_units)
        """Per entry: term -> its units containing the term (reranking touches only those)."""

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

    # ---------------------------------------------------------------------------------------

    def _resolve(self, token: str) -> Resolved:
        """Read one normalised message word against the index (see the module docstring)."""
        cfg = self.config
        key = term_of(token)
        stop = key in self.stop_keys
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
