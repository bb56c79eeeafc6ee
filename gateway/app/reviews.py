"""The review queue: lane events a person decides (the plate not read, or not surely)."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection

from ..domain.decisions import IMAGE_MISMATCH
from ..domain.errors import Conflict, NotFound
from ..domain.events import LaneEvent
from ..domain.facility import Facility, find_facility
from ..domain.plates import normalise_plate
from ..domain.reviews import OPEN, Review
from ..store import audit, events, reviews, sessions
from ..store.engine import Store
from .clock import Clock
from .lanes import Decided, Lanes
from .pictures import Pictures
from .recording import ATTEMPTS, EventRecorder, Outcome, Overtaken


def resolved_with_images(store: Store, at: datetime, username: str, since: datetime | None = None) -> list[Review]:
    """What people confirmed, with the pictures they looked at: labelled plates from this site's
    cameras (``parkgate training export``). Audited with the plates taken (found by each)."""
    with store.connection() as conn:
        found = reviews.resolved_with_images(conn, since)
        audit.record(conn, at, username, "ExportTrainingCrops", "*",
                     f"resolved since {since.isoformat() if since else 'the start'}, {len(found)} found",
                     plates=[r.resolved_plate for r in found if r.resolved_plate])
        return found


class Reviews:
    def __init__(self, recorder: EventRecorder, facilities: Mapping[str, Facility], store: Store, lanes: Lanes,
                 clock: Clock, pictures: Pictures | None = None) -> None:
        """``pictures``: where the stays' pictures are kept (None: reviews show the event's only)."""
        self.pictures = pictures
        self.recorder = recorder
        self.facilities = facilities
        self.store = store
        self.lanes = lanes
        self.clock = clock

    def listing(self, facility_id: str | None = None, state: str = OPEN, limit: int = 50,
                with_images: bool = False, username: str = "system") -> list[Review]:
        """``with_images``: an IMAGE_MISMATCH review brings the entry's picture too (to compare).
        Audited with the plates shown (as read, and as a person resolved them): found by each."""
        if facility_id:
            find_facility(self.facilities, facility_id)
        with self.store.connection() as conn:
            found = reviews.listing(conn, state, facility_id, max(1, min(limit, 500)))
            audit.record(conn, self.clock(), username, "ListReviews", facility_id or "*",
                         f"{state}, {len(found)} found",
                         plates=[p for r in found for p in (r.plate, r.resolved_plate) if p])
            if not with_images or self.pictures is None:
                return found
            return [self._with_entry_image(conn, r) if r.reason == IMAGE_MISMATCH else r for r in found]

    def _with_entry_image(self, conn: Connection, review: Review) -> Review:
        assert self.pictures is not None
        done = events.by_id(conn, review.event_id)
        stay = sessions.get(conn, done.session_id) if done is not None and done.session_id else None
        if stay is None or stay.entry_image is None:
            return review
        return replace(review, entry_image=self.pictures.picture(stay.entry_image))

    def get(self, review_id: int) -> Review:
        with self.store.connection() as conn:
            review = reviews.get(conn, review_id)
        if review is None:
            raise NotFound("no such review", "ReviewID")
        return review

    def waiting(self, facility_id: str | None = None) -> int:
        """How many reviews are open (in one facility, or all)."""
        with self.store.connection() as conn:
            return reviews.count(conn, OPEN, facility_id)

    def resolve(self, review_id: int, plate_text: str, username: str) -> Decided:
        """A person read the plate: the event completes as if it had been read so, and its lane's
        barrier follows."""
        return self.lanes.after_decision(self.complete(review_id, plate_text, username))

    def complete(self, review_id: int, plate_text: str, username: str) -> Outcome:
        """The event completed with ``plate_text`` (by a person, or a sure vote of its frames)."""
        plate = normalise_plate(plate_text, "Plate")
        for attempt in range(ATTEMPTS):
            try:
                return self._complete(review_id, plate, username, alone=attempt > 0)
            except Overtaken:
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _complete(self, review_id: int, plate: str, username: str, alone: bool) -> Outcome:
        with self.store.connection() as conn:
            # Locked: of two people resolving one review at once, the second finds it resolved.
            review = reviews.get(conn, review_id, for_update=True)
            if review is None:
                raise NotFound("no such review", "ReviewID")
            if review.state != OPEN:
                raise Conflict("the review is already resolved", "ReviewID")
            fac = find_facility(self.facilities, review.facility_id)
            lane = fac.lanes[review.camera_id]
            recorded = events.by_id(conn, review.event_id)
            ev = LaneEvent(event_id=review.event_id, facility_id=fac.id, camera_id=review.camera_id,
                           direction=review.direction, timestamp=review.occurred_at, plate_text=plate,
                           confidence=Decimal("1"), image_url=review.image_url,
                           submitted=recorded.fingerprint if recorded else None)  # still the camera's request
            events.remove(conn, review.event_id)
            outcome, owed = self.recorder.record(conn, fac, lane, ev, plate, review.occurred_at,
                                                 relay_key=f"{review.event_id}:resolved", queue_review=False,
                                                 alone=alone)
            now = self.clock()
            reviews.resolve(conn, review_id, now, username, plate, outcome.decision)
            audit.record(conn, now, username, "ResolveReview", review.event_id, f"-> {outcome.decision}",
                         plate=plate)
        self.recorder.relaying.wake(owed)
        return outcome
