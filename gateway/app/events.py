"""A lane event arrives: its picture read and kept (if it brings one), its frames joined, its barrier driven.

The EventID is the idempotency key of the request: a retry answers the first outcome (and drives
no barrier), another request under a used EventID is a Conflict.
"""

from collections.abc import Mapping
from dataclasses import replace

from ..domain.events import LaneEvent
from ..domain.facility import Facility, find_facility
from .frames import FrameWindows
from .images import LaneImages
from .lanes import Decided, Lanes
from .pictures import Pictures


class LaneEvents:
    def __init__(self, facilities: Mapping[str, Facility], images: LaneImages, frames: FrameWindows,
                 lanes: Lanes, pictures: Pictures | None = None) -> None:
        """``pictures``: where events' pictures are kept and compared (None: they are not)."""
        self.pictures = pictures
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
        if self.pictures is not None and ev.image is not None:
            ev = self.pictures.kept(ev)
        return self.lanes.after_decision(self.frames.submit(ev))
