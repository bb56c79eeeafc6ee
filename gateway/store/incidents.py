"""Lane incidents: what a lane's PLC reported or failed to do."""

from datetime import datetime

from sqlalchemy import Connection

from .schema import IncidentRecord, table_of

_INCIDENTS = table_of(IncidentRecord)


def record(conn: Connection, at: datetime, facility_id: str, lane_number: int, kind: str, event_id: str | None,
           detail: str | None) -> None:
    conn.execute(_INCIDENTS.insert(), dict(at=at, facility_id=facility_id, lane_number=lane_number, kind=kind,
                                           event_id=event_id, detail=(detail or "")[:500] or None))
