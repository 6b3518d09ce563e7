"""The web console in a real browser: the system Chromium driven by Playwright, against the
real console on a loopback aiohttp server and a real SQLite database. Sign in with the
keyboard, open each page, change the period (the form and the script's presets), mark a
cluster, download the patch, sign out — with no Content-Security-Policy violation in the
browser's console, and readable on a phone-sized screen.

Skipped, saying why, when Playwright or Chromium is missing (``.ci/run`` installs Chromium).
With ``OTWARTA_CONSOLE_SCREENSHOTS=DIR`` the test also saves a screenshot of each page there
(how ``docs/console/*.png`` were made)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import insert

from bot.analytics.figures import Knowledge
from bot.db import Database
from bot.db.desk_models import Consultant, Ticket, TicketMessage
from bot.settings import Settings
from bot.webconsole import accounts
from bot.webconsole.pages import application
from bot.webconsole.web import WebConsole
from tests.integration.test_analytics import Seeder

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
FIRST = dt.date(2026, 11, 1)
PASSWORD = "correct horse battery"

try:
    from playwright.async_api import async_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    async_playwright = None

pytestmark = [
    pytest.mark.skipif(async_playwright is None, reason="playwright is not installed"),
    pytest.mark.skipif(
        not Path(CHROMIUM).is_file(),
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)",
    ),
    pytest.mark.timeout(300),
]


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


ASKED = [
    ("uk", "як зробити песель укр", "answer", "pesel-ukr"),
    ("ru", "как получить песель укр", "answer", "pesel-ukr"),
    ("uk", "скільки платять 800 плюс", "answer", "benefit-800plus"),
    ("pl", "jak zapisać dziecko do szkoły", "answer", "school-enrolment"),
    ("en", "how do i find a family doctor", "answer", "doctor-visit"),
    ("uk", "карта побиту на 3 роки цукр", "answer", "cukr-card"),
    ("ru", "как открыть счёт в банке", "answer", "bank-account"),
]
FISHING = [
    "де отримати карту рибалки у кракові",
    "як отримати карту рибалки",
    "карта рибалки де отримати",
    "де зробити карту рибалки у польщі",
    "карту рибалки як отримати швидко",
    "отримати карту рибалки іноземцю",
    "карта рибалки для українців",
]


async def seed(db: Database) -> None:
    """A month of a small service: 42 people, several languages and platforms, a group of
    unanswered questions, tickets with two consultants, ratings."""
    s = Seeder(db)
    audiences = ["ukr-status", "residence-card", "other-tcn", None]
    for i in range(42):
        await s.person(f"p{i}", "telegram" if i % 3 else "viber", audiences[i % 4])
    for i in range(42):
        for j in range(3):
            lang, text, decision, entry = ASKED[(i + j) % len(ASKED)]
            day = FIRST + dt.timedelta(days=(i * 7 + j * 5) % 29)
            await s.ask(
                f"p{i}",
                at(day, 8 + (i + j) % 10),
                text,
                decision,
                lang=lang,
                candidates=[(entry, 0.9)],
                feedback=None if (i + j) % 3 else (i % 5 != 0),
            )
    for i, text in enumerate(FISHING):
        await s.ask(
            f"p{i}",
            at(FIRST + dt.timedelta(days=10 + i), 19),
            text,
            "handoff",
            candidates=[("scams", 0.2)],
        )
    async with db.transaction() as uow:
        ids = []
        for n, name in enumerate(("Olena K.", "Marek W.")):
            result = await uow.session.execute(
                insert(Consultant.__table__).returning(Consultant.__table__.c.id),
                {
                    "telegram_user_id": 1000 + n,
                    "display_name": name,
                    "languages": ["uk", "pl"],
                    "created_at": at(FIRST, 8),
                    "last_active": at(FIRST, 8),
                },
            )
            ids.append(result.scalar_one())
    for i in range(30):
        opened = at(FIRST + dt.timedelta(days=i % 29), 10 + i % 9)
        ticket = await s.ticket(
            f"p{i}",
            opened,
            lang="uk" if i % 2 else "ru",
            first_reply=dt.timedelta(minutes=4 + i * 3 % 50),
            closed=dt.timedelta(hours=1 + i % 8),
            reason="resolved" if i % 4 else "no_reply",
            rating=5 - i % 3,
        )
        async with db.transaction() as uow:
            await uow.session.execute(
                Ticket.__table__.update()
                .where(Ticket.__table__.c.id == ticket)
                .values(consultant_id=ids[i % 2])
            )
            await uow.session.execute(
                insert(TicketMessage.__table__).values(
                    ticket_id=ticket,
                    direction="out",
                    consultant_id=ids[i % 2],
                    kind="text",
                    text="…",
                    created_at=opened + dt.timedelta(minutes=5),
                )
            )
    await s.ticket("p20", at(dt.date(2026, 11, 30), 13), lang="uk")
    await s.ticket("p21", at(dt.date(2026, 11, 30), 14), lang="ru")
    async with db.transaction() as uow:
        await uow.session.execute(
            Ticket.__table__.update()
            .where(Ticket.__table__.c.user_id == s.people["p21"].id)
            .values(urgent=True, origin="urgent")
        )


@pytest.fixture
async def console_url(sqlite_url: str, tmp_path: Path) -> AsyncIterator[str]:
    db = Database.from_url(sqlite_url)
    await seed(db)
    await accounts.add_user(db, "anna", "admin", PASSWORD)
    shutil.copytree(REPO / "content", tmp_path / "content")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=sqlite_url, content_dir=tmp_path / "content"
    )
    console = WebConsole(db, settings, knowledge=Knowledge.load(), clock=lambda: NOW)
    server = TestServer(application(console), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/console/"))
    finally:
        await server.close()
        await db.dispose()


async def test_the_console_in_a_browser(console_url: str, tmp_path: Path) -> None:
    assert async_playwright is not None
    shots = os.environ.get("OTWARTA_CONSOLE_SCREENSHOTS")
    problems: list[str] = []

    if shots:
        os.makedirs(shots, exist_ok=True)

    async def shot(page: Any, name: str, *, full: bool = True) -> None:
        if shots:
            await page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=full)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = await browser.new_context(
            locale="en-GB", viewport={"width": 1200, "height": 900}, accept_downloads=True
        )
        page = await context.new_page()
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.on("pageerror", lambda e: problems.append(str(e)))

        # Not signed in: the login page. Sign in with the keyboard alone.
        await page.goto(console_url)
        assert page.url.endswith("/console/login")
        await shot(page, "login")
        assert await page.evaluate("document.activeElement.name") == "username"
        await page.keyboard.type("anna")
        await page.keyboard.press("Tab")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/console/")
        assert await page.inner_text("h1") == "Overview"
        await page.keyboard.press("Tab")  # the first stop: "skip to content"
        assert await page.evaluate("document.activeElement.className") == "skip"

        # Change the period with the form.
        await page.fill("input[name=from]", "2026-11-01")
        await page.fill("input[name=to]", "2026-11-30")
        await page.select_option("select[name=language]", "")
        await page.click("form.period button[type=submit]")
        await page.wait_for_url("**from=2026-11-01**")
        assert await page.input_value("input[name=from]") == "2026-11-01"
        assert await page.locator("figure.chart svg").count() >= 4
        questions = await page.inner_text(".cards div:first-child dd")
        assert questions == "133"  # 42 people × 3 questions + 7 unanswered
        await page.select_option("select[name=bucket]", "week")
        await page.click("form.period button[type=submit]")
        await page.wait_for_url("**bucket=week**")
        assert "Questions per week" in await page.inner_text("main")
        await shot(page, "overview")
        # ... and with the script's presets (the last 7 days, from the browser's today).
        await page.click("button[data-days='7']")
        await page.wait_for_load_state("load")
        start = await page.input_value("input[name=from]")
        end = await page.input_value("input[name=to]")
        assert (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days == 6

        # Filters: Ukrainian only.
        await page.goto(console_url + "?from=2026-11-01&to=2026-11-30&language=uk")
        assert await page.input_value("select[name=language]") == "uk"
        assert int(await page.inner_text(".cards div:first-child dd")) < 133

        # What the bot could not answer: mark the group, download the patch.
        await page.click("nav >> text=Not answered")
        await page.fill("input[name=from]", "2026-11-01")
        await page.fill("input[name=to]", "2026-11-30")
        await page.click("form.period button[type=submit]")
        await page.wait_for_url("**/unanswered?**")
        group = page.locator("article.cluster").first
        assert "рибалки" in await group.inner_text()
        await group.locator("input[value=belongs]").check()
        await group.locator("select[name=entry]").select_option("scams")
        await group.locator("select[name=lang]").select_option("uk")
        await shot(page, "unanswered")
        await group.locator("button[type=submit]").click()
        await page.wait_for_url("**marked=**")
        assert "Marked:" in await page.locator("article.cluster").first.inner_text()
        async with page.expect_download() as info:
            await page.click("text=Download the suggestions")
        download = await info.value
        target = tmp_path / "suggestions.patch"
        await download.save_as(target)
        patch = target.read_text(encoding="utf-8")
        assert "+++ b/content/entries/life/scams.yaml" in patch
        assert "рибалки" in patch

        # Entries, Desk, Users, Audit log.
        await page.click("nav >> text=Entries")
        assert await page.inner_text("h1") == "Entries"
        await shot(page, "entries", full=False)
        await page.locator("#e-pesel-ukr summary").click()
        assert await page.locator("#e-pesel-ukr .answer").count() == 4
        assert await page.locator("#e-pesel-ukr .answer b").count() > 0  # **bold** rendered
        await page.click("nav >> text=Desk")
        assert await page.inner_text("h1") == "Desk"
        waiting = await page.locator("section").first.inner_text()
        assert "Waiting now (2)" in waiting
        assert waiting.index("urgent") < waiting.index("\n", waiting.index("urgent"))
        body = await page.inner_text("main")
        assert "Olena K." in body and "Marek W." in body
        await shot(page, "desk")
        await page.click("nav >> text=Users")
        assert "anna" in await page.inner_text("table")
        await shot(page, "users")
        await page.click("nav >> text=Audit log")
        log = await page.inner_text("table")
        assert "mark_cluster" in log and "sign_in" in log
        await shot(page, "audit")

        # Readable on a phone: nothing wider than the screen.
        phone = await browser.new_context(
            locale="uk-UA",
            viewport={"width": 390, "height": 844},
            storage_state=await context.storage_state(),
        )
        small = await phone.new_page()
        await small.goto(console_url + "?from=2026-11-01&to=2026-11-30")
        assert await small.inner_text("h1") == "Огляд"
        width = await small.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        await shot(small, "phone-overview")
        await phone.close()

        # Sign out.
        await page.click("header button[type=submit]")
        await page.wait_for_url("**/console/login")
        await page.goto(console_url + "desk")
        assert page.url.endswith("/console/login")
        await browser.close()
    assert not [m for m in problems if "Content Security Policy" in m or "Refused" in m], problems
    assert not problems, problems
