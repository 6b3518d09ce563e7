"""The FAQ matcher: text in, ranked knowledge-base entries and a decision out.

Pure and fast: no I/O besides loading the knowledge base (``faq.content``) and, only when
asked for with a directory, the index cache (``faq.index_cache``).
"""

from faq.config import DEFAULT_CONFIG, MatcherConfig
from faq.matcher import Candidate, Matcher, MatchResult, build_matcher, load_matcher

__all__ = [
    "DEFAULT_CONFIG",
    "Candidate",
    "MatchResult",
    "Matcher",
    "MatcherConfig",
    "build_matcher",
    "load_matcher",
]
