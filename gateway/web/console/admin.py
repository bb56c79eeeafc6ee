"""The administrators' pages: users, the activity log, backups."""

import tarfile
import tempfile
from datetime import datetime

from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from ...domain.audit import KINDS
from ...domain.errors import InvalidInput, NotFound
from ...domain.users import ROLES
from .app import ADMIN, page
from .charts import grouped_bars

PAGE_SIZE = 100


@page("/users", roles=ADMIN)
def users(ctx):
    return ctx.render("users.html", users=ctx.use_cases.users.listing(), roles=ROLES)


@page("/users", roles=ADMIN, methods=("POST",))
def user_add(ctx):
    username, role = ctx.form("username"), ctx.form("role")
    try:
        ctx.use_cases.users.get(username)
    except NotFound:
        ctx.use_cases.users.add(username, ctx.request.form.get("password", ""), role, by=ctx.username)
        ctx.flash(ctx._("User %(name)s added.", name=username), "success")
        return ctx.redirect("users")
    raise InvalidInput(ctx._("A user of that name exists: change it below."), "username")


@page("/users/<username>", roles=ADMIN, methods=("POST",))
def user_change(ctx, username):
    users, action = ctx.use_cases.users, ctx.form("action")
    if username == ctx.username and action in ("disable", "role"):
        raise InvalidInput(ctx._("You cannot disable yourself or change your own role."), "username")
    if action == "role":
        users.update(username, role=ctx.form("role"), by=ctx.username)
        ctx.flash(ctx._("%(name)s is now %(role)s.", name=username, role=ctx.form("role")), "success")
    elif action == "disable":
        users.update(username, disabled=True, by=ctx.username)
        ctx.flash(ctx._("%(name)s can no longer log in.", name=username), "success")
    elif action == "enable":
        users.update(username, disabled=False, by=ctx.username)
        ctx.flash(ctx._("%(name)s can log in again.", name=username), "success")
    elif action == "unlock":
        users.unlock(username, by=ctx.username)
        ctx.flash(ctx._("%(name)s can try to log in again.", name=username), "success")
    elif action == "password":
        user = users.get(username)
        users.add(username, ctx.request.form.get("password", ""), user.role,
                  allow_digest=user.digest_secret is not None, demo=user.demo, by=ctx.username)
        ctx.flash(ctx._("The password of %(name)s is reset.", name=username), "success")
    else:
        raise InvalidInput(ctx._("Choose what to change."), "action")
    return ctx.redirect("users")


def _local_time(ctx, name: str) -> datetime | None:
    value = ctx.request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M").replace(tzinfo=ctx.formats.zone)
    except ValueError:
        raise InvalidInput(ctx._("Write times as the date picker does (YYYY-MM-DDTHH:MM)."), name) from None


def _audit_filter(ctx, after_id=None):
    args = ctx.request.args
    kind = args.get("kind") or None
    return ctx.use_cases.audit.criteria(since=_local_time(ctx, "from"), until=_local_time(ctx, "until"),
                                        username=args.get("user", "").strip() or None, kind=kind,
                                        action=args.get("action", "").strip() or None, after_id=after_id)


@page("/activity", roles=ADMIN)
def activity(ctx):
    after = ctx.request.args.get("after", type=int)
    criteria = _audit_filter(ctx, after)
    entries = ctx.use_cases.audit.query(criteria, ctx.username, limit=PAGE_SIZE)
    more = entries[-1].id if len(entries) == PAGE_SIZE else None
    query = {k: v for k, v in ctx.request.args.items() if k != "after" and v}
    return ctx.render("activity.html", entries=entries, kinds=KINDS, args=ctx.request.args, more=more, query=query)


@page("/activity.csv", roles=ADMIN)
def activity_csv(ctx):
    body = ctx.use_cases.audit.export_csv(_audit_filter(ctx), ctx.username)
    stamp = ctx.use_cases.clock().strftime("%Y%m%dT%H%M%SZ")
    return Response(body, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="activity-{stamp}.csv"'})


@page("/backups", roles=ADMIN)
def backups(ctx):
    return ctx.render("backups.html", backups=ctx.use_cases.backups.listing(),
                      interval_h=ctx.console.backup_interval_h, directory=ctx.use_cases.backups.directory)


@page("/backups", roles=ADMIN, methods=("POST",))
def backup_run(ctx):
    made = ctx.use_cases.backups.run(ctx.username)
    ctx.flash(ctx._("Backup %(name)s written and verified.", name=made.name), "success")
    return ctx.redirect("backups")


@page("/backups/<name>/download", roles=ADMIN)
def backup_download(ctx, name):
    kept = {b.name: b for b in ctx.use_cases.backups.listing()}
    if name not in kept:
        raise NotFound(ctx._("No such backup."), "Backup")
    spool = tempfile.TemporaryFile()
    with tarfile.open(fileobj=spool, mode="w:gz") as tar:
        tar.add(kept[name].path, arcname=name)
    size = spool.tell()
    spool.seek(0)
    ctx.use_cases.audit.record(ctx.username, "ExportBackup", name, f"{size} bytes", kind="QUERY")
    return Response(wrap_file(ctx.request.environ, spool), direct_passthrough=True, content_type="application/gzip",
                    headers={"Content-Disposition": f'attachment; filename="{name}.tar.gz"',
                             "Content-Length": str(size)})


@page("/reports", roles=ADMIN)
def reports(ctx):
    from ...domain.reports import PERIODS
    args = ctx.request.args
    kind, report = args.get("kind", "daily"), None
    first, until = _day(ctx, "from"), _day(ctx, "until")
    report = ctx.use_cases.reports.report(kind, first, until, ctx.facility.id, username=ctx.username)
    section = report.facilities[0]
    hours = grouped_bars(ctx._("Entries and exits per hour of the day"), [f"{h:02d}" for h in range(24)],
                         [(ctx._("Entries"), list(section.entries_per_hour)),
                          (ctx._("Exits"), list(section.exits_per_hour))], width=1200, height=200, max_ticks=24)
    query = {k: v for k, v in args.items() if v}
    return ctx.render("reports.html", report=report, section=section, periods=PERIODS, kind=kind, args=args,
                      hours_chart=hours, query=query)


def _day(ctx, name):
    from datetime import date
    value = ctx.request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(ctx._("Write days as the date picker does (YYYY-MM-DD)."), name) from None


@page("/reports/export.<fmt>", roles=ADMIN)
def report_export(ctx, fmt):
    from ...app import exports
    fmt = exports.checked_format(fmt)
    args = ctx.request.args
    report = ctx.use_cases.reports.report(args.get("kind", "daily"), _day(ctx, "from"), _day(ctx, "until"),
                                          ctx.facility.id, username=ctx.username)
    return Response(exports.export(report, fmt), content_type=exports.FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{exports.file_name(report, fmt)}"'})
