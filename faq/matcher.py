"""The FAQ matcher: a message in, ranked entries and a decision out (the *contract* API).

Scoring, for a message read by :mod:`faq.reading` and resolved word by word against the
:class:`~faq.index.Index`:

1. *coverage* of an entry: the IDF-weighted share of the message's words the entry's
   questions, aliases and title contain (words found only in its answer count a little;
   words repeated across its questions count a little more -- they are what it is about);
2. *question similarity*: for the best entries by coverage, the best F-measure between the
   message and any one of the entry's questions/aliases/title (how much of the message
   that question explains, and how much of the question the message says);
3. the score is a weighted mean of the two, in [0, 1].

Decisions use the thresholds of :class:`faq.config.MatcherConfig`.
"""

from __future__ import annotations

import dataclasses
import heapq
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from faq.config import DEFAULT_CONFIG, MatcherConfig
from faq.content import KnowledgeBase, load_knowledge_base
from faq.followup import MatchContext, read_followup
from faq.identity import ABOUT_ENTRY, asks_about_the_bot
from faq.index import Index, Resolved
from faq.intents import IntentDetector
from faq.languages import LANGS
from faq.reading import Reading, detect_language, read
from faq.semantic import SemanticIndex, load_semantic, rescore
from faq.text import skeleton

Decision = Literal["answer", "clarify", "handoff"]


@dataclass(frozen=True, slots=True)
class Candidate:
    entry_id: str
    score: float


@dataclass(frozen=True, slots=True)
class MatchResult:
    decision: Decision
    candidates: tuple[Candidate, ...]
    """Ranked, best first (empty for a greeting, thanks or a request for a person)."""
    lang: str
    """The language the reply should be in."""
    intent: str | None = None
    """``None`` for a question; ``human``, ``greeting``, ``thanks``, ``urgent``, or ``about``
    (a question about the bot itself: decision ``answer`` with the ``about-project`` entry)."""
    offered: tuple[str, ...] = ()
    """Entry ids to show: the answer's entry, or one to three for ``clarify`` -- the unsure
    middle, shown as "Maybe one of these?" with the consultant and the menu."""
    section: str | None = None
    """A follow-up about one aspect of the context entry (``children``, ``cost``, ``where``,
    ``documents``, ``family``): the answer may lead with that section of the entry."""
    followup: str | None = None
    """With a context: ``same`` (the context entry again), ``related`` (read with the context
    and found the context entry's neighbour), ``new`` (a new topic: drop the context), or
    ``None`` (the context did not apply: a long message, an intent)."""
    urgent_kind: str | None = None
    """For ``intent == "urgent"``, what the emergency is (:data:`faq.intents.URGENT_KINDS`:
    ``medical``, ``suicide``, ``violence``, ``danger``, ``trafficking``, ``arrest``,
    ``shelter``); else ``None``. The candidates are ranked as for any question."""
    debug: Mapping[str, Any] = field(default_factory=dict, compare=False)
    elapsed_ms: float = field(default=0.0, compare=False)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def to_dict(self, top: int = 5) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "intent": self.intent,
            "lang": self.lang,
            "offered": list(self.offered),
            "urgent_kind": self.urgent_kind,
            "section": self.section,
            "followup": self.followup,
            "candidates": [
                {"id": c.entry_id, "score": round(c.score, 4)} for c in self.candidates[:top]
            ],
            "elapsed_ms": round(self.elapsed_ms, 3),
            "debug": dict(self.debug),
        }


def answer_bar(cfg: MatcherConfig, tokens: int) -> tuple[float, float]:
    """The best score and the lead over the runner-up a message of ``tokens`` words needs
    for a direct answer: higher for long messages (see ``long_message_tokens``)."""
    if tokens >= cfg.long_message_tokens:
        return cfg.long_answer_min, cfg.long_answer_margin
    return cfg.answer_min, cfg.answer_margin


class Matcher:
    """Immutable after construction; ``match`` is pure (caches aside), so share it freely."""

    def __init__(
        self,
        kb: KnowledgeBase,
        config: MatcherConfig = DEFAULT_CONFIG,
        semantic: SemanticIndex | None = None,
        index: Index | None = None,
    ) -> None:
        """``index``: the index of ``kb`` under ``config`` when the caller has it already
        (:func:`faq.index_cache.cached_index`); built here otherwise."""
        self.kb = kb
        self.config = config
        self.semantic = semantic
        """Optional meaning reader (:mod:`faq.semantic`) blended into the lexical scores."""
        self.index = index if index is not None else Index(kb, config)
        self.intents = IntentDetector()
        # Layout repair knows danger words (their skeletons); only a word with letters of
        # one language (і, ы ...) that the knowledge base does not give to another language
        # also tells the language.
        lexicon = self.index.lexicon
        for lang, danger_words in self.intents.urgent.surface_words().items():
            others = set().union(*(lexicon.words[lg] for lg in lexicon.words if lg != lang))
            for word in danger_words:
                if word in others:
                    continue
                if any(ch in "ієїґыэъ" for ch in word):
                    lexicon.add(lang, (word,))
                else:
                    lexicon.skeletons[lang].add(skeleton(word))
        lexicon.freeze()
        self.intents.urgent.know(self.index.keys)
        self._warm_up()

    def _warm_up(self) -> None:
        # Compile regexes, fill rapidfuzz/lru paths: the first user waits no longer than others.
        for text in ("як отримати песель", "ult cltkfnm gtctkm", "kak poluchit pesel", "дякую"):
            self.match(text)
        if self.index.entry_ids:  # the follow-up and about-the-bot paths too
            self.match("а для дітей?", context=MatchContext(self.index.entry_ids[0]))
            self.match("хто ти")

    # ---------------------------------------------------------------------------------------

    def match(
        self, text: str, lang: str | None = None, context: MatchContext | None = None
    ) -> MatchResult:
        """Rank entries for ``text`` and decide; never raises (see module docstring).

        ``context``: the entry the person saw last (:mod:`faq.followup`), for follow-ups.
        """
        started = time.perf_counter()
        try:
            result = self._match(text if isinstance(text, str) else str(text), lang, context)
        except Exception:  # pragma: no cover - a bug must not take the conversation down
            result = MatchResult(
                "handoff", (), lang if lang in LANGS else "uk", debug={"error": True}
            )
        elapsed = (time.perf_counter() - started) * 1000.0
        return dataclasses.replace(result, elapsed_ms=elapsed)

    def _match(self, text: str, lang: str | None, context: MatchContext | None) -> MatchResult:
        lexicon = self.index.lexicon
        reading = read(text, lexicon)
        intent, urgent_kind = self.intents.classify(reading.tokens)
        debug: dict[str, Any] = {"tokens": list(reading.tokens)}
        if reading.layout:
            debug["layout"] = reading.layout
        if (
            intent != "urgent"
            and ABOUT_ENTRY in self.kb.entries
            and asks_about_the_bot(reading.tokens, intent == "human")
        ):
            reply_lang = lang if lang in LANGS else detect_language(reading, lexicon)
            about = (Candidate(ABOUT_ENTRY, 1.0),)
            return MatchResult("answer", about, reply_lang, "about", (ABOUT_ENTRY,), debug=debug)
        if (
            context is not None
            and intent in ("greeting", "thanks")
            and (fu := read_followup(reading.tokens)) is not None
            and fu.aspect is not None
        ):
            intent = None  # "a dla dziecka?" is not "dzięki": a follow-up names an aspect
        if intent in ("human", "greeting", "thanks") or not reading.tokens:
            reply_lang = lang if lang in LANGS else detect_language(reading, lexicon)
            return MatchResult("handoff", (), reply_lang, intent, debug=debug)

        scored, best_unit_lang = self._score(reading)
        if self.semantic is not None:
            scored = rescore(self.semantic, text, reading, scored, self.config.max_candidates)
        reply_lang = lang if lang in LANGS else detect_language(reading, lexicon, best_unit_lang)
        candidates = tuple(Candidate(self.index.entry_ids[e], s) for e, s in scored)
        decision, offered = self._decide(candidates, len(reading.tokens))
        fresh = MatchResult(
            decision, candidates, reply_lang, intent, offered, urgent_kind=urgent_kind, debug=debug
        )
        if context is None or intent is not None or context.entry_id not in self.kb.entries:
            return fresh
        return self._in_context(reading, fresh, context.entry_id)

    def _in_context(self, reading: Reading, fresh: MatchResult, context_id: str) -> MatchResult:
        """A short message after ``context_id`` was shown (see :mod:`faq.followup`)."""
        followup = read_followup(reading.tokens, lambda t: self.index.resolve(t).stop)
        if followup is None:
            return fresh
        entry = self.kb.entries[context_id]
        neighbours = {context_id, *entry.related}
        best = fresh.candidates[0].score if fresh.candidates else 0.0
        elsewhere = fresh.decision == "answer" and fresh.offered[0] not in neighbours
        if (
            followup.rest
            and elsewhere
            and (followup.aspect is None or best >= self.config.context_new_topic)
        ):
            return dataclasses.replace(fresh, followup="new")
        e_ctx = self.index.entry_number[context_id]
        strange = sum(1 for t in followup.rest if not self._mentions(e_ctx, t))
        if not followup.rest or (followup.aspect is not None and not elsewhere and strange <= 1):
            # Only an aspect of what they just read (and words that point nowhere else).
            if followup.aspect is None:
                return fresh
            others = tuple(c for c in fresh.candidates if c.entry_id != context_id)
            same = (Candidate(context_id, 1.0), *others)
            return dataclasses.replace(
                fresh,
                decision="answer",
                candidates=same,
                offered=(context_id,),
                section=followup.aspect,
                followup="same",
            )
        # Words of its own: the message's own reading, with the context as a prior (the
        # context entry and its neighbours gain a little; an aspect word, a little more).
        cfg = self.config
        prior = {e: cfg.context_related_bonus for e in entry.related}
        prior[context_id] = cfg.context_same_bonus + (
            cfg.context_aspect_bonus if followup.aspect else 0.0
        )
        scores = {c.entry_id: c.score for c in fresh.candidates}
        for e in prior:
            scores.setdefault(e, 0.0)
        ranked = sorted(
            ((e, min(1.0, s + prior.get(e, 0.0))) for e, s in scores.items()),
            key=lambda es: (-es[1], es[0]),
        )
        candidates = tuple(Candidate(e, s) for e, s in ranked if s > 0.0)
        decision, offered = self._decide(candidates, len(reading.tokens))
        top = candidates[0].entry_id if candidates else None
        kind = "same" if top == context_id else "related" if top in neighbours else "new"
        return dataclasses.replace(
            fresh,
            decision=decision,
            candidates=candidates,
            offered=offered,
            section=followup.aspect if kind == "same" else None,
            followup=kind,
        )

    def _mentions(self, e: int, token: str) -> bool:
        """Whether entry number ``e`` has ``token`` (or a form of it) anywhere, answer included."""
        index = self.index
        return any(
            e in index.postings[tid] or index.in_answer_only(tid, e)
            for tid, _ in index.resolve(token).matches
        )

    def _decide(
        self, candidates: tuple[Candidate, ...], tokens: int
    ) -> tuple[Decision, tuple[str, ...]]:
        """Three zones: answer (confident, clear of the runner-up), clarify (the unsure
        middle: offer the one to three likeliest), handoff (nothing fits). A long message
        (``tokens`` words) needs more to be answered directly (:func:`answer_bar`)."""
        cfg = self.config
        if not candidates or candidates[0].score < cfg.handoff_below:
            return "handoff", ()
        best = candidates[0].score
        second = candidates[1].score if len(candidates) > 1 else 0.0
        answer_min, answer_margin = answer_bar(cfg, tokens)
        if best >= answer_min and best - second >= answer_margin:
            return "answer", (candidates[0].entry_id,)
        offered = tuple(
            c.entry_id
            for c in candidates[: cfg.clarify_max]
            if c.score >= best - cfg.clarify_window and c.score >= cfg.handoff_below
        )
        return "clarify", offered

    # ---------------------------------------------------------------------------------------

    def _score(self, reading: Reading) -> tuple[list[tuple[int, float]], str | None]:
        index, cfg = self.index, self.config
        resolved: list[Resolved] = []
        seen: set[str] = set()
        for token in reading.question or reading.tokens:
            if token not in seen:
                seen.add(token)
                r = index.resolve(token)
                if not r.stop:  # function words carry (almost) nothing: leave them out
                    resolved.append(r)
        known = [r for r in resolved if r.matches]
        unknown = sum(r.weight for r in resolved if not r.matches)
        total = sum(r.weight for r in known) + min(unknown, cfg.unknown_mass_cap * index.max_idf)
        # A long message tells a story around its question: past a few words' worth of
        # information, more words dilute the share an entry explains only partly.
        full = cfg.message_mass_full * index.max_idf
        if total > full:
            total = full + cfg.message_mass_excess * (total - full)
        if not known or total <= 0.0:
            return [], None

        shortlist = self._coverage(known, total)
        if not shortlist:
            return [], None
        return self._rerank(known, total, shortlist)

    def _coverage(self, known: list[Resolved], total: float) -> list[tuple[int, float]]:
        """Entries by coverage: the weighted share of the message they contain."""
        index, cfg = self.index, self.config
        postings, fac = index.postings, index.tf_factor
        # 1. Candidates from the questions/aliases/titles, rarest words first; once there are
        #    enough, common words only add to entries already found (bounded work at scale).
        order = sorted(known, key=lambda r: min(len(postings[t]) for t, _ in r.matches))
        approx: dict[int, float] = {}
        for r in order:
            here: dict[int, float] = {}
            for tid, strength in r.matches:
                row = postings[tid]
                if not approx or len(row) <= cfg.seed_postings:
                    for e, tf in row.items():
                        if strength * fac[tf] > here.get(e, 0.0):
                            here[e] = strength * fac[tf]
                else:
                    for e in approx:
                        found = row.get(e)
                        if found is not None and strength * fac[found] > here.get(e, 0.0):
                            here[e] = strength * fac[found]
            for e, value in here.items():
                approx[e] = approx.get(e, 0.0) + r.weight * value
        if not approx:
            return []
        pool = heapq.nlargest(cfg.coverage_pool, approx, key=approx.__getitem__)
        # 2. Exact coverage for the pool, answers included.
        answer_w = cfg.answer_field_weight
        exact: list[tuple[int, float]] = []
        for e in pool:
            covered = 0.0
            for r in known:
                best = 0.0
                for tid, strength in r.matches:
                    strong = postings[tid].get(e)
                    factor = (
                        fac[strong]
                        if strong is not None
                        else (answer_w if index.in_answer_only(tid, e) else 0.0)
                    )
                    if strength * factor > best:
                        best = strength * factor
                covered += r.weight * best
            exact.append((e, covered / total))
        exact.sort(key=lambda es: (-es[1], es[0]))
        return exact[: cfg.rerank_entries]

    def _rerank(
        self, known: list[Resolved], total: float, shortlist: list[tuple[int, float]]
    ) -> tuple[list[tuple[int, float]], str | None]:
        """Mix coverage with the best single question's F-measure."""
        index, cfg = self.index, self.config
        term_strength: dict[int, list[tuple[int, float]]] = {}
        for qi, r in enumerate(known):
            for tid, strength in r.matches:
                term_strength.setdefault(tid, []).append((qi, strength))
        weights = [r.weight for r in known]
        beta2 = cfg.question_beta**2
        keyword_beta2 = cfg.keyword_beta**2
        cw = cfg.coverage_weight
        scored: list[tuple[int, float]] = []
        best_unit: tuple[float, int] = (-1.0, -1)
        tops = {tid: max(s for _, s in hits) for tid, hits in term_strength.items()}
        for e, cov in shortlist:
            by_term = index.term_units(e, term_strength)
            covered: dict[int, float] = {}
            per_unit: dict[int, dict[int, float]] = {}
            for tid, hits in term_strength.items():
                units = by_term.get(tid)
                if units is None:
                    continue
                gain = index.term_weight[tid] * tops[tid]
                for u in units:
                    covered[u] = covered.get(u, 0.0) + gain
                    per_query = per_unit.setdefault(u, {})
                    for qi, strength in hits:
                        if strength > per_query.get(qi, 0.0):
                            per_query[qi] = strength
            best_f = 0.0
            for u, per_query in per_unit.items():
                recall = covered[u] / index.unit_norm[u]
                precision = sum(weights[qi] * s for qi, s in per_query.items()) / total
                if precision <= 0.0 or recall <= 0.0:
                    continue
                b2 = beta2 if index.unit_is_question[u] else keyword_beta2
                f = (1 + b2) * precision * recall / (b2 * precision + recall)
                if f > best_f or (f == best_f and u < best_unit[1]):
                    best_f = f
                    if f > best_unit[0]:
                        best_unit = (f, u)
            scored.append((e, cw * cov + (1 - cw) * min(best_f, 1.0)))
        scored.sort(key=lambda es: (-es[1], es[0]))
        unit_lang = index.unit_langs[best_unit[1]] if best_unit[1] >= 0 else None
        return scored[: cfg.max_candidates], unit_lang


def build_matcher(kb: KnowledgeBase, config: MatcherConfig = DEFAULT_CONFIG) -> Matcher:
    return Matcher(kb, config)


def load_matcher(
    content_dir: Path | str | None = None,
    config: MatcherConfig = DEFAULT_CONFIG,
    cache_dir: Path | str | None = None,
) -> Matcher:
    """Load the knowledge base (``faq.content.DEFAULT_CONTENT_DIR`` by default) and index it.

    With ``cache_dir``, the index is read from there when it was built for this content,
    settings and code, and stored there otherwise (:mod:`faq.index_cache`); matching is the
    same either way. Without it nothing but the content is read.
    """
    kb = load_knowledge_base(content_dir)
    index = None
    if cache_dir is not None:
        from faq.index_cache import cached_index

        index = cached_index(kb, config, cache_dir)
    return Matcher(kb, config, load_semantic(kb) if config.semantic else None, index)
