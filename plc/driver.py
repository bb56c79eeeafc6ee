"""The Modbus TCP side of a barrier: pymodbus's asyncio client, seen from Twisted as Deferreds.

Only the plain function codes every Modbus TCP device implements are used: read coils (1),
read discrete inputs (2), write single coil (5), write single register (6). Each call has a
timeout; a call that fails or times out fails its Deferred with :class:`PlcUnavailable` and
the caller (the lane controller) decides what to do.

The gateway runs Twisted on its asyncio reactor, so pymodbus's coroutines run on the same
loop as everything else: nothing here blocks and no thread is involved.
"""

import asyncio

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from twisted.internet.defer import Deferred
from zope.interface import implementer

from .interfaces import IBarrierDriver
from .registers import RegisterMap


class PlcUnavailable(Exception):
    """The PLC did not answer, refused the request, or the connection is down."""


_RUNNING: set[asyncio.Future] = set()  # asyncio holds tasks weakly: keep each until it is done


def as_deferred(coro):
    """A coroutine on the asyncio loop under the reactor, seen as a Deferred."""
    task = asyncio.ensure_future(coro)
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return Deferred.fromFuture(task)


@implementer(IBarrierDriver)
class ModbusBarrierDriver:
    """One barrier PLC at ``host``: its unit id there, its register map, a timeout on every call."""

    def __init__(self, host: str, *, port: int = 502, unit: int = 1, registers: RegisterMap = RegisterMap(),
                 timeout: float = 0.5) -> None:
        self.host, self.port, self.unit = host, port, unit
        self.registers = registers
        self.timeout = timeout
        self._client = None

    def __repr__(self):
        return f"<ModbusBarrierDriver {self.host}:{self.port} unit {self.unit}>"

    # --- IBarrierDriver ---------------------------------------------------------

    def connect(self):
        return as_deferred(self._connect())

    def disconnect(self):
        if self._client is not None:
            self._client.close()
            self._client = None

    def read_inputs(self):
        return as_deferred(self._read_inputs())

    def read_commands(self):
        return as_deferred(self._read_commands())

    def write_command(self, name, value):
        return as_deferred(self._call("write_coil", self.registers.command_coil(name), bool(value)))

    def write_heartbeat(self, value):
        return as_deferred(self._call("write_register", self.registers.heartbeat_register, value & 0xFFFF))

    # --- the calls ----------------------------------------------------------------

    async def _connect(self):
        self.disconnect()
        # pymodbus's own reconnect loop is off (delay 0): the lane controller owns back-off.
        self._client = AsyncModbusTcpClient(self.host, port=self.port, timeout=self.timeout, retries=0,
                                            reconnect_delay=0)
        try:
            ok = await asyncio.wait_for(self._client.connect(), self.timeout * 2)
        except (TimeoutError, OSError) as e:
            ok = False
            reason = str(e) or type(e).__name__
        else:
            reason = "connection refused"
        if not ok:
            self.disconnect()
            raise PlcUnavailable(f"cannot connect to {self.host}:{self.port}: {reason}")

    async def _call(self, method, *args, **kwargs):
        client = self._client
        if client is None or not client.connected:
            raise PlcUnavailable("not connected")
        try:
            response = await asyncio.wait_for(getattr(client, method)(*args, device_id=self.unit, **kwargs),
                                              self.timeout)
        except (TimeoutError, ModbusException, OSError, ConnectionError) as e:
            raise PlcUnavailable(f"{method} failed: {str(e) or type(e).__name__}") from None
        if response.isError():
            raise PlcUnavailable(f"{method} answered with an exception: {response}")
        return response

    async def _read_inputs(self):
        first, count = self.registers.input_span
        return self.registers.inputs((await self._call("read_discrete_inputs", first, count=count)).bits)

    async def _read_commands(self):
        first, count = self.registers.coil_span
        return self.registers.commands((await self._call("read_coils", first, count=count)).bits)
