"""Developer tooling: installing prints no deprecation banner; ``make eval`` runs anywhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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


@pytest.mark.parametrize("readme", ["README.md", "bot/desk/README.md"])
def test_the_settings_tables_state_the_real_defaults(readme: str) -> None:
    """Every default a README's settings table states is the one the code uses."""
    from bot.settings import Settings

    fields = Settings.model_fields
    compared = 0
    for line in (ROOT / readme).read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) != 3:
            continue
        names = re.findall(r"`([A-Z0-9_]+)`", cells[0])
        values = re.findall(r"`([^`]*)`", cells[2])
        if len(names) != len(values):  # "unset: …", "derived from the token"
            continue
        for name, stated in zip(names, values, strict=True):
            field = fields.get(name.lower())
            assert field is not None, f"{readme}: {name} is not a setting"
            default = field.default
            if isinstance(default, bool):
                assert stated == str(default).lower(), name
            elif isinstance(default, int | float):
                assert float(stated) == float(default), f"{readme}: {name} says {stated}"
            elif isinstance(default, str):
                assert stated == default, name
            else:
                continue
            compared += 1
    assert compared >= 5
