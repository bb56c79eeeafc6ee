"""``parkgate enforce scan``: the violation scan, now, from the command line (issue 17)."""

import sys

from ..domain.errors import ParkgateError
from .admin import cli_origin, open_store, operator


def register(sub):
    enforce = sub.add_parser("enforce", help="violation scans and citations",
                             description="The violation scan of each facility's open sessions.")
    enforce_sub = enforce.add_subparsers(dest="enforce_command", required=True, metavar="ACTION")
    scan = enforce_sub.add_parser("scan", help="scan open sessions for violations and cite them",
                                  description="Check open sessions for violations (overstays without a permit, "
                                              "expired or revoked permits, unpaid stays, permit-only lots) and "
                                              "cite each once; --dry-run shows what it would cite and why.")
    scan.add_argument("--facility", help="only this facility (default: every one)")
    scan.add_argument("--dry-run", action="store_true", help="show, cite nothing")
    scan.set_defaults(run=cmd_scan)


def enforcement(cfg):
    from ..app.citations import Citations
    from ..app.clock import utcnow
    from ..app.enforcement import Enforcement
    from ..app.relaying import Relaying
    from ..app.tariffs import Tariffs
    from ..service import outbox
    store = open_store(cfg)
    relaying = Relaying(outbox(store, cfg, utcnow), clock=utcnow)  # the serving gateway's relays deliver them
    return Enforcement(cfg.facilities, store, Citations(cfg.facilities, store, relaying, utcnow), utcnow,
                       tariffs=Tariffs(facilities=cfg.facilities, store=store, clock=utcnow))


def cmd_scan(args, cfg):
    facilities = [args.facility] if args.facility else list(cfg.facilities)
    scanner = enforcement(cfg)
    total = 0
    try:
        with cli_origin():
            for facility_id in facilities:
                for item in scanner.scan(facility_id, dry_run=args.dry_run, username=operator()):
                    total += 1
                    fine = f"{item.fine} {item.currency}" if item.fine is not None else "no fine configured"
                    cited = f" {item.citation_id}" if item.citation_id else ""
                    print(f"{item.facility_id:<16} {item.session_id:<26} {item.plate:<12} {item.violation:<15} "
                          f"{item.outcome}{cited} ({fine}): {item.why}")
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    if not total:
        print("no violations found")
    return 0
