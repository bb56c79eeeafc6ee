"""Lane events as recorded: one per EventID, with the outcome replayed on duplicates."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, bindparam, delete, select

from ..domain.events import RecordedEvent
from .prepared import Prepared
from .schema import LaneEventRecord, table_of

_EVENTS = table_of(LaneEventRecord)
_BY_ID = select(_EVENTS.c.event_id, _EVENTS.c.document, _EVENTS.c.decision, _EVENTS.c.reason,
                _EVENTS.c.session_id, _EVENTS.c.fingerprint).where(_EVENTS.c.event_id == bindparam("event_id"))
# Every lane event runs it: compiled once, run on the cursor; every column but the database's id.
_INSERT = Prepared(_EVENTS.insert(), [key for key in _EVENTS.c.keys() if key != "id"])


def insert(conn: Connection, *, event_id: str, facility_id: str, camera_id: str, direction: str,
           occurred_at: datetime, recorded_at: datetime, plate: str | None, confidence: Decimal | None,
           decision: str, reason: str, session_id: str | None, document: str, fingerprint: str | None) -> None:
    """A duplicate EventID fails here (``IntegrityError``), rolling back the whole unit."""
    _INSERT.run(conn, dict(event_id=event_id, facility_id=facility_id, camera_id=camera_id, direction=direction,
                           occurred_at=occurred_at, recorded_at=recorded_at, plate=plate, plate_index=plate,
                           confidence=confidence,
                           decision=decision, reason=reason, session_id=session_id, document=document,
                           fingerprint=fingerprint))


def by_id(conn: Connection, event_id: str) -> RecordedEvent | None:
    row = conn.execute(_BY_ID, {"event_id": event_id}).first()
    return RecordedEvent(**row._mapping) if row is not None else None


def remove(conn: Connection, event_id: str) -> None:
    conn.execute(delete(_EVENTS).where(_EVENTS.c.event_id == event_id))
