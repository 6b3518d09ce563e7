"""The real-question sets (development and held out) measure, they do not teach: none of their
questions (nor the shared dev set's sentences) may appear among the knowledge base's questions
or aliases."""

from __future__ import annotations

import json
import re
from pathlib import Path

from faq.content import load_knowledge_base

ROOT = Path(__file__).resolve().parents[1]


def _norm(text: str) -> str:
    return re.sub(r"[\s?!.,:;«»\"'’–-]+", " ", text.lower()).strip()


def test_no_evaluation_message_is_copied_into_content() -> None:
    sets = [
        ROOT / "data" / "real_dev.jsonl",
        ROOT / "data" / "real_heldout.jsonl",
        ROOT.parent.parent / "shared" / "eval" / "dev.jsonl",
    ]
    messages = {
        _norm(json.loads(line)["text"])
        for path in sets
        if path.is_file()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    # One- and two-word keyword messages ("ponaglenie", "800 плюс") are the terms themselves:
    # an alias may well be the same word. Sentences must not be.
    messages = {m for m in messages if len(m.split()) >= 3}
    assert len(messages) > 200
    kb = load_knowledge_base()
    taught = {
        _norm(text)
        for entry in kb.entries.values()
        for text in [*(q for _, qs in entry.questions.items() for q in qs), *entry.aliases]
    }
    copied = sorted(messages & taught)
    assert not copied, f"evaluation messages copied into content: {copied[:5]}"
