"""The seam between gate logic and hardware: anything that can drive a barrier."""

from zope.interface import Attribute, Interface


class IBarrierDriver(Interface):
    """A barrier controller reached over some protocol. Every method returns a Deferred and
    fails (never hangs) when the controller does not answer within the driver's timeout."""

    registers = Attribute("the RegisterMap in use")

    def connect():
        """Deferred firing when the connection is up."""

    def disconnect():
        """Close the connection."""

    def read_inputs():
        """Deferred[BarrierInputs]: limit switches, loops, fault, local mode."""

    def read_commands():
        """Deferred[dict]: the command coils as the controller holds them (for read-back)."""

    def write_command(name, value):
        """Deferred: set the command coil ``name`` (open, close, hold_open) to ``value``."""

    def write_heartbeat(value):
        """Deferred: write the watchdog register."""


class ILaneLease(Interface):
    """Who drives a lane's PLC when several gateway nodes share the lanes: a lane controller drives
    its PLC only while it holds the lane's lease, and renews it while it runs. Both methods return
    Deferreds and never hang (the implementation bounds them)."""

    def claim(facility_id, lane_number):
        """Deferred[float | None]: take or renew the lease; the seconds it is now held for, or None
        when another node holds it."""

    def release(facility_id, lane_number):
        """Deferred: give the lease up (the controller stops): another node may take it at once."""
