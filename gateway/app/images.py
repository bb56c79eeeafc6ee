"""Plate text for lane events that bring only a picture (an image URL, or the image inline).

The image is fetched from an allowed source only (:mod:`recognition.fetch`) and read in the
recognition process pool (:mod:`recognition.pool`), both from the request thread. A picture
that cannot be had or read does not fail the event: it is decided REVIEW, with the reason,
for a person to look at. A URL pointing where the gateway must not go is the caller's error.
"""

import logging
import threading
import time
from concurrent.futures import wait
from dataclasses import replace
from decimal import Decimal
from typing import Any

from recognition.fetch import ImageForbidden, ImageUnavailable, fetch
from recognition.images import ImageRejected
from recognition.pool import RecognitionBusy, RecognitionFailed, RecognitionPool

from ..domain.errors import Busy, InvalidInput
from ..domain.events import LaneEvent, VehicleAttributes
from ..domain.facility import Facility

log = logging.getLogger("parkgate")


class LaneImages:
    def __init__(self, settings: Any, request_threads: int, pool_factory: Any = RecognitionPool,
                 metrics: Any = None) -> None:
        """``request_threads``: how many requests run at once. At most half of them wait on pictures
        (being fetched, read or queued); beyond that an image event is told Server.Busy at once, and
        the other half of the threads stays free for everything else, the Busy answers included."""
        self.settings = settings
        self.max_pending = max(1, request_threads // 2)
        self._picturing = threading.BoundedSemaphore(self.max_pending)
        self.pool_factory = pool_factory
        self.metrics = metrics
        self._pool: Any = None
        self._lock = threading.Lock()

    def pool(self) -> Any:
        """Started on the first picture: a gateway fed plate text never pays for the models."""
        with self._lock:
            if self._pool is None:
                s = self.settings
                self._pool = self.pool_factory(workers=s.workers, time_limit=s.time_limit, queue=s.queue,
                                                precision=s.precision, max_pending=self.max_pending,
                                                reader=s.reader)
            return self._pool

    def warm(self) -> None:
        """Start the workers now (each loads the models, seconds) and say so, instead of making the
        first picture wait for it. Blocking: call it in a thread."""
        started = time.monotonic()
        pool = self.pool()
        log.info("recognition: starting %d worker(s), loading the models", pool.workers)
        # Any image makes a worker load the models first; a refused one comes back quickest.
        wait([pool.submit(b"warm-up", None) for _ in range(min(pool.workers, pool.capacity))])
        log.info("recognition: %d worker(s) ready in %.1f s", pool.workers, time.monotonic() - started)

    def read(self, ev: LaneEvent, facility: Facility) -> LaneEvent:
        """The event with the plate read from its picture (and the picture's bytes), or as given."""
        if ev.plate_text or not (ev.image or ev.image_url):
            return ev
        if not self._picturing.acquire(blocking=False):
            raise Busy("every thread for pictures is busy fetching or reading one; try again")
        try:
            return self._read(ev, facility)
        finally:
            self._picturing.release()

    def _read(self, ev: LaneEvent, facility: Facility) -> LaneEvent:
        try:
            data = ev.image or fetch(ev.image_url, facility.image_sources)
        except ImageForbidden as e:
            raise InvalidInput(str(e), "ImageURL") from None
        except (ImageUnavailable, ImageRejected):
            return replace(ev, unread="IMAGE_UNAVAILABLE")
        ev = replace(ev, image=data)
        started, outcome = time.perf_counter(), "read"
        try:
            reading = self.pool().run(data, facility.plate_regions)
        except RecognitionBusy as e:
            outcome = "busy"
            raise Busy(str(e)) from None
        except ImageRejected:
            outcome = "unreadable"
            return replace(ev, unread="IMAGE_UNREADABLE")
        except RecognitionFailed:
            outcome = "failed"
            return replace(ev, unread="RECOGNITION_FAILED")
        finally:
            if self.metrics is not None:
                self.metrics.recognised(outcome, time.perf_counter() - started)
        if not reading["plate"]:
            return replace(ev, unread="NO_PLATE_READ")
        return replace(ev, plate_text=reading["plate"], confidence=Decimal(str(round(reading["confidence"], 4))),
                       jurisdiction=ev.jurisdiction or reading["jurisdiction"],
                       country=ev.country or reading["country"], vehicle=self._coloured(ev.vehicle, reading))

    def _coloured(self, given: VehicleAttributes | None, reading: dict) -> VehicleAttributes | None:
        """The caller's attributes, with the body colour recognition measured when it is sure enough
        (issue 17) and the caller said none; nothing that was neither measured nor given."""
        colour, share = reading.get("colour"), float(reading.get("colour_confidence") or 0)
        if not colour or share < self.settings.colour_min_confidence or (given and given.color):
            return given
        return replace(given or VehicleAttributes(), color=colour)

    def queue_depth(self) -> int:
        """Pictures in the pool now (read or waiting); 0 before the first."""
        pool = self._pool
        return pool.pending if pool is not None else 0

    def health(self) -> tuple[bool, str]:
        """(alive, detail) for readiness: a pool not started yet is fine (it starts on the first picture)."""
        pool = self._pool
        if pool is None:
            return True, "not started (starts on the first picture)"
        if not pool.alive:
            return False, "the recognition pool has stopped"
        return True, f"{pool.workers} worker(s), {pool.pending} picture(s) in"

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
