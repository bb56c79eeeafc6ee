"""Payments towards parking sessions."""

from dataclasses import asdict

from sqlalchemy import Connection

from ..domain.sessions import Payment
from .schema import PaymentRecord, table_of

_PAYMENTS = table_of(PaymentRecord)


def insert(conn: Connection, payment: Payment) -> None:
    conn.execute(_PAYMENTS.insert(), asdict(payment))
