"""Log-in and log-out, the language switch and the facility a person works in."""

from werkzeug.utils import redirect

from ...app.auth import PASSWORD_TEXT, UsernameToken
from ...domain.errors import AuthenticationFailed
from .app import CONSOLE_ROLES, OFFICER, page
from .i18n import LANGUAGES


def _local(ctx, target: str) -> str | None:
    """``target`` if it is a page of this console (never another site: no open redirect)."""
    root = ctx.request.script_root + "/"
    if target.startswith(root) and "//" not in target and "\\" not in target:
        return target
    return None


@page("/", roles=OFFICER)
def home(ctx):
    return ctx.redirect("dashboard")


@page("/login", roles=None, methods=("GET", "POST"))
def login(ctx):
    if ctx.request.method == "GET":
        if ctx.session.logged_in:
            return ctx.redirect("home")
        if ctx.request.args.get("expired"):
            ctx.flash(ctx._("Your session ended after a while without use: log in again."), "info")
        return ctx.render("login.html", next=ctx.request.args.get("next", ""))
    username, password = ctx.form("username"), ctx.request.form.get("password", "")
    audit = ctx.use_cases.audit
    try:
        username, role = ctx.use_cases.authenticator.authenticate(UsernameToken(username, password, PASSWORD_TEXT),
                                                                  source=ctx.address)
    except AuthenticationFailed:
        audit.record(username[:64] or "-", "ConsoleLoginFailed", "console", None, kind="SYSTEM")
        ctx.flash(ctx._("Wrong user name or password, or the account is disabled."), "error")
        return ctx.render("login.html", status=401, next=ctx.form("next"), username=username)
    if role not in CONSOLE_ROLES:
        ctx.flash(ctx._("Your role has no console pages."), "error")
        return ctx.render("login.html", status=403, next=ctx.form("next"), username=username)
    ctx.session = ctx.console.sessions.log_in(ctx.session, username, role)
    audit.record(username, "ConsoleLogin", "console", f"role {role}", kind="SYSTEM")
    target = _local(ctx, ctx.form("next"))
    return redirect(target, code=303) if target else ctx.redirect("home")


@page("/logout", roles=None, methods=("POST",))
def logout(ctx):
    if ctx.session.logged_in:
        ctx.use_cases.audit.record(ctx.username, "ConsoleLogout", "console", None, kind="SYSTEM")
    ctx.console.sessions.end(ctx.session)
    ctx.ended = True
    return ctx.redirect("login")


@page("/language", roles=None, methods=("POST",))
def language(ctx):
    chosen = ctx.form("language")
    if chosen in LANGUAGES:
        ctx.session.language = chosen
    return ctx.back("login")


@page("/facility", roles=OFFICER, methods=("POST",))
def facility(ctx):
    chosen = ctx.form("facility")
    if chosen in ctx.console.facilities:
        ctx.session.facility_id = chosen
    return ctx.back("home")
