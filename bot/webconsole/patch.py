"""The editors' suggestions as a patch for ``content/`` (a unified diff of the entries' YAML
files): each cluster marked "belongs to entry X" adds its example wordings to X's
``questions`` in the language the editor chose (or the one its script suggests). The
clusters marked "needs a new entry" or "out of scope" are listed in the patch's preamble,
which ``git apply`` and ``patch`` skip. The console never writes ``content/`` itself: an
editor reviews the patch, applies it (``git apply console-suggestions.patch``) and runs
``otwarta content check``.

The files are edited as text (the new lines go after the last question of the language), so
every comment, quote and blank line of the file stays as the editor wrote it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Sequence
from pathlib import Path

from bot.webconsole.store import Mark

_UK = set("іїєґІЇЄҐ")
_RU = set("ыэёъЫЭЁЪ")
_PL = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")


def guess_lang(text: str) -> str:
    """The language an example is most likely in, from its letters alone."""
    letters = set(text)
    if letters & _UK:
        return "uk"
    if letters & _RU:
        return "ru"
    if any("а" <= ch.lower() <= "я" for ch in text):
        return "uk"
    if letters & _PL:
        return "pl"
    return "en"


def _entry_files(content_dir: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((content_dir / "entries").rglob("*.yaml")):
        match = re.search(r"^id:\s*['\"]?([a-z0-9-]+)", path.read_text(encoding="utf-8"), re.M)
        if match:
            found[match.group(1)] = path
    return found


def add_questions(text: str, lang: str, questions: Sequence[str]) -> str | None:
    """``text`` (an entry's YAML) with ``questions`` appended to ``questions.<lang>``;
    ``None`` when that list is not written as a block list the function can extend."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"^questions:\s*$", line)), None)
    if start is None:
        return None
    head = None
    for i in range(start + 1, len(lines)):
        if re.match(r"^\S", lines[i]):
            break
        if re.match(rf"^  {lang}:\s*$", lines[i]):
            head = i
            break
    if head is None:
        return None
    last = head
    indent = "    "
    for i in range(head + 1, len(lines)):
        match = re.match(r"^(\s+)- ", lines[i])
        if match and len(match.group(1)) > 2:
            last, indent = i, match.group(1)
        elif lines[i].strip() and not lines[i].startswith("     "):
            break
    existing = {
        line.strip()[2:].strip().strip("\"'").casefold() for line in lines[head + 1 : last + 1]
    }
    new = []
    for question in questions:
        flat = " ".join(question.split())
        if flat and flat.casefold() not in existing:
            existing.add(flat.casefold())
            new.append(f"{indent}- {json.dumps(flat, ensure_ascii=False)}\n")
    if not new:
        return text
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    return "".join(lines[: last + 1] + new + lines[last + 1 :])


def build_patch(content_dir: Path, marks: Sequence[Mark], now: dt.datetime) -> str:
    """The patch of every mark (relative paths ``a/content/...``, ``git apply`` from the
    repository's root)."""
    files = _entry_files(content_dir)
    edited: dict[Path, str] = {}
    notes: list[str] = []
    for mark in sorted(marks, key=lambda m: (m.marked_at, m.cluster_id)):
        if mark.verdict != "belongs" or mark.entry_id is None:
            label = "needs a new entry" if mark.verdict == "new_entry" else "out of scope"
            notes.append(f"# cluster {mark.cluster_id}: {label} ({mark.marked_by})")
            notes.extend(f"#   {' '.join(e.split())}" for e in mark.examples)
            continue
        path = files.get(mark.entry_id)
        if path is None:
            notes.append(f"# cluster {mark.cluster_id}: entry {mark.entry_id} not found")
            continue
        by_lang: dict[str, list[str]] = {}
        for example in mark.examples:
            by_lang.setdefault(mark.lang or guess_lang(example), []).append(example)
        current = edited.get(path, path.read_text(encoding="utf-8"))
        for lang, questions in by_lang.items():
            changed = add_questions(current, lang, questions)
            if changed is None:
                notes.append(f"# cluster {mark.cluster_id}: {path.name} has no {lang} list")
            else:
                current = changed
        edited[path] = current
    out = [
        f"# Suggestions from the Małopolska Otwarta console, {now.strftime('%Y-%m-%d %H:%M')} UTC.",
        "# Review, then from the repository's root: git apply console-suggestions.patch",
        "# and check: otwarta content check",
        *notes,
        "",
    ]
    root = content_dir.resolve().parent
    for path, new in sorted(edited.items()):
        old = path.read_text(encoding="utf-8")
        if new == old:
            continue
        rel = path.resolve().relative_to(root).as_posix()
        out.extend(
            line.rstrip("\n")
            for line in difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile=f"a/{rel}",
                tofile=f"b/{rel}",
            )
        )
    return "\n".join(out) + "\n"
