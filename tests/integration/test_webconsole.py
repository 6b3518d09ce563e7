"""The web console (issue 19) over HTTP: aiohttp's test client against the real routes, on
real SQL (SQLite and PostgreSQL). Every rule: the redirects of the contract, CSRF, login
throttling (and its metrics), roles on every route, the security headers, the cookie flags,
idle and absolute session expiry, the audit log; the pages; marking a cluster and the patch
that ``otwarta content check`` accepts; the ``otwarta console`` commands; the mount in
``otwarta serve``."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from prometheus_client import REGISTRY
from sqlalchemy import select

from bot.analytics.figures import Knowledge, Period, compute
from bot.cli import main
from bot.db import Database
from bot.settings import Settings
from bot.webconsole import accounts
from bot.webconsole.pages import application
from bot.webconsole.store import AUDIT
from bot.webconsole.web import LOGIN_CSRF_COOKIE, SESSION_COOKIE, WebConsole
from faq.check import check_content
from tests.integration.test_analytics import Seeder, at

REPO = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 3, 3)
NOW = dt.datetime(2026, 3, 9, 12, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"
ALL_PAGES = ["/console/", "/console/unanswered", "/console/entries", "/console/desk"]
ADMIN_PAGES = ["/console/users", "/console/audit"]


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


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


def settings_for(db_url: str, content_dir: Path | None = None, **values: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=db_url,
        content_dir=content_dir or REPO / "content",
        **values,
    )


class Browser:
    """A test client that remembers cookies (aiohttp's jar) and knows the console's forms."""

    def __init__(self, client: TestClient[Any, Any], console: WebConsole) -> None:
        self.client = client
        self.console = console

    async def get(self, path: str, **kw: Any) -> ClientResponse:
        return await self.client.get(path, allow_redirects=False, **kw)

    async def post(self, path: str, data: dict[str, str], **kw: Any) -> ClientResponse:
        return await self.client.post(path, data=data, allow_redirects=False, **kw)

    def cookie(self, name: str) -> str | None:
        for morsel in self.client.session.cookie_jar:
            if morsel.key == name:
                return morsel.value
        return None

    async def login_csrf(self) -> str:
        page = await self.get("/console/login")
        assert page.status == 200
        match = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert match is not None
        return match.group(1)

    async def sign_in(self, name: str, password: str = PASSWORD) -> ClientResponse:
        csrf = await self.login_csrf()
        return await self.post(
            "/console/login", {"username": name, "password": password, "csrf": csrf}
        )

    async def csrf(self) -> str:
        page = await self.get("/console/")
        assert page.status == 200, page.status
        match = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert match is not None
        return match.group(1)


Factory = Callable[..., Any]


@pytest.fixture
async def browser_for(db: Database, db_url: str, knowledge: Knowledge) -> AsyncIterator[Factory]:
    clients: list[TestClient[Any, Any]] = []

    async def make(clock: Clock | None = None, **values: Any) -> Browser:
        console = WebConsole(
            db,
            settings_for(db_url, **values),
            knowledge=knowledge,
            clock=clock or Clock(NOW),
        )
        client: TestClient[Any, Any] = TestClient(
            TestServer(application(console)), headers={"Accept-Language": "en-GB,en;q=0.8"}
        )
        await client.start_server()
        clients.append(client)
        return Browser(client, console)

    yield make
    for client in clients:
        await client.close()


async def add(db: Database, name: str, role: str) -> None:
    await accounts.add_user(db, name, role, PASSWORD)


def metric(result: str) -> float:
    return REGISTRY.get_sample_value("otwarta_console_logins_total", {"result": result}) or 0.0


# -- the contract -----------------------------------------------------------------------------


async def test_the_console_asks_to_sign_in_and_says_how_to_add_the_first_account(
    browser_for: Factory,
) -> None:
    b = await browser_for()
    response = await b.get("/console/")
    assert response.status in (302, 303)
    assert response.headers["Location"] == "/console/login"
    page = await (await b.get("/console/login")).text()
    assert "otwarta console add-user NAME --role admin" in page
    api = await b.get("/console/api/summary?from=2026-03-02&to=2026-03-08")
    assert api.status == 401
    assert (await api.json()) == {"error": "not signed in"}


async def test_sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_it(
    browser_for: Factory, db: Database
) -> None:
    await add(db, "ala", "viewer")
    b = await browser_for()
    response = await b.sign_in("ala")
    assert response.status == 303
    assert response.headers["Location"] == "/console/"
    cookie = next(
        v for k, v in response.headers.items() if k == "Set-Cookie" and SESSION_COOKIE in v
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/console" in cookie
    assert "Secure" not in cookie  # PUBLIC_URL is not https here
    token = b.cookie(SESSION_COOKIE)
    assert token
    assert (await b.get("/console/")).status == 200
    # The database keeps only the token's hash.
    async with db.read() as uow:
        from bot.webconsole.store import SESSIONS

        stored = (await uow.session.execute(select(SESSIONS.c.token_hash))).scalars().all()
    assert token not in stored and len(stored) == 1
    # Sign out: without the CSRF token it is refused, with it the session is over.
    assert (await b.post("/console/logout", {})).status == 403
    response = await b.post("/console/logout", {"csrf": await b.csrf()})
    assert response.status == 303
    assert response.headers["Location"] == "/console/login"
    assert (await b.get("/console/")).status == 303
    # The old cookie does not work again either.
    b.client.session.cookie_jar.update_cookies({SESSION_COOKIE: token})
    assert (await b.get("/console/")).headers["Location"].startswith("/console/login")


async def test_the_cookie_is_secure_when_the_public_url_is_https(
    browser_for: Factory, db: Database
) -> None:
    await add(db, "ala", "viewer")
    b = await browser_for(public_url="https://bot.example.org")
    csrf = await b.login_csrf()
    # The browser sends a Secure cookie over https only; this test client speaks http.
    response = await b.post(
        "/console/login",
        {"username": "ala", "password": PASSWORD, "csrf": csrf},
        headers={"Cookie": f"{LOGIN_CSRF_COOKIE}={csrf}"},
    )
    assert response.status == 303
    cookies = [v for k, v in response.headers.items() if k == "Set-Cookie"]
    assert any(SESSION_COOKIE in c and "Secure" in c for c in cookies)


async def test_sign_in_needs_the_csrf_token_of_the_form(browser_for: Factory, db: Database) -> None:
    await add(db, "ala", "viewer")
    b = await browser_for()
    await b.login_csrf()
    for data in (
        {"username": "ala", "password": PASSWORD},
        {"username": "ala", "password": PASSWORD, "csrf": "made-up"},
    ):
        response = await b.post("/console/login", data)
        assert response.status == 403
        assert "The form has expired" in await response.text()
    assert b.cookie(SESSION_COOKIE) is None
    assert b.cookie(LOGIN_CSRF_COOKIE)


async def test_a_wrong_password_or_name_is_refused_alike(
    browser_for: Factory, db: Database
) -> None:
    await add(db, "ala", "viewer")
    b = await browser_for()
    wrong = await b.sign_in("ala", "not the password")
    nobody = await b.sign_in("nobody", PASSWORD)
    assert wrong.status == nobody.status == 401
    assert (await wrong.text()).count("Wrong name, password or code.") == 1
    assert b.cookie(SESSION_COOKIE) is None


async def test_the_summary_is_the_reports_json(
    browser_for: Factory, db: Database, knowledge: Knowledge
) -> None:
    s = Seeder(db)
    for i in range(6):
        await s.person(f"p{i}")
        await s.ask(
            f"p{i}",
            at(DAY, 10 + i),
            "як отримати песель",
            "answer",
            candidates=[("pesel-ukr", 0.9)],
        )
    await add(db, "ala", "viewer")
    b = await browser_for()
    await b.sign_in("ala")
    response = await b.get("/console/api/summary?from=2026-03-02&to=2026-03-08")
    assert response.status == 200
    data = await response.json()
    expected = (
        await compute(db, Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8)), knowledge=knowledge)
    ).to_json()
    assert data == expected
    for key in (
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
    ):
        assert key in data
    assert data["questions"] == 6 and data["people"] == 6
    bad = await b.get("/console/api/summary?from=2026-03-09&to=2026-03-01")
    assert bad.status == 400
    assert (await b.get("/console/api/summary")).status == 400


# -- throttling ---------------------------------------------------------------------------------


async def test_five_failures_for_an_account_lock_it_for_fifteen_minutes(
    browser_for: Factory, db: Database
) -> None:
    await add(db, "ala", "viewer")
    clock = Clock(NOW)
    b = await browser_for(clock)
    before = metric("failed"), metric("throttled_account")
    for _ in range(5):
        assert (await b.sign_in("ala", "guess")).status == 401
    locked = await b.sign_in("ala")  # the right password, but too late
    assert locked.status == 429
    assert "Too many failed sign-ins" in await locked.text()
    assert metric("failed") - before[0] == 5
    assert metric("throttled_account") - before[1] == 1
    clock.now += dt.timedelta(minutes=14)
    assert (await b.sign_in("ala")).status == 429
    clock.now += dt.timedelta(minutes=2)
    assert (await b.sign_in("ala")).status == 303


async def test_five_failures_from_one_address_lock_it(browser_for: Factory, db: Database) -> None:
    await add(db, "ala", "viewer")
    b = await browser_for()
    before = metric("throttled_address")
    for i in range(5):
        assert (await b.sign_in(f"someone{i}", "guess")).status == 401
    assert (await b.sign_in("ala")).status == 429  # another account, the same address
    assert metric("throttled_address") - before == 1


# -- roles -------------------------------------------------------------------------------------


async def test_roles_are_enforced_on_every_route(browser_for: Factory, db: Database) -> None:
    for name, role in (("vi", "viewer"), ("ed", "editor"), ("ad", "admin")):
        await add(db, name, role)
    seen: dict[str, dict[str, int]] = {}
    for name in ("vi", "ed", "ad"):
        b = await browser_for()
        assert (await b.sign_in(name)).status == 303
        csrf = await b.csrf()
        statuses = {}
        for path in ALL_PAGES + ADMIN_PAGES + ["/console/unanswered/patch"]:
            statuses[path] = (await b.get(path)).status
        statuses["mark"] = (
            await b.post(
                "/console/unanswered/mark",
                {
                    "csrf": csrf,
                    "cluster": "nothing",
                    "verdict": "out_of_scope",
                    "from": "2026-03-02",
                    "to": "2026-03-08",
                },
            )
        ).status
        statuses["users"] = (
            await b.post(
                "/console/users",
                {
                    "csrf": csrf,
                    "action": "add",
                    "name": f"new-{name}",
                    "role": "viewer",
                    "password": PASSWORD,
                },
            )
        ).status
        seen[name] = statuses
    for path in ALL_PAGES:
        assert seen["vi"][path] == seen["ed"][path] == seen["ad"][path] == 200
    for path in ADMIN_PAGES:
        assert seen["vi"][path] == seen["ed"][path] == 403
        assert seen["ad"][path] == 200
    assert seen["vi"]["/console/unanswered/patch"] == 403
    assert seen["ed"]["/console/unanswered/patch"] == 200
    assert seen["vi"]["mark"] == 403
    assert seen["ed"]["mark"] == 404  # allowed, but there is no such cluster
    assert seen["vi"]["users"] == seen["ed"]["users"] == 403
    assert seen["ad"]["users"] == 303
    names = [a.name for a in await accounts.users(db)]
    assert "new-ad" in names and "new-vi" not in names and "new-ed" not in names


async def test_a_forbidden_page_says_so(browser_for: Factory, db: Database) -> None:
    await add(db, "vi", "viewer")
    b = await browser_for()
    await b.sign_in("vi")
    response = await b.get("/console/users")
    assert response.status == 403
    assert "Your role does not allow this page" in await response.text()
    missing = await b.get("/console/no-such-page")
    assert missing.status == 404
    assert "Page not found" in await missing.text()


# -- headers, expiry ------------------------------------------------------------------------------


async def test_every_response_carries_the_security_headers(
    browser_for: Factory, db: Database
) -> None:
    await add(db, "ala", "viewer")
    b = await browser_for()
    responses = [
        await b.get("/console/"),
        await b.get("/console/login"),
        await b.get("/console/nowhere"),
        await b.get("/console/api/summary?from=2026-03-02&to=2026-03-08"),
        await b.get("/console/static/console.css"),
        await b.post("/console/login", {}),
    ]
    await b.sign_in("ala")
    responses += [await b.get(path) for path in [*ALL_PAGES, "/console/users"]]
    for response in responses:
        csp = response.headers["Content-Security-Policy"]
        script = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
        assert "unsafe-inline" not in script and "'self'" in script
        assert "frame-ancestors 'none'" in csp
        assert "default-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    # No inline script in any page (the CSP would block it anyway).
    for path in ALL_PAGES:
        page = await (await b.get(path)).text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", page), path  # no inline handlers


async def test_an_idle_session_expires_and_says_so(browser_for: Factory, db: Database) -> None:
    await add(db, "ala", "viewer")
    clock = Clock(NOW)
    b = await browser_for(clock)
    await b.sign_in("ala")
    clock.now += dt.timedelta(minutes=29)
    assert (await b.get("/console/")).status == 200  # used: the idle time starts again
    clock.now += dt.timedelta(minutes=29)
    assert (await b.get("/console/entries")).status == 200
    clock.now += dt.timedelta(minutes=31)
    response = await b.get("/console/")
    assert response.status == 303
    assert response.headers["Location"] == "/console/login?expired=1"
    page = await (await b.get(response.headers["Location"])).text()
    assert "Your session has expired" in page
    api = await b.get("/console/api/summary?from=2026-03-02&to=2026-03-08")
    assert api.status == 401


async def test_a_session_ends_after_its_lifetime_even_when_used(
    browser_for: Factory, db: Database
) -> None:
    await add(db, "ala", "viewer")
    clock = Clock(NOW)
    b = await browser_for(clock, console_session_hours=1)
    await b.sign_in("ala")
    for _ in range(3):
        clock.now += dt.timedelta(minutes=25)
        status = (await b.get("/console/")).status
    assert status == 303


# -- the audit log and the accounts page ----------------------------------------------------------


async def test_every_change_is_in_the_audit_log(browser_for: Factory, db: Database) -> None:
    await add(db, "boss", "admin")
    clock = Clock(NOW)
    b = await browser_for(clock)
    await b.sign_in("boss")
    csrf = await b.csrf()
    base = {"csrf": csrf}
    assert (
        await b.post(
            "/console/users",
            {**base, "action": "add", "name": "ed", "role": "viewer", "password": PASSWORD},
        )
    ).status == 303
    assert (
        await b.post(
            "/console/users",
            {**base, "action": "add", "name": "short", "role": "viewer", "password": "short"},
        )
    ).status == 400
    assert (
        await b.post("/console/users", {**base, "action": "role", "name": "ed", "role": "editor"})
    ).status == 303
    assert (
        await b.post(
            "/console/users",
            {**base, "action": "password", "name": "ed", "password": "another long one"},
        )
    ).status == 303
    assert (
        await b.post("/console/users", {**base, "action": "remove", "name": "boss"})
    ).status == 400  # not oneself
    assert (
        await b.post("/console/users", {**base, "action": "remove", "name": "ed"})
    ).status == 303
    assert (
        await b.post(
            "/console/users", {"action": "add", "name": "x", "role": "admin", "password": PASSWORD}
        )
    ).status == 403  # no CSRF
    await b.post("/console/logout", base)
    async with db.read() as uow:
        rows = (
            await uow.session.execute(
                select(AUDIT.c.actor, AUDIT.c.action, AUDIT.c.detail, AUDIT.c.at).order_by(
                    AUDIT.c.id
                )
            )
        ).all()
    assert [(r.actor, r.action) for r in rows] == [
        ("(command line)", "add_user"),
        ("boss", "sign_in"),
        ("boss", "add_user"),
        ("boss", "set_role"),
        ("boss", "set_password"),
        ("boss", "remove_user"),
        ("boss", "sign_out"),
    ]
    assert rows[3].detail == {"name": "ed", "from": "viewer", "to": "editor"}
    assert all(r.at == NOW for r in rows[1:])
    assert "x" not in [a.name for a in await accounts.users(db)]
    b2 = await browser_for(clock)
    await b2.sign_in("boss")
    page = await (await b2.get("/console/audit")).text()
    assert "set_role" in page and "remove_user" in page


# -- the pages, marking a cluster, the patch ----------------------------------------------------


async def _seed(db: Database) -> None:
    s = Seeder(db)
    fishing = [
        "де отримати карту рибалки у кракові",
        "як отримати карту рибалки",
        "карта рибалки де отримати",
        "де зробити карту рибалки у польщі",
        "карту рибалки як отримати швидко",
        "отримати карту рибалки іноземцю",
    ]
    for i, text in enumerate(fishing):
        await s.person(f"f{i}", "telegram", "ukr-status")
        await s.ask(f"f{i}", at(DAY, 9 + i), text, "handoff", candidates=[("scams", 0.2)])
        await s.ask(
            f"f{i}",
            at(DAY, 9 + i, 5),
            "як зробити песель укр",
            "answer",
            candidates=[("pesel-ukr", 0.9)],
            feedback=i % 2 == 0,
        )
    await s.ticket(
        "f0",
        at(DAY, 20),
        first_reply=dt.timedelta(minutes=5),
        closed=dt.timedelta(hours=1),
        reason="resolved",
        rating=5,
    )
    await s.ticket("f1", at(DAY + dt.timedelta(days=5), 20))


async def test_each_page_shows_the_analytics(browser_for: Factory, db: Database) -> None:
    await _seed(db)
    await add(db, "ala", "viewer")
    b = await browser_for()
    await b.sign_in("ala")
    q = "?from=2026-03-02&to=2026-03-08"
    overview = await (await b.get("/console/" + q)).text()
    assert "<svg" in overview and "Questions" in overview
    assert 'value="2026-03-02"' in overview
    unanswered = await (await b.get("/console/unanswered" + q)).text()
    assert "карт" in unanswered and "рибалки" in unanswered
    assert "Mark this group" not in unanswered  # a viewer cannot mark
    entries = await (await b.get("/console/entries" + q)).text()
    assert 'id="e-pesel-ukr"' in entries
    pesel_row = entries.split('id="e-pesel-ukr"')[1].split("</tr>")[0]
    assert "100 %" in pesel_row  # answered rate of six questions by six people
    desk = await (await b.get("/console/desk" + q)).text()
    assert "Waiting now (1)" in desk and re.search(r"<td>#\d+</td>", desk)
    assert re.search(r"<code>[0-9A-F]{4}</code>", desk)
    polish = await (await b.get("/console/" + q + "&lang=pl")).text()
    assert "Przegląd" in polish


async def test_the_entries_figures_are_the_same_after_the_roll_up(
    db: Database, knowledge: Knowledge
) -> None:
    from bot.analytics.retention import roll_up

    await _seed(db)
    period = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    before = (await compute(db, period, knowledge=knowledge, min_count=1)).entries_json()
    assert before["pesel-ukr"]["asked"] == 6
    assert before["pesel-ukr"]["answered_rate"] == 1.0
    assert before["pesel-ukr"]["up"] == 3 and before["pesel-ukr"]["down"] == 3
    assert before["scams"]["asked"] == 6 and before["scams"]["answered"] == 0
    assert await roll_up(db, knowledge, now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC)) > 0
    async with db.read() as uow:
        from bot.analytics.store import AnalyticsStore

        rolled = await AnalyticsStore(uow).rolled_through()
    assert rolled is not None and rolled >= 20260308  # counted by the database now
    after = (await compute(db, period, knowledge=knowledge, min_count=1)).entries_json()
    assert after == before


async def test_marking_a_cluster_gives_a_patch_content_check_accepts(
    browser_for: Factory, db: Database, tmp_path: Path
) -> None:
    await _seed(db)
    await add(db, "ed", "editor")
    shutil.copytree(REPO / "content", tmp_path / "content")
    b = await browser_for(content_dir=tmp_path / "content")
    await b.sign_in("ed")
    q = {"from": "2026-03-02", "to": "2026-03-08"}
    page = await (await b.get("/console/unanswered", params=q)).text()
    cluster = re.search(r'name="cluster" value="([0-9a-f]+)"', page)
    assert cluster is not None
    csrf = await b.csrf()
    form = {
        **q,
        "csrf": csrf,
        "cluster": cluster.group(1),
        "verdict": "belongs",
        "entry": "scams",
        "lang": "uk",
    }
    assert (await b.post("/console/unanswered/mark", {**form, "csrf": ""})).status == 403
    assert (await b.post("/console/unanswered/mark", {**form, "entry": "no-such"})).status == 400
    response = await b.post("/console/unanswered/mark", form)
    assert response.status == 303
    page = await (await b.get(response.headers["Location"])).text()
    assert "Marked:" in page
    patch = await b.get("/console/unanswered/patch")
    assert patch.status == 200
    assert "attachment" in patch.headers["Content-Disposition"]
    text = await patch.text()
    assert "+++ b/content/entries/" in text and "scams.yaml" in text
    added = [line[1:] for line in text.splitlines() if line.startswith("+    - ")]
    assert len(added) == 3  # the three examples the page showed
    assert all("рибалки" in line for line in added)
    (tmp_path / "suggestions.patch").write_text(text, encoding="utf-8")
    before = check_content(tmp_path / "content")
    await asyncio.to_thread(
        subprocess.run,
        ["git", "apply", "suggestions.patch"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    after = check_content(tmp_path / "content")
    assert not after.errors
    assert len(after.warnings) <= len(before.warnings)
    scams = next((tmp_path / "content").rglob("scams.yaml")).read_text(encoding="utf-8")
    assert all(line.strip() in scams for line in added)
    # The console itself changed nothing in content/.
    assert (REPO / "content").exists()
    # A second verdict replaces the first; both are in the audit log.
    response = await b.post("/console/unanswered/mark", {**form, "verdict": "out_of_scope"})
    assert response.status == 303
    text = await (await b.get("/console/unanswered/patch")).text()
    assert "out of scope" in text and "+    - " not in text
    async with db.read() as uow:
        actions = (await uow.session.execute(select(AUDIT.c.action))).scalars().all()
    assert actions.count("mark_cluster") == 2


# -- the commands ----------------------------------------------------------------------------------


def test_the_console_commands(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        result = runner.invoke(main, ["console", "users"])
        assert result.exit_code == 0 and "no accounts" in result.output
        result = runner.invoke(
            main,
            ["console", "add-user", "ala", "--role", "admin", "--password-stdin"],
            input=PASSWORD + "\n",
        )
        assert result.exit_code == 0, result.output
        assert PASSWORD not in result.output
        result = runner.invoke(
            main,
            ["console", "add-user", "ola", "--role", "editor"],
            input="another password\nanother password\n",
        )
        assert result.exit_code == 0, result.output
        result = runner.invoke(
            main,
            ["console", "add-user", "ala", "--role", "viewer", "--password-stdin"],
            input=PASSWORD + "\n",
        )
        assert result.exit_code != 0 and "already" in result.output
        result = runner.invoke(
            main,
            ["console", "add-user", "eve", "--role", "viewer", "--password-stdin"],
            input="short\n",
        )
        assert result.exit_code != 0 and "at least 10" in result.output
        result = runner.invoke(
            main, ["console", "add-user", "x", "--role", "admin", "--password", "p"]
        )
        assert result.exit_code == 2  # no password as an argument
        result = runner.invoke(main, ["console", "users"])
        assert "ala\tadmin" in result.output and "ola\teditor" in result.output
        result = runner.invoke(
            main, ["console", "set-password", "ola", "--password-stdin"], input="a new password\n"
        )
        assert result.exit_code == 0, result.output
        result = runner.invoke(main, ["console", "totp", "ala"])
        assert result.exit_code == 0 and "otpauth://totp/" in result.output
        result = runner.invoke(main, ["console", "remove-user", "ola"])
        assert result.exit_code == 0
        result = runner.invoke(main, ["console", "remove-user", "ola"])
        assert result.exit_code != 0 and "no account" in result.output
        result = runner.invoke(main, ["console", "users"])
        assert "ola" not in result.output and "ala\tadmin totp" in result.output
    finally:
        get_settings.cache_clear()


async def test_an_admin_with_a_second_factor_needs_the_code(
    browser_for: Factory, db: Database
) -> None:
    import pyotp

    await add(db, "boss", "admin")
    secret = await accounts.set_totp(db, "boss", enable=True)
    assert secret is not None
    b = await browser_for()
    assert (await b.sign_in("boss")).status == 401  # no code
    csrf = await b.login_csrf()
    code = pyotp.TOTP(secret).at(NOW)
    response = await b.post(
        "/console/login", {"username": "boss", "password": PASSWORD, "csrf": csrf, "code": code}
    )
    assert response.status == 303


async def test_otwarta_serve_mounts_the_console(sqlite_url: str) -> None:
    from tests.doubles.telegram_harness import running_bot

    settings = Settings(_env_file=None, database_url=sqlite_url, http_port=0)  # type: ignore[call-arg]
    import aiohttp

    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        async with session.get(bot.url + "/console/", allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/console/login"
        async with session.get(bot.url + "/console/login") as response:
            assert response.status == 200
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        async with session.get(bot.url + "/healthz") as response:
            assert response.status == 200
