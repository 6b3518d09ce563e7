"""Every menu path of the bundled knowledge base, in every language, keeps the reply rules.

Structural only (no wording): whatever editors write, each topic and each entry opens, every
button id fits Telegram's 64 bytes, every related entry and the consultant button are live
buttons, and the footer dates are rendered in the person's language.
"""

from __future__ import annotations

import pytest

from bot.i18n import translator_for
from faq import build_matcher
from faq.content import KnowledgeBase, load_knowledge_base
from faq.languages import LANGS
from faq.matcher import Matcher
from handlers import ids
from tests.unit.test_handlers import Person, button_ids, onboarded, with_prefix


@pytest.fixture(scope="module")
def real_kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="module")
def real_matcher(real_kb: KnowledgeBase) -> Matcher:
    return build_matcher(real_kb)


@pytest.mark.parametrize("lang", LANGS)
async def test_every_topic_and_entry_of_the_bundled_content(
    real_kb: KnowledgeBase, real_matcher: Matcher, lang: str
) -> None:
    person: Person = await onboarded(real_kb, real_matcher, lang)
    (menu,) = await person.command("menu")
    topics = with_prefix(menu, ids.TOPIC)
    assert len(topics) == len(real_kb.menu.topics)
    t = translator_for(lang)
    opened = 0
    for topic_id in topics:
        (topic,) = await person.press(topic_id)
        for entry_id in with_prefix(topic, ids.ENTRY):
            (answer,) = await person.press(entry_id)
            entry = real_kb.entry(ids.parse(entry_id)[1][0])
            assert answer.meta["entry"] == entry.id
            assert entry.answer.get(lang) in answer.text
            assert t.format_date(entry.last_verified) in answer.text
            for button_id in button_ids(answer):
                prefix, args = ids.parse(button_id)
                assert prefix in (ids.ENTRY, ids.MENU, ids.HANDOFF, ids.SUBSCRIBE)
                if prefix == ids.ENTRY:
                    assert args[0] in real_kb.entries
            assert (f"h:e:{entry.id}" in button_ids(answer)) == entry.escalate
            assert (f"sb:e:{entry.id}" in button_ids(answer)) == entry.escalate
            opened += 1
    assert opened == len(
        {e for topic in real_kb.menu.topics for e in topic.entries} & set(real_kb.entries)
    )
