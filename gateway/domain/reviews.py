"""Lane events a person must decide: the plate was not read, or not surely."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

OPEN, RESOLVED = "OPEN", "RESOLVED"


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    event_id: str
    facility_id: str
    camera_id: str
    direction: str
    occurred_at: datetime
    reason: str
    plate: str | None
    confidence: Decimal | None
    image: bytes | None
    image_url: str | None
    state: str                       # OPEN, RESOLVED
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolved_plate: str | None = None
    outcome: str | None = None       # the decision the resolution gave
    entry_image: bytes | None = None   # IMAGE_MISMATCH: the picture of the stay's entry (not a column)
