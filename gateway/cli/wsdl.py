"""``parkgate wsdl``: the WSDLs exactly as served, printed, written to ``wsdl/`` or checked."""

import sys

from .. import config as configuration

WSDL_DIR = configuration.REPO_ROOT / "wsdl"
#: The address written into the checked-in WSDLs (the default listen address), whatever this
#: gateway's own: the files describe the contract, and a test holds them to what is served.
PUBLISHED_URL = "http://127.0.0.1:8080"


def register(sub):
    wsdl = sub.add_parser("wsdl", help="print, write or check the WSDLs",
                          description="Build the WSDLs exactly as served: printed with the configured address; "
                                      f"written to or checked against {WSDL_DIR.name}/ with {PUBLISHED_URL}.")
    group = wsdl.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"regenerate {WSDL_DIR.name}/")
    group.add_argument("--check", action="store_true", help=f"exit 1 if {WSDL_DIR.name}/ is out of date")
    wsdl.set_defaults(run=cmd_wsdl)


def cmd_wsdl(args, cfg):
    from ..soap.application import publish
    if not (args.write or args.check):
        for p in publish(None, cfg.base_url):
            sys.stdout.write(p.wsdl.decode())
        return 0
    published = publish(None, PUBLISHED_URL)
    stale = []
    for p in published:
        path = WSDL_DIR / p.file_name
        if args.write:
            WSDL_DIR.mkdir(exist_ok=True)
            path.write_bytes(p.wsdl)
            print(f"wrote {path}")
        elif not path.exists() or path.read_bytes() != p.wsdl:
            stale.append(path.name)
    if stale:
        print(f"out of date: {', '.join(stale)} (run: parkgate wsdl --write)", file=sys.stderr)
        return 1
    return 0
