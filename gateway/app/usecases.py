"""Every use case of one gateway, as the composition root hands them to the transports."""

from collections.abc import Callable
from dataclasses import dataclass

from .audit import Audit
from .auth import Authenticator, Users
from .backups import Backups
from .citations import Citations
from .clock import Clock
from .dashboard import Dashboard
from .events import LaneEvents
from .lanes import Lanes
from .metrics import Metrics
from .occupancy import Occupancy
from .permits import Permits
from .printing import Printing
from .privacy import Erasure
from .relays import RelayStatus
from .retention import Retention
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
    # operations (issue 19, part A)
    audit: Audit
    backups: Backups
    retention: Retention
    metrics: Metrics
    # privacy (issue 19, part B)
    erasure: Erasure
    # the operator console (issue 18)
    users: Users
    dashboard: Dashboard
    printing: Printing
