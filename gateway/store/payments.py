"""Payments towards parking sessions."""

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, select

from ..domain.sessions import Payment
from .schema import PaymentRecord, SessionRecord, table_of

_PAYMENTS, _SESSIONS = table_of(PaymentRecord), table_of(SessionRecord)


def insert(conn: Connection, payment: Payment) -> None:
    conn.execute(_PAYMENTS.insert(), asdict(payment))


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
