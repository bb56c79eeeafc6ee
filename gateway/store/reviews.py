"""The review queue: lane events waiting for a person, and how each was resolved."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, func, select, update

from ..domain.reviews import OPEN, RESOLVED, Review
from .schema import ReviewRecord, table_of
from .sealed import plate_values, readable

_REVIEWS = table_of(ReviewRecord)
_RECORD = select(*readable(_REVIEWS))


def insert(conn: Connection, *, event_id: str, facility_id: str, camera_id: str, direction: str,
           occurred_at: datetime, reason: str, plate: str | None, confidence: Decimal | None,
           image: bytes | None, image_url: str | None, created_at: datetime) -> None:
    conn.execute(_REVIEWS.insert(), dict(
        event_id=event_id, facility_id=facility_id, camera_id=camera_id, direction=direction,
        occurred_at=occurred_at, reason=reason, plate=plate, confidence=confidence, image=image,
        image_url=image_url, state=OPEN, created_at=created_at))


def open_of_event(conn: Connection, event_id: str) -> int | None:
    """The id of the event's open review, if it has one."""
    return conn.execute(select(_REVIEWS.c.id).where(_REVIEWS.c.event_id == event_id,
                                                    _REVIEWS.c.state == OPEN)).scalar()


def get(conn: Connection, review_id: int, for_update: bool = False) -> Review | None:
    query = _RECORD.where(_REVIEWS.c.id == review_id)
    row = conn.execute(query.with_for_update() if for_update else query).first()
    return Review(**row._mapping) if row is not None else None


def resolve(conn: Connection, review_id: int, at: datetime, by: str, plate: str, outcome: str) -> None:
    conn.execute(update(_REVIEWS).where(_REVIEWS.c.id == review_id).values(
        state=RESOLVED, resolved_at=at, resolved_by=by, outcome=outcome, **plate_values(plate, "resolved_plate")))


def listing(conn: Connection, state: str, facility_id: str | None, limit: int) -> list[Review]:
    """Oldest first."""
    query = _RECORD.where(_REVIEWS.c.state == state).order_by(_REVIEWS.c.id).limit(limit)
    if facility_id:
        query = query.where(_REVIEWS.c.facility_id == facility_id)
    return [Review(**row._mapping) for row in conn.execute(query)]


def resolved_with_images(conn: Connection, since: datetime | None) -> list[Review]:
    """Resolved reviews that kept their picture (resolved at or after ``since``), oldest first."""
    query = _RECORD.where(_REVIEWS.c.state == RESOLVED, _REVIEWS.c.image.is_not(None)).order_by(_REVIEWS.c.id)
    if since is not None:
        query = query.where(_REVIEWS.c.resolved_at >= since)
    return [Review(**row._mapping) for row in conn.execute(query)]


def count(conn: Connection, state: str, facility_id: str | None) -> int:
    query = select(func.count()).select_from(_REVIEWS).where(_REVIEWS.c.state == state)
    if facility_id:
        query = query.where(_REVIEWS.c.facility_id == facility_id)
    return conn.execute(query).scalar_one()
