"""Plates held at the barrier (stolen, banned, unpaid debts), everywhere or in one facility."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class HotlistEntry:
    id: int
    plate: str
    facility_id: str | None          # None: every facility
    reason: str
    added_at: datetime
