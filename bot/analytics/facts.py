"""A logged question turned into what the figures count (:class:`~bot.analytics.store.Fact`),
the same way for the roll-up and for the days not rolled up yet, so a figure never depends on
which of the two it was read from; and the anonymous grouping key of an unanswered question.

Decisions, one per question (small talk — greetings, thanks — is not a question and is not
counted):

- ``answered``: the bot answered;
- ``clarified``: it asked "Did you mean", and the person picked one of the entries;
- ``maybe``: it asked "Did you mean" ("maybe one of these"), and the person picked none;
- ``unknown``: it did not know;
- ``handed_off``: the person asked for a consultant;
- ``urgent``: the bot recognised an emergency.

A question is *self-served* when it was answered (or clarified) and the same person did not
have a ticket opened within :data:`SELF_SERVICE_WINDOW` after it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.analytics.store import AnalyticsStore, Fact, RawQuestion, day_number
from faq.index import Lexicon
from faq.lexicon import STOP_WORDS
from faq.reading import read
from faq.text import words

if TYPE_CHECKING:
    from bot.analytics.knowledge import Knowledge

DECISIONS = ("answered", "clarified", "maybe", "unknown", "handed_off", "urgent")
SMALL_TALK = frozenset({"greeting", "thanks"})
SELF_SERVICE_WINDOW = dt.timedelta(minutes=30)
#: Decisions whose questions are "what the bot could not answer".
UNANSWERED = frozenset({"unknown"})

_PLACEHOLDER = re.compile(r"^(phone|email|pesel|document|account|card|number|name)$")
_KEY_WORDS = 12
_STOP = frozenset(t for text in STOP_WORDS.values() for t in words(text))
_KEY_CHARS = 200


def decision_of(row: RawQuestion) -> str | None:
    """The question's decision (see the module docstring); ``None`` for small talk."""
    if row.intent in SMALL_TALK:
        return None
    if row.intent == "urgent":
        return "urgent"
    if row.intent == "human":
        return "handed_off"
    if row.decision == "answer":
        return "answered"
    if row.decision == "clarify":
        return "clarified" if row.chosen_entry is not None else "maybe"
    return "unknown"


def is_unanswered(fact: Fact) -> bool:
    """The bot could not answer it: it did not know, or none of its suggestions fitted."""
    return fact.decision in UNANSWERED or fact.none_of_these


#: Per text, its candidate words (sorted) before the names are taken out: reading a text is
#: the costly part, and the same texts come back; the names are never cached.
_WORDS: dict[tuple[int, str], tuple[str, ...]] = {}
_WORDS_MAX = 50_000


def cluster_key(text: str, lexicon: Lexicon, names: frozenset[str] = frozenset()) -> str:
    """What groups an unanswered question with similar ones: its words without greetings,
    names (the reader drops a self-introduction's name and capitalised unknown words),
    numbers and masked data, lower-cased, deduplicated and *sorted* — no sentence can be
    read back from it. Kept in the roll-up so past periods still group the same way.
    ``names``: the names the person gave (:func:`bot.analytics.anonymize.names_given`)."""
    candidates = _WORDS.get((id(lexicon), text))
    if candidates is None:
        candidates = tuple(
            sorted(
                {
                    token
                    for token in read(text, lexicon).question
                    if len(token) >= 3
                    and not any(ch.isdigit() for ch in token)
                    and not _PLACEHOLDER.match(token)
                    and token not in _STOP
                }
            )
        )
        if len(_WORDS) >= _WORDS_MAX:
            _WORDS.clear()
        _WORDS[(id(lexicon), text)] = candidates
    tokens = [token for token in candidates if token not in names] if names else candidates
    return " ".join(tokens[:_KEY_WORDS])[:_KEY_CHARS]


def to_fact(
    row: RawQuestion,
    *,
    topics: Mapping[str, str],
    handoffs: Mapping[int, Sequence[dt.datetime]],
    lexicon: Lexicon | None,
    names: Mapping[int, frozenset[str]] | None = None,
) -> Fact | None:
    """``row`` as the figures count it; ``None`` for small talk. ``handoffs``: when each
    person's tickets were opened (sorted), for the self-service test; ``names``: the names
    each person gave, kept out of the grouping key."""
    decision = decision_of(row)
    if decision is None:
        return None
    if decision == "answered":
        entry = row.top_entry
    elif decision == "clarified":
        entry = row.chosen_entry
    else:
        entry = None
    self_service = False
    if decision in ("answered", "clarified"):
        times = handoffs.get(row.user_id, ())
        i = bisect.bisect_left(times, row.created_at)
        self_service = not (i < len(times) and times[i] <= row.created_at + SELF_SERVICE_WINDOW)
    unanswered = decision in UNANSWERED or row.none_of_these
    return Fact(
        day=day_number(row.created_at.date()),
        person=row.person,
        lang=row.lang,
        platform=row.platform,
        audience=row.audience,
        topic=topics.get(entry) if entry else None,
        entry=entry,
        near=row.top_entry,
        decision=decision,
        self_service=self_service,
        feedback=None if row.feedback is None else int(row.feedback),
        none_of_these=row.none_of_these,
        cluster_key=(
            cluster_key(row.text, lexicon, (names or {}).get(row.user_id, frozenset()))
            if unanswered and lexicon is not None
            else None
        ),
        query_id=row.id,
    )


async def raw_facts(
    store: AnalyticsStore,
    start: dt.datetime,
    end: dt.datetime,
    knowledge: Knowledge,
    filters: Any = None,
    *,
    unanswered: bool = False,
) -> list[Fact]:
    """The query log's questions of ``[start, end)`` as facts (what the figures read for
    the days not rolled up yet); with ``unanswered``, only the questions the bot could not
    answer (the roll-up's share made in Python: their grouping keys; the database turns
    the rest into facts, :meth:`~bot.analytics.store.AnalyticsStore.add_answered_facts`)."""
    from bot.analytics.anonymize import names_given

    rows = await store.raw_questions(start, end, filters, unanswered=unanswered)
    if not rows:
        return []
    users = {row.user_id for row in rows}
    handoffs = await store.handoffs(list(users), start, end + SELF_SERVICE_WINDOW)
    names: dict[int, frozenset[str]] = {}
    if knowledge.lexicon is not None:
        unsure = {
            row.user_id for row in rows if row.none_of_these or decision_of(row) in UNANSWERED
        }
        texts: dict[int, list[str]] = {}
        if unanswered:  # the names they gave may be in their other messages of the days
            texts = await store.texts_of(sorted(unsure), start, end)
        else:
            for row in rows:
                if row.user_id in unsure:
                    texts.setdefault(row.user_id, []).append(row.text)
        names = {user: names_given(t, knowledge.lexicon) for user, t in texts.items()}
    out = []
    for row in rows:
        fact = to_fact(
            row,
            topics=knowledge.topics,
            handoffs=handoffs,
            lexicon=knowledge.lexicon,
            names=names,
        )
        if fact is not None:
            out.append(fact)
    return out
