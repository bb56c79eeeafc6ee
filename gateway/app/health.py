"""Readiness (``/readyz``): whether this node should be given traffic, check by check.

- database: a statement answers;
- plcs: every lane this node drives has its PLC online (lanes other nodes drive are theirs to
  report; ``[health] require_plcs = false`` reports without failing);
- recognition: the pool, once started, is alive;
- relays: no destination's oldest pending message is older than ``[health] max_relay_lag_s``.

Blocking (database): the web transport runs it in a thread, with a deadline.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from ..store.engine import Store
from .clock import Clock


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class LaneView:
    """A lane with a PLC as this node sees it: driven here (then online or not), or by another node."""
    facility_id: str
    lane_number: int
    driven_here: bool
    online: bool
    holder: str | None = None


class Readiness:
    def __init__(self, store: Store, clock: Clock, lanes: Callable[[], Iterable[LaneView]], recognition: Any,
                 oldest_pending: Callable[[], dict[str, datetime | None]], max_relay_lag: timedelta,
                 require_plcs: bool = True) -> None:
        self.store = store
        self.clock = clock
        self.lanes = lanes
        self.recognition = recognition
        self.oldest_pending = oldest_pending
        self.max_relay_lag = max_relay_lag
        self.require_plcs = require_plcs

    def checks(self) -> list[Check]:
        return [self._guarded("database", self._database), self._guarded("plcs", self._plcs),
                self._guarded("recognition", self._recognition), self._guarded("relays", self._relays)]

    @staticmethod
    def _guarded(name: str, check: Callable[[], tuple[bool, str]]) -> Check:
        try:
            ok, detail = check()
        except Exception as e:  # noqa: BLE001 - a failing check is a finding, not a crash
            ok, detail = False, f"{type(e).__name__}"
        return Check(name, ok, detail)

    def _database(self) -> tuple[bool, str]:
        with self.store.connection() as conn:
            conn.execute(text("SELECT 1"))
        return True, self.store.dialect

    def _plcs(self) -> tuple[bool, str]:
        lanes = list(self.lanes())
        if not lanes:
            return True, "no lane has a PLC"
        offline = [f"{v.facility_id}/{v.lane_number}" for v in lanes if v.driven_here and not v.online]
        here = sum(1 for v in lanes if v.driven_here)
        elsewhere = ", ".join(f"{v.facility_id}/{v.lane_number} by {v.holder or 'another node'}"
                              for v in lanes if not v.driven_here)
        detail = f"{here - len(offline)} of {here} driven here online"
        if offline:
            detail += f"; offline: {', '.join(offline)}"
        if elsewhere:
            detail += f"; driven elsewhere: {elsewhere}"
        return (not offline or not self.require_plcs), detail

    def _recognition(self) -> tuple[bool, str]:
        return self.recognition.health()

    def _relays(self) -> tuple[bool, str]:
        oldest = self.oldest_pending()
        if not oldest:
            return True, "no relays configured"
        now = self.clock()
        late = {name: now - at for name, at in oldest.items() if at is not None and now - at > self.max_relay_lag}
        if late:
            return False, "behind: " + ", ".join(f"{name} {int(age.total_seconds())} s" for name, age in late.items())
        return True, f"{len(oldest)} destination(s) within {int(self.max_relay_lag.total_seconds())} s"
