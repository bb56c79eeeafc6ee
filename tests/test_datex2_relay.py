"""DATEX II publications relayed (issue 17): a destination that wants ParkingStatusPublication gets
each facility's table once, then its status whenever its occupancy changed (looked at every
``[open_data] status_push_s``, on the job clock here), checked against the official schemas before
it is sent; what fails them is dead-lettered with the reason, never sent, never lost. A real HTTP
receiver, xmllint on what it got, real SQLite and PostgreSQL."""

import subprocess
from datetime import datetime, timezone

import configs
import pytest
from lxml import etree
from sqlalchemy import select
from twisted.internet import reactor, task
from twisted.internet.threads import blockingCallFromThread

from conftest import PASSWORD, RunningGateway, SettableClock, migrated_with_users, unique_plate
from gateway.config import ConfigError
from gateway.service import GatewayService
from gateway.store.schema import OutboxMessage
from legacy.doubles import HttpReceiver
from test_datex2 import NS, PAYLOAD_XSD, STANDARDS, XSI_TYPE
from test_plc import until

PERIOD = 20
STATUS, TABLE = "ParkingStatusPublication", "ParkingTablePublication"
QUIET_ZONES = [{"id": "G", "name": "Ground", "kind": "level", "floor": "0", "capacity": {"car": 8}},
               {"id": "BIKES", "name": "Bikes", "capacity": {"motorcycle": 2}}]


def on_reactor(fn, *args):
    return blockingCallFromThread(reactor, fn, *args)


def d2_config(receiver_url, database_url, schemas=STANDARDS, **relay):
    return configs.gateway(
        configs.facility("LOT-D2", configs.lane("D2-IN", 1, "ENTRY"), configs.lane("D2-OUT", 2, "EXIT"),
                         name="Open Data Garage", capacity=40),
        configs.facility("LOT-QUIET", configs.lane("Q-IN", 1, "ENTRY"), name="Quiet Lot", capacity=10,
                         zone=QUIET_ZONES),
        database_url=database_url, frame_window_s=0,
        relays=[configs.relay("d2", receiver_url, documents=[STATUS, TABLE], timeout_s=0.5, backoff_s=0.05,
                              backoff_max_s=0.2, **relay)],
        open_data={"schemas": str(schemas), "status_push_s": PERIOD, "country": "DE"})


@pytest.fixture(scope="module")
def receiver():
    r = HttpReceiver()
    on_reactor(r.start)
    yield r
    on_reactor(r.stop)


@pytest.fixture(scope="module")
def published(receiver, database_url, request):
    """A gateway relaying DATEX II to ``receiver``; its push runs when the test advances the job clock."""
    migrated_with_users(database_url, request)
    jobs = task.Clock()
    service = GatewayService(configs.parse(d2_config(receiver.url, database_url)), clock=SettableClock(
        datetime.now(timezone.utc)), reactor=reactor, job_clock=jobs)
    on_reactor(service.startService)
    gw = RunningGateway(service, service.use_cases.clock)
    gw.jobs = jobs
    yield gw
    on_reactor(service.stopService)


def bodies(receiver):
    return [r.body for r in receiver.received]


def look(gw):
    """One look of the status push, waited for: one still running when the clock moves on is
    skipped (never two at once), and a loaded machine takes its time."""
    on_reactor(gw.jobs.advance, PERIOD)
    run = gw.service.job_runs["datex2 status"]
    until(lambda: run.called)


def push(gw, receiver, expected):
    """One look of the status push; the documents the receiver got from it (``expected`` of them)."""
    before = len(receiver.received)
    look(gw)
    until(lambda: len(receiver.received) >= before + expected)
    return bodies(receiver)[before:]


def xmllint(document, tmp_path):
    path = tmp_path / "payload.xml"
    path.write_bytes(document)
    run = subprocess.run(["xmllint", "--noout", "--schema", str(PAYLOAD_XSD), str(path)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    return etree.fromstring(document)


def occupied(doc):
    info = doc.find("prk:parkingStatusInformation", NS)
    counts = info.find("prk:occupancy", NS)
    return (info.find("fac:reference", NS).get("id"),
            int(counts.findtext("prk:numberOfOccupiedSpaces", namespaces=NS)),
            int(counts.findtext("prk:numberOfVacantSpaces", namespaces=NS)))


def zone_places(doc):
    """A table's zones (layer 1) -> their spaces."""
    return {p.get("id"): p.findtext("prk:commonComponents/prk:characteristics/prk:spacesTotal", namespaces=NS)
            for p in doc.iterfind("prk:parkingTable/prk:hierarchyElementGeneral", NS)
            if p.findtext("prk:layer", namespaces=NS) == "1"}


def enter(gw, plate):
    gw.client("EventService", user="operator", password=PASSWORD).SubmitEvent(Event={
        "EventID": f"D2-{plate}", "FacilityID": "LOT-D2", "CameraID": "D2-IN", "Direction": "ENTRY",
        "Timestamp": gw.clock(), "PlateText": plate, "Confidence": "0.97"})


def test_tables_then_statuses_on_change_coalesced_and_valid(published, receiver, tmp_path):
    first = [xmllint(body, tmp_path) for body in push(published, receiver, 4)]
    kinds = [doc.get(XSI_TYPE) for doc in first]
    assert sorted(kinds) == ["prk:ParkingStatusPublication"] * 2 + ["prk:ParkingTablePublication"] * 2
    assert kinds.index("prk:ParkingTablePublication") < kinds.index("prk:ParkingStatusPublication")
    assert {occupied(d) for d in first if d.get(XSI_TYPE).endswith("StatusPublication")} == {
        ("LOT-D2", 0, 40), ("LOT-QUIET", 0, 10)}
    # The zoned facility's zones are places under it, with their status (valid, as xmllint said).
    assert [zone_places(d) for d in first if d.get(XSI_TYPE).endswith("TablePublication")
            and d.find(".//prk:hierarchyElementGeneral", NS).get("id") == "LOT-QUIET"] == [
        {"LOT-QUIET/G": "8", "LOT-QUIET/BIKES": "2"}]
    [quiet] = [d for d in first if d.get(XSI_TYPE).endswith("StatusPublication") and occupied(d)[0] == "LOT-QUIET"]
    assert [r.get("id") for r in quiet.iterfind(".//fac:reference", NS)] == ["LOT-QUIET", "LOT-QUIET/G",
                                                                             "LOT-QUIET/BIKES"]
    assert all(r.headers["content-type"].startswith("application/xml") for r in receiver.received)
    # Three vehicles in one period: one status, of the facility that changed only.
    for _ in range(3):
        enter(published, unique_plate())
    [status] = push(published, receiver, 1)
    assert occupied(xmllint(status, tmp_path)) == ("LOT-D2", 3, 37)
    # Nothing changed: nothing is pushed.
    before = len(receiver.received)
    look(published)
    look(published)
    enter(published, unique_plate())
    [status] = push(published, receiver, 1)
    assert len(receiver.received) == before + 1
    assert occupied(xmllint(status, tmp_path)) == ("LOT-D2", 4, 36)


def test_a_publication_that_fails_the_official_schema_is_dead_lettered_not_sent(published, receiver):
    broken = (b'<d2:payload xmlns:d2="http://datex2.eu/schema/3/d2Payload" '
              b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:prk="http://datex2.eu/schema/3/parking" '
              b'xsi:type="prk:ParkingStatusPublication" lang="en" modelBaseVersion="3"><prk:nonsense/></d2:payload>')
    service = published.service
    with published.store.connection() as conn:
        owed = service.outbox.enqueue(conn, STATUS, "broken-status", "LOT-D2", broken, published.clock())
    assert owed == ["d2"]
    on_reactor(service.relays.wake, owed)
    table = OutboxMessage.__table__

    def state():
        with published.store.connection() as conn:
            return conn.execute(select(table.c.state, table.c.last_error).where(table.c.key == "broken-status")).one()
    until(lambda: state().state == "DEAD")
    assert state().last_error.startswith("schema:")
    assert "broken-status" not in receiver.keys
    # Our own documents are still checked against xsd/: a ParkingEvent is not a DATEX II payload.
    assert service.relays.workers["d2"].contract.schema_error(broken, "ParkingEvent") is not None
    assert service.relays.workers["d2"].contract.schema_error(broken, STATUS) is not None


def test_relaying_datex2_needs_the_official_schemas(tmp_path):
    url = "http://127.0.0.1:9/"
    with pytest.raises(ConfigError, match="open_data.schemas"):
        configs.parse(d2_config(url, "sqlite://", schemas=tmp_path))
    raw = d2_config(url, "sqlite://")
    del raw["open_data"]["schemas"]
    with pytest.raises(ConfigError, match="official DATEX II v3 schemas"):
        configs.parse(raw)
    with pytest.raises(ConfigError, match="one by one"):
        configs.parse(d2_config(url, "sqlite://", batch_window_s=1))
    # Without a relay of DATEX II, none are needed (the HTTP feed and the CLI build without them).
    raw["relay"] = []
    assert configs.parse(raw).datex2.relayed == ()


def test_a_zone_set_is_a_new_table_then_a_status(published, receiver, tmp_path):
    published.client("ZoneService", user="admin", password=PASSWORD).SetZone(
        FacilityID="LOT-QUIET", ZoneID="BIKES", Capacity=[{"VehicleType": "motorcycle", "Spaces": 5}])
    table, status = (xmllint(body, tmp_path) for body in push(published, receiver, 2))
    assert [d.get(XSI_TYPE) for d in (table, status)] == ["prk:ParkingTablePublication",
                                                          "prk:ParkingStatusPublication"]
    assert zone_places(table) == {"LOT-QUIET/G": "8", "LOT-QUIET/BIKES": "5"}
    site = table.find("prk:parkingTable/prk:hierarchyElementGeneral", NS)
    assert status.find("prk:parkingStatusInformation/fac:reference", NS).get("version") == site.get("version")
    bikes = status.findall("prk:parkingStatusInformation", NS)[2]
    assert bikes.findtext("prk:occupancy/prk:numberOfVacantSpaces", namespaces=NS) == "5"
    # Nothing changed since: nothing more.
    before = len(receiver.received)
    look(published)
    enter(published, unique_plate())
    [status] = push(published, receiver, 1)
    assert len(receiver.received) == before + 1 and occupied(xmllint(status, tmp_path))[0] == "LOT-D2"
