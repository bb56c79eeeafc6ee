"""The console as a WSGI application (werkzeug), hosted by the gateway's Twisted site under
``/console`` in a thread pool of its own: each request, and the use cases it calls, runs off the
reactor, as SOAP requests do.

The pages only translate: forms to use-case calls, results to HTML. What is framework lives here:
routing with the roles each page admits, the log-in session and its cookie, a CSRF token checked
on every POST, the language, security headers, and errors as pages (never an empty body).
"""

import hmac
import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import IntegerConverter, Map, Rule
from werkzeug.utils import redirect, send_from_directory
from werkzeug.wrappers import Request, Response

from ...app.audit import origin
from ...app.callers import Networks, caller_address
from ...domain.console_sessions import ConsoleSession
from ...domain.errors import NotFound as DomainNotFound
from ...domain.errors import ParkgateError, UnknownFacility, UnknownLane
from .i18n import LANGUAGES, Formats, best_language, compile_catalogue

log = logging.getLogger("parkgate")

HERE = Path(__file__).parent
COOKIE = "parkgate_console"
ADMIN = ("admin",)
OFFICER = ("admin", "operator")
#: Roles that have console pages; the others (integrator, enforcement) are refused at log-in.
CONSOLE_ROLES = OFFICER
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
                               "style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class Key(IntegerConverter):
    """``<key:name>``: a number that names a row (a review, a lane), as the contract's xs:int: a path
    with a larger one names nothing (404), it does not reach the database to overflow its integer."""

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=0, max=2 ** 31 - 1)


@dataclass(frozen=True)
class Route:
    path: str
    handler: Callable[..., Response]
    roles: tuple[str, ...] | None     # None: no log-in needed
    methods: tuple[str, ...]
    touch: bool                       # counts as use of the session (an automatic refresh does not)


ROUTES: dict[str, Route] = {}


def page(path: str, *, roles: tuple[str, ...] | None, methods: tuple[str, ...] = ("GET",), touch: bool = True):
    """Register a page handler ``(ctx, **url_arguments) -> Response`` under its function's name."""
    def register(fn):
        ROUTES[fn.__name__] = Route(path, fn, roles, methods, touch)
        return fn
    return register


class Context:
    """One request as a page sees it: who asks, in which language, about which facility."""

    def __init__(self, console: "Console", request: Request, session: ConsoleSession, urls: Any) -> None:
        self.console = console
        self.request = request
        self.session = session
        self.urls = urls
        self.ended = False      # logged out: the cookie goes
        self.use_cases = console.use_cases
        self.translations = console.translations[session.language]
        fac = self.facility
        self.formats = Formats(session.language, fac.timezone if fac else console.default_zone)

    @property
    def username(self) -> str:
        assert self.session.username is not None
        return self.session.username

    @property
    def facility(self):
        facilities = self.console.facilities
        if not facilities:
            return None
        return facilities.get(self.session.facility_id or "") or next(iter(facilities.values()))

    @property
    def address(self) -> str | None:
        """The caller's address, as SOAP's is taken (behind a trusted proxy: whom it forwarded for)."""
        return (caller_address(self.request.environ, self.console.trusted_proxies) or "")[:64] or None

    @property
    def here(self) -> str:
        """This page's own address (path and query), as a ``next`` or ``back``."""
        return self.request.script_root + self.request.full_path.rstrip("?")

    def _(self, message: str, **values: Any) -> str:
        text = self.translations.gettext(message)
        return text % values if values else text

    def url(self, endpoint: str, **values: Any) -> str:
        return self.urls.build(endpoint, values)

    def flash(self, message: str, kind: str = "info") -> None:
        self.session.flashes.append((kind, message))

    def form(self, name: str, default: str = "") -> str:
        return self.request.form.get(name, default).strip()

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        env = self.console.environments[self.session.language]
        flashes, self.session.flashes[:] = list(self.session.flashes), []
        body = env.get_template(template).render(
            ctx=self, session=self.session, url=self.url, fmt=self.formats, flashes=flashes, languages=LANGUAGES,
            facilities=self.console.facilities, facility=self.facility, **values)
        return Response(body, status=status, content_type="text/html; charset=utf-8")

    def redirect(self, endpoint: str, **values: Any) -> Response:
        return redirect(self.url(endpoint, **values), code=303)

    def back(self, endpoint: str, **values: Any) -> Response:
        """After a POST: back to the page it came from (the form's ``back``), else to ``endpoint``."""
        back = self.request.form.get("back", "")
        if back.startswith(self.request.script_root + "/") and "//" not in back and "\\" not in back:
            return redirect(back, code=303)
        return self.redirect(endpoint, **values)


class Console:
    def __init__(self, *, use_cases: Any, facilities: Mapping[str, Any], language: str, secure: bool,
                 backup_interval_h: float = 0, trusted_proxies: Networks = ()) -> None:
        from . import admin, booth, cashier, monitor, signin, tariffs, zones  # noqa: F401  (their pages register themselves)
        self.use_cases = use_cases
        self.facilities = facilities
        self.default_language = language
        self.secure = secure
        self.backup_interval_h = backup_interval_h
        self.trusted_proxies = trusted_proxies
        self.default_zone = next(iter(facilities.values())).timezone if facilities else None
        self.sessions = use_cases.console_sessions
        self.translations = {lang: compile_catalogue(lang) for lang in LANGUAGES}
        self.environments = {lang: self._environment(lang) for lang in LANGUAGES}
        self.url_map = Map([Rule(r.path, endpoint=name, methods=list(r.methods)) for name, r in ROUTES.items()]
                           + [Rule("/static/<path:filename>", endpoint="static")], strict_slashes=False,
                           merge_slashes=False, converters={"key": Key})   # "/ticket//0" names no page

    def _environment(self, language: str) -> Environment:
        env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                          extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
        env.install_gettext_translations(self.translations[language], newstyle=True)  # type: ignore[attr-defined]
        return env

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.handle(request)
        except Exception as e:  # a page's bug: a page that says so, never an empty 500
            where = traceback.extract_tb(e.__traceback__)[-1]   # where, not what: no values (plates) logged
            log.error("console: %s %s failed: %s at %s:%s", request.method, request.path, type(e).__name__,
                      Path(where.filename).name, where.lineno)
            response = Response("The console could not show this page; the error is logged.\n", status=500,
                                content_type="text/plain; charset=utf-8")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        urls = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, arguments = urls.match()
        except (NotFound, MethodNotAllowed) as e:
            return Response(f"{e.code} {e.name}\n", status=e.code, content_type="text/plain; charset=utf-8")
        if endpoint == "static":
            response = send_from_directory(HERE / "static", arguments["filename"], request.environ, max_age=3600)
            return response
        route = ROUTES[endpoint]
        cookie = request.cookies.get(COOKIE)
        session, expired = self.sessions.get(cookie, touch=route.touch)
        if session is None and not route.touch:  # a refresh after the end: the page itself will say why
            return Response("Your session has ended: log in again.\n", status=401,
                            content_type="text/plain; charset=utf-8")
        if session is None:   # a visitor (kept only once there is something to keep: nothing written here)
            session = self.sessions.visitor(None if expired else cookie,
                                            best_language(request.headers.get("Accept-Language"),
                                                          self.default_language))
        fresh = session.id != cookie
        before = session.state()
        if route.touch:
            self.sessions.use(session)
        ctx = Context(self, request, session, urls)
        response = self._dispatch(ctx, route, arguments, expired)
        if not ctx.ended:   # a session made at log-in was written whole: only what this request changed since
            self.sessions.save(ctx.session, before if ctx.session is session else ctx.session.state())
        path = request.script_root or "/"
        if ctx.ended:
            response.delete_cookie(COOKIE, path=path, httponly=True, samesite="Strict", secure=self.secure)
        elif ctx.session is not session or fresh:  # logged in (a new id), or a new visitor
            response.set_cookie(COOKIE, ctx.session.id, httponly=True, samesite="Strict", secure=self.secure,
                                path=path)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _dispatch(self, ctx: Context, route: Route, arguments: dict, expired: bool) -> Response:
        request, session = ctx.request, ctx.session
        if route.roles is not None and not session.logged_in:
            if request.method == "GET" and route.touch:
                return ctx.redirect("login", next=ctx.here, expired=1 if expired else None)
            return Response(ctx._("Your session has ended: log in again."), status=401,
                            content_type="text/plain; charset=utf-8")
        if route.roles is not None and session.role not in route.roles:
            return ctx.render("error.html", status=403, title=ctx._("Not for your role"),
                              message=ctx._("This page is for administrators."))
        if request.method == "POST" and not hmac.compare_digest(request.form.get("csrf", "").encode(),
                                                                session.csrf.encode()):   # bytes: any text
            return ctx.render("error.html", status=403, title=ctx._("The form has expired"),
                              message=ctx._("Reload the page and try again."))
        with origin(ctx.address):
            try:
                return route.handler(ctx, **arguments)
            except ParkgateError as e:
                if request.method != "POST":
                    status = 404 if isinstance(e, (DomainNotFound, UnknownFacility, UnknownLane)) else 400
                    return ctx.render("error.html", status=status, title=ctx._("Not found") if status == 404
                                      else ctx._("Not possible"), message=ctx._(e.message))
                ctx.flash(ctx._(e.message), "error")
                return ctx.back("dashboard")
            except HTTPException as e:
                return e.get_response(request.environ)  # type: ignore[return-value]
