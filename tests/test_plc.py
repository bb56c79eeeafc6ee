"""Barrier control against the PLC simulator over real Modbus TCP, and the gate logic's timing
against an injected clock. Waiting is on events (the simulator's state), never on sleeps."""

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from twisted.internet import defer, protocol, reactor, task, threads
from twisted.internet.threads import blockingCallFromThread
from zope.interface import implementer
from zope.interface.verify import verifyObject

from plc.driver import ModbusBarrierDriver, PlcUnavailable
from plc.interfaces import IBarrierDriver
from plc.lane import COMMANDED, OFFLINE, REFUSED, LaneController, PlcSettings
from plc.registers import BarrierInputs, RegisterMap
from plc.simulator import PlcSimulator

REPO = Path(__file__).resolve().parents[1]
# Quick scans and back-off. The Modbus timeout stays at a second: the tests count incidents
# exactly, and a loaded machine can stall a process for a few hundred milliseconds.
FAST = PlcSettings(pulse=0.05, timeout=1.0, poll_interval=0.02, heartbeat_interval=0.05, rise_timeout=2.0,
                   reconnect_min=0.05, reconnect_max=0.2)


def lapsing():
    """FAST, with authorisations that lapse after 1.5 s."""
    return replace(FAST, rise_timeout=1.0, passage_timeout=1.5)


def on_reactor(fn, *args, timeout=5):
    """Run ``fn`` on the reactor thread and wait for its (Deferred) result, at most ``timeout`` s."""
    def call():
        return defer.maybeDeferred(fn, *args).addTimeout(timeout, reactor)
    return blockingCallFromThread(reactor, call)


def until(predicate, timeout=60, interval=0.01, blocking=False):
    """Wait (on the reactor, polling with a deadline) until ``predicate()`` holds. The deadline only
    bounds a failure: on a loaded machine a relay child or a PLC link can take seconds to come up.
    ``blocking``: the predicate blocks (a database query, a request to a gateway whose PLC is a
    simulator on this reactor), so each check runs in a reactor thread and the reactor stays free."""
    def poll():
        d = defer.Deferred()

        def holds(result):
            if result and not d.called:
                loop.stop()
                d.callback(True)

        def check():
            if blocking:
                return threads.deferToThread(predicate).addCallback(holds)
            holds(predicate())

        def give_up(failure):
            if loop.running:
                loop.stop()
            return failure
        loop = task.LoopingCall(check)
        loop.start(interval).addErrback(lambda f: d.called or d.errback(f))  # a predicate that raises fails
        return d.addTimeout(timeout, reactor).addErrback(give_up)
    return blockingCallFromThread(reactor, poll)


class Incidents(list):
    """The kinds of the incidents a lane recorded, in order; ``records`` has (kind, event id, detail)."""

    def __init__(self):
        super().__init__()
        self.records = []
        self.waiters = []

    def __call__(self, facility_id, lane_number, kind, event_id, detail):
        self.append(kind)
        self.records.append((kind, event_id, detail))
        waiters, self.waiters = self.waiters, []
        for kind_and_count, d in waiters:
            (d.callback(kind) if self.count(kind_and_count[0]) >= kind_and_count[1]
             else self.waiters.append((kind_and_count, d)))

    def wait(self, kind, count=1):
        """Deferred firing when ``count`` incidents of ``kind`` are (or were) recorded."""
        if self.count(kind) >= count:
            return defer.succeed(kind)
        d = defer.Deferred()
        self.waiters.append(((kind, count), d))
        return d

    def of(self, kind):
        return [(event_id, detail) for k, event_id, detail in self.records if k == kind]


def fast_simulator(port=0, lanes=2, heartbeat_timeout=None):
    """Quick arms, quiet: the simulator as the barrier tests use it."""
    return PlcSimulator(lanes, reactor, port=port, rise_time=0.05, fall_time=0.05,
                        heartbeat_timeout=heartbeat_timeout, report=lambda unit, text: None)


class SilentPeer(protocol.Factory):
    """A TCP peer that accepts connections and never answers: a hung PLC whose port still accepts.
    Started and stopped as the simulator is."""

    def __init__(self):
        self.accepted = 0
        self.port = None
        self._listening = None

    def buildProtocol(self, addr):
        self.accepted += 1
        return protocol.Protocol()

    def start(self):
        self._listening = reactor.listenTCP(0, self, interface="127.0.0.1")
        self.port = self._listening.getHost().port

    def stop(self):
        return self._listening.stopListening()


def listening(peer):
    """A fixture's body: ``peer`` (a simulator, a silent peer) listening while the fixture lasts."""
    on_reactor(peer.start)
    yield peer
    on_reactor(peer.stop)


class CountingDriver(ModbusBarrierDriver):
    """The Modbus driver, counting its connection attempts."""

    connects = 0

    def connect(self):
        self.connects += 1
        return super().connect()


class SimProcess:
    """``parkgate plc-sim`` in a process of its own (one quick barrier, never in local mode), its output
    read line by line by a thread so that the test can wait on a line with a deadline."""

    def __init__(self, stdin=subprocess.DEVNULL):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "plc-sim", "--listen", "127.0.0.1:0", "--lanes", "1",
             "--rise-ms", "50", "--fall-ms", "50", "--heartbeat-timeout-s", "0"],
            cwd=REPO, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = int(self.expect(r"barrier PLC\(s\) on 127\.0\.0\.1:(\d+)").group(1))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, pattern, timeout=10):
        """The next line of output matching ``pattern`` (earlier lines are passed over)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} within {timeout} s") from None
            match = re.search(pattern, line)
            if match:
                return match

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def sim():
    yield from listening(fast_simulator())


def connected_lane(port, settings=FAST, driver_class=ModbusBarrierDriver):
    """A lane controller on unit 1 at ``port``, started and online; its incidents in ``.incidents``."""
    incidents = Incidents()
    driver = driver_class("127.0.0.1", port=port, unit=1, timeout=settings.timeout)
    controller = LaneController(driver, clock=reactor, facility_id="LOT-TEST", lane_number=1, settings=settings,
                                record_incident=incidents)
    controller.incidents = incidents
    on_reactor(controller.start)
    on_reactor(incidents.wait, "PLC_ONLINE")
    return controller


@pytest.fixture
def lane(sim):
    controller = connected_lane(sim.port)
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
    assert sim.function_codes == {1, 2, 5, 6}


REMAPPED = RegisterMap(open_coil=12, close_coil=9, hold_open_coil=10, barrier_up_input=14, barrier_down_input=3,
                       presence_loop_input=7, safety_loop_input=8, fault_input=4, local_mode_input=5,
                       heartbeat_register=6)


def test_a_remapped_register_map_reads_its_own_addresses():
    assert REMAPPED.input_span == (3, 12) and REMAPPED.coil_span == (9, 4)
    bits = [False] * 12
    bits[14 - 3] = bits[7 - 3] = True  # up limit, presence loop
    assert REMAPPED.inputs(bits) == BarrierInputs(up=True, down=False, presence=True, safety=False, fault=False,
                                                  local_mode=False)
    assert REMAPPED.commands([True, False, False, False]) == {"open": False, "close": True, "hold_open": False}


def test_a_remapped_register_map_over_modbus():
    """The gateway's map and the PLC's agree on other addresses than the defaults: the lane works."""
    s = PlcSimulator(1, reactor, port=0, rise_time=0.05, fall_time=0.05, heartbeat_timeout=None,
                     registers=REMAPPED, report=lambda unit, text: None)
    on_reactor(s.start)
    try:
        driver = ModbusBarrierDriver("127.0.0.1", port=s.port, unit=1, registers=REMAPPED, timeout=FAST.timeout)
        on_reactor(driver.connect)
        assert on_reactor(driver.read_inputs).position == "DOWN"
        on_reactor(driver.write_command, "open", True)
        assert s[1].coils["open"] is True
        on_reactor(s[1].wait_for, lambda b: b.up)
        assert on_reactor(driver.read_inputs).position == "UP"
        assert on_reactor(driver.read_commands) == {"open": True, "close": False, "hold_open": False}
        on_reactor(driver.write_heartbeat, 7)
        assert s[1].heartbeat == 7
        driver.disconnect()
    finally:
        on_reactor(s.stop)


def test_driver_fails_fast_when_nobody_listens():
    driver = ModbusBarrierDriver("127.0.0.1", port=1, unit=1, timeout=0.3)
    with pytest.raises(PlcUnavailable):
        on_reactor(driver.connect)
    with pytest.raises(PlcUnavailable):
        on_reactor(driver.read_inputs)


def test_open_pulse_is_read_back_and_reset(lane, sim):
    assert on_reactor(lane.open, "E1") == (COMMANDED, "open pulse sent")
    assert sim[1].opens == 1
    on_reactor(sim[1].wait_for, lambda b: b.up)
    on_reactor(sim[1].wait_for, lambda b: not b.coils["open"])  # the pulse ends by itself
    until(lambda: lane.status()["position"] == "UP")


def test_a_passing_vehicle_closes_the_cycle(lane, sim):
    on_reactor(lane.open, "E2")
    on_reactor(sim[1].passage)
    on_reactor(sim[1].wait_for, lambda b: b.down)  # only a CLOSE brings it down (no local mode here)
    until(lambda: lane.cycle is None)               # the controller saw it down: the opening is over
    assert lane.incidents == ["PLC_ONLINE"]


def test_second_vehicle_in_one_cycle_is_tailgating(lane, sim):
    on_reactor(lane.open, "E3")
    on_reactor(sim[1].passage)
    # a second vehicle follows before the arm is down: the PLC's safety chain lifts the arm again
    on_reactor(sim[1].passage)
    on_reactor(lane.incidents.wait, "TAILGATING")
    on_reactor(sim[1].wait_for, lambda b: b.down)
    until(lambda: lane.cycle is None)
    assert lane.incidents == ["PLC_ONLINE", "TAILGATING"]
    assert lane.incidents.of("TAILGATING")[0][0] == "E3"


def test_never_closes_on_a_vehicle(lane, sim):
    on_reactor(lane.open, "E4")
    on_reactor(sim[1].wait_for, lambda b: b.up)
    on_reactor(sim[1].set_loops, True, True)
    until(lambda: lane.inputs.safety)
    assert on_reactor(lane.close) == (REFUSED, "a vehicle is on the loops")
    # even a CLOSE written straight to the PLC does not bring the arm down on the vehicle
    on_reactor(lane.driver.write_command, "close", True)
    scans = sim[1]._last_scan
    until(lambda: sim[1]._last_scan > scans + 0.1)  # several scan cycles of the PLC
    assert sim[1].up
    on_reactor(lane.driver.write_command, "close", False)


def test_an_authorisation_lapses_over_modbus_and_the_arm_comes_down(sim):
    lane = connected_lane(sim.port, lapsing())
    try:
        on_reactor(lane.open, "E8")
        on_reactor(sim[1].wait_for, lambda b: b.up)
        on_reactor(lane.incidents.wait, "NO_PASSAGE")  # nobody came under the arm
        on_reactor(sim[1].wait_for, lambda b: b.down)
        until(lambda: lane.cycle is None)
        assert lane.incidents == ["PLC_ONLINE", "NO_PASSAGE"]
        assert lane.incidents.of("NO_PASSAGE") == [("E8", "no vehicle came under the arm within 1.5 s")]
    finally:
        on_reactor(lane.stop)


def test_a_vehicle_through_a_lapsed_opening_is_tailgating_over_modbus(sim):
    lane = connected_lane(sim.port, lapsing())
    try:
        on_reactor(lane.open, "E9")
        on_reactor(sim[1].wait_for, lambda b: b.up)
        on_reactor(sim[1].set_loops, True, None)  # a vehicle waits at the arm, beyond the authorisation
        until(lambda: lane.inputs.presence)
        on_reactor(lane.incidents.wait, "NO_PASSAGE")
        assert sim[1].up                          # never lowered onto the waiting vehicle
        on_reactor(sim[1].drive_through)
        on_reactor(lane.incidents.wait, "TAILGATING")
        on_reactor(sim[1].wait_for, lambda b: b.down)  # lowered once the loops are clear
        assert lane.incidents == ["PLC_ONLINE", "NO_PASSAGE", "TAILGATING"]
        assert lane.incidents.of("TAILGATING")[0][0] == "E9"
    finally:
        on_reactor(lane.stop)


def test_plc_restart_mid_cycle_leaves_no_stale_opening(lane, sim):
    on_reactor(lane.open, "E5")
    on_reactor(sim[1].wait_for, lambda b: b.up)
    port = sim.port
    on_reactor(sim.stop)
    on_reactor(lane.incidents.wait, "PLC_OFFLINE")
    assert on_reactor(lane.open, "E6") == (OFFLINE, "the PLC is not reachable: drive the barrier by hand")
    assert lane.status()["online"] is False

    back = fast_simulator(port=port)  # the PLC restarted: its arm is down, its coils are clear
    on_reactor(back.start)
    try:
        on_reactor(lane.incidents.wait, "PLC_ONLINE", 2)
        assert lane.cycle is None
        assert lane.incidents.records[-1][2] == "the arm was down: the opening for E5 ended during the outage"
        assert on_reactor(lane.open, "E7")[0] == COMMANDED
        assert back[1].opens == 1
        on_reactor(back[1].passage)  # one vehicle, one read: the arm comes down behind it
        on_reactor(back[1].wait_for, lambda b: b.down)
        until(lambda: lane.cycle is None)
        assert lane.incidents == ["PLC_ONLINE", "PLC_OFFLINE", "PLC_ONLINE"]
    finally:
        on_reactor(back.stop)


def test_stopping_a_lane_during_a_pulse_leaves_no_coil_set(sim):
    lane = connected_lane(sim.port, replace(FAST, pulse=30.0))
    assert on_reactor(lane.open, "E10")[0] == COMMANDED
    assert sim[1].coils["open"] is True
    on_reactor(lane.stop)
    assert sim[1].coils["open"] is False
    assert lane.status()["online"] is False


def test_heartbeat_keeps_the_plc_in_remote_mode():
    s = fast_simulator(lanes=1, heartbeat_timeout=0.3)
    on_reactor(s.start)
    try:
        controller = connected_lane(s.port)
        on_reactor(s[1].wait_for, lambda b: b.heartbeat >= 3)
        assert not s[1].local_mode
        on_reactor(controller.stop)
        on_reactor(s[1].wait_for, lambda b: b.local_mode)  # the gateway is gone: the PLC runs alone
        on_reactor(s[1].set_loops, True, None)
        on_reactor(s[1].wait_for, lambda b: b.up)           # local mode lets the vehicle out
    finally:
        on_reactor(s.stop)


def test_a_frozen_plc_is_offline_once_and_online_once_it_answers():
    """The simulator's process stopped (SIGSTOP): the kernel still accepts on its port, nothing answers."""
    sim = SimProcess()
    try:
        lane = connected_lane(sim.port, driver_class=CountingDriver)
        try:
            sim.proc.send_signal(signal.SIGSTOP)
            on_reactor(lane.incidents.wait, "PLC_OFFLINE")
            attempts = lane.driver.connects
            until(lambda: lane.driver.connects >= attempts + 3, timeout=15)  # each one connects, then times out
            assert lane.incidents == ["PLC_ONLINE", "PLC_OFFLINE"]
            assert lane.status()["online"] is False
            assert on_reactor(lane.open, "E11")[0] == OFFLINE
            sim.proc.send_signal(signal.SIGCONT)
            on_reactor(lane.incidents.wait, "PLC_ONLINE", 2, timeout=10)
            assert lane.incidents == ["PLC_ONLINE", "PLC_OFFLINE", "PLC_ONLINE"]
            assert lane.status()["online"] is True
        finally:
            on_reactor(lane.stop)
    finally:
        sim.close()


def test_the_simulator_console_takes_piped_commands():
    """``printf 'pass 1\\nstatus\\n' | parkgate plc-sim``: the commands run, and the end of the input does
    not end the simulator."""
    sim = SimProcess(stdin=subprocess.PIPE)
    try:
        sim.proc.stdin.write("pass 1\nstatus\nlaunch 1\n")
        sim.proc.stdin.close()
        sim.expect(r"^plc-sim lane 1: vehicle on the presence loop$")
        sim.expect(r"^lane 1: DOWN presence=True safety=False fault=False local=False$")
        sim.expect(r"^commands: pass N \| arrive N \| leave N \| fault N on\|off \| status$")
        # the vehicle of `pass 1` waits for the arm; a gateway raising it lets the vehicle through
        driver = ModbusBarrierDriver("127.0.0.1", port=sim.port, unit=1)
        on_reactor(driver.connect)
        on_reactor(driver.write_command, "open", True)
        sim.expect(r"^plc-sim lane 1: barrier UP$")
        sim.expect(r"^plc-sim lane 1: safety loop clear$")  # under the arm and away
        driver.disconnect()
        assert sim.proc.poll() is None
    finally:
        sim.close()


# --- gate logic timing with an injected clock and a driver in memory ---------------------

DOWN = BarrierInputs(up=False, down=True, presence=False, safety=False, fault=False, local_mode=False)
UP = DOWN._replace(up=True, down=False)
AT_ARM = UP._replace(presence=True)   # a vehicle waits at the raised arm
UNDER = UP._replace(safety=True)      # a vehicle under the arm


@implementer(IBarrierDriver)
class MemoryDriver:
    """A barrier controller in memory: records commands, answers at once, can be 'unplugged' (nothing
    connects), 'hung' (the port accepts, nothing answers) or 'stalled' (calls never end)."""

    registers = RegisterMap()

    def __init__(self):
        self.reachable = True
        self.hung = False
        self.stalled = False
        self.unanswered = []  # the Deferreds of the calls made while stalled
        self.connected = False
        self.commands = {"open": False, "close": False, "hold_open": False}
        self.writes = []
        self.connects = 0
        self.inputs = DOWN

    def _answer(self, value):
        if self.stalled:
            self.unanswered.append(defer.Deferred())
            return self.unanswered[-1]
        if not self.reachable or self.hung:
            return defer.fail(PlcUnavailable("timed out" if self.hung else "unplugged"))
        return defer.succeed(value)

    def connect(self):
        self.connects += 1
        if not self.reachable:
            return defer.fail(PlcUnavailable("connection refused"))
        self.connected = True
        return defer.succeed(None)

    def disconnect(self):
        self.connected = False

    def read_inputs(self):
        return self._answer(self.inputs)

    def read_commands(self):
        return self._answer(dict(self.commands))

    def write_command(self, name, value):
        if self.reachable and not (self.hung or self.stalled):
            self.commands[name] = value
            self.writes.append((name, value))
        return self._answer(None)

    def write_heartbeat(self, value):
        return self._answer(None)


def clocked_lane(driver=None):
    clock, driver, incidents = task.Clock(), driver or MemoryDriver(), Incidents()
    lane = LaneController(driver, clock=clock, facility_id="LOT-TEST", lane_number=1,
                          record_incident=incidents, now=lambda: datetime(2025, 1, 22, tzinfo=UTC))
    lane.start()
    return clock, driver, incidents, lane


def scan(clock, driver, *states):
    """The PLC shows each of ``states`` for one scan of the lane (0.1 s)."""
    for state in states:
        driver.inputs = state
        clock.advance(0.1)


def closes(driver):
    return driver.writes.count(("close", True))


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
    clock, _, incidents, lane = clocked_lane()
    lane.open("E1")
    clock.pump([0.1] * 49)  # the arm never reaches its up limit
    assert incidents == ["PLC_ONLINE"]
    clock.pump([0.1] * 2)   # 5 s after the command
    assert incidents == ["PLC_ONLINE", "BARRIER_DID_NOT_RISE"]
    assert incidents.of("BARRIER_DID_NOT_RISE") == [("E1", "no up limit within 5 s")]


@pytest.mark.parametrize("outage", ["reachable", "hung"])
def test_reconnect_backs_off_up_to_the_ceiling(outage):
    """Unplugged (nothing connects) or hung (the port accepts, no read answers): the same back-off, one
    OFFLINE incident, never online in between, one ONLINE when it answers again."""
    clock, driver, incidents, lane = clocked_lane()
    setattr(driver, outage, outage == "hung")
    clock.advance(0.1)  # the next scan fails: offline
    assert incidents == ["PLC_ONLINE", "PLC_OFFLINE"] and not lane.online
    attempts = []
    for _ in range(8):
        before = driver.connects
        waited = 0.0
        while driver.connects == before:
            clock.advance(0.25)
            waited += 0.25
            assert not lane.online
        attempts.append(waited)
    assert attempts == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert incidents == ["PLC_ONLINE", "PLC_OFFLINE"]
    setattr(driver, outage, outage != "hung")
    clock.advance(30)
    assert lane.online and incidents == ["PLC_ONLINE", "PLC_OFFLINE", "PLC_ONLINE"]


def test_a_call_of_an_earlier_connection_failing_late_is_no_news():
    clock, driver, incidents, lane = clocked_lane()
    driver.stalled = True
    clock.advance(0.1)               # a scan goes out and hangs on the old connection
    driver.stalled, driver.reachable = False, False
    clock.advance(2)                 # the heartbeat fails: offline
    driver.reachable = True
    clock.advance(1)                 # reconnected
    assert lane.online and incidents == ["PLC_ONLINE", "PLC_OFFLINE", "PLC_ONLINE"]
    driver.unanswered[0].errback(PlcUnavailable("read_discrete_inputs failed: TimeoutError"))
    assert lane.online and incidents == ["PLC_ONLINE", "PLC_OFFLINE", "PLC_ONLINE"]
    clock.advance(1)
    assert lane.online and driver.connects == 2


def test_online_only_once_a_read_answers():
    driver = MemoryDriver()
    driver.hung = True  # the TCP connection is accepted, the PLC does not answer
    clock, driver, incidents, lane = clocked_lane(driver)
    clock.pump([0.5] * 20)
    assert driver.connects > 3 and not lane.online and incidents == []
    assert lane.status()["online"] is False and lane.status()["position"] == "UNKNOWN"
    assert lane.open("E1").result == (OFFLINE, "the PLC is not reachable: drive the barrier by hand")


def test_close_waits_for_all_authorized_vehicles():
    clock, driver, incidents, lane = clocked_lane()
    lane.open("E1")
    lane.open("E2")  # a second read while the arm is up: two vehicles may pass
    scan(clock, driver, UP, UNDER, UP)
    assert closes(driver) == 0  # one of two passed
    scan(clock, driver, UNDER, UP)
    assert closes(driver) == 1
    assert incidents == ["PLC_ONLINE"]


def test_an_authorisation_lapses_and_the_arm_closes():
    clock, driver, incidents, lane = clocked_lane()
    lane.open("E1")
    scan(clock, driver, UP)          # t = 0.1 s
    clock.advance(29.8)              # nobody comes
    assert closes(driver) == 0 and incidents == ["PLC_ONLINE"]
    clock.advance(0.2)               # 30 s after the read
    assert incidents.of("NO_PASSAGE") == [("E1", "no vehicle came under the arm within 30 s")]
    assert closes(driver) == 1
    scan(clock, driver, DOWN)
    assert lane.cycle is None
    # the next vehicle needs a read of its own; with it, it passes as it should
    lane.open("E2")
    scan(clock, driver, UP, UNDER, UP)
    assert closes(driver) == 2
    assert incidents == ["PLC_ONLINE", "NO_PASSAGE"]


def test_a_vehicle_through_a_lapsed_opening_is_tailgating():
    clock, driver, incidents, lane = clocked_lane()
    lane.open("E1")
    scan(clock, driver, UP, AT_ARM)  # the authorised car turns away; another one waits at the arm
    clock.advance(30)
    assert incidents == ["PLC_ONLINE", "NO_PASSAGE"]
    assert closes(driver) == 0       # never lowered onto a vehicle
    scan(clock, driver, UNDER, UP)   # it rides on the lapsed opening
    assert incidents == ["PLC_ONLINE", "NO_PASSAGE", "TAILGATING"]
    assert incidents.of("TAILGATING") == [("E1", ("a vehicle passed with no authorisation in force "
                                                  "(1 read for this opening, 1 lapsed)"))]
    assert closes(driver) == 1


def test_the_authorised_vehicle_under_the_arm_when_time_runs_out_has_its_passage():
    clock, driver, incidents, lane = clocked_lane()
    lane.open("E1")
    scan(clock, driver, UP)
    clock.advance(25)
    scan(clock, driver, UNDER)       # it came under the arm in time ...
    clock.advance(10)                # ... and is still there when the authorisation would lapse
    scan(clock, driver, UP)
    assert incidents == ["PLC_ONLINE"]
    assert closes(driver) == 1


def test_a_vehicle_already_over_the_safety_loop_when_its_read_comes_takes_it():
    clock, driver, incidents, lane = clocked_lane()
    scan(clock, driver, DOWN._replace(presence=True, safety=True))  # nose over the loop, at the closed arm
    lane.open("E1")
    scan(clock, driver, UNDER, UP)
    assert incidents == ["PLC_ONLINE"]
    assert closes(driver) == 1
    clock.advance(60)
    assert incidents == ["PLC_ONLINE"]  # its read was taken: nothing lapses


def test_each_read_lapses_on_its_own_time():
    clock, driver, incidents, lane = clocked_lane()
    lane.open("E1")                  # t = 0
    scan(clock, driver, UP)
    clock.advance(19.9)
    lane.open("E2")                  # t = 20: a second vehicle is authorised under the same opening
    clock.advance(5)
    scan(clock, driver, UNDER, UP)   # t = 25: one vehicle passes, on the older read
    clock.advance(24.7)              # t = 49.9
    assert incidents == ["PLC_ONLINE"] and closes(driver) == 0
    clock.advance(0.2)               # t = 50.1: the second read lapses
    assert incidents.of("NO_PASSAGE") == [("E2", "no vehicle came under the arm within 30 s")]
    assert closes(driver) == 1


def test_a_plc_restart_ends_the_opening_it_forgot():
    clock, driver, incidents, lane = clocked_lane()
    lane.open("E1")
    scan(clock, driver, UP)
    driver.reachable = False
    clock.advance(0.1)
    assert incidents == ["PLC_ONLINE", "PLC_OFFLINE"]
    driver.inputs, driver.commands = DOWN, dict.fromkeys(driver.commands, False)  # restarted: arm down
    driver.reachable = True
    clock.advance(1)
    assert lane.online and lane.cycle is None
    assert incidents.records[-1] == ("PLC_ONLINE", None,
                                     "the arm was down: the opening for E1 ended during the outage")
    clock.advance(60)                # nothing of E1 lapses later
    assert incidents == ["PLC_ONLINE", "PLC_OFFLINE", "PLC_ONLINE"]
    lane.open("E2")                  # a fresh opening with one read: one vehicle closes it
    scan(clock, driver, UP, UNDER, UP)
    assert closes(driver) == 1
    assert incidents == ["PLC_ONLINE", "PLC_OFFLINE", "PLC_ONLINE"]


def test_a_short_outage_keeps_the_opening():
    clock, driver, incidents, lane = clocked_lane()
    lane.open("E1")
    scan(clock, driver, UP, AT_ARM)
    driver.reachable = False
    clock.advance(0.1)
    driver.reachable = True          # the arm stayed up, the vehicle still waits
    clock.advance(1)
    assert lane.online and lane.cycle is not None
    assert incidents.records[-1] == ("PLC_ONLINE", None, "")
    scan(clock, driver, UNDER, UP)   # it passes on its read
    assert incidents == ["PLC_ONLINE", "PLC_OFFLINE", "PLC_ONLINE"]
    assert closes(driver) == 1


def test_a_vehicle_that_came_under_the_arm_during_a_short_outage_has_its_read():
    clock, driver, incidents, lane = clocked_lane()
    lane.open("E1")
    scan(clock, driver, UP, AT_ARM)
    driver.reachable = False
    scan(clock, driver, UNDER)       # nobody watches the loops
    driver.reachable = True
    clock.advance(1)
    scan(clock, driver, UP)
    assert incidents == ["PLC_ONLINE", "PLC_OFFLINE", "PLC_ONLINE"]  # its read covered it
    assert closes(driver) == 1
    clock.advance(60)
    assert incidents == ["PLC_ONLINE", "PLC_OFFLINE", "PLC_ONLINE"]  # and nothing lapses


def test_a_read_that_outlived_an_outage_lapses_saying_so():
    clock, driver, incidents, lane = clocked_lane()
    lane.open("E1")
    scan(clock, driver, UP, AT_ARM)
    driver.reachable = False
    scan(clock, driver, UNDER, UP)   # the vehicle passes unseen (or turns away: the gateway cannot tell)
    driver.reachable = True
    clock.advance(1)
    assert closes(driver) == 0
    clock.advance(30)
    assert incidents.of("NO_PASSAGE") == [("E1", ("no vehicle came under the arm within 30 s (the PLC was "
                                                  "offline meanwhile: the loops were not watched throughout)"))]
    assert closes(driver) == 1


def test_a_raised_arm_nobody_authorised_comes_down_once_clear():
    driver = MemoryDriver()
    driver.inputs = AT_ARM           # found so at start (the gateway restarted, say)
    clock, driver, incidents, _ = clocked_lane(driver)
    assert incidents.records == [("PLC_ONLINE", None, ("the arm was raised with no authorisation: "
                                                       "it comes down once the loops are clear"))]
    clock.advance(1)
    assert closes(driver) == 0
    scan(clock, driver, UNDER, UP)
    assert incidents == ["PLC_ONLINE", "TAILGATING"]
    assert closes(driver) == 1


def test_a_pulse_cut_short_by_an_outage_is_ended_on_reconnect():
    clock, driver, _, lane = clocked_lane()
    lane.open("E1")
    driver.reachable = False         # the PLC keeps the coil set while the gateway cannot reach it
    clock.advance(1)
    assert driver.commands["open"] is True
    driver.reachable = True
    clock.advance(1)
    assert lane.online and driver.commands["open"] is False


def test_stopping_during_a_pulse_resets_its_coil():
    clock, driver, _, lane = clocked_lane()
    lane.open("E1")
    assert driver.commands["open"] is True
    stopped = lane.stop()
    assert stopped.called and driver.commands["open"] is False
    assert driver.writes[-1] == ("open", False) and not driver.connected
    assert clock.getDelayedCalls() == []  # no pulse end, rise check or lapse left behind
    assert not lane.online and lane.cycle is None


def test_stopping_waits_at_most_one_modbus_timeout_per_coil():
    clock, driver, _, lane = clocked_lane()
    lane.open("E1")
    driver.stalled = True            # even a driver that never answers does not hold the shutdown
    stopped = lane.stop()
    clock.advance(0.49)
    assert not stopped.called
    clock.advance(0.02)
    assert stopped.called and not driver.connected


def test_a_hold_outlives_the_controller_and_is_read_back():
    clock, driver, incidents, lane = clocked_lane()
    assert lane.hold_open(True).result == (COMMANDED, "held open")
    lane.stop()
    assert driver.commands["hold_open"] is True  # an operator's hold is not the controller's to drop
    driver.inputs = UP
    clock, driver, incidents, again = clocked_lane(driver)
    assert again.held and again.status()["held"] is True
    clock.advance(5)
    assert closes(driver) == 0 and incidents == ["PLC_ONLINE"]


def test_the_passage_timeout_outlasts_the_rise():
    with pytest.raises(ValueError, match="must be longer than the rise timeout"):
        PlcSettings(rise_timeout=5, passage_timeout=5)


class SlowReadDriver(MemoryDriver):
    """Reads of the command coils answer only when the test says (a PLC slow to answer)."""

    def __init__(self):
        super().__init__()
        self.slow, self.reads = False, []

    def read_commands(self):
        if not self.slow:
            return super().read_commands()
        self.reads.append(defer.Deferred())
        return self.reads[-1]


def test_a_second_pulse_is_not_cut_by_the_first_ones_end_while_it_is_read_back():
    """Two cars 0.3 s apart at one lane: the first pulse's end (0.4 s) came while the second's
    read-back was under way, lowered the coil and the second command was reported FAILED."""
    clock, driver, _, lane = clocked_lane(SlowReadDriver())
    assert lane.open("E1").result == (COMMANDED, "open pulse sent")
    clock.advance(0.3)
    driver.slow = True
    second = lane.open("E2")
    clock.advance(0.2)                       # past the first pulse's end
    assert driver.commands["open"] is True   # not lowered under the second pulse
    driver.reads.pop().callback(dict(driver.commands))
    assert second.result == (COMMANDED, "open pulse sent")
    driver.slow = False
    clock.advance(0.39)
    assert driver.commands["open"] is True   # a whole pulse from the second's confirmation
    clock.advance(0.02)
    assert driver.commands["open"] is False
