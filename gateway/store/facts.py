"""What a lane decision reads about a plate in a facility, in one statement (one round trip)."""

from datetime import datetime

from sqlalchemy import (
    LABEL_STYLE_TABLENAME_PLUS_COL,
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
)

from ..domain.decisions import LaneFacts
from ..domain.hotlist import CATEGORIES
from ..domain.permits import Permit
from ..domain.sessions import ParkingSession
from .prepared import Prepared
from .schema import HotlistRecord, LostTicketRecord, PermitRecord, SessionRecord, UTCDateTime, table_of
from .sealed import plate_is, readable

_SESSIONS, _PERMITS, _HOTLIST = table_of(SessionRecord), table_of(PermitRecord), table_of(HotlistRecord)
_LOST = table_of(LostTicketRecord)
# A literal, as in the partial index's WHERE, so planners can use the index.
OPEN: ColumnElement[str] = literal_column("'OPEN'")


def applies_here(table):
    """Rows of ``table`` (permits, hotlist) about the plate bound as ``plate`` that apply in the
    facility bound as ``facility_id``: its own, and those of every facility (no facility_id)."""
    return and_(plate_is(table, bindparam("plate")),
                or_(table.c.facility_id == bindparam("facility_id"), table.c.facility_id.is_(None)))


OCCUPIED = select(func.count().label("occupied")).select_from(_SESSIONS).where(
    _SESSIONS.c.facility_id == bindparam("facility_id"), _SESSIONS.c.status == OPEN)


#: The rank (in CATEGORIES, most severe first) of the plate's most severe live hotlist entry here at
#: the bound ``now``, or NULL. Literals throughout: the lane-event path's statements bind only its facts.
_RANK = case(*((_HOTLIST.c.category == literal_column(f"'{c}'"), literal_column(str(i)))
               for i, c in enumerate(CATEGORIES)), else_=literal_column(str(len(CATEGORIES) - 1)))
HOTLISTED = select(func.min(_RANK)).where(
    applies_here(_HOTLIST),
    or_(_HOTLIST.c.expires_at.is_(None), _HOTLIST.c.expires_at > bindparam("now", type_=UTCDateTime()))) \
    .scalar_subquery()


#: Open sessions of the bound vehicle type in the bound zone (its spaces of that type taken).
ZONE_OCCUPIED = select(func.count()).select_from(_SESSIONS).where(
    _SESSIONS.c.facility_id == bindparam("facility_id"), _SESSIONS.c.zone_id == bindparam("zone_id"),
    _SESSIONS.c.vehicle_type == bindparam("vehicle_type"), _SESSIONS.c.status == OPEN)


def _statement(occupancy: bool, zone: bool = False) -> Select:
    """Whether the plate is hotlisted, its open session there and its permits, one row per permit
    (at least one row); with ``occupancy``, also the facility's count of open sessions (entries
    need it; counting on every exit would cost large facilities for nothing); without it (exits),
    the charge of a lost ticket processed for the open session. ``zone``: also the spaces of the
    vehicle's type taken in the lane's zone (entries at a lane of a zone)."""
    facts = [HOTLISTED.label("hotlisted")]
    if occupancy:
        facts.append(OCCUPIED.scalar_subquery().label("occupied"))
    if zone:
        facts.append(ZONE_OCCUPIED.scalar_subquery().label("zone_occupied"))
    subquery = select(*facts).subquery("facts")
    session, permit = _SESSIONS.alias("open_session"), _PERMITS.alias("permit")
    joined = subquery.outerjoin(session, and_(session.c.facility_id == bindparam("facility_id"),
                                              plate_is(session, bindparam("plate")), session.c.status == OPEN)) \
        .outerjoin(permit, applies_here(permit))
    lost = [] if occupancy else [
        select(func.max(_LOST.c.charge)).where(_LOST.c.session_id == session.c.id).scalar_subquery()
        .label("lost_charge")]
    return select(subquery, *readable(session), *readable(permit), *lost).select_from(joined) \
        .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)


#: Direction -> the statement (exits do not count occupancy); entries into a zone count it too.
STATEMENTS = {"ENTRY": Prepared(_statement(occupancy=True)), "EXIT": Prepared(_statement(occupancy=False))}
ZONE_ENTRY = Prepared(_statement(occupancy=True, zone=True))
_SESSION_KEYS = [(f"open_session_{c.name}", c.name) for c in readable(_SESSIONS)]
_PERMIT_KEYS = [(f"permit_{c.name}", c.name) for c in readable(_PERMITS)]


def of_plate(conn: Connection, facility_id: str, plate: str, direction: str, now: datetime,
             zone_id: str | None = None, vehicle_type: str | None = None) -> LaneFacts:
    """What is known about the plate there at ``now`` (hotlist entries expired by then do not count);
    an entry with ``zone_id``: also the spaces of ``vehicle_type`` taken in that zone."""
    params = {"plate": plate, "facility_id": facility_id, "now": now}
    if direction == "ENTRY" and zone_id is not None:
        rows = ZONE_ENTRY.rows(conn, {**params, "zone_id": zone_id, "vehicle_type": vehicle_type})
    else:
        rows = STATEMENTS[direction].rows(conn, params)
    first = rows[0]
    session = None
    if first["open_session_id"] is not None:
        session = ParkingSession(**{name: first[key] for key, name in _SESSION_KEYS})
    permits = tuple(Permit(**{name: row[key] for key, name in _PERMIT_KEYS})
                    for row in rows if row["permit_permit_number"] is not None)
    rank = first["facts_hotlisted"]
    return LaneFacts(None if rank is None else CATEGORIES[rank], first.get("facts_occupied"), session, permits,
                     lost_charge=first.get("lost_charge"), zone_occupied=first.get("facts_zone_occupied"))
