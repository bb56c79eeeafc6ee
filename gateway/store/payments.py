"""The payments journal: payments towards sessions, and the voids and refunds of them."""

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, or_, select

from ..domain.payments import PAYMENT, PaymentEntry
from ..domain.sessions import Payment
from ..domain.vehicle_types import DEFAULT as DEFAULT_VEHICLE_TYPE
from . import rollups
from .schema import PaymentRecord, SessionRecord, table_of

_PAYMENTS, _SESSIONS = table_of(PaymentRecord), table_of(SessionRecord)


def insert(conn: Connection, payment: Payment) -> None:
    """An integrator's payment (its lane and vehicle type not known here)."""
    conn.execute(_PAYMENTS.insert(), asdict(payment))
    rollups.paid(conn, payment.facility_id, payment.paid_at, payment.method, PAYMENT, None, None, payment.amount)


def revenue_by_method(conn: Connection, facility_id: str, since: datetime, until: datetime) -> dict[str, Decimal]:
    """What the facility's payments between ``since`` and ``until`` came to, per method (summed here,
    in Decimal: SQLite keeps amounts as text and would add them as floats)."""
    query = select(_PAYMENTS.c.method, _PAYMENTS.c.amount).join(
        _SESSIONS, _SESSIONS.c.id == _PAYMENTS.c.session_id).where(
        _SESSIONS.c.facility_id == facility_id, _PAYMENTS.c.paid_at >= since, _PAYMENTS.c.paid_at < until)
    totals: dict[str, Decimal] = {}
    for method, amount in conn.execute(query):
        totals[method] = totals.get(method, Decimal("0")) + amount
    return dict(sorted(totals.items()))


def insert_entry(conn: Connection, entry: PaymentEntry) -> None:
    conn.execute(_PAYMENTS.insert(), asdict(entry))
    rollups.paid(conn, entry.facility_id, entry.paid_at, entry.method, entry.kind, entry.vehicle_type,
                 entry.lane_number, entry.amount)


def _entry(row) -> PaymentEntry:
    m = dict(row._mapping)
    m["vehicle_type"] = m["vehicle_type"] or DEFAULT_VEHICLE_TYPE
    m["facility_id"] = m["facility_id"] or ""
    return PaymentEntry(**m)


def get(conn: Connection, payment_id: str) -> PaymentEntry | None:
    row = conn.execute(select(_PAYMENTS).where(_PAYMENTS.c.id == payment_id)).first()
    return _entry(row) if row is not None else None


def reversed_total(conn: Connection, original_id: str) -> Decimal:
    """What voids and refunds took back of a payment so far (negative, or 0)."""
    amounts = conn.execute(select(_PAYMENTS.c.amount).where(_PAYMENTS.c.original_id == original_id)).scalars()
    return sum(amounts, Decimal("0"))


def paid_as_of(conn: Connection, entry: PaymentEntry) -> Decimal:
    """What the session's journal held once ``entry`` was recorded: its lines up to ``entry``'s time,
    but for reversals of ``entry`` itself (recorded after it, even at the same instant)."""
    c = _PAYMENTS.c
    amounts = conn.execute(select(c.amount).where(
        c.session_id == entry.session_id, c.paid_at <= entry.paid_at,
        or_(c.original_id.is_(None), c.original_id != entry.id))).scalars()
    return sum(amounts, Decimal("0"))


def of_shift(conn: Connection, shift_id: str) -> list[PaymentEntry]:
    rows = conn.execute(select(_PAYMENTS).where(_PAYMENTS.c.shift_id == shift_id).order_by(_PAYMENTS.c.paid_at,
                                                                                             _PAYMENTS.c.id))
    return [_entry(row) for row in rows]
