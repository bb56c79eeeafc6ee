"""The payments journal: payments towards sessions, and the voids and refunds of them."""

from dataclasses import asdict
from decimal import Decimal

from sqlalchemy import Connection, select

from ..domain.payments import PaymentEntry
from ..domain.sessions import Payment
from ..domain.tickets import DEFAULT_VEHICLE_TYPE
from .schema import PaymentRecord, table_of

_PAYMENTS = table_of(PaymentRecord)


def insert(conn: Connection, payment: Payment) -> None:
    conn.execute(_PAYMENTS.insert(), asdict(payment))


def insert_entry(conn: Connection, entry: PaymentEntry) -> None:
    conn.execute(_PAYMENTS.insert(), asdict(entry))


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


def of_shift(conn: Connection, shift_id: str) -> list[PaymentEntry]:
    rows = conn.execute(select(_PAYMENTS).where(_PAYMENTS.c.shift_id == shift_id).order_by(_PAYMENTS.c.paid_at,
                                                                                             _PAYMENTS.c.id))
    return [_entry(row) for row in rows]
