"""Questions about the bot itself: "хто ти", "ти бот чи людина?", "what can you do", "is this
official". They are made almost only of function words, so the word-based matcher cannot find
them; they go to the ``about-project`` entry (:data:`ABOUT_ENTRY`).

A message is about the bot when it is short and each group of one of the :data:`PATTERNS`
has a word present. Words are compared by phonetic skeleton (:func:`faq.text.skeleton`), so
Latin transliteration (``kto ty``, ``khto ty``) and the Cyrillic/Latin spellings meet; words of
five letters or more may be one typo off. A message that also asks to *talk* to a person
("хочу поговорити з людиною, а не з ботом") is a request for a person, not this.
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import OSA

from faq.lexicon import HUMAN_VERBS
from faq.text import skeleton, words

ABOUT_ENTRY = "about-project"

_YOU = "ти ты ви вы тебе тобою тобой you your ty jesteś jesteście ciebie"
_WHO = "хто кто who kim kto"
_WHAT = "що что what co чим чем"
_BOT = "бот бота ботом робот робота чатбот bot bota botem robot robotem chatbot"
_HUMAN = "людина людиною человек человеком human person człowiek człowiekiem"
_ABLE = "вмієш умієш умеешь вмієте умеете potrafisz umiesz potraficie umiecie"
_CAN = "можеш можешь можете can możesz robisz робиш делаешь"
_OFFICIAL = "офіційний офіційна официальный официальная official oficjalny oficjalna"
_THIS = "це цей это этот this ten бот bot ти ты you"
_CREATED = "створив створили зробив создал создали сделал made created built stworzył"
_OR = "чи или or czy"

PATTERNS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (4, (_WHO, _YOU)),  # хто ти / кто вы / who are you / kim jesteś
    (7, (_BOT, _YOU)),  # ти бот? / are you a bot / jesteś botem
    (7, (_BOT, _HUMAN, _OR)),  # бот чи людина / bot or human
    (4, (_HUMAN, _YOU)),  # ти людина? / are you human
    (4, (_ABLE,)),  # що ти вмієш / co potrafisz
    (5, (_WHAT, _CAN, _YOU)),  # what can you do / що ти можеш
    (6, (_OFFICIAL, _THIS)),  # це офіційний бот? / is this official
    (6, (_CREATED, _BOT)),  # хто створив бота
)
"""(most words, groups): each group needs one of its words present."""
MAX_WORDS = max(n for n, _ in PATTERNS)


def _skeletons(text: str) -> frozenset[str]:
    return frozenset(skeleton(t) for t in words(text))


_GROUPS = tuple((n, tuple(_skeletons(g) for g in groups)) for n, groups in PATTERNS)
_REQUEST = _skeletons(HUMAN_VERBS)
_ADDRESSED = _skeletons(_YOU) | _skeletons(_OR)


def _present(group: frozenset[str], skels: Sequence[str]) -> bool:
    for s in skels:
        if s in group:
            return True
        if len(s) >= 5 and any(
            len(g) >= 5 and OSA.distance(s, g, score_cutoff=1) <= 1 for g in group
        ):
            return True
    return False


def asks_about_the_bot(tokens: Sequence[str], asks_for_person: bool = False) -> bool:
    """Whether normalised ``tokens`` ask who or what the bot is (see the module docstring).

    ``asks_for_person``: the intent detector read a request for a person; that stands unless
    the bot itself is addressed ("ти бот чи людина?" is a question, "людину, не бота" is not).
    """
    if not tokens or len(tokens) > MAX_WORDS:
        return False
    skels = [skeleton(t) for t in tokens]
    if any(s in _REQUEST for s in skels):
        return False
    if asks_for_person and not any(s in _ADDRESSED for s in skels):
        return False
    return any(
        len(skels) <= n and all(_present(group, skels) for group in groups) for n, groups in _GROUPS
    )
