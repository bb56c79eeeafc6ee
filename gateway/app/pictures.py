"""The pictures of a stay: a lane event's picture kept once in the vault (sealed, under its digest),
and at an exit the vehicle in it compared with the one at entry (issue 16).

The comparison (:func:`recognition.vehicle_match.match_score`, OpenCV, ~0.1 s) runs on a small
thread pool of its own with a deadline, from the request thread and before the event's unit of
work: neither the reactor nor a database connection waits on it. A comparison that cannot be made
in time (or at all) leaves the score unknown and the exit decided as without one. An event without
a picture costs nothing here.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as Overdue
from dataclasses import replace
from decimal import Decimal

from recognition.vehicle_match import match_score

from ..domain.events import LaneEvent
from ..domain.plates import normalise_plate
from ..domain.sessions import OPEN
from ..store import sessions
from ..store.engine import Store
from ..store.vault import ImageVault

log = logging.getLogger("parkgate")


class Pictures:
    def __init__(self, *, vault: ImageVault, store: Store, threshold: Decimal, deadline_s: float = 5.0,
                 workers: int = 2) -> None:
        """``threshold``: 0 turns the comparison off (pictures are still kept)."""
        self.vault = vault
        self.store = store
        self.threshold = threshold
        self.deadline_s = deadline_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parkgate-match")

    def kept(self, ev: LaneEvent) -> LaneEvent:
        """``ev`` with its picture's name in the vault and, at an exit, the match score."""
        image = ev.image
        if image is None:
            return ev
        ev = replace(ev, picture=self.vault.put(image))
        if ev.direction == "ENTRY" or not ev.plate_text or self.threshold <= 0:
            return ev
        with self.store.connection() as conn:
            stay = sessions.of_plate(conn, ev.facility_id, normalise_plate(ev.plate_text))
        if stay is None or stay.status != OPEN or stay.entry_image is None:
            return ev
        return replace(ev, image_match=self.score(stay.entry_image, image))

    def picture(self, name: str) -> bytes | None:
        """A kept picture's bytes; None when retention removed it."""
        try:
            return self.vault.get(name)
        except (OSError, ValueError):
            return None

    def score(self, entry_picture: str, exit_image: bytes) -> Decimal | None:
        """How alike, 0-1; None when the entry's picture is gone or the comparison fails or overruns."""
        entry_image = self.picture(entry_picture)
        if entry_image is None:
            log.warning("pictures: the entry picture is not in the vault (retention?); not compared")
            return None
        future = self._pool.submit(match_score, entry_image, exit_image)
        try:
            return Decimal(str(future.result(timeout=self.deadline_s)))
        except Overdue:
            future.cancel()
            log.warning("pictures: comparison overran %.1f s; not compared", self.deadline_s)
        except Exception as e:  # noqa: BLE001 - an unreadable picture: decided as without a score
            log.warning("pictures: comparison failed: %s", type(e).__name__)
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
