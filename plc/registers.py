"""Where a barrier controller keeps its commands and states, in Modbus protocol addresses (0-based),
and what the bits read there mean: the barrier's framing onto Modbus, apart from the client
(``driver``) that moves the bits.

The defaults follow the common layout of barrier controllers (commands on coils, limit
switches and loops on discrete inputs, a watchdog register); every address can be changed
in ``parkgate.toml`` under ``[plc.registers]``, since real installations differ.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

COMMANDS = ("open", "close", "hold_open")  # the command coils, by name


class BarrierInputs(NamedTuple):
    up: bool
    down: bool
    presence: bool
    safety: bool
    fault: bool
    local_mode: bool

    @property
    def position(self):
        if self.up and not self.down:
            return "UP"
        if self.down and not self.up:
            return "DOWN"
        if not self.up and not self.down:
            return "MOVING"
        return "UNKNOWN"  # both limit switches: a wiring fault

    @property
    def loops_clear(self):
        return not (self.presence or self.safety)


@dataclass(frozen=True)
class RegisterMap:
    # coils (written by the gateway)
    open_coil: int = 0          # pulse: raise the arm
    close_coil: int = 1         # pulse: lower the arm (the PLC's safety chain still checks the loops)
    hold_open_coil: int = 2     # level: keep the arm up (manual operation)
    # discrete inputs (read)
    barrier_up_input: int = 0   # up limit switch
    barrier_down_input: int = 1  # down limit switch
    presence_loop_input: int = 2  # vehicle at the barrier (arming loop)
    safety_loop_input: int = 3  # vehicle under the arm
    fault_input: int = 4        # controller fault (motor, encoder, emergency stop)
    local_mode_input: int = 5   # the PLC runs on its own (gateway heartbeat lost, key switch)
    # holding registers
    heartbeat_register: int = 0  # the gateway writes a changing value every few seconds

    @classmethod
    def from_config(cls, table):
        known = {f.name for f in fields(cls)}
        unknown = set(table) - known
        if unknown:
            raise ValueError(f"unknown PLC register names: {', '.join(sorted(unknown))}")
        values = {k: int(v) for k, v in table.items()}
        if any(v < 0 or v > 65535 for v in values.values()):
            raise ValueError("PLC addresses are 0..65535")
        return cls(**values)

    @property
    def input_span(self):
        """(first address, count) covering every discrete input, read in one request."""
        addresses = [self.barrier_up_input, self.barrier_down_input, self.presence_loop_input,
                     self.safety_loop_input, self.fault_input, self.local_mode_input]
        return min(addresses), max(addresses) - min(addresses) + 1

    @property
    def coil_span(self):
        """(first address, count) covering every command coil."""
        addresses = [self.command_coil(name) for name in COMMANDS]
        return min(addresses), max(addresses) - min(addresses) + 1

    def command_coil(self, name: str) -> int:
        return getattr(self, f"{name}_coil")

    def inputs(self, bits: Sequence[bool]) -> BarrierInputs:
        """The discrete inputs, from the bits read over :attr:`input_span`."""
        first, _ = self.input_span
        up, down, presence, safety, fault, local_mode = (
            bool(bits[address - first]) for address in (
                self.barrier_up_input, self.barrier_down_input, self.presence_loop_input,
                self.safety_loop_input, self.fault_input, self.local_mode_input))
        return BarrierInputs(up=up, down=down, presence=presence, safety=safety, fault=fault, local_mode=local_mode)

    def commands(self, bits: Sequence[bool]) -> dict[str, bool]:
        """The command coils by name, from the bits read over :attr:`coil_span`."""
        first, _ = self.coil_span
        return {name: bool(bits[self.command_coil(name) - first]) for name in COMMANDS}
