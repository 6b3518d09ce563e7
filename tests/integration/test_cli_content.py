"""``otwarta serve`` and ``otwarta chat`` refuse content that ``otwarta content check`` rejects,
with one clear message and a non-zero exit (the real command, in a subprocess)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from faq.content import DEFAULT_CONTENT_DIR
from tests.doubles.telegram_harness import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broken_content(tmp_path: Path) -> Path:
    """The bundled content with one answer of 5,000 characters (the limit is 3,500)."""
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    path = content / "entries" / "stay" / "pesel-ukr.yaml"
    entry = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry["answer"]["uk"] = "Відповідь. " * 455  # 5,005 characters
    path.write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    return content


def otwarta(*args: str, cwd: Path, content: Path) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "VIBER_", "CONSULTANT_", "DATABASE_", "PUBLIC_"))
    }
    env.update(
        CONTENT_DIR=str(content),
        DATABASE_URL=f"sqlite+aiosqlite:///{cwd / 'bot.sqlite3'}",
        HTTP_PORT=str(free_port()),
        PYTHONPATH=str(ROOT),
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd, env=env, input="", capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_content_check_rejects_the_long_answer(broken_content: Path, tmp_path: Path) -> None:
    result = otwarta("content", "check", cwd=tmp_path, content=broken_content)
    assert result.returncode == 1
    assert "answer.uk" in result.stdout


@pytest.mark.parametrize("command", ["serve", "chat"])
def test_serve_and_chat_refuse_to_start_on_invalid_content(
    broken_content: Path, tmp_path: Path, command: str
) -> None:
    result = otwarta(command, cwd=tmp_path, content=broken_content)
    assert result.returncode == 2
    assert result.stderr.startswith(f"otwarta {command}: not starting: the content in ")
    assert "pesel-ukr.yaml: answer.uk" in result.stderr  # where, and what
    assert "Traceback" not in result.stderr
    assert "Małopolska Otwarta — terminal chat" not in result.stdout  # it never started
