"""The ticket's topic name, its card and the pseudonym, rendered from a ticket's state."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.desk.sync import pseudonym_code
from bot.i18n import translator_for
from faq.content import KnowledgeBase, load_knowledge_base
from handlers.desk.card import render_card, topic_name, transfer_buttons
from handlers.desk.model import Consultant, Ticket
from handlers.model import Address, Platform

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


def ticket(**changes: object) -> Ticket:
    base = Ticket(
        id=42,
        state="waiting",
        close_reason=None,
        origin="unknown",
        urgent=False,
        lang="ru",
        topic="stay",
        audience="ukr-status",
        platform="viber",
        user_id=7,
        person=Address(Platform.VIBER, "vb-123"),
        consultant_id=None,
        consultant_name=None,
        question="как получить песель для ребенка",
        candidates=(("pesel-ukr", 0.61), ("no-longer-there", 0.5), ("ukr-status", 0.4)),
        opened_at=dt.datetime(2026, 5, 4, 9, 5, tzinfo=dt.UTC),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_topic_name(kb: KnowledgeBase) -> None:
    t = translator_for("uk")
    assert topic_name(ticket(), kb, t) == "#42 · RU · Легальне перебування"
    assert topic_name(ticket(urgent=True), kb, t).startswith("🚨 #42 · RU")
    assert topic_name(ticket(state="closed", close_reason="resolved"), kb, t).startswith("✅ #42")
    assert "#42 · RU · " in topic_name(ticket(topic=None), kb, t)
    assert len(topic_name(ticket(), kb, t)) <= 128


def test_card_of_a_waiting_ticket(kb: KnowledgeBase) -> None:
    t = translator_for("en")
    speakers = [Consultant(1, 9001, "Olena", ("uk", "ru")), Consultant(2, 9002, "Taras", ("ru",))]
    text, buttons = render_card(
        ticket(), person="Person #A7F3", speakers=speakers, kb=kb, t=t, timezone=WARSAW
    )
    assert "**Ticket #42** · opened 04.05 11:05" in text  # Warsaw time
    assert "👤 Person #A7F3" in text
    assert "RU" in text and "UKR status" in text and "Viber" in text
    assert "как получить песель для ребенка" in text
    assert kb.entries["pesel-ukr"].title.get("en") in text and "61%" in text
    assert "no-longer-there" not in text  # an entry removed from the content is skipped
    assert "Olena, Taras" in text
    assert [b.id for row in buttons for b in row] == ["dk:take:42", "dk:close:42", "dk:xfer:42"]


def test_card_after_take_and_after_close(kb: KnowledgeBase) -> None:
    t = translator_for("pl")
    taken = ticket(state="assigned", consultant_id=1, consultant_name="Olena")
    text, buttons = render_card(taken, person="x", speakers=[], kb=kb, t=t, timezone=WARSAW)
    assert "Olena" in text
    assert [b.id for row in buttons for b in row] == ["dk:close:42", "dk:xfer:42"]
    closed = dataclasses.replace(taken, state="closed", close_reason="no_reply")
    text, buttons = render_card(closed, person="x", speakers=[], kb=kb, t=t, timezone=WARSAW)
    assert buttons == ()
    assert "(/langs)" in text  # nobody speaks Russian yet, and the card says how to fix it


def test_an_urgent_card_says_so_first(kb: KnowledgeBase) -> None:
    text, _ = render_card(
        ticket(urgent=True), person="x", speakers=[], kb=kb, t=translator_for("uk"), timezone=WARSAW
    )
    assert text.startswith("🚨 **ТЕРМІНОВО**")


def test_transfer_buttons_put_speakers_of_the_language_first(kb: KnowledgeBase) -> None:
    consultants = [
        Consultant(1, 9001, "Anna", ("pl",)),
        Consultant(2, 9002, "Olena", ("uk", "ru")),
        Consultant(3, 9003, "Borys", ("ru",)),
    ]
    owned = ticket(state="assigned", consultant_id=3)
    rows = transfer_buttons(owned, consultants, translator_for("uk"))
    assert [row[0].id for row in rows] == ["dk:to:42:2", "dk:to:42:1", "dk:to:42:0"]
    assert rows[0][0].label == "Olena ✓"
    assert all(len(row[0].id.encode()) <= 64 for row in rows)


def test_pseudonym_is_stable_keyed_and_short() -> None:
    person = Address(Platform.TELEGRAM, "123456789")
    code = pseudonym_code(b"key-1", person)
    assert code == pseudonym_code(b"key-1", person)
    assert len(code) == 4 and code.isalnum() and code.upper() == code
    assert "123456789" not in code
    assert code != pseudonym_code(b"key-2", person)  # without the key it means nothing
    assert code != pseudonym_code(b"key-1", Address(Platform.VIBER, "123456789"))


def test_the_state_machine_is_one_table() -> None:
    """Issue 11 point 2: the states live in one enum and the transitions in one table, which
    the store's conditional UPDATEs read (``WHERE state IN sources(action)``)."""
    from handlers.desk import machine
    from handlers.desk.model import TicketState

    assert machine.sources(machine.Action.TAKE) == (TicketState.WAITING,)
    assert set(machine.sources(machine.Action.CLOSE)) == {TicketState.WAITING, TicketState.ASSIGNED}
    assert machine.sources(machine.Action.REOPEN) == (TicketState.CLOSED,)
    assert machine.target(TicketState.CLOSED, machine.Action.TAKE) is None
    assert machine.target(TicketState.WAITING, machine.Action.TAKE) is TicketState.ASSIGNED
    assert [s.value for s in TicketState] == ["waiting", "assigned", "closed"]
