"""A lane event arrives: its picture read (if it brings one), its frames joined, its barrier driven.

The EventID is the idempotency key of the request: a retry answers the first outcome (and drives
no barrier), another request under a used EventID is a Conflict.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from ..domain.events import LaneEvent
from ..domain.facility import Facility, find_facility
from .frames import FrameWindows
from .images import LaneImages
from .lanes import Decided, Lanes


@dataclass(frozen=True)
class PlateReading:
    """What a picture says: the plate and how sure the reader is, or why nothing was read."""
    plate: str | None
    confidence: Decimal | None
    unread: str | None


class LaneEvents:
    def __init__(self, facilities: Mapping[str, Facility], images: LaneImages, frames: FrameWindows,
                 lanes: Lanes) -> None:
        self.facilities = facilities
        self.images = images
        self.frames = frames
        self.lanes = lanes

    def submit(self, ev: LaneEvent) -> Decided:
        facility = find_facility(self.facilities, ev.facility_id)
        if not ev.plate_text and (ev.image or ev.image_url):
            done = self.frames.recorder.recorded(ev)  # a camera's retry is not read again
            if done is not None:
                return self.lanes.after_decision(done)
            # What its picture says changes the event: the request's fingerprint is kept as submitted.
            ev = self.images.read(replace(ev, submitted=ev.fingerprint), facility)
        return self.lanes.after_decision(self.frames.submit(ev))

    def read_plate(self, facility_id: str, image: bytes, at: datetime) -> PlateReading:
        """Read a booth camera's picture (the console's entry page) without recording anything: the
        officer confirms or corrects the plate, then the entry is submitted as a lane event."""
        facility = find_facility(self.facilities, facility_id)
        probe = LaneEvent(event_id="booth-reading", facility_id=facility.id, camera_id="booth", direction="ENTRY",
                          timestamp=at, image=image)
        read = self.images.read(probe, facility)
        return PlateReading(read.plate_text, read.confidence, read.unread)
