"""An answer whose entry is past its ``review_by`` says so, offers a consultant, and is counted.

Through the real router, matcher and babel catalogs on the synthetic knowledge base of
``test_handlers`` (one entry given a review date); "today" is the turn's ``now``.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import yaml

from bot import metrics
from bot.i18n import LANGS, translator_for
from faq import build_matcher
from faq.content import KnowledgeBase, load_knowledge_base
from faq.matcher import Matcher
from handlers import ids
from handlers.context import TurnContext, UserState
from handlers.model import Address, EventKind, IncomingEvent, Platform, Reply, Sender
from handlers.router import handle
from tests.unit.test_handlers import MemoryStore, button_ids, write_kb

ENTRY = "residence-card"  # escalate: false, so any consultant button comes from staleness
REVIEW_BY = dt.date(2026, 12, 1)
STALE_LINE = (
    "⚠️ This answer may be out of date: its review date has passed. "
    "A consultant can check it for you."
)
_keys = itertools.count(1)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = write_kb(tmp_path_factory.mktemp("content"))
    path = root / "entries" / "stay" / f"{ENTRY}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["review_by"] = REVIEW_BY.isoformat()
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_knowledge_base(root)


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return build_matcher(kb)


async def open_entry(
    kb: KnowledgeBase, matcher: Matcher, lang: str, now: dt.datetime, entry_id: str = ENTRY
) -> Reply:
    address = Address(Platform.TELEGRAM, "5001")
    user = UserState(id=1, address=address, lang=lang, notice_seen=True)
    ctx = TurnContext(
        event=IncomingEvent(
            address=address,
            kind=EventKind.BUTTON,
            dedupe_key=str(next(_keys)),
            sender=Sender(address.chat_id, language_code=lang),
            payload=ids.entry(entry_id),
        ),
        user=user,
        kb=kb,
        matcher=matcher,
        store=MemoryStore(),
        translator_for=translator_for,
        now=now,
    )
    await handle(ctx)
    (reply,) = ctx.replies
    assert reply.meta["entry"] == entry_id
    return reply


def stale_count(entry_id: str = ENTRY) -> float:
    value = metrics.REGISTRY.get_sample_value("otwarta_stale_answers_total", {"entry": entry_id})
    return value or 0.0


@pytest.mark.parametrize("lang", LANGS)
async def test_past_review_by_says_so_offers_a_consultant_and_counts(
    kb: KnowledgeBase, matcher: Matcher, lang: str
) -> None:
    line = translator_for(lang).gettext(STALE_LINE)
    if lang != "en":
        assert line != STALE_LINE, "translated in every language"
    before = stale_count()
    reply = await open_entry(kb, matcher, lang, dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC))
    assert line in reply.text.split("\n\n")  # one line of its own
    assert reply.text.index(line) < reply.text.index(kb.entry(ENTRY).answer.get(lang))
    assert f"h:e:{ENTRY}" in button_ids(reply)
    assert stale_count() == before + 1


async def test_on_and_before_review_by_the_answer_is_plain(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    before = stale_count()
    # 23:30 UTC on 1 December is already 2 December in Kraków: the Polish date counts.
    for now, stale in [
        (dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC), False),
        (dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC), False),
        (dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC), True),
    ]:
        reply = await open_entry(kb, matcher, "uk", now)
        assert (translator_for("uk").gettext(STALE_LINE) in reply.text) is stale, now
        assert (f"h:e:{ENTRY}" in button_ids(reply)) is stale, now
    assert stale_count() == before + 1


async def test_entry_without_review_by_is_never_stale(kb: KnowledgeBase, matcher: Matcher) -> None:
    assert kb.entry("work-permit").review_by is None
    before = stale_count("work-permit")
    reply = await open_entry(
        kb, matcher, "ru", dt.datetime(2030, 1, 1, tzinfo=dt.UTC), entry_id="work-permit"
    )
    assert translator_for("ru").gettext(STALE_LINE) not in reply.text
    assert stale_count("work-permit") == before


def test_metric_is_exported() -> None:
    assert "otwarta_stale_answers" in metrics.render().decode()
