"""A console log-in as the gateway keeps it, and the rules of its life: when it has ended (unused
for the idle timeout), when a use is worth writing down (not on every request), and the log-in
form's CSRF token of a visitor not yet stored (derived from the id, so it checks without a row)."""

import base64
import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class ConsoleSession:
    id: str                          # the cookie's value: held by the browser, stored only as id_hash
    csrf: str
    language: str
    created: datetime
    last_seen: datetime              # as stored: a use within TouchPolicy.every of it is not written
    username: str | None = None
    role: str | None = None
    facility_id: str | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)   # (kind, message) shown once
    stored: bool = True              # False: a visitor's, written only once it carries state

    @property
    def logged_in(self) -> bool:
        return self.username is not None

    @property
    def id_hash(self) -> str:
        return id_hash(self.id)

    def ended(self, now: datetime, idle: timedelta) -> bool:
        return now - self.last_seen > idle

    def state(self) -> dict:
        """What a request may change: what differs at its end is written back (only that, so that two
        requests of one browser at once do not undo each other's changes)."""
        return dict(language=self.language, facility_id=self.facility_id, flashes=tuple(self.flashes),
                    last_seen=self.last_seen)


def flashes_changed(before: Iterable[tuple[str, str]], after: Iterable[tuple[str, str]]
                    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """What a request did to the messages shown once, from those it began and ended with: (those it
    took, those it added, in order). The stored ones are changed by as much, never overwritten: a
    message erased meanwhile (it quoted an erased plate) is not written back, nor one another request
    added lost."""
    before, after = list(before), list(after)
    return without(before, after), without(after, before)


def without(flashes: Iterable[tuple[str, str]], taken: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``flashes`` in order, less ``taken`` (a message there twice and taken once stays once)."""
    left = Counter(taken)
    kept = []
    for flash in flashes:
        if left[flash]:
            left[flash] -= 1
        else:
            kept.append(flash)
    return kept


def id_hash(session_id: str) -> str:
    """What is kept of a session's id: a stolen copy of the table holds no cookie. The id is 256
    random bits, so a plain hash is enough (nothing to guess from a dictionary)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def touch_interval(idle: timedelta) -> timedelta:
    """How stale the stored last use may be: a tenth of the idle timeout, at most a minute. A session
    may so end up to that much before its full idle time; in exchange a person's clicks write their
    session about once a minute, not once a request."""
    return min(idle / 10, timedelta(minutes=1))


#: What a session id looks like (``secrets.token_urlsafe(32)``): a cookie of any other shape is no id.
ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def form_token(key: bytes, session_id: str) -> str:
    """The CSRF token of a session not stored: a keyed digest of its id, the same on every node that
    shares ``key``. Only who holds the id (the cookie, HttpOnly, SameSite=Strict) or the key can
    make it; another id's token is another token."""
    digest = hmac.new(key, session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
