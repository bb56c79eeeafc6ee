"""Named leases: one gateway node at a time holds a duty (driving a lane's PLC, a scheduled job).

The same rules as the relays' leases, in one place (:func:`adapters.leases.take`): a node never
waits on another's claim; a holder renews its own lease; a lease nobody renewed expires and the next
claim takes it; a node that stops gives its leases up.
"""

from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from adapters.leases import take

from .engine import Store
from .schema import NodeLease, table_of

_LEASES = table_of(NodeLease)


def claim(store: Store, name: str, node: str, now: datetime, seconds: float) -> datetime | None:
    """Hold ``name`` for ``node`` until ``seconds`` from ``now`` unless another node holds it: the new
    expiry, or None."""
    return take(store, _LEASES, _LEASES.c.name, name, node=node, now=now, until=now + timedelta(seconds=seconds))


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
