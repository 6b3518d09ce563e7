"""Greetings, names, thanks and politeness around a question do not drown it (issue 18, 4).

On the real knowledge base: these are the messages people actually write, and the fix is in
the reader (:func:`faq.reading.question_tokens`) and the content, not in special cases.
"""

from __future__ import annotations

import pytest

from faq import Matcher, load_matcher
from faq.reading import read


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return load_matcher()


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("Добрий день, мене звати Оксана, як отримати песель", "pesel-ukr"),
        ("Добрий день, мене звати Оксана, як отримати песель, дякую заранее", "pesel-ukr"),
        ("Добрий день, як отримати песель для доньки Марічки", "pesel-ukr"),
        (
            "Привіт! Мене звати Оксана Коваленко, підкажіть як зробити песель доньці Марічці. "
            "Дякую!",
            "pesel-ukr",
        ),
        (
            "Здравствуйте, меня зовут Ирина, как сделать песель для сына? Спасибо заранее",
            "pesel-ukr",
        ),
        ("Dzień dobry, nazywam się Olena, jak zrobić PESEL dla córki?", "pesel-ukr"),
        (
            "Hello, my name is Olena, how do I get a PESEL for my son? Thanks in advance",
            "pesel-ukr",
        ),
        ("karta pobytu продовжити", "temporary-residence"),
        ("how much does a karta pobytu cost", "temporary-residence"),
        ("я з білорусі, хочу працювати в польщі", "work-permit"),
        ("я гражданин беларуси, можно ли работать в польше", "work-permit"),
        ("jestem z Białorusi, jak mogę pracować w Polsce", "work-permit"),
    ],
)
def test_the_question_is_answered(matcher: Matcher, text: str, entry: str) -> None:
    result = matcher.match(text)
    assert result.decision == "answer", result.to_dict()
    assert result.offered == (entry,)


def test_a_belarusian_asking_for_asylum_still_gets_asylum(matcher: Matcher) -> None:
    assert matcher.match("я з білорусі хочу попросити притулок").offered == (
        "international-protection",
    )


def test_the_reader_keeps_the_question_and_the_intent_sees_everything(matcher: Matcher) -> None:
    reading = read(
        "Добрий день, мене звати Оксана, як отримати песель. Дякую!", matcher.index.lexicon
    )
    assert reading.question == ("як", "отримати", "песель")
    assert "дякую" in reading.tokens and "оксана" in reading.tokens
    # A greeting or a thank-you alone is still read as one.
    assert matcher.match("Добрий день!").intent == "greeting"
    assert matcher.match("дякую заранее").intent == "thanks"


def test_a_known_capitalised_word_is_not_taken_for_a_name(matcher: Matcher) -> None:
    reading = read("як отримати PESEL у Кракові", matcher.index.lexicon)
    assert reading.question == ("як", "отримати", "pesel", "у", "кракові")
