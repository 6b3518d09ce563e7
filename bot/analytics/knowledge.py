"""What the figures need from the knowledge base (:class:`Knowledge`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from faq.content import KnowledgeBase
from faq.index import Lexicon


@dataclass(frozen=True)
class Knowledge:
    """What the figures need from the knowledge base: each entry's topic, the reader's
    lexicon (for grouping unanswered questions and finding names), the entries' titles."""

    topics: dict[str, str]
    lexicon: Lexicon | None
    kb: KnowledgeBase | None = None

    @classmethod
    def from_kb(cls, kb: KnowledgeBase, lexicon: Lexicon | None) -> Knowledge:
        return cls({e.id: str(e.topic) for e in kb.entries.values()}, lexicon, kb)

    @classmethod
    def load(cls, content_dir: Path | str | None = None) -> Knowledge:
        from faq import load_matcher

        matcher = load_matcher(content_dir)
        return cls.from_kb(matcher.kb, matcher.index.lexicon)
