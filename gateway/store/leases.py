"""Named leases: one gateway node at a time holds a duty (driving a lane's PLC, a scheduled job).

The same rules as the relays' leases (:meth:`adapters.outbox.Outbox.claim`): the row is locked with
SKIP LOCKED, so a node never waits on another's claim; a holder renews its own lease; a lease
nobody renewed expires and the next claim takes it; a node that stops gives its leases up.
Expiry is judged by each node's clock (keep them in step: NTP).
"""

from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from .engine import Store
from .schema import NodeLease, table_of

_LEASES = table_of(NodeLease)


def claim(store: Store, name: str, node: str, now: datetime, seconds: float) -> datetime | None:
    """Hold ``name`` for ``node`` until ``seconds`` from ``now`` unless another node holds it: the new
    expiry, or None."""
    L = _LEASES
    until = now + timedelta(seconds=seconds)
    try:
        with store.connection() as conn:
            row = conn.execute(select(L.c.owner, L.c.expires_at).where(L.c.name == name)
                               .with_for_update(skip_locked=True)).first()
            if row is None:
                if conn.execute(select(L.c.name).where(L.c.name == name)).first():
                    return None  # another node is claiming it this moment
                conn.execute(insert(L).values(name=name, owner=node, expires_at=until))
                return until
            if row.owner != node and row.expires_at > now:
                return None
            conn.execute(update(L).where(L.c.name == name).values(owner=node, expires_at=until))
            return until
    except IntegrityError:  # two nodes made the first row at once; the other one's stands
        return None


def release(store: Store, node: str, now: datetime, names: list[str] | None = None) -> None:
    """Give up ``node``'s leases (all, or ``names``): another node may take them at once."""
    L = _LEASES
    where = [L.c.owner == node, L.c.expires_at > now]
    if names is not None:
        where.append(L.c.name.in_(names))
    with store.connection() as conn:
        conn.execute(update(L).where(*where).values(expires_at=now))


def holders(conn: Connection, prefix: str, now: datetime) -> dict[str, str]:
    """The live leases whose names start with ``prefix``: name -> node."""
    L = _LEASES
    return dict(conn.execute(select(L.c.name, L.c.owner).where(L.c.name.startswith(prefix),
                                                               L.c.expires_at > now)).all())
