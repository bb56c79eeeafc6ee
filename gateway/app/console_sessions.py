"""Console log-ins, kept in the database: a restart logs nobody out, and every node of the gateway
knows every session (no sticky sessions at the load balancer). The browser holds only a random id
(an HttpOnly cookie); the table only its hash.

A session is made before log-in (it carries the log-in form's CSRF token and the language picked),
and replaced by a new one, with a new id and token, when its person logs in: an id planted before
log-in is worth nothing after it. A session unused for the idle timeout (on the injected clock) ends;
its last use is written at most every :func:`touch_interval`, not on every request. Logging out
deletes it; disabling a user, changing their role or resetting their password deletes theirs
(:class:`gateway.app.auth.Users`).
"""

import secrets
from datetime import timedelta

from ..domain.console_sessions import ConsoleSession, id_hash, touch_interval
from ..store import console_sessions as stored
from ..store.engine import Store
from .clock import Clock

#: How long an ended session is kept, so that its person is told why they must log in again.
KEEP_ENDED = timedelta(days=1)


class ConsoleSessions:
    def __init__(self, *, store: Store, clock: Clock, idle: timedelta) -> None:
        self.store = store
        self.clock = clock
        self.idle = idle
        self.touch_every = touch_interval(idle)

    def new(self, language: str) -> ConsoleSession:
        """A visitor's session; those left unused are cleared as new ones come (a flood of anonymous
        visits keeps at most an idle timeout's worth)."""
        now = self.clock()
        session = ConsoleSession(id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32), language=language,
                                 created=now, last_seen=now)
        with self.store.connection() as conn:
            stored.delete_unused(conn, since=now - self.idle - KEEP_ENDED, anonymous_since=now - self.idle)
            stored.insert(conn, session)
        return session

    def get(self, session_id: str | None, touch: bool = True) -> tuple[ConsoleSession | None, bool]:
        """The live session of that id, and whether one of that id had just ended. ``touch``: counts
        as use (an automatic refresh does not)."""
        if not session_id:
            return None, False
        with self.store.read() as conn:
            session = stored.get(conn, session_id, id_hash(session_id))
        if session is None:
            return None, False
        now = self.clock()
        if session.ended(now, self.idle):
            if touch:  # an automatic refresh leaves it for the page it reloads to say so
                self.end(session_id)
            return None, session.logged_in
        return session, False

    def use(self, session: ConsoleSession) -> None:
        """A request used the session: its last use moves on when the stored one is stale enough
        (written by :meth:`save`, with the request's other changes)."""
        now = self.clock()
        if now - session.last_seen >= self.touch_every:
            session.last_seen = now

    def save(self, session: ConsoleSession, before: dict) -> None:
        """What a request changed since ``before`` (its :meth:`ConsoleSession.state` then), if anything."""
        changed = {k: v for k, v in session.state().items() if before.get(k) != v}
        if changed:
            with self.store.connection() as conn:
                stored.save(conn, session.id_hash, changed)

    def log_in(self, before: ConsoleSession, username: str, role: str) -> ConsoleSession:
        """The session that replaces ``before`` now that its person logged in."""
        now = self.clock()
        session = ConsoleSession(id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32),
                                 language=before.language, created=now, last_seen=now, username=username, role=role,
                                 facility_id=before.facility_id)
        with self.store.connection() as conn:
            stored.delete_one(conn, before.id_hash)
            stored.insert(conn, session)
        return session

    def end(self, session_id: str) -> None:
        with self.store.connection() as conn:
            stored.delete_one(conn, id_hash(session_id))

    def keep_capture(self, session: ConsoleSession, picture: bytes) -> None:
        """The booth camera's picture, kept (sealed) until the entry it shows is recorded."""
        with self.store.connection() as conn:
            stored.keep_capture(conn, session.id_hash, picture)

    def take_capture(self, session: ConsoleSession) -> bytes | None:
        with self.store.connection() as conn:
            return stored.take_capture(conn, session.id_hash)
