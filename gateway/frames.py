"""Several frames of one vehicle, decided once.

Lane cameras often send a burst: several pictures (or readings) of the same car within a
second or two, each as its own lane event. A frame that comes to the same lane, in the same
direction, within ``window`` of the vehicle's first frame, with a similar reading (same length,
at most two characters apart), is taken as another look at that vehicle: its reading joins a
character-by-character vote and it is recorded as a frame of the vehicle's event (reason
SAME_VEHICLE) instead of being decided again (no second session, no second barrier pulse).
A vehicle that was held (HOLD) is decided afresh by its next frame.
If the vehicle's event waits for a person only because its reading was not sure enough, and
the vote now is, the vote completes it.

The windows live in memory (one gateway process): after a restart a burst simply starts anew.
"""

import threading
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from recognition.voting import vote

from .plates import normalise_plate


@dataclass
class _Vehicle:
    event_id: str
    first_seen: object   # aware datetime of the first frame
    readings: list       # [(plate, confidence)]


def similar(a, b, max_differences=2):
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= max_differences
    short, long_ = sorted((a, b), key=len)
    return len(long_) - len(short) == 1 and short in long_


class FrameWindows:
    def __init__(self, parking, window=timedelta(seconds=3)):
        self.parking = parking
        self.window = window
        self._vehicles = {}   # (facility, camera, direction) -> _Vehicle
        self._lock = threading.Lock()

    def submit(self, ev):
        """Decide ``ev``, or record it as a frame of the vehicle it shows."""
        if not ev.plate_text or self.window <= timedelta(0):
            return self.parking.submit_event(ev)
        plate = normalise_plate(ev.plate_text)
        confidence = float(ev.confidence if ev.confidence is not None else 1)
        key = (ev.facility_id, ev.camera_id, ev.direction)
        when = self.parking.instant(ev.timestamp)
        with self._lock:
            vehicle = self._vehicles.get(key)
            if vehicle and vehicle.event_id != ev.event_id \
                    and timedelta(0) <= when - vehicle.first_seen <= self.window \
                    and similar(plate, vote(vehicle.readings)[0]):
                vehicle.readings.append((plate, confidence))
                voted, voted_confidence = vote(vehicle.readings)
                return self.parking.record_frame(ev, vehicle.event_id, voted,
                                                 Decimal(str(round(voted_confidence, 4))))
        outcome = self.parking.submit_event(ev)
        # A held vehicle is decided again by its next frame (it may have paid, or been given a
        # permit, in the meantime); one let in, or waiting for a person, is not.
        if not outcome.replayed and outcome.decision in ("OPEN", "REVIEW"):
            with self._lock:
                self._vehicles[key] = _Vehicle(ev.event_id, when, [(plate, confidence)])
        return outcome
