"""``parkgate tariff show|set``: the tariff versions per vehicle type, and a new version."""

import json
import sys
import tomllib
from datetime import datetime

from ..domain.errors import ParkgateError
from ..domain.tariff_settings import settings_of
from ..domain.vehicle_types import VEHICLE_TYPES
from .admin import cli_origin, open_store, operator


def register(sub):
    tariff = sub.add_parser("tariff", help="tariffs per vehicle type, versioned",
                            description="Tariff versions per facility and vehicle type.")
    t_sub = tariff.add_subparsers(dest="tariff_command", required=True, metavar="ACTION")
    show = t_sub.add_parser("show", help="the versions (or those in force at --at)",
                            description="Every version of the facility's tariffs, oldest first, as JSON lines; "
                                        "with --at, the versions in force then.")
    show.add_argument("facility")
    show.add_argument("--vehicle-type", choices=VEHICLE_TYPES, type=str.lower)
    show.add_argument("--at", type=_instant, help="ISO time with its zone, e.g. 2025-01-22T14:30:00Z")
    show.set_defaults(run=cmd_tariff_show)
    set_ = t_sub.add_parser("set", help="a new version (from now or --from)",
                            description="A new version of a vehicle type's tariff: the version in force at "
                                        "--from with the settings given on top (KEY=VALUE, parkgate.toml's names, "
                                        "and/or --file with a TOML table: bands, special rates).")
    set_.add_argument("facility")
    set_.add_argument("vehicle_type", choices=VEHICLE_TYPES, type=str.lower)
    set_.add_argument("settings", nargs="*", metavar="KEY=VALUE")
    set_.add_argument("--file", help="TOML file with the settings")
    set_.add_argument("--from", dest="effective_from", type=_instant, help="ISO time with its zone (default: now)")
    set_.add_argument("--reason")
    set_.set_defaults(run=cmd_tariff_set)


def _instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _tariffs(cfg):
    from ..app.clock import utcnow
    from ..app.tariffs import Tariffs
    return Tariffs(facilities=cfg.facilities, store=open_store(cfg), clock=utcnow)


def _line(v):
    return json.dumps({"facility": v.facility_id, "vehicle_type": v.vehicle_type, "version": v.version,
                       "effective_from": v.effective_from.isoformat(), "currency": v.currency, "set_by": v.set_by,
                       "reason": v.reason, "rules": settings_of(v)})


def _value(text):
    return int(text) if text.isdigit() else text


def cmd_tariff_show(args, cfg):
    try:
        for v in _tariffs(cfg).listing(args.facility, args.vehicle_type, args.at):
            print(_line(v))
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2


def cmd_tariff_set(args, cfg):
    settings = {}
    if args.file:
        try:
            with open(args.file, "rb") as f:
                settings.update(tomllib.load(f))
        except (OSError, tomllib.TOMLDecodeError) as e:  # a missing or broken file: a message, not a traceback
            print(f"{args.file}: {getattr(e, 'strerror', None) or e}", file=sys.stderr)
            return 2
    for pair in args.settings:
        key, sep, value = pair.partition("=")
        if not sep:
            print(f"{pair!r}: give KEY=VALUE", file=sys.stderr)
            return 2
        settings[key.strip()] = _value(value.strip())
    try:
        with cli_origin():
            version = _tariffs(cfg).set(args.facility, args.vehicle_type, settings, operator(), args.effective_from,
                                        args.reason)
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    print(_line(version))
