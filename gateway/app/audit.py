"""The activity log, as its own unit of work (within one, use :mod:`gateway.store.audit` directly)."""

from ..store import audit
from ..store.engine import Store
from .clock import Clock


class Audit:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def record(self, username: str, action: str, subject: str, detail: str | None = None) -> None:
        with self.store.connection() as conn:
            audit.record(conn, self.clock(), username, action, subject, detail)
