"""Console log-ins, kept in the database: a restart logs nobody out, and every node of the gateway
knows every session (no sticky sessions at the load balancer). The browser holds only a random id
(an HttpOnly cookie); the table only its hash.

A visitor has a session before log-in (the log-in form's CSRF token, the language), stored only once
it carries state (a language picked, a flash shown after a redirect): until then its token is derived
from its id (:func:`form_token`, under a key every node derives from the audit secret), so a flood of
cookie-less visits writes nothing. Logging in replaces it by a stored one with a new id and token: an
id planted before log-in is worth nothing after it. A session unused for the idle timeout (on the
injected clock) ends; its last use is written at most every :func:`touch_interval`, not on every
request. Logging out deletes it; disabling a user, changing their role or resetting their password
deletes theirs (:class:`gateway.app.auth.Users`).
"""

import secrets
from dataclasses import replace
from datetime import timedelta

from ..domain.console_sessions import (
    ID_SHAPE,
    ConsoleSession,
    flashes_changed,
    form_token,
    id_hash,
    touch_interval,
)
from ..store import console_sessions as stored
from ..store.engine import Store
from .clock import Clock

#: How long an ended session is kept, so that its person is told why they must log in again.
KEEP_ENDED = timedelta(days=1)


class ConsoleSessions:
    def __init__(self, *, store: Store, clock: Clock, idle: timedelta, form_key: bytes) -> None:
        self.store = store
        self.clock = clock
        self.idle = idle
        self.form_key = form_key
        self.touch_every = touch_interval(idle)

    def visitor(self, session_id: str | None, language: str) -> ConsoleSession:
        """A visitor's session, not stored: of the cookie's id if it is one (a visitor's id has no row),
        else of a new id."""
        if not (session_id and ID_SHAPE.fullmatch(session_id)):
            session_id = secrets.token_urlsafe(32)
        now = self.clock()
        return ConsoleSession(id=session_id, csrf=form_token(self.form_key, session_id), language=language,
                              created=now, last_seen=now, stored=False)

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
                self.end(session)
            return None, session.logged_in
        return session, False

    def use(self, session: ConsoleSession) -> None:
        """A request used the session: its last use moves on when the stored one is stale enough
        (written by :meth:`save`, with the request's other changes)."""
        now = self.clock()
        if now - session.last_seen >= self.touch_every:
            session.last_seen = now

    def save(self, session: ConsoleSession, before: dict) -> None:
        """What a request changed since ``before`` (its :meth:`ConsoleSession.state` then), if anything;
        a visitor's session is stored then (unless a request of the same browser just did)."""
        changed = {k: v for k, v in session.state().items() if before.get(k) != v}
        if not changed:
            return
        flashes = changed.pop("flashes", None)
        with self.store.connection() as conn:
            if not session.stored:
                self._prune(conn)
                stored.insert(conn, replace(session, flashes=[]), if_absent=True)   # its messages: below
                session.stored = True
            stored.save(conn, session.id_hash, changed)
            if flashes is not None:   # changed by what this request did: an erasure meanwhile holds
                stored.change_flashes(conn, session.id_hash, *flashes_changed(before.get("flashes", ()), flashes))

    def log_in(self, before: ConsoleSession, username: str, role: str) -> ConsoleSession:
        """The session that replaces ``before`` now that its person logged in."""
        now = self.clock()
        session = ConsoleSession(id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32),
                                 language=before.language, created=now, last_seen=now, username=username, role=role,
                                 facility_id=before.facility_id)
        with self.store.connection() as conn:
            self._prune(conn)
            if before.stored:
                stored.delete_one(conn, before.id_hash)
            stored.insert(conn, session)
        return session

    def end(self, session: ConsoleSession) -> None:
        if session.stored:
            with self.store.connection() as conn:
                stored.delete_one(conn, session.id_hash)

    def _prune(self, conn) -> None:
        """Sessions are cleared as new ones are stored: a flood of visitors that store state keeps at
        most an idle timeout's worth."""
        now = self.clock()
        stored.delete_unused(conn, since=now - self.idle - KEEP_ENDED, anonymous_since=now - self.idle)

    def keep_capture(self, session: ConsoleSession, picture: bytes) -> None:
        """The booth camera's picture, kept (sealed) until the entry it shows is recorded."""
        with self.store.connection() as conn:
            stored.keep_capture(conn, session.id_hash, picture)

    def take_capture(self, session: ConsoleSession) -> bytes | None:
        with self.store.connection() as conn:
            return stored.take_capture(conn, session.id_hash)
