"""Console log-ins, kept on the server: the browser holds only a random id (an HttpOnly cookie).

A session is made before log-in (it carries the log-in form's CSRF token and the language picked),
and replaced by a new one, with a new id and token, when its person logs in: an id planted before
log-in is worth nothing after it. A session unused for the idle timeout ends; so do a user's
sessions when an admin disables them. Kept in this process (one gateway node serves a booth's
browser; a restart logs everyone out).
"""

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class ConsoleSession:
    id: str
    csrf: str
    language: str
    last_seen: datetime
    username: str | None = None
    role: str | None = None
    facility_id: str | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)   # (kind, message) shown once
    capture: bytes | None = None     # the booth camera's last picture, until the entry it shows is recorded

    @property
    def logged_in(self) -> bool:
        return self.username is not None


class ConsoleSessions:
    """Thread-safe; at most ``limit`` sessions (the least recently used are dropped first, so a flood
    of anonymous visits cannot grow memory without bound)."""

    def __init__(self, *, clock: Callable[[], datetime], idle: timedelta, limit: int = 10_000) -> None:
        self.clock = clock
        self.idle = idle
        self.limit = limit
        self._sessions: OrderedDict[str, ConsoleSession] = OrderedDict()
        self._lock = threading.Lock()

    def new(self, language: str) -> ConsoleSession:
        session = ConsoleSession(id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32), language=language,
                                 last_seen=self.clock())
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > self.limit:
                self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None, touch: bool = True) -> tuple[ConsoleSession | None, bool]:
        """The live session of that id, and whether one of that id had just expired. ``touch``: counts
        as use (an automatic refresh does not)."""
        if not session_id:
            return None, False
        now = self.clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None, False
            if now - session.last_seen > self.idle:
                if touch:  # an automatic refresh leaves it for the page it reloads to say so
                    del self._sessions[session_id]
                return None, session.logged_in
            if touch:
                session.last_seen = now
                self._sessions.move_to_end(session_id)
            return session, False

    def log_in(self, before: ConsoleSession, username: str, role: str) -> ConsoleSession:
        """The session that replaces ``before`` now that its person logged in."""
        self.end(before.id)
        session = self.new(before.language)
        session.username, session.role = username, role
        session.facility_id = before.facility_id
        return session

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def end_user(self, username: str) -> int:
        """End every session of the user (disabled, or their password reset); how many there were."""
        with self._lock:
            ids = [sid for sid, s in self._sessions.items() if s.username == username]
            for sid in ids:
                del self._sessions[sid]
        return len(ids)
