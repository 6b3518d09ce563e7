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
import re
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, pairwise, repeat

import numpy as np
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


_PLUS_ACROSS = re.compile(r"\d\s+\+")


def _answer_chunks(text: str) -> set[str]:
    """The distinct white-space chunks of an answer, as written.

    Normalisation is local to a chunk (case, Unicode forms, apostrophes, invisible and
    control characters never cross white space), so a chunk's tokens are the same read
    alone or in the text -- except ``800 +`` (``800 plus``), read with the whole text.
    """
    if "+" in text and _PLUS_ACROSS.search(text):
        return set(normalize(text, bounded=False).split())
    return set(text.split())


def _blob(strings: Iterable[str]) -> np.ndarray:
    """Strings as one NUL-joined UTF-8 byte array (a count of strings first)."""
    items = list(strings)
    data = "\x00".join(items).encode("utf-8")
    return np.frombuffer(len(items).to_bytes(8, "little") + data, dtype=np.uint8)


def _strings(blob: np.ndarray) -> list[str]:
    raw = blob.tobytes()
    count = int.from_bytes(raw[:8], "little")
    items = raw[8:].decode("utf-8").split("\x00") if count else []
    if len(items) != count:
        raise ValueError(f"{len(items)} strings where {count} were written")
    return items


def _interned(values: np.ndarray, objects: tuple[int, ...]) -> list[int]:
    """``values`` as the shared int objects of ``objects`` (converted a slice at a time, so
    no second list of millions of ints exists at once); ``IndexError`` if out of range."""
    if len(values) and int(values.min()) < 0:
        raise IndexError("a negative id")
    out: list[int] = []
    get = objects.__getitem__
    for start in range(0, len(values), 1 << 16):
        out.extend(map(get, values[start : start + (1 << 16)].tolist()))
    return out


def _ints(values: Iterable[int]) -> np.ndarray:
    return np.fromiter(values, dtype=np.int32)


def _postings(
    offsets: list[int], entries: np.ndarray, counts: np.ndarray, n_entries: int
) -> list[dict[int, int]]:
    """Term -> {entry: count} dicts from flat arrays (term ``t``: ``offsets[t]:offsets[t + 1]``).

    One int object per entry, shared by every posting (as a loop would): millions of
    separate ints would cost ~150 MB more at 10,000 entries.
    """
    shared = _interned(entries, tuple(range(n_entries)))
    small = counts.tolist()  # small: CPython shares them already
    return [dict(zip(shared[a:b], small[a:b], strict=True)) for a, b in pairwise(offsets)]


def _offsets(lengths: Iterable[int]) -> np.ndarray:
    """Start of each row in a flat array, and the end of the last (CSR offsets)."""
    out = np.zeros(1, dtype=np.int64)
    return np.concatenate([out, np.cumsum(np.fromiter(lengths, dtype=np.int64))])


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


#: Function words per language: the stop words and the frame of a formal question.
FUNCTION_WORDS = {lang: STOP_WORDS[lang] + FRAMING_WORDS.get(lang, "") for lang in LANGS}


#: The surface function words, and their index terms.
_FUNCTION_SURFACES = frozenset(t for text in FUNCTION_WORDS.values() for t in words(text))
_FUNCTION_TERMS = frozenset(map(term_of, _FUNCTION_SURFACES))


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
        # Postings (term -> {entry: units containing it}) as flat (term, entry, count)
        # columns, grouped by term once at the end: three C-level appends per entry instead
        # of a dict store per (term, entry).
        post_terms, post_entries, post_counts = array("i"), array("i"), array("i")
        answer_df: Counter[int] = Counter()  # term -> entries with it only in the answer
        answer_only: list[array[int]] = []  # entry -> its answer-only terms, ascending
        units: list[tuple[int, ...]] = []
        unit_langs: list[str | None] = []
        entry_units: list[range] = []
        surface: dict[str, str] = {}  # skeleton -> key (fuzzy correction vocabulary)
        token_tid: dict[str, int] = {}  # normalised word -> term id (each word read once)
        # Words of 3+ letters in the titles and aliases of exactly one entry that are not
        # function words but share a function word's key ("Diia"/"Дія" and "да"): as that
        # name such a word is no function word (``Index.named``).
        function_like: set[str] = set()  # words whose term is a function word's
        name_owners: dict[str, set[int]] = defaultdict(set)

        def learn(tokens: set[str]) -> None:
            # In sorted order, not the set's: term ids (and the tie-breaks between equally
            # strong readings that follow them) must not depend on the process's hash seed.
            for token in sorted(tokens.difference(token_tid)):
                key = term_of(token)
                tid = term_ids.get(key)
                if tid is None:
                    tid = term_ids[key] = len(term_ids)
                token_tid[token] = tid
                surface.setdefault(skeleton(token), key)
                if key in _FUNCTION_TERMS and len(token) >= 3:
                    function_like.add(token)

        tid_of = token_tid.__getitem__
        # Answers are long and share most words: each distinct white-space chunk
        # (``**PESEL**,``) is tokenised once for the whole build, and an answer is then the
        # union of its chunks' term sets; a language's lexicon takes only the chunks it has
        # not seen yet.
        chunk_tokens: dict[str, frozenset[str]] = {}
        chunk_tids: dict[str, frozenset[int]] = {}
        lexicon_chunks: dict[str, set[str]] = {lang: set() for lang in LANGS}
        for e, entry in enumerate(kb.entries.values()):
            texts = [entry.title.get(lg) for lg in LANGS] + list(entry.aliases)
            heads = len(texts)
            unit_lang: list[str | None] = [None] * len(texts)
            by_lang: list[tuple[str, int, int]] = []
            for lang, questions in entry.questions.items():
                by_lang.append((lang, len(texts), len(texts) + len(questions)))
                texts += questions
                unit_lang += [lang] * len(questions)
            pieces = _unit_words(texts)
            learn(set().union(*pieces))
            heads_words = function_like.intersection(chain.from_iterable(pieces[:heads]))
            for token in heads_words - _FUNCTION_SURFACES:
                name_owners[token].add(e)
            for lang, start, stop in by_lang:
                self.lexicon.add(lang, set().union(*pieces[start:stop]))
            first = len(units)
            for i, ws in enumerate(pieces):
                if ws:
                    units.append(tuple(dict.fromkeys(map(tid_of, ws))))
                    unit_langs.append(unit_lang[i])
            entry_units.append(range(first, len(units)))
            counts = Counter(chain.from_iterable(units[first:]))
            post_terms.extend(counts)
            post_counts.extend(counts.values())
            post_entries.extend(repeat(e, len(counts)))
            in_answers: set[int] = set()
            for lang in LANGS:
                chunks = _answer_chunks(entry.answer.get(lang))
                new_chunks = chunks.difference(chunk_tids)
                if new_chunks:
                    for chunk in new_chunks:
                        chunk_tokens[chunk] = frozenset(words(chunk))
                    learn(set().union(*map(chunk_tokens.__getitem__, new_chunks)))
                    for chunk in new_chunks:
                        chunk_tids[chunk] = frozenset(map(tid_of, chunk_tokens[chunk]))
                unseen = chunks.difference(lexicon_chunks[lang])
                if unseen:
                    lexicon_chunks[lang].update(unseen)
                    self.lexicon.add(lang, set().union(*map(chunk_tokens.__getitem__, unseen)))
                in_answers.update(*map(chunk_tids.__getitem__, chunks))
            only = in_answers.difference(counts)
            answer_df.update(only)
            answer_only.append(array("i", sorted(only)))

        n = len(self.entry_ids)
        terms = np.frombuffer(post_terms, dtype=np.int32)
        by_term = np.argsort(terms, kind="stable")  # within a term, entries stay in order
        post_offsets = np.searchsorted(terms[by_term], np.arange(len(term_ids) + 1)).tolist()
        strong = _postings(
            post_offsets,
            np.frombuffer(post_entries, dtype=np.int32)[by_term],
            np.frombuffer(post_counts, dtype=np.int32)[by_term],
            n,
        )
        del terms, by_term, post_terms, post_entries, post_counts
        idf: list[float] = []
        for tid in range(len(term_ids)):
            df = len(strong[tid]) + config.answer_df_weight * answer_df[tid]
            idf.append(math.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        self._setup(
            tuple(term_ids),
            strong,
            tuple(answer_only),
            units,
            unit_langs,
            entry_units,
            tuple(idf),
            surface,
            named=frozenset(t for t, owners in name_owners.items() if len(owners) == 1),
        )

    def _setup(
        self,
        keys: tuple[str, ...],
        postings: list[dict[int, int]],
        answer_only: tuple[array[int], ...],
        units: list[tuple[int, ...]],
        unit_langs: list[str | None],
        entry_units: list[range],
        idf: tuple[float, ...],
        surface: Mapping[str, str],
        stems: list[str] | None = None,
        unit_norm: tuple[float, ...] | None = None,
        *,
        named: frozenset[str],
    ) -> None:
        """Everything derived from what the build reads (shared by :meth:`from_arrays`)."""
        config = self.config
        for lang, text in FUNCTION_WORDS.items():
            self.lexicon.add(lang, words(text))
        self.lexicon.freeze()
        self.stop_keys = _FUNCTION_TERMS
        self.named = named  # the build keeps only words whose key is a function word's
        """Surface words that name an entry although their key is a function word's."""

        n = len(self.entry_ids)
        self.keys = keys
        self.term_ids = {key: tid for tid, key in enumerate(keys)}
        self.max_idf = math.log(1.0 + (n - 0.5) / 1.5) if n > 1 else 1.0
        self.idf = idf
        self.term_weight = tuple(
            w * (config.stop_word_factor if key in self.stop_keys else 1.0)
            for w, key in zip(idf, keys, strict=True)
        )

        # Entry postings: term -> {entry: units containing it} for questions/aliases/title
        # (``tf_factor[count]`` is the field factor), and per entry its answer-only terms.
        base, k = config.centrality_base, config.centrality_k
        max_tf = max((max(row.values()) for row in postings if row), default=1)
        self.tf_factor: tuple[float, ...] = tuple(
            base + (1 - base) * tf / (tf + k) for tf in range(max_tf + 1)
        )
        self.postings: tuple[dict[int, int], ...] = tuple(postings)
        self.answer_only: tuple[array[int], ...] = answer_only
        self.units = tuple(units)
        self.unit_langs = tuple(unit_langs)
        self.unit_is_question = tuple(lang is not None for lang in unit_langs)
        """Questions are sentences; titles and aliases are keywords (scored differently)."""
        if unit_norm is None:
            weight_of = self.term_weight.__getitem__
            unit_norm = tuple(sum(map(weight_of, tids)) or 1.0 for tids in units)
        self.unit_norm = unit_norm
        self.entry_units = tuple(entry_units)

        by_stem: dict[str, list[int]] = defaultdict(list)
        for tid, key_stem in enumerate(stems if stems is not None else map(stem, keys)):
            by_stem[key_stem].append(tid)
        self.by_stem = {k: tuple(v) for k, v in by_stem.items()}
        """Heavy stem -> terms (``pesel``/``pesela``, ``otrimat``/``otrimav``: one word)."""
        by_prefix: dict[str, list[str]] = defaultdict(list)
        for key in keys:
            if len(key) >= 4 and not key.isdigit():
                by_prefix[key[:4]].append(key)
        self.by_prefix = {p: tuple(v) for p, v in by_prefix.items()}
        self.surface = surface
        """Skeleton -> key of every known word, in the order first read (fuzzy vocabulary)."""
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

    # --- a plain, pickle-free form for an on-disk cache (faq.index_cache) -----------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The index as flat numpy arrays: what :meth:`from_arrays` needs, nothing derived
        that is cheap to derive again. Strings are NUL-joined UTF-8."""
        postings = self.postings
        counts = [len(row) for row in postings]
        out: dict[str, np.ndarray] = {
            "entry_ids": _blob(self.entry_ids),
            "keys": _blob(self.keys),
            "stems": _blob(map(stem, self.keys)),
            "idf": np.asarray(self.idf, dtype=np.float64),
            "post_offsets": _offsets(counts),
            "post_entries": _ints(chain.from_iterable(postings)),
            "post_counts": _ints(chain.from_iterable(row.values() for row in postings)),
            "answer_offsets": _offsets(map(len, self.answer_only)),
            "answer_terms": _ints(chain.from_iterable(self.answer_only)),
            "unit_offsets": _offsets(map(len, self.units)),
            "unit_terms": _ints(chain.from_iterable(self.units)),
            "unit_langs": np.asarray(
                [-1 if lg is None else LANGS.index(lg) for lg in self.unit_langs], dtype=np.int8
            ),
            "unit_norm": np.asarray(self.unit_norm, dtype=np.float64),
            "entry_unit_offsets": _offsets(len(r) for r in self.entry_units),
            "surface_skeletons": _blob(self.surface),
            "surface_keys": _blob(self.surface.values()),
            "named": _blob(sorted(self.named)),
        }
        for lang in LANGS:
            # sorted: the same index makes the same file, whatever the hash seed
            out[f"words_{lang}"] = _blob(sorted(self.lexicon.words[lang]))
            out[f"skeletons_{lang}"] = _blob(sorted(self.lexicon.skeletons[lang]))
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], config: MatcherConfig) -> Index:
        """The index :meth:`to_arrays` wrote (raises ``ValueError``/``KeyError`` on arrays
        that do not fit together: the cache treats that as a corrupt file)."""
        self = cls.__new__(cls)
        self.config = config
        self.entry_ids = tuple(_strings(arrays["entry_ids"]))
        self.entry_number = {entry_id: e for e, entry_id in enumerate(self.entry_ids)}
        keys = tuple(_strings(arrays["keys"]))
        stems = _strings(arrays["stems"])
        idf = tuple(arrays["idf"].tolist())
        post_offsets = arrays["post_offsets"].tolist()
        post_entries, post_counts = arrays["post_entries"], arrays["post_counts"]
        if not len(keys) == len(stems) == len(idf) == len(post_offsets) - 1:
            raise ValueError("term arrays of different lengths")
        if post_offsets[-1] != len(post_entries) or len(post_entries) != len(post_counts):
            raise ValueError("postings do not add up")
        # One int object per entry and per term, shared by every posting and unit (as in a
        # build): millions of separate ints would cost ~150 MB more at 10,000 entries.
        tid_objs = tuple(range(len(keys)))
        postings = _postings(post_offsets, post_entries, post_counts, len(self.entry_ids))
        flat = array("i")
        flat.frombytes(arrays["answer_terms"].astype(np.int32).tobytes())
        answer_only = tuple(flat[a:b] for a, b in pairwise(arrays["answer_offsets"].tolist()))
        del flat
        unit_terms = _interned(arrays["unit_terms"], tid_objs)
        units = [tuple(unit_terms[a:b]) for a, b in pairwise(arrays["unit_offsets"].tolist())]
        del unit_terms
        langs: tuple[str | None, ...] = (*LANGS, None)  # code -1 is None
        unit_langs = [langs[code] for code in arrays["unit_langs"].tolist()]
        unit_norm = tuple(arrays["unit_norm"].tolist())
        entry_units = [range(a, b) for a, b in pairwise(arrays["entry_unit_offsets"].tolist())]
        if (
            not len(units) == len(unit_langs) == len(unit_norm)
            or len(entry_units) != len(self.entry_ids)
            or len(answer_only) != len(self.entry_ids)
        ):
            raise ValueError("unit arrays of different lengths")
        skeletons = _strings(arrays["surface_skeletons"])
        key_objs = dict(zip(keys, keys, strict=True))
        surface_keys = [key_objs[k] for k in _strings(arrays["surface_keys"])]
        if len(skeletons) != len(surface_keys):
            raise ValueError("surface arrays of different lengths")
        self.lexicon = Lexicon()
        for lang in LANGS:
            self.lexicon.words[lang] = set(_strings(arrays[f"words_{lang}"]))
            self.lexicon.skeletons[lang] = set(_strings(arrays[f"skeletons_{lang}"]))
        self._setup(
            keys,
            postings,
            answer_only,
            units,
            unit_langs,
            entry_units,
            idf,
            dict(zip(skeletons, surface_keys, strict=True)),
            stems,
            unit_norm,
            named=frozenset(_strings(arrays["named"])),
        )
        return self

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
