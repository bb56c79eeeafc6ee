"""Relay destinations as configured under ``[[relay]]`` in parkgate.toml.

Every key, its default and what it does is listed in the README ("Relays to legacy systems")
and in the commented ``[[relay]]`` of parkgate.toml; :data:`SETTINGS` is the list a table is
checked against, so a misspelt key fails at start instead of being ignored.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

KINDS = ("soap", "xml", "json", "webhook")
#: DATEX II v3 publications (issue 17): checked against the official schemas, not xsd/, and sent
#: as they are (a ``d2:payload`` each), never in one of our batches.
DATEX2_DOCUMENTS = ("ParkingTablePublication", "ParkingStatusPublication")
DOCUMENTS = ("ParkingEvent", "Citation", "Permit", "SecurityEvent", "SpaceAssigned") + DATEX2_DOCUMENTS
#: What a destination gets when it does not say: security events (issue 17) and spaces assigned
#: (issue 16) go only to those that ask.
DEFAULT_DOCUMENTS = ("ParkingEvent", "Citation", "Permit")
SETTINGS = ("name", "kind", "url", "documents", "facilities", "timeout_s", "max_age_s", "backoff_s", "backoff_max_s",
            "batch_window_s", "batch_max", "lease_s", "basic_auth", "client_cert", "client_key", "ca_bundle", "secret",
            "wsdl", "operation", "stylesheet", "field_map", "wsse")
_GONE = {"max_attempts": "messages are retried until max_age_s; only refusals the destination would repeat "
                         "are dead-lettered early"}


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str
    url: str | None = None
    documents: frozenset = frozenset(DEFAULT_DOCUMENTS)
    facilities: frozenset = frozenset()          # empty: every facility
    timeout: float = 5.0                         # connect and read, per request
    max_age: timedelta = timedelta(days=7)       # retried until this old, then dead-lettered
    backoff: float = 1.0                         # first retry after about this many seconds, doubling...
    backoff_max: float = 60.0                    # ...up to this (then every backoff_max/2 to backoff_max)
    batch_window: float = 0.0                    # > 0: gather this long, send one document
    batch_max: int = 100
    lease: float = 30.0                          # several nodes: one holds the queue, renewing at half
    basic_auth: tuple | None = None              # (username, password)
    client_cert: str | None = None               # PEM file, or certificate with client_key
    client_key: str | None = None
    ca_bundle: str | None = None
    secret: str | None = None                    # webhook HMAC-SHA256 key
    wsdl: str | None = None                      # soap: URL or file
    operation: str | None = None
    stylesheet: Path | None = None               # soap: XSLT from our document to the operation's input
    field_map: dict = field(default_factory=dict)  # soap: parameter -> XPath over our document
    wsse: tuple | None = None                    # soap: (username, password, use_digest)

    def accepts(self, kind, facility_id):
        return kind in self.documents and (not self.facilities or facility_id in self.facilities)

    @property
    def batched(self):
        return self.batch_window > 0 and self.kind in ("xml", "json", "webhook")

    @property
    def request_time(self):
        """The longest one request takes: connecting, then reading, each within ``timeout``."""
        return 2 * self.timeout


def parse(raw_list, base_dir):
    """``[[relay]]`` tables -> Destinations; ValueError naming the entry and key on mistakes."""
    destinations, names = [], set()
    for i, r in enumerate(raw_list):
        where = f"relay[{i}]"
        for key in r:
            if key in _GONE:
                raise ValueError(f"{where}.{key} is no longer a setting: {_GONE[key]}")
            if key not in SETTINGS:
                raise ValueError(f"{where}.{key} is not a relay setting (settings: {', '.join(SETTINGS)})")
        name, kind = r.get("name"), r.get("kind")
        if not name or name in names:
            raise ValueError(f"{where}.name must be given and unique")
        names.add(name)
        if kind not in KINDS:
            raise ValueError(f"{where}.kind must be one of {', '.join(KINDS)}")
        docs = frozenset(r.get("documents", DEFAULT_DOCUMENTS))
        if not docs <= set(DOCUMENTS):
            raise ValueError(f"{where}.documents: only {', '.join(DOCUMENTS)}")
        if kind != "soap" and not r.get("url"):
            raise ValueError(f"{where}.url is required")
        if kind == "soap" and not (r.get("wsdl") and r.get("operation")):
            raise ValueError(f"{where}: a soap relay needs wsdl and operation")
        if kind == "soap" and not (r.get("stylesheet") or r.get("field_map")):
            raise ValueError(f"{where}: a soap relay needs a stylesheet or a field_map")
        if kind == "webhook" and not r.get("secret"):
            raise ValueError(f"{where}.secret is required for a webhook")
        basic, wsse = r.get("basic_auth"), r.get("wsse")
        destination = Destination(
            name=name, kind=kind, url=r.get("url"), documents=docs,
            facilities=frozenset(r.get("facilities", ())),
            timeout=float(r.get("timeout_s", 5)),
            max_age=timedelta(seconds=float(r.get("max_age_s", 7 * 86400))),
            backoff=float(r.get("backoff_s", 1)), backoff_max=float(r.get("backoff_max_s", 60)),
            batch_window=float(r.get("batch_window_s", 0)), batch_max=int(r.get("batch_max", 100)),
            lease=float(r.get("lease_s", 30)),
            basic_auth=(basic["username"], basic["password"]) if basic else None,
            client_cert=_path(r.get("client_cert"), base_dir), client_key=_path(r.get("client_key"), base_dir),
            ca_bundle=_path(r.get("ca_bundle"), base_dir), secret=r.get("secret"),
            wsdl=r.get("wsdl") if "://" in str(r.get("wsdl", "")) else _path(r.get("wsdl"), base_dir),
            operation=r.get("operation"),
            stylesheet=Path(_path(r["stylesheet"], base_dir)) if r.get("stylesheet") else None,
            field_map=dict(r.get("field_map", {})),
            wsse=(wsse["username"], wsse["password"], bool(wsse.get("digest", False))) if wsse else None)
        for key, value in (("timeout_s", destination.timeout), ("backoff_s", destination.backoff),
                           ("batch_max", destination.batch_max)):
            if value <= 0:
                raise ValueError(f"{where}.{key} must be positive")
        if destination.batched and docs & set(DATEX2_DOCUMENTS):
            raise ValueError(f"{where}: DATEX II publications are sent one by one (batch_window_s = 0)")
        if destination.backoff_max < destination.backoff:
            raise ValueError(f"{where}.backoff_max_s must be at least backoff_s")
        if destination.lease < 2 * destination.request_time:
            # The holder renews at half the lease, and a request it starts must end within it.
            raise ValueError(f"{where}.lease_s must be at least 4 x timeout_s ({4 * destination.timeout:g} s)")
        destinations.append(destination)
    return destinations


def _path(value, base_dir):
    if not value:
        return None
    path = Path(value)
    return str(path if path.is_absolute() else Path(base_dir) / path)
