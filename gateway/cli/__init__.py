"""``parkgate``: the command line, one module per command group.

- ``serve``: the gateway, its relay child and the PLC simulator (and the logging they share);
- ``recognition``: plates read from image files, accuracy benchmarks;
- ``wsdl``: the WSDLs printed, written or checked;
- ``admin``: users, the hotlist, the database;
- ``outbox``: what the relays owe their destinations;
- ``ops``: the activity log, backups and restores, retention;
- ``enforce``: the violation scan (issue 17).
- ``privacy``: the keys that seal plates at rest (init, status, rotate), erasure by plate;
- ``operator``: tickets printed, shifts, payments at the booth, reports.
- ``opendata``: the DATEX II v3 publications, permit tokens checked (issue 17).
- ``tariffs``: tariff versions per vehicle type (issue 16, part A).
- ``zones``: zones and their spaces per vehicle type (issue 16).
"""

import argparse
import os
import sys

from .. import config as configuration
from . import admin, enforce, opendata, operator, ops, outbox, privacy, recognition, serve, tariffs, wsdl, zones


def main(argv=None):
    parser = argparse.ArgumentParser(prog="parkgate", description="SOAP/XML integration gateway for parking.")
    parser.add_argument("--config", "-c", default=None,
                        help=f"TOML configuration (default: {configuration.DEFAULT_CONFIG.name} in the repository)")
    parser.add_argument("--database-url", help="override [database] url")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (serve, recognition, wsdl, admin, outbox, ops, enforce, privacy, operator, opendata, tariffs,
                  zones):
        group.register(sub)
    args = parser.parse_args(argv)
    try:
        cfg = configuration.load(args.config).override(database_url=args.database_url)
    except configuration.ConfigError as e:
        parser.exit(2, f"parkgate: configuration: {e}\n")
    from ..store.keyring import KeyRingError
    try:
        return args.run(args, cfg) or 0
    except KeyRingError as e:  # a key file missing or wrong: said plainly, not as a traceback
        parser.exit(2, f"parkgate: keys: {e}\n")
    except BrokenPipeError:
        # The reader went away (`parkgate wsdl | head`): nothing more to say, and nobody to say it to.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
