"""Several gateway nodes on one PostgreSQL: each lane's PLC driven by exactly one node, the holder
of the lane's lease, and barrier commands for a lane another node drives carried there.

- :class:`DatabaseLaneLease`: the lane controllers' lease (``plc.interfaces.ILaneLease``) on the
  ``node_leases`` table, ``lane:<facility>:<lane>``, held ``[cluster] lane_lease_s`` per renewal:
  a node that dies loses its lanes within that, and the next renewal of another node takes them.
- :class:`LaneBus`: a command for a lane driven elsewhere (a decision's open pulse, a manual
  command, a status read) is a row in ``lane_commands`` and a NOTIFY; the driving node's listener
  takes it, carries it out on its controller and answers in the row; the asking node waits for the
  answer within a deadline, else reports the barrier OFFLINE, as for a PLC that does not answer.
- :class:`ClusterBarriers`: what the lanes use case sees: the local controller where this node
  drives the lane, else a :class:`RemoteLane` speaking through the bus. Same methods, same answers.
"""

import json
import logging
import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from twisted.internet import defer, threads
from twisted.internet.threads import blockingCallFromThread
from zope.interface import implementer

from plc.interfaces import ILaneLease
from plc.lane import OFFLINE, LaneEventSeen

from ..store import leases
from ..store.engine import Store
from ..store.schema import LaneCommandRecord, table_of
from .clock import Clock

log = logging.getLogger("parkgate")
_COMMANDS = table_of(LaneCommandRecord)
CHANNEL = "parkgate_lanes"


def lease_name(facility_id: str, lane_number: int) -> str:
    return f"lane:{facility_id}:{lane_number}"


@implementer(ILaneLease)
class DatabaseLaneLease:
    def __init__(self, store: Store, node: str, seconds: float, clock: Clock, reactor: Any, threadpool: Any) -> None:
        self.store, self.node, self.seconds, self.clock = store, node, seconds, clock
        self.reactor, self.threadpool = reactor, threadpool

    def claim(self, facility_id, lane_number):
        def claim():
            until = leases.claim(self.store, lease_name(facility_id, lane_number), self.node, self.clock(),
                                 self.seconds)
            return self.seconds if until else None
        return threads.deferToThreadPool(self.reactor, self.threadpool, claim)

    def release(self, facility_id, lane_number):
        return threads.deferToThreadPool(self.reactor, self.threadpool, leases.release, self.store, self.node,
                                         self.clock(), [lease_name(facility_id, lane_number)])


def _status_json(status: dict) -> dict:
    last, beat = status.get("last_event"), status.get("last_heartbeat")
    return {**status, "last_heartbeat": beat.isoformat() if beat else None,
            "last_event": None if last is None else {"event_id": last.event_id, "decision": last.decision,
                                                     "at": last.at.isoformat()}}


def _status_from_json(data: dict) -> dict:
    last, beat = data.get("last_event"), data.get("last_heartbeat")
    return {**data, "last_heartbeat": datetime.fromisoformat(beat) if beat else None,
            "last_event": None if last is None else LaneEventSeen(last["event_id"], last["decision"],
                                                                 datetime.fromisoformat(last["at"]))}


class LaneBus:
    """``barriers``: this node's lane controllers (``plc.service.Barriers``)."""

    POLL = 0.01          # how often an asking node looks for its answer
    LISTEN_TIMEOUT = 0.5  # the driving side looks for commands at least this often

    def __init__(self, store: Store, node: str, barriers: Any, reactor: Any, clock: Clock,
                 timeout: float = 5.0) -> None:
        self.store, self.node, self.barriers, self.reactor, self.clock = store, node, barriers, reactor, clock
        self.timeout = timeout
        self._running = False
        self._thread: threading.Thread | None = None

    # --- the asking side (a request thread) -------------------------------------------

    def send(self, facility_id: str, lane_number: int, command: str, argument: Any = None,
             wait: bool = True) -> Any:
        """Have the driving node carry ``command`` out; its answer (decoded), or None when none came
        within the deadline. Blocking."""
        with self.store.connection() as conn:
            row_id = conn.execute(insert(_COMMANDS).values(
                facility_id=facility_id, lane_number=lane_number, command=command,
                argument=None if argument is None else json.dumps(argument), requested_at=self.clock(),
                state="PENDING").returning(_COMMANDS.c.id)).scalar_one()
            conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
        if not wait:
            return None
        deadline = time.monotonic() + self.timeout
        try:
            while time.monotonic() < deadline:
                with self.store.connection() as conn:
                    row = conn.execute(select(_COMMANDS.c.state, _COMMANDS.c.result)
                                       .where(_COMMANDS.c.id == row_id)).first()
                if row is not None and row.state == "DONE":
                    return json.loads(row.result)
                time.sleep(self.POLL)
            return None
        finally:
            with self.store.connection() as conn:
                conn.execute(delete(_COMMANDS).where(_COMMANDS.c.id == row_id))

    # --- the driving side (a thread of its own) ---------------------------------------

    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self._listen, name="parkgate-lane-bus", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(self.LISTEN_TIMEOUT * 4)
            self._thread = None

    def _listen(self) -> None:
        raw = None
        while self._running:
            try:
                if raw is None:
                    raw = self.store.engine.raw_connection()
                    listener: Any = raw.driver_connection
                    listener.autocommit = True
                    listener.execute(f"LISTEN {CHANNEL}")
                self.serve_pending()
                for _ in listener.notifies(timeout=self.LISTEN_TIMEOUT, stop_after=1):
                    pass
            except Exception as e:  # noqa: BLE001 - the database went away: try again shortly
                log.warning("lane commands: %s", type(e).__name__)
                if raw is not None:
                    raw.invalidate()
                    raw = None
                time.sleep(self.LISTEN_TIMEOUT)
        if raw is not None:
            raw.close()

    def serve_pending(self) -> int:
        """Carry out the commands waiting for lanes this node drives; how many. Blocking."""
        driven = {key: c for key, c in self.barriers.controllers.items() if c.driving}
        if not driven:
            return 0
        T = _COMMANDS
        with self.store.connection() as conn:
            rows = conn.execute(select(T.c.id, T.c.facility_id, T.c.lane_number, T.c.command, T.c.argument)
                                .where(T.c.state == "PENDING").order_by(T.c.id).limit(50)
                                .with_for_update(skip_locked=True)).all()
            mine = [r for r in rows if (r.facility_id, r.lane_number) in driven]
            if mine:
                conn.execute(update(T).where(T.c.id.in_([r.id for r in mine])).values(state="TAKEN",
                                                                                      answered_by=self.node))
        for r in mine:
            controller = driven[(r.facility_id, r.lane_number)]
            argument = json.loads(r.argument) if r.argument else None
            try:
                result = blockingCallFromThread(self.reactor, self._execute, controller, r.command, argument)
            except Exception as e:  # noqa: BLE001 - answered as a failure, never left waiting
                result = ["FAILED", f"the command failed on node {self.node}: {type(e).__name__}"]
            with self.store.connection() as conn:
                conn.execute(update(T).where(T.c.id == r.id).values(state="DONE", result=json.dumps(result)))
        return len(mine)

    @staticmethod
    def _execute(controller: Any, command: str, argument: Any) -> Any:
        if command == "seen":
            controller.seen(*argument)
            return None
        if command == "status":
            return _status_json(controller.status())
        run = {"open": lambda: controller.open(argument), "hold": lambda: controller.hold_open(True),
               "release": lambda: controller.hold_open(False), "close": controller.close}[command]
        return defer.maybeDeferred(run).addCallback(list)


class RemoteLane:
    """A lane another node drives, with a lane controller's methods (each a Deferred, as there)."""

    def __init__(self, bus: LaneBus, facility_id: str, lane_number: int) -> None:
        self.bus, self.facility_id, self.lane_number = bus, facility_id, lane_number

    def _send(self, command, argument=None, wait=True):
        return threads.deferToThread(self.bus.send, self.facility_id, self.lane_number, command, argument, wait)

    def seen(self, event_id, decision):
        self._send("seen", [event_id, decision], wait=False)

    def _action(self, command, argument=None):
        def answered(result):
            if result is None:
                return OFFLINE, "the gateway node driving this lane did not answer"
            return tuple(result)
        return self._send(command, argument).addCallback(answered)

    def open(self, event_id):
        return self._action("open", event_id)

    def hold_open(self, value):
        return self._action("hold" if value else "release")

    def close(self):
        return self._action("close")

    def status(self):
        return self._send("status").addCallback(lambda data: {"online": False} if data is None
                                                 else _status_from_json(data))


class ClusterBarriers:
    """The lanes use case's view of the barriers when several nodes share them."""

    def __init__(self, barriers: Any, bus: LaneBus) -> None:
        self.barriers = barriers
        self.bus = bus
        self.controllers = barriers.controllers
        self._remote: dict[tuple[str, int], RemoteLane] = {}

    def _here_or_there(self, controller: Any) -> Any:
        if controller is None or controller.driving:
            return controller
        key = (controller.facility_id, controller.lane_number)
        if key not in self._remote:
            self._remote[key] = RemoteLane(self.bus, *key)
        return self._remote[key]

    def by_camera(self, facility_id: str, camera_id: str) -> Any:
        return self._here_or_there(self.barriers.by_camera(facility_id, camera_id))

    def by_number(self, facility_id: str, lane_number: int) -> Any:
        return self._here_or_there(self.barriers.by_number(facility_id, lane_number))
