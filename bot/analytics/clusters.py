"""What the bot could not answer, grouped: similar questions (by their anonymous grouping key,
:func:`bot.analytics.facts.cluster_key`) clustered with rapidfuzz, each cluster with its count,
its people, the entries nearest to it (the matcher's best candidates for its questions) and
up to three example texts — scrubbed, without the names their authors gave, and only from a
cluster of at least ``k`` people. The clusters below ``k`` people are added up into one
"everything else" row.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from bot.analytics.store import AnalyticsStore

if TYPE_CHECKING:
    from bot.analytics.knowledge import Knowledge

#: Two grouping keys this similar (rapidfuzz ``token_set_ratio``, 0-100) and sharing two
#: words (one, for one-word keys) are one cluster.
SIMILARITY = 80
#: The most frequent keys clustered; rarer ones rest on too few people to be shown anyway.
MAX_KEYS = 2_000
MAX_EXAMPLES = 3
#: Query ids kept per key as candidate examples.
EXAMPLE_CANDIDATES = 12
NEAREST = 3


@dataclass
class Cluster:
    """A group of similar unanswered questions."""

    count: int
    people: int
    nearest: list[str]
    examples: list[str]
    rest: bool = False
    #: A stable name (:func:`cluster_id`), for the console's marks; ``""`` for the rest.
    id: str = ""


@dataclass
class KeyStats:
    """The unanswered questions with one grouping key."""

    n: int = 0
    people: set[int] = field(default_factory=set)
    near: Counter[str] = field(default_factory=Counter)
    query_ids: list[int] = field(default_factory=list)
    #: The grouping key that leads the cluster (what :attr:`Cluster.id` is made from).
    leader: str = ""

    def add(self, person: int, near: str | None, query_id: int | None) -> None:
        self.n += 1
        self.people.add(person)
        if near is not None:
            self.near[near] += 1
        if query_id is not None and len(self.query_ids) < EXAMPLE_CANDIDATES:
            self.query_ids.append(query_id)

    def merge(self, other: KeyStats) -> None:
        self.n += other.n
        self.people |= other.people
        self.near.update(other.near)
        room = EXAMPLE_CANDIDATES * 3 - len(self.query_ids)
        if room > 0:
            self.query_ids.extend(other.query_ids[:room])


def group(keys: dict[str, KeyStats]) -> tuple[list[KeyStats], KeyStats]:
    """Clusters of similar keys (deterministic: the most asked key leads), and what is left
    over (the keys beyond :data:`MAX_KEYS`)."""
    ordered = sorted(keys.items(), key=lambda kv: (-len(kv[1].people), -kv[1].n, kv[0]))
    leaders: list[str] = []
    groups: list[KeyStats] = []
    rest = KeyStats()
    for position, (key, stats) in enumerate(ordered):
        if position >= MAX_KEYS:
            rest.merge(stats)
            continue
        found = _similar(key, leaders) if key else None
        if found is None:
            leaders.append(key if key else "\x00")  # the empty key matches nothing else
            merged = KeyStats(leader=key)
            merged.merge(stats)
            groups.append(merged)
        else:
            groups[found].merge(stats)
    return groups, rest


def _similar(key: str, leaders: list[str]) -> int | None:
    """The index of the first leader like ``key``, if any."""
    if not leaders:
        return None
    mine = set(key.split())
    for _leader, _score, index in process.extract(
        key, leaders, scorer=fuzz.token_set_ratio, score_cutoff=SIMILARITY, limit=5
    ):
        theirs = set(leaders[index].split())
        if len(mine & theirs) >= min(2, len(mine), len(theirs)):
            return int(index)
    return None


def cluster_id(leader: str) -> str:
    """A short stable name for a cluster (the console marks clusters by it): a hash of its
    leading grouping key, so the same question groups under the same id from one period to
    the next, and the key itself (sorted words) is not shown."""
    import hashlib

    return hashlib.sha256(leader.encode()).hexdigest()[:12]


async def clusters(
    store: AnalyticsStore,
    keys: dict[str, KeyStats],
    *,
    min_count: int,
    knowledge: Knowledge,
    start: dt.datetime,
    end: dt.datetime,
) -> list[Cluster]:
    """The period's clusters, biggest first, then the rest added up."""
    from bot.analytics.anonymize import publishable

    groups, rest = group(keys)
    groups.sort(key=lambda g: (-len(g.people), -g.n))
    shown = []
    for g in groups:
        if len(g.people) < min_count:
            rest.merge(g)
        else:
            shown.append(g)
    # The examples: two queries for all the clusters (the texts, then their authors' other
    # messages, where the names they gave are).
    chosen: list[list[tuple[int, str]]] = [[] for _ in shown]
    others: dict[int, list[str]] = {}
    if knowledge.lexicon is not None and shown:
        texts = await store.texts([q for g in shown for q in g.query_ids])
        for picked, g in zip(chosen, shown, strict=True):
            seen: set[str] = set()
            for query_id in g.query_ids:
                if query_id not in texts:
                    continue  # pruned: the text is gone
                user_id, text = texts[query_id]
                if any(user_id == u for u, _ in picked) or text.casefold() in seen:
                    continue
                seen.add(text.casefold())
                picked.append((user_id, text))
                if len(picked) == MAX_EXAMPLES:
                    break
        authors = sorted({u for picked in chosen for u, _ in picked})
        others = await store.texts_of(authors, start - dt.timedelta(days=30), end)
    out: list[Cluster] = []
    for picked, g in zip(chosen, shown, strict=True):
        examples = (
            [publishable(t, others.get(u, []), knowledge.lexicon) for u, t in picked]
            if knowledge.lexicon is not None
            else []
        )
        out.append(
            Cluster(
                id=cluster_id(g.leader),
                count=g.n,
                people=len(g.people),
                nearest=[entry for entry, _ in g.near.most_common(NEAREST)],
                examples=examples,
            )
        )
    if rest.n:
        out.append(
            Cluster(count=rest.n, people=len(rest.people), nearest=[], examples=[], rest=True)
        )
    return out
