"""Sealed values re-sealed under the current key, a batch at a time: every sealed column of the
schema, found by its type (a table another part adds with :mod:`gateway.store.sealed` columns is
covered without a word here)."""

from collections import Counter
from typing import Any

from sqlalchemy import Column, Connection, LargeBinary, Table, Text, and_, func, select, tuple_, type_coerce, update

from .keyring import KeyRing, key_id_of
from .schema import Base
from .sealed import SealedBytes, is_sealed


def sealed_tables(metadata: Any = Base.metadata) -> list[tuple[Table, list[Column]]]:
    """Each table with sealed columns, and those columns."""
    found = []
    for table in metadata.sorted_tables:
        columns = [c for c in table.c if is_sealed(c)]
        if columns:
            found.append((table, columns))
    return found


def _raw(column: Column) -> Any:
    """The column as stored (sealed), not opened."""
    return type_coerce(column, LargeBinary() if isinstance(column.type, SealedBytes) else Text())


def census(conn: Connection, table: Table, columns: list[Column]) -> Counter:
    """How many values of the table each key seals (by the key id at the front of each value)."""
    counts: Counter = Counter()
    heads = [func.substr(_raw(c), 1, 20) for c in columns]
    for row in conn.execute(select(*heads)):
        for head in row:
            if head is not None:
                counts[key_id_of(head) or "unsealed"] += 1
    return counts


def reseal(conn: Connection, table: Table, columns: list[Column], keys: KeyRing, cursor: Any, limit: int
           ) -> tuple[int, Any, bool]:
    """Up to ``limit`` rows after ``cursor`` (their primary key; None: from the start) re-sealed where
    another key sealed them: (rows changed, cursor, whether the table is done). A row changed
    meanwhile (its sealed value no longer the one read) is left for the next pass."""
    key = list(table.primary_key.columns)
    by_key = tuple_(*key) if len(key) > 1 else key[0]
    query = select(*key, *[_raw(c).label(c.name) for c in columns]).order_by(*key).limit(limit)
    if cursor is not None:
        query = query.where(by_key > (tuple_(*cursor) if len(key) > 1 else cursor))
    rows = conn.execute(query).all()
    changed = 0
    for row in rows:
        stale = {c.name: row._mapping[c.name] for c in columns
                 if row._mapping[c.name] is not None and key_id_of(row._mapping[c.name]) != keys.current}
        if not stale:
            continue
        opened = {name: keys.open(bytes(value)) if isinstance(value, bytes | memoryview) else keys.open_text(value)
                  for name, value in stale.items()}
        same = and_(*[k == row._mapping[k.name] for k in key],
                    *[_raw(table.c[name]) == value for name, value in stale.items()])
        changed += conn.execute(update(table).where(same).values(opened)).rowcount
    last = rows[-1] if rows else None
    cursor = cursor if last is None else (tuple(last[:len(key)]) if len(key) > 1 else last[0])
    return changed, cursor, len(rows) < limit
