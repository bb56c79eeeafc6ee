"""``parkgate datex2 table|status``: the DATEX II v3 publications printed (issue 17)."""

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


def open_data(cfg):
    from ..app.clock import utcnow
    from ..app.occupancy import Occupancy
    from ..app.opendata import OpenData
    return OpenData(facilities=cfg.facilities, occupancy=Occupancy(cfg.facilities, open_store(cfg), utcnow),
                    publisher=cfg.open_data, clock=utcnow)


def cmd_datex2(args, cfg):
    publications = open_data(cfg)
    try:
        document = getattr(publications, args.publication)(args.facility)
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    sys.stdout.buffer.write(document)
    return 0
