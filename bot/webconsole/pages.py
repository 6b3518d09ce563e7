"""The console's pages: Overview, What the bot could not answer, Entries, Desk, Users, Audit
log, sign-in, the JSON summary. Each handler is wrapped by :meth:`WebConsole.guard` (session,
role, CSRF, headers) before it runs; it only reads the analytics and writes through
:class:`~bot.webconsole.store.ConsoleStore`, with an audit row for every change."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.i18n import LANGS
from bot.webconsole import auth
from bot.webconsole.store import ConsoleStore, Mark
from bot.webconsole.web import (
    LOGIN_CSRF_COOKIE,
    LOGINS,
    PREFIX,
    ROLES,
    SESSION_COOKIE,
    Ctx,
    WebConsole,
    redirect,
)

if TYPE_CHECKING:
    from bot.analytics.figures import Filters, Period

PLATFORMS = ("telegram", "viber", "console")
AUDIENCES = ("ukr-status", "residence-card", "other-tcn", "unknown")
VERDICTS = ("belongs", "new_entry", "out_of_scope")


def routes(console: WebConsole) -> list[web.RouteDef]:
    """Every route of the console, each behind :meth:`WebConsole.guard` with the role it
    needs (``None``: public) and whether it changes something (a CSRF token)."""
    p = Pages(console)
    g = console.guard
    return [
        web.get(PREFIX, g(p.root, None)),
        web.get(PREFIX + "/", g(p.overview, "viewer")),
        web.get(PREFIX + "/login", g(p.login_form, None)),
        web.post(PREFIX + "/login", g(p.login, None, csrf="login")),
        web.post(PREFIX + "/logout", g(p.logout, "viewer", csrf="session")),
        web.get(PREFIX + "/unanswered", g(p.unanswered, "viewer")),
        web.post(PREFIX + "/unanswered/mark", g(p.mark, "editor", csrf="session")),
        web.get(PREFIX + "/unanswered/patch", g(p.patch, "editor")),
        web.get(PREFIX + "/entries", g(p.entries, "viewer")),
        web.get(PREFIX + "/desk", g(p.desk, "viewer")),
        web.get(PREFIX + "/users", g(p.users, "admin")),
        web.post(PREFIX + "/users", g(p.users_change, "admin", csrf="session")),
        web.get(PREFIX + "/audit", g(p.audit, "admin")),
        web.get(PREFIX + "/api/summary", g(p.api_summary, "viewer", api=True)),
        web.get(PREFIX + "/static/{name}", g(console.static, None)),
        web.route("*", PREFIX + "/{tail:.*}", g(p.not_found, None)),
    ]


def application(console: WebConsole) -> web.Application:
    """An application with the console alone (``otwarta console serve``, tests)."""
    app = web.Application(client_max_size=256 * 1024)
    app.add_routes(routes(console))
    return app


class Pages:
    def __init__(self, console: WebConsole) -> None:
        self.c = console

    # -- helpers ---------------------------------------------------------------------------

    def period(self, request: web.Request, ctx: Ctx, *, required: bool = False) -> Period:
        from bot.analytics.figures import Period, PeriodError

        start, end = request.query.get("from"), request.query.get("to")
        if not start or not end:
            if required:
                raise web.HTTPBadRequest(
                    text='{"error": "from and to (YYYY-MM-DD) are required"}',
                    content_type="application/json",
                )
            today = self.c.clock().date()
            return Period(today - dt.timedelta(days=29), today)
        try:
            return Period.parse(start, end)
        except PeriodError as exc:
            if required:
                import json

                raise web.HTTPBadRequest(
                    text=json.dumps({"error": str(exc)}), content_type="application/json"
                ) from None
            today = self.c.clock().date()
            return Period(today - dt.timedelta(days=29), today)

    @staticmethod
    def filters(request: web.Request) -> Filters:
        from bot.analytics.figures import Filters

        lang = request.query.get("language") or None
        platform = request.query.get("platform") or None
        audience = request.query.get("audience") or None
        return Filters(
            lang=lang if lang in LANGS else None,
            platform=platform if platform in PLATFORMS else None,
            audience=audience if audience in AUDIENCES else None,
        )

    async def text(self, ctx: Ctx) -> Any:
        from bot.analytics.report import Text

        return Text(ctx.lang, await self.c.knowledge())

    def common(self, request: web.Request, period: Period, filters: Filters) -> dict[str, Any]:
        keep = {
            k: v
            for k, v in {
                "from": period.start.isoformat(),
                "to": period.end.isoformat(),
                "language": filters.lang,
                "platform": filters.platform,
                "audience": filters.audience,
                "bucket": request.query.get("bucket")
                if request.query.get("bucket") in ("day", "week", "month")
                else None,
            }.items()
            if v
        }
        return {
            "period": period,
            "filters": filters,
            "keep": keep,
            "platforms": PLATFORMS,
            "audiences": AUDIENCES,
        }

    # -- sign-in ---------------------------------------------------------------------------

    async def root(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        return redirect(PREFIX + "/", 308)

    async def login_form(
        self, request: web.Request, ctx: Ctx, *, status: int = 200, error: str | None = None
    ) -> web.StreamResponse:
        if ctx.session is not None and status == 200:
            return redirect(PREFIX + "/")
        async with self.c.db.read() as uow:
            accounts = await ConsoleStore(uow).count_accounts()
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or auth.new_token()
        response = self.c.render(
            request,
            ctx,
            "login.html",
            status=status,
            csrf_token=token,
            no_accounts=accounts == 0,
            expired=request.query.get("expired") == "1",
            error=error,
        )
        self.c.cookie(response, LOGIN_CSRF_COOKIE, token)
        return response

    async def login(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        form = await request.post()
        name = str(form.get("username") or "").strip()[:64]
        password = str(form.get("password") or "")
        code = str(form.get("code") or "")
        address = request.remote or "?"
        now = self.c.clock()
        blocked = self.c.throttle.blocked(name, address, now)
        if blocked is not None:
            LOGINS.labels(f"throttled_{blocked}").inc()
            return await self.login_form(
                request,
                ctx,
                status=429,
                error=ctx.gettext("Too many failed sign-ins. Try again in 15 minutes."),
            )
        async with self.c.db.read() as uow:
            account = await ConsoleStore(uow).account(name) if name else None
        ok = auth.verify_password(account.password_hash if account else None, password)
        if ok and account is not None and account.totp_secret:
            ok = auth.verify_totp(account.totp_secret, code, now)
        if not ok or account is None:
            self.c.throttle.fail(name, address, now)
            LOGINS.labels("failed").inc()
            return await self.login_form(
                request,
                ctx,
                status=401,
                error=ctx.gettext("Wrong name, password or code."),
            )
        self.c.throttle.succeed(name)
        LOGINS.labels("ok").inc()
        token, csrf = auth.new_token(), auth.new_token()
        async with self.c.db.transaction() as uow:
            store = ConsoleStore(uow)
            if auth.needs_rehash(account.password_hash):
                await store.set_password(account.name, auth.hash_password(password), now)
            await store.close_sessions_before(now - self.c.idle, now - self.c.lifetime)
            await store.open_session(auth.token_hash(token), account.id, csrf, now)
            await store.audit(account.name, "sign_in", {}, now)
        response = redirect(PREFIX + "/")
        self.c.cookie(response, SESSION_COOKIE, token)
        response.del_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
        return response

    async def logout(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        assert ctx.session is not None
        async with self.c.db.transaction() as uow:
            store = ConsoleStore(uow)
            await store.close_session(ctx.session.token_hash)
            await store.audit(ctx.session.account.name, "sign_out", {}, self.c.clock())
        response = redirect(PREFIX + "/login")
        response.del_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    # -- pages -----------------------------------------------------------------------------

    async def overview(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        from bot.analytics.report import charts

        period, filters = self.period(request, ctx), self.filters(request)
        bucket = request.query.get("bucket")
        figures = await self.c.figures(
            period, filters, bucket=bucket if bucket in ("day", "week", "month") else None
        )
        text = await self.text(ctx)
        data = figures.to_json()
        drawn = [(caption, self.c.svg(svg)) for caption, svg in charts(figures, text)]
        previous = data.get("previous", {})
        changes = [
            (ctx.gettext("Questions"), data["questions"], previous.get("questions")),
            (ctx.gettext("People"), data["people"], previous.get("people")),
        ]
        for key in data["decisions"]:
            changes.append(
                (text.decision(key), data["decisions"][key], previous.get("decisions", {}).get(key))
            )
        return self.c.render(
            request,
            ctx,
            "overview.html",
            data=data,
            charts=drawn,
            changes=changes,
            grown=figures.growth("by_topic")[:8],
            text=text,
            bucket=figures.bucket,
            **self.common(request, period, filters),
        )

    async def unanswered(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        period, filters = self.period(request, ctx), self.filters(request)
        figures = await self.c.figures(period, filters, with_clusters=True)
        data = figures.to_json()
        knowledge = await self.c.knowledge()
        entries = []
        if knowledge.kb is not None:
            entries = sorted((e.id, e.title.get(ctx.lang)) for e in knowledge.kb.entries.values())
        return self.c.render(
            request,
            ctx,
            "unanswered.html",
            clusters=data["unanswered"],
            total=data["unanswered_questions"],
            marks=await self.c.marks(),
            entries=entries,
            text=await self.text(ctx),
            verdicts=VERDICTS,
            marked=request.query.get("marked"),
            **self.common(request, period, filters),
        )

    async def mark(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        """An editor's verdict on a cluster. Its examples are taken from the figures again
        (the same period and filters the page showed), never from the form."""
        from bot.analytics.figures import Filters, Period, PeriodError

        assert ctx.session is not None
        form = await request.post()
        cluster_id = str(form.get("cluster") or "")
        verdict = str(form.get("verdict") or "")
        entry_id = str(form.get("entry") or "") or None
        lang = str(form.get("lang") or "") or None
        try:
            period = Period.parse(str(form.get("from") or ""), str(form.get("to") or ""))
        except PeriodError:
            raise web.HTTPBadRequest() from None
        filters = Filters(
            lang=str(form.get("language") or "") or None,
            platform=str(form.get("platform") or "") or None,
            audience=str(form.get("audience") or "") or None,
        )
        knowledge = await self.c.knowledge()
        if verdict not in (*VERDICTS, "clear"):
            raise web.HTTPBadRequest()
        if verdict == "belongs" and (
            entry_id is None or knowledge.kb is None or entry_id not in knowledge.kb.entries
        ):
            raise web.HTTPBadRequest()
        if lang is not None and lang not in LANGS:
            raise web.HTTPBadRequest()
        now = self.c.clock()
        actor = ctx.session.account.name
        if verdict == "clear":
            async with self.c.db.transaction() as uow:
                store = ConsoleStore(uow)
                if await store.clear_mark(cluster_id):
                    await store.audit(actor, "unmark_cluster", {"cluster": cluster_id}, now)
        else:
            figures = await self.c.figures(period, filters, with_clusters=True)
            cluster = next(
                (c for c in figures.unanswered if c.id == cluster_id and not c.rest), None
            )
            if cluster is None:
                raise web.HTTPNotFound()
            mark = Mark(
                cluster_id=cluster_id,
                verdict=verdict,
                entry_id=entry_id if verdict == "belongs" else None,
                lang=lang,
                examples=list(cluster.examples),
                marked_by=actor,
                marked_at=now,
            )
            async with self.c.db.transaction() as uow:
                store = ConsoleStore(uow)
                await store.set_mark(mark)
                await store.audit(
                    actor,
                    "mark_cluster",
                    {"cluster": cluster_id, "verdict": verdict, "entry": mark.entry_id},
                    now,
                )
        back = dict(
            (k, str(form.get(k)))
            for k in ("from", "to", "language", "platform", "audience")
            if form.get(k)
        )
        back["marked"] = cluster_id
        return redirect(f"{PREFIX}/unanswered?{_query(back)}#c-{cluster_id}")

    async def patch(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        from bot.webconsole.patch import build_patch

        marks = await self.c.marks()
        text = build_patch(self.c.settings.content_dir, list(marks.values()), self.c.clock())
        response = web.Response(text=text, content_type="text/x-diff", charset="utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="console-suggestions.patch"'
        return response

    async def entries(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        period, filters = self.period(request, ctx), self.filters(request)
        figures = await self.c.figures(period, filters)
        per_entry = figures.entries_json()
        knowledge = await self.c.knowledge()
        today = self.c.clock().date()
        rows: list[dict[str, Any]] = []
        if knowledge.kb is not None:
            for entry in knowledge.kb.entries.values():
                review_by = entry.review_by
                rows.append(
                    {
                        "entry": entry,
                        "title": entry.title.get(ctx.lang),
                        "figures": per_entry.get(entry.id, {}),
                        "stale": review_by is not None and review_by < today,
                        "due_soon": review_by is not None
                        and today <= review_by <= today + dt.timedelta(days=30),
                    }
                )
        rows.sort(
            key=lambda r: (
                not r["stale"],
                r["entry"].review_by or dt.date.max,
                r["entry"].id,
            )
        )
        return self.c.render(
            request,
            ctx,
            "entries.html",
            rows=rows,
            min_count=figures.min_count,
            **self.common(request, period, filters),
        )

    async def desk(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        from bot.analytics.desk_board import desk_board
        from bot.analytics.store import midnight

        period, filters = self.period(request, ctx), self.filters(request)
        figures = await self.c.figures(period, filters)
        board = await desk_board(
            self.c.db,
            midnight(period.start),
            midnight(period.end + dt.timedelta(days=1)),
            pseudonym_key=self.c.settings.desk_pseudonym_secret(),
            filters=filters,
        )
        return self.c.render(
            request,
            ctx,
            "desk.html",
            desk=figures.to_json()["desk"],
            board=board,
            text=await self.text(ctx),
            now=self.c.clock(),
            **self.common(request, period, filters),
        )

    async def users(
        self, request: web.Request, ctx: Ctx, *, error: str | None = None, status: int = 200
    ) -> web.StreamResponse:
        async with self.c.db.read() as uow:
            accounts = await ConsoleStore(uow).accounts()
        return self.c.render(
            request,
            ctx,
            "users.html",
            status=status,
            accounts=accounts,
            roles=tuple(ROLES),
            error=error,
            done=request.query.get("done"),
        )

    async def users_change(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        assert ctx.session is not None
        form = await request.post()
        action = str(form.get("action") or "")
        name = str(form.get("name") or "").strip()
        role = str(form.get("role") or "")
        password = str(form.get("password") or "")
        me = ctx.session.account.name
        now = self.c.clock()
        _ = ctx.gettext
        if not name or len(name) > 64:
            return await self.users(request, ctx, error=_("Give a name."), status=400)
        async with self.c.db.transaction() as uow:
            store = ConsoleStore(uow)
            account = await store.account(name)
            if action == "add":
                if account is not None:
                    return await self.users(
                        request, ctx, error=_("That name is taken."), status=400
                    )
                if role not in ROLES:
                    raise web.HTTPBadRequest()
                if len(password) < auth.MIN_PASSWORD:
                    return await self.users(
                        request,
                        ctx,
                        error=_("A password needs at least 10 characters."),
                        status=400,
                    )
                await store.add_account(name, role, auth.hash_password(password), now)
                await store.audit(me, "add_user", {"name": name, "role": role}, now)
            elif account is None:
                raise web.HTTPNotFound()
            elif name == me:
                return await self.users(
                    request, ctx, error=_("You cannot change your own account here."), status=400
                )
            elif action == "role":
                if role not in ROLES:
                    raise web.HTTPBadRequest()
                await store.set_role(name, role)
                await store.audit(
                    me, "set_role", {"name": name, "from": account.role, "to": role}, now
                )
            elif action == "password":
                if len(password) < auth.MIN_PASSWORD:
                    return await self.users(
                        request,
                        ctx,
                        error=_("A password needs at least 10 characters."),
                        status=400,
                    )
                await store.set_password(name, auth.hash_password(password), now)
                await store.audit(me, "set_password", {"name": name}, now)
            elif action == "remove":
                await store.remove_account(name)
                await store.audit(me, "remove_user", {"name": name}, now)
            else:
                raise web.HTTPBadRequest()
        return redirect(f"{PREFIX}/users?done={action}")

    async def audit(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        async with self.c.db.read() as uow:
            rows = await ConsoleStore(uow).audit_log(500)
        return self.c.render(request, ctx, "audit.html", rows=rows)

    async def api_summary(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        period = self.period(request, ctx, required=True)
        figures = await self.c.figures(period, self.filters(request), with_clusters=True)
        return web.json_response(figures.to_json(), dumps=_dumps)

    async def not_found(self, request: web.Request, ctx: Ctx) -> web.StreamResponse:
        ctx.session, _expired = await self.c.session_of(request)
        return self.c.error_page(request, ctx, 404)


def _query(values: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(values)


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
