"""What officers and admins watch and act on: the dashboard, the review queue, the lanes."""

from werkzeug.wrappers import Response

from .app import OFFICER, page
from .charts import grouped_bars

LANE_COMMANDS = ("OPEN", "CLOSE", "HOLD", "RELEASE")


def _dashboard(ctx):
    view = ctx.use_cases.dashboard.view(ctx.facility.id)
    fmt = ctx.formats
    entries, exits = ctx._("Entries"), ctx._("Exits")
    hours = grouped_bars(ctx._("Entries and exits per hour, today"), [fmt.clock(t.start) for t in view.hours],
                         [(entries, [t.entries for t in view.hours]), (exits, [t.exits for t in view.hours])],
                         width=1200, height=200, max_ticks=24)
    week = view.days[-7:]
    days7 = grouped_bars(ctx._("The last 7 days"), [fmt.day(t.start) for t in week],
                         [(entries, [t.entries for t in week]), (exits, [t.exits for t in week])],
                         width=480, height=200)
    days30 = grouped_bars(ctx._("The last 30 days"), [fmt.day(t.start) for t in view.days],
                          [(entries, [t.entries for t in view.days]), (exits, [t.exits for t in view.days])],
                          width=720, height=200, max_ticks=10)
    return dict(view=view, charts=[hours, days7, days30])


@page("/dashboard", roles=OFFICER)
def dashboard(ctx):
    return ctx.render("dashboard.html", **_dashboard(ctx))


@page("/dashboard/live", roles=OFFICER, touch=False)
def dashboard_live(ctx):
    """The dashboard's figures alone, fetched every few seconds by the page (not counted as use)."""
    return ctx.render("_dashboard_live.html", **_dashboard(ctx))


@page("/reviews", roles=OFFICER)
def reviews(ctx):
    waiting = ctx.use_cases.reviews.listing(ctx.facility.id, username=ctx.username)
    return ctx.render("reviews.html", reviews=waiting)


def _image_type(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    return "application/octet-stream"


@page("/reviews/<key:review_id>/image", roles=OFFICER)
def review_image(ctx, review_id):
    review = ctx.use_cases.reviews.get(review_id)
    if not review.image:
        return Response(ctx._("No picture was kept for this event."), status=404, content_type="text/plain")
    return Response(review.image, content_type=_image_type(review.image),
                    headers={"Content-Disposition": "inline", "Cache-Control": "private, no-store"})


@page("/reviews/<key:review_id>", roles=OFFICER, methods=("POST",))
def review_resolve(ctx, review_id):
    decided = ctx.use_cases.reviews.resolve(review_id, ctx.form("plate"), ctx.username)
    ctx.flash(ctx._("Review resolved: decision %(decision)s, barrier %(barrier)s.",
                    decision=decided.outcome.decision, barrier=decided.barrier.result), "success")
    return ctx.redirect("reviews")


@page("/lanes", roles=OFFICER)
def lanes(ctx):
    states = ctx.use_cases.lanes.listing(ctx.facility.id, ctx.username)
    return ctx.render("lanes.html", lanes=states, commands=LANE_COMMANDS)


@page("/lanes/<key:number>", roles=OFFICER, methods=("POST",))
def lane_command(ctx, number):
    command = ctx.form("command")
    if command not in LANE_COMMANDS:
        ctx.flash(ctx._("Choose a command."), "error")
        return ctx.redirect("lanes")
    action = ctx.use_cases.lanes.command(ctx.facility.id, number, command, ctx.form("reason"), ctx.username)
    ctx.flash(ctx._("Lane %(number)s: %(command)s -> %(result)s (%(detail)s)", number=number, command=command,
                    result=action.result, detail=action.detail), "success" if action.result == "COMMANDED" else "info")
    return ctx.redirect("lanes")
