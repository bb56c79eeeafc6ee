"""Officers' shifts."""

import json
from decimal import Decimal

from sqlalchemy import Connection, select, update

from ..domain.shifts import OPEN, Shift
from .schema import ShiftRecord, table_of

_SHIFTS = table_of(ShiftRecord)


def _row(shift: Shift) -> dict:
    values = {c.name: getattr(shift, c.name) for c in _SHIFTS.c}
    values["declared"] = json.dumps({m: str(a) for m, a in shift.declared.items()}) if shift.declared else None
    return values


def _shift(row) -> Shift:
    values = dict(row._mapping)
    values["declared"] = {m: Decimal(a) for m, a in json.loads(values["declared"]).items()} \
        if values["declared"] else {}
    return Shift(**values)


def insert(conn: Connection, shift: Shift) -> None:
    """A second open shift of one officer fails here (``IntegrityError``)."""
    conn.execute(_SHIFTS.insert(), _row(shift))


def save(conn: Connection, shift: Shift) -> None:
    values = _row(shift)
    conn.execute(update(_SHIFTS).where(_SHIFTS.c.id == shift.id).values(values))


def get(conn: Connection, shift_id: str, for_update: bool = False) -> Shift | None:
    query = select(_SHIFTS).where(_SHIFTS.c.id == shift_id)
    row = conn.execute(query.with_for_update() if for_update else query).first()
    return _shift(row) if row is not None else None


def open_of(conn: Connection, officer: str, for_update: bool = False) -> Shift | None:
    query = select(_SHIFTS).where(_SHIFTS.c.officer == officer, _SHIFTS.c.state == OPEN)
    row = conn.execute(query.with_for_update() if for_update else query).first()
    return _shift(row) if row is not None else None


def latest_of(conn: Connection, officer: str) -> Shift | None:
    row = conn.execute(select(_SHIFTS).where(_SHIFTS.c.officer == officer)
                       .order_by(_SHIFTS.c.opened_at.desc()).limit(1)).first()
    return _shift(row) if row is not None else None
