"""A lane event arrives: its picture read (if it brings one), its frames joined, its barrier driven."""

from collections.abc import Mapping

from ..domain.events import LaneEvent
from ..domain.facility import Facility, find_facility
from .frames import FrameWindows
from .images import LaneImages
from .lanes import Decided, Lanes


class LaneEvents:
    def __init__(self, facilities: Mapping[str, Facility], images: LaneImages, frames: FrameWindows,
                 lanes: Lanes) -> None:
        self.facilities = facilities
        self.images = images
        self.frames = frames
        self.lanes = lanes

    def submit(self, ev: LaneEvent) -> Decided:
        ev = self.images.read(ev, find_facility(self.facilities, ev.facility_id))
        return self.lanes.after_decision(self.frames.submit(ev))
