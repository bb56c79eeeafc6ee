"""Two gateway nodes on one PostgreSQL (issue 14, defect 5): exactly one node delivers each
destination's messages, and when that node dies the other takes its queues over.

The nodes are two real `parkgate relay` processes on the CI database; the destinations are a
real HTTP receiver on the test reactor that counts what it accepted, by Idempotency-Key. The
lease rules themselves are checked with an injected clock, on SQLite and PostgreSQL.
"""

import re
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread
from twisted.web import resource, server

from adapters.delivery import DeliveryWorker
from conftest import PG_URL, SettableClock, _drop_pg_schema, _fresh_pg_schema, migrated_with_users, unique
from gateway import config as configuration
from gateway.service import outbox as make_outbox
from gateway.store.engine import Store
from gateway.store.migrate import upgrade
from gateway.store.schema import OutboxMessage, RelayLease
from test_contract import SEED
from test_plc import until


def two_nodes(test):
    return pytest.mark.postgres(pytest.mark.skipif(not PG_URL, reason="two nodes need PARKGATE_TEST_PG_URL")(test))


DOCUMENTS = 60
RELAYS = """
[[relay]]
name = "feed-a"
kind = "xml"
url = "{url}a"
timeout_s = 0.5
backoff_s = 0.05
backoff_max_s = 0.2
lease_s = 2

[[relay]]
name = "feed-b"
kind = "xml"
url = "{url}b"
timeout_s = 0.5
backoff_s = 0.05
backoff_max_s = 0.2
lease_s = 2
"""


def on_reactor(fn, *args):
    return blockingCallFromThread(reactor, fn, *args)


class Receiver(resource.Resource):
    """Counts the deliveries it accepted, per path and key. ``hold(path, n, then)``: the n-th
    request to ``path`` is neither accepted nor answered; ``then()`` runs in a thread instead."""

    isLeaf = True

    def __init__(self):
        super().__init__()
        self.accepted = {"/a": [], "/b": []}
        self.lock = threading.Lock()
        self._hold = None

    def hold(self, path, n, then):
        self._hold = (path, n, then)

    def render_POST(self, request):
        path, key = request.path.decode(), request.getHeader(b"idempotency-key").decode()
        with self.lock:
            if self._hold and self._hold[0] == path and len(self.accepted[path]) + 1 == self._hold[1]:
                then, self._hold = self._hold[2], None
                reactor.callInThread(then)
                return server.NOT_DONE_YET  # the sender dies waiting for the answer
            self.accepted[path].append(key)
        return b"ok"

    def counts(self, path):
        with self.lock:
            return Counter(self.accepted[path])


class Node:
    """A `parkgate relay` process: the relay workers of one gateway node."""

    def __init__(self, name, config, url, log):
        self.name = name
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--config", str(config), "--database-url", url, "relay", "--node", name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)
        ready = threading.Event()
        threading.Thread(target=lambda: self.proc.stdout.readline() and ready.set(), daemon=True).start()
        if not ready.wait(120):  # a bound on failure only: on a loaded machine a start takes tens of seconds
            self.proc.kill()
            raise AssertionError(f"relay node {name} did not start")

    def stop(self):
        """As `parkgate serve` stops its relay process: standard input closes."""
        if self.proc.poll() is None:
            self.proc.stdin.close()
        assert self.proc.wait(timeout=20) is not None
        self.log.close()

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def cluster(tmp_path):
    """A fresh schema, the receiver, the relay configuration and an outbox to owe documents on."""
    url, schema = _fresh_pg_schema()
    upgrade(url)
    receiver = Receiver()
    port = on_reactor(lambda: reactor.listenTCP(0, server.Site(receiver), interface="127.0.0.1"))
    config = tmp_path / "nodes.toml"
    config.write_text(RELAYS.format(url=f"http://127.0.0.1:{port.getHost().port}/"))
    cfg = configuration.load(config)
    store = Store(url)
    nodes = []

    def start(name):
        nodes.append(Node(name, config, url, tmp_path / f"{name}.log"))
        return nodes[-1]

    def owe(count):
        """``count`` ParkingEvents recorded now, owed to both destinations (as a gateway owes them)."""
        outbox = make_outbox(store, cfg, lambda: datetime.now(timezone.utc))
        keys = [unique("N") for _ in range(count)]
        for key in keys:
            with store.connection() as conn:
                outbox.enqueue(conn, "ParkingEvent", key, "LOT-DOWNTOWN-A",
                               re.sub(r"<EventID>[^<]*</EventID>", f"<EventID>{key}</EventID>", SEED.read_text()),
                               datetime.now(timezone.utc))
        return keys

    def all_delivered():
        with store.connection() as conn:
            states = conn.execute(select(OutboxMessage.state)).scalars().all()
        return len(states) == 2 * DOCUMENTS and set(states) == {"DELIVERED"}

    def holder(destination):
        with store.connection() as conn:
            return conn.execute(select(RelayLease.owner).where(RelayLease.destination == destination)).scalar()

    yield dict(receiver=receiver, start=start, owe=owe, all_delivered=all_delivered, holder=holder,
               nodes=nodes)
    for node in nodes:
        if node.proc.poll() is None:
            node.kill()
    on_reactor(port.stopListening)
    store.dispose()
    _drop_pg_schema(schema)


def test_a_lease_is_held_renewed_given_up_and_taken_over_once_expired(database_url, request):
    migrated_with_users(database_url, request)
    store, clock = Store(database_url), SettableClock()
    cfg = configuration.parse(configuration.tomllib.loads(RELAYS.format(url="http://127.0.0.1:9/")))
    outbox = make_outbox(store, cfg, clock)
    try:
        expiry = outbox.claim("feed-a", "node-a", 2)
        assert expiry == clock() + timedelta(seconds=2)
        assert outbox.claim("feed-a", "node-b", 2) is None          # held by node-a
        clock.advance(timedelta(seconds=1))
        assert outbox.claim("feed-a", "node-a", 2) == clock() + timedelta(seconds=2)  # renewed
        clock.advance(timedelta(seconds=1.5))
        assert outbox.claim("feed-a", "node-b", 2) is None          # still node-a's
        assert outbox.status()["feed-a"]["node"] == "node-a"
        clock.advance(timedelta(seconds=1))                          # node-a died: it expired
        assert outbox.claim("feed-a", "node-b", 2) is not None
        assert outbox.claim("feed-b", "node-a", 2) is not None
        outbox.release("node-a")                                     # node-a stops
        assert outbox.status()["feed-b"]["node"] is None
        assert outbox.claim("feed-b", "node-b", 2) is not None      # at once
        assert outbox.status()["feed-a"]["node"] == outbox.status()["feed-b"]["node"] == "node-b"
    finally:
        store.dispose()


@two_nodes
def test_two_nodes_deliver_each_message_exactly_once(cluster):
    a, b = cluster["start"]("node-a"), cluster["start"]("node-b")
    keys = cluster["owe"](DOCUMENTS)
    until(cluster["all_delivered"], timeout=60, interval=0.2)
    assert a.proc.poll() is None and b.proc.poll() is None  # both were there all along
    a.stop()
    b.stop()  # whatever either had in flight has ended now
    receiver = cluster["receiver"]
    for path in ("/a", "/b"):
        assert receiver.counts(path) == Counter({key: 1 for key in keys})
        assert receiver.accepted[path] == keys  # in order


@two_nodes
def test_when_the_delivering_node_dies_the_other_carries_on(cluster):
    receiver = cluster["receiver"]
    nodes = {name: cluster["start"](name) for name in ("node-a", "node-b")}
    killed = {}

    def kill_the_holder():
        # Mid-way: the holder of feed-a waits for the answer to its 20th document, and sends
        # nothing more to feed-a; what it had sent is all accepted by now.
        killed["accepted"] = set(receiver.counts("/a"))
        killed["name"] = cluster["holder"]("feed-a")
        nodes[killed["name"]].kill()
    receiver.hold("/a", 20, kill_the_holder)
    keys = cluster["owe"](DOCUMENTS)
    until(cluster["all_delivered"], timeout=60, interval=0.2)

    survivor = next(node for name, node in nodes.items() if name != killed["name"])
    assert survivor.proc.poll() is None
    survivor.stop()
    for path in ("/a", "/b"):
        counts = receiver.counts(path)
        assert set(counts) == set(keys)  # nothing lost
        assert list(dict.fromkeys(receiver.accepted[path])) == keys  # first deliveries in order
        # Repeats, with the same key, only of what the dead node had sent and not yet recorded.
        assert sum(counts.values()) - DOCUMENTS <= DeliveryWorker.RECORD_EVERY
    assert {key for key, n in receiver.counts("/a").items() if n > 1} <= killed["accepted"]
    assert cluster["holder"]("feed-a") == survivor.name
