"""Frame windows kept in the database, for several gateway nodes: the vehicle a lane saw last (its
event, when it was first seen, the readings of its frames), so that a burst of frames spread over
nodes by a load balancer is still one vehicle. A lane's window is read and written under the lane's
lock (:func:`lane_lock`), an advisory lock every node takes in turn."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, insert, select, text, update

from .engine import Store
from .schema import LaneWindowRecord, table_of
from .turns import lock_key

_WINDOWS = table_of(LaneWindowRecord)


@contextmanager
def lane_lock(store: Store, facility_id: str, camera_id: str) -> Iterator[None]:
    """The lane's frames in turn across every node (PostgreSQL's session advisory lock, on a
    connection of its own for the block's length)."""
    key = lock_key("frames", facility_id, camera_id)
    with store.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def get(conn: Connection, facility_id: str, camera_id: str, direction: str
        ) -> tuple[str, datetime, list[tuple[str, float]]] | None:
    T = _WINDOWS
    row = conn.execute(select(T.c.event_id, T.c.first_seen, T.c.readings).where(
        T.c.facility_id == facility_id, T.c.camera_id == camera_id, T.c.direction == direction)).first()
    if row is None:
        return None
    return row.event_id, row.first_seen, [(plate, confidence) for plate, confidence in json.loads(row.readings)]


def put(conn: Connection, facility_id: str, camera_id: str, direction: str, event_id: str, first_seen: datetime,
        readings: list[tuple[str, float]]) -> None:
    T = _WINDOWS
    values = dict(event_id=event_id, first_seen=first_seen, readings=json.dumps(readings))
    where = (T.c.facility_id == facility_id, T.c.camera_id == camera_id, T.c.direction == direction)
    if conn.execute(update(T).where(*where).values(values)).rowcount == 0:
        conn.execute(insert(T).values(facility_id=facility_id, camera_id=camera_id, direction=direction, **values))
