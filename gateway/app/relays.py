"""What the relay queues hold, per destination."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol


@dataclass(frozen=True)
class RelayStatus:
    destination: str
    kind: str
    pending: int
    oldest_pending_age: timedelta | None
    delivered: int
    dead: int
    last_error: str | None
    last_delivered_at: datetime | None


class RelayQueues(Protocol):
    """The transactional outbox (``adapters.outbox.Outbox``)."""

    def status(self) -> dict[str, dict[str, Any]]: ...


def relay_status(outbox: RelayQueues) -> list[RelayStatus]:
    return [RelayStatus(destination=name, kind=s["destination"].kind, pending=s["pending"],
                        oldest_pending_age=s["oldest_pending_age"], delivered=s["delivered"], dead=s["dead"],
                        last_error=s["last_error"], last_delivered_at=s["last_delivered_at"])
            for name, s in outbox.status().items()]
