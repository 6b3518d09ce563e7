"""The subscription handlers (issue 16) on the synthetic knowledge base of
``tests/test_handlers.py``, with its in-memory store and its reply invariants (no English
leaking into other languages, buttons within Telegram's limits): opt-in only, the button under
answers on ``escalate`` entries and in the menu, /subscribe, /unsubscribe, one tap, stale ids."""

from __future__ import annotations

import pytest

from faq import build_matcher
from faq.content import KnowledgeBase, load_knowledge_base
from faq.matcher import Matcher
from handlers.privacy import privacy_notice
from tests.unit.test_handlers import button_ids, onboarded, tr, write_kb


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge_base(write_kb(tmp_path_factory.mktemp("content")))


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return build_matcher(kb)


async def test_nobody_is_subscribed_by_default_and_answers_offer_it_where_it_matters(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = await onboarded(kb, matcher, "uk")
    (plain,) = await person.press("e:pesel-ukr")
    assert not [i for i in button_ids(plain) if i.startswith("sb")]  # not a deadline topic
    (legal,) = await person.press("e:ukr-status")  # escalate: true
    assert "sb:e:ukr-status" in button_ids(legal)
    assert person.store.subscribed == {}  # nothing until they press it
    (menu,) = await person.command("menu")
    assert button_ids(menu)[-1] == "sb"


async def test_subscribe_to_an_entry_a_topic_and_my_situation(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = await onboarded(kb, matcher, "ru")
    (done,) = await person.press("sb:e:ukr-status")
    assert done.text.startswith(
        tr("ru", "✅ Done: I'll tell you when there is news about {what}.").format(
            what="«Статус UKR»"
        )
    )
    (again,) = await person.press("sb:e:ukr-status")
    assert again.text.startswith(tr("ru", "You already follow {what}.").format(what="«Статус UKR»"))
    (options,) = await person.command("subscribe")
    assert "sb:me" in button_ids(options) and "sb:t:stay" in button_ids(options)
    assert "«Статус UKR»" in options.text  # what they follow now
    (me,) = await person.press("sb:me")
    # They skipped the situation question: they get what matters to everyone, and are told so.
    assert (
        tr(
            "ru",
            "You haven't told me your situation, so you'll get the changes that matter "
            "to everyone.",
        )
        in me.text
    )
    await person.press("sb:t:stay")
    assert person.store.subscribed[person.user.id] == [
        ("entry", "ukr-status"),
        ("situation", ""),
        ("topic", "stay"),
    ]
    (options,) = await person.press("sb")
    assert "sb:me" not in button_ids(options) and "sb:t:stay" not in button_ids(options)
    assert "us:all" in button_ids(options)


async def test_unsubscribe_one_or_all(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "pl")
    (nothing,) = await person.command("unsubscribe")
    assert nothing.text == tr("pl", "You don't follow any updates.")
    await person.press("sb:e:ukr-status")
    await person.press("sb:me")
    (choice,) = await person.command("unsubscribe")
    assert button_ids(choice)[:3] == ["us:e:ukr-status", "us:me", "us:all"]
    (one,) = await person.press("us:e:ukr-status")
    assert one.text == tr("pl", "Done: no more updates about {what}.").format(what="«Status UKR»")
    assert person.store.subscribed[person.user.id] == [("situation", "")]
    (all_,) = await person.press("us:all")  # the announcements' one tap
    assert all_.text == tr(
        "pl", "Done: I won't send you any more updates. /subscribe starts them again."
    )
    assert person.store.subscribed.get(person.user.id, []) == []


@pytest.mark.parametrize(
    "forged", ["sb:e:no-such-entry", "sb:t:nowhere", "sb:x", "sb:e", "us:e:Bad_Id", "us:zz"]
)
async def test_stale_or_forged_subscription_buttons(
    kb: KnowledgeBase, matcher: Matcher, forged: str
) -> None:
    person = await onboarded(kb, matcher, "en")
    (reply,) = await person.press(forged)
    assert reply.meta["kind"] == "stale"
    assert person.store.subscribed.get(person.user.id, []) == []


async def test_the_privacy_notice_says_updates_are_opt_in(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = await onboarded(kb, matcher, "uk")
    (notice,) = await person.command("privacy")
    assert "/subscribe" in notice.text and "/unsubscribe" in notice.text
    assert notice.text.count("/forget") >= 2  # it deletes subscriptions too
    assert "Оновлення — тільки якщо ви їх попросите" in notice.text
    assert privacy_notice  # the one notice, used by /privacy and the welcome's button


async def test_forget_removes_subscriptions(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "uk")
    await person.press("sb:me")
    await person.command("forget")
    await person.press("fg:yes")
    assert person.store.subscribed == {}
