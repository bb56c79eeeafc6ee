"""One lane's gate logic on top of an :class:`~plc.interfaces.IBarrierDriver`.

A decision to OPEN becomes an open pulse; the vehicle's passage over the loops closes the
cycle; a second vehicle under the same open arm is tailgating. A heartbeat keeps the PLC in
remote mode. When the PLC stops answering the lane goes OFFLINE, commands answer at once
that the barrier could not be driven, and the controller reconnects with back-off.

Time comes from the injected ``clock`` (an ``IReactorTime``): tests use
``twisted.internet.task.Clock`` and a fake driver, or the real reactor and the simulator.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from twisted.internet import defer, task
from twisted.internet.interfaces import IReactorTime

from .driver import PlcUnavailable
from .interfaces import IBarrierDriver

log = logging.getLogger("parkgate.plc")

# Results of a barrier command, as the SOAP responses report them.
COMMANDED = "COMMANDED"        # the PLC took the command and reads it back
OFFLINE = "OFFLINE"            # the PLC is unreachable: the operator must act
FAULT = "FAULT"                # the controller reports a fault
LOCAL_MODE = "LOCAL_MODE"      # the PLC runs on its own and ignores the gateway
REFUSED = "REFUSED"            # not safe now (a vehicle on the loops)
FAILED = "FAILED"              # the command was not confirmed

# record_incident(facility_id, lane_number, kind, event_id, detail); may return a Deferred
RecordIncident = Callable[[str, int, str, "str | None", str], object]


@dataclass(frozen=True, kw_only=True)
class PlcSettings:
    pulse: float = 0.4             # seconds the OPEN/CLOSE coil stays set
    timeout: float = 0.5           # per Modbus call
    poll_interval: float = 0.1     # loop and limit-switch scan
    heartbeat_interval: float = 2.0
    rise_timeout: float = 5.0      # the arm must reach its up limit within this
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0


@dataclass
class _Cycle:
    """One opening of the arm: how many reads paid for it, how many vehicles went through."""
    event_id: str
    authorized: int = 1
    passages: int = 0
    risen: bool = False
    close_sent: bool = False


@dataclass
class LaneEventSeen:
    event_id: str
    decision: str
    at: datetime


class LaneController:
    """The gate logic of one lane, driving its barrier through ``driver`` on ``clock``."""

    def __init__(self, driver: IBarrierDriver, *, clock: IReactorTime, facility_id: str, lane_number: int,
                 settings: PlcSettings = PlcSettings(), record_incident: RecordIncident | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        """``now``: the aware UTC time for reports (heartbeat, last event); time itself is ``clock``'s."""
        self.driver = driver
        self.clock = clock
        self.facility_id, self.lane_number = facility_id, lane_number
        self.settings = settings
        self.record_incident = record_incident
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.online = False
        self.inputs = None
        self.held = False
        self.last_heartbeat = None
        self.last_event = None
        self.cycle = None
        self._running = False
        self._backoff = self.settings.reconnect_min
        self._heartbeat_value = 0
        self._poller = self._heartbeat = self._reconnect_call = None
        self._resets = {}  # coil -> the pending end of its pulse

    def __repr__(self):
        return f"<LaneController {self.facility_id} lane {self.lane_number}>"

    # --- life cycle ---------------------------------------------------------------

    def start(self):
        self._running = True
        return self._connect()

    def stop(self):
        self._running = False
        for loop in (self._poller, self._heartbeat):
            if loop is not None and loop.running:
                loop.stop()
        if self._reconnect_call is not None and self._reconnect_call.active():
            self._reconnect_call.cancel()
        self.driver.disconnect()
        self.online = False

    def _connect(self):
        self._reconnect_call = None
        d = self.driver.connect()
        d.addCallbacks(self._connected, self._connect_failed)
        return d

    def _connected(self, _):
        if not self._running:
            self.driver.disconnect()
            return
        self.online = True
        self._backoff = self.settings.reconnect_min
        log.info("%r: PLC online", self)
        self._incident("PLC_ONLINE", None, "")
        self._poller = task.LoopingCall(self._poll)
        self._poller.clock = self.clock
        self._poller.start(self.settings.poll_interval, now=True).addErrback(self._loop_died)
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.clock = self.clock
        self._heartbeat.start(self.settings.heartbeat_interval, now=True).addErrback(self._loop_died)

    def _connect_failed(self, failure):
        failure.trap(PlcUnavailable)
        self._schedule_reconnect()

    def _schedule_reconnect(self):
        if not self._running or self._reconnect_call is not None:
            return
        delay, self._backoff = self._backoff, min(self._backoff * 2, self.settings.reconnect_max)
        self._reconnect_call = self.clock.callLater(delay, self._connect)

    def _lost(self, failure):
        """Any failed Modbus call: the lane is OFFLINE until a reconnect succeeds."""
        failure.trap(PlcUnavailable)
        if self.online:
            self.online = False
            log.warning("%r: PLC offline (%s)", self, failure.value)
            self._incident("PLC_OFFLINE", self.cycle.event_id if self.cycle else None, str(failure.value))
            for loop in (self._poller, self._heartbeat):
                if loop is not None and loop.running:
                    loop.stop()
            self.driver.disconnect()
            self._schedule_reconnect()
        return failure

    def _loop_died(self, failure):
        log.error("%r: scan loop stopped: %s", self, failure.getErrorMessage())

    # --- commands -----------------------------------------------------------------

    def seen(self, event_id, decision):
        """Remember the lane's last event (whatever its decision) for GetLaneStatus."""
        self.last_event = LaneEventSeen(event_id, decision, self.now())

    def open(self, event_id):
        """Raise the arm for one vehicle. Deferred[(result, detail)], never failing."""
        refusal = self._refusal()
        if refusal:
            return defer.succeed(refusal)
        if self.cycle is not None and not self.cycle.close_sent:
            self.cycle.authorized += 1  # the arm is already up for someone: one more may pass
        else:
            self.cycle = _Cycle(event_id)
            self.clock.callLater(self.settings.rise_timeout, self._check_risen, self.cycle)
        return self._pulse("open", event_id)

    def hold_open(self, value):
        """Manual operation: keep the arm up (True) or let the gate logic have it again (False)."""
        refusal = self._refusal()
        if refusal:
            return defer.succeed(refusal)
        self.held = bool(value)
        d = self.driver.write_command("hold_open", self.held)
        d.addCallback(lambda _: (COMMANDED, "held open" if self.held else "released"))
        return d.addErrback(self._command_failed)

    def close(self):
        """Lower the arm, but never onto a vehicle (the PLC's safety chain stays the last word)."""
        refusal = self._refusal()
        if refusal:
            return defer.succeed(refusal)
        if self.inputs is None or not self.inputs.loops_clear:
            return defer.succeed((REFUSED, "a vehicle is on the loops"))
        return self._pulse("close", None)

    def _refusal(self):
        if not self.online:
            return OFFLINE, "the PLC is not reachable: drive the barrier by hand"
        if self.inputs is not None and self.inputs.fault:
            return FAULT, "the barrier controller reports a fault"
        if self.inputs is not None and self.inputs.local_mode:
            return LOCAL_MODE, "the PLC is in local mode"
        return None

    def _pulse(self, name, event_id):
        d = self.driver.write_command(name, True)
        d.addCallback(lambda _: self.driver.read_commands())

        def confirmed(commands):
            # A new pulse on a coil still set from the last one extends it: the old end is dropped.
            pending = self._resets.get(name)
            if pending is not None and pending.active():
                pending.cancel()
            self._resets[name] = self.clock.callLater(self.settings.pulse, self._reset, name)
            if not commands.get(name):
                return FAILED, f"the {name} command did not read back"
            return COMMANDED, f"{name} pulse sent"
        d.addCallback(confirmed)
        return d.addErrback(self._command_failed)

    def _reset(self, name):
        if self.online:
            self.driver.write_command(name, False).addErrback(self._lost).addErrback(lambda f: None)

    def _command_failed(self, failure):
        failure.trap(PlcUnavailable)
        self._lost(failure)
        return OFFLINE, f"the PLC did not answer: {failure.value}"

    def _check_risen(self, cycle):
        if cycle is self.cycle and not cycle.risen and self.online:
            self._incident("BARRIER_DID_NOT_RISE", cycle.event_id,
                           f"no up limit within {self.settings.rise_timeout:g} s")

    # --- scans --------------------------------------------------------------------

    def _poll(self):
        d = self.driver.read_inputs()
        d.addCallbacks(self._scanned, self._lost)
        return d.addErrback(lambda f: None)

    def _beat(self):
        self._heartbeat_value = (self._heartbeat_value + 1) & 0xFFFF
        d = self.driver.write_heartbeat(self._heartbeat_value)

        def beaten(_):
            self.last_heartbeat = self.now()
        d.addCallbacks(beaten, self._lost)
        return d.addErrback(lambda f: None)

    def _scanned(self, new):
        old, self.inputs = self.inputs, new
        cycle = self.cycle
        if cycle is None:
            return
        if new.up:
            cycle.risen = True
        if old is not None and old.safety and not new.safety:
            cycle.passages += 1
            if cycle.passages > cycle.authorized:
                log.warning("%r: tailgating (%d vehicles, %d reads)", self, cycle.passages, cycle.authorized)
                self._incident("TAILGATING", cycle.event_id,
                               f"{cycle.passages} vehicles passed on {cycle.authorized} read(s)")
        if new.safety or new.presence:
            cycle.close_sent = False  # someone is under or at the arm: close again once clear
        if cycle.passages >= cycle.authorized and new.loops_clear and not self.held:
            if new.down:
                self.cycle = None
            elif not cycle.close_sent:
                cycle.close_sent = True
                self._pulse("close", None)

    def _incident(self, kind, event_id, detail):
        if self.record_incident is not None:
            result = self.record_incident(self.facility_id, self.lane_number, kind, event_id, detail)
            if isinstance(result, defer.Deferred):
                result.addErrback(lambda f: log.error("%r: could not record %s: %s", self, kind,
                                                      f.getErrorMessage()))

    # --- status -------------------------------------------------------------------

    def status(self):
        i = self.inputs
        return {
            "online": self.online,
            "position": i.position if (i and self.online) else "UNKNOWN",
            "presence": bool(i and i.presence), "safety": bool(i and i.safety),
            "fault": bool(i and i.fault), "local_mode": bool(i and i.local_mode),
            "held": self.held, "last_heartbeat": self.last_heartbeat, "last_event": self.last_event,
        }
