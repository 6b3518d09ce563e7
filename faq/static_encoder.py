"""A static multilingual sentence encoder: multilingual-e5-small distilled into a token table.

The model2vec recipe (``benchmarks/distil_static.py`` rebuilds the table): the full model
was run once on every subword token of its tokenizer that occurs in Ukrainian, Russian,
Polish and English words (simplemma's dictionaries, wordfreq's lists, the knowledge base),
each token alone between ``<s>`` and ``</s>``; the outputs at the token were reduced with
PCA (256 dims) and are stored as int8 rows with a scale each. A message is embedded as the weighted
mean of its tokens' rows (SIF weights from the tokenizer's own unigram probabilities: a
frequent piece counts little), L2-normalised. No network, no model at run time: one
``.npz`` under ``faq/data/`` and numpy.

The tokenizer is XLM-RoBERTa's SentencePiece unigram model (the pieces and scores of the
Latin, Cyrillic, digit and punctuation part of its vocabulary, with its per-character
normalisation map), read here word by word with the same Viterbi search the model uses.
Because no piece spans a word boundary, word-by-word search gives the model's own
segmentation, and a cache of words makes it cheap.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_TABLE = Path(__file__).resolve().parent / "data" / "e5-static.npz"
META = "\u2581"
"""SentencePiece's word-start marker."""


class StaticEncoder:
    """Texts in, one L2-normalised float32 row per text out (``faq.semantic.Encoder``)."""

    def __init__(self, path: Path | str = DEFAULT_TABLE, sif: float | None = None) -> None:
        raw = Path(path).read_bytes()
        self.digest = hashlib.sha256(raw).hexdigest()[:16]
        """Names this table in caches of vectors made with it."""
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            blob = data["piece_bytes"].tobytes()
            scores = data["piece_scores"].astype(np.float64)
            rows = data["piece_rows"].astype(np.int64)
            self.vectors: np.ndarray = data["vectors"]
            """``(n_rows, dim)`` int8; row ``r`` is ``vectors[r] * scales[r]``."""
            self.scales: np.ndarray = data["scales"].astype(np.float32)
            self.meta: dict[str, Any] = json.loads(str(data["meta"]))
            norm_from = data["norm_from"].tolist()
            norm_offsets = data["norm_offsets"].tolist()
            norm_to = data["norm_to"].tolist()
        texts = blob.decode("utf-8").split("\x00")
        if len(texts) != len(scores) or len(rows) != len(scores):
            raise ValueError(f"{path}: {len(texts)} pieces for {len(scores)} scores")
        self.pieces: dict[str, tuple[float, int]] = dict(
            zip(texts, zip(scores.tolist(), rows.tolist(), strict=True), strict=True)
        )
        self.max_piece = max(map(len, texts))
        self.unk_score = float(scores.min()) - 10.0
        self.normal: dict[str, str] = {
            chr(cp): "".join(chr(c) for c in norm_to[norm_offsets[i] : norm_offsets[i + 1]])
            for i, cp in enumerate(norm_from)
        }
        # SIF: a / (a + p(piece)), p from the unigram model's log-probability; the weight
        # is folded into the row's scale (the mean's denominator does not survive L2).
        a = float(self.meta["sif"]) if sif is None else sif
        has_row = rows >= 0
        sif_weights = np.ones(len(self.vectors), dtype=np.float64)
        sif_weights[rows[has_row]] = a / (a + np.exp(scores[has_row]))
        self.weights = (self.scales * sif_weights).astype(np.float32)
        self.dim = int(self.vectors.shape[1])
        self._word = lru_cache(maxsize=65536)(self._word_rows)

    # --- tokenizer -------------------------------------------------------------------------

    def normalise(self, text: str) -> str:
        normal = self.normal
        if any(ch in normal for ch in text):
            text = "".join(normal.get(ch, ch) for ch in text)
        return text

    def pieces_of(self, text: str) -> list[str]:
        """The model's pieces for ``text`` (``<unk>`` for characters outside the table)."""
        out: list[str] = []
        for word in self.normalise(text).split():
            out.extend(self._viterbi(META + word))
        return out

    def _viterbi(self, word: str) -> list[str]:
        n = len(word)
        best = [-math.inf] * (n + 1)
        back: list[tuple[int, str | None]] = [(0, None)] * (n + 1)
        best[0] = 0.0
        pieces, max_piece, unk = self.pieces, self.max_piece, self.unk_score
        for i in range(n):
            here = best[i]
            if here == -math.inf:
                continue
            for j in range(i + 1, min(n, i + max_piece) + 1):
                found = pieces.get(word[i:j])
                if found is not None and here + found[0] > best[j]:
                    best[j] = here + found[0]
                    back[j] = (i, word[i:j])
            if here + unk > best[i + 1]:
                best[i + 1] = here + unk
                back[i + 1] = (i, None)
        out: list[str] = []
        j = n
        while j > 0:
            i, piece = back[j]
            out.append(piece if piece is not None else "<unk>")
            j = i
        out.reverse()
        return out

    def _word_rows(self, word: str) -> tuple[int, ...]:
        # a bare word-start marker (before characters the table cannot read) means nothing
        rows = (self.pieces.get(p, (0.0, -1))[1] for p in self._viterbi(META + word) if p != META)
        return tuple(r for r in rows if r >= 0)

    # --- encoder ---------------------------------------------------------------------------

    def rows(self, text: str) -> list[int]:
        out: list[int] = []
        for word in self.normalise(text).split():
            out.extend(self._word(word))
        return out

    def embed(self, text: str) -> np.ndarray:
        rows = self.rows(text)
        if not rows:
            return np.zeros(self.dim, dtype=np.float32)
        v = self.weights[rows] @ self.vectors[rows].astype(np.float32)
        norm = float(np.linalg.norm(v))
        return v / norm if norm > 0.0 else v

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self.embed(text)
        return out
