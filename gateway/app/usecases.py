"""Every use case of one gateway, as the composition root hands them to the transports."""

from collections.abc import Callable
from dataclasses import dataclass

from .auth import Authenticator
from .citations import Citations
from .clock import Clock
from .events import LaneEvents
from .lanes import Lanes
from .occupancy import Occupancy
from .permits import Permits
from .relays import RelayStatus
from .reviews import Reviews
from .sessions import Sessions


@dataclass(frozen=True)
class UseCases:
    clock: Clock
    authenticator: Authenticator
    events: LaneEvents
    reviews: Reviews
    sessions: Sessions
    occupancy: Occupancy
    permits: Permits
    citations: Citations
    lanes: Lanes
    relay_status: Callable[[], list[RelayStatus]]
