"""The console's HTTP side: routes under ``/console/``, each wrapped by the rules every route
obeys (:meth:`WebConsole.guard`):

- the security headers on every response, errors included (CSP with no inline script,
  ``frame-ancestors 'none'``, ``nosniff``, ``Referrer-Policy``, ``no-store``);
- the session: a random token in an ``HttpOnly``, ``SameSite=Strict`` cookie (``Secure``
  when ``PUBLIC_URL`` is https), its SHA-256 in ``console_sessions``; it ends after
  ``CONSOLE_IDLE_MINUTES`` unused and ``CONSOLE_SESSION_HOURS`` after sign-in;
- the role, checked on the server for every route (viewer < editor < admin);
- a CSRF token on every POST (the session's; before sign-in a cookie's, double-submitted):
  403 without it.

**contract** (issue 19): ``GET /console/`` redirects to ``/console/login`` when not signed
in; the login form posts ``username``, ``password``, ``csrf`` to ``POST /console/login``;
success sets the session cookie and redirects to ``/console/``; ``POST /console/logout`` ends
the session; ``GET /console/api/summary?from=&to=`` is the report's JSON, 401 when not signed
in.

Every number comes from :mod:`bot.analytics` (one module for the report and the console).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from prometheus_client import Counter

from bot.i18n import LANGS, N_, translator_for
from bot.webconsole import auth
from bot.webconsole.store import ConsoleStore, Mark, Session

if TYPE_CHECKING:
    from bot.analytics.figures import Figures, Filters, Knowledge, Period
    from bot.db import Database
    from bot.settings import Settings

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PREFIX = "/console"
SESSION_COOKIE = "otwarta_console"
LOGIN_CSRF_COOKIE = "otwarta_console_csrf"
LANG_COOKIE = "otwarta_console_lang"
ROLES = {"viewer": 0, "editor": 1, "admin": 2}
#: The roles' names as the pages show them (translated there: ``_(role)``).
ROLE_LABELS = (N_("viewer"), N_("editor"), N_("admin"))
DEFAULT_LANG = "pl"
DEFAULT_DAYS = 30
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".txt": "text/plain"}

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

LOGINS = Counter(
    "otwarta_console_logins",
    "Sign-ins to the web console by result (ok, failed, throttled_account, throttled_address).",
    ["result"],
)

Handler = Callable[[web.Request, "Ctx"], Awaitable[web.StreamResponse]]
Clock = Callable[[], dt.datetime]


def _light_markup(text: str) -> Markup:
    """The content's light markup (an answer) as HTML: escaped, then bold and https links
    (:func:`bot.markup.render_telegram_html`)."""
    from bot.markup import render_telegram_html

    return Markup(render_telegram_html(text))  # escaped by render_telegram_html


def redirect(location: str, status: int = 303) -> web.Response:
    """A redirect as a response (aiohttp deprecates returning its exceptions)."""
    return web.Response(status=status, headers={"Location": location})


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Ctx:
    """What a handler gets besides the request: the session (``None`` on public routes),
    the UI language and its translator."""

    session: Session | None
    lang: str
    gettext: Callable[[str], str]

    @property
    def role(self) -> str:
        return self.session.account.role if self.session else ""

    def can(self, role: str) -> bool:
        return self.session is not None and ROLES[self.role] >= ROLES[role]


class WebConsole:
    """The console on one database: the rules, the rendering, the numbers. Its routes are
    :func:`bot.webconsole.pages.routes` (for :class:`bot.http.HttpServer`)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        knowledge: Knowledge | None = None,
        clock: Clock = _utcnow,
        throttle: auth.Throttle | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.throttle = throttle or auth.Throttle()
        self.secure_cookies = (settings.public_url or "").lower().startswith("https://")
        self.idle = dt.timedelta(minutes=settings.console_idle_minutes)
        self.lifetime = dt.timedelta(hours=settings.console_session_hours)
        self._knowledge = knowledge
        self._knowledge_lock = asyncio.Lock()
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["light_markup"] = _light_markup

    # -- the rules of every route ----------------------------------------------------------

    def guard(
        self, handler: Handler, role: str | None, *, csrf: str | None = None, api: bool = False
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            lang = self.language(request)
            ctx = Ctx(None, lang, translator_for(lang).gettext)
            try:
                response = await self._checked(request, ctx, handler, role, csrf, api)
            except web.HTTPException as exc:
                if exc.status >= 400 and not exc.text:
                    response = self.error_page(request, ctx, exc.status)
                else:
                    response = web.Response(
                        status=exc.status, text=exc.text, content_type=exc.content_type
                    )
            response.headers.update(SECURITY_HEADERS)
            return response

        return guarded

    async def _checked(
        self,
        request: web.Request,
        ctx: Ctx,
        handler: Handler,
        role: str | None,
        csrf: str | None,
        api: bool,
    ) -> web.StreamResponse:
        expired = False
        if role is not None or request.path == PREFIX + "/login":
            ctx.session, expired = await self.session_of(request)
        if role is not None:
            if ctx.session is None:
                if api:
                    return web.json_response({"error": "not signed in"}, status=401)
                location = PREFIX + "/login" + ("?expired=1" if expired else "")
                response: web.StreamResponse = redirect(location)
                if expired:
                    response.del_cookie(SESSION_COOKIE, path=PREFIX)
                return response
            if ROLES[ctx.role] < ROLES[role]:
                if api:
                    return web.json_response({"error": "forbidden"}, status=403)
                return self.error_page(request, ctx, 403)
        if csrf is not None:
            form = await request.post() if request.method == "POST" else {}
            sent = request.headers.get("X-CSRF-Token") or str(form.get("csrf") or "")
            expected = (
                request.cookies.get(LOGIN_CSRF_COOKIE)
                if csrf == "login"
                else (ctx.session.csrf if ctx.session else None)
            )
            if not auth.same(sent, expected):
                return self.error_page(request, ctx, 403, csrf=True)
        return await handler(request, ctx)

    async def session_of(self, request: web.Request) -> tuple[Session | None, bool]:
        """The request's live session, and whether it had one that expired."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None, False
        now = self.clock()
        digest = auth.token_hash(token)
        async with self.db.transaction() as uow:
            store = ConsoleStore(uow)
            session = await store.session_of(digest)
            if session is None:
                return None, True
            if now - session.last_seen > self.idle or now - session.created_at > self.lifetime:
                await store.close_session(digest)
                return None, True
            await store.touch_session(digest, now)
        return session, False

    def cookie(self, response: web.StreamResponse, name: str, value: str) -> None:
        response.set_cookie(
            name,
            value,
            path=PREFIX,
            httponly=True,
            samesite="Strict",
            secure=self.secure_cookies,
        )

    def language(self, request: web.Request) -> str:
        chosen = request.query.get("lang") or request.cookies.get(LANG_COOKIE)
        if chosen in LANGS:
            return str(chosen)
        for part in request.headers.get("Accept-Language", "").split(","):
            code = part.split(";")[0].strip().split("-")[0].lower()
            if code in LANGS:
                return code
        return DEFAULT_LANG

    # -- rendering -------------------------------------------------------------------------

    def render(
        self,
        request: web.Request,
        ctx: Ctx,
        template: str,
        status: int = 200,
        **values: Any,
    ) -> web.Response:
        page = self.env.get_template(template).render(
            _=ctx.gettext,
            lang=ctx.lang,
            langs=LANGS,
            session=ctx.session,
            ctx=ctx,
            path=request.path,
            query=dict(request.query),
            prefix=PREFIX,
            **values,
        )
        response = web.Response(text=page, status=status, content_type="text/html")
        if request.query.get("lang") in LANGS:
            response.set_cookie(
                LANG_COOKIE,
                ctx.lang,
                path=PREFIX,
                httponly=True,
                samesite="Strict",
                secure=self.secure_cookies,
                max_age=365 * 86400,
            )
        return response

    def error_page(
        self, request: web.Request, ctx: Ctx, status: int, *, csrf: bool = False
    ) -> web.Response:
        if request.path.startswith(PREFIX + "/api/"):
            reasons = {401: "not signed in", 403: "forbidden", 404: "not found"}
            return web.json_response({"error": reasons.get(status, "error")}, status=status)
        return self.render(request, ctx, "error.html", status=status, status_code=status, csrf=csrf)

    @staticmethod
    def svg(text: str) -> Markup:
        """A chart drawn by :mod:`bot.analytics.report` (pygal, no script) put in the page."""
        return Markup(text)

    async def static(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        name = request.match_info["name"]
        path = HERE / "static" / name
        if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES:
            raise web.HTTPNotFound()
        if not path.is_file():
            raise web.HTTPNotFound()
        response = web.Response(body=path.read_bytes(), content_type=STATIC_TYPES[path.suffix])
        return response

    # -- the numbers -----------------------------------------------------------------------

    async def knowledge(self) -> Knowledge:
        if self._knowledge is None:
            async with self._knowledge_lock:
                if self._knowledge is None:
                    from bot.analytics.figures import Knowledge

                    self._knowledge = await asyncio.to_thread(
                        Knowledge.load, self.settings.content_dir
                    )
        return self._knowledge

    async def figures(
        self,
        period: Period,
        filters: Filters,
        *,
        bucket: str | None = None,
        with_clusters: bool = False,
    ) -> Figures:
        from bot.analytics.figures import compute
        from bot.desk.hours import WorkingHours

        s = self.settings
        hours = WorkingHours.from_text(
            s.desk_hours, s.desk_timezone, observe_holidays=s.desk_holidays
        )
        if bucket is None:
            bucket = "day" if period.days <= 62 else "week" if period.days <= 190 else "month"
        return await compute(
            self.db,
            period,
            knowledge=await self.knowledge(),
            filters=filters,
            bucket=bucket,  # type: ignore[arg-type]
            min_count=s.analytics_min_count,
            hours=hours,
            with_clusters=with_clusters,
        )

    async def audit(self, actor: str, action: str, **detail: Any) -> None:
        async with self.db.transaction() as uow:
            await ConsoleStore(uow).audit(actor, action, detail, self.clock())

    async def marks(self) -> dict[str, Mark]:
        async with self.db.read() as uow:
            return await ConsoleStore(uow).marks()
