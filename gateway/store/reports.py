"""The aggregates a report is made of, summed by the database (reports read millions of rows)."""

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import Connection, Float, and_, case, cast, func, select

from ..domain.reports import STAY_BANDS
from .schema import LostTicketRecord, PaymentRecord, SessionRecord, table_of

_P = table_of(PaymentRecord)
_S = table_of(SessionRecord)
_L = table_of(LostTicketRecord)


def _hour(conn: Connection, column):
    if conn.dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H", column)
    return func.to_char(column, "YYYY-MM-DD HH24")


def _hours_between(conn: Connection, a, b):
    if conn.dialect.name == "sqlite":
        return (func.julianday(b) - func.julianday(a)) * 24
    return func.extract("epoch", b - a) / 3600


def _amount(conn: Connection):
    """SQLite keeps amounts as exact text: it sums them as floating point, rounded back to cents
    (exact for cent amounts far beyond any facility's takings)."""
    return func.sum(cast(_P.c.amount, Float)) if conn.dialect.name == "sqlite" else func.sum(_P.c.amount)


def to_money(value) -> Decimal:
    return Decimal("0.00") if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def revenue(conn: Connection, facility_id: str, start: datetime, end: datetime) -> list[tuple]:
    """(method, kind, vehicle type, lane, count, amount) per group of the period's journal."""
    query = select(_P.c.method, _P.c.kind, _P.c.vehicle_type, _P.c.lane_number, func.count(),
                   _amount(conn).label("amount")) \
        .where(_P.c.facility_id == facility_id, _P.c.paid_at >= start, _P.c.paid_at < end) \
        .group_by(_P.c.method, _P.c.kind, _P.c.vehicle_type, _P.c.lane_number)
    return [(m, k, v, lane, n, to_money(a)) for m, k, v, lane, n, a in conn.execute(query)]


def _utc_hours(rows) -> dict[datetime, int]:
    return {datetime.strptime(h, "%Y-%m-%d %H").replace(tzinfo=timezone.utc): n for h, n in rows}


def entries_per_hour(conn: Connection, facility_id: str, start: datetime, end: datetime) -> dict[datetime, int]:
    hour = _hour(conn, _S.c.entry_time)
    return _utc_hours(conn.execute(select(hour, func.count()).where(
        _S.c.facility_id == facility_id, _S.c.entry_time >= start, _S.c.entry_time < end).group_by(hour)))


def exits_per_hour(conn: Connection, facility_id: str, start: datetime, end: datetime) -> dict[datetime, int]:
    hour = _hour(conn, _S.c.exit_time)
    return _utc_hours(conn.execute(select(hour, func.count()).where(
        _S.c.exit_time >= start, _S.c.exit_time < end, _S.c.facility_id == facility_id).group_by(hour)))


def stays(conn: Connection, facility_id: str, start: datetime, end: datetime) -> dict[int, int]:
    """Stays that ended in the period, per band of :data:`STAY_BANDS` (by index)."""
    hours = _hours_between(conn, _S.c.entry_time, _S.c.exit_time)
    band = case(*[(hours < upper, i) for i, (_, upper) in enumerate(STAY_BANDS) if upper is not None],
                else_=len(STAY_BANDS) - 1)
    rows = conn.execute(select(band, func.count()).where(
        _S.c.exit_time >= start, _S.c.exit_time < end, _S.c.facility_id == facility_id).group_by(band))
    return {int(b): n for b, n in rows}


def occupied_at(conn: Connection, facility_id: str, at: datetime) -> int:
    """Vehicles in at ``at``: those in now, less those that came since, plus those that left since."""
    open_now = conn.execute(select(func.count()).where(_S.c.facility_id == facility_id,
                                                       _S.c.status == "OPEN")).scalar_one()
    came = conn.execute(select(func.count()).where(_S.c.facility_id == facility_id,
                                                   _S.c.entry_time >= at)).scalar_one()
    left = conn.execute(select(func.count()).where(and_(_S.c.exit_time >= at, _S.c.facility_id == facility_id))
                        ).scalar_one()
    return open_now - came + left


def lost_tickets(conn: Connection, facility_id: str, start: datetime, end: datetime) -> tuple[int, Decimal]:
    rows = conn.execute(select(_L.c.charge).where(_L.c.facility_id == facility_id, _L.c.at >= start,
                                                  _L.c.at < end)).scalars().all()
    return len(rows), sum(rows, Decimal("0.00"))
