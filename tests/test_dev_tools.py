"""Developer tooling: installing prints no deprecation banner; ``make eval`` runs anywhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
SAMPLE = ROOT / "tests" / "data" / "eval_sample.jsonl"


def test_the_licence_is_an_spdx_string_that_the_build_backend_reads() -> None:
    """A ``{text = …}`` table makes setuptools (>= 77) print a deprecation banner on every
    install; the SPDX string is read only from setuptools 77 on, so the build must ask for it."""
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert data["project"]["license"] == "EUPL-1.2"
    (setuptools,) = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    match = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", setuptools)
    assert match and int(match.group(1)) >= 77


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_eval_falls_back_to_the_bundled_sample_without_shared(tmp_path: Path) -> None:
    def planned(shared: Path) -> str:
        result = subprocess.run(
            ["make", "-n", "eval", f"SHARED={shared}"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return result.stdout

    assert "faq eval tests/data/eval_sample.jsonl" in planned(tmp_path / "missing")
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "dev.jsonl").write_text(SAMPLE.read_text(encoding="utf-8"))
    assert f"faq eval {tmp_path}/eval/dev.jsonl" in planned(tmp_path)


def test_the_bundled_sample_evaluates_on_the_bundled_content() -> None:
    from faq.evaluate import run_eval

    lines = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    report = json.loads(run_eval(SAMPLE, content_dir=None, as_json=True, baseline=False))
    assert report["ours"]["n"] == len(lines)  # every line well-formed, every expected id known
    assert report["ours"]["top1"] > 0.5  # a sample the matcher mostly gets, not noise
    assert len(lines) >= 20 and {line["lang"] for line in lines} == {"uk", "ru", "pl", "en"}
    shared = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    if shared.exists():  # our own wording, never the development set's
        theirs = {json.loads(line)["text"].casefold() for line in shared.open(encoding="utf-8")}
        assert not [line["text"] for line in lines if line["text"].casefold() in theirs]
