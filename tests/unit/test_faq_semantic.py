"""The semantic reader (:mod:`faq.semantic`): entry texts, the index and its cache, the weight
a message gets, the blend, and the matcher's hook -- with a small deterministic encoder in
place of the packaged model (the encoder is the edge; everything around it is real)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from faq import load_matcher
from faq.content import load_knowledge_base
from faq.matcher import Matcher
from faq.reading import read
from faq.semantic import (
    DEFAULT_SEMANTIC,
    SemanticConfig,
    blend,
    build_semantic_index,
    entry_texts,
    rescore,
    semantic_weight,
)
from tests.doubles.faq_synthetic_kb import write_kb

# A toy "meaning": concepts spotted by word stems in any language, one axis each, plus a
# small hashed tail so that unrelated texts are not all identical.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "doctor": ("лікар", "врач", "lekarz", "doctor", "хвор", "болит", "ill", "sick", "symptom"),
    "bank": ("банк", "рахун", "счет", "konto", "bank", "account", "гроші", "money"),
    "pesel": ("песель", "pesel", "номер", "number"),
}
DIM = len(CONCEPTS) + 8


def toy_encode(texts: Sequence[str]) -> np.ndarray:
    rows = []
    for text in texts:
        low = text.lower()
        v = np.zeros(DIM, dtype=np.float32)
        for axis, stems in enumerate(CONCEPTS.values()):
            v[axis] = sum(low.count(s) for s in stems)
        v[len(CONCEPTS) + sum(map(ord, low)) % 8] += 0.3
        rows.append(v / (np.linalg.norm(v) or 1.0))
    return np.stack(rows)


class CountingEncoder:
    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        return toy_encode(texts)


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kb(tmp_path_factory.mktemp("kb"))


def test_entry_texts_cover_titles_questions_and_aliases(kb_dir: Path) -> None:
    kb = load_knowledge_base(kb_dir)
    texts, owners = entry_texts(kb)
    assert len(texts) == len(owners)
    ids = list(kb.entries)
    doctor = [t for t, o in zip(texts, owners, strict=True) if ids[o] == "doctor-visit"]
    assert "Family doctor" in doctor  # a title
    assert "як записатися до сімейного лікаря" in doctor  # a question
    assert "e-recepta" in doctor  # an alias of four letters or more
    assert "POZ" not in doctor  # too short to carry meaning
    assert len({t.lower() for t in doctor}) == len(doctor)  # no duplicates


def test_index_scores_each_entry_by_its_best_text(kb_dir: Path, tmp_path: Path) -> None:
    kb = load_knowledge_base(kb_dir)
    index = build_semantic_index(kb, toy_encode, "toy", cache_dir=tmp_path)
    scores = index.scores("мені погано, болить голова, треба до лікаря")
    assert scores.shape == (len(kb.entries),)
    assert index.entry_ids[int(np.argmax(scores))] == "doctor-visit"
    assert all(-1.0 <= s <= 1.0 + 1e-6 for s in scores)


def test_entry_embeddings_are_cached_by_model_and_texts(kb_dir: Path, tmp_path: Path) -> None:
    kb = load_knowledge_base(kb_dir)
    first = CountingEncoder()
    a = build_semantic_index(kb, first, "toy", cache_dir=tmp_path)
    assert first.calls == 1 and first.texts == a.matrix.shape[0]
    second = CountingEncoder()
    b = build_semantic_index(kb, second, "toy", cache_dir=tmp_path)
    assert second.calls == 0  # read from disk
    np.testing.assert_allclose(a.matrix, b.matrix)
    other = CountingEncoder()
    build_semantic_index(kb, other, "another-model", cache_dir=tmp_path)
    assert other.calls == 1  # another model never reuses these vectors


def test_a_corrupt_cache_is_rebuilt(kb_dir: Path, tmp_path: Path) -> None:
    kb = load_knowledge_base(kb_dir)
    build_semantic_index(kb, toy_encode, "toy", cache_dir=tmp_path)
    for f in tmp_path.glob("semantic-*.npy"):
        f.write_bytes(b"not an array")
    again = CountingEncoder()
    index = build_semantic_index(kb, again, "toy", cache_dir=tmp_path)
    assert again.calls == 1 and index.matrix.shape[0] == len(entry_texts(kb)[0])


def test_weight_by_length_and_noise() -> None:
    cfg = SemanticConfig(min_tokens=4, long_tokens=9, weight=0.3, weight_long=0.6)
    assert semantic_weight(2, False, cfg) == 0.0  # keywords, fragments: words decide
    assert semantic_weight(5, True, cfg) == 0.0  # wrong layout: the encoder cannot read it
    assert semantic_weight(5, False, cfg) == 0.3
    assert semantic_weight(12, False, cfg) == 0.6


def test_blend_mixes_scores_and_can_add_an_entry() -> None:
    cfg = SemanticConfig(cos_low=0.5, cos_high=1.0, extra_candidates=1, rerank_only=False)
    lexical = [(0, 0.6), (1, 0.5)]
    cosines = np.array([0.5, 0.75, 1.0], dtype=np.float32)  # -> 0, 0.5, 1 after mapping
    mixed = dict(blend(lexical, cosines, 0.5, cfg))
    assert mixed[0] == pytest.approx(0.3)
    assert mixed[1] == pytest.approx(0.5)
    assert mixed[2] == pytest.approx(0.5)  # found by meaning only
    assert blend(lexical, cosines, 0.0, cfg) == lexical  # no weight: untouched
    assert all(not math.isnan(s) for _, s in mixed.items())
    ranked = blend(lexical, cosines, 0.5, cfg)
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_rescore_leaves_short_messages_to_the_lexical_reader(kb_dir: Path) -> None:
    kb = load_knowledge_base(kb_dir)
    counting = CountingEncoder()
    index = build_semantic_index(kb, counting, "toy", cache_dir=None)
    counting.calls = 0
    matcher = load_matcher(kb_dir)
    reading = read("песель", matcher.index.lexicon)
    lexical = [(0, 0.9)]
    assert rescore(index, "песель", reading, lexical) == lexical
    assert counting.calls == 0  # no encoder call for a one-word message


def test_matcher_hook_blends_meaning_for_long_messages(kb_dir: Path, tmp_path: Path) -> None:
    kb = load_knowledge_base(kb_dir)
    lexical = load_matcher(kb_dir)
    index = build_semantic_index(kb, toy_encode, "toy", cache_dir=tmp_path)
    mix = SemanticConfig(rerank_only=False, cos_low=0.0, cos_high=1.0)
    semantic = Matcher(kb, lexical.config, dataclasses.replace(index, config=mix))
    story = "у мене з ранку висока температура і сильно болить горло, я зовсім хвора"
    plain = lexical.match(story)
    read_by_meaning = semantic.match(story)
    assert not plain.candidates or plain.candidates[0].entry_id != "doctor-visit"
    assert read_by_meaning.candidates[0].entry_id == "doctor-visit"
    # Short and keyword messages are unchanged by the hook.
    for text in ("песель", "meldunek", "800+"):
        assert semantic.match(text).candidates == lexical.match(text).candidates


def test_default_matcher_is_lexical(kb_dir: Path) -> None:
    assert DEFAULT_SEMANTIC.weight > 0
    assert load_matcher(kb_dir).semantic is None


def test_rerank_only_reorders_and_never_lifts() -> None:
    cfg = SemanticConfig(cos_low=0.5, cos_high=1.0, rerank_only=True)
    lexical = [(0, 0.6), (1, 0.55)]
    cosines = np.array([0.5, 1.0, 1.0], dtype=np.float32)
    ranked = blend(lexical, cosines, 0.5, cfg)
    assert [e for e, _ in ranked] == [1, 0]  # meaning put entry 1 first
    assert dict(ranked)[1] == pytest.approx(0.55)  # full agreement keeps the lexical score
    assert dict(ranked)[0] == pytest.approx(0.3)  # disagreement lowers it
    assert 2 not in dict(ranked)  # nothing the lexical reader did not find


def test_relative_rerank_keeps_the_score_of_the_entry_meaning_prefers() -> None:
    cfg = SemanticConfig(cos_low=0.0, cos_high=1.0, rerank_only=True, relative_floor=0.5)
    lexical = [(0, 0.6), (1, 0.55)]
    # the shortlist's best meaning (0.8) is above the floor: it becomes the yardstick
    ranked = dict(blend(lexical, np.array([0.4, 0.8], dtype=np.float32), 0.5, cfg))
    assert ranked[1] == pytest.approx(0.55)  # meaning's choice keeps its lexical score
    assert ranked[0] == pytest.approx(0.6 * (0.5 + 0.5 * 0.5))
    # nothing reads well (best 0.2 < floor 0.5): every score falls, as with the absolute mix
    low = dict(blend(lexical, np.array([0.1, 0.2], dtype=np.float32), 0.5, cfg))
    assert low[1] == pytest.approx(0.55 * (0.5 + 0.5 * 0.4))
    assert low[0] == pytest.approx(0.6 * (0.5 + 0.5 * 0.2))
