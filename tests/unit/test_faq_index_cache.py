"""The on-disk index cache (faq.index_cache): used when valid, rebuilt when not, never a
different answer."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

import faq.index_cache as index_cache
from faq import DEFAULT_CONFIG, Matcher, load_matcher
from faq.content import load_knowledge_base
from faq.index import Index
from faq.index_cache import cache_file, cached_index
from tests.doubles.faq_synthetic_kb import write_kb

ROOT = Path(__file__).resolve().parents[2]
EVAL_SETS = [
    ROOT / "tests" / "data" / "eval_sample.jsonl",
    ROOT.parent / "shared" / "eval" / "dev.jsonl",
]


def only_file(cache_dir: Path) -> Path:
    (path,) = cache_dir.glob("faq-index-*.npz")
    return path


def no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, building an index fails the test: only reading the cache may work."""

    def refuse(self: Index, *args: object) -> None:
        raise AssertionError("the index was built, not read from the cache")

    monkeypatch.setattr(Index, "__init__", refuse)


def texts(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def real_cold_and_warm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Matcher, Matcher]:
    cache_dir = tmp_path_factory.mktemp("cache")
    load_matcher(cache_dir=cache_dir)  # builds and stores
    warm = load_matcher(cache_dir=cache_dir)  # reads
    return load_matcher(), warm


@pytest.mark.parametrize("eval_set", EVAL_SETS, ids=lambda p: p.name)
def test_the_real_base_decides_the_same_read_from_the_cache(
    real_cold_and_warm: tuple[Matcher, Matcher], eval_set: Path
) -> None:
    if not eval_set.exists():
        pytest.skip(f"{eval_set} is not here")
    cold, warm = real_cold_and_warm
    messages = texts(eval_set)
    assert len(messages) >= 20
    for text in messages:
        assert warm.match(text) == cold.match(text), text  # decision, ranking, exact scores


def test_the_cached_index_is_the_built_one_array_for_array(
    real_cold_and_warm: tuple[Matcher, Matcher],
) -> None:
    cold, warm = real_cold_and_warm
    built, read = cold.index.to_arrays(), warm.index.to_arrays()
    assert built.keys() == read.keys()
    for name, array in built.items():
        assert np.array_equal(array, read[name]), name


def test_a_second_start_reads_the_index_instead_of_building_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    content, cache_dir = write_kb(tmp_path / "kb"), tmp_path / "cache"
    with caplog.at_level(logging.INFO, "faq.index_cache"):
        first = load_matcher(content, cache_dir=cache_dir)
    assert "none yet" in caplog.text
    stored = only_file(cache_dir)
    no_build(monkeypatch)
    caplog.clear()
    with caplog.at_level(logging.INFO, "faq.index_cache"):
        second = load_matcher(content, cache_dir=cache_dir)
    assert caplog.text == ""
    assert second.match("як отримати песель") == first.match("як отримати песель")
    assert only_file(cache_dir) == stored


def test_a_content_change_rebuilds_the_index(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    content, cache_dir = write_kb(tmp_path / "kb"), tmp_path / "cache"
    before = load_matcher(content, cache_dir=cache_dir)
    assert before.match("гаражний кооператив").decision == "handoff"
    entry_file = content / "entries" / "stay" / "pesel-ukr.yaml"
    data = yaml.safe_load(entry_file.read_text("utf-8"))
    data["questions"]["uk"].append("песель через гаражний кооператив")
    entry_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    with caplog.at_level(logging.INFO, "faq.index_cache"):
        after = load_matcher(content, cache_dir=cache_dir)
    assert "another version or content" in caplog.text
    result = after.match("гаражний кооператив")
    assert result.best is not None and result.best.entry_id == "pesel-ukr"
    assert after.match("гаражний кооператив") == load_matcher(content).match("гаражний кооператив")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "arrays that do not fit"])
def test_a_corrupt_cache_file_is_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    content, cache_dir = write_kb(tmp_path / "kb"), tmp_path / "cache"
    expected = load_matcher(content, cache_dir=cache_dir).match("де зробити мельдунек")
    path = only_file(cache_dir)
    raw = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"\x93NUMPY not really" * 100)
    elif damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a well-formed archive with the right key whose arrays disagree
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        arrays["unit_norm"] = arrays["unit_norm"][:-1]
        np.savez(path, allow_pickle=False, **arrays)

    with caplog.at_level(logging.INFO, "faq.index_cache"):
        rebuilt = load_matcher(content, cache_dir=cache_dir)
    assert "unreadable" in caplog.text
    assert rebuilt.match("де зробити мельдунек") == expected
    no_build(monkeypatch)  # and the file written in its place is good again
    assert load_matcher(content, cache_dir=cache_dir).match("де зробити мельдунек") == expected


def test_a_cache_of_another_format_version_is_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    content, cache_dir = write_kb(tmp_path / "kb"), tmp_path / "cache"
    load_matcher(content, cache_dir=cache_dir)
    monkeypatch.setattr(index_cache, "FORMAT_VERSION", index_cache.FORMAT_VERSION + 1)
    with caplog.at_level(logging.INFO, "faq.index_cache"):
        load_matcher(content, cache_dir=cache_dir)
    assert "another version or content" in caplog.text
    with np.load(only_file(cache_dir), allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes())
    assert meta["format"] == index_cache.FORMAT_VERSION


def test_other_matcher_settings_make_another_key(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path / "kb"))
    other = type(DEFAULT_CONFIG)(answer_df_weight=0.5)  # changes the IDFs stored
    assert index_cache.cache_key(kb, other) != index_cache.cache_key(kb, DEFAULT_CONFIG)
    cached_index(kb, DEFAULT_CONFIG, tmp_path / "cache")
    read_back = cached_index(kb, other, tmp_path / "cache")
    assert read_back.idf == Index(kb, other).idf


def test_two_starts_at_once_leave_one_good_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = load_knowledge_base(write_kb(tmp_path / "kb"))
    cache_dir = tmp_path / "cache"
    built: list[Index] = []
    start = threading.Barrier(2)

    def start_up() -> None:
        start.wait()
        built.append(cached_index(kb, DEFAULT_CONFIG, cache_dir))

    threads = [threading.Thread(target=start_up) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 2
    assert [p.name for p in cache_dir.iterdir()] == [
        cache_file(cache_dir, str(kb.directory.resolve())).name
    ]
    no_build(monkeypatch)
    assert cached_index(kb, DEFAULT_CONFIG, cache_dir).keys == built[0].keys


def test_an_unwritable_cache_directory_only_costs_the_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    content = write_kb(tmp_path / "kb")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING, "faq.index_cache"):
        matcher = load_matcher(content, cache_dir=blocker / "cache")
    assert "cannot write" in caplog.text
    assert matcher.match("як отримати песель") == load_matcher(content).match("як отримати песель")


def test_a_killed_writers_temporary_file_is_removed_but_a_live_one_is_kept(
    tmp_path: Path,
) -> None:
    kb = load_knowledge_base(write_kb(tmp_path / "kb"))
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    target = cache_file(cache_dir, str(kb.directory.resolve()))
    stale = cache_dir / f"{target.name}.k1ll3d.tmp"
    live = cache_dir / f"{target.name}.wr1t1ng.tmp"
    other = cache_dir / "notes.tmp"  # not the cache's: never touched
    for path in (stale, live, other):
        path.write_bytes(b"half an archive")
    hours_ago = live.stat().st_mtime - 2 * index_cache.STALE_TEMPORARY_SECONDS
    os.utime(stale, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))

    cached_index(kb, DEFAULT_CONFIG, cache_dir)

    assert sorted(p.name for p in cache_dir.iterdir()) == sorted(
        [target.name, live.name, other.name]
    )
