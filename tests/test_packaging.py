"""Packaging: installing prints no setuptools deprecation banner."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_licence_is_an_spdx_string_that_the_build_backend_reads() -> None:
    """A ``{text = …}`` table makes setuptools (>= 77) print a deprecation banner on every
    install; the SPDX string is read only from setuptools 77 on, so the build must ask for it."""
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert data["project"]["license"] == "EUPL-1.2"
    (setuptools,) = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    match = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", setuptools)
    assert match and int(match.group(1)) >= 77
