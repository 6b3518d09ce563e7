"""Small things people notice in the conversation: a single suggestion asked as a yes/no
question, and a calm word when someone sends a PESEL or a passport number unasked."""

from __future__ import annotations

import dataclasses

import pytest

from faq import build_matcher
from faq.config import DEFAULT_CONFIG
from faq.content import KnowledgeBase, load_knowledge_base
from faq.matcher import Matcher
from tests.unit.test_handlers import button_ids, buttons, kinds, onboarded, tr, write_kb

TIP = (
    "A small tip: I never need your PESEL or passport number, and it is safer not to send them "
    "in a chat. I have not kept it: I store questions with such numbers removed."
)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge_base(write_kb(tmp_path_factory.mktemp("content")))


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return build_matcher(kb)


@pytest.fixture(scope="module")
def unsure_matcher(kb: KnowledgeBase) -> Matcher:
    """The real matcher, never sure enough to answer, offering only its best guess."""
    config = dataclasses.replace(DEFAULT_CONFIG, answer_margin=2.0, clarify_window=0.0)
    return build_matcher(kb, config)


async def test_a_single_suggestion_is_asked_as_yes_or_no(
    kb: KnowledgeBase, unsure_matcher: Matcher
) -> None:
    question = "як отримати песель"
    result = unsure_matcher.match(question, "uk")
    assert (result.decision, len(result.offered)) == ("clarify", 1)  # the premise
    (entry_id,) = result.offered
    person = await onboarded(kb, unsure_matcher, "uk")

    (clarify,) = await person.says(question)

    (query_id,) = person.store.queries
    title = kb.entries[entry_id].title.get("uk")
    assert clarify.text == tr("uk", "Is this what you mean: **{title}**?").format(title=title)
    assert [b.label for b in buttons(clarify)] == ["Так", "Ні, про інше"]
    assert button_ids(clarify) == [f"e:{entry_id}:{query_id}", f"n:{query_id}"]
    (answer,) = await person.press(f"e:{entry_id}:{query_id}")  # "Yes": the answer
    assert answer.meta["entry"] == entry_id
    (dont_know,) = await person.press(f"n:{query_id}")  # "No": the honest "I don't know"
    assert dont_know.meta["kind"] == "handoff"


async def test_several_suggestions_still_ask_which(kb: KnowledgeBase, matcher: Matcher) -> None:
    question = "карта побиту"
    assert len(matcher.match(question, "uk").offered) >= 2
    person = await onboarded(kb, matcher, "uk")
    (clarify,) = await person.says(question)
    assert clarify.text == tr("uk", "Maybe one of these?")


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("uk", "мій песель 85 01 01 12345, як продовжити статус укр?"),
        ("ru", "мой номер паспорта FA123456 как получить песель"),
        ("pl", "mój PESEL to 85010112345, jak zmienić adres"),
        ("en", "my passport EA1234567 expired, what now"),
    ],
)
async def test_a_pesel_or_passport_number_sent_unasked_gets_a_gentle_tip(
    kb: KnowledgeBase, matcher: Matcher, lang: str, text: str
) -> None:
    person = await onboarded(kb, matcher, lang)
    replies = await person.says(text)
    assert kinds(replies)[-1] == "identifiers"  # after the answer, never instead of it
    assert len(replies) >= 2
    assert replies[-1].text == tr(lang, TIP)
    (logged,) = person.store.queries.values()
    assert (
        "12345" not in logged.text and "1234567" not in logged.text and "123456" not in logged.text
    )


@pytest.mark.parametrize(
    "text", ["як отримати песель", "мій номер +48 600 123 456, як продовжити статус", "800+"]
)
async def test_no_tip_without_such_a_number(kb: KnowledgeBase, matcher: Matcher, text: str) -> None:
    person = await onboarded(kb, matcher, "uk")
    assert "identifiers" not in kinds(await person.says(text))
