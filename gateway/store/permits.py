"""Permits: issued, revoked, looked up by plate where they apply."""

from dataclasses import asdict

from sqlalchemy import Connection, or_, select, update

from ..domain.permits import Permit
from .facts import applies_here
from .schema import PermitRecord, table_of
from .sealed import plate_is, readable

_PERMITS = table_of(PermitRecord)
_RECORD = select(*readable(_PERMITS))
_OF_PLATE_HERE = _RECORD.where(applies_here(_PERMITS))


def of_plate_here(conn: Connection, plate: str, facility_id: str) -> list[Permit]:
    """The plate's permits that apply in the facility (its own, and every facility's)."""
    rows = conn.execute(_OF_PLATE_HERE, {"plate": plate, "facility_id": facility_id})
    return [Permit(**row._mapping) for row in rows]


def get(conn: Connection, permit_number: str, for_update: bool = False) -> Permit | None:
    query = _RECORD.where(_PERMITS.c.permit_number == permit_number)
    row = conn.execute(query.with_for_update() if for_update else query).first()
    return Permit(**row._mapping) if row is not None else None


def insert(conn: Connection, permit: Permit) -> None:
    """A permit number taken fails here (``IntegrityError``)."""
    conn.execute(_PERMITS.insert(), asdict(permit))


def revoke(conn: Connection, revoked: Permit) -> None:
    conn.execute(update(_PERMITS).where(_PERMITS.c.permit_number == revoked.permit_number).values(
        state=revoked.state, revoked_at=revoked.revoked_at, revocation_reason=revoked.revocation_reason))


def listing(conn: Connection, plate: str | None = None, facility_id: str | None = None) -> list[Permit]:
    """By plate, by facility (its own and every facility's), or both; oldest first."""
    query = _RECORD.order_by(_PERMITS.c.issued_at, _PERMITS.c.permit_number)
    if plate:
        query = query.where(plate_is(_PERMITS, plate))
    if facility_id:
        query = query.where(or_(_PERMITS.c.facility_id == facility_id, _PERMITS.c.facility_id.is_(None)))
    return [Permit(**row._mapping) for row in conn.execute(query)]
