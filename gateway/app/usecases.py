"""Every use case of one gateway, as the composition root hands them to the transports."""

from collections.abc import Callable
from dataclasses import dataclass

from .audit import Audit
from .auth import Authenticator, Users
from .authorization import Authorizations
from .backups import Backups
from .citations import Citations
from .clock import Clock
from .console_sessions import ConsoleSessions
from .dashboard import Dashboard
from .enforcement import Enforcement
from .events import LaneEvents
from .hotlist import Hotlist
from .lanes import Lanes
from .metrics import Metrics
from .occupancy import Occupancy
from .opendata import OpenData
from .payments import Payments
from .permit_passes import PermitPasses
from .permits import Permits
from .printing import Printing
from .privacy import Erasure
from .relays import RelayStatus
from .reports import Reports
from .retention import Retention
from .reviews import Reviews
from .sessions import Sessions
from .shifts import Shifts
from .tariffs import Tariffs
from .tickets import Tickets
from .zones import Zones


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
    # enforcement, security and open data (issue 17)
    authorizations: Authorizations
    enforcement: Enforcement
    hotlist: Hotlist
    open_data: OpenData
    permit_passes: PermitPasses
    # the operator's day (issue 16, part B)
    tickets: Tickets
    payments: Payments
    shifts: Shifts
    reports: Reports
    # issue 16, part A: tariffs (vehicle types, versions)
    tariffs: Tariffs
    zones: Zones   # issue 16: zones, spaces
    # privacy (issue 19, part B)
    erasure: Erasure
    # the operator console (issue 18)
    users: Users
    dashboard: Dashboard
    printing: Printing
    console_sessions: ConsoleSessions
