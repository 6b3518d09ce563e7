"""Every tunable number of the matcher, in one place.

Calibration (how the values below were chosen) -- re-run after large content changes::

    .venv/bin/python -m faq.calibrate ../shared/eval/dev.jsonl

``faq.calibrate`` scores the labelled set once, then sweeps the decision thresholds over a
grid and keeps the setting that answers the most messages correctly while holding the
confident-wrong rate (a wrong ``answer``, out-of-scope messages included) at or under 3%
and out-of-scope rejection at or over 90%, preferring the widest margin around the chosen
point (so a small shift in content does not flip many decisions). The scoring weights were
set by hand from error analysis on the development set (``--set name=value`` runs the
same sweep for another weight), never by copying messages into the content.

Last run (48 entries, shared/eval/dev.jsonl, 287 messages): top-1 0.973, recall@3 0.996;
chosen handoff_below=0.44, answer_min=0.44, answer_margin=0.08, clarify_window=0.10 ->
223/257 answered right, 12/13 clarifications offer the right entry, 2 wrong answers (0.7%),
29/30 out-of-scope messages handed off.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MatcherConfig:
    # --- decisions (calibrated by faq.calibrate) ---
    answer_min: float = 0.44
    """Best score at or above which the bot may answer directly..."""
    answer_margin: float = 0.08
    """...provided the runner-up (another entry) is at least this far behind."""
    handoff_below: float = 0.44
    """Best score under which nothing fits: hand off to a consultant."""
    clarify_window: float = 0.10
    """In a clarification, offer the entries within this distance of the best one."""
    clarify_max: int = 3

    # --- scoring weights ---
    coverage_weight: float = 0.3
    """Final score = w * entry coverage + (1 - w) * best single question/alias similarity."""
    answer_field_weight: float = 0.3
    """A word found only in an entry's answer counts this much (questions/aliases: 1)."""
    answer_df_weight: float = 0.3
    """How much an occurrence in an answer counts towards a word's document frequency."""
    centrality_base: float = 0.6
    centrality_k: float = 1.5
    """Presence in an entry's questions: base + (1 - base) * tf / (tf + k)."""
    stop_word_factor: float = 0.08
    """Function words (як, как, jak, how ...) weigh this fraction of their IDF."""
    unknown_word_weight: float = 1.3
    """A word the knowledge base does not know weighs this fraction of the highest IDF."""
    unknown_mass_cap: float = 2.5
    """Unknown words together weigh at most this many highest IDFs: in a long message most
    of them are the person's story, not the question."""
    unknown_number_weight: float = 0.05
    stem_strength: float = 0.9
    """Match strength of two words with the same heavy stem (one ending off) only."""
    prefix_strength: float = 0.8
    """Match strength when one stem is a short extension of the other (otrim / otrimav)."""
    fuzzy_min_length: int = 5
    fuzzy_two_edits_length: int = 8
    """Unknown words of 5+ letters may be one edit (transpositions count one) from a known
    word, of 8+ letters two edits (typos: ``зарплаиу``, ``карут``, ``гражданстао``)."""
    fuzzy_edit_cost: float = 1.5
    """Strength of a typo reading: 1 - cost * edits / length (one edit in 6 letters: 0.75)."""
    question_beta: float = 1.5
    """F-measure balance between query coverage and question coverage (1 = harmonic mean)."""
    seed_postings: int = 400
    """Candidate generation: a word found in more entries than this only adds to entries
    already found by rarer words (keeps a 10,000-entry base fast; no effect on 48)."""
    coverage_pool: int = 60
    """Entries (best by approximate coverage) that get the exact coverage."""
    keyword_beta: float = 0.7
    """The same balance for titles and aliases: containing a keyword is easy for a message,
    so how much of the message it explains matters more."""
    rerank_entries: int = 12
    """Entries (best by coverage) that get the per-question similarity."""
    max_candidates: int = 10

    # --- meaning (faq.semantic) ---
    semantic: bool = False
    """Blend a packaged multilingual sentence encoder into the scores (``pip install
    .[semantic]``). Off: the encoder costs ~80-270 ms a message on this CPU, far over the
    10 ms budget (``benchmarks/compare_semantic.py``)."""


DEFAULT_CONFIG = MatcherConfig()
