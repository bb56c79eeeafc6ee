"""Zones over real SOAP (issue 16): FACILITY_FULL per zone and vehicle type, zones listed with their
spaces now and set by an admin (audited), each zone's hours, the signage per zone, and a space
assigned to a session relayed as a schema-valid SpaceAssigned document (xmllint)."""

import subprocess
import threading
import urllib.request
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import configs
import pytest
import zeep
from lxml import etree
from sqlalchemy import select

from conftest import (
    SettableClock,
    add_test_users,
    start_gateway,
    stop_gateway,
    unique,
    unique_plate,
    waits_for_a_turn,
)
from gateway.app.recording import Overtaken
from gateway.contract.schema import CONTRACT_XSD
from gateway.domain.events import LaneEvent
from gateway.store.schema import AuditRecord
from test_plc import until

LOT = "LOT-ZONES"
NS = {"pg": "urn:parkgate:v1"}
ZONES = [{"id": "L1", "name": "Level 1", "kind": "level", "capacity": {"car": 2, "van": 1}},
         {"id": "MOTO", "name": "Motorcycle area", "capacity": {"motorcycle": 1}},
         {"id": "RACE", "name": "Raced for", "capacity": {"car": 1}}]
LAST = "LOT-LAST"   # one space: a lane with no zone, and one into a zone of more spaces than that
SPLIT = "LOT-SPLIT"   # no capacity of its own (its zones': three of one space each), a lane into each zone


@pytest.fixture(scope="module")
def gw(database_url, receiver):
    split = configs.facility(SPLIT, *(dict(configs.lane(f"SPLIT-{z}", n, "ENTRY"), zone=z)
                                      for n, z in enumerate("ABC", 1)), configs.lane("SPLIT-OUT", 4, "EXIT"),
                             tariff_=configs.tariff(grace_minutes=60),
                             zone=[{"id": z, "name": f"Area {z}", "capacity": {"car": 1}} for z in "ABC"])
    del split["capacity"]
    raw = configs.gateway(
        configs.facility(LOT, dict(configs.lane("Z-IN", 1, "ENTRY"), zone="L1"),
                         dict(configs.lane("Z-MOTO", 2, "ENTRY"), zone="MOTO", vehicle_type="motorcycle"),
                         configs.lane("Z-OUT", 3, "EXIT"), configs.lane("Z-FREE", 4, "ENTRY"),
                         dict(configs.lane("Z-RACE", 5, "ENTRY"), zone="RACE"),
                         tariff_=configs.tariff(grace_minutes=60), zone=ZONES),
        configs.facility(LAST, configs.lane("LAST-IN", 1, "ENTRY"),
                         dict(configs.lane("LAST-UP", 2, "ENTRY"), zone="UP"), configs.lane("LAST-OUT", 3, "EXIT"),
                         capacity=1, tariff_=configs.tariff(grace_minutes=60),
                         zone=[{"id": "UP", "name": "Upper level", "capacity": {"car": 5}}]),
        split, relays=[configs.relay("spaces", receiver.url, documents=["SpaceAssigned"], backoff_s=0.1)])
    running = start_gateway(configs.parse(raw, database_url=database_url), SettableClock())
    add_test_users(database_url)
    yield running
    stop_gateway(running)


def event(gw, direction, plate, camera, **more):
    # A second between events, as at a real lane: an hour's count in shards (one per database
    # connection) takes its end from the shard whose event was the latest, and a frozen clock
    # would make every event equally late.
    gw.clock.advance(timedelta(seconds=1))
    return gw.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": LOT, "CameraID": camera, "Direction": direction,
        "Timestamp": gw.clock(), "PlateText": plate, "Confidence": "0.97", **more})


def spaces(gw, user="operator"):
    """(zone, type) -> (capacity, occupied, available) as ListZones says."""
    return {(z.ZoneID, s.VehicleType): (s.Capacity, s.Occupied, s.Available)
            for z in gw.client("ZoneService", user).ListZones(FacilityID=LOT) for s in z.Spaces}


def delivered(receiver, key):
    until(lambda: key in receiver.keys)
    body = etree.fromstring(next(r.body for r in receiver.received if r.key == key))
    return body if body.tag.endswith("SpaceAssigned") else body.find(".//pg:SpaceAssigned", NS)


def xmllint(tmp_path, document):
    path = tmp_path / "doc.xml"
    path.write_bytes(etree.tostring(document))
    run = subprocess.run(["xmllint", "--noout", "--schema", str(CONTRACT_XSD), str(path)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr


def test_a_zone_full_for_a_type_holds_that_type_only(gw):
    before = spaces(gw)
    assert before[("L1", "car")] == (2, 0, 2) and before[("MOTO", "motorcycle")] == (1, 0, 1)
    cars = [unique_plate() for _ in range(3)]
    assert [event(gw, "ENTRY", p, "Z-IN").Decision for p in cars[:2]] == ["OPEN", "OPEN"]
    full = event(gw, "ENTRY", cars[2], "Z-IN")
    assert (full.Decision, full.Reason) == ("HOLD", "FACILITY_FULL")
    van = event(gw, "ENTRY", unique_plate(), "Z-IN", VehicleType="van")          # the vans' own spaces
    assert van.Decision == "OPEN"
    moto = event(gw, "ENTRY", unique_plate(), "Z-MOTO")                           # a motorcycle lane
    assert moto.Decision == "OPEN" and moto.ParkingEvent.Vehicle.Attributes.VehicleClass == "Motorcycle"
    assert event(gw, "ENTRY", unique_plate(), "Z-MOTO").Reason == "FACILITY_FULL"
    bus = event(gw, "ENTRY", unique_plate(), "Z-IN", VehicleType="bus")           # no bus spaces on level 1
    assert (bus.Decision, bus.Reason) == ("HOLD", "FACILITY_FULL")
    assert event(gw, "ENTRY", unique_plate(), "Z-FREE", VehicleType="bus").Decision == "OPEN"   # a lane of no zone
    # a PARCS asking whether a plate may pass is told as a lane event would be
    asked = {lane: gw.client("PermitService", "integrator").AuthorizePlate(FacilityID=LOT, LaneNumber=lane,
                                                                          Plate=unique_plate())
             for lane in (1, 2, 4)}
    assert [(asked[n].Decision, asked[n].Reason) for n in (1, 2, 4)] == [
        ("DECLINED", "FACILITY_FULL"), ("DECLINED", "FACILITY_FULL"), ("GRANTED", "TRANSIENT_ENTRY")]
    now = spaces(gw)
    assert now[("L1", "car")] == (2, 2, 0) and now[("L1", "van")] == (1, 1, 0) and now[("MOTO", "motorcycle")][1] == 1

    # a car leaves: its space is free again
    gw.clock.advance(timedelta(minutes=5))
    assert event(gw, "EXIT", cars[0], "Z-OUT").Decision == "OPEN"
    assert spaces(gw)[("L1", "car")] == (2, 1, 1)
    assert event(gw, "ENTRY", cars[2], "Z-IN").Decision == "OPEN"


def test_a_permit_holder_passes_a_full_zone(gw):
    plate = unique_plate()
    today = gw.clock().date()
    gw.client("PermitService").IssuePermit(Plate=plate, PermitType="Monthly", FacilityID=LOT, ValidFrom=today,
                                           ValidUntil=today + timedelta(days=30))
    for _ in range(3):   # the level's cars as many as it holds, or more
        event(gw, "ENTRY", unique_plate(), "Z-IN")
    assert spaces(gw)[("L1", "car")][2] == 0
    admitted = event(gw, "ENTRY", plate, "Z-IN")
    assert (admitted.Decision, admitted.Reason) == ("OPEN", "PERMIT_VALID")


def test_an_admin_sets_a_zone_audited_and_an_operator_may_not(gw):
    zones = gw.client("ZoneService", "admin")
    made = zones.SetZone(FacilityID=LOT, ZoneID="L1", Capacity=[{"VehicleType": "car", "Spaces": 50}],
                         Reason="level 1 reopened")
    assert (made.Version > 0, made.Name, made.Kind, made.SetBy, made.Reason) == (True, "Level 1", "level", "admin",
                                                                                  "level 1 reopened")
    assert {(c.VehicleType, c.Spaces) for c in made.Capacity} == {("car", 50), ("van", 1)}
    assert spaces(gw)[("L1", "car")][0] == 50
    assert event(gw, "ENTRY", unique_plate(), "Z-IN").Decision == "OPEN"     # the new capacity decides at once
    with gw.store.transaction() as db:
        entry = db.execute(select(AuditRecord).where(AuditRecord.action == "SetZone")
                           .order_by(AuditRecord.id.desc())).scalars().first()
    assert (entry.username, entry.subject) == ("admin", f"{LOT}/L1") and "car 50" in entry.detail
    new = zones.SetZone(FacilityID=LOT, ZoneID="ROOF", Name="Roof", Kind="area",
                        Capacity=[{"VehicleType": "car", "Spaces": 10}])
    assert new.Version > made.Version and "ROOF" in {z.ZoneID for z in zones.ListZones(FacilityID=LOT)}
    with pytest.raises(zeep.exceptions.Fault) as refused:
        gw.client("ZoneService").SetZone(FacilityID=LOT, ZoneID="L1", Capacity=[{"VehicleType": "car", "Spaces": 1}])
    assert refused.value.code.endswith("Authorization")
    with pytest.raises(zeep.exceptions.Fault) as bad:
        zones.SetZone(FacilityID=LOT, ZoneID="L1", Capacity=[{"VehicleType": "car", "Spaces": -3}])
    assert "negative" in bad.value.message
    with pytest.raises(zeep.exceptions.Fault) as nothing:
        zones.SetZone(FacilityID=LOT, ZoneID="L1")
    assert "at least one" in nothing.value.message
    with pytest.raises(zeep.exceptions.Fault) as unknown:
        zones.ListZones(FacilityID="NOWHERE")
    assert unknown.value.code.endswith("UnknownFacility")


def test_a_space_assigned_is_relayed_and_valid(gw, receiver, tmp_path):
    entered = event(gw, "ENTRY", unique_plate(), "Z-FREE")
    session_id = entered.ParkingEvent.Session.SessionID
    zones = gw.client("ZoneService", "admin")
    zones.SetZone(FacilityID=LOT, ZoneID="L2", Name="Level 2", Kind="level",
                  Capacity=[{"VehicleType": "car", "Spaces": 5}])
    before = spaces(gw).get(("L2", "car"))
    assigned = gw.client("ZoneService").AssignSpace(SessionID=session_id, ZoneID="L2", SpaceID="L2-017")
    assert (assigned.SessionID, assigned.ZoneID, assigned.SpaceID, assigned.AssignedBy) == (
        session_id, "L2", "L2-017", "operator")
    assert spaces(gw)[("L2", "car")][1] == before[1] + 1
    doc = delivered(receiver, assigned.AssignmentID)
    xmllint(tmp_path, doc)
    assert doc.findtext("pg:SpaceID", namespaces=NS) == "L2-017"
    session = gw.client("EventService").GetSession(SessionID=session_id)
    assert session.Session.SpaceAssigned == "L2-017"
    # an entry through a lane of a zone assigns that zone
    zones.SetZone(FacilityID=LOT, ZoneID="MOTO", Capacity=[{"VehicleType": "motorcycle", "Spaces": 2}])
    through = event(gw, "ENTRY", unique_plate(), "Z-MOTO")
    assert through.Decision == "OPEN"
    auto = delivered(receiver, f"{through.ParkingEvent.EventID}:SPA")
    xmllint(tmp_path, auto)
    assert (auto.findtext("pg:ZoneID", namespaces=NS), auto.findtext("pg:AssignedBy", namespaces=NS)) == (
        "MOTO", "lane 2")
    # the space is another session's; a zone there is not; a session that is not there
    other = event(gw, "ENTRY", unique_plate(), "Z-FREE").ParkingEvent.Session.SessionID
    for kwargs, code in [({"SessionID": other, "ZoneID": "L2", "SpaceID": "L2-017"}, "Conflict"),
                         ({"SessionID": other, "ZoneID": "NOPE"}, "NotFound"),
                         ({"SessionID": "S-NONE", "ZoneID": "L2"}, "NotFound")]:
        with pytest.raises(zeep.exceptions.Fault) as refused:
            gw.client("ZoneService").AssignSpace(**kwargs)
        assert refused.value.code.endswith(code), kwargs


def test_zone_hours_and_signage_per_zone(gw, tmp_path):
    start = gw.clock() - timedelta(hours=2)
    gw.clock.advance(timedelta(hours=1))
    history = gw.client("EventService").GetOccupancyHistory(FacilityID=LOT, From=start,
                                                            To=gw.clock() + timedelta(hours=1), ByZone=True)
    by_zone = {(z.ZoneID, z.VehicleType): z for z in history.Zone}
    cars = by_zone[("L1", "car")]
    assert cars.Capacity == 50 and cars.Entries >= 4 and cars.Exits == 1 and len(cars.Hour) == len(history.Hour)
    assert cars.Hour[-1].OccupiedAtEnd == spaces(gw)[("L1", "car")][1]
    assert by_zone[("MOTO", "motorcycle")].PeakOccupancy == 2
    plain = gw.client("EventService").GetOccupancyHistory(FacilityID=LOT, From=start, To=gw.clock())
    assert not plain.Zone
    xml = urllib.request.urlopen(f"{gw.base_url}/signage?facility={LOT}", timeout=10).read()
    feed = etree.fromstring(xml)
    xmllint(tmp_path, feed)
    motos = feed.find("pg:Facility/pg:Zone[pg:ZoneID='MOTO']/pg:Spaces", NS)
    assert (motos.findtext("pg:VehicleType", namespaces=NS), motos.findtext("pg:Status", namespaces=NS)) == (
        "motorcycle", "FULL")


@pytest.mark.postgres
def test_zone_events_side_by_side_never_wait_on_one_zone_hour_s_row(database_url):
    """Two units of work open at once count the same zone hour (PostgreSQL runs lane events side by
    side): the second does not wait for the first's row lock (each connection keeps a shard of its
    own); the hour reads as both together (counts summed, the highest peak, what the latest event
    left), and so does the hour after, carried from it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes units of work in turn")
    from sqlalchemy import text

    from gateway.store import zones
    from gateway.store.engine import Store
    from gateway.store.migrate import upgrade

    upgrade(database_url)
    store = Store(database_url)
    hour = datetime(2025, 4, 1, 9, 0, tzinfo=timezone.utc)
    facility = f"LOT-SHARDS-{unique_plate()}"
    try:
        with store.connection() as first:
            zones.count(first, facility, "L1", "car", hour + timedelta(minutes=10), entered=True, inside=5)
            with store.connection() as second:
                second.execute(text("SET LOCAL lock_timeout = '3s'"))  # one row for both: it would wait, then fail
                zones.count(second, facility, "L1", "car", hour + timedelta(minutes=20), entered=False, inside=4)
            zones.count(first, facility, "L1", "car", hour + timedelta(minutes=5), entered=True, inside=6)
        with store.connection() as conn:
            kept = zones.hours(conn, facility, hour, hour + timedelta(hours=1))
            carried = zones.occupied_before(conn, facility, hour + timedelta(hours=1))
    finally:
        store.dispose()
    [counted] = kept[("L1", "car")]
    assert (counted.hour, counted.entries, counted.exits, counted.peak) == (hour, 2, 1, 6)
    assert counted.occupied_end == carried[("L1", "car")] == 4   # the exit at 9:20 was the hour's latest event


def test_a_zone_set_changes_a_capacity_that_is_the_sum_of_its_zones(database_url, receiver):
    """No capacity configured: the facility holds what its zones hold, as set at run time (the
    facility-wide FACILITY_FULL and GetOccupancy follow it at once), and a gateway started later
    counts the zones set before it; a capacity configured stays as configured."""
    lot, fixed = f"LOT-SUM-{unique_plate()}", f"LOT-FIXED-{unique_plate()}"
    summed = configs.facility(lot, configs.lane("S-IN", 1, "ENTRY"), zone=[
        {"id": "A", "name": "Area A", "capacity": {"car": 1}}])
    del summed["capacity"]
    kept = configs.facility(fixed, configs.lane("F-IN", 1, "ENTRY"), capacity=1, zone=[
        {"id": "A", "name": "Area A", "capacity": {"car": 1}}])
    cfg = configs.parse(configs.gateway(summed, kept), database_url=database_url)

    def enter(gw, facility, camera):
        gw.clock.advance(timedelta(seconds=1))
        return gw.client("EventService").SubmitEvent(Event={
            "EventID": unique(), "FacilityID": facility, "CameraID": camera, "Direction": "ENTRY",
            "Timestamp": gw.clock(), "PlateText": unique_plate(), "Confidence": "0.97"})

    gw = start_gateway(cfg, SettableClock())
    try:
        add_test_users(database_url)
        assert gw.client("EventService").GetOccupancy(FacilityID=lot).Capacity == 1
        assert enter(gw, lot, "S-IN").Decision == "OPEN"
        assert enter(gw, lot, "S-IN").Reason == "FACILITY_FULL"
        admin = gw.client("ZoneService", "admin")
        admin.SetZone(FacilityID=lot, ZoneID="A", Capacity=[{"VehicleType": "car", "Spaces": 2}])
        admin.SetZone(FacilityID=lot, ZoneID="B", Name="Area B", Capacity=[{"VehicleType": "van", "Spaces": 3}])
        assert gw.client("EventService").GetOccupancy(FacilityID=lot).Capacity == 5
        assert enter(gw, lot, "S-IN").Decision == "OPEN"                  # the new total decides at once
        admin.SetZone(FacilityID=fixed, ZoneID="A", Capacity=[{"VehicleType": "car", "Spaces": 9}])
        assert gw.client("EventService").GetOccupancy(FacilityID=fixed).Capacity == 1
    finally:
        stop_gateway(gw)
    later = start_gateway(cfg, SettableClock())
    try:
        assert later.client("EventService").GetOccupancy(FacilityID=lot).Capacity == 5
    finally:
        stop_gateway(later)


# --- two nodes racing for a zone's last space -------------------------------------------------

def _while_the_last_space_is_taken(gw, other_node):
    """Node A (the gateway's own lane-event code, in a unit of work of its own) takes the zone RACE's
    last space; before it commits, ``other_node`` runs in a thread, and A commits once that waits for
    the zone's turn (or has answered: it did not wait). (A's outcome, what ``other_node`` returned or
    raised.)"""
    zones = gw.client("ZoneService", "admin")
    zones.SetZone(FacilityID=LOT, ZoneID="RACE", Capacity=[{"VehicleType": "car", "Spaces": 1 + spaces(gw).get(
        ("RACE", "car"), (0, 0, 0))[1]}])
    recorder = gw.service.use_cases.events.frames.recorder
    gw.clock.advance(timedelta(seconds=1))
    ev = LaneEvent(event_id=unique(), facility_id=LOT, camera_id="Z-RACE", direction="ENTRY", timestamp=gw.clock(),
                   plate_text=unique_plate(), confidence=Decimal("0.97"))
    fac, lane, when = recorder.place(ev)
    return _while_node_a_holds(gw, lambda conn: recorder.record(conn, fac, lane, ev, ev.plate_text, when)[0],
                               other_node, ("zone", LOT, "RACE"))


def _while_node_a_holds(gw, node_a, other_node, turn):
    """``node_a(conn)`` in a unit of work that is held open while ``other_node`` runs in a thread; it
    commits once that waits for ``turn`` (or has answered: it did not wait), and fails when neither
    comes within 30 s (the other node waits for something else). (What ``node_a`` returned, what
    ``other_node`` returned or raised, and whether it waited.)"""
    answered, outcome = threading.Event(), {"waited": False}

    def node_b():
        try:
            outcome["value"] = other_node()
        except Exception as e:  # noqa: BLE001 - the test looks at it
            outcome["error"] = e
        answered.set()
    with gw.store.connection() as conn:
        first = node_a(conn)
        b = threading.Thread(target=node_b)
        b.start()
        for _ in range(3000):   # at most 30 s; each check waits on B's answer, not on the clock
            if answered.wait(0.01):
                break
            if waits_for_a_turn(gw.store, *turn):
                outcome["waited"] = True
                break
        else:
            raise AssertionError(f"the other node neither waited for the turn {turn} nor answered")
    b.join(30)
    assert answered.is_set(), "the other node never answered"
    return first, outcome


@pytest.mark.parametrize("lane_of_a, b_thinks_it_roomy", [("LAST-IN", False), ("LAST-UP", False),
                                                           ("LAST-IN", True)])
def test_two_nodes_racing_for_a_facilitys_last_space_one_takes_it(gw, lane_of_a, b_thinks_it_roomy):
    """The facility has one space. Node A (the gateway's lane-event code, in a unit of work held
    open) takes it at ``lane_of_a`` (no zone; a zone with spaces to spare); before A commits, node B
    enters at the lane with no zone. Count-then-insert let both in on PostgreSQL: B counted before A
    committed. Now B waits for the facility's turn, counts A's car, and is told the facility is full;
    so too when B's last count was roomy (it shares the turn, finds the last spaces, counts again in
    turn)."""
    recorder = gw.service.use_cases.events.frames.recorder
    if b_thinks_it_roomy:
        recorder.roomy.add(LAST)   # only B reads it: A's turn is taken below, before the count
    gw.clock.advance(timedelta(seconds=1))
    plate_a, plate_b = unique_plate(), unique_plate()
    ev = LaneEvent(event_id=unique(), facility_id=LAST, camera_id=lane_of_a, direction="ENTRY", timestamp=gw.clock(),
                   plate_text=plate_a, confidence=Decimal("0.97"))
    fac, lane, when = recorder.place(ev)
    try:
        def node_a(conn):
            recorder.roomy.discard(LAST)
            outcome = recorder.record(conn, fac, lane, ev, plate_a, when)[0]
            if b_thinks_it_roomy:
                recorder.roomy.add(LAST)
            return outcome
        first, b = _while_node_a_holds(gw, node_a, lambda: event(gw, "ENTRY", plate_b, "LAST-IN", FacilityID=LAST),
                                       ("facility", LAST))
        assert first.decision == "OPEN"
        assert (b["value"].Decision, b["value"].Reason) == ("HOLD", "FACILITY_FULL"), b
        assert gw.client("EventService").GetOccupancy(FacilityID=LAST).Occupied == 1
    finally:   # the space free again (within the grace period) for the next case
        for plate in (plate_a, plate_b):
            event(gw, "EXIT", plate, "LAST-OUT", FacilityID=LAST)


def test_two_nodes_entering_two_zones_for_a_facilitys_last_space_one_takes_it(gw):
    """The facility holds what its three zones hold (a car each) and every entry lane leads into one,
    but a permit holder passes a full zone: with two in zone A, one space is left, and zones B and C
    each count one free. Node A takes it at B (its unit held open); node B enters at C. With no
    facility turn (the zones were taken to hold the facility alone), B counted before A committed and
    both got in on PostgreSQL (4 cars in 3 spaces); SQLite holds B. Now B waits for the facility's
    turn, counts A's car, and is told the facility is full."""
    today = gw.clock().date()
    holders, plate_a, plate_b = [unique_plate(), unique_plate()], unique_plate(), unique_plate()
    for plate in holders:
        gw.client("PermitService").IssuePermit(Plate=plate, PermitType="Monthly", FacilityID=SPLIT, ValidFrom=today,
                                               ValidUntil=today + timedelta(days=30))
    recorder = gw.service.use_cases.events.frames.recorder
    try:
        assert [event(gw, "ENTRY", p, "SPLIT-A", FacilityID=SPLIT).Reason for p in holders] == ["PERMIT_VALID"] * 2
        gw.clock.advance(timedelta(seconds=1))
        ev = LaneEvent(event_id=unique(), facility_id=SPLIT, camera_id="SPLIT-B", direction="ENTRY",
                       timestamp=gw.clock(), plate_text=plate_a, confidence=Decimal("0.97"))
        fac, lane, when = recorder.place(ev)
        first, b = _while_node_a_holds(gw, lambda conn: recorder.record(conn, fac, lane, ev, plate_a, when)[0],
                                       lambda: event(gw, "ENTRY", plate_b, "SPLIT-C", FacilityID=SPLIT),
                                       ("facility", SPLIT))
        assert first.decision == "OPEN"
        assert (b["value"].Decision, b["value"].Reason) == ("HOLD", "FACILITY_FULL"), b
        assert gw.client("EventService").GetOccupancy(FacilityID=SPLIT).Occupied == 3
    finally:
        for plate in (*holders, plate_a, plate_b):
            event(gw, "EXIT", plate, "SPLIT-OUT", FacilityID=SPLIT)


def test_an_entry_that_shared_the_turn_and_finds_the_last_spaces_counts_again_in_turn(gw):
    """Units that share the facility's turn do not see each other's cars: one that counts fewer free
    spaces than units can be under way at once does not go on (its unit taken back, decided again
    holding the turn alone). On SQLite a unit is never under way beside another: the last space is roomy."""
    if gw.store.dialect != "postgresql":
        pytest.skip("SQLite takes units of work in turn")
    recorder = gw.service.use_cases.events.frames.recorder
    recorder.roomy.add(LAST)
    gw.clock.advance(timedelta(seconds=1))
    plate = unique_plate()
    ev = LaneEvent(event_id=unique(), facility_id=LAST, camera_id="LAST-IN", direction="ENTRY", timestamp=gw.clock(),
                   plate_text=plate, confidence=Decimal("0.97"))
    fac, lane, when = recorder.place(ev)
    with pytest.raises(Overtaken), gw.store.connection() as conn:
        recorder.record(conn, fac, lane, ev, plate, when)
    assert LAST not in recorder.roomy
    try:
        assert event(gw, "ENTRY", plate, "LAST-IN", FacilityID=LAST).Decision == "OPEN"
    finally:
        event(gw, "EXIT", plate, "LAST-OUT", FacilityID=LAST)


def test_an_entry_counted_again_takes_the_facilitys_turn_alone_whatever_the_others_counted(gw):
    """An entry that shared the turn and found the last spaces is decided again; other entries' counts,
    roomy meanwhile (their exits freed spaces), had it share the turn again on each attempt, find the
    last spaces again, and, its attempts spent, told Server.Busy instead of its decision. Now a unit
    decided again takes the turn alone, on a lane and from a review. (Here the others' roomy counts
    come between every attempt.)"""
    class RoomyMeanwhile(set):
        def discard(self, facility_id):   # what this unit took back, another entry's count put back
            pass
    recorder = gw.service.use_cases.events.frames.recorder
    parked, plate = unique_plate(), unique_plate()
    assert event(gw, "ENTRY", parked, "LAST-IN", FacilityID=LAST).Decision == "OPEN"   # its one space taken
    kept, recorder.roomy = recorder.roomy, RoomyMeanwhile({LAST})
    try:
        held = event(gw, "ENTRY", plate, "LAST-IN", FacilityID=LAST)
        assert (held.Decision, held.Reason) == ("HOLD", "FACILITY_FULL")
        doubt = event(gw, "ENTRY", unique_plate(), "LAST-IN", FacilityID=LAST, Confidence="0.10")
        assert (doubt.Decision, doubt.Reason) == ("REVIEW", "LOW_CONFIDENCE")
        review = next(r for r in gw.client("EventService").ListReviews(FacilityID=LAST)
                      if r.EventID == doubt.ParkingEvent.EventID)
        resolved = gw.client("EventService").ResolveReview(ReviewID=review.ReviewID, Plate=plate)
        assert (resolved.Decision, resolved.Reason) == ("HOLD", "FACILITY_FULL")
    finally:
        recorder.roomy = kept
        for p in (parked, plate):
            event(gw, "EXIT", p, "LAST-OUT", FacilityID=LAST)


def test_entries_far_from_the_last_space_share_the_facilitys_turn(gw):
    """Node A's entry is amid its unit of work (the facility's turn shared: its last count was roomy)
    when node B's comes: B goes at once, without waiting for A's commit."""
    if gw.store.dialect != "postgresql":
        pytest.skip("SQLite takes units of work in turn")
    event(gw, "ENTRY", unique_plate(), "Z-FREE")   # a count here, roomy: a capacity of 100,000
    recorder = gw.service.use_cases.events.frames.recorder
    assert LOT in recorder.roomy
    gw.clock.advance(timedelta(seconds=1))
    ev = LaneEvent(event_id=unique(), facility_id=LOT, camera_id="Z-FREE", direction="ENTRY", timestamp=gw.clock(),
                   plate_text=unique_plate(), confidence=Decimal("0.97"))
    fac, lane, when = recorder.place(ev)
    first, b = _while_node_a_holds(gw, lambda conn: recorder.record(conn, fac, lane, ev, ev.plate_text, when)[0],
                                   lambda: event(gw, "ENTRY", unique_plate(), "Z-FREE"), ("facility", LOT))
    assert first.decision == "OPEN" and b["value"].Decision == "OPEN" and not b["waited"]


def test_two_nodes_racing_for_a_zones_last_space_one_takes_it(gw):
    """Count-then-insert let both take it on PostgreSQL: B counted before A committed. Now B waits for
    the zone's turn, counts A's car, and is told the zone is full. The facility is far from full (its
    last count roomy): both share its turn, and the zone's is the one B waits for."""
    gw.service.use_cases.events.frames.recorder.roomy.add(LOT)
    first, b = _while_the_last_space_is_taken(gw, lambda: event(gw, "ENTRY", unique_plate(), "Z-RACE"))
    assert first.decision == "OPEN"
    assert (b["value"].Decision, b["value"].Reason) == ("HOLD", "FACILITY_FULL")
    capacity, occupied, available = spaces(gw)[("RACE", "car")]
    assert occupied == capacity and available == 0


def test_a_space_assigned_while_a_lane_takes_the_zones_last_one_is_refused(gw):
    parked = event(gw, "ENTRY", unique_plate(), "Z-FREE").ParkingEvent.Session.SessionID
    first, b = _while_the_last_space_is_taken(
        gw, lambda: gw.client("ZoneService").AssignSpace(SessionID=parked, ZoneID="RACE"))
    assert first.decision == "OPEN"
    assert isinstance(b.get("error"), zeep.exceptions.Fault) and b["error"].code.endswith("Conflict"), b
    capacity, occupied, available = spaces(gw)[("RACE", "car")]
    assert occupied == capacity and available == 0


def test_two_nodes_assigning_one_space_at_once_give_it_once(gw):
    """Node A is amid an AssignSpace of space RACE-7 (its turns taken, the space found free and given,
    not committed) when node B assigns RACE-7 to another session, in another zone. Before, on
    PostgreSQL, B found the space free (A had not committed) and both held it; now B waits for the
    space's turn, sees it taken and is refused."""
    from gateway.store import zones as stored
    zones = gw.client("ZoneService", "admin")
    zones.SetZone(FacilityID=LOT, ZoneID="RACE", Capacity=[{"VehicleType": "car", "Spaces": 1 + spaces(gw).get(
        ("RACE", "car"), (0, 0, 0))[1]}])
    first, second = (event(gw, "ENTRY", unique_plate(), "Z-FREE").ParkingEvent.Session.SessionID for _ in range(2))

    def node_a(conn):
        stored.take_turn(conn, LOT, "L1")
        stored.take_space_turn(conn, LOT, "RACE-7")
        assert not stored.space_taken(conn, LOT, "RACE-7", first)
        stored.assign(conn, first, "L1", "RACE-7")
    _, outcome = _while_node_a_holds(
        gw, node_a, lambda: gw.client("ZoneService").AssignSpace(SessionID=second, ZoneID="RACE", SpaceID="RACE-7"),
        ("space", LOT, "RACE-7"))
    assert isinstance(outcome.get("error"), zeep.exceptions.Fault) and outcome["error"].code.endswith("Conflict"), \
        outcome
    with gw.store.connection() as conn:
        assert stored.space_taken(conn, LOT, "RACE-7", second) and not stored.space_taken(conn, LOT, "RACE-7", first)
