"""The transactional outbox: documents owed to relay destinations.

Rows are inserted by :meth:`Outbox.enqueue` on the connection of the transaction that records
the event (or permit, or citation), so both commit together or not at all. Workers then take
them in id order per destination. All methods block (database): call them in a thread.
"""

import random
from datetime import timedelta

from sqlalchemy import and_, bindparam, delete, func, insert, select, update

from gateway.store.schema import OutboxMessage

PENDING, DELIVERED, DEAD = "PENDING", "DELIVERED", "DEAD"
_T = OutboxMessage.__table__
_INSERT = insert(_T)


class Outbox:
    def __init__(self, store, destinations, clock):
        self.store = store
        self.destinations = {d.name: d for d in destinations}
        self.clock = clock

    def routes(self, kind, facility_id):
        """The destinations that want this document."""
        return [d.name for d in self.destinations.values() if d.accepts(kind, facility_id)]

    def enqueue(self, conn, kind, key, facility_id, document, now):
        """Owe ``document`` to every destination that wants it, on the caller's transaction."""
        names = self.routes(kind, facility_id)
        if names:
            text = document.decode() if isinstance(document, bytes) else document
            conn.execute(_INSERT, [dict(destination=name, kind=kind, key=key, facility_id=facility_id,
                                        document=text, created_at=now, state=PENDING, attempts=0,
                                        next_attempt_at=now) for name in names])
        return names

    # --- the workers' side --------------------------------------------------------------

    def take(self, destination):
        """(messages due now, in order, at most ``batch_max``; when the head is next due, or None).

        Head of line: while the oldest pending message waits for its retry, nothing behind it
        is sent, so a destination receives its documents in the order they were recorded.
        """
        d = self.destinations[destination]
        now = self.clock()
        with self.store.connection() as conn:
            rows = conn.execute(
                select(_T).where(_T.c.destination == destination, _T.c.state == PENDING)
                .order_by(_T.c.id).limit(d.batch_max)).all()
        if not rows:
            return [], None
        if rows[0].next_attempt_at > now:
            return [], rows[0].next_attempt_at
        return rows, None

    def delivered(self, ids):
        with self.store.connection() as conn:
            conn.execute(update(_T).where(_T.c.id.in_(ids)).values(state=DELIVERED, delivered_at=self.clock(),
                                                                   last_error=None))

    def failed(self, destination, rows, error):
        """Count an attempt; retry later with exponential back-off and jitter, or give up."""
        d = self.destinations[destination]
        now = self.clock()
        changes = []
        for row in rows:
            attempts = row.attempts + 1
            if attempts >= d.max_attempts or now - row.created_at >= d.max_age:
                changes.append(dict(b_id=row.id, b_state=DEAD, b_attempts=attempts, b_next=now))
            else:
                delay = min(d.backoff * 2 ** (attempts - 1), d.backoff_max) * random.uniform(0.5, 1.0)
                changes.append(dict(b_id=row.id, b_state=PENDING, b_attempts=attempts,
                                    b_next=now + timedelta(seconds=delay)))
        with self.store.connection() as conn:
            conn.execute(update(_T).where(_T.c.id == bindparam("b_id")).values(
                state=bindparam("b_state"), attempts=bindparam("b_attempts"),
                next_attempt_at=bindparam("b_next"), last_error=(error or "failed")[:500]), changes)

    def reject(self, row_id, error):
        """A document that must not be sent (it fails the schema): dead at once, with the reason."""
        with self.store.connection() as conn:
            conn.execute(update(_T).where(_T.c.id == row_id).values(state=DEAD, last_error=error[:500]))

    # --- the operators' side ------------------------------------------------------------

    def status(self):
        """Per destination: pending, oldest pending age, delivered, dead, last error, last delivery."""
        now = self.clock()
        with self.store.connection() as conn:
            counts = conn.execute(select(_T.c.destination, _T.c.state, func.count(), func.min(_T.c.created_at),
                                         func.max(_T.c.delivered_at))
                                  .group_by(_T.c.destination, _T.c.state)).all()
            errors = dict(conn.execute(
                select(_T.c.destination, _T.c.last_error).where(
                    _T.c.id.in_(select(func.max(_T.c.id)).where(_T.c.last_error.is_not(None))
                                .group_by(_T.c.destination)))).all())
        report = {name: dict(destination=d, pending=0, delivered=0, dead=0, oldest_pending_age=None,
                             last_error=errors.get(name), last_delivered_at=None)
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

    def list(self, destination=None, state=None, limit=50):
        query = select(_T.c.id, _T.c.destination, _T.c.kind, _T.c.key, _T.c.state, _T.c.attempts,
                       _T.c.created_at, _T.c.next_attempt_at, _T.c.last_error).order_by(_T.c.id).limit(limit)
        if destination:
            query = query.where(_T.c.destination == destination)
        if state:
            query = query.where(_T.c.state == state)
        with self.store.connection() as conn:
            return conn.execute(query).all()

    def retry(self, destination=None, ids=None):
        """Dead messages back to pending, due now (after the cause was fixed)."""
        where = [_T.c.state == DEAD]
        if destination:
            where.append(_T.c.destination == destination)
        if ids:
            where.append(_T.c.id.in_(ids))
        with self.store.connection() as conn:
            return conn.execute(update(_T).where(and_(*where)).values(
                state=PENDING, attempts=0, next_attempt_at=self.clock())).rowcount

    def purge(self, older_than, dead=False):
        """Delete delivered (and with ``dead``, dead) messages created before now - older_than."""
        states = [DELIVERED, DEAD] if dead else [DELIVERED]
        with self.store.connection() as conn:
            return conn.execute(delete(_T).where(_T.c.state.in_(states),
                                                 _T.c.created_at < self.clock() - older_than)).rowcount
