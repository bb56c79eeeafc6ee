"""What a report reads: the rollups (:mod:`gateway.store.rollups`, thousands of rows for a month
of a busy facility's million stays), the vehicles inside now, and the lost tickets (a few)."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, func, select

from .facts import OPEN
from .rollups import moved_since, revenue, traffic
from .schema import LostTicketRecord, SessionRecord, table_of

__all__ = ["lost_tickets", "occupied_at", "revenue", "traffic"]

_S = table_of(SessionRecord)
_L = table_of(LostTicketRecord)


def occupied_at(conn: Connection, facility_id: str, at: datetime) -> int:
    """Vehicles in at ``at`` (a quarter hour): those in now, less those that came since, plus those
    that left since."""
    open_now = conn.execute(select(func.count()).where(_S.c.facility_id == facility_id,
                                                       _S.c.status == OPEN)).scalar_one()
    came, went = moved_since(conn, facility_id, at)
    return open_now - came + went


def lost_tickets(conn: Connection, facility_id: str, start: datetime, end: datetime) -> tuple[int, Decimal]:
    rows = conn.execute(select(_L.c.charge).where(_L.c.facility_id == facility_id, _L.c.at >= start,
                                                  _L.c.at < end)).scalars().all()
    return len(rows), sum(rows, Decimal("0.00"))
