"""A lane controller's timings (``[plc]`` in ``parkgate.toml``), apart from the controller so that
reading the configuration does not import Twisted."""

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class PlcSettings:
    pulse: float = 0.4             # seconds the OPEN/CLOSE coil stays set
    timeout: float = 0.5           # per Modbus call
    poll_interval: float = 0.1     # loop and limit-switch scan
    heartbeat_interval: float = 2.0
    rise_timeout: float = 5.0      # the arm must reach its up limit within this
    passage_timeout: float = 30.0  # an authorisation no vehicle took by then lapses
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0

    def __post_init__(self):
        if self.passage_timeout <= self.rise_timeout:
            raise ValueError(f"the passage timeout ({self.passage_timeout:g} s) must be longer than the rise "
                             f"timeout ({self.rise_timeout:g} s): a vehicle cannot pass before the arm is up")
