"""Sealed values re-sealed under the current key, and blind indexes rewritten under the current index
key, a batch at a time: every sealed column and every blind index of the schema, found by its type
(a table another part adds with :mod:`gateway.store.sealed` columns is covered without a word here).
Each batch reads on from where the last stopped (by primary key), so none costs more than the first.
"""

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    LargeBinary,
    String,
    Table,
    Text,
    and_,
    func,
    select,
    tuple_,
    type_coerce,
    update,
)

from .keyring import KeyRing, seal_head
from .schema import Base
from .sealed import SealedBytes, is_index, is_sealed, place_of


def sealed_tables(metadata: Any = Base.metadata) -> list[tuple[Table, list[Column]]]:
    """Each table with sealed columns, and those columns."""
    return _tables_with(metadata, is_sealed)


def indexed_tables(metadata: Any = Base.metadata) -> list[tuple[Table, list[Column]]]:
    """Each table with blind indexes, and those indexes."""
    return _tables_with(metadata, is_index)


def _tables_with(metadata: Any, kind) -> list[tuple[Table, list[Column]]]:
    found = []
    for table in metadata.sorted_tables:
        columns = [c for c in table.c if kind(c)]
        if columns:
            found.append((table, columns))
    return found


def _raw(column: Column) -> Any:
    """The column as stored (sealed, or the index itself), not opened."""
    if is_index(column):
        return type_coerce(column, String())
    return type_coerce(column, LargeBinary() if isinstance(column.type, SealedBytes) else Text())


def _page(table: Table, columns: list, cursor: Any, limit: int) -> Any:
    """``columns`` of up to ``limit`` rows after ``cursor`` (their primary key), the key first."""
    key = list(table.primary_key.columns)
    query = select(*key, *columns).order_by(*key).limit(limit)
    if cursor is not None:
        query = query.where(tuple_(*key) > tuple_(*cursor) if len(key) > 1 else key[0] > cursor)
    return query


def _next(table: Table, rows: Sequence[Any], cursor: Any) -> Any:
    width = len(table.primary_key.columns)
    if not rows:
        return cursor
    return tuple(rows[-1][:width]) if width > 1 else rows[-1][0]


def census(conn: Connection, table: Table, columns: list[Column], cursor: Any, limit: int
           ) -> tuple[Counter, Any, bool]:
    """Up to ``limit`` rows after ``cursor``: how many of their values each key and format seals
    (``k2@2``; ``k1`` for a value of format 1), the cursor, whether the table is done. Read a batch
    at a time, on a connection that only reads: a census never holds the writer."""
    counts: Counter = Counter()
    rows = conn.execute(_page(table, [func.substr(_raw(c), 1, 20) for c in columns], cursor, limit)).all()
    width = len(table.primary_key.columns)
    for row in rows:
        for head in row[width:]:
            if head is not None:
                counts[seal_head(head) or "unsealed"] += 1
    return counts, _next(table, rows, cursor), len(rows) < limit


def reseal(conn: Connection, table: Table, columns: list[Column], keys: KeyRing, cursor: Any, limit: int
           ) -> tuple[int, Any, bool]:
    """Up to ``limit`` rows after ``cursor`` (their primary key; None: from the start) re-sealed where
    another key sealed them, or the current one in format 1 (unbound): (rows changed, cursor,
    whether the table is done). A row changed meanwhile (its sealed value no longer the one read)
    is left for the next pass."""
    key = list(table.primary_key.columns)
    rows = conn.execute(_page(table, [_raw(c).label(c.name) for c in columns], cursor, limit)).all()
    changed = 0
    for row in rows:
        stale = {c: row._mapping[c.name] for c in columns
                 if row._mapping[c.name] is not None and not keys.is_current(row._mapping[c.name])}
        if not stale:
            continue
        opened = {c.name: (keys.open(bytes(value), place_of(c)) if isinstance(value, bytes | memoryview)
                           else keys.open_text(value, place_of(c))) for c, value in stale.items()}
        same = and_(*[k == row._mapping[k.name] for k in key],
                    *[_raw(c) == value for c, value in stale.items()])
        changed += conn.execute(update(table).where(same).values(opened)).rowcount
    return changed, _next(table, rows, cursor), len(rows) < limit


def reindex(conn: Connection, table: Table, indexes: list[Column], keys: KeyRing, cursor: Any, limit: int
            ) -> tuple[int, Any, bool]:
    """Up to ``limit`` rows after ``cursor`` whose blind indexes are not the current index key's
    (during an index rotation: the old key's) given it: (rows changed, cursor, whether the table is
    done). The plate is read (opened) from the column each index is of; a row changed meanwhile
    (its index no longer the one read) is left to the writer, which indexed it under the new key."""
    key = list(table.primary_key.columns)
    plates = [table.c[c.name[:-len("_index")]] for c in indexes]
    rows = conn.execute(_page(table, [*[_raw(c).label(c.name) for c in indexes], *plates], cursor, limit)).all()
    changed = 0
    for row in rows:
        values = row._mapping
        stale = {c: values[plate.name] for c, plate in zip(indexes, plates)
                 if values[plate.name] is not None and values[c.name] != keys.blind(values[plate.name])}
        if not stale:
            continue
        same = and_(*[k == row._mapping[k.name] for k in key], *[_raw(c) == row._mapping[c.name] for c in stale])
        changed += conn.execute(update(table).where(same).values({c.name: plate for c, plate in stale.items()})
                                ).rowcount
    return changed, _next(table, rows, cursor), len(rows) < limit

