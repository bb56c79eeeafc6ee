"""N barrier PLCs behind one Modbus TCP server (unit ids 1..N): ``parkgate plc-sim`` and the tests.

Each :class:`SimulatedBarrier` behaves like a barrier controller running its scan cycle:
the arm takes ``rise_time``/``fall_time`` to move and drives the limit switches; it will not
come down on an occupied loop (it reverses, as a safety chain does); a fault stops it; and
when the gateway's heartbeat stops changing for ``heartbeat_timeout`` it falls back to local
mode, where it ignores the gateway and simply lets any vehicle on the presence loop through.

pymodbus serves the protocol; the barrier model answers its reads and sees its writes through
the device ``action`` hook. Time comes from an injected ``IReactorTime``.
"""

import logging
from collections.abc import Callable

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from twisted.internet import defer, task
from twisted.internet.interfaces import IHalfCloseableProtocol, IReactorTime
from twisted.protocols.basic import LineReceiver
from zope.interface import implementer

from .driver import as_deferred
from .registers import RegisterMap

log = logging.getLogger("parkgate.plc.sim")

_READ_COILS, _READ_INPUTS, _READ_HOLDING = 1, 2, 3
_WRITE_COIL, _WRITE_REGISTER, _WRITE_COILS, _WRITE_REGISTERS = 5, 6, 15, 16


class SimulatedBarrier:
    def __init__(self, unit: int, clock: IReactorTime, *, registers: RegisterMap = RegisterMap(),
                 rise_time: float = 1.5, fall_time: float = 1.5, heartbeat_timeout: float | None = 10.0,
                 report: Callable[[int, str], None] | None = None, auto_pass: float | None = None) -> None:
        self.unit = unit
        self.clock = clock
        self.registers = registers
        self.rise_time, self.fall_time = rise_time, fall_time
        self.heartbeat_timeout = heartbeat_timeout
        self.report = report or (lambda unit, text: log.info("lane %d: %s", unit, text))
        self.coils = {"open": False, "close": False, "hold_open": False}
        self.position = 0.0    # 0 down, 1 up
        self.direction = 0     # +1 rising, -1 falling
        self.presence = self.safety = self.fault = False
        self.local_mode = heartbeat_timeout is not None and heartbeat_timeout <= 0
        self.heartbeat = 0
        self._heartbeat_seen = clock.seconds()
        self._last_scan = clock.seconds()
        self.opens = 0         # rising edges of the OPEN coil, for tests and the bench
        self.on_open = None    # callable(), called whenever OPEN is written (benchmarks)
        self.auto_pass = auto_pass  # seconds after reaching the top until a simulated vehicle passes
        self._waiters: list[tuple[Callable[[SimulatedBarrier], bool], defer.Deferred]] = []

    # --- what the Modbus side sees ------------------------------------------------

    @property
    def up(self):
        return self.position >= 1.0

    @property
    def down(self):
        return self.position <= 0.0

    def input_bits(self):
        r = self.registers
        return {r.barrier_up_input: self.up, r.barrier_down_input: self.down,
                r.presence_loop_input: self.presence, r.safety_loop_input: self.safety,
                r.fault_input: self.fault, r.local_mode_input: self.local_mode}

    def coil_bits(self):
        r = self.registers
        return {r.open_coil: self.coils["open"], r.close_coil: self.coils["close"],
                r.hold_open_coil: self.coils["hold_open"]}

    def coils_written(self, bits, written):
        """The coils after a write request that addressed ``written`` (a range of addresses)."""
        r = self.registers
        for name, address in (("open", r.open_coil), ("close", r.close_coil), ("hold_open", r.hold_open_coil)):
            value = bits.get(address, self.coils[name])
            if name == "open" and value and address in written and self.on_open is not None:
                self.on_open()
            if value and not self.coils[name]:
                self.opens += name == "open"
                self.report(self.unit, f"{name.replace('_', ' ').upper()} command")
            self.coils[name] = value
        self.scan()

    def heartbeat_written(self, value):
        if value != self.heartbeat:
            self.heartbeat = value
            self._heartbeat_seen = self.clock.seconds()
            if self.local_mode and not self.fault:
                self.local_mode = False
                self.report(self.unit, "heartbeat back: remote mode")

    # --- the scan cycle -----------------------------------------------------------

    def scan(self):
        now = self.clock.seconds()
        elapsed, self._last_scan = now - self._last_scan, now
        if (self.heartbeat_timeout and not self.local_mode
                and now - self._heartbeat_seen > self.heartbeat_timeout):
            self.local_mode = True
            self.report(self.unit, "heartbeat lost: local mode")
        self._decide_direction()
        if self.direction and elapsed > 0:
            before = self.position
            span = self.rise_time if self.direction > 0 else self.fall_time
            self.position = min(1.0, max(0.0, self.position + self.direction * elapsed / max(span, 1e-6)))
            if self.position != before and self.position in (0.0, 1.0):
                self.report(self.unit, "barrier UP" if self.up else "barrier DOWN")
                self.direction = 0
                if self.up and self.auto_pass is not None and not (self.presence or self.safety):
                    self.clock.callLater(self.auto_pass, self.drive_through)
        self._wake()

    def _decide_direction(self):
        occupied = self.presence or self.safety
        if self.fault:
            self.direction = 0
            return
        if self.local_mode:
            wanted = +1 if occupied else -1
        elif self.coils["open"] or self.coils["hold_open"]:
            wanted = +1
        elif self.coils["close"] and not occupied:
            wanted = -1
        else:
            wanted = self.direction
        if wanted < 0 and occupied:
            wanted = +1  # the safety chain: never down onto a vehicle
        if wanted > 0 and self.up or wanted < 0 and self.down:
            wanted = 0
        if wanted != self.direction and wanted:
            self.report(self.unit, "barrier rising" if wanted > 0 else "barrier falling")
        self.direction = wanted

    # --- scripting: vehicles and faults ---------------------------------------------

    def set_loops(self, presence=None, safety=None):
        if presence is not None and presence != self.presence:
            self.presence = presence
            self.report(self.unit, "vehicle on the presence loop" if presence else "presence loop clear")
        if safety is not None and safety != self.safety:
            self.safety = safety
            self.report(self.unit, "vehicle under the arm" if safety else "safety loop clear")
        self.scan()

    def set_fault(self, on):
        self.fault = on
        self.report(self.unit, "FAULT" if on else "fault cleared")
        self.scan()

    def wait_for(self, predicate):
        """A Deferred that fires once ``predicate(self)`` holds (checked at every scan)."""
        d = defer.Deferred()
        if predicate(self):
            d.callback(self)
        else:
            self._waiters.append((predicate, d))
        return d

    def _wake(self):
        pending, self._waiters = self._waiters, []
        for predicate, d in pending:
            if predicate(self):
                d.callback(self)
            else:
                self._waiters.append((predicate, d))

    def drive_through(self, step=0.3):
        """A vehicle at the raised arm passes under it and leaves, one loop change every ``step``
        seconds (long enough for a gateway scanning the loops to see each). Deferred: done."""
        changes = [dict(presence=True), dict(safety=True), dict(presence=False), dict(safety=False)]
        done = defer.Deferred()

        def next_change():
            self.set_loops(**changes.pop(0))
            if changes:
                self.clock.callLater(step, next_change)
            else:
                done.callback(self)
        next_change()
        return done

    @defer.inlineCallbacks
    def passage(self):
        """One vehicle drives through: arrives, waits for the arm, passes under it, leaves."""
        self.set_loops(presence=True)
        yield self.wait_for(lambda b: b.up)
        yield self.drive_through()


class PlcSimulator:
    """One Modbus TCP server with a SimulatedBarrier per unit id (1..lanes)."""

    def __init__(self, lanes: int, clock: IReactorTime, *, host: str = "127.0.0.1", port: int = 5020,
                 scan_interval: float = 0.02, **barrier_options) -> None:
        """``barrier_options``: the keyword arguments of every :class:`SimulatedBarrier`."""
        self.host, self.port = host, port
        self.clock = clock
        self.barriers = {unit: SimulatedBarrier(unit, clock, **barrier_options) for unit in range(1, lanes + 1)}
        self.scan_interval = scan_interval
        self.function_codes: set[int] = set()  # every Modbus function code a client used
        self._server = None
        self._scanner = None

    def __getitem__(self, unit):
        return self.barriers[unit]

    def _device(self, barrier):
        size = 16  # addresses 0..15 of each kind: room for remapped registers

        async def action(function_code, start_address, address, count, current_registers, set_values):
            self.function_codes.add(function_code)
            if set_values is not None:
                return  # called again once the write is applied, with the new values
            if function_code == _READ_INPUTS:
                _store_bits(current_registers, start_address, barrier.input_bits())
            elif function_code == _READ_COILS:
                _store_bits(current_registers, start_address, barrier.coil_bits())
            elif function_code in (_WRITE_COIL, _WRITE_COILS):
                written = _load_bits(current_registers, start_address, size)
                barrier.coils_written(written, range(address, address + count))
            elif function_code in (_WRITE_REGISTER, _WRITE_REGISTERS):
                hb = barrier.registers.heartbeat_register
                if start_address <= hb < start_address + len(current_registers):
                    barrier.heartbeat_written(current_registers[hb - start_address])
            return

        bits = lambda: [SimData(0, count=size, values=False, datatype=DataType.BITS)]  # noqa: E731
        regs = lambda: [SimData(0, count=size, values=0, datatype=DataType.REGISTERS)]  # noqa: E731
        return SimDevice(id=barrier.unit, simdata=(bits(), bits(), regs(), regs()), action=action)

    def start(self):
        """Deferred firing once the server listens (``self.port`` is then the real port)."""
        self._scanner = task.LoopingCall(self._scan_all)
        self._scanner.clock = self.clock

        async def listen():  # pymodbus wants its server made inside the running loop
            self._server = ModbusTcpServer([self._device(b) for b in self.barriers.values()],
                                           address=(self.host, self.port))
            await self._server.serve_forever(background=True)
            sockets = getattr(self._server.transport, "sockets", None)
            if sockets:
                self.port = sockets[0].getsockname()[1]
        d = as_deferred(listen())
        d.addCallback(lambda _: self._scanner.start(self.scan_interval, now=False) and None)
        return d

    def _scan_all(self):
        for barrier in self.barriers.values():
            barrier.scan()

    def stop(self):
        if self._scanner is not None and self._scanner.running:
            self._scanner.stop()
        if self._server is None:
            return defer.succeed(None)
        server, self._server = self._server, None
        return as_deferred(server.shutdown())


def _store_bits(words, start_address, bits):
    """Write {address: bool} into pymodbus's packed words (16 bits per word)."""
    for address, value in bits.items():
        index, bit = divmod(address, 16)
        index -= start_address
        if 0 <= index < len(words):
            words[index] = (words[index] | (1 << bit)) if value else (words[index] & ~(1 << bit))


def _load_bits(words, start_address, size):
    return {address: bool(words[address // 16 - start_address] >> (address % 16) & 1)
            for address in range(size) if 0 <= address // 16 - start_address < len(words)}



@implementer(IHalfCloseableProtocol)
class SimConsole(LineReceiver):
    """``pass N``, ``arrive N``, ``leave N``, ``fault N on|off``, ``status``: vehicles by hand, typed in a
    terminal or piped in. The end of the input is not the end of the simulator: it goes on serving."""

    delimiter = b"\n"

    def __init__(self, sim: PlcSimulator) -> None:
        self.sim = sim

    def readConnectionLost(self):
        """Input is over; the answers already given still go out (a plain protocol would drop them)."""

    def writeConnectionLost(self):
        """Nobody reads the answers any more: the simulator goes on without them."""

    def lineReceived(self, line):
        words = line.decode(errors="replace").split()
        if not words:
            return
        try:
            if words[0] == "status":
                for unit, b in self.sim.barriers.items():
                    self.sendLine(f"lane {unit}: {'UP' if b.up else 'DOWN' if b.down else 'moving'}"
                                  f" presence={b.presence} safety={b.safety} fault={b.fault}"
                                  f" local={b.local_mode}".encode())
                return
            barrier = self.sim[int(words[1])]
            action = {"pass": barrier.passage, "arrive": lambda: barrier.set_loops(presence=True),
                      "leave": lambda: barrier.set_loops(presence=False, safety=False),
                      "fault": lambda: barrier.set_fault(words[2] == "on")}[words[0]]
            action()
        except (IndexError, KeyError, ValueError):
            self.sendLine(b"commands: pass N | arrive N | leave N | fault N on|off | status")
