"""Several frames of one vehicle, decided once (see :mod:`gateway.domain.vehicles`).

A frame taken as another look at a vehicle joins a character-by-character vote and is
recorded as a frame of the vehicle's event (reason SAME_VEHICLE) instead of being decided
again (no second session, no second barrier pulse). A vehicle that was held (HOLD) is decided
afresh by its next frame. If the vehicle's event waits for a person only because its reading
was not sure enough, and the vote now is, the vote completes it.

With one gateway (SQLite) the windows live in memory: after a restart a burst simply starts anew.
With several nodes on one PostgreSQL (``shared``) they live in the database (``lane_windows``), so a
burst spread over the nodes by a load balancer is still one vehicle. Each lane has a lock of its
own, held while a frame is matched and recorded (frames of one lane are taken in turn; a lane
waiting for the database holds up no other lane); shared, it is also an advisory lock every node
takes in turn.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from recognition.voting import vote

from ..domain.decisions import OPEN, REVIEW, DecisionRules
from ..domain.events import LaneEvent
from ..domain.permits import judge
from ..domain.plates import normalise_plate
from ..domain.vehicles import same_plate_possible, within
from ..store import events, permits, reviews, sessions, windows
from ..store.engine import Store
from .recording import EventRecorder, Outcome
from .reviews import Reviews


@dataclass
class _Vehicle:
    event_id: str
    first_seen: datetime
    readings: list[tuple[str, float]] = field(default_factory=list)   # (plate, confidence) of its frames

    def reading(self) -> tuple[str, float]:
        """The vehicle's plate as its frames vote, and how sure; frames read at confidence 0 have no
        vote: with only such frames, the first one's text, at 0."""
        plate, confidence = vote(self.readings)
        return (plate, confidence) if plate is not None else (self.readings[0][0], 0.0)


class FrameWindows:
    def __init__(self, recorder: EventRecorder, reviews: Reviews, store: Store, rules: DecisionRules,
                 shared: bool = False) -> None:
        self.recorder = recorder
        self.shared = shared
        self.reviews = reviews
        self.store = store
        self.rules = rules
        self.window = rules.frame_window
        self._vehicles: dict[tuple[str, str, str], _Vehicle] = {}   # (facility, camera, direction) -> vehicle
        self._locks: dict[tuple[str, str], threading.Lock] = {}       # (facility, camera) -> the lane's lock
        self._locks_lock = threading.Lock()

    def _lane_lock(self, facility_id: str, camera_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault((facility_id, camera_id), threading.Lock())

    @contextmanager
    def _lane(self, facility_id: str, camera_id: str) -> Iterator[None]:
        with self._lane_lock(facility_id, camera_id):
            if not self.shared:
                yield
                return
            with windows.lane_lock(self.store, facility_id, camera_id):
                yield

    def _vehicle(self, key: tuple[str, str, str]) -> "_Vehicle | None":
        if not self.shared:
            return self._vehicles.get(key)
        with self.store.connection() as conn:
            found = windows.get(conn, *key)
        return _Vehicle(*found) if found else None

    def _keep(self, key: tuple[str, str, str], vehicle: "_Vehicle") -> None:
        if not self.shared:
            self._vehicles[key] = vehicle
            return
        with self.store.connection() as conn:
            windows.put(conn, *key, vehicle.event_id, vehicle.first_seen, vehicle.readings)

    def submit(self, ev: LaneEvent) -> Outcome:
        """Decide ``ev``, or record it as a frame of the vehicle it shows."""
        if not ev.plate_text or self.window <= timedelta(0):
            return self.recorder.submit(ev)
        plate = normalise_plate(ev.plate_text)
        confidence = float(ev.confidence if ev.confidence is not None else 1)
        fac, lane, when = self.recorder.place(ev)  # a lane that exists: one lock per configured lane
        key = (fac.id, lane.camera_id, ev.direction)
        with self._lane(fac.id, lane.camera_id):
            vehicle = self._vehicle(key)
            if vehicle and vehicle.event_id != ev.event_id and within(vehicle.first_seen, when, self.window) \
                    and same_plate_possible(plate, confidence, *vehicle.reading(), self.rules.confidence_threshold):
                vehicle.readings.append((plate, confidence))
                self._keep(key, vehicle)
                voted, voted_confidence = vehicle.reading()
                return self._frame(ev, vehicle.event_id, voted, Decimal(str(round(voted_confidence, 4))))
            outcome = self.recorder.submit(ev)
            # A held vehicle is decided again by its next frame (it may have paid, or been given a
            # permit, in the meantime); one let in, or waiting for a person, is not.
            if not outcome.replayed and outcome.decision in (OPEN, REVIEW):
                self._keep(key, _Vehicle(ev.event_id, when, [(plate, confidence)]))
        return outcome

    def _frame(self, ev: LaneEvent, vehicle_event_id: str, plate: str, confidence: Decimal) -> Outcome:
        """Record ``ev`` as another frame of the vehicle's event; complete that event when it
        waits for a person only for want of a sure reading and the vote is now sure."""
        fac, lane, when = self.recorder.place(ev)
        with self.store.connection() as conn:
            done = events.by_id(conn, ev.event_id)
            if done is not None:
                return self.recorder.replay(done, ev)
            vehicle = events.by_id(conn, vehicle_event_id)
        if vehicle is None:  # the vehicle's event failed: this frame is a vehicle of its own
            return self.recorder.submit(ev)
        decided_now = None
        if vehicle.decision == REVIEW and vehicle.reason == "LOW_CONFIDENCE" \
                and confidence >= self.rules.confidence_threshold:
            with self.store.connection() as conn:
                review = reviews.open_of_event(conn, vehicle_event_id)
            if review is not None:
                decided_now = self.reviews.complete(review, plate, "frame-vote")
        decision = decided_now.decision if decided_now else vehicle.decision
        session_id = decided_now.session_id if decided_now else vehicle.session_id
        with self.store.connection() as conn:
            standing = judge(permits.of_plate_here(conn, plate, fac.id), fac.timezone, when)
            session = sessions.get(conn, session_id) if session_id else None
            event, _ = self.recorder.write(conn, fac, lane, ev, when, plate, confidence, decision, "SAME_VEHICLE",
                                           standing, session)
        # A frame whose vote just decided the vehicle moves its barrier; any other frame does not.
        return Outcome(ev.event_id, event, decision, "SAME_VEHICLE", session_id,
                       frame_of=None if decided_now else vehicle_event_id)
