"""The transactional outbox: documents owed to relay destinations.

Rows are inserted by :meth:`Outbox.enqueue` on the connection of the transaction that records
the event (or permit, or citation), so both commit together or not at all. Workers then take
them in id order per destination. All methods block (database): call them in a thread.

Several gateway nodes may share one database: a destination's queue is then delivered by one
node at a time, the holder of its lease (:meth:`Outbox.claim`), which renews it while it lives;
when a node dies its leases expire and another node takes them over. One node per destination,
rather than one per message, keeps each destination's documents in order.

The gateway owns the tables (its models and migrations) and hands them in with a connection
provider; the queue's SQL lives here, beside the workers whose order and retries it encodes.
"""

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Table, and_, bindparam, delete, func, insert, select, update

from .leases import take

#: SKIPPED: settled without being sent, the destination's profile maps nothing for the document.
PENDING, DELIVERED, SKIPPED, DEAD = "PENDING", "DELIVERED", "SKIPPED", "DEAD"
STATES = (PENDING, DELIVERED, SKIPPED, DEAD)


@dataclass(frozen=True)
class OutboxTables:
    """``messages``: one row per document owed to one destination; ``leases``: one row per
    destination, the node delivering it and until when. Their columns: see ``_COLUMNS``."""
    messages: Table
    leases: Table

    def __post_init__(self):
        for table, columns in ((self.messages, _COLUMNS["messages"]), (self.leases, _COLUMNS["leases"])):
            missing = columns - set(table.c.keys())
            if missing:
                raise ValueError(f"the outbox table {table.name} lacks {', '.join(sorted(missing))}")


_COLUMNS = {"messages": {"id", "destination", "kind", "key", "facility_id", "document", "created_at", "state",
                         "attempts", "next_attempt_at", "last_error", "delivered_at", "provisional"},
            "leases": {"destination", "owner", "expires_at"}}


def retry_delay(attempts, first, cap, jitter):
    """Seconds to wait after the ``attempts``-th failure: ``first`` doubling, at most ``cap``, times
    ``jitter`` (0.5 to 1: destinations that failed together do not retry together)."""
    return min(first * 2.0 ** min(attempts - 1, 64), cap) * jitter


class Outbox:
    """``store``: a connection provider: ``store.connection()`` is a context manager giving a
    SQLAlchemy connection in a transaction that commits when the block ends."""

    def __init__(self, store, tables, destinations, clock):
        self.store = store
        self.tables = tables
        self.destinations = {d.name: d for d in destinations}
        self.clock = clock
        self._insert = insert(tables.messages)

    def routes(self, kind, facility_id):
        """The destinations that want this document."""
        return [d.name for d in self.destinations.values() if d.accepts(kind, facility_id)]

    def enqueue(self, conn, kind, key, facility_id, document, now, provisional=False):
        """Owe ``document`` to every destination that wants it, on the caller's transaction.
        ``provisional``: a ParkingEvent decided REVIEW, whose resolution follows under the same
        EventID (profiles may leave it out: a peer that drops repeated ids would keep it)."""
        names = self.routes(kind, facility_id)
        if names:
            text = document.decode() if isinstance(document, bytes) else document
            conn.execute(self._insert, [dict(destination=name, kind=kind, key=key, facility_id=facility_id,
                                             document=text, created_at=now, state=PENDING, attempts=0,
                                             next_attempt_at=now, provisional=provisional) for name in names])
        return names

    # --- the workers' side --------------------------------------------------------------

    def take(self, destination):
        """(messages due now, in order, at most ``batch_max``; when the head is next due, or None).

        Head of line: while the oldest pending message waits for its retry, nothing behind it
        is sent, so a destination receives its documents in the order they were recorded.
        """
        T = self.tables.messages
        d = self.destinations[destination]
        now = self.clock()
        with self.store.connection() as conn:
            rows = conn.execute(
                select(T).where(T.c.destination == destination, T.c.state == PENDING)
                .order_by(T.c.id).limit(d.batch_max)).all()
        if not rows:
            return [], None
        if rows[0].next_attempt_at > now:
            return [], rows[0].next_attempt_at
        return rows, None

    def delivered(self, ids, skipped=()):
        """Settle messages: ``ids`` were delivered, ``skipped`` left out by the destination's profile."""
        T = self.tables.messages
        now = self.clock()
        with self.store.connection() as conn:
            for state, which in ((DELIVERED, ids), (SKIPPED, skipped)):
                if which:
                    conn.execute(update(T).where(T.c.id.in_(which), T.c.state == PENDING).values(
                        state=state, delivered_at=now, last_error=None))

    def failed(self, destination, rows, error, refused=False):
        """Count an attempt and retry later, with exponential back-off capped at ``backoff_max``
        and jitter, until the message is ``max_age`` old. ``refused``: the destination refuses the
        document and would do so again (see :class:`adapters.channels.DeliveryRefused`): dead now."""
        T = self.tables.messages
        d = self.destinations[destination]
        now = self.clock()
        error = error or "failed"
        changes = []
        for row in rows:
            attempts = row.attempts + 1
            if refused:
                changes.append(dict(b_id=row.id, b_state=DEAD, b_attempts=attempts, b_next=now,
                                    b_error=f"refused: {error}"))
            elif now - row.created_at >= d.max_age:
                changes.append(dict(b_id=row.id, b_state=DEAD, b_attempts=attempts, b_next=now,
                                    b_error=f"expired after {attempts} attempts: {error}"))
            else:
                delay = retry_delay(attempts, d.backoff, d.backoff_max, random.uniform(0.5, 1.0))
                changes.append(dict(b_id=row.id, b_state=PENDING, b_attempts=attempts,
                                    b_next=now + timedelta(seconds=delay), b_error=error))
        for change in changes:
            change["b_error"] = change["b_error"][:500]
        with self.store.connection() as conn:
            conn.execute(update(T).where(T.c.id == bindparam("b_id"), T.c.state == PENDING).values(
                state=bindparam("b_state"), attempts=bindparam("b_attempts"),
                next_attempt_at=bindparam("b_next"), last_error=bindparam("b_error")), changes)

    def reject(self, row_id, error):
        """A document that must not be sent (it fails the schema): dead at once, with the reason."""
        T = self.tables.messages
        with self.store.connection() as conn:
            conn.execute(update(T).where(T.c.id == row_id, T.c.state == PENDING).values(state=DEAD,
                                                                                      last_error=error[:500]))

    # --- leases: one node per destination ----------------------------------------------

    def claim(self, destination, node, seconds):
        """Hold ``destination``'s queue for ``node`` until ``seconds`` from now, unless another
        node holds it: the new expiry, or None. A node renews its own lease the same way; the rules
        are :func:`adapters.leases.take`'s. Expiry is judged by each node's clock, which must agree
        within the margin a lease leaves (half a lease, less a request's time).
        """
        L = self.tables.leases
        now = self.clock()
        return take(self.store, L, L.c.destination, destination, node=node, now=now,
                    until=now + timedelta(seconds=seconds))

    def release(self, node):
        """Give up ``node``'s leases (it stops): the other nodes may take its queues at once."""
        L = self.tables.leases
        now = self.clock()
        with self.store.connection() as conn:
            conn.execute(update(L).where(L.c.owner == node, L.c.expires_at > now).values(expires_at=now))

    # --- the operators' side ------------------------------------------------------------

    def status(self):
        """Per destination: pending, oldest pending age, delivered, skipped, dead, last error, last delivery,
        and the node delivering it (the holder of its lease; None when none holds it now)."""
        T = self.tables.messages
        now = self.clock()
        with self.store.connection() as conn:
            counts = conn.execute(select(T.c.destination, T.c.state, func.count(), func.min(T.c.created_at),
                                         func.max(T.c.delivered_at))
                                  .group_by(T.c.destination, T.c.state)).all()
            errors = dict(conn.execute(
                select(T.c.destination, T.c.last_error).where(
                    T.c.id.in_(select(func.max(T.c.id)).where(T.c.last_error.is_not(None))
                                .group_by(T.c.destination)))).all())
            L = self.tables.leases
            holders = dict(conn.execute(select(L.c.destination, L.c.owner).where(L.c.expires_at > now)).all())
        report = {name: dict(destination=d, pending=0, delivered=0, skipped=0, dead=0, oldest_pending_age=None,
                             last_error=errors.get(name), last_delivered_at=None, node=holders.get(name))
                  for name, d in self.destinations.items()}
        for destination, state, count, oldest, last_delivery in counts:
            entry = report.get(destination)
            if entry is None:
                continue  # a destination no longer configured
            entry[state.lower()] = count
            if state == PENDING:
                entry["oldest_pending_age"] = now - oldest
            if state == DELIVERED:
                entry["last_delivered_at"] = last_delivery
        return report

    def backlog(self):
        """Per destination: (pending messages, the oldest one's creation time or None); a few index
        look-ups, cheap enough for health checks and metrics scrapes."""
        T = self.tables.messages
        with self.store.connection() as conn:
            counts = dict(conn.execute(select(T.c.destination, func.count()).where(T.c.state == PENDING)
                                       .group_by(T.c.destination)).all())
            report = {}
            for name in self.destinations:
                oldest = conn.execute(select(T.c.created_at).where(T.c.destination == name, T.c.state == PENDING)
                                      .order_by(T.c.id).limit(1)).scalar() if counts.get(name) else None
                report[name] = (counts.get(name, 0), oldest)
        return report

    def list(self, destination=None, state=None, limit=50):
        T = self.tables.messages
        query = select(T.c.id, T.c.destination, T.c.kind, T.c.key, T.c.state, T.c.attempts,
                       T.c.created_at, T.c.next_attempt_at, T.c.last_error).order_by(T.c.id).limit(limit)
        if destination:
            query = query.where(T.c.destination == destination)
        if state:
            query = query.where(T.c.state == state)
        with self.store.connection() as conn:
            return conn.execute(query).all()

    def retry(self, destination=None, ids=None):
        """Dead messages back to pending, due now (after the cause was fixed)."""
        T = self.tables.messages
        where = [T.c.state == DEAD]
        if destination:
            where.append(T.c.destination == destination)
        if ids:
            where.append(T.c.id.in_(ids))
        with self.store.connection() as conn:
            return conn.execute(update(T).where(and_(*where)).values(
                state=PENDING, attempts=0, next_attempt_at=self.clock())).rowcount

    def purge(self, older_than, dead=False):
        """Delete delivered and skipped (and with ``dead``, dead) messages created before now - older_than."""
        T = self.tables.messages
        states = [DELIVERED, SKIPPED, DEAD] if dead else [DELIVERED, SKIPPED]
        with self.store.connection() as conn:
            return conn.execute(delete(T).where(T.c.state.in_(states),
                                                 T.c.created_at < self.clock() - older_than)).rowcount
