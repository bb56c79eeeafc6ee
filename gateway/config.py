"""parkgate's configuration: one TOML file (``parkgate.toml``), overridable from the command line.

Everything is parsed into frozen dataclasses up front (the facilities into the domain's value
types), so a bad file fails at start with a message naming the key, never later in the middle
of a lane event.
"""

import logging
import tomllib
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters import destinations as relay_destinations
from plc.registers import RegisterMap
from plc.settings import PlcSettings
from recognition import PRECISIONS, READERS
from recognition.sources import ImageSources

from .app.feed_settings import FeedSettings
from .contract import datex2
from .contract.datex2 import Publisher
from .domain import tariffs
from .domain.decisions import DecisionRules
from .domain.errors import InvalidInput
from .domain.facility import (
    ACTUAL_FEE,
    GREATER,
    LOST_TICKET_AMOUNT,
    CitationRule,
    EnforcementRules,
    Facility,
    Lane,
    OperatorPolicy,
    Tariff,
)
from .domain.passwords import PasswordPolicy
from .domain.tariff_settings import version_from_settings
from .domain.users import Lockout
from .domain.vehicle_types import CAR, VEHICLE_CLASSES, VEHICLE_TYPES, of_class, vehicle_type
from .domain.zones import AREA, zone

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO_ROOT / "parkgate.toml"
log = logging.getLogger("parkgate.config")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class PlcEndpoint:
    """Where a lane's barrier PLC listens, its unit id there, and its register map."""
    host: str
    port: int
    unit: int
    registers: RegisterMap = RegisterMap()


@dataclass(frozen=True)
class RecognitionSettings:
    workers: int = 0          # 0: one per core
    time_limit: float = 5.0   # per image
    queue: int = 4            # images waiting beyond the busy workers; more: Server.Busy
    precision: str = "f32"    # how the networks compute (recognition.PRECISIONS)
    warm_at_start: bool = False  # start the workers (load the models) at start, not on the first picture
    reader: str = "plate"     # which recogniser reads plates (recognition.READERS)
    colour_min_confidence: float = 0.8   # issue 17: the body colour goes into the event from this share of pixels


# --- operations (issue 19, part A) -------------------------------------------------------

@dataclass(frozen=True)
class RetentionSettings:
    """How long each kind of data is kept (days; 0: for ever) and how the purge runs."""
    images_days: float = 90            # pictures of vehicles (review images, image files)
    plates_days: float = 30            # plates in the lane-event history and closed sessions: anonymised
    records_days: float = 183          # lane events, closed sessions, reviews, incidents, settled relay messages
    audit_days: float = 0              # the activity log (0: kept for ever)
    interval_s: float = 3600           # how often the job runs (0: never; `parkgate retention run` by hand)
    batch: int = 500                   # rows per unit of work
    pause_s: float = 0.02              # between two units of work: lane events go first


@dataclass(frozen=True)
class BackupSettings:
    directory: Path = REPO_ROOT / "var" / "backups"
    interval_h: float = 0              # scheduled backups every this many hours (0: none)
    keep: int = 7                      # copies kept; older ones are removed after a good backup


@dataclass(frozen=True)
class OpsSettings:
    """Audit, health, metrics, TLS, storage, several nodes."""
    audit_key_file: Path = REPO_ROOT / "var" / "audit.key"
    audit_verify_interval_s: float = 3600     # the chain is checked (incrementally) this often (0: never)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    trusted_proxies: tuple = ()               # networks whose X-Forwarded-For is taken as the caller's address
    images_dir: Path = REPO_ROOT / "var" / "images"   # lane pictures on disk (backed up, purged by retention)
    metrics: bool = True
    ready_max_relay_lag_s: float = 300        # /readyz: a destination's oldest pending message older: not ready
    ready_requires_plcs: bool = True          # /readyz: a lane this node drives offline: not ready
    lane_lease_s: float = 6                   # several nodes: how long a node holds a lane's PLC per renewal
    node: str = ""                            # this node's name (default: host and listen port)
    retention: RetentionSettings = RetentionSettings()
    backup: BackupSettings = BackupSettings()
    # privacy (issue 19, part B): what seals plates, documents and pictures at rest (never the database)
    key_file: Path = REPO_ROOT / "var" / "keys.json"   # made on first use only at this default path
    permit_key_file: Path = REPO_ROOT / "var" / "permit-signing.key"   # issue 17: signs permit tokens (Ed25519)
    key_reload_s: float = 2                            # a serving gateway re-reads a changed key file this often

    def key_ring(self):
        """The key ring (``PARKGATE_KEYS`` if set, else :attr:`key_file`): blocking, a file read."""
        from .store.keyring import KeyRing
        return KeyRing.load(self.key_file)


# --- the operator console (issue 18) ----------------------------------------------------

CONSOLE_LANGUAGES = ("en", "id")


@dataclass(frozen=True)
class ConsoleSettings:
    """The browser console under ``/console``."""
    enabled: bool = True
    idle_timeout_s: float = 900        # a log-in unused this long ends
    language: str = "en"               # before a person picks one (and their browser names none we have)
    threads: int = 4                   # console request threads (their database work runs there)
    printer: tuple[str, int] | None = None   # a network receipt printer (ESC/POS on raw TCP), host and port
    printer_timeout_s: float = 3       # to connect, and again to send
    receipt_columns: int = 42          # characters on a line: 42 on 80 mm paper, 32 on 58 mm


def _console(raw):
    table = raw.get("console", {})
    unknown = set(table) - {"enabled", "idle_timeout_s", "language", "threads", "printer", "printer_timeout_s",
                            "receipt_columns"}
    if unknown:
        raise ConfigError(f"console: unknown setting(s) {', '.join(sorted(unknown))}")
    language = str(table.get("language", "en"))
    if language not in CONSOLE_LANGUAGES:
        raise ConfigError(f"console.language must be one of {', '.join(CONSOLE_LANGUAGES)}")
    printer = None
    if table.get("printer"):
        host, _, port = str(table["printer"]).rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"console.printer must be HOST:PORT (port 9100, usually), not {table['printer']!r}")
        printer = (host.strip("[]"), int(port))
    return ConsoleSettings(enabled=bool(table.get("enabled", True)),
                           idle_timeout_s=_number(table, "idle_timeout_s", 900, "console", minimum=1),
                           language=language, threads=int(_number(table, "threads", 4, "console", minimum=1)),
                           printer=printer, printer_timeout_s=_number(table, "printer_timeout_s", 3, "console",
                                                                      minimum=0.1),
                           receipt_columns=int(_number(table, "receipt_columns", 42, "console", minimum=24)))


@dataclass(frozen=True)
class Datex2Relaying:
    """DATEX II publications owed to relays (issue 17): ``schemas``, the folder of the official
    schemas they are checked against (not in this repository); ``status_push_s``, how often the
    status is looked at and, where it changed, pushed; ``relayed``, the kinds some relay wants."""
    schemas: Path | None = None
    status_push_s: float = 30.0
    relayed: tuple = ()


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    database_url: str = "sqlite:///var/parkgate.db"
    sqlite_synchronous: str = "FULL"
    max_body_bytes: int = 1024 * 1024
    threads: int = 16
    demo_users: bool = True
    demo_users_file: Path = REPO_ROOT / "var" / "demo-users.txt"   # where their passwords are written
    passwords: PasswordPolicy = PasswordPolicy()         # [auth] scrypt cost, shortest password
    lockout: Lockout = Lockout()                         # [auth] failed logins that lock an account, an address
    confidence_threshold: Decimal = Decimal("0.85")
    max_clock_skew: timedelta = timedelta(minutes=5)
    frame_window: timedelta = timedelta(seconds=3)       # frames of one vehicle within this: decided once
    image_match_threshold: Decimal = Decimal("0.5")      # entry/exit pictures less alike: REVIEW (0: off)
    facilities: dict = field(default_factory=dict)       # id -> Facility
    plc: PlcSettings = PlcSettings()
    recognition: RecognitionSettings = RecognitionSettings()
    relays: tuple = ()                                   # adapters.destinations.Destination
    source: Path | None = None
    ops: OpsSettings = OpsSettings()
    open_data: Publisher = Publisher()                   # DATEX II publications (issue 17)
    datex2: Datex2Relaying = Datex2Relaying()           # DATEX II relayed: the schemas, the push period
    hotlist_feed: FeedSettings = FeedSettings()          # the scheduled hotlist import (issue 17)
    console: ConsoleSettings = ConsoleSettings()

    @property
    def scheme(self):
        return "https" if self.ops.tls_cert else "http"

    @property
    def base_url(self):
        return self.public_url.rstrip("/") if self.public_url else f"{self.scheme}://{self.host}:{self.port}"

    @property
    def decision_rules(self):
        return DecisionRules(self.confidence_threshold, self.max_clock_skew, self.frame_window,
                             self.image_match_threshold)

    def override(self, **changes):
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load(path=None):
    path = Path(path or DEFAULT_CONFIG)
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from e
    return parse(raw, source=path)


def parse(raw, source=None):
    server, db, auth, decisions = (raw.get(k, {}) for k in ("server", "database", "auth", "decisions"))
    host, port = parse_listen(server.get("listen", "127.0.0.1:8080"))
    plc = raw.get("plc", {})
    try:
        registers = RegisterMap.from_config(plc.get("registers", {}))
    except ValueError as e:
        raise ConfigError(f"plc.registers: {e}") from e
    rec = raw.get("recognition", {})
    facilities = {}
    for i, f in enumerate(raw.get("facility", [])):
        fac = _facility(f, f"facility[{i}]", registers, rec)
        if fac.id in facilities:
            raise ConfigError(f"facility {fac.id!r} is configured twice")
        facilities[fac.id] = fac
    relays = _relays(raw.get("relay", []), source)
    return Config(
        host=host, port=port,
        public_url=server.get("public_url", ""),
        database_url=_database_url(db.get("url", "sqlite:///var/parkgate.db"), source),
        sqlite_synchronous=_choice(db.get("sqlite_synchronous", "FULL"), ("FULL", "NORMAL"),
                                   "database.sqlite_synchronous"),
        max_body_bytes=int(server.get("max_body_bytes", 1024 * 1024)),
        threads=int(server.get("threads", 16)),
        demo_users=bool(auth.get("demo_users", True)),
        demo_users_file=_repo_path(auth.get("demo_users_file", "var/demo-users.txt")),
        passwords=_passwords(auth),
        lockout=Lockout(max_failures=int(auth.get("max_failed_logins", 10)),
                        lock_for=timedelta(minutes=float(auth.get("lockout_minutes", 15))),
                        source_failures=int(auth.get("address_failed_logins_per_minute", 20))),
        confidence_threshold=_money(decisions.get("confidence_threshold", "0.85"), "decisions.confidence_threshold"),
        max_clock_skew=timedelta(seconds=int(decisions.get("max_clock_skew_s", 300))),
        frame_window=timedelta(seconds=float(decisions.get("frame_window_s", 3))),
        image_match_threshold=_money(decisions.get("image_match_threshold", "0.5"), "decisions.image_match_threshold"),
        facilities=facilities,
        plc=_plc_settings(plc),
        recognition=RecognitionSettings(int(rec.get("workers", 0)), float(rec.get("time_limit_s", 5)),
                                        int(rec.get("queue", 4)),
                                        _choice(rec.get("precision", "f32"), tuple(p.upper() for p in PRECISIONS),
                                                "recognition.precision").lower(),
                                        bool(rec.get("warm_at_start", False)),
                                        _choice(rec.get("reader", "plate"), tuple(r.upper() for r in READERS),
                                                "recognition.reader").lower(),
                                        colour_min_confidence=_number(rec, "colour_min_confidence", 0.8,
                                                                      "recognition")),
        relays=relays,
        source=source,
        ops=_ops(raw, server, source),
        open_data=_open_data(raw.get("open_data", {})),
        datex2=_datex2_relaying(raw.get("open_data", {}), source, relays),
        hotlist_feed=_hotlist_feed(raw.get("hotlist_feed", {})),
        console=_console(raw),
    )


def parse_listen(text):
    host, _, port = str(text).rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"server.listen must be HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def _repo_path(path):
    """Relative paths are taken relative to the repository, where ``var/`` lives."""
    path = Path(path)
    return path if path.is_absolute() else REPO_ROOT / path


def _database_url(url, source):
    """Relative SQLite paths are taken relative to the repository, where ``var/`` lives."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(REPO_ROOT / url[len(prefix):])
    return url


def _passwords(auth):
    """``[auth] scrypt_n``: scrypt's cost (a power of two; a lower one only to save time where
    nothing is at stake, as the tests do); ``min_password_length``."""
    n = int(auth.get("scrypt_n", 2 ** 17))
    if n < 2 ** 10 or n & (n - 1):
        raise ConfigError("auth.scrypt_n: a power of two, at least 1024")
    return PasswordPolicy(n=n, min_length=int(auth.get("min_password_length", 8)))


def _choice(value, allowed, where):
    value = str(value).upper()
    if value not in allowed:
        raise ConfigError(f"{where} must be one of {', '.join(allowed)}")
    return value


def _money(value, where):
    if isinstance(value, float):
        raise ConfigError(f"{where}: write amounts as strings (\"3.00\"), floats lose cents")
    try:
        return Decimal(str(value))
    except InvalidOperation as e:
        raise ConfigError(f"{where}: not a number: {value!r}") from e


def _relays(raw_list, source):
    try:
        return tuple(relay_destinations.parse(raw_list, Path(source).parent if source else REPO_ROOT))
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(str(e)) from e


def _plc_settings(plc):
    try:
        return PlcSettings(
            pulse=int(plc.get("pulse_ms", 400)) / 1000, timeout=int(plc.get("timeout_ms", 500)) / 1000,
            poll_interval=int(plc.get("poll_ms", 100)) / 1000,
            heartbeat_interval=float(plc.get("heartbeat_s", 2)), rise_timeout=float(plc.get("rise_timeout_s", 5)),
            passage_timeout=float(plc.get("passage_timeout_s", 30)),
            reconnect_max=float(plc.get("reconnect_max_s", 30)))
    except ValueError as e:
        raise ConfigError(f"plc: {e}") from e


def _plc_endpoint(table, registers, where):
    try:
        if "registers" in table:
            registers = RegisterMap.from_config({**vars(registers), **table["registers"]})
    except ValueError as e:
        raise ConfigError(f"{where}.registers: {e}") from e
    return PlcEndpoint(table.get("host", "127.0.0.1"), int(table.get("port", 502)), int(table.get("unit", 1)),
                       registers)


def _require(table, key, where):
    if key not in table:
        raise ConfigError(f"{where}.{key} is required")
    return table[key]


def _facility(f, where, registers, recognition):
    fid = _require(f, "id", where)
    try:
        tz = ZoneInfo(f.get("timezone", "UTC"))
    except ZoneInfoNotFoundError as e:
        raise ConfigError(f"{where}.timezone: unknown zone {f.get('timezone')!r}") from e
    t = _require(f, "tariff", where)
    tw = f"{where}.tariff"
    tariff = Tariff(
        rate_code=_require(t, "rate_code", tw),
        currency=f.get("currency", "USD"),
        period=timedelta(minutes=int(t.get("period_minutes", 60))),
        price_per_period=_money(_require(t, "price_per_period", tw), f"{tw}.price_per_period"),
        grace=timedelta(minutes=int(t.get("grace_minutes", 0))),
        daily_maximum=_money(_require(t, "daily_maximum", tw), f"{tw}.daily_maximum"),
        lost_ticket=_money(t.get("lost_ticket", t["daily_maximum"]), f"{tw}.lost_ticket"),
        exit_after_payment=timedelta(minutes=int(t.get("exit_after_payment_minutes", 15))),
    )
    if tariff.period <= timedelta(0):
        raise ConfigError(f"{tw}.period_minutes must be positive")
    versions = _tariff_versions(fid, t, tariff, tw)
    zones = _zones(fid, f.get("zone", []), where)
    lanes = {}
    for j, lane in enumerate(f.get("lane", [])):
        lw = f"{where}.lane[{j}]"
        direction = lane.get("direction", "BOTH").upper()
        if direction not in ("ENTRY", "EXIT", "BOTH"):
            raise ConfigError(f"{lw}.direction must be ENTRY, EXIT or BOTH")
        plc = lane.get("plc")
        if lane.get("zone") is not None and lane["zone"] not in zones:
            raise ConfigError(f"{lw}.zone: no [[facility.zone]] with id {lane['zone']!r}")
        lanes[_require(lane, "camera_id", lw)] = Lane(
            camera_id=lane["camera_id"], number=int(_require(lane, "number", lw)), direction=direction,
            plc=_plc_endpoint(plc, registers, f"{lw}.plc") if plc else None, vehicle_type=_lane_type(lane, lw),
            zone=lane.get("zone"))
    rules = {}
    for violation, rule in f.get("citations", {}).items():
        cw = f"{where}.citations.{violation}"
        rules[violation] = CitationRule(violation, _money(_require(rule, "fine", cw), f"{cw}.fine"),
                                        int(rule.get("due_days", 30)))
    regions = f.get("plate_regions")
    if regions is not None and not set(regions) <= {"US", "EU", "UK", "BR"}:
        raise ConfigError(f"{where}.plate_regions: US, EU, UK, BR")
    capacity = int(f.get("capacity", sum(z.total for z in zones.values())))
    return Facility(id=fid, name=f.get("name", fid), capacity=capacity, timezone=tz, zones=tuple(zones.values()),
                    capacity_of_zones=bool(zones) and "capacity" not in f,
                    tariff=tariff, permit_only=bool(f.get("permit_only", False)),
                    image_sources=ImageSources.parse({**recognition, **f.get("recognition", {})}),
                    plate_regions=tuple(regions) if regions else None, lanes=lanes, citation_rules=rules,
                    enforcement=_enforcement(f.get("enforcement", {}), f"{where}.enforcement"),
                    policy=_policy(f.get("operator", {}), f"{where}.operator"), tariff_versions=versions)


def _lane_type(lane, where):
    """The lane's ``vehicle_type``; ``vehicle_class`` (the contract's word, e.g. "Motorcycle") is
    its deprecated alias."""
    if lane.get("vehicle_class") is not None:
        if lane["vehicle_class"] not in VEHICLE_CLASSES:
            raise ConfigError(f"{where}.vehicle_class: one of {', '.join(VEHICLE_CLASSES)}")
        if lane.get("vehicle_type") is None:
            log.warning("%s.vehicle_class is deprecated: say vehicle_type = %r", where, of_class(lane["vehicle_class"]))
            return of_class(lane["vehicle_class"])
    try:
        return vehicle_type(lane["vehicle_type"], "vehicle_type") if lane.get("vehicle_type") else None
    except InvalidInput as e:
        raise ConfigError(f"{where}.{e.message}") from None


#: [[facility.zone]] keys (issue 16).
ZONE_KEYS = {"id", "name", "kind", "capacity", "permit_only", "floor"}


def _zones(facility_id, tables, where):
    """Zone id -> the facility's configured zones (issue 16)."""
    zones = {}
    for i, table in enumerate(tables):
        zw = f"{where}.zone[{i}]"
        unknown = set(table) - ZONE_KEYS
        if unknown:
            raise ConfigError(f"{zw}: unknown keys {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(sorted(ZONE_KEYS))})")
        zone_id = _require(table, "id", zw)
        if zone_id in zones:
            raise ConfigError(f"{zw}.id: {zone_id!r} twice")
        try:
            zones[zone_id] = zone(facility_id, zone_id, name=table.get("name"), kind=table.get("kind", AREA),
                                  capacity=table.get("capacity", {}), permit_only=bool(table.get("permit_only")),
                                  floor=table.get("floor"))
        except InvalidInput as e:
            raise ConfigError(f"{zw}: {e.message}") from None
    return zones


#: [facility.enforcement] keys (issue 17); a key not listed is refused at start.
ENFORCEMENT_KEYS = {"scan_interval_minutes", "time_limit_minutes", "payment_window_minutes"}


def _enforcement(table, where):
    unknown = set(table) - ENFORCEMENT_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")

    def minutes(key, default):
        value = _number(table, key, default, where) if key in table or default is not None else None
        return None if value is None else timedelta(minutes=value)
    limit, window = minutes("time_limit_minutes", None), minutes("payment_window_minutes", None)
    return EnforcementRules(interval=minutes("scan_interval_minutes", 30),
                            time_limit=limit or None, payment_window=window or None)


def _policy(p, where):
    """``[facility.operator]``: lost tickets, the overnight cut-off, partial payments."""
    lost = str(p.get("lost_ticket", GREATER)).upper()
    if lost not in (LOST_TICKET_AMOUNT, ACTUAL_FEE, GREATER):
        raise ConfigError(f"{where}.lost_ticket: LOST_TICKET_AMOUNT, ACTUAL_FEE or GREATER")
    try:
        cutoff = time.fromisoformat(str(p.get("overnight_cutoff", "00:00")))
    except ValueError as e:
        raise ConfigError(f"{where}.overnight_cutoff: a local time such as \"02:00\"") from e
    return OperatorPolicy(lost_ticket=lost, overnight_cutoff=cutoff,
                          partial_payments=bool(p.get("partial_payments", False)))


def _open_data(table):
    """``[open_data]``: who the DATEX II publications name as their creator (issue 17)."""
    unknown = set(table) - {"country", "national_identifier", "lang", "table_id", "schemas", "status_push_s"}
    if unknown:
        raise ConfigError(f"open_data: unknown setting(s) {', '.join(sorted(unknown))}")
    country = str(table.get("country", "US")).upper()
    if len(country) != 2 or not country.isalpha():
        raise ConfigError("open_data.country: an ISO 3166-1 alpha-2 code such as \"DE\"")
    d = Publisher()
    return Publisher(country=country, national_identifier=str(table.get("national_identifier", d.national_identifier)),
                     lang=str(table.get("lang", d.lang)), table_id=str(table.get("table_id", d.table_id)))


def _datex2_relaying(table, source, relays):
    """``[open_data] schemas`` (the official DATEX II v3 schemas' folder, relative to the config file)
    and ``status_push_s``; a relay of DATEX II publications needs the schemas, and finds them at start."""
    wanted = sorted({kind for d in relays for kind in d.documents if kind in relay_destinations.DATEX2_DOCUMENTS})
    folder = table.get("schemas")
    schemas = None
    if folder:
        schemas = Path(folder)
        if not schemas.is_absolute():
            schemas = (Path(source).parent if source else REPO_ROOT) / schemas
        if wanted and not (schemas / datex2.PAYLOAD_XSD).is_file():
            raise ConfigError(f"open_data.schemas: {schemas} has no {datex2.PAYLOAD_XSD}")
    elif wanted:
        raise ConfigError(f"a relay wants {', '.join(wanted)}: set open_data.schemas to the folder of the official "
                          "DATEX II v3 schemas (every publication is checked against them before it is sent)")
    push = _number(table, "status_push_s", 30, "open_data", minimum=1)
    return Datex2Relaying(schemas=schemas, status_push_s=push, relayed=tuple(wanted))


def _hotlist_feed(table):
    """``[hotlist_feed]``: a feed imported every ``interval_minutes`` (no ``location``: none)."""
    unknown = set(table) - {"location", "source", "interval_minutes", "allowed_sources", "fetch_timeout_s",
                            "max_bytes"}
    if unknown:
        raise ConfigError(f"hotlist_feed: unknown setting(s) {', '.join(sorted(unknown))}")
    return FeedSettings(location=table.get("location") or None, source=str(table.get("source", "feed")),
                        interval_minutes=_number(table, "interval_minutes", 60, "hotlist_feed"),
                        fetch=ImageSources.parse({"allowed_sources": table.get("allowed_sources", []),
                                                  "fetch_timeout_s": table.get("fetch_timeout_s", 10),
                                                  "max_image_bytes": table.get("max_bytes", 10 * 1024 * 1024)}))


def _tariff_versions(facility_id, t, tariff, where):
    """The tariff per vehicle type: ``[facility.tariff]`` for every type, a type's own settings
    (``[facility.tariff.vehicle.motorcycle]``) on top. In force from :data:`tariffs.EPOCH`."""
    settings = {k: v for k, v in t.items() if k != "vehicle"}
    minute = timedelta(minutes=1)
    for key, value in (("lost_ticket", str(tariff.lost_ticket)), ("period_minutes", tariff.period // minute),
                       ("exit_after_payment_minutes", tariff.exit_after_payment // minute)):
        settings.setdefault(key, value)  # the defaults the Tariff above took
    own = {str(kind).lower(): table for kind, table in t.get("vehicle", {}).items()}
    try:
        unknown = set(own) - set(VEHICLE_TYPES)
        if unknown:
            raise InvalidInput(f"vehicle: unknown type(s) {', '.join(sorted(unknown))} (known: "
                               f"{', '.join(VEHICLE_TYPES)})")
        base = version_from_settings(settings, facility_id=facility_id, vehicle_type=CAR,
                                     effective_from=tariffs.EPOCH, currency=tariff.currency)
        return tuple(version_from_settings(own.get(kind, {}), facility_id=facility_id, vehicle_type=kind,
                                           effective_from=tariffs.EPOCH, currency=tariff.currency, base=base)
                     for kind in VEHICLE_TYPES)
    except InvalidInput as e:
        raise ConfigError(f"{where}: {e.message}") from None


def _path(value, source):
    """Paths in the file: relative to the repository (where ``var/`` lives), like the database's."""
    return _repo_path(value) if value else None


def _number(table, key, default, where, minimum=0.0):
    try:
        value = float(table.get(key, default))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.{key} must be a number") from None
    if value < minimum:
        raise ConfigError(f"{where}.{key} must be at least {minimum:g}")
    return value


#: The operations' sections and the keys each takes (a key not listed is refused at start, naming it).
OPS_KEYS = {
    "audit": {"key_file", "verify_interval_s"},
    "retention": {"images_days", "plates_days", "records_days", "audit_days", "interval_s", "batch", "pause_s"},
    "backup": {"directory", "interval_h", "keep"},
    "storage": {"images_dir"},
    "health": {"max_relay_lag_s", "require_plcs"},
    "metrics": {"enabled"},
    "cluster": {"lane_lease_s", "node"},
    "privacy": {"key_file", "key_reload_s"},
    "permits": {"key_file"},
}


def _ops(raw, server, source):
    import ipaddress
    for section, keys in OPS_KEYS.items():
        unknown = set(raw.get(section, {})) - keys
        if unknown:
            raise ConfigError(f"{section}: unknown setting(s) {', '.join(sorted(unknown))}")
    audit, health, storage, retention, backup, cluster, privacy = (raw.get(k, {}) for k in (
        "audit", "health", "storage", "retention", "backup", "cluster", "privacy"))
    cert, key = server.get("tls_cert"), server.get("tls_key")
    if bool(cert) != bool(key):
        raise ConfigError("server.tls_cert and server.tls_key go together")
    try:
        proxies = tuple(ipaddress.ip_network(n, strict=False) for n in server.get("trusted_proxies", []))
    except ValueError as e:
        raise ConfigError(f"server.trusted_proxies: {e}") from e
    r, b = RetentionSettings(), BackupSettings()
    return OpsSettings(
        audit_key_file=_path(audit.get("key_file", "var/audit.key"), source),
        audit_verify_interval_s=_number(audit, "verify_interval_s", 3600, "audit"),
        tls_cert=_path(cert, source), tls_key=_path(key, source), trusted_proxies=proxies,
        images_dir=_path(storage.get("images_dir", "var/images"), source),
        metrics=bool(raw.get("metrics", {}).get("enabled", True)),
        ready_max_relay_lag_s=_number(health, "max_relay_lag_s", 300, "health"),
        ready_requires_plcs=bool(health.get("require_plcs", True)),
        lane_lease_s=_number(cluster, "lane_lease_s", 6, "cluster", minimum=1),
        node=str(cluster.get("node", "")),
        key_file=_path(privacy.get("key_file", "var/keys.json"), source),
        key_reload_s=_number(privacy, "key_reload_s", 2, "privacy"),
        permit_key_file=_path(raw.get("permits", {}).get("key_file", "var/permit-signing.key"), source),
        retention=RetentionSettings(
            **{k: _number(retention, k, getattr(r, k), "retention") for k in (
                "images_days", "plates_days", "records_days", "audit_days", "interval_s", "pause_s")},
            batch=int(_number(retention, "batch", r.batch, "retention", minimum=1))),
        backup=BackupSettings(directory=_path(backup.get("directory", "var/backups"), source),
                              interval_h=_number(backup, "interval_h", b.interval_h, "backup"),
                              keep=int(_number(backup, "keep", b.keep, "backup", minimum=1))))
