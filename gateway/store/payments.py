"""Payments towards parking sessions."""

from dataclasses import asdict

from sqlalchemy import Connection

from ..domain.sessions import Payment
from .schema import PaymentRecord

_PAYMENTS = PaymentRecord.__table__


def insert(conn: Connection, payment: Payment) -> None:
    conn.execute(_PAYMENTS.insert(), asdict(payment))
