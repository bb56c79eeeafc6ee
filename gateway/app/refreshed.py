"""What admins set at run time (tariff and zone versions), read once per facility and kept for
``refresh_s``: lane events do not read it again on every event, and a version set on another
node is seen within that time; one set on this node at once (:meth:`PerFacility.forget`)."""

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Connection

from ..store.engine import Store

T = TypeVar("T")


class PerFacility(Generic[T]):
    def __init__(self, *, store: Store, load: Callable[[Connection, str], T], refresh_s: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.load = load
        self.refresh_s = refresh_s
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[float, T]] = {}

    def get(self, facility_id: str, conn: Connection | None = None) -> T:
        """``conn``: the caller's unit of work (read on it: a second one would wait for it)."""
        now = self.monotonic()
        with self._lock:
            kept = self._kept.get(facility_id)
        if kept is not None and now - kept[0] < self.refresh_s:
            return kept[1]
        if conn is not None:
            found = self.load(conn, facility_id)
        else:
            with self.store.connection() as own:
                found = self.load(own, facility_id)
        with self._lock:
            self._kept[facility_id] = (now, found)
        return found

    def forget(self, facility_id: str) -> None:
        with self._lock:
            self._kept.pop(facility_id, None)
