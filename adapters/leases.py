"""One node at a time per duty, held by a row that names its owner and when the hold expires:
the relays' queues (:meth:`adapters.outbox.Outbox.claim`) and the gateway's named leases
(``gateway.store.leases``) keep the same rules here, once.

The row is locked with SKIP LOCKED, so a node never waits on another's claim: it tries again next
round. A holder renews its own lease the same way; a lease nobody renewed expires and the next claim
takes it. Expiry is judged by each node's clock (keep them in step: NTP).
"""

from datetime import datetime

from sqlalchemy import Column, Table, insert, select, update
from sqlalchemy.exc import IntegrityError


def take(store, table: Table, key: Column, value: str, *, node: str, now: datetime,
         until: datetime) -> datetime | None:
    """Hold the row ``key == value`` of ``table`` (columns ``owner`` and ``expires_at``) for ``node``
    until ``until``, unless another node holds it past ``now``: ``until``, or None. ``store``: a
    connection provider (``store.connection()``: a unit of work, committed on leaving it)."""
    try:
        with store.connection() as conn:
            row = conn.execute(select(table.c.owner, table.c.expires_at).where(key == value)
                               .with_for_update(skip_locked=True)).first()
            if row is None:
                if conn.execute(select(key).where(key == value)).first():
                    return None  # another node is claiming it this moment
                conn.execute(insert(table).values({key.name: value, "owner": node, "expires_at": until}))
                return until
            if row.owner != node and row.expires_at > now:
                return None
            conn.execute(update(table).where(key == value).values(owner=node, expires_at=until))
            return until
    except IntegrityError:  # two nodes made the first row at once; the other one's stands
        return None
