"""Plates sealed at rest, erasure by plate, key rotation while serving (issue 19, part B; values bound
to their columns and the blind index key's rotation: issue 19's leftovers).

Over real SOAP (zeep) to a gateway on a free port, on SQLite and PostgreSQL: a plate written
through SOAP is found nowhere in the database file, its WAL, the image directory or the logs;
ErasePlate removes or anonymises every record of a plate but what a legal hold keeps; a rotation
re-seals everything under a new key while events keep coming, and retires the old one.
"""

import hashlib
import hmac
import io
import json
import logging
import os
import re
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import configs
import pytest
import zeep
from sqlalchemy import LargeBinary, Text, column, delete, func, insert, select, text, type_coerce, update
from sqlalchemy import table as sql_table
from twisted.logger import formatEvent, globalLogPublisher

from conftest import (
    FACILITY,
    TEST_CONFIG,
    SettableClock,
    _drop_pg_schema,
    add_test_users,
    blank_database,
    start_gateway,
    stop_gateway,
    unique,
    unique_plate,
)
from gateway.app.privacy import KeyRotation
from gateway.cli import main
from gateway.cli.serve import quiet_libraries
from gateway.store import reviews, sessions, windows
from gateway.store.engine import Store
from gateway.store.keyring import KEYS_ENV, KeyRing, KeyRingError, init
from gateway.store.migrate import upgrade
from gateway.store.rotation import indexed_tables as rotation_tables
from gateway.store.rotation import reindex, sealed_tables
from gateway.store.schema import (
    CitationRecord,
    ConsoleSessionRecord,
    HotlistRecord,
    LaneEventRecord,
    OutboxMessage,
    PermitRecord,
    ReviewRecord,
    SessionRecord,
    table_of,
)
from gateway.store.sealed import plate_is
from gateway.store.vault import ImageVault
from test_events import fault_of, issue_permit, submit


def privacy_config(database_url, key_file, images_dir, **sections):
    raw = {**TEST_CONFIG, "privacy": {"key_file": str(key_file), "key_reload_s": 0.2},
           "storage": {"images_dir": str(images_dir)}, **sections}
    return configs.parse(raw, database_url=database_url), raw


@pytest.fixture(scope="module")
def keyed(database_url, tmp_path_factory):
    """A gateway with a key file of its own (and an image directory), shared by the module."""
    folder = tmp_path_factory.mktemp("keys")
    init(folder / "keys.json")
    cfg, raw = privacy_config(database_url, folder / "keys.json", folder / "images")
    upgrade(database_url, keys=cfg.ops.key_ring())
    add_test_users(database_url)
    gw = start_gateway(cfg, SettableClock())
    gw.raw, gw.folder = raw, folder
    yield gw
    stop_gateway(gw)


def rows_of(gw, model, plate, of="plate"):
    T = table_of(model)
    with gw.store.connection() as conn:
        return conn.execute(select(func.count()).select_from(T).where(plate_is(T, plate, of))).scalar_one()


# --- the key ring and the sealed columns ---------------------------------------------------

def test_sealed_values_are_authenticated_and_name_their_key(tmp_path, monkeypatch):
    init(tmp_path / "keys.json")
    ring = KeyRing.load(tmp_path / "keys.json")
    sealed = ring.seal_text("AB123CD")
    assert sealed.startswith(f"{ring.current}:") and "AB123CD" not in sealed     # format 1: no place
    assert ring.open_text(sealed) == "AB123CD" and ring.seal_text("AB123CD") != sealed   # a fresh nonce each time
    assert ring.blind("AB123CD") == ring.blind("AB123CD") != ring.blind("AB123CE")
    body = bytearray(ring.seal(b"picture"))
    body[-1] ^= 1
    with pytest.raises(KeyRingError, match="authentication"):
        ring.open(bytes(body))
    with pytest.raises(KeyRingError, match="lacks"):
        ring.open_text("k9:" + sealed.split(":", 1)[1])
    with pytest.raises(KeyRingError, match="not sealed"):
        ring.open_text("AB123CD")
    # Another key file: another index, nothing opens.
    init(tmp_path / "other.json")
    other = KeyRing.load(tmp_path / "other.json")
    assert other.blind("AB123CD") != ring.blind("AB123CD")
    with pytest.raises(KeyRingError):
        other.open_text(sealed)
    # A configured key file that is missing is an error naming the way out, never a fresh key.
    with pytest.raises(KeyRingError, match="parkgate keys init"):
        KeyRing.load(tmp_path / "missing.json")
    # The whole ring from the environment: used as is, and not rotated from here.
    monkeypatch.setenv(KEYS_ENV, (tmp_path / "keys.json").read_text())
    env = KeyRing.load(tmp_path / "missing.json")
    assert env.open_text(sealed) == "AB123CD" and not env.from_file
    with pytest.raises(KeyRingError, match=KEYS_ENV):
        env.add_key()


def test_a_sealed_value_opens_only_where_it_was_sealed(tmp_path):
    """Format 2 binds a value to its place (AES-GCM's associated data); format 1, sealed before
    places were bound, opens anywhere until a rotation re-seals it."""
    init(tmp_path / "keys.json")
    ring = KeyRing.load(tmp_path / "keys.json")
    bound = ring.seal_text("AB123CD", b"sessions.plate")
    assert bound.startswith(f"{ring.current}@2:") and ring.is_current(bound)
    assert ring.open_text(bound, b"sessions.plate") == "AB123CD"
    with pytest.raises(KeyRingError, match="moved"):
        ring.open_text(bound, b"hotlist.plate")
    with pytest.raises(KeyRingError, match="without it"):
        ring.open_text(bound)
    picture = ring.seal(b"JPEG", b"picture:ab12")
    assert ring.open(picture, b"picture:ab12") == b"JPEG"
    with pytest.raises(KeyRingError, match="moved"):
        ring.open(picture, b"picture:cd34")
    unbound = ring.seal_text("AB123CD")
    assert not ring.is_current(unbound) and ring.open_text(unbound, b"anywhere.at_all") == "AB123CD"


def test_a_sealed_value_moved_to_another_column_does_not_open(keyed):
    """Raw SQL copies a session's sealed plate into a hotlist row: the gateway refuses to read it
    (it is not that row's plate), while the session's own value still opens."""
    gw, plate = keyed, unique_plate()
    submit(gw, "ENTRY", plate)
    S, H = table_of(SessionRecord), table_of(HotlistRecord)
    with gw.store.connection() as conn:
        sealed = conn.execute(select(text("plate")).select_from(S).where(plate_is(S, plate))).scalar_one()
        assert sealed.startswith(f"{gw.store.keys.current}@2:")
        moved = conn.execute(insert(H).values(plate="XX0000", reason="planted", added_at=gw.clock())
                             .returning(H.c.id)).scalar_one()
        conn.execute(update(H).where(H.c.id == moved).values(plate=type_coerce(sealed, Text())))
    try:
        with gw.store.connection() as conn:
            with pytest.raises(KeyRingError, match="moved"):
                conn.execute(select(H.c.plate).where(H.c.id == moved)).all()
        with gw.store.connection() as conn:
            assert sessions.of_plate(conn, FACILITY, plate).plate == plate
    finally:
        with gw.store.connection() as conn:
            conn.execute(delete(H).where(H.c.id == moved))


def test_a_sealed_column_cannot_be_compared():
    with pytest.raises(TypeError, match="blind index"):
        _ = table_of(SessionRecord).c.plate == "AB123"
    table_of(SessionRecord).c.plate.is_(None)   # asking whether there is one is fine


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_migration_seals_what_is_there(kind, tmp_path):
    """A database at 0040 with plates in clear: upgraded, every plate, document and picture sealed
    (raw SQL finds no plate), and the repositories read them back."""
    url, schema = blank_database(kind, tmp_path)
    try:
        init(tmp_path / "keys.json")
        ring = KeyRing.load(tmp_path / "keys.json")
        upgrade(url, "0040", keys=ring)
        plate, when = unique_plate(), datetime(2026, 1, 5, 8, tzinfo=timezone.utc)
        raw = Store(url, keys=ring)
        t = when.replace(tzinfo=None)
        with raw.engine.begin() as conn:   # as 0040 kept them: in clear
            _insert_plain(conn, "lane_events", event_id="E-OLD", facility_id="LOT-TEST", camera_id="CAM-IN",
                          direction="ENTRY", occurred_at=t, plate=plate, recorded_at=t, decision="OPEN",
                          reason="TRANSIENT_ENTRY", document=f"<ParkingEvent>{plate}</ParkingEvent>", fingerprint="abc")
            _insert_plain(conn, "sessions", id="S-OLD", facility_id="LOT-TEST", plate=plate, status="OPEN",
                          entry_time=t, entry_event_id="E-OLD", lane_number=1, amount_paid="0")
            _insert_plain(conn, "hotlist", plate=plate, reason="stolen", added_at=t)
            _insert_plain(conn, "reviews", event_id="E-OLD", facility_id="LOT-TEST", camera_id="CAM-IN",
                          direction="ENTRY", occurred_at=t, plate=plate, reason="LOW_CONFIDENCE",
                          image=plate.encode() + b" pixels", state="OPEN", created_at=t)
        raw.dispose()
        upgrade(url, keys=ring)
        store = Store(url, keys=ring)
        try:
            with store.engine.connect() as conn:
                for table, column in (("lane_events", "plate"), ("lane_events", "document"), ("sessions", "plate"),
                                      ("hotlist", "plate"), ("reviews", "plate"), ("lane_events", "fingerprint")):
                    value = conn.execute(text(f"SELECT {column} FROM {table}")).scalar_one()
                    assert value.startswith("k1@2:") and plate not in value, (table, column)
                image = conn.execute(text("SELECT image FROM reviews")).scalar_one()
                assert bytes(image).startswith(b"k1@2:") and plate.encode() not in bytes(image)
            with store.connection() as conn:
                found = sessions.of_plate(conn, "LOT-TEST", plate)
                assert found is not None and found.id == "S-OLD" and found.plate == plate
                review = reviews.get(conn, conn.execute(select(table_of(ReviewRecord).c.id)).scalar_one())
                assert review.plate == plate and review.image == plate.encode() + b" pixels"
        finally:
            store.dispose()
    finally:
        if schema:
            _drop_pg_schema(schema)


def _insert_plain(conn, table, **values):
    conn.execute(insert(sql_table(table, *[column(name) for name in values])).values(values))


def test_the_vault_seals_pictures(tmp_path):
    init(tmp_path / "keys.json")
    vault = ImageVault(directory=tmp_path / "images", keys=KeyRing.load(tmp_path / "keys.json"))
    name = vault.put(b"JPEG of AB123CD")
    assert vault.put(b"JPEG of AB123CD") == name and list(vault.names()) == [name]   # once per picture
    assert b"AB123CD" not in vault.path(name).read_bytes() and vault.get(name) == b"JPEG of AB123CD"
    assert vault.head_of(name) == "k1@2" and not vault.reseal(name)
    old = vault.path(name).stat().st_mtime_ns - 10**12
    os.utime(vault.path(name), ns=(old, old))
    vault.keys.add_key()
    assert vault.reseal(name) and vault.head_of(name) == "k2@2" and vault.get(name) == b"JPEG of AB123CD"
    assert vault.path(name).stat().st_mtime_ns == old     # re-sealing does not make a picture young again
    assert vault.remove(name) and not vault.remove(name)
    with pytest.raises(ValueError):
        vault.path("../../etc/passwd")


# --- a plate through SOAP, then looked for everywhere --------------------------------------

class _Captured(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


def test_a_plate_through_soap_is_nowhere_in_clear(tmp_path):
    """Entry, exit, permit, citation, look-ups, a relayed document, a review with its picture and a
    picture in the vault: then the database file, its WAL, the image directory and every log line
    (Python's at DEBUG, Twisted's, zeep's and spyne's included) are searched for the plate."""
    init(tmp_path / "keys.json")
    url = f"sqlite:///{tmp_path / 'parkgate.db'}"
    cfg, _ = privacy_config(url, tmp_path / "keys.json", tmp_path / "images",
                            relay=[configs.relay("peer", "http://127.0.0.1:9/events")])
    captured, root = _Captured(), logging.getLogger()
    twisted_lines: list[str] = []

    def observe(event):
        twisted_lines.append(formatEvent(event) or "")
    level = root.level
    root.addHandler(captured)
    root.setLevel(logging.DEBUG)
    quiet_libraries()
    globalLogPublisher.addObserver(observe)
    plate = "ZQ" + unique_plate()[1:7]
    try:
        upgrade(url, keys=cfg.ops.key_ring())
        add_test_users(url)
        gw = start_gateway(cfg, SettableClock())
        try:
            assert submit(gw, "ENTRY", plate).Decision == "OPEN"
            issue_permit(gw, plate)
            gw.client("PermitService").LookupPermit(Plate=plate, FacilityID=FACILITY)
            gw.client("CitationService").IssueCitation(FacilityID=FACILITY, Plate=plate, ViolationType="FIRE_LANE")
            gw.client("EventService").GetSession(FacilityID=FACILITY, Plate=plate)
            gw.clock.advance(timedelta(hours=3))
            assert submit(gw, "EXIT", plate).Decision in ("OPEN", "HOLD")
            with gw.store.connection() as conn:
                reviews.insert(conn, event_id=unique(), facility_id=FACILITY, camera_id="CAM-IN", direction="ENTRY",
                               occurred_at=gw.clock(), reason="LOW_CONFIDENCE", plate=plate,
                               confidence=Decimal("0.5"), image=b"JPEG " + plate.encode(), image_url=None,
                               created_at=gw.clock())
                windows.put(conn, FACILITY, "CAM-IN", "ENTRY", unique(), gw.clock(), [(plate, 0.97)])
            ImageVault(directory=tmp_path / "images", keys=gw.store.keys).put(b"JPEG " + plate.encode())
            with gw.store.connection() as conn:
                assert conn.execute(select(func.count()).select_from(table_of(OutboxMessage))).scalar_one() >= 2
            files = [tmp_path / "parkgate.db", tmp_path / "parkgate.db-wal"]
            assert files[1].exists() and files[1].stat().st_size > 0   # the WAL, before any checkpoint
            _nowhere(plate, files, tmp_path / "images", captured.lines + twisted_lines)
        finally:
            stop_gateway(gw)
        _nowhere(plate, [tmp_path / "parkgate.db"], tmp_path / "images", captured.lines + twisted_lines)
    finally:
        globalLogPublisher.removeObserver(observe)
        root.removeHandler(captured)
        root.setLevel(level)
    assert captured.lines, "nothing was logged: the capture did not work"


def _nowhere(plate, files, images, lines):
    needle = plate.encode()
    for path in files:
        assert needle not in path.read_bytes(), f"the plate is in {path.name}"
    pictures = [p for p in images.rglob("*") if p.is_file()]
    assert pictures and not any(needle in p.read_bytes() for p in pictures)
    assert not [line for line in lines if plate in line]


# --- erasure ---------------------------------------------------------------------------------

def test_erase_plate_removes_or_anonymises_all_but_the_legal_holds(keyed):
    gw, plate = keyed, unique_plate()
    gw.clock.now = SettableClock().now
    submit(gw, "ENTRY", plate)
    gw.clock.advance(timedelta(minutes=5))
    assert submit(gw, "EXIT", plate).Reason == "WITHIN_GRACE"              # closed: anonymised
    gw.clock.advance(timedelta(minutes=5))
    submit(gw, "ENTRY", plate)                                              # parked now: held
    issue_permit(gw, plate)
    citations = gw.client("CitationService")
    unpaid = citations.IssueCitation(FacilityID=FACILITY, Plate=plate, ViolationType="FIRE_LANE")
    paid = citations.IssueCitation(FacilityID=FACILITY, Plate=plate, ViolationType="EXPIRED_TIME")
    other = unique_plate()
    submit(gw, "ENTRY", other)
    with gw.store.connection() as conn:
        C = table_of(CitationRecord)
        conn.execute(update(C).where(C.c.id == paid.CitationID).values(status="PAID"))
        conn.execute(insert(table_of(HotlistRecord)).values(plate=plate, reason="banned", added_at=gw.clock()))
        reviews.insert(conn, event_id=unique(), facility_id=FACILITY, camera_id="CAM-IN", direction="ENTRY",
                       occurred_at=gw.clock(), reason="LOW_CONFIDENCE", plate=plate, confidence=Decimal("0.6"),
                       image=b"JPEG", image_url=None, created_at=gw.clock())
        windows.put(conn, FACILITY, "CAM-ERASE", "ENTRY", unique(), gw.clock(), [(plate, 0.9)])

    gw.client("SecurityService", user="enforcement").ListHotlist()          # a listing that showed the plate
    assert "ListHotlist" in {e.Action for e in gw.client("AuditService", user="admin").QueryAudit(Plate=plate,
                                                                                                   Limit=1000)}

    refused = fault_of(lambda: gw.client("MaintenanceService", user="operator").ErasePlate(Plate=plate))
    assert refused.code.endswith("Client.Authorization")
    bad = fault_of(lambda: gw.client("MaintenanceService", user="admin").ErasePlate(Plate="!!"))
    assert "InvalidInput" in bad.code

    done = gw.client("MaintenanceService", user="admin").ErasePlate(Plate=plate.lower())
    steps = {s.Table: (s.Erased, s.Held) for s in done}   # zeep unwraps the one repeated element
    assert steps["lane_events"] == (3, 0) and steps["sessions"] == (1, 1) and steps["citations"] == (1, 1)
    assert steps["permits"] == (1, 0) and steps["hotlist"] == (1, 0) and steps["reviews"] == (1, 0)
    assert steps["lane_windows"][0] >= 1    # on PostgreSQL the gateway keeps its own lanes' windows there too
    assert steps["audit_plates"] == (1, 0)   # the listing's hash of the plate; the listing's entry stays
    assert rows_of(gw, LaneEventRecord, plate) == 0 and rows_of(gw, PermitRecord, plate) == 0
    assert rows_of(gw, SessionRecord, plate) == 1 and rows_of(gw, CitationRecord, plate) == 1   # the holds
    assert rows_of(gw, HotlistRecord, plate) == 0 and rows_of(gw, ReviewRecord, plate) == 0
    with gw.store.connection() as conn:
        docs = conn.execute(select(table_of(LaneEventRecord).c.document)).scalars().all()
        held = conn.execute(select(table_of(CitationRecord).c.id).where(
            plate_is(table_of(CitationRecord), plate))).scalar_one()
        assert windows.get(conn, FACILITY, "CAM-ERASE", "ENTRY") is None
    assert not any(plate in d for d in docs) and held == unpaid.CitationID
    assert rows_of(gw, LaneEventRecord, other) == 1                        # another plate's untouched
    # The audit entry: who and what, with the plate's keyed hash, never the plate.
    audit = gw.client("AuditService", user="admin")
    entry = audit.QueryAudit(Action="ErasePlate", Limit=1000)[-1]
    assert entry.User == "admin" and entry.PlateHash and plate not in (entry.Detail or "") + entry.Subject
    assert "held" in entry.Detail
    about = {e.Action for e in audit.QueryAudit(Plate=plate, Limit=1000)}
    assert "ErasePlate" in about and "ListHotlist" not in about
    assert audit.QueryAudit(Action="ListHotlist", Limit=1000) and audit.VerifyAudit().Verified
    # Still parked: the exit still finds the session and charges it.
    gw.clock.advance(timedelta(hours=1))
    assert submit(gw, "EXIT", plate).Reason != "NO_SESSION"


def _png(shade):
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, shade)).save(out, "PNG")
    return out.getvalue()


def _stay_pictures(gw, session_id):
    T = table_of(SessionRecord)
    with gw.store.connection() as conn:
        return conn.execute(select(T.c.entry_image, T.c.exit_image).where(T.c.id == session_id)).one()


def test_erasure_takes_a_closed_stays_pictures_too(keyed, capsys, tmp_path):
    """The pictures of the vehicle at entry and exit are the plate's records too: an erased stay no
    longer names them and the vault no longer holds them (SOAP and the CLI); an open stay keeps its own."""
    gw = keyed
    gw.clock.now = SettableClock().now
    vault = ImageVault(directory=gw.folder / "images", keys=gw.store.keys)
    config = tmp_path / "parkgate.toml"
    config.write_text(configs.toml({**gw.raw, "database": {"url": gw.store.url}}))
    parked = unique_plate()
    kept = submit(gw, "ENTRY", parked, Image=_png(1)).ParkingEvent.Session.SessionID
    for shade, erase in ((2, lambda p: gw.client("MaintenanceService", user="admin").ErasePlate(Plate=p)),
                         (3, lambda p: main(["--config", str(config), "erase", p]))):
        plate, picture = unique_plate(), _png(shade)
        stay = submit(gw, "ENTRY", plate, Image=picture).ParkingEvent.Session.SessionID
        gw.clock.advance(timedelta(minutes=5))
        assert submit(gw, "EXIT", plate, Image=picture).Reason == "WITHIN_GRACE"
        name = _stay_pictures(gw, stay).entry_image
        assert name and vault.path(name).exists()
        erase(plate)
        assert tuple(_stay_pictures(gw, stay)) == (None, None) and not vault.path(name).exists()
    capsys.readouterr()
    held = _stay_pictures(gw, kept).entry_image
    assert held and vault.path(held).exists()
    vault.remove(held)    # the rotation tests below count the pictures in the module's vault


def test_parkgate_erase(keyed, capsys, tmp_path):
    gw, plate = keyed, unique_plate()
    submit(gw, "ENTRY", plate)
    gw.clock.advance(timedelta(minutes=30))
    submit(gw, "EXIT", plate)
    config = tmp_path / "parkgate.toml"
    config.write_text(configs.toml({**gw.raw, "database": {"url": gw.store.url}}))
    assert main(["--config", str(config), "erase", plate]) in (0, None)
    out = capsys.readouterr().out
    assert "lane_events" in out and "2 erased" in out and plate not in out
    assert rows_of(gw, LaneEventRecord, plate) == 0
    assert main(["--config", str(config), "erase", "??"]) == 2
    # A configured key file that is not there: refused plainly, no fresh key made.
    config.write_text(configs.toml({**gw.raw, "database": {"url": gw.store.url},
                                    "privacy": {"key_file": str(tmp_path / "missing.json")}}))
    with pytest.raises(SystemExit) as refused:
        main(["--config", str(config), "erase", plate])
    assert refused.value.code == 2 and "parkgate keys init" in capsys.readouterr().err
    assert not (tmp_path / "missing.json").exists()


# --- rotation while serving (last: the module's key file changes) --------------------------

def test_keys_rotate_while_serving(keyed, capsys, tmp_path):
    """Events keep coming while another process's rotation adds a key, re-seals every value in small
    batches and retires the old key: every event acknowledged is readable after, the gateway seals
    with the new key, and nothing is left under the old one."""
    gw = keyed
    key_file = gw.folder / "keys.json"
    before = [(unique_plate(), unique()) for _ in range(5)]
    for plate, event_id in before:
        submit(gw, "ENTRY", plate, event_id=event_id)
    vault = ImageVault(directory=gw.folder / "images", keys=gw.store.keys)
    picture = vault.put(b"JPEG of a car")
    old = gw.store.keys.current
    acknowledged, stop, errors = [], threading.Event(), []

    def stream():
        client = zeep.Client(gw.url("EventService") + "?wsdl",
                             wsse=zeep.wsse.username.UsernameToken("operator", "s3cret-for-tests"))
        while not stop.is_set():
            plate = unique_plate()
            try:
                client.service.SubmitEvent(Event={"EventID": unique(), "FacilityID": FACILITY, "CameraID": "CAM-IN",
                                                  "Direction": "ENTRY", "Timestamp": gw.clock(), "PlateText": plate,
                                                  "Confidence": "0.97"})
                acknowledged.append(plate)
            except Exception as e:  # noqa: BLE001 - the assertion below names it
                errors.append(e)
    loader = threading.Thread(target=stream)
    loader.start()
    cli_store = Store(gw.store.url, keys=KeyRing.load(key_file))   # as `parkgate keys rotate` opens it
    try:
        rotation = KeyRotation(cli_store, ImageVault(directory=gw.folder / "images", keys=cli_store.keys),
                               SettableClock(), batch=3, pause_s=0, grace_s=1.0)
        done = rotation.rotate("cli:test")
    finally:
        stop.set()
        loader.join(30)
    assert not errors and len(acknowledged) > 0
    assert done.key != old and done.retired == [old] and not done.left and sum(done.resealed.values()) > 0
    assert done.pictures == 1 and vault.head_of(picture) == f"{done.key}@2" and vault.get(picture) == b"JPEG of a car"
    assert list(json.loads(key_file.read_text())["keys"]) == [done.key]
    census = rotation.census()
    assert set(census) == {f"{done.key}@2"}, census
    # The serving gateway re-read the file: it seals with the new key and reads everything.
    assert gw.store.keys.current == done.key
    for plate, event_id in before:
        assert submit(gw, "ENTRY", plate, event_id=event_id).Decision == "OPEN"    # replayed from the sealed row
        assert gw.client("EventService").GetSession(FacilityID=FACILITY, Plate=plate).Status == "OPEN"
    for plate in acknowledged[-3:]:
        assert rows_of(gw, SessionRecord, plate) == 1
    # `parkgate keys status` and `rotate --resume` from the command line.
    config = tmp_path / "parkgate.toml"
    config.write_text(configs.toml({**gw.raw, "database": {"url": gw.store.url},
                                    "privacy": {"key_file": str(key_file), "key_reload_s": 0}}))
    capsys.readouterr()
    assert main(["--config", str(config), "keys", "status"]) in (0, None)
    status = capsys.readouterr().out
    assert f"sealing with {done.key}" in status and old not in status
    assert "MISSING" not in status   # every value under a key the ring holds (the census counts heads: k2@2)
    assert re.search(rf"^  {done.key} +current +[1-9][0-9]* value", status, re.M), status
    assert main(["--config", str(config), "keys", "rotate", "--resume"]) in (0, None)
    assert "re-sealed 0 row(s)" in capsys.readouterr().out
    cli_store.dispose()


def test_keys_rotate_resume_binds_values_sealed_before_places(keyed, tmp_path):
    """Values of format 1 (sealed, unbound, before this change) still open; `keys rotate --resume`
    re-seals them bound to their column under the same key, and keeps the key."""
    gw, plate = keyed, unique_plate()
    submit(gw, "ENTRY", plate)
    S = table_of(SessionRecord)
    with gw.store.connection() as conn:
        unbound = gw.store.keys.seal_text(plate)                                 # as sealed before places
        conn.execute(update(S).where(plate_is(S, plate)).values(plate=type_coerce(unbound, Text())))
    with gw.store.connection() as conn:
        assert sessions.of_plate(conn, FACILITY, plate).plate == plate            # format 1 opens
    rotation = KeyRotation(gw.store, None, SettableClock(), batch=50, pause_s=0, grace_s=0)
    assert rotation.census()[gw.store.keys.current] >= 1                        # counted apart: "k1", not "k1@2"
    done = rotation.rotate("cli:test", new_key=False)
    assert done.resealed["sessions"] >= 1 and not done.left and done.key == gw.store.keys.current
    with gw.store.connection() as conn:
        raw = conn.execute(select(text("plate")).select_from(S).where(plate_is(S, plate))).scalar_one()
        assert gw.store.keys.is_current(raw) and sessions.of_plate(conn, FACILITY, plate).plate == plate


def test_the_census_never_holds_the_writer(keyed):
    """While a unit of work holds SQLite's writer (a lane event), the census still counts: it reads
    in batches beside the writer, not in a unit of work of its own."""
    gw = keyed
    rotation = KeyRotation(gw.store, None, SettableClock(), batch=2)
    holding, release = threading.Event(), threading.Event()

    def writer():
        with gw.store.connection():
            holding.set()
            release.wait(30)
    held = threading.Thread(target=writer)
    held.start()
    try:
        assert holding.wait(10)
        counted: list = []
        census = threading.Thread(target=lambda: counted.append(rotation.census()))
        census.start()
        census.join(20)
        assert counted and sum(counted[0].values()) > 0, "the census waited for the writer"
    finally:
        release.set()
        held.join(30)


def _plates_now(gw):
    """A parked car (GetSession, then its exit), a permit holder (LookupPermit), a hotlisted plate
    (an entry held): written under whichever index key the gateway writes with now."""
    parked, permitted, listed = unique_plate(), unique_plate(), unique_plate()
    assert submit(gw, "ENTRY", parked).Decision == "OPEN"
    issue_permit(gw, permitted)
    with gw.store.transaction() as db:
        db.add(HotlistRecord(plate=listed, facility_id=None, reason="stolen", added_at=gw.clock()))
    return parked, permitted, listed


def _looked_up(gw, parked, permitted, listed, exit_too=False):
    events = gw.client("EventService")
    assert events.GetSession(FacilityID=FACILITY, Plate=parked).Status == "OPEN"
    permit = gw.client("PermitService").LookupPermit(Plate=permitted, FacilityID=FACILITY).Permit
    assert permit.LicensePlate == permitted
    assert submit(gw, "ENTRY", listed).Reason == "HOTLISTED"
    if exit_too:
        assert submit(gw, "EXIT", parked).Reason not in ("NO_SESSION", "HOTLISTED")
        assert events.GetSession(FacilityID=FACILITY, Plate=parked).Status == "CLOSED"


def test_the_blind_index_key_rotates_while_look_ups_go_on(keyed, tmp_path):
    """Plates written before, during each step and after an index rotation (another process's key
    ring, as `parkgate keys rotate --index` has it) are found by every look-up at every step: the
    session, the permit, the hotlist, the exit. At the end no row keeps an index under the old key,
    the old key is gone from the file, and the audit log (its plate hashes under the audit key)
    still verifies and still finds a plate's queries."""
    gw = keyed
    key_file = gw.folder / "keys.json"
    cli_ring = KeyRing.load(key_file)
    old_key = bytes.fromhex(json.loads(key_file.read_text())["index_key"])
    before = _plates_now(gw)
    _looked_up(gw, *before)

    cli_ring.add_index_key()                        # step 1: the new index matched, not yet written
    gw.store.keys.reload()                          # (or the gateway's own re-read did it already)
    assert gw.store.keys.index_rotating == "next"
    step1 = _plates_now(gw)
    for plates in (before, step1):
        _looked_up(gw, *plates)

    cli_ring.write_index_key()                      # step 2: written under the new key, the old still matched
    gw.store.keys.reload()
    assert gw.store.keys.index_rotating == "previous"
    step2 = _plates_now(gw)
    with gw.store.connection() as conn:              # half-way through the rewrite: a batch of one row per table
        for table, indexes in rotation_tables():
            reindex(conn, table, indexes, cli_ring, None, 1)
    for plates in (before, step1, step2):
        _looked_up(gw, *plates)
    _looked_up(gw, *before, exit_too=True)           # an exit finds a session indexed under the old key

    cli_store = Store(gw.store.url, keys=cli_ring)
    try:
        done = KeyRotation(cli_store, None, SettableClock(), batch=3, pause_s=0, grace_s=0).rotate_index(
            "cli:test", resume=True)
    finally:
        cli_store.dispose()
    assert done.retired and done.rewritten["sessions"] >= 1 and done.rewritten["hotlist"] >= 1
    gw.store.keys.reload()
    assert gw.store.keys.index_rotating is None
    after = _plates_now(gw)
    for plates in (step1, step2, after):
        _looked_up(gw, *plates)
    _looked_up(gw, *step2, exit_too=True)
    file = json.loads(key_file.read_text())
    assert bytes.fromhex(file["index_key"]) != old_key and "index_previous" not in file
    stale = {plate: hmac.new(old_key, plate.encode(), hashlib.sha256).hexdigest()[:32]
             for plate in (*before, *step1, *step2)}
    with gw.store.connection() as conn:
        for table, indexes in rotation_tables():
            for index in indexes:
                found = conn.execute(select(func.count()).select_from(table)
                                     .where(type_coerce(index, Text()).in_(list(stale.values())))).scalar_one()
                assert found == 0, (table.name, index.name)
    audit = gw.client("AuditService", user="admin")
    assert audit.VerifyAudit().Verified
    assert {e.Action for e in audit.QueryAudit(Plate=before[0], Limit=1000)} >= {"GetSession"}
    assert any(e.Action == "RotateIndexKey" for e in audit.QueryAudit(Action="RotateIndexKey", Limit=1000))
    # The whole of it from the command line; and --resume with nothing under way is refused.
    config = tmp_path / "parkgate.toml"
    config.write_text(configs.toml({**gw.raw, "database": {"url": gw.store.url},
                                    "privacy": {"key_file": str(key_file), "key_reload_s": 0}}))
    assert main(["--config", str(config), "keys", "rotate", "--index"]) in (0, None)
    gw.store.keys.reload()
    assert gw.store.keys.index_rotating is None
    _looked_up(gw, *after, exit_too=True)
    assert main(["--config", str(config), "keys", "rotate", "--index", "--resume"]) == 2


# --- console sessions: their messages and booth pictures -------------------------------------

def _console_session(gw, *flashes, picture=None):
    sessions = gw.service.use_cases.console_sessions
    session = sessions.visitor(None, "en")
    before = session.state()
    session.flashes.extend(("info", f) for f in flashes)
    sessions.save(session, before)
    if picture is not None:
        sessions.keep_capture(session, picture)
    return session


def _console_row(gw, session):
    T = table_of(ConsoleSessionRecord)
    with gw.store.connection() as conn:
        return conn.execute(select(T.c.flashes, T.c.capture).where(T.c.id_hash == session.id_hash)).first()


def test_erasure_takes_the_console_messages_that_quote_the_plate(keyed):
    """A console session's messages (sealed, shown once) may quote a plate; they have no blind index,
    so erasure passed them by. Now the ones quoting it go, however it was written; the others, and
    the session (its person stays logged in), stay."""
    gw, plate = keyed, unique_plate()
    quoting = _console_session(gw, f"Entry of {plate[:3].lower()}-{plate[3:]} not admitted", "Shift opened.")
    other = _console_session(gw, f"Entry of {unique_plate()} recorded")
    done = gw.client("MaintenanceService", user="admin").ErasePlate(Plate=plate)
    assert {s.Table: (s.Erased, s.Held) for s in done}["console_sessions"] == (1, 0)
    assert json.loads(_console_row(gw, quoting).flashes) == [["info", "Shift opened."]]
    assert plate not in _console_row(gw, other).flashes and len(json.loads(_console_row(gw, other).flashes)) == 1


def test_key_rotation_re_seals_the_console_messages_and_pictures(keyed):
    """Found by their type as every sealed column: values sealed before places (format 1) are sealed
    again, bound to their column, and still open."""
    gw = keyed
    T = table_of(ConsoleSessionRecord)
    assert {c.name for table, columns in sealed_tables() if table is T for c in columns} == {"flashes", "capture"}
    session = _console_session(gw, "Shift closed.", picture=b"JPEG of the booth")
    keys = gw.store.keys
    with gw.store.connection() as conn:      # as sealed before places: unbound
        conn.execute(update(T).where(T.c.id_hash == session.id_hash).values(
            flashes=type_coerce(keys.seal_text(json.dumps([["info", "Shift closed."]])), Text()),
            capture=type_coerce(keys.seal(b"JPEG of the booth"), LargeBinary())))
        raw = conn.execute(select(text("flashes"), text("capture")).select_from(T)
                           .where(T.c.id_hash == session.id_hash)).one()
    assert not keys.is_current(raw[0]) and not keys.is_current(bytes(raw[1]))
    done = KeyRotation(gw.store, None, SettableClock(), batch=50, pause_s=0, grace_s=0).rotate("cli:test",
                                                                                            new_key=False)
    assert done.resealed["console_sessions"] >= 1 and not done.left
    with gw.store.connection() as conn:
        raw = conn.execute(select(text("flashes"), text("capture")).select_from(T)
                           .where(T.c.id_hash == session.id_hash)).one()
    assert keys.is_current(raw[0]) and keys.is_current(bytes(raw[1]))
    assert json.loads(_console_row(gw, session).flashes) == [["info", "Shift closed."]]
    assert gw.service.use_cases.console_sessions.take_capture(session) == b"JPEG of the booth"
