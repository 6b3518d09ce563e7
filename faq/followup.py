"""Follow-ups: a short message read in the context of the last entry the person saw.

"а для дітей?", "а скільки це коштує?", "а де це в Кракові?", "і що взяти з собою",
"a dla dzieci?", "what about my husband?" only make sense after the previous answer. The
matcher (:meth:`faq.matcher.Matcher.match` with a :class:`MatchContext`) tells three cases:

- *the same entry*: the message names only an aspect of it (its children, cost, place,
  documents) -- answer that entry again, leading with the matching short section of the
  answer when the entry has one (``sections`` in the content schema);
- *a related entry or a refinement*: the message has words of its own, and read together
  with the context entry's title it fits the context entry or one of its ``related`` best;
- *a new topic*: the message alone is a confident answer elsewhere -- the context is dropped.

Aspect words are compared by phonetic skeleton, so transliteration meets the Cyrillic forms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from faq.content import SECTION_KEYS
from faq.text import skeleton, words

__all__ = ["ASPECTS", "SECTION_KEYS", "FollowUpReading", "MatchContext", "read_followup"]

ASPECTS: dict[str, str] = {
    "children": """
        діти дітей дитини дитину дитина дітям дитині дітьми дитиною доньки доньку сина син синові
        дети детей ребенка ребенок ребенку детям детьми ребенком дочери дочь сына
        dzieci dziecka dziecko dzieciom dziećmi dzieckiem córki córka syna syn
        child children kid kids son daughter baby
    """,
    "cost": """
        коштує коштуватиме кошт вартість ціна платно платити безкоштовно безплатно оплата
        стоит стоить стоимость цена платно платить бесплатно оплата
        kosztuje koszt cena płatne płacić darmowe bezpłatnie opłata
        cost costs price fee fees pay free charge much
    """,
    "where": """
        де куди адреса адресу знаходиться відділ офіс
        где куда адрес находится отдел офис
        gdzie dokąd adres urząd biuro
        where address office located
    """,
    "documents": """
        документи документів документы документов папери взяти принести
        брать взять принести бумаги справки
        dokumenty dokumentów papiery zabrać wziąć przynieść
        documents document papers bring need paperwork
    """,
    "family": """
        чоловік чоловіка чоловікові дружина дружину дружини жінка жінку мама маму батьки
        муж мужа мужу жена жену жены мама маму родители
        mąż męża mężem żona żony żoną mama rodzice
        husband wife spouse partner mother mom parents family
    """,
}
"""Words that name an aspect of the previous answer rather than a new subject."""

FOLLOWUP_WORDS = """
    а і й та ще також теж це цього цим там туди а-як а-якщо
    а и еще тоже также это этого этим там туда
    a i też także jeszcze to tego tym tam
    and also what about how about it this that there too
    для для for dla на за з с z with about про o
    скільки сколько ile how треба надо нужно потрібно trzeba need що что co what
    як как jak якщо если jeśli if мій мого моєї моя мой моего моей мою мій my mój mojego moja mojej
    повинен повинна мусить мушу должен должна обязан musi muszę must should
"""
"""Particles and question words a follow-up is made of besides its aspect."""

MAX_FOLLOWUP_WORDS = 10
"""A follow-up is short; a longer message is read on its own."""


@dataclass(frozen=True, slots=True)
class MatchContext:
    """What the person saw last (the handler keeps it with their state for a while)."""

    entry_id: str
    """The entry last answered or chosen."""
    shown_at: dt.datetime | None = None
    """When it was shown (informational: the handler decides when a context is too old)."""


def _skeletons(text: str) -> frozenset[str]:
    return frozenset(skeleton(t) for t in words(text))


_ASPECT_SKELETONS = {key: _skeletons(text) for key, text in ASPECTS.items()}
_FOLLOWUP_SKELETONS = _skeletons(FOLLOWUP_WORDS)


@dataclass(frozen=True, slots=True)
class FollowUpReading:
    aspect: str | None
    """The section key the message asks about (``children``, ``cost``...), if any."""
    rest: tuple[str, ...]
    """The message's tokens that are neither aspect words nor follow-up particles."""


def read_followup(
    tokens: Sequence[str], is_function_word: Callable[[str], bool] = lambda _: False
) -> FollowUpReading | None:
    """The aspect and the remaining words of a short message; ``None`` when too long.

    ``is_function_word`` (the matcher's stop words) leaves more particles out of ``rest``."""
    if not tokens or len(tokens) > MAX_FOLLOWUP_WORDS:
        return None
    aspect: str | None = None
    rest: list[str] = []
    for token in tokens:
        skel = skeleton(token)
        hit = next((k for k, skels in _ASPECT_SKELETONS.items() if skel in skels), None)
        if hit is not None:
            aspect = aspect or hit
        elif skel not in _FOLLOWUP_SKELETONS and not is_function_word(token):
            rest.append(token)
    return FollowUpReading(aspect, tuple(rest))
