"""Documents owed to the relays: written in the caller's unit of work, the workers woken after it."""

from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Connection

from .clock import Clock, utcnow


class Outbox(Protocol):
    """The transactional outbox (``adapters.outbox.Outbox``)."""

    def enqueue(self, conn: Connection, kind: str, key: str, facility_id: str | None, document: str | bytes,
                now: object, provisional: bool = False) -> Sequence[str]: ...

    def routes(self, kind: str, facility_id: str | None) -> Sequence[str]: ...


class Relaying:
    def __init__(self, outbox: Outbox | None = None, notify: Callable[[Sequence[str]], None] | None = None,
                 clock: Clock = utcnow) -> None:
        self.outbox = outbox      # None: no relays
        self.notify = notify      # callable(destination names), once the unit of work has committed
        self.clock = clock

    def owe(self, conn: Connection, kind: str, key: str, facility_id: str | None,
            document: str | bytes, provisional: bool = False) -> Sequence[str]:
        """Owe a document to the relays that want it, in the caller's unit of work; their names.
        ``provisional``: a REVIEW, whose resolution follows under the same EventID."""
        if self.outbox is None:
            return ()
        return self.outbox.enqueue(conn, kind, key, facility_id, document, self.clock(), provisional)

    def wanted(self, kind: str, facility_id: str | None) -> bool:
        """Whether any destination takes ``kind`` from the facility: a document nobody takes is not built."""
        return self.outbox is not None and bool(self.outbox.routes(kind, facility_id))

    def wake(self, names: Sequence[str]) -> None:
        """After the commit: the destinations' workers have something to deliver."""
        if names and self.notify is not None:
            self.notify(names)
