"""The violation scan's rules: which open sessions owe a citation, and for what.

A pure function of one open session, the plate's permit standing now and the facility's rules.
Each violation is cited once per session (the store keeps that unique), so a scan may run as
often as it likes, on as many nodes as share the database.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from . import tariffs
from .facility import EnforcementRules, Facility
from .permits import EXPIRED, INVALID, VALID, Standing
from .sessions import ParkingSession, quote

#: What the scan finds (the facility's [facility.citations] give each its fine and due date).
OVERSTAY, INVALID_PERMIT, UNPAID_STAY, NO_PERMIT = "EXPIRED_TIME", "INVALID_PERMIT", "UNPAID_STAY", "NO_PERMIT"
VIOLATIONS = (OVERSTAY, INVALID_PERMIT, UNPAID_STAY, NO_PERMIT)


@dataclass(frozen=True, slots=True)
class Finding:
    session: ParkingSession
    violation: str
    why: str                                     # said to the person who reads the citation (no plate)


def findings(session: ParkingSession, standing: Standing, facility: Facility, rules: EnforcementRules,
             now: datetime, schedule: tariffs.Schedule | None = None) -> list[Finding]:
    """The violations of one open session at ``now``; ``schedule``: the tariff versions in force
    (those set since start too: what the exit would charge), default the configured ones."""
    found: list[Finding] = []
    stayed = now - session.entry_time
    if standing.status == VALID:
        return found
    if session.permit_number is not None:
        what = {EXPIRED: "expired", INVALID: "revoked or not yet valid"}.get(standing.status, "gone")
        found.append(Finding(session, INVALID_PERMIT, f"entered on permit {session.permit_number}, now {what}"))
    elif facility.permit_only:
        found.append(Finding(session, NO_PERMIT, "in a permit-only facility without a valid permit"))
    if rules.time_limit is not None and stayed > rules.time_limit:
        found.append(Finding(session, OVERSTAY, f"stayed {_hours(stayed)} without a valid permit, "
                                                f"limit {_hours(rules.time_limit)}"))
    if rules.payment_window is not None and session.permit_number is None and stayed > rules.payment_window:
        _charge, due = quote(session, schedule or tariffs.configured(facility), now)
        if due > 0:
            window = _hours(rules.payment_window)
            found.append(Finding(session, UNPAID_STAY, f"{due} {facility.currency} unpaid after {_hours(stayed)}, "
                                                       f"payment window {window}"))
    return found


def _hours(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}"
