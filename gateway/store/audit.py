"""The activity log: who did what to which record, and why; no plate text, no secrets."""

from datetime import datetime

from sqlalchemy import Connection

from .schema import AuditRecord, table_of

_AUDIT = table_of(AuditRecord)


def record(conn: Connection, at: datetime, username: str, action: str, subject: str, detail: str | None) -> None:
    conn.execute(_AUDIT.insert(), dict(at=at, username=username, action=action, subject=subject,
                                       detail=(detail or "")[:1000] or None))
