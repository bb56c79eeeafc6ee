"""A lane event arrives: its picture read and kept (if it brings one), its frames joined, its barrier driven.

The EventID is the idempotency key of the request: a retry answers the first outcome (and drives
no barrier), another request under a used EventID is a Conflict.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from ..domain.events import LaneEvent, VehicleAttributes
from ..domain.facility import Facility, find_facility
from ..domain.permit_tokens import TamperedToken
from ..domain.plates import normalise_plate
from ..domain.vehicle_types import class_of
from .frames import FrameWindows
from .images import LaneImages
from .lanes import Decided, Lanes
from .permit_passes import PermitPasses
from .pictures import Pictures


@dataclass(frozen=True)
class PlateReading:
    """What a picture says: the plate and how sure the reader is, or why nothing was read."""
    plate: str | None
    confidence: Decimal | None
    unread: str | None


class LaneEvents:
    def __init__(self, facilities: Mapping[str, Facility], images: LaneImages, frames: FrameWindows,
                 lanes: Lanes, passes: PermitPasses | None = None, pictures: Pictures | None = None) -> None:
        """``pictures``: where events' pictures are kept and compared (None: they are not)."""
        self.pictures = pictures
        self.facilities = facilities
        self.images = images
        self.frames = frames
        self.lanes = lanes
        self.passes = passes   # checks permit tokens scanned at lanes (issue 17)

    def submit(self, ev: LaneEvent) -> Decided:
        facility = find_facility(self.facilities, ev.facility_id)
        if not ev.plate_text and (ev.image or ev.image_url):
            done = self.frames.recorder.recorded(ev)  # a camera's retry is not read again
            if done is not None:
                return self.lanes.after_decision(done)
            # What its picture says changes the event: the request's fingerprint is kept as submitted.
            ev = self.images.read(replace(ev, submitted=ev.fingerprint), facility)
        ev = self._lane_class(ev, facility)
        if ev.permit_token and self.passes is not None:
            ev = self._scanned(ev, facility)
            if ev.token_refusal:
                return self.lanes.after_decision(self.frames.recorder.submit(ev))
        if self.pictures is not None and ev.image is not None:
            ev = self.pictures.kept(ev)
        return self.lanes.after_decision(self.frames.submit(ev))

    @staticmethod
    def _lane_class(ev: LaneEvent, facility: Facility) -> LaneEvent:
        """A lane for one vehicle type (a motorcycle lane) says its VehicleClass when the caller did not."""
        lane = facility.lanes.get(ev.camera_id)
        said = class_of(lane.vehicle_type) if lane is not None else None
        if said is None or (ev.vehicle and ev.vehicle.vehicle_class):
            return ev
        return replace(ev, submitted=ev.fingerprint,
                       vehicle=replace(ev.vehicle or VehicleAttributes(), vehicle_class=said))

    def _scanned(self, ev: LaneEvent, facility: Facility) -> LaneEvent:
        """The event as its scanned permit token says: the permit's vehicle (when the camera read
        none, or read that one), or HOLD with why the token does not admit: tampered, expired, not
        yet valid, for another facility, revoked, unknown, or shown by another vehicle."""
        assert self.passes is not None and ev.permit_token is not None
        token, ev = ev.permit_token, replace(ev, submitted=ev.fingerprint)
        try:
            check = self.passes.check(token, facility.id, at=ev.timestamp)
        except TamperedToken:
            return replace(ev, token_refusal="PERMIT_TOKEN_TAMPERED")
        if not check.valid or check.permit is None:
            return replace(ev, token_refusal=f"PERMIT_TOKEN_{check.status}")
        plate = check.permit.plate
        if ev.plate_text and normalise_plate(ev.plate_text) != plate and \
                (ev.confidence is None or ev.confidence >= self.frames.rules.confidence_threshold):
            return replace(ev, token_refusal="PERMIT_TOKEN_OTHER_VEHICLE")
        return replace(ev, plate_text=plate, confidence=Decimal("1"), unread=None)

    def stored_picture(self, name: str | None) -> bytes | None:
        """A picture kept in the vault (a session's entry or exit picture), for a person to look at."""
        return self.pictures.picture(name) if self.pictures is not None and name else None

    def match(self, entry_picture: str | None, image: bytes) -> tuple[Decimal, Decimal] | None:
        """How alike the vehicle in ``image`` is to a session's entry picture (0-1), and the
        ``[decisions] image_match_threshold`` below which an exit goes to a person; None when there is
        nothing to compare."""
        if self.pictures is None or not entry_picture or self.pictures.threshold <= 0:
            return None
        score = self.pictures.score(entry_picture, image)
        return (score, self.pictures.threshold) if score is not None else None

    def read_plate(self, facility_id: str, image: bytes, at: datetime) -> PlateReading:
        """Read a booth camera's picture (the console's entry page) without recording anything: the
        officer confirms or corrects the plate, then the entry is submitted as a lane event."""
        facility = find_facility(self.facilities, facility_id)
        probe = LaneEvent(event_id="booth-reading", facility_id=facility.id, camera_id="booth", direction="ENTRY",
                          timestamp=at, image=image)
        read = self.images.read(probe, facility)
        return PlateReading(read.plate_text, read.confidence, read.unread)
