"""Barrier control against the PLC simulator over real Modbus TCP, and the gate logic's timing
against an injected clock. Waiting is on events (the simulator's state), never on sleeps."""

from datetime import datetime, timezone

import pytest
from twisted.internet import defer, reactor, task
from twisted.internet.threads import blockingCallFromThread
from zope.interface import implementer
from zope.interface.verify import verifyObject

from plc.driver import BarrierInputs, ModbusBarrierDriver, PlcUnavailable
from plc.interfaces import IBarrierDriver
from plc.lane import COMMANDED, OFFLINE, REFUSED, LaneController, PlcSettings
from plc.registers import RegisterMap
from plc.simulator import PlcSimulator

FAST = PlcSettings(pulse=0.05, timeout=0.3, poll_interval=0.02, heartbeat_interval=0.05, rise_timeout=2.0,
                   reconnect_min=0.05, reconnect_max=0.2)


def on_reactor(fn, *args, timeout=5):
    """Run ``fn`` on the reactor thread and wait for its (Deferred) result, at most ``timeout`` s."""
    def call():
        return defer.maybeDeferred(fn, *args).addTimeout(timeout, reactor)
    return blockingCallFromThread(reactor, call)


def until(predicate, timeout=5, interval=0.01):
    """Wait (on the reactor, polling with a deadline) until ``predicate()`` holds."""
    def poll():
        d = defer.Deferred()

        def check():
            if predicate():
                loop.stop()
                d.callback(True)
        def give_up(failure):
            if loop.running:
                loop.stop()
            return failure
        loop = task.LoopingCall(check)
        loop.start(interval).addErrback(lambda f: d.called or d.errback(f))  # a predicate that raises fails
        return d.addTimeout(timeout, reactor).addErrback(give_up)
    return blockingCallFromThread(reactor, poll)


class Incidents(list):
    def __call__(self, facility_id, lane_number, kind, event_id, detail):
        self.append(kind)
        waiters, self.waiters = getattr(self, "waiters", []), []
        for wanted, d in waiters:
            (d.callback(kind) if wanted == kind else self.waiters.append((wanted, d)))

    def wait(self, kind):
        """Deferred firing when an incident of ``kind`` is (or was) recorded."""
        if kind in self:
            return defer.succeed(kind)
        d = defer.Deferred()
        self.waiters = getattr(self, "waiters", []) + [(kind, d)]
        return d


def fast_simulator(port=0, lanes=2, heartbeat_timeout=None):
    """Quick arms, quiet: the simulator as the barrier tests use it."""
    return PlcSimulator(lanes, reactor, port=port, rise_time=0.05, fall_time=0.05,
                        heartbeat_timeout=heartbeat_timeout, report=lambda unit, text: None)


@pytest.fixture
def sim():
    s = fast_simulator()
    on_reactor(s.start)
    yield s
    on_reactor(s.stop)


@pytest.fixture
def lane(sim):
    incidents = Incidents()
    driver = ModbusBarrierDriver("127.0.0.1", port=sim.port, unit=1, timeout=FAST.timeout)
    controller = LaneController(driver, clock=reactor, facility_id="LOT-TEST", lane_number=1, settings=FAST,
                                record_incident=incidents)
    controller.incidents = incidents
    on_reactor(controller.start)
    until(lambda: controller.inputs is not None)
    yield controller
    on_reactor(controller.stop)


def test_driver_reads_and_writes_with_plain_function_codes(sim):
    driver = ModbusBarrierDriver("127.0.0.1", port=sim.port, unit=2)
    assert verifyObject(IBarrierDriver, driver)
    on_reactor(driver.connect)
    assert on_reactor(driver.read_inputs) == BarrierInputs(False, True, False, False, False, False)
    on_reactor(driver.write_command, "open", True)
    assert on_reactor(driver.read_commands) == {"open": True, "close": False, "hold_open": False}
    on_reactor(sim[2].wait_for, lambda b: b.up)
    assert on_reactor(driver.read_inputs).position == "UP"
    on_reactor(driver.write_heartbeat, 0x1_0005)
    assert sim[2].heartbeat == 5
    assert sim[1].opens == 0  # unit ids keep lanes apart
    driver.disconnect()
    # read coils, read discrete inputs, write single coil, write single register: nothing else
    assert sim.function_codes <= {1, 2, 3, 5, 6}


def test_driver_fails_fast_when_nobody_listens():
    driver = ModbusBarrierDriver("127.0.0.1", port=1, unit=1, timeout=0.3)
    with pytest.raises(PlcUnavailable):
        on_reactor(driver.connect)
    with pytest.raises(PlcUnavailable):
        on_reactor(driver.read_inputs)


def test_open_pulse_is_read_back_and_reset(lane, sim):
    result, detail = on_reactor(lane.open, "E1")
    assert result == COMMANDED
    assert sim[1].opens == 1
    on_reactor(sim[1].wait_for, lambda b: b.up)
    on_reactor(sim[1].wait_for, lambda b: not b.coils["open"])  # the pulse ends by itself
    until(lambda: lane.status()["position"] == "UP")


def test_a_passing_vehicle_closes_the_cycle(lane, sim):
    on_reactor(lane.open, "E2")
    on_reactor(sim[1].passage)
    on_reactor(sim[1].wait_for, lambda b: b.down)
    assert lane.cycle is None or lane.cycle.close_sent
    assert "TAILGATING" not in lane.incidents


def test_second_vehicle_in_one_cycle_is_tailgating(lane, sim):
    on_reactor(lane.open, "E3")
    on_reactor(sim[1].passage)
    # a second vehicle follows before the arm is down: the PLC's safety chain lifts the arm again
    on_reactor(sim[1].passage)
    assert on_reactor(lane.incidents.wait, "TAILGATING") == "TAILGATING"
    on_reactor(sim[1].wait_for, lambda b: b.down)


def test_never_closes_on_a_vehicle(lane, sim):
    on_reactor(lane.open, "E4")
    on_reactor(sim[1].wait_for, lambda b: b.up)
    on_reactor(sim[1].set_loops, True, True)
    until(lambda: lane.inputs.safety)
    assert on_reactor(lane.close)[0] == REFUSED
    # even a CLOSE written straight to the PLC does not bring the arm down on the vehicle
    on_reactor(lane.driver.write_command, "close", True)
    scans = sim[1]._last_scan
    until(lambda: sim[1]._last_scan > scans + 0.1)  # several scan cycles of the PLC
    assert sim[1].up
    on_reactor(lane.driver.write_command, "close", False)


def test_plc_lost_mid_cycle_then_back(lane, sim):
    on_reactor(lane.open, "E5")
    port = sim.port
    on_reactor(sim.stop)
    assert on_reactor(lane.incidents.wait, "PLC_OFFLINE") == "PLC_OFFLINE"
    result, detail = on_reactor(lane.open, "E6")
    assert result == OFFLINE and "by hand" in detail
    assert lane.status()["online"] is False

    back = fast_simulator(port=port)
    on_reactor(back.start)
    try:
        lane.incidents.remove("PLC_ONLINE")
        on_reactor(lane.incidents.wait, "PLC_ONLINE")
        assert on_reactor(lane.open, "E7")[0] == COMMANDED
        assert back[1].opens == 1
    finally:
        on_reactor(back.stop)


def test_heartbeat_keeps_the_plc_in_remote_mode():
    s = fast_simulator(lanes=1, heartbeat_timeout=0.3)
    on_reactor(s.start)
    incidents = Incidents()
    controller = LaneController(ModbusBarrierDriver("127.0.0.1", port=s.port, unit=1), clock=reactor,
                                facility_id="LOT-TEST", lane_number=1, settings=FAST, record_incident=incidents)
    try:
        on_reactor(controller.start)
        on_reactor(s[1].wait_for, lambda b: b.heartbeat >= 3)
        assert not s[1].local_mode
        on_reactor(controller.stop)
        on_reactor(s[1].wait_for, lambda b: b.local_mode)  # the gateway is gone: the PLC runs alone
        on_reactor(s[1].set_loops, True, None)
        on_reactor(s[1].wait_for, lambda b: b.up)           # local mode lets the vehicle out
    finally:
        on_reactor(s.stop)


# --- gate logic timing with an injected clock and a driver in memory ---------------------

@implementer(IBarrierDriver)
class MemoryDriver:
    """A barrier controller in memory: records commands, answers at once, can be 'unplugged'."""

    registers = RegisterMap()

    def __init__(self):
        self.reachable = True
        self.commands = {"open": False, "close": False, "hold_open": False}
        self.writes = []
        self.connects = 0
        self.inputs = BarrierInputs(False, True, False, False, False, False)

    def _answer(self, value):
        return defer.succeed(value) if self.reachable else defer.fail(PlcUnavailable("unplugged"))

    def connect(self):
        self.connects += 1
        return self._answer(None)

    def disconnect(self):
        pass

    def read_inputs(self):
        return self._answer(self.inputs)

    def read_commands(self):
        return self._answer(dict(self.commands))

    def write_command(self, name, value):
        if self.reachable:
            self.commands[name] = value
            self.writes.append((name, value))
        return self._answer(None)

    def write_heartbeat(self, value):
        return self._answer(None)


def clocked_lane():
    clock, driver, incidents = task.Clock(), MemoryDriver(), Incidents()
    lane = LaneController(driver, clock=clock, facility_id="LOT-TEST", lane_number=1, record_incident=incidents,
                          now=lambda: datetime(2025, 1, 22, tzinfo=timezone.utc))
    lane.start()
    return clock, driver, incidents, lane


def test_memory_driver_is_a_barrier_driver():
    assert verifyObject(IBarrierDriver, MemoryDriver())


def test_open_pulse_lasts_the_configured_time():
    clock, driver, _, lane = clocked_lane()
    assert lane.open("E1").result == (COMMANDED, "open pulse sent")
    assert driver.commands["open"] is True
    clock.advance(0.39)
    assert driver.commands["open"] is True
    clock.advance(0.02)
    assert driver.commands["open"] is False


def test_barrier_that_does_not_rise_is_reported():
    clock, driver, incidents, lane = clocked_lane()
    lane.open("E1")
    clock.pump([0.1] * 51)  # the simulated arm never reaches its up limit
    assert "BARRIER_DID_NOT_RISE" in incidents


def test_reconnect_backs_off_up_to_the_ceiling():
    clock, driver, incidents, lane = clocked_lane()
    driver.reachable = False
    clock.advance(0.1)  # the next scan fails: offline
    assert "PLC_OFFLINE" in incidents and not lane.online
    attempts = []
    for _ in range(8):
        before = driver.connects
        waited = 0.0
        while driver.connects == before:
            clock.advance(0.25)
            waited += 0.25
        attempts.append(waited)
    assert attempts[0] <= 0.5 and attempts[1] <= 1.0 and attempts[2] <= 2.0
    assert max(attempts) <= 30.0 and attempts[-1] == attempts[-2]  # capped
    driver.reachable = True
    clock.advance(30)
    assert lane.online and incidents.count("PLC_ONLINE") == 2


def test_close_waits_for_all_authorized_vehicles():
    clock, driver, incidents, lane = clocked_lane()
    lane.open("E1")
    lane.open("E2")  # a second read while the arm is up: two vehicles may pass
    up = BarrierInputs(True, False, False, False, False, False)
    under = up._replace(safety=True)
    for state in (up, under, up):
        driver.inputs = state
        clock.advance(0.1)
    assert ("close", True) not in driver.writes  # one of two passed
    for state in (under, up):
        driver.inputs = state
        clock.advance(0.1)
    assert ("close", True) in driver.writes
    assert "TAILGATING" not in incidents
