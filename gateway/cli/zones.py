"""``parkgate zone list|set``: a facility's zones with their spaces now, and a zone's next version."""

import json
import sys

from ..domain.errors import ParkgateError
from ..domain.zones import KINDS
from .admin import cli_origin, open_store, operator


def register(sub):
    zone = sub.add_parser("zone", help="zones (levels, areas) and their spaces per vehicle type",
                          description="A facility's zones: their spaces per vehicle type, set by an admin, audited.")
    z_sub = zone.add_subparsers(dest="zone_command", required=True, metavar="ACTION")
    list_ = z_sub.add_parser("list", help="the zones with their spaces now (JSON lines)")
    list_.add_argument("facility")
    list_.set_defaults(run=cmd_zone_list)
    set_ = z_sub.add_parser("set", help="a zone's next version (or a new zone)",
                            description="The zone as it is with what is given on top: capacities as TYPE=SPACES "
                                        "(e.g. car=120 motorcycle=40), the others stay.")
    set_.add_argument("facility")
    set_.add_argument("zone")
    set_.add_argument("capacity", nargs="*", metavar="TYPE=SPACES")
    set_.add_argument("--name")
    set_.add_argument("--kind", choices=KINDS)
    set_.add_argument("--permit-only", dest="permit_only", action="store_true", default=None)
    set_.add_argument("--open-to-all", dest="permit_only", action="store_false", help="not only permit holders")
    set_.add_argument("--reason")
    set_.set_defaults(run=cmd_zone_set)


def _zones(cfg):
    from ..app.clock import utcnow
    from ..app.relaying import Relaying
    from ..app.zones import Zones
    return Zones(facilities=cfg.facilities, store=open_store(cfg), clock=utcnow, relaying=Relaying(None, None, utcnow))


def _line(z, spaces=()):
    return json.dumps({"facility": z.facility_id, "zone": z.id, "name": z.name, "kind": z.kind,
                       "permit_only": z.permit_only, "capacity": dict(z.capacity), "version": z.version,
                       "set_by": z.set_by, "reason": z.reason,
                       **({"spaces": {s.vehicle_type: {"capacity": s.capacity, "occupied": s.occupied,
                                                        "available": s.available} for s in spaces}}
                          if spaces else {})})


def cmd_zone_list(args, cfg):
    try:
        for view in _zones(cfg).listing(args.facility):
            print(_line(view.zone, view.spaces))
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2


def cmd_zone_set(args, cfg):
    capacity = {}
    for pair in args.capacity:
        kind, sep, spaces = pair.partition("=")
        if not sep:
            print(f"{pair!r}: give TYPE=SPACES", file=sys.stderr)
            return 2
        capacity[kind.strip()] = spaces.strip()
    try:
        with cli_origin():
            z = _zones(cfg).set(args.facility, args.zone, operator(), name=args.name, kind=args.kind,
                                capacity=capacity, permit_only=args.permit_only, reason=args.reason)
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    print(_line(z))
