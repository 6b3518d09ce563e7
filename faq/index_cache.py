"""An on-disk cache of the search index: a restart reads the index instead of building it.

Optional and explicit: only :func:`cached_index` (and :func:`faq.load_matcher` when given a
``cache_dir``) touches the disk; the matcher itself stays pure.

One file a knowledge base, ``<cache_dir>/faq-index-<name>.npz``: a plain numpy archive
(:meth:`faq.index.Index.to_arrays`, read with ``allow_pickle=False``: nothing in it can run
code), with a ``meta`` record naming the format version and the *key* it was built for.
The key is a hash of

- the knowledge-base text the index reads (ids in order, titles, aliases, questions,
  answers: :func:`content_digest`; computed from the loaded entries, so a file edited while
  the bot reads it cannot leave an old index under a new key),
- the matcher's settings (:class:`faq.config.MatcherConfig`),
- :data:`FORMAT_VERSION`, the package version and a digest of the ``faq`` source code
  (a changed tokeniser makes different keys from the same text).

A file that is missing, unreadable, corrupt or made for another key is rebuilt (one log
line says why) and replaced atomically: written to a temporary file in the same directory,
then renamed over the old one, so a reader sees the old file or the new one, never half of
one. Two processes starting at once both build and both rename; the files are identical.
A cache that cannot be written (read-only disk) only costs the next start the build. A
temporary file a killed process left behind is removed by the next write once it is an
hour old (younger ones may be another process's write in progress).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
import zipfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np

from faq.config import MatcherConfig
from faq.content import KnowledgeBase
from faq.index import Index
from faq.languages import LANGS

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: the names of one entry (Index.named)
"""Bump when :meth:`Index.to_arrays` changes shape."""

_SEP = "\x1f"

STALE_TEMPORARY_SECONDS = 3600.0
"""A temporary cache file this old was left by a process that died writing it."""


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version and a digest of the ``faq`` sources that build the index."""
    try:
        version = metadata.version("malopolska-otwarta")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        version = "0"
    digest = hashlib.sha256(version.encode())
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{version}+{digest.hexdigest()[:16]}"


def content_digest(kb: KnowledgeBase) -> str:
    """A hash of every text the index is built from, in knowledge-base order."""
    digest = hashlib.sha256()
    for entry in kb.entries.values():
        parts = [entry.id, *(entry.title.get(lg) for lg in LANGS), *entry.aliases]
        for lang, questions in entry.questions.items():
            parts += [lang, *questions]
        parts += [entry.answer.get(lg) for lg in LANGS]
        digest.update((_SEP.join(parts) + "\x1e").encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def cache_key(kb: KnowledgeBase, config: MatcherConfig) -> str:
    """What an index file must have been built for to be used (see the module docstring)."""
    parts = (str(FORMAT_VERSION), code_version(), repr(config), content_digest(kb))
    return hashlib.sha256(_SEP.join(parts).encode()).hexdigest()


def cache_file(cache_dir: Path | str, name: str) -> Path:
    """The cache file for the knowledge base called ``name`` (any text: it is hashed)."""
    label = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return Path(cache_dir) / f"faq-index-{label}.npz"


def read_index(path: Path, key: str, config: MatcherConfig) -> Index | None:
    """The index stored at ``path`` for ``key``, or ``None`` (logged) if it cannot be used."""
    if not path.is_file():
        log.info("faq index cache %s: none yet; building the index", path)
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT_VERSION or meta.get("key") != key:
                log.info(
                    "faq index cache %s: made for another version or content "
                    "(format %s); rebuilding",
                    path,
                    meta.get("format"),
                )
                return None
            arrays = {name: data[name] for name in data.files if name != "meta"}
        return Index.from_arrays(arrays, config)
    except Exception as exc:  # any damage means: build it again
        log.warning(
            "faq index cache %s: unreadable (%s: %s); rebuilding", path, type(exc).__name__, exc
        )
        return None


def write_index(path: Path, key: str, index: Index) -> bool:
    """Store ``index`` for ``key`` atomically; ``False`` (logged) if the disk refuses."""
    meta = json.dumps({"format": FORMAT_VERSION, "key": key, "entries": len(index.entry_ids)})
    arrays = {"meta": np.frombuffer(meta.encode("utf-8"), dtype=np.uint8), **index.to_arrays()}
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
        return True
    except (OSError, zipfile.LargeZipFile) as exc:
        log.warning("faq index cache %s: cannot write (%s); the next start builds again", path, exc)
        return False
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _remove_stale_temporaries(directory: Path) -> None:
    """Delete the cache's temporary files that no live write can still own."""
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for leftover in directory.glob("faq-index-*.npz.*.tmp"):
        with contextlib.suppress(OSError):  # gone already, or not ours to delete
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
                log.info("faq index cache: removed %s, left by an interrupted write", leftover)


def cached_index(
    kb: KnowledgeBase, config: MatcherConfig, cache_dir: Path | str, name: str | None = None
) -> Index:
    """The index of ``kb``: read from ``cache_dir`` when it was built for this very content,
    settings and code; otherwise built and stored there. ``name`` tells knowledge bases
    sharing a cache directory apart (default: the content directory)."""
    path = cache_file(cache_dir, name if name is not None else str(Path(kb.directory).resolve()))
    key = cache_key(kb, config)
    index = read_index(path, key, config)
    if index is not None:
        return index
    index = Index(kb, config)
    write_index(path, key, index)
    return index
