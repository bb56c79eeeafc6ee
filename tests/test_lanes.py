"""Barriers through the SOAP services: decisions drive the lane's PLC (the simulator, over Modbus
TCP), failures are reported in the response, manual commands are audited."""

from datetime import date, timedelta

import configs
import pytest

from conftest import SettableClock, migrated_with_users, start_gateway, stop_gateway, unique, unique_plate
from gateway import config as configuration
from gateway.store.schema import AuditRecord, IncidentRecord
from test_events import fault_of
from test_plc import SilentPeer, fast_simulator, listening, on_reactor, until


def gated_config(plc_port, hung_port, database_url, pulse_ms=50):
    """A garage whose entry and exit lanes have barrier PLCs (the simulator's units 1 and 2), a lane
    without one, and a lane whose PLC port accepts and never answers; quick PLC timings (the Modbus
    timeout stays at a second: the tests count incidents, and a loaded machine stalls)."""
    return configs.parse(configs.gateway(
        configs.facility("LOT-GATE", configs.lane("GATE-IN", 1, "ENTRY", plc=(plc_port, 1)),
                         configs.lane("GATE-OUT", 2, "EXIT", plc=(plc_port, 2)), configs.lane("GATE-MANUAL", 3, "BOTH"),
                         configs.lane("GATE-HUNG", 4, "ENTRY", plc=(hung_port, 1)),
                         name="Gated Garage", capacity=10,
                         tariff_=configs.tariff("H", "2.00", "20.00", grace_minutes=10)),
        plc={"pulse_ms": pulse_ms, "timeout_ms": 1000, "poll_ms": 20, "heartbeat_s": 0.2, "reconnect_max_s": 0.2}),
        database_url=database_url)


@pytest.fixture(scope="module")
def sim():
    yield from listening(fast_simulator())


@pytest.fixture(scope="module")
def hung():
    """Lane 4's PLC: its port accepts, nothing answers (a PLC whose program hangs)."""
    yield from listening(SilentPeer())


@pytest.fixture(scope="module")
def gated(sim, hung, tmp_path_factory, request):
    url = f"sqlite:///{tmp_path_factory.mktemp('gated') / 'gate.db'}"
    migrated_with_users(url, request)
    gw = start_gateway(gated_config(sim.port, hung.port, url), SettableClock())
    barriers = gw.service.barriers
    until(lambda: all(barriers.by_number("LOT-GATE", n).online for n in (1, 2)))
    yield gw
    stop_gateway(gw)


def incidents(gw, lane_number, after=0):
    """The kinds of the lane's recorded incidents with ids above ``after``, in order."""
    with gw.store.transaction() as db:
        rows = db.query(IncidentRecord).filter(IncidentRecord.facility_id == "LOT-GATE",
                                               IncidentRecord.lane_number == lane_number, IncidentRecord.id > after)
        return [i.kind for i in rows.order_by(IncidentRecord.id)]


def last_incident_id(gw):
    with gw.store.transaction() as db:
        return max([i.id for i in db.query(IncidentRecord)], default=0)


def submit(gw, camera, direction, plate, event_id=None):
    return gw.client("EventService").SubmitEvent(Event={
        "EventID": event_id or unique(), "FacilityID": "LOT-GATE", "CameraID": camera, "Direction": direction,
        "Timestamp": gw.clock(), "PlateText": plate, "Confidence": "0.95"})


def test_open_decision_raises_the_lane_barrier(gated, sim):
    plate, opens = unique_plate(), sim[1].opens
    gated.client("PermitService").IssuePermit(Plate=plate, PermitType="Monthly", ValidFrom=date(2025, 1, 1),
                                              ValidUntil=date(2025, 12, 31), FacilityID="LOT-GATE")
    event_id = unique()
    r = submit(gated, "GATE-IN", "ENTRY", plate, event_id)
    assert (r.Decision, r.Barrier.Result) == ("OPEN", "COMMANDED")
    assert sim[1].opens == opens + 1
    on_reactor(sim[1].wait_for, lambda b: b.up)

    again = submit(gated, "GATE-IN", "ENTRY", plate, event_id)  # the camera retries
    assert again.Barrier.Result == "NOT_DRIVEN"
    assert sim[1].opens == opens + 1

    status = gated.client("LaneService").GetLaneStatus(FacilityID="LOT-GATE", LaneNumber=1)
    assert (status.Controlled, status.PlcOnline, status.LastEventID, status.LastDecision) == \
        (True, True, event_id, "OPEN")
    assert status.LastHeartbeat is not None


def test_hold_does_not_drive_the_barrier(gated, sim):
    opens = sim[2].opens
    r = submit(gated, "GATE-OUT", "EXIT", unique_plate())
    assert (r.Decision, r.Reason, r.Barrier.Result) == ("HOLD", "NO_ENTRY_RECORD", "NOT_DRIVEN")
    assert sim[2].opens == opens


def test_lane_without_plc_says_so(gated):
    r = submit(gated, "GATE-MANUAL", "ENTRY", unique_plate())
    assert (r.Decision, r.Barrier.Result) == ("OPEN", "NOT_CONTROLLED")


def test_manual_open_is_audited_and_needs_a_reason(gated, sim):
    lanes = gated.client("LaneService", user="operator")
    opens = sim[2].opens
    action = lanes.OpenBarrier(FacilityID="LOT-GATE", LaneNumber=2, Reason="ticket machine jammed")
    assert action.Result == "COMMANDED" and sim[2].opens == opens + 1
    with gated.store.transaction() as db:
        entry = db.query(AuditRecord).filter_by(action="BarrierOpen").order_by(AuditRecord.id.desc()).first()
        assert (entry.username, entry.subject) == ("operator", "LOT-GATE/lane 2")
        assert entry.detail == "ticket machine jammed -> COMMANDED"
    assert fault_of(lambda: lanes.OpenBarrier(FacilityID="LOT-GATE", LaneNumber=2, Reason="  ")).code.endswith(
        "Client.InvalidInput")
    assert fault_of(lambda: lanes.OpenBarrier(FacilityID="LOT-GATE", LaneNumber=9, Reason="x")).code.endswith(
        "Client.UnknownLane")
    integrator = gated.client("LaneService", user="integrator")
    assert fault_of(lambda: integrator.ListLanes()).code.endswith("Client.Authorization")


def test_close_is_refused_with_a_vehicle_on_the_loop(gated, sim):
    lanes = gated.client("LaneService")
    on_reactor(sim[2].set_loops, True, None)
    until(lambda: gated.service.barriers.by_number("LOT-GATE", 2).inputs.presence)
    try:
        action = lanes.CloseBarrier(FacilityID="LOT-GATE", LaneNumber=2, Reason="clear lane")
        assert (action.Result, action.Detail) == ("REFUSED", "a vehicle is on the loops")
    finally:
        on_reactor(sim[2].set_loops, False, False)


def test_list_lanes(gated):
    lanes = gated.client("LaneService").ListLanes(FacilityID="LOT-GATE")
    assert [(ln.LaneNumber, ln.Controlled) for ln in lanes] == [(1, True), (2, True), (3, False), (4, True)]
    assert lanes[2].Barrier == "UNKNOWN"


def test_a_plc_that_accepts_and_never_answers_is_not_online(gated, hung):
    until(lambda: hung.accepted >= 3)  # the controller keeps trying, with back-off
    lanes = gated.client("LaneService")
    status = lanes.GetLaneStatus(FacilityID="LOT-GATE", LaneNumber=4)
    assert (status.Controlled, status.PlcOnline, status.Barrier) == (True, False, "UNKNOWN")
    assert status.LastHeartbeat is None
    assert incidents(gated, 4) == []  # never online, so never offline either: no flapping
    r = submit(gated, "GATE-HUNG", "ENTRY", unique_plate())
    assert (r.Decision, r.Barrier.Result) == ("OPEN", "OFFLINE")


def test_dead_plc_still_records_the_decision_and_says_so(gated, sim):
    controller = gated.service.barriers.by_number("LOT-GATE", 1)
    mark = last_incident_id(gated)
    on_reactor(sim.stop)
    try:
        until(lambda: not controller.online)
        plate = unique_plate()
        gated.clock.advance(timedelta(minutes=1))
        r = submit(gated, "GATE-IN", "ENTRY", plate)
        assert (r.Decision, r.Barrier.Result, r.Barrier.Detail) == (
            "OPEN", "OFFLINE", "the PLC is not reachable: drive the barrier by hand")
        view = gated.client("EventService").GetSession(Plate=plate, FacilityID="LOT-GATE")
        assert view.Status == "OPEN"
        status = gated.client("LaneService").GetLaneStatus(FacilityID="LOT-GATE", LaneNumber=1)
        assert status.PlcOnline is False and status.Barrier == "UNKNOWN"
        until(lambda: incidents(gated, 1, after=mark))  # written in a thread of the gateway
    finally:
        on_reactor(sim.start)
    until(lambda: controller.online)
    status = gated.client("LaneService").GetLaneStatus(FacilityID="LOT-GATE", LaneNumber=1)
    assert status.PlcOnline is True
    until(lambda: len(incidents(gated, 1, after=mark)) >= 2)
    assert incidents(gated, 1, after=mark) == ["PLC_OFFLINE", "PLC_ONLINE"]  # one outage, one of each


def test_stopping_the_gateway_during_a_pulse_leaves_no_coil_set(hung, tmp_path, request):
    plc = fast_simulator()
    on_reactor(plc.start)
    try:
        url = f"sqlite:///{tmp_path / 'stop.db'}"
        migrated_with_users(url, request)
        gw = start_gateway(gated_config(plc.port, hung.port, url, pulse_ms=60_000), SettableClock())
        until(lambda: gw.service.barriers.by_number("LOT-GATE", 1).online)
        r = submit(gw, "GATE-IN", "ENTRY", unique_plate())
        assert (r.Decision, r.Barrier.Result) == ("OPEN", "COMMANDED")
        assert plc[1].coils["open"] is True  # a minute's pulse, and the gateway stops in the middle of it
        stop_gateway(gw)
        assert plc[1].coils["open"] is False
    finally:
        on_reactor(plc.stop)


def test_the_passage_timeout_is_a_checked_setting():
    parse = configuration.parse
    assert parse({}).plc.passage_timeout == 30
    assert parse({"plc": {"passage_timeout_s": 12}}).plc.passage_timeout == 12
    with pytest.raises(configuration.ConfigError, match="plc: the passage timeout .* must be longer than the rise"):
        parse({"plc": {"passage_timeout_s": 4, "rise_timeout_s": 5}})
