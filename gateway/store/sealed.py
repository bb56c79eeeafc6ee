"""Plates (and what holds them) sealed at rest: the column types every table with a plate uses.

The seam, for a table of your own::

    class TicketRecord(Base):
        plate = plate_column(nullable=False)       # AES-GCM, the key id in the value
        plate_index = plate_index_column()         # HMAC-SHA256 of the plate, for look-ups

    conn.execute(T.insert(), dict(plate=p, ...))            # plate_index is filled from plate
    conn.execute(select(*readable(T)).where(plate_is(T, p)))  # never T.c.plate == p
    conn.execute(update(T).where(...).values(**plate_values(None)))  # a changed plate: both columns

- :class:`Sealed` (text) and :class:`SealedBytes` (pictures) encrypt on the way in and decrypt on the
  way out, with the key ring of the engine they run on (:func:`attach`; ``Store`` does it): the
  repositories read and write plain values, Core and :class:`gateway.store.prepared.Prepared` alike.
  Comparing a sealed column (``==``, ``IN``, ``LIKE``) raises: each value has a random nonce, so it
  would never match; compare the blind index instead (an ``IS NULL`` test is fine).
- :class:`BlindIndex` takes the plate itself and stores its keyed hash: ``T.c.plate_index == plate``
  blinds the bound plate the same way. Its default copies the plate given in an INSERT
  (:func:`plate_index_column`); an UPDATE that changes the plate sets both (:func:`plate_values`).
- Documents that quote the plate (lane events', the outbox's, frame windows' readings) are
  :class:`Sealed` columns too; ``parkgate keys rotate`` re-seals every sealed column of the schema
  (:mod:`gateway.store.rotation`) and erasure finds rows by every blind index.
- Sorting or searching by part of a plate cannot happen in SQL: sort what was read, in Python.
"""

from typing import Any

from sqlalchemy import Column, LargeBinary, String, Text
from sqlalchemy.orm import mapped_column
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from .keyring import KeyRing, KeyRingError

_ATTR = "parkgate_keyring"
# What a sealed column may still be asked (is it there at all).
_ALLOWED = {operators.is_, operators.is_not, operators.isnot}


def attach(engine: Any, keys: KeyRing) -> None:
    """The key ring the sealed columns use on ``engine`` (kept on its dialect, which every
    processor is given)."""
    setattr(engine.dialect, _ATTR, keys)


def ring(dialect: Any) -> KeyRing:
    keys = getattr(dialect, _ATTR, None)
    if keys is None:
        raise KeyRingError("this engine has no key ring: sealed columns need one (gateway.store.sealed.attach)")
    return keys


class _Sealing(TypeDecorator):
    cache_ok = True

    class Comparator(TypeDecorator.Comparator):
        def operate(self, op, *other, **kwargs):
            if op not in _ALLOWED:
                raise TypeError("a sealed column cannot be compared (its values differ every time): "
                                "compare its blind index (gateway.store.sealed.plate_is)")
            return super().operate(op, *other, **kwargs)

    comparator_factory = Comparator


class Sealed(_Sealing):
    """Text sealed with the engine's key ring: ``k1:`` and base64 of nonce, ciphertext and tag."""
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else ring(dialect).seal_text(value)

    def process_result_value(self, value, dialect):
        return None if value is None else ring(dialect).open_text(value)


class SealedBytes(_Sealing):
    """Bytes (a picture) sealed with the engine's key ring: ``k1:``, nonce, ciphertext and tag."""
    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else ring(dialect).seal(value)

    def process_result_value(self, value, dialect):
        return None if value is None else ring(dialect).open(value)


class BlindIndex(TypeDecorator):
    """A plate in, its keyed hash stored (and compared): equality look-ups without the plate."""
    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else ring(dialect).blind(value)


def plate_column(nullable: bool = True) -> Any:
    return mapped_column(Sealed(), nullable=nullable)


def plate_index_column(of: str = "plate", index: bool = True) -> Any:
    """The blind index of the column ``of``, named ``{of}_index``; an INSERT that gives the plate
    fills it (a statement compiled for given keys, as :class:`Prepared` is, must give it too)."""
    def copy(context):
        return context.get_current_parameters().get(of)
    return mapped_column(BlindIndex(), name=f"{of}_index", default=copy, index=index, nullable=True)


def plate_is(table: Any, plate: Any, of: str = "plate"):
    """Rows of ``table`` (or an alias of one) whose plate (column ``of``) is ``plate`` (a value or a ``bindparam``)."""
    return table.c[f"{of}_index"] == plate


def plate_values(plate: str | None, of: str = "plate") -> dict[str, str | None]:
    """What an UPDATE sets to change the plate: the plate and its index."""
    return {of: plate, f"{of}_index": plate}


def is_index(column: Column) -> bool:
    return isinstance(column.type, BlindIndex)


def is_sealed(column: Column) -> bool:
    return isinstance(column.type, _Sealing)


def readable(table: Any) -> list[Column]:
    """The table's columns but its blind indexes: what its records are made of."""
    return [c for c in table.c if not is_index(c)]
