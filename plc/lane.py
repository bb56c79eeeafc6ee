"""One lane's gate logic on top of an :class:`~plc.interfaces.IBarrierDriver`.

A decision to OPEN becomes an open pulse and an authorisation for one vehicle. A vehicle under
the arm (on the safety loop) takes the oldest authorisation in force; one that passes with
none is TAILGATING. An authorisation no vehicle took within ``passage_timeout`` lapses
(NO_PASSAGE), so an arm is never left up for whoever comes next: once no authorisation is in
force and the loops are clear, the arm is lowered.

The lane is online only once the PLC answered a Modbus read: a port that accepts connections
while the PLC behind it hangs is not a PLC. On every (re)connection the controller first
brings the PLC in line with what it knows (no pulse outlives its controller, a hold is read
back, an opening the PLC no longer shows is over). When the PLC stops answering the lane goes
OFFLINE (one incident per outage), commands answer at once that the barrier could not be
driven, and the controller reconnects with back-off. A heartbeat keeps the PLC in remote mode.

With a ``lease`` (:class:`~plc.interfaces.ILaneLease`: several gateway nodes share the lanes), the
controller drives the PLC only while it holds the lane's lease: it claims it at start and renews it
at a third of its length; without it, it stands by (not connected; commands answer OFFLINE) and
claims it again every renewal period, so that when the driving node dies its lease expires and
this node takes the lane over, reconnecting (and reading the PLC back) as after any outage. A
lease it cannot renew in time (the database is unreachable) makes it stand by when it expires.

Time comes from the injected ``clock`` (an ``IReactorTime``): tests use
``twisted.internet.task.Clock`` and a fake driver, or the real reactor and the simulator.
"""

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from twisted.internet import defer, task
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from .driver import PlcUnavailable
from .interfaces import IBarrierDriver, ILaneLease
from .registers import BarrierInputs
from .settings import PlcSettings

log = logging.getLogger("parkgate.plc")

# Results of a barrier command, as the SOAP responses report them.
COMMANDED = "COMMANDED"        # the PLC took the command and reads it back
OFFLINE = "OFFLINE"            # the PLC is unreachable: the operator must act
FAULT = "FAULT"                # the controller reports a fault
LOCAL_MODE = "LOCAL_MODE"      # the PLC runs on its own and ignores the gateway
REFUSED = "REFUSED"            # not safe now (a vehicle on the loops)
FAILED = "FAILED"              # the command was not confirmed

# The command coils the controller pulses. hold_open is a level an operator sets: it stays as
# the operator left it when the controller stops, and is read back when one starts.
PULSES = ("open", "close")

# record_incident(facility_id, lane_number, kind, event_id, detail); may return a Deferred
RecordIncident = Callable[[str, int, str, "str | None", str], object]


class _Authorization:
    """One read that paid for one vehicle, until a vehicle takes it or it lapses."""

    __slots__ = ("event_id", "lapse", "unwatched")

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        self.lapse: IDelayedCall | None = None
        self.unwatched = False  # the PLC was offline for part of its life: a vehicle may have passed unseen


@dataclass
class _Cycle:
    """One opening of the arm: the reads that paid for it, and the vehicles that went through."""
    event_id: str | None  # the read that raised the arm; None for an arm found raised
    waiting: deque[_Authorization] = field(default_factory=deque)  # in force, oldest first
    reads: int = 0
    lapsed: int = 0
    passages: int = 0
    taken: bool = False   # the vehicle under the arm now came on an authorisation
    risen: bool = False
    close_sent: bool = False
    rise_check: IDelayedCall | None = None


@dataclass
class LaneEventSeen:
    event_id: str
    decision: str
    at: datetime


class LaneController:
    """The gate logic of one lane, driving its barrier through ``driver`` on ``clock``."""

    def __init__(self, driver: IBarrierDriver, *, clock: IReactorTime, facility_id: str, lane_number: int,
                 settings: PlcSettings = PlcSettings(), record_incident: RecordIncident | None = None,
                 now: Callable[[], datetime] | None = None, lease: ILaneLease | None = None,
                 lease_period: float = 2.0) -> None:
        """``now``: the aware UTC time for reports (heartbeat, last event); time itself is ``clock``'s.
        ``lease``: drive the PLC only while holding the lane's lease (several nodes), claimed every
        ``lease_period`` seconds (a third of the lease's length, or less)."""
        self.driver = driver
        self.clock = clock
        self.facility_id, self.lane_number = facility_id, lane_number
        self.settings = settings
        self.record_incident = record_incident
        self.now = now or (lambda: datetime.now(UTC))
        self.online = False
        self.inputs: BarrierInputs | None = None
        self.held = False
        self.last_heartbeat: datetime | None = None
        self.last_event: LaneEventSeen | None = None
        self.cycle: _Cycle | None = None
        self._running = False
        self._backoff = self.settings.reconnect_min
        self._heartbeat_value = 0
        self._poller = self._heartbeat = None
        self._reconnect_call: IDelayedCall | None = None
        self._attempt: defer.Deferred | None = None  # a connection attempt under way
        self._connection = 0  # counts connections: a late failure of a call made on an earlier one is no news
        self._resets: dict[str, IDelayedCall] = {}   # coil -> the pending end of its pulse
        self._pulsed: set[str] = set()                # pulse coils set and not yet reset
        self.lease = lease
        self.lease_period = lease_period
        self._held_until: float | None = None        # on ``clock``: the lease held until then
        self._leasing: task.LoopingCall | None = None
        self._driving = False

    def __repr__(self):
        return f"<LaneController {self.facility_id} lane {self.lane_number}>"

    # --- life cycle ---------------------------------------------------------------

    @property
    def driving(self) -> bool:
        """Whether this controller drives the PLC now (always, without a lease)."""
        return self.lease is None or self._driving

    def start(self) -> defer.Deferred:
        self._running = True
        if self.lease is None:
            self._driving = True
            return self._connect()
        self._leasing = task.LoopingCall(self._renew)
        self._leasing.clock = self.clock
        self._leasing.start(self.lease_period, now=True).addErrback(self._loop_died)
        return defer.succeed(None)

    def _renew(self):
        d = self.lease.claim(self.facility_id, self.lane_number)
        d.addCallbacks(self._claimed, self._claim_failed)
        return d.addErrback(lambda f: log.error("%r: lease: %s", self, f.getErrorMessage()))

    def _claimed(self, seconds):
        if not self._running:
            return
        if seconds:
            self._held_until = self.clock.seconds() + seconds
            if not self._driving:
                log.info("%r: this node drives the lane now", self)
                self._driving = True
                self._backoff = self.settings.reconnect_min
                self._connect()
        elif self._driving:
            log.warning("%r: another node holds the lane's lease: standing by", self)
            self._stand_by()

    def _claim_failed(self, failure):
        """The lease could not be renewed (database): drive on until it expires, then stand by."""
        log.warning("%r: lease not renewed: %s", self, failure.getErrorMessage())
        if self._driving and (self._held_until is None or self.clock.seconds() >= self._held_until):
            self._stand_by()

    def _stand_by(self):
        """Stop driving without touching the PLC: the node that holds the lease now drives it."""
        self._driving = False
        self._stand_down()
        self.driver.disconnect()

    def stop(self) -> defer.Deferred:
        """Stop driving the lane. Deferred: fires once the pulse coils this controller set are reset
        (within one Modbus timeout each, answered or not) and the connection is closed."""
        self._running = False
        if self._leasing is not None and self._leasing.running:
            self._leasing.stop()
        driving, self._driving = self._driving, False
        online = self.online
        pulsed = self._stand_down()
        coils = pulsed if online else []   # offline: nothing to reset them through
        resets = defer.DeferredList([self._write_reset(name) for name in coils], consumeErrors=True)
        if coils:
            resets.addTimeout(self.settings.timeout * len(coils), self.clock)
            resets.addErrback(lambda f: log.warning("%r: pulse coils not confirmed reset on stop", self))
        resets.addBoth(lambda _: self.driver.disconnect())
        if self.lease is not None and driving:
            resets.addBoth(lambda _: self.lease.release(self.facility_id, self.lane_number))
            resets.addErrback(lambda f: log.warning("%r: lease not given up (it expires): %s", self,
                                                    f.getErrorMessage()))
        return resets

    def _write_reset(self, name):
        d = self.driver.write_command(name, False)
        return d.addErrback(lambda f: log.warning("%r: could not reset the %s coil: %s", self, name,
                                                  f.getErrorMessage()))

    def _stand_down(self) -> list[str]:
        """Stop every loop, timer and attempt of this controller and go offline, as a stop and a lease
        given up both do: the pulse coils that were left set (to be reset by whoever can)."""
        self._stop_loops()
        if self._reconnect_call is not None and self._reconnect_call.active():
            self._reconnect_call.cancel()
        self._reconnect_call = None
        if self._attempt is not None:
            self._attempt.cancel()
        self._end_cycle()
        for pending in self._resets.values():
            if pending.active():
                pending.cancel()
        self._resets.clear()
        pulsed = sorted(self._pulsed)
        self._pulsed.clear()
        self.online = False
        return pulsed

    def _stop_loops(self):
        for loop in (self._poller, self._heartbeat):
            if loop is not None and loop.running:
                loop.stop()

    def _connect(self):
        self._reconnect_call = None
        self._attempt = d = self._synchronise()
        d.addCallbacks(self._connected, self._connect_failed)
        return d

    @defer.inlineCallbacks
    def _synchronise(self):
        """Connect, and make sure a Modbus read answers: a TCP connection alone is not a PLC. Pulse
        coils still set (a pulse cut short by an outage, a controller that died) are reset."""
        yield self.driver.connect()
        inputs = yield self.driver.read_inputs()
        commands = yield self.driver.read_commands()
        for name in PULSES:
            if commands[name]:
                yield self.driver.write_command(name, False)
        return inputs, commands["hold_open"]

    def _connected(self, synchronised):
        self._attempt = None  # (stop() cancels an attempt under way: this runs only while started)
        inputs, self.held = synchronised
        self.online = True
        self._connection += 1
        self._pulsed.clear()
        self._backoff = self.settings.reconnect_min
        detail = self._reconcile(inputs)
        log.info("%r: PLC online", self)
        self._incident("PLC_ONLINE", None, detail)
        self._scanned(inputs)  # what changed while nobody watched, seen as one scan
        self._poller = task.LoopingCall(self._poll)
        self._poller.clock = self.clock
        self._poller.start(self.settings.poll_interval, now=True).addErrback(self._loop_died)
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.clock = self.clock
        self._heartbeat.start(self.settings.heartbeat_interval, now=True).addErrback(self._loop_died)

    def _reconcile(self, inputs):
        """The opening the controller remembers, against the arm the PLC shows after (re)connecting:
        a restarted PLC's arm is down, and its opening is over; a raised arm that nothing authorised
        (the gateway restarted, say) comes down once the loops are clear."""
        cycle = self.cycle
        if cycle is not None and inputs.down:
            self._end_cycle()  # the PLC restarted, or the arm came down while nobody watched
            return f"the arm was down: the opening for {cycle.event_id} ended during the outage"
        if cycle is None and not inputs.down and not self.held and not inputs.local_mode:
            self.cycle = _Cycle(None)
            return "the arm was raised with no authorisation: it comes down once the loops are clear"
        return ""

    def _connect_failed(self, failure):
        failure.trap(PlcUnavailable, defer.CancelledError)
        self._attempt = None
        self.driver.disconnect()
        self._schedule_reconnect()

    def _schedule_reconnect(self):
        if not self._running or not self.driving or self._reconnect_call is not None:
            return
        delay, self._backoff = self._backoff, min(self._backoff * 2, self.settings.reconnect_max)
        self._reconnect_call = self.clock.callLater(delay, self._connect)

    def _lost(self, failure, connection):
        """A Modbus call made on ``connection`` failed: if that is the current connection, the lane is
        OFFLINE until a reconnect succeeds."""
        failure.trap(PlcUnavailable)
        if self.online and connection == self._connection:
            self.online = False
            for authorization in self.cycle.waiting if self.cycle else ():
                authorization.unwatched = True
            log.warning("%r: PLC offline (%s)", self, failure.value)
            self._incident("PLC_OFFLINE", self.cycle.event_id if self.cycle else None, str(failure.value))
            self._stop_loops()
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
        cycle = self.cycle
        if cycle is None or cycle.close_sent:
            self._end_cycle()
            self.cycle = cycle = _Cycle(event_id)
            cycle.rise_check = self.clock.callLater(self.settings.rise_timeout, self._check_risen, cycle)
        # under an arm already up for someone, one more vehicle may pass
        authorization = _Authorization(event_id)
        authorization.lapse = self.clock.callLater(self.settings.passage_timeout, self._lapse, cycle,
                                                   authorization)
        cycle.waiting.append(authorization)
        cycle.reads += 1
        if self.inputs is not None:
            self._take(cycle, self.inputs)
        return self._pulse("open")

    def hold_open(self, value):
        """Manual operation: keep the arm up (True) or let the gate logic have it again (False)."""
        refusal = self._refusal()
        if refusal:
            return defer.succeed(refusal)
        self.held = bool(value)
        d = self.driver.write_command("hold_open", self.held)
        d.addCallback(lambda _: (COMMANDED, "held open" if self.held else "released"))
        return d.addErrback(self._command_failed, self._connection)

    def close(self):
        """Lower the arm, but never onto a vehicle (the PLC's safety chain stays the last word)."""
        refusal = self._refusal()
        if refusal:
            return defer.succeed(refusal)
        if self.inputs is None or not self.inputs.loops_clear:
            return defer.succeed((REFUSED, "a vehicle is on the loops"))
        return self._pulse("close")

    def _refusal(self):
        if not self.driving:
            return OFFLINE, "another gateway node drives this lane"
        if not self.online:
            return OFFLINE, "the PLC is not reachable: drive the barrier by hand"
        if self.inputs is not None and self.inputs.fault:
            return FAULT, "the barrier controller reports a fault"
        if self.inputs is not None and self.inputs.local_mode:
            return LOCAL_MODE, "the PLC is in local mode"
        return None

    def _pulse(self, name):
        self._pulsed.add(name)
        # A new pulse on a coil still set from the last one extends it. The old end is dropped
        # before the coil is written, or it could lower the coil between this write and its read-back.
        self._end_pulse_later(name)
        d = self.driver.write_command(name, True)
        d.addCallback(lambda _: self.driver.read_commands())

        def ended(result):   # confirmed or not, the pulse ends one pulse width from now
            self._end_pulse_later(name, self.settings.pulse if self._running else None)  # else stop() reset it
            return result

        def confirmed(commands):
            if not commands.get(name):
                return FAILED, f"the {name} command did not read back"
            return COMMANDED, f"{name} pulse sent"
        d.addBoth(ended)
        d.addCallback(confirmed)
        return d.addErrback(self._command_failed, self._connection)

    def _end_pulse_later(self, name, after=None):
        """Drop the pending end of ``name``'s pulse, and end it ``after`` seconds from now (None: not)."""
        pending = self._resets.pop(name, None)
        if pending is not None and pending.active():
            pending.cancel()
        if after is not None:
            self._resets[name] = self.clock.callLater(after, self._reset, name)

    def _reset(self, name):
        del self._resets[name]
        if self.online:  # else the next connection resets it
            self._pulsed.discard(name)
            d = self.driver.write_command(name, False)
            d.addErrback(self._lost, self._connection).addErrback(lambda f: None)

    def _command_failed(self, failure, connection):
        failure.trap(PlcUnavailable)
        self._lost(failure, connection)
        return OFFLINE, f"the PLC did not answer: {failure.value}"

    def _check_risen(self, cycle):
        cycle.rise_check = None
        if not cycle.risen and self.online:
            self._incident("BARRIER_DID_NOT_RISE", cycle.event_id,
                           f"no up limit within {self.settings.rise_timeout:g} s")

    def _lapse(self, cycle, authorization):
        """No vehicle took ``authorization`` in time: it is withdrawn, and the arm may come down."""
        cycle.waiting.remove(authorization)
        cycle.lapsed += 1
        unwatched = " (the PLC was offline meanwhile: the loops were not watched throughout)"
        self._incident("NO_PASSAGE", authorization.event_id,
                       f"no vehicle came under the arm within {self.settings.passage_timeout:g} s"
                       f"{unwatched if authorization.unwatched else ''}")
        if self.online:
            self._settle(self.inputs)

    def _end_cycle(self):
        cycle, self.cycle = self.cycle, None
        if cycle is None:
            return
        for call in [cycle.rise_check, *(a.lapse for a in cycle.waiting)]:
            if call is not None and call.active():
                call.cancel()
        cycle.waiting.clear()

    # --- scans --------------------------------------------------------------------

    def _poll(self):
        d = self.driver.read_inputs()
        d.addCallbacks(self._scanned, self._lost, errbackArgs=(self._connection,))
        return d.addErrback(lambda f: None)

    def _beat(self):
        self._heartbeat_value = (self._heartbeat_value + 1) & 0xFFFF
        d = self.driver.write_heartbeat(self._heartbeat_value)

        def beaten(_):
            self.last_heartbeat = self.now()
        d.addCallbacks(beaten, self._lost, errbackArgs=(self._connection,))
        return d.addErrback(lambda f: None)

    def _scanned(self, new):
        old, self.inputs = self.inputs, new
        cycle = self.cycle
        if cycle is None:
            return
        if new.up:
            cycle.risen = True
        if old is not None and old.safety and not new.safety:  # a vehicle has passed under the arm
            cycle.passages += 1
            if not cycle.taken and not self.held:
                reads = f"{cycle.reads} read{'s' * (cycle.reads != 1)}"
                log.warning("%r: tailgating (%d vehicles, %s)", self, cycle.passages, reads)
                self._incident("TAILGATING", cycle.event_id, f"a vehicle passed with no authorisation in force "
                                                             f"({reads} for this opening, {cycle.lapsed} lapsed)")
            cycle.taken = False
        self._take(cycle, new)
        if new.safety or new.presence:
            cycle.close_sent = False  # someone is under or at the arm: close again once clear
        self._settle(new)

    def _take(self, cycle, inputs):
        """A vehicle under the arm holds the oldest authorisation in force: it came for it (or got one
        while it waited with its nose over the loop)."""
        if inputs.safety and not cycle.taken and cycle.waiting:
            cycle.waiting.popleft().lapse.cancel()
            cycle.taken = True

    def _settle(self, inputs):
        """With no authorisation in force and the loops clear, the arm comes down; down, the opening is over."""
        cycle = self.cycle
        if cycle is None or cycle.waiting or not inputs.loops_clear or self.held:
            return
        if inputs.down:
            self._end_cycle()
        elif not cycle.close_sent:
            cycle.close_sent = True
            self._pulse("close")

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
