"""One builder for the configurations the tests and benchmarks run gateways with.

Each function returns the TOML file's structure (plain dicts), as ``parkgate.toml`` would hold it:
``configuration.parse(gateway(...))`` makes a Config for a gateway in this process, ``toml(...)``
the text for a `parkgate serve` of its own. Only what a test cares about needs saying; the rest
are quiet defaults (no demo users, no warm-up of the recognition workers, a free port).
"""

import tomli_w

from gateway import config as configuration
from gateway.app.auth import PasswordPolicy

#: How the tests' users' passwords are hashed (as their gateways' ``[auth] scrypt_n`` says).
QUICK_PASSWORDS = PasswordPolicy(n=2 ** 14)


def tariff(rate_code="H", price_per_period="3.00", daily_maximum="24.00", grace_minutes=15, **more):
    """``more``: period_minutes, lost_ticket, exit_after_payment_minutes (parkgate.toml's names)."""
    return {"rate_code": rate_code, "price_per_period": price_per_period, "daily_maximum": daily_maximum,
            "grace_minutes": grace_minutes, **more}


def lane(camera_id, number, direction="ENTRY", plc=None):
    """``plc``: (port, unit) of its barrier PLC on loopback."""
    table = {"camera_id": camera_id, "number": number, "direction": direction}
    if plc is not None:
        port, unit = plc
        table["plc"] = {"host": "127.0.0.1", "port": port, "unit": unit}
    return table


def facility(facility_id, *lanes, name=None, capacity=100_000, timezone="UTC", tariff_=None, citations=None, **more):
    """``more``: currency, permit_only, plate_regions, recognition (parkgate.toml's names)."""
    table = {"id": facility_id, "name": name or facility_id, "capacity": capacity, "timezone": timezone,
             "tariff": tariff_ or tariff(), "lane": list(lanes), **more}
    if citations:
        table["citations"] = {violation: {"fine": fine, "due_days": days}
                              for violation, (fine, days) in citations.items()}
    return table


def relay(name, url, kind="xml", **more):
    """A ``[[relay]]`` destination; ``more`` as parkgate.toml names its settings."""
    return {"name": name, "kind": kind, "url": url, **more}


def gateway(*facilities, listen="127.0.0.1:0", database_url=None, relays=(), frame_window_s=None, **sections):
    """The whole file. ``sections``: tables merged over the defaults (``server={"threads": 8}``,
    ``plc={...}``, ``decisions={...}``, ``recognition={...}``, ``auth={...}``, ``database={...}``)."""
    # Passwords hashed at scrypt's old cost (2**14): the recommended one takes a second a password here.
    raw = {"server": {"listen": listen}, "auth": {"demo_users": False, "scrypt_n": QUICK_PASSWORDS.n},
           "recognition": {"warm_at_start": False},
           "facility": list(facilities)}
    if database_url:
        raw["database"] = {"url": database_url}
    if frame_window_s is not None:
        raw["decisions"] = {"frame_window_s": frame_window_s}
    for section, values in sections.items():
        raw[section] = {**raw.get(section, {}), **values}
    if relays:
        raw["relay"] = list(relays)
    return raw


def parse(raw, **overrides):
    """A Config of ``raw`` (as the TOML file would give), with ``overrides`` of its fields."""
    return configuration.parse(raw).override(**overrides)


def toml(raw):
    return tomli_w.dumps(raw)
