"""Citations: a violation, its fine and due date from the facility's rules."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from .facility import Facility

ISSUED = "ISSUED"


@dataclass(frozen=True, slots=True)
class Citation:
    id: str
    issued_at: datetime
    facility_id: str
    violation: str
    plate: str
    jurisdiction: str | None
    location: str | None
    fine: Decimal
    currency: str
    due_date: date
    evidence_url: str | None
    note: str | None
    issued_by: str
    status: str
    session_id: str | None = None        # the stay the violation scan found it in
    plate_clip_url: str | None = None


def terms(facility: Facility, violation: str, now: datetime) -> tuple[Decimal, date]:
    """(fine, due date) of a violation in a facility: due counted in days on its own calendar."""
    rule = facility.citation_rule(violation)
    return rule.fine, now.astimezone(facility.timezone).date() + timedelta(days=rule.due_days)
