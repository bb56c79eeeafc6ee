"""The admins' Zones page (issue 16): every zone with its spaces per vehicle type and how many are
taken now; a zone's capacities edited (a new version, audited by the use case)."""

from ...domain.errors import InvalidInput
from ...domain.vehicle_types import VEHICLE_TYPES
from .app import ADMIN, page


@page("/zones", roles=ADMIN)
def zones(ctx):
    return ctx.render("zones.html", zones=ctx.use_cases.zones.listing(ctx.facility.id), vehicle_types=VEHICLE_TYPES)


@page("/zones/<zone_id>", roles=ADMIN, methods=("POST",))
def zone_change(ctx, zone_id):
    capacity = {}
    for kind in VEHICLE_TYPES:
        given = ctx.form(f"capacity-{kind}")
        if given:
            if not given.isdigit():
                raise InvalidInput(ctx._("Spaces are a whole number, 0 or more."), f"capacity-{kind}")
            capacity[kind] = int(given)
    changed = ctx.use_cases.zones.set(ctx.facility.id, zone_id, ctx.username, name=ctx.form("name") or None,
                                      capacity=capacity, reason=ctx.form("reason") or None)
    ctx.flash(ctx._("Zone %(name)s saved (version %(version)s).", name=changed.name, version=changed.version),
              "success")
    return ctx.redirect("zones")
