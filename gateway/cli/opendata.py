"""``parkgate datex2 table|status``: the DATEX II v3 publications printed; ``parkgate permit verify``: a
permit token checked (issue 17)."""

import sys

from ..domain.errors import ParkgateError
from .admin import open_store


def register(sub):
    datex2 = sub.add_parser("datex2", help="DATEX II v3 parking publications",
                            description="Print a whole d2:payload document: the facilities' static description "
                                        "(table) or their live occupancy (status).")
    datex2.add_argument("publication", choices=("table", "status"))
    datex2.add_argument("--facility", help="only this facility (default: every one)")
    datex2.set_defaults(run=cmd_datex2)
    register_permit(sub)


def open_data(cfg):
    """The publications as the gateway makes them: the zones in force (set at run time too) included."""
    from ..app.clock import utcnow
    from ..app.occupancy import Occupancy
    from ..app.opendata import OpenData
    from ..app.relaying import Relaying
    from ..app.zones import Zones
    store = open_store(cfg)
    zones = Zones(facilities=cfg.facilities, store=store, clock=utcnow, relaying=Relaying(None, None, utcnow))
    return OpenData(facilities=cfg.facilities, occupancy=Occupancy(cfg.facilities, store, utcnow, zones),
                    publisher=cfg.open_data, clock=utcnow, zones=zones)


def cmd_datex2(args, cfg):
    publications = open_data(cfg)
    try:
        document = getattr(publications, args.publication)(args.facility)
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    sys.stdout.buffer.write(document)
    return 0


def register_permit(sub):
    permit = sub.add_parser("permit", help="digital permits", description="Digital permits (issue 17).")
    permit_sub = permit.add_subparsers(dest="permit_command", required=True, metavar="ACTION")
    verify = permit_sub.add_parser("verify", help="check a scanned permit token",
                                   description="Check a permit token's signature and dates with the permit key; "
                                               "then, unless --offline, whether the permit was revoked since. "
                                               "Exit 0: valid; 1: refused (expired, revoked...); 2: tampered.")
    verify.add_argument("token")
    verify.add_argument("--facility", help="where it is shown (default: the permit's own facility)")
    verify.add_argument("--offline", action="store_true", help="signature and dates only: no database")
    verify.set_defaults(run=cmd_permit_verify)


def cmd_permit_verify(args, cfg):
    from ..app.clock import utcnow
    from ..app.permit_passes import PermitPasses
    from ..domain.permit_tokens import PermitTokens, TamperedToken
    from ..store.signing import load_permit_key
    tokens = PermitTokens.signing(load_permit_key(cfg.ops.permit_key_file))
    passes = PermitPasses(facilities=cfg.facilities, store=None if args.offline else open_store(cfg), tokens=tokens,
                          clock=utcnow)
    try:
        check = passes.check(args.token, facility_id=args.facility, offline=args.offline)
    except TamperedToken as e:
        print(f"TAMPERED: {e.message}")
        return 2
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    c = check.claim
    print(f"{check.status}: permit {c.permit_number} ({c.facility_id or 'every facility'}), "
          f"{c.valid_from} to {c.valid_until}{' (offline: revocations not checked)' if check.offline else ''}")
    return 0 if check.valid else 1
