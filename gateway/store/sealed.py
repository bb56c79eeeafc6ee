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
  Each value is bound to its table and column (``lane_events.plate``, AES-GCM's associated data,
  given to the column when its table is made): a sealed value copied into another column does not
  open there.
  Comparing a sealed column (``==``, ``IN``, ``LIKE``) raises: each value has a random nonce, so it
  would never match; compare the blind index instead (an ``IS NULL`` test is fine).
- :class:`BlindIndex` takes the plate itself and stores its keyed hash: ``T.c.plate_index == plate``
  blinds the bound plate the same way, and matches the index under either key while the index key
  is rotated (``plate_index IN (substr(:p, 1, 32), substr(:p, 33, 32))``, both from one bound value:
  :meth:`KeyRing.blinds`; still one index look-up). Its default copies the plate given in an INSERT
  (:func:`plate_index_column`); an UPDATE that changes the plate sets both (:func:`plate_values`).
- Documents that quote the plate (lane events', the outbox's, frame windows' readings) are
  :class:`Sealed` columns too; ``parkgate keys rotate`` re-seals every sealed column of the schema
  (:mod:`gateway.store.rotation`) and erasure finds rows by every blind index.
- Sorting or searching by part of a plate cannot happen in SQL: sort what was read, in Python.
"""

from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    event,
    func,
    literal,
    literal_column,
)
from sqlalchemy.orm import mapped_column
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from .keyring import INDEX, KeyRing, KeyRingError

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
    """``place``: the ``table.column`` each value is bound to (set when the column joins its table)."""
    cache_ok = True

    def __init__(self, place: str | None = None) -> None:
        super().__init__()
        self.place = place

    @property
    def _aad(self) -> bytes:
        if self.place is None:
            raise KeyRingError("a sealed column outside a table has no place to bind its values to")
        return self.place.encode()

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
        return None if value is None else ring(dialect).seal_text(value, self._aad)

    def process_result_value(self, value, dialect):
        return None if value is None else ring(dialect).open_text(value, self._aad)


class SealedBytes(_Sealing):
    """Bytes (a picture) sealed with the engine's key ring: ``k1:``, nonce, ciphertext and tag."""
    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else ring(dialect).seal(value, self._aad)

    def process_result_value(self, value, dialect):
        return None if value is None else ring(dialect).open(value, self._aad)


@event.listens_for(Column, "after_parent_attach")
def _bind_to_place(column: Column, table: Any) -> None:
    """A sealed column joining its table: its values are bound to ``table.column`` (a type of its
    own: a mixin's columns share one)."""
    if isinstance(table, Table) and isinstance(column.type, _Sealing) and column.type.place is None:
        column.type = type(column.type)(f"{table.name}.{column.name}")


class _Blinds(TypeDecorator):
    """A plate bound for a look-up: the indexes it matches, end to end (:meth:`KeyRing.blinds`)."""
    impl = String(2 * INDEX)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else ring(dialect).blinds(value)


# Literals: the lane path's statements bind only its facts.
_1, _N, _N1 = (literal_column(str(n), Integer()) for n in (1, INDEX, INDEX + 1))


class BlindIndex(TypeDecorator):
    """A plate in, its keyed hash stored (and compared): equality look-ups without the plate."""
    impl = String(INDEX)
    cache_ok = True

    class Comparator(TypeDecorator.Comparator):
        def operate(self, op, *other, **kwargs):
            if op in (operators.eq, operators.ne) and isinstance(other[0], str | BindParameter):
                plate = other[0]
                bound = (plate._with_binary_element_type(_Blinds()) if isinstance(plate, BindParameter)
                         else literal(plate, _Blinds()))
                either = [func.substr(bound, _1, _N), func.substr(bound, _N1, _N)]
                return self.expr.in_(either) if op is operators.eq else self.expr.not_in(either)
            return super().operate(op, *other, **kwargs)

    comparator_factory = Comparator

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


def place_of(column: Column) -> bytes:
    """What a sealed column's values are bound to (``table.column``)."""
    sealing: Any = column.type
    return sealing._aad


def readable(table: Any) -> list[Column]:
    """The table's columns but its blind indexes: what its records are made of."""
    return [c for c in table.c if not is_index(c)]
