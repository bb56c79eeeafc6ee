"""A lane event as submitted: who saw which plate where, and when; and its fingerprint."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class VehicleAttributes:
    make: str | None = None
    model: str | None = None
    year: int | None = None
    color: str | None = None
    vehicle_class: str | None = None


@dataclass(slots=True)  # not frozen: on the lane-event path, 2 us a record (nothing changes one)
class LaneEvent:
    event_id: str
    facility_id: str
    camera_id: str
    direction: str
    timestamp: datetime
    plate_text: str | None = None
    confidence: Decimal | None = None
    lane_number: int | None = None
    jurisdiction: str | None = None
    country: str | None = None
    image_url: str | None = None
    image: bytes | None = None
    vehicle: VehicleAttributes | None = None
    space_assigned: str | None = None
    vehicle_type: str | None = None  # issue 16: as the caller said (None: from the VehicleClass, else a car)
    unread: str | None = None        # why its picture gave no plate (then the event goes to REVIEW)
    submitted: str | None = None     # the fingerprint of the request as submitted, once a picture was read
    permit_token: str | None = None  # a permit's token scanned at the lane (issue 17)
    token_refusal: str | None = None  # why that token does not admit (the event is then HOLD for it)
    picture: str | None = None       # the name its picture is kept under in the vault (app.pictures)
    image_match: Decimal | None = None   # at an exit: how alike its picture and the entry's are (0-1)

    @property
    def fingerprint(self) -> str:
        """Of the request as submitted (see :func:`fingerprint`)."""
        return self.submitted or fingerprint(self)


def fingerprint(ev: LaneEvent) -> str:
    """What the request said, beside its EventID, as a digest: the same EventID with another
    fingerprint is another request under a used key. Equal values written differently (a time in
    another zone, 0.970 for 0.97) have one fingerprint; the image counts by its bytes."""
    when = ev.timestamp.astimezone(timezone.utc).isoformat() if ev.timestamp.tzinfo else ev.timestamp.isoformat()
    vehicle = ev.vehicle or VehicleAttributes()
    parts: tuple = (ev.facility_id, ev.camera_id, ev.lane_number, ev.direction, when, ev.plate_text,
             None if ev.confidence is None else format(ev.confidence.normalize(), "f"), ev.jurisdiction, ev.country,
             ev.image_url, hashlib.sha256(ev.image).hexdigest() if ev.image is not None else None, ev.space_assigned,
             vehicle.make, vehicle.model, vehicle.year, vehicle.color, vehicle.vehicle_class)
    if ev.permit_token is not None:  # only then: the fingerprints of events without one stay as they were
        parts = (*parts, ev.permit_token)
    if ev.vehicle_type is not None:  # issue 16; requests without one keep the fingerprints recorded before
        parts += (ev.vehicle_type,)
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@dataclass(slots=True)  # not frozen: on the lane-event path, 2 us a record (nothing changes one)
class RecordedEvent:
    """A lane event's outcome as recorded: what a replay of its EventID answers."""
    event_id: str
    document: str                    # the ParkingEvent document, as stored and relayed
    decision: str
    reason: str
    session_id: str | None
    fingerprint: str | None          # of the request that was decided (None: recorded before they were kept)

    def answers(self, ev: LaneEvent) -> bool:
        """Whether ``ev`` is the request this outcome was decided for (its retry), not another
        request under the same EventID."""
        return self.fingerprint is None or self.fingerprint == ev.fingerprint
