"""Tickets, lost tickets, and the open sessions a facility's overnight list is made of."""

from collections.abc import Mapping
from dataclasses import asdict, fields
from datetime import datetime

from sqlalchemy import Connection, and_, delete, or_, select, update

from ..contract.documents import parse
from ..contract.namespace import NS
from ..domain.sessions import ParkingSession
from ..domain.tickets import LostTicket, Ticket
from .prepared import Prepared
from .schema import LaneEventRecord, LostTicketRecord, ReviewRecord, SessionRecord, TicketRecord, table_of
from .sealed import readable

_TICKETS = table_of(TicketRecord)
_LOST = table_of(LostTicketRecord)
_SESSIONS = table_of(SessionRecord)
_EVENTS = table_of(LaneEventRecord)
_REVIEWS = table_of(ReviewRecord)
# Every transient entry issues one: compiled once, run on the cursor (asdict() would deep-copy the record).
_TICKET_FIELDS = [f.name for f in fields(Ticket)]
_INSERT = Prepared(_TICKETS.insert(), _TICKET_FIELDS)


def insert(conn: Connection, ticket: Ticket) -> None:
    """A number already used in the facility fails here (``IntegrityError``)."""
    _INSERT.run(conn, {name: getattr(ticket, name) for name in _TICKET_FIELDS})


def get(conn: Connection, facility_id: str, number: str) -> Ticket | None:
    row = conn.execute(select(_TICKETS).where(_TICKETS.c.facility_id == facility_id,
                                              _TICKETS.c.number == number)).first()
    return Ticket(**row._mapping) if row is not None else None


def of_session(conn: Connection, session_id: str) -> Ticket | None:
    row = conn.execute(select(_TICKETS).where(_TICKETS.c.session_id == session_id)).first()
    return Ticket(**row._mapping) if row is not None else None


def close(conn: Connection, ticket: Ticket, state: str, at: datetime) -> None:
    conn.execute(update(_TICKETS).where(_TICKETS.c.facility_id == ticket.facility_id,
                                        _TICKETS.c.number == ticket.number).values(state=state, closed_at=at))


def insert_lost(conn: Connection, lost: LostTicket) -> None:
    conn.execute(_LOST.insert(), asdict(lost))


def lost_of_session(conn: Connection, session_id: str) -> LostTicket | None:
    row = conn.execute(select(_LOST).where(_LOST.c.session_id == session_id).order_by(_LOST.c.at.desc())).first()
    return LostTicket(**row._mapping) if row is not None else None


def lost_of_shift(conn: Connection, shift_id: str) -> list[LostTicket]:
    return [LostTicket(**row._mapping) for row in conn.execute(select(_LOST).where(_LOST.c.shift_id == shift_id))]


def entry_image(conn: Connection, event_id: str) -> tuple[str | None, bytes | None]:
    """The picture an entry was decided on: its URL (as the event gave it) and, when a person
    reviewed it, the image itself."""
    document = conn.execute(select(_EVENTS.c.document).where(_EVENTS.c.event_id == event_id)).scalar()
    url = None
    if document:
        found = parse(document).find(f"{{{NS}}}Image/{{{NS}}}OriginalURL")
        url = found.text if found is not None else None
    image = conn.execute(select(_REVIEWS.c.image).where(_REVIEWS.c.event_id == event_id)).scalar()
    return url, image


def lost_between(conn: Connection, facility_id: str | None, since: datetime, until: datetime,
                 recorded_by: str | None = None) -> list[LostTicket]:
    query = select(_LOST).where(_LOST.c.at >= since, _LOST.c.at < until)
    if facility_id is not None:
        query = query.where(_LOST.c.facility_id == facility_id)
    if recorded_by is not None:
        query = query.where(_LOST.c.recorded_by == recorded_by)
    return [LostTicket(**row._mapping) for row in conn.execute(query.order_by(_LOST.c.at))]


def open_entered_before(conn: Connection, facility_id: str, before: Mapping[str, datetime],
                        limit: int) -> list[tuple[ParkingSession, Ticket | None]]:
    """Open sessions of the facility that entered before the instant ``before`` gives their vehicle
    type, oldest first, with their tickets."""
    S = _SESSIONS.c
    entered = or_(*[and_(S.vehicle_type == kind, S.entry_time < at) for kind, at in before.items()])
    query = select(*readable(_SESSIONS), *[c.label(f"t_{c.name}") for c in _TICKETS.c]) \
        .select_from(_SESSIONS.outerjoin(_TICKETS, _TICKETS.c.session_id == _SESSIONS.c.id)) \
        .where(S.facility_id == facility_id, S.status == "OPEN", entered).order_by(S.entry_time).limit(limit)
    out = []
    for row in conn.execute(query):
        m = row._mapping
        session = ParkingSession(**{c.name: m[c] for c in readable(_SESSIONS)})
        ticket = Ticket(**{c.name: m[f"t_{c.name}"] for c in _TICKETS.c}) if m["t_number"] is not None else None
        out.append((session, ticket))
    return out


def purge_closed(conn: Connection, cutoff: datetime, limit: int, cursor=None):
    """A retention step (before ``closed_sessions``): the tickets and lost tickets of sessions that
    closed before ``cutoff``."""
    ids = [row[0] for row in conn.execute(
        select(_SESSIONS.c.id).where(_SESSIONS.c.status == "CLOSED", _SESSIONS.c.exit_time < cutoff)
        .where(_SESSIONS.c.id.in_(select(_TICKETS.c.session_id).union(select(_LOST.c.session_id))))
        .order_by(_SESSIONS.c.exit_time).limit(limit))]
    if ids:
        conn.execute(delete(_LOST).where(_LOST.c.session_id.in_(ids)))
        conn.execute(delete(_TICKETS).where(_TICKETS.c.session_id.in_(ids)))
    return len(ids), None, len(ids) < limit
