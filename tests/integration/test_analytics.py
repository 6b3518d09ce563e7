"""Analytics (issue 15): the figures against hand-computed expectations on both databases,
k-anonymity at k-1, k and k+1 people, no personal string in any output format, the same
report before and after ``otwarta prune`` (and ``/forget``), a self-contained html report."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import html.parser
import json
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, insert, select, update

from bot.analytics.facts import raw_facts
from bot.analytics.figures import Figures, Filters, Knowledge, Period, PeriodError, compute
from bot.analytics.report import render, render_html, write_csv
from bot.analytics.retention import RetentionJob, prune, roll_up
from bot.analytics.store import (
    CELL_PEOPLE,
    CELLS,
    FACTS,
    ROLLUP,
    SMALL_CELL,
    AnalyticsStore,
    midnight,
)
from bot.db import Database, SqlConversationStore
from bot.db.desk_models import Ticket, TicketMessage, TicketRating
from bot.db.models import QueryLog
from bot.desk.hours import WorkingHours
from handlers.context import UserState

UTC = dt.UTC
DAY = dt.date(2026, 3, 3)  # a Tuesday
PERIOD = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))
AFTER = dt.datetime(2026, 12, 1, 12, tzinfo=UTC)  # long after the period: past retention


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return Knowledge.load()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(db_url)
    try:
        yield database
    finally:
        await database.dispose()


class Seeder:
    """Writes what the bot writes, through the database layer the bot uses."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.people: dict[str, UserState] = {}

    async def person(
        self, name: str, platform: str = "telegram", audience: str | None = None
    ) -> UserState:
        async with self.db.transaction() as uow:
            user = await uow.people.touch(platform, f"ext-{name}", at(DAY, 0))
            user.audience = audience
            await uow.people.save(user)
        self.people[name] = user
        return user

    async def ask(
        self,
        who: str,
        when: dt.datetime,
        text: str,
        decision: str,
        *,
        lang: str = "uk",
        intent: str | None = None,
        candidates: list[tuple[str, float]] | None = None,
        feedback: bool | None = None,
        choice: str | None = None,
        none_of_these: bool = False,
    ) -> int:
        user = self.people[who]
        async with self.db.transaction() as uow:
            store = SqlConversationStore(uow, lambda: when)
            query_id = await store.log_query(user, text, decision, intent, lang, candidates or [])
            if feedback is not None:
                await store.record_feedback(user, query_id, feedback)
            if choice is not None:
                await store.record_choice(user, query_id, choice)
            if none_of_these:
                await store.record_choice(user, query_id, None)
        return query_id

    async def ticket(
        self,
        who: str | None,
        opened: dt.datetime,
        *,
        lang: str = "uk",
        first_reply: dt.timedelta | None = None,
        closed: dt.timedelta | None = None,
        reason: str | None = None,
        rating: int | None = None,
        comment: str | None = None,
        question: str | None = None,
        person_name: str | None = None,
        message: str | None = None,
    ) -> int:
        async with self.db.transaction() as uow:
            row = {
                "user_id": self.people[who].id if who else None,
                "state": "closed" if closed is not None else "waiting",
                "close_reason": reason,
                "origin": "request",
                "platform": "telegram",
                "lang": lang,
                "candidates": [],
                "question": question,
                "person_name": person_name,
                "opened_at": opened,
                "first_response_at": opened + first_reply if first_reply else None,
                "closed_at": opened + closed if closed is not None else None,
            }
            ticket_id = (
                await uow.session.execute(
                    insert(Ticket.__table__).returning(Ticket.__table__.c.id), row
                )
            ).scalar_one()
            if message is not None:
                await uow.session.execute(
                    insert(TicketMessage.__table__).values(
                        ticket_id=ticket_id,
                        direction="in",
                        kind="text",
                        text=message,
                        created_at=opened,
                    )
                )
            if rating is not None:
                await uow.session.execute(
                    insert(TicketRating.__table__).values(
                        ticket_id=ticket_id,
                        round=0,
                        score=rating,
                        comment=comment,
                        created_at=opened + (closed or dt.timedelta()),
                    )
                )
        return int(ticket_id)


async def figures_of(
    db: Database, knowledge: Knowledge, k: int = 1, period: Period = PERIOD, **kw: Any
) -> Figures:
    return await compute(db, period, knowledge=knowledge, min_count=k, **kw)


# -- the figures, by hand ---------------------------------------------------------------------


async def _scenario(db: Database) -> Seeder:
    s = Seeder(db)
    await s.person("a", "telegram", "ukr-status")
    await s.person("b", "viber", "residence-card")
    await s.person("c", "telegram")
    await s.person("d", "viber")
    await s.person("e", "telegram")
    pesel = [("ukr-status", 0.9), ("diia-card", 0.5)]
    # a: answered (👍), and the next day an unknown question.
    await s.ask("a", at(DAY, 10), "як отримати статус", "answer", candidates=pesel, feedback=True)
    await s.ask(
        "a",
        at(DAY + dt.timedelta(days=1), 9),
        "де ловити рибу у Віслі",
        "handoff",
        candidates=[("scams", 0.2)],
    )
    # b: answered (👎), then a ticket 10 minutes later: not self-service.
    await s.ask(
        "b", at(DAY, 11), "статус укр", "answer", lang="ru", candidates=pesel, feedback=False
    )
    await s.ticket(
        "b",
        at(DAY, 11, 10),
        lang="ru",
        first_reply=dt.timedelta(minutes=6),
        closed=dt.timedelta(minutes=40),
        reason="resolved",
        rating=5,
        comment="дякую",
    )
    # c: a clarification answered by picking an entry, and one with "none of these".
    await s.ask(
        "c",
        at(DAY, 12),
        "карта",
        "clarify",
        lang="pl",
        candidates=[("diia-card", 0.6), ("permanent-residence", 0.55)],
        choice="permanent-residence",
    )
    await s.ask(
        "c",
        at(DAY, 13),
        "karta coś",
        "clarify",
        lang="pl",
        candidates=[("diia-card", 0.6), ("ukr-status", 0.55)],
        none_of_these=True,
    )
    # d: asks for a person, and says hello (small talk is not a question).
    await s.ask("d", at(DAY, 14), "хочу консультанта", "handoff", intent="human")
    await s.ask("d", at(DAY, 14, 1), "привіт", "handoff", intent="greeting")
    await s.ticket(
        "d",
        at(DAY, 14, 2),
        first_reply=dt.timedelta(minutes=30),
        closed=dt.timedelta(hours=2),
        reason="no_reply",
        rating=3,
    )
    # e: urgent; a ticket still waiting, opened at night (out of hours).
    await s.ask("e", at(DAY, 22), "мені погано", "handoff", intent="urgent", lang="en")
    await s.ticket("e", at(DAY, 22, 1), lang="en")
    return s


async def test_figures_match_the_hand_count(db: Database, knowledge: Knowledge) -> None:
    await _scenario(db)
    hours = WorkingHours.from_text("mon-fri 09:00-17:00", "UTC", observe_holidays=False)
    f = await figures_of(db, knowledge, k=1, hours=hours)
    data = f.to_json()
    assert data["period"] == {"from": "2026-03-02", "to": "2026-03-08"}
    assert data["questions"] == 7  # the greeting is not counted
    assert data["people"] == 5
    assert data["by_language"] == {"uk": 3, "pl": 2, "en": 1, "ru": 1}
    assert data["by_platform"] == {"telegram": 5, "viber": 2}
    assert data["by_audience"] == {"unknown": 4, "ukr-status": 2, "residence-card": 1}
    assert data["by_entry"] == {"ukr-status": 2, "permanent-residence": 1}
    assert data["by_topic"] == {"stay": 3}
    assert data["decisions"] == {
        "answered": 2,
        "clarified": 1,
        "maybe": 1,
        "unknown": 1,
        "handed_off": 1,
        "urgent": 1,
    }
    assert data["feedback"] == {
        "ukr-status": {"up": 1, "down": 1, "none_of_these": 0},
        "diia-card": {"up": 0, "down": 0, "none_of_these": 1},
    }
    # Self-served: a's answer and c's pick (b asked for a person 10 minutes after).
    assert data["self_service_rate"] == round(2 / 7, 3)
    assert data["returning_people"] == 1  # a came back the next day
    assert data["unanswered_questions"] == 2  # a's unknown one and c's "none of these"
    assert sum(c["count"] for c in data["unanswered"]) == 2
    assert data["series"][0]["start"] == "2026-03-03"
    assert [s["questions"] for s in data["series"]] == [6, 1]
    desk = data["desk"]
    assert desk["opened"] == 3
    assert desk["closed_by_reason"] == {"no_reply": 1, "resolved": 1}
    assert desk["waiting_now"] == 1
    assert desk["first_reply_minutes"] == {"p50": 6.0, "p90": 30.0}
    assert desk["close_minutes"] == {"p50": 40.0, "p90": 120.0}
    assert (desk["in_hours"], desk["out_of_hours"]) == (2, 1)
    assert desk["by_language"] == {"en": 1, "ru": 1, "uk": 1}
    assert desk["ratings"] == {
        "mean": 4.0,
        "counts": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1},
        "comments": 1,
    }
    assert data["min_count"] == 1
    # Buckets and filters.
    weekly = (await figures_of(db, knowledge, bucket="week")).to_json()
    assert [(s["start"], s["questions"]) for s in weekly["series"]] == [("2026-03-02", 7)]
    only_pl = (await figures_of(db, knowledge, filters=Filters(lang="pl"))).to_json()
    assert only_pl["questions"] == 2 and only_pl["decisions"]["maybe"] == 1
    assert only_pl["desk"]["opened"] == 0
    viber = (await figures_of(db, knowledge, filters=Filters(platform="viber"))).to_json()
    assert viber["questions"] == 2 and viber["people"] == 2
    # The previous week is empty: what grew is everything shown now.
    assert data["previous"]["questions"] == 0
    assert f.growth("by_entry")[0] == ("ukr-status", 2, 0)


async def test_the_previous_period_counted_side_by_side_is_the_one_counted_after(
    db: Database, knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _scenario(db)
    await _spread_scenario(db, 6)  # questions in the period before PERIOD's week too
    period = Period(PERIOD.start + dt.timedelta(days=7), PERIOD.end + dt.timedelta(days=7))
    shown = {}
    for parallel in (False, db.parallel_reads):
        monkeypatch.setattr(db, "parallel_reads", parallel)
        figures = await figures_of(db, knowledge, k=1, period=period)
        assert figures.previous is not None and figures.previous.questions.n > 0
        shown[parallel] = (figures.to_json(), figures.previous.to_json())
    assert shown[False] == shown[db.parallel_reads]
    # On PostgreSQL both periods are read at once, each in its own read transaction.
    assert db.parallel_reads == (not db.is_sqlite)


async def test_the_roll_up_gives_the_same_figures(db: Database, knowledge: Knowledge) -> None:
    await _scenario(db)
    before = (await figures_of(db, knowledge)).to_json()
    assert await roll_up(db, knowledge, now=AFTER) > 0
    async with db.read() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(FACTS)) == 7
    assert (await figures_of(db, knowledge)).to_json() == before
    assert await roll_up(db, knowledge, now=AFTER) == 0  # nothing left to roll up


# -- the daily cells (issue 15.4) --------------------------------------------------------------


async def _spread_scenario(db: Database, n: int) -> Seeder:
    """``n`` people, each on a day of their own: no single day has ``k`` of them, so whether
    a figure is shown rests on the people kept for the small cells."""
    s = Seeder(db)
    for i in range(n):
        day = PERIOD.start + dt.timedelta(days=i % PERIOD.days)
        await s.person(f"p{i}", "viber" if i == 0 else "telegram", "ukr-status" if i % 2 else None)
        lang = "uk" if i % 3 else "ru"
        pesel = [("ukr-status", 0.9), ("diia-card", 0.5)]
        await s.ask(f"p{i}", at(day, 9), "статус", "answer", lang=lang, candidates=pesel)
        await s.ask(
            f"p{i}",
            at(day, 10),
            "статус",
            "answer",
            lang=lang,
            candidates=pesel,
            feedback=i % 2 == 0,
        )
        await s.ask(
            f"p{i}",
            at(day + dt.timedelta(days=1), 11),
            "де ловити рибу в річці",
            "handoff",
            lang=lang,
            candidates=[("scams", 0.1)],
        )
        await s.ask(
            f"p{i}",
            at(day, 12),
            "karta coś",
            "clarify",
            lang="pl",
            candidates=[("diia-card", 0.6), ("ukr-status", 0.55)],
            none_of_these=True,
        )
    return s


@pytest.mark.parametrize("n", [4, 5, 6, 9])
async def test_the_daily_cells_give_the_same_figures_as_the_log(
    db: Database, knowledge: Knowledge, n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _spread_scenario(db, n)
    period = Period(PERIOD.start, PERIOD.end + dt.timedelta(days=7))  # the unknowns spill over
    cases: list[dict[str, Any]] = [
        {"k": k, "bucket": bucket} for k in (1, 5, SMALL_CELL) for bucket in ("day", "week")
    ]
    cases += [{"k": 5, "filters": Filters(lang="uk")}, {"k": SMALL_CELL + 1}]
    before = [(await figures_of(db, knowledge, period=period, **c)) for c in cases]
    await roll_up(db, knowledge, now=AFTER)
    async with db.read() as uow:
        assert await AnalyticsStore(uow).cells_through() is not None
        assert await uow.session.scalar(select(func.count()).select_from(CELL_PEOPLE)) > 0
    counted_by_facts: list[dict[str, Any]] = []
    real = AnalyticsStore.fact_counts

    async def fact_counts(self: AnalyticsStore, *args: Any) -> dict[str, Any]:
        counted_by_facts.append(case_)
        return await real(self, *args)

    monkeypatch.setattr(AnalyticsStore, "fact_counts", fact_counts)
    for case_, figures in zip(cases, before, strict=True):
        after = await figures_of(db, knowledge, period=period, **case_)
        assert after.to_json() == figures.to_json(), case_
        assert after.entries_json() == figures.entries_json(), case_
    # Filtered, or k beyond what the cells keep: counted from the facts instead.
    by_facts = [c for c in cases if "filters" in c or c["k"] > SMALL_CELL]
    assert counted_by_facts == [c for c in by_facts for _ in ("now", "before")]
    shown = (await figures_of(db, knowledge, k=5, period=period)).to_json()
    assert shown["people"] == (n if n >= 5 else "<5")
    assert shown["by_entry"]["ukr-status"] == (2 * n if n >= 5 else "<5")


async def test_the_set_based_roll_up_makes_the_facts_the_log_would(
    db: Database, knowledge: Knowledge
) -> None:
    await _scenario(db)
    await _personal_scenario(db)
    await roll_up(db, knowledge, now=AFTER)
    start, end = midnight(PERIOD.start - dt.timedelta(days=30)), midnight(AFTER.date())
    async with db.read() as uow:
        store = AnalyticsStore(uow)
        rolled = [f async for f in store.facts(0, 99999999, None)]
        from_log = await raw_facts(store, start, end, knowledge)
    assert len(rolled) > 10
    assert sorted(rolled, key=lambda f: f.query_id or 0) == from_log


async def test_cells_catch_up_after_a_roll_up_without_them(
    db: Database, knowledge: Knowledge
) -> None:
    await _scenario(db)
    await roll_up(db, knowledge, now=AFTER)
    expected = (await figures_of(db, knowledge)).to_json()
    # A database rolled up before the cells existed: facts, no cells.
    async with db.transaction() as uow:
        await uow.session.execute(delete(CELLS))
        await uow.session.execute(delete(CELL_PEOPLE))
        await uow.session.execute(update(ROLLUP).values(cells_through=None))
    assert (await figures_of(db, knowledge)).to_json() == expected  # read from the facts
    assert await roll_up(db, knowledge, now=AFTER) == 0
    async with db.read() as uow:
        assert (
            await AnalyticsStore(uow).cells_through() == await AnalyticsStore(uow).rolled_through()
        )
        assert await uow.session.scalar(select(func.count()).select_from(CELLS)) > 0
    assert (await figures_of(db, knowledge)).to_json() == expected


# -- k-anonymity -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [4, 5, 6])
async def test_suppression_at_k_minus_one_k_and_k_plus_one(
    db: Database, knowledge: Knowledge, n: int
) -> None:
    s = Seeder(db)
    for i in range(n):
        await s.person(f"p{i}", "viber" if i == 0 else "telegram")
        await s.ask(
            f"p{i}",
            at(DAY, 9, i),
            "статус",
            "answer",
            candidates=[("ukr-status", 0.9)],
            feedback=True,
        )
        # The same person twice more: counts of questions never pass for counts of people.
        await s.ask(f"p{i}", at(DAY, 10, i), "статус", "answer", candidates=[("ukr-status", 0.9)])
        await s.ask(
            f"p{i}",
            at(DAY, 11, i),
            "де ловити рибу в річці",
            "handoff",
            candidates=[("scams", 0.1)],
        )
        await s.ticket(
            f"p{i}",
            at(DAY, 12, i),
            first_reply=dt.timedelta(minutes=5),
            closed=dt.timedelta(minutes=10),
            reason="resolved",
            rating=4,
        )
    data = (await figures_of(db, knowledge, k=5)).to_json()
    shown = n >= 5
    hidden = "<5"
    assert data["questions"] == (3 * n if shown else hidden)
    assert data["people"] == (n if shown else hidden)
    assert data["by_entry"] == {"ukr-status": 2 * n if shown else hidden}
    assert data["feedback"]["ukr-status"]["up"] == (n if shown else hidden)
    assert data["by_platform"]["viber"] == hidden  # one person, always hidden
    assert data["decisions"]["urgent"] == 0 or data["decisions"]["urgent"] == hidden
    assert data["desk"]["opened"] == (n if shown else hidden)
    assert data["desk"]["first_reply_minutes"]["p50"] == (5.0 if shown else hidden)
    assert data["desk"]["ratings"]["mean"] == (4.0 if shown else hidden)
    assert data["desk"]["ratings"]["counts"]["4"] == (n if shown else hidden)
    assert data["self_service_rate"] == (round(2 / 3, 3) if shown else hidden)
    (cluster,) = data["unanswered"]
    assert cluster["people"] == (n if shown else hidden)
    assert cluster["count"] == (n if shown else hidden)
    assert bool(cluster["examples"]) is shown  # examples only from clusters of k people
    for value in _leaves(data):
        assert not (isinstance(value, str) and value.startswith("<") and value != hidden)
    assert json.loads(json.dumps(data)) == data


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


# -- privacy -----------------------------------------------------------------------------------

NAMES = ["Оксана", "Коваль", "Тарас", "Шевчук", "Natalia", "Kowalska", "Ірина", "Петренко"]
SECRETS = ["+48 600 123 456", "600123456", "oksana@example.com", "85010112345", "FA123456"]


async def _personal_scenario(db: Database) -> Seeder:
    s = Seeder(db)
    texts = [
        "Мене звати Оксана Коваль, де ловити рибу у Віслі? мій телефон +48 600 123 456",
        "Я Тарас Шевчук, де можна ловити рибу у Кракові, пишіть oksana@example.com",
        "Мене звати Natalia Kowalska, де ловити рибу? PESEL 85010112345",
        "де ловити рибу у Віслі? паспорт FA123456",
        "де ловити рибу у Віслі, підкажіть",
        "де ловити рибу у Віслі на вихідних",
    ]
    for i, text in enumerate(texts):
        await s.person(f"x{i}")
        if i == 3:
            # The name was given in an earlier message.
            await s.ask(
                f"x{i}", at(DAY, 8), "Мене звати Ірина Петренко", "handoff", intent="greeting"
            )
        await s.ask(f"x{i}", at(DAY, 9, i), text, "handoff", candidates=[("scams", 0.2)])
        await s.ticket(
            f"x{i}",
            at(DAY, 9, 30 + i),
            first_reply=dt.timedelta(minutes=3),
            closed=dt.timedelta(minutes=9),
            reason="resolved",
            rating=5,
            comment="Дякую, Оксана Коваль",
            question=text,
            person_name=NAMES[0],
            message=text,
        )
    return s


def _outputs(figures: Figures, knowledge: Knowledge, tmp_path: Path) -> dict[str, str]:
    out = {
        "json": render(figures, knowledge, "json", "pl"),
        "html": render_html(figures, knowledge, "uk"),
    }
    archive = tmp_path / "report.zip"
    write_csv(figures, archive)
    with zipfile.ZipFile(archive) as z:
        out["csv"] = "\n".join(z.read(name).decode() for name in z.namelist())
    return out


async def test_no_personal_string_in_any_format(
    db: Database, knowledge: Knowledge, tmp_path: Path
) -> None:
    s = await _personal_scenario(db)
    figures = await figures_of(db, knowledge, k=5)
    data = figures.to_json()
    (cluster,) = [c for c in data["unanswered"] if not c.get("rest")]
    assert cluster["people"] == 6 and len(cluster["examples"]) == 3  # there ARE examples
    assert any("[name]" in e for e in cluster["examples"])
    for fmt, text in _outputs(figures, knowledge, tmp_path).items():
        for secret in [*NAMES, *SECRETS, "ext-x", "дякую, оксана"]:
            assert secret.casefold() not in text.casefold(), (fmt, secret)
        for user in s.people.values():
            assert f'"{user.address.chat_id}"' not in text
    # Every example alone, too: no name given anywhere in the conversation, no number.
    for example in cluster["examples"]:
        assert not re.search(r"\d{6,}", example)


# -- retention ---------------------------------------------------------------------------------


def _without_examples(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for cluster in data["unanswered"]:
        cluster["examples"] = []
    return data


async def test_the_same_report_before_and_after_prune(
    db: Database, knowledge: Knowledge, tmp_path: Path
) -> None:
    await _scenario(db)
    await _personal_scenario(db)
    before = await figures_of(db, knowledge, k=5)
    assert any(c["examples"] for c in before.to_json()["unanswered"])

    result = await prune(db, knowledge, older_than_days=180, now=AFTER)
    assert result.questions == 15 and result.rolled_days > 0

    after = await figures_of(db, knowledge, k=5)
    assert _without_examples(after.to_json()) == _without_examples(before.to_json())
    # The texts are gone: no examples left to show, nothing in the query log or the tickets.
    assert all(not c["examples"] for c in after.to_json()["unanswered"])
    async with db.read() as uow:
        session = uow.session
        assert await session.scalar(select(func.count()).select_from(QueryLog.__table__)) == 0
        tickets = Ticket.__table__
        assert (
            await session.scalar(select(func.count()).where(tickets.c.question.is_not(None))) == 0
        )
        assert (
            await session.scalar(select(func.count()).where(tickets.c.person_name.is_not(None)))
            == 0
        )
        assert (
            await session.scalar(
                select(func.count()).where(TicketMessage.__table__.c.text.is_not(None))
            )
            == 0
        )
        comments = TicketRating.__table__.c.comment
        assert await session.scalar(select(func.count()).where(comments.is_not(None))) == 7
        assert await session.scalar(select(func.count()).where(comments != "")) == 0
    for fmt, text in _outputs(after, knowledge, tmp_path).items():
        for secret in [*NAMES, *SECRETS]:
            assert secret.casefold() not in text.casefold(), (fmt, secret)
    # Pruning again changes nothing.
    again = await prune(db, knowledge, older_than_days=180, now=AFTER)
    assert (again.questions, again.rolled_days) == (0, 0)
    assert (await figures_of(db, knowledge, k=5)).to_json() == after.to_json()


async def test_forget_leaves_what_the_roll_up_counted(db: Database, knowledge: Knowledge) -> None:
    s = await _scenario(db)
    await roll_up(db, knowledge, now=AFTER)
    before = (await figures_of(db, knowledge)).to_json()
    async with db.transaction() as uow:
        await SqlConversationStore(uow, lambda: AFTER).forget_user(s.people["a"])
    after = (await figures_of(db, knowledge)).to_json()
    assert after["questions"] == before["questions"] == 7
    assert after["decisions"] == before["decisions"]
    # Not rolled up yet: a question asked today goes with the person.
    today = AFTER.date()
    await s.ask("b", at(today, 9), "статус", "answer", candidates=[("ukr-status", 0.9)])
    now_period = Period(today, today)
    assert (await figures_of(db, knowledge, period=now_period)).to_json()["questions"] == 1
    async with db.transaction() as uow:
        await SqlConversationStore(uow, lambda: AFTER).forget_user(s.people["b"])
    assert (await figures_of(db, knowledge, period=now_period)).to_json()["questions"] == 0


async def test_the_daily_job_rolls_up_and_prunes_once_a_day(
    db: Database, knowledge: Knowledge
) -> None:
    await _scenario(db)
    clock = [AFTER]
    job = RetentionJob(db, knowledge, retention_days=180, clock=lambda: clock[0])
    first = await job.run_once()
    assert first is not None and first.questions == 8
    assert await job.run_once() is None  # done for today
    clock[0] += dt.timedelta(days=1)
    assert await job.run_once() is not None


# -- the report --------------------------------------------------------------------------------


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action") and value:
                self.urls.append(value)


async def test_html_is_self_contained_with_a_chart_each(db: Database, knowledge: Knowledge) -> None:
    await _scenario(db)
    figures = await figures_of(db, knowledge, k=1)
    for lang in ("pl", "en", "uk", "ru"):
        page = render_html(figures, knowledge, lang)
        parser = _Links()
        parser.feed(page)
        assert not [u for u in parser.urls if re.match(r"(?i)\s*(https?:)?//", u)]
        assert "script" not in parser.tags and "link" not in parser.tags
        assert "@import" not in page and "url(" not in page
        assert parser.tags.count("figure") == 5 == parser.tags.count("svg")
        assert page.count("<figure") == len(
            re.findall(r"<figure[^>]*>\s*<figcaption>[^<]+</figcaption>\s*<svg", page)
        )
    assert "Pytania" in render_html(figures, knowledge, "pl") or "pytania" in render_html(
        figures, knowledge, "pl"
    )


def _cli(monkeypatch: pytest.MonkeyPatch, db_url: str, *args: str) -> Any:
    from bot.cli import main
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        get_settings.cache_clear()


def test_the_report_command(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async def seed() -> None:
        database = Database.from_url(db_url)
        try:
            await _personal_scenario(database)
        finally:
            await database.dispose()

    asyncio.run(seed())  # the command runs its own event loop
    result = _cli(
        monkeypatch,
        db_url,
        "report",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-08",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["questions"] == 6 and data["min_count"] == 5
    assert list(data)[:13] == [
        "period",
        "questions",
        "people",
        "by_language",
        "by_platform",
        "by_audience",
        "by_topic",
        "by_entry",
        "decisions",
        "feedback",
        "unanswered",
        "desk",
        "min_count",
    ]
    page = tmp_path / "r.html"
    result = _cli(
        monkeypatch,
        db_url,
        "report",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-08",
        "--out",
        str(page),
        "--lang",
        "en",
    )
    assert result.exit_code == 0 and "<svg" in page.read_text()
    folder = tmp_path / "csv"
    result = _cli(
        monkeypatch,
        db_url,
        "report",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-08",
        "--format",
        "csv",
        "--out",
        str(folder),
    )
    assert result.exit_code == 0 and (folder / "by_entry.csv").is_file()
    assert (folder / "summary.csv").read_text().splitlines()[5] == "people,6"
    # Bad dates, an empty period.
    bad = _cli(monkeypatch, db_url, "report", "--from", "2026-02-30", "--to", "2026-03-08")
    assert bad.exit_code == 2 and "not a date" in bad.output
    backwards = _cli(monkeypatch, db_url, "report", "--from", "2026-03-08", "--to", "2026-03-01")
    assert backwards.exit_code == 2 and "before it starts" in backwards.output
    empty = _cli(monkeypatch, db_url, "report", "--from", "2025-01-01", "--to", "2025-01-31")
    assert empty.exit_code == 3 and "nothing to report" in empty.output
    # otwarta prune
    pruned = _cli(monkeypatch, db_url, "prune", "--older-than-days", "30")
    assert pruned.exit_code == 0 and "deleted 7 question(s)" in pruned.output


def test_periods() -> None:
    with pytest.raises(PeriodError):
        Period.parse("2026-13-01", "2026-12-01")
    assert PERIOD.previous() == Period(dt.date(2026, 2, 23), dt.date(2026, 3, 1))
    assert PERIOD.days == 7
