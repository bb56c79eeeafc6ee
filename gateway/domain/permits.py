"""Permits and how they are judged: valid, expired or invalid on the facility's own calendar."""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

VALID, EXPIRED, INVALID, NONE = "VALID", "EXPIRED", "INVALID", "NONE"
ACTIVE, REVOKED = "ACTIVE", "REVOKED"


@dataclass(slots=True)  # not frozen: on the lane-event path, 2 us a record (nothing changes one)
class Permit:
    permit_number: str
    plate: str
    facility_id: str | None          # None: every facility
    permit_type: str
    valid_from: date
    valid_until: date
    state: str                       # ACTIVE, REVOKED
    issued_at: datetime
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    def revoked(self, at: datetime, reason: str) -> "Permit":
        return replace(self, state=REVOKED, revoked_at=at, revocation_reason=reason)


@dataclass(slots=True)  # not frozen: on the lane-event path, 2 us a record (nothing changes one)
class Standing:
    """A plate's permit standing at an instant: the status and the permit that decided it."""
    status: str                      # VALID, EXPIRED, INVALID, NONE
    permit: Permit | None = None     # None exactly when the status is NONE


NO_PERMIT = Standing(NONE)


def judge(permits: Iterable[Permit], timezone: ZoneInfo, when: datetime) -> Standing:
    """The standing of a plate with these permits at an instant, judged on the facility's dates:
    a current active permit (the longest-running) makes it VALID, else a lapsed one EXPIRED,
    else (revoked, or not yet begun) INVALID."""
    permits = list(permits)
    if not permits:
        return NO_PERMIT
    day = when.astimezone(timezone).date()
    active = [p for p in permits if p.state == ACTIVE]
    current = [p for p in active if p.valid_from <= day <= p.valid_until]
    if current:
        return Standing(VALID, max(current, key=lambda p: p.valid_until))
    lapsed = [p for p in active if p.valid_until < day]
    if lapsed:
        return Standing(EXPIRED, max(lapsed, key=lambda p: p.valid_until))
    return Standing(INVALID, max(permits, key=lambda p: p.issued_at))
