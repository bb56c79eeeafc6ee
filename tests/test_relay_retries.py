"""Relay retries (issue 14, defect 6): an outage of hours loses nothing, and only a refusal the
destination would repeat dead-letters a message early.

A delivery worker runs its rounds back to back in the test's thread on a real database, with a
real channel to a real receiver on the test reactor; the clock is injected and jumps to each
round's next due time, so hours of outage take a second.
"""

import re
from datetime import timedelta

import pytest
from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread

from adapters.channels import channel_for
from adapters.delivery import DeliveryWorker
from adapters.outbox import retry_delay
from conftest import SettableClock, migrated_with_users, unique
from gateway import config as configuration
from gateway.service import outbox as make_outbox
from gateway.service import relay_contract
from gateway.store.engine import Store
from gateway.store.schema import OutboxMessage
from legacy.doubles import HttpReceiver, gate_system
from test_contract import SEED

RELAYS = """
[[relay]]
name = "long-outage"
kind = "xml"
url = "{long_outage}"
timeout_s = 0.5

[[relay]]
name = "expiring"
kind = "xml"
url = "{expiring}"
timeout_s = 0.5
max_age_s = 3600

[[relay]]
name = "refusing"
kind = "xml"
url = "{refusing}"
timeout_s = 0.5

[[relay]]
name = "gate"
kind = "soap"
wsdl = "{gate}?wsdl"
operation = "RecordTransit"
stylesheet = "{stylesheet}"
timeout_s = 2
"""

# Transits as the gate system takes them, except that an event whose EventID starts with
# UNMAPPABLE becomes an element the operation does not have: a mapping failure for one document.
UNMAPPABLE = """<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:pg="urn:parkgate:v1"
    xmlns:gs="urn:example:gate-system:v2" exclude-result-prefixes="pg">
  <xsl:template match="/pg:ParkingEvent">
    <gs:RecordTransit>
      <xsl:choose>
        <xsl:when test="starts-with(pg:EventID, 'UNMAPPABLE')"><gs:Transit/></xsl:when>
        <xsl:otherwise>
          <gs:Transaction>
            <gs:TransactionID><xsl:value-of select="pg:EventID"/></gs:TransactionID>
            <gs:LicensePlate><xsl:value-of select="pg:Vehicle/pg:LicensePlate/pg:Number"/></gs:LicensePlate>
            <gs:OccurredAt><xsl:value-of select="pg:Timestamp"/></gs:OccurredAt>
          </gs:Transaction>
        </xsl:otherwise>
      </xsl:choose>
    </gs:RecordTransit>
  </xsl:template>
</xsl:stylesheet>
"""
HOURS = 6


def on_reactor(fn, *args):
    return blockingCallFromThread(reactor, fn, *args)


def document(event_id):
    return re.sub(r"<EventID>[^<]*</EventID>", f"<EventID>{event_id}</EventID>", SEED.read_text())


class Relay:
    """One module's outbox on the (migrated) test database, its receivers, and a worker per destination."""

    def __init__(self, url, receivers, stylesheet):
        self.store = Store(url, sqlite_synchronous="NORMAL")
        self.clock = SettableClock()
        self.receivers = receivers
        text = RELAYS.format(stylesheet=stylesheet, **{name.replace("-", "_"): r.url for name, r in receivers.items()})
        cfg = configuration.parse(configuration.tomllib.loads(text))
        self.outbox = make_outbox(self.store, cfg, self.clock)
        contract = relay_contract()
        # A poll interval of an hour: an idle round says when the head is due, not "soon".
        self.workers = {d.name: DeliveryWorker(d, channel_for(d, contract), self.outbox, contract, reactor=None,
                                               threadpool=None, node="test-node", poll_interval=3600)
                        for d in cfg.relays}

    def owe(self, destination, count, prefix="E"):
        """``count`` documents owed to ``destination`` now; their keys, in order."""
        keys = [unique(prefix) for _ in range(count)]
        with self.store.transaction() as db:
            db.add_all(OutboxMessage(destination=destination, kind="ParkingEvent", key=key,
                                     facility_id="LOT-DOWNTOWN-A", document=document(key), created_at=self.clock(),
                                     state="PENDING", attempts=0, next_attempt_at=self.clock()) for key in keys)
        return keys

    def run(self, destination, until, limit=5000):
        """Rounds back to back, the clock jumping by each round's wait; the waits, in order."""
        worker, waits = self.workers[destination], []
        while not until():
            assert len(waits) < limit, "the worker did not get there"
            wait = worker.step()
            waits.append(wait)
            self.clock.advance(timedelta(seconds=wait))
        return waits

    def messages(self, destination):
        return {row.key: row for row in self.outbox.list(destination=destination, limit=10000)}

    def status(self, destination):
        return self.outbox.status()[destination]


@pytest.fixture(scope="module")
def relay(database_url, tmp_path_factory, request):
    receivers = {"long-outage": HttpReceiver(), "expiring": HttpReceiver(), "refusing": HttpReceiver(),
                 "gate": gate_system()}
    for r in receivers.values():
        on_reactor(r.start)
    stylesheet = tmp_path_factory.mktemp("profiles") / "unmappable.xsl"
    stylesheet.write_text(UNMAPPABLE)
    migrated_with_users(database_url, request)
    relay = Relay(database_url, receivers, stylesheet)
    yield relay
    relay.store.dispose()
    for r in receivers.values():
        if r.port.connected:
            on_reactor(r.stop)
        if hasattr(r, "pool"):
            r.pool.stop()


@pytest.fixture(autouse=True)
def healthy(relay):
    for r in relay.receivers.values():
        r.mode = "ok"


def test_an_outage_of_hours_loses_nothing(relay):
    receiver = relay.receivers["long-outage"]
    on_reactor(receiver.go_down)
    keys = relay.owe("long-outage", 5)
    started = relay.clock()
    waits = relay.run("long-outage", until=lambda: relay.clock() - started >= timedelta(hours=HOURS))

    messages = relay.messages("long-outage")
    assert relay.status("long-outage")["dead"] == 0
    assert [messages[k].state for k in keys] == ["PENDING"] * 5
    head = messages[keys[0]]
    assert head.attempts >= HOURS * 60  # retried all along, at least once a minute...
    assert max(waits) <= 60             # ...the interval capped at backoff_max_s
    assert head.last_error.startswith("ConnectionError")
    assert [messages[k].attempts for k in keys[1:]] == [0] * 4  # behind the head, in order

    on_reactor(receiver.come_back)
    relay.run("long-outage", until=lambda: relay.status("long-outage")["delivered"] == 5, limit=100)
    assert receiver.keys == keys  # each once, in order
    assert relay.status("long-outage")["last_error"] is None


def test_retry_delay_doubles_up_to_the_cap_for_ever():
    assert [retry_delay(n, 1.0, 60.0, 1.0) for n in (1, 2, 3, 6, 7, 8)] == [1, 2, 4, 32, 60, 60]
    assert retry_delay(10_000, 1.0, 60.0, 0.5) == 30  # days of retries: no overflow


def test_messages_older_than_max_age_are_dead_lettered_with_the_reason(relay):
    receiver = relay.receivers["expiring"]
    on_reactor(receiver.go_down)
    keys = relay.owe("expiring", 3)
    started = relay.clock()
    relay.run("expiring", until=lambda: relay.status("expiring")["dead"] == 3)
    assert relay.clock() - started >= timedelta(hours=1)
    for row in relay.messages("expiring").values():
        assert re.fullmatch(r"expired after \d+ attempts: ConnectionError.*", row.last_error)

    on_reactor(receiver.come_back)  # the operator's retry, once the destination is back
    assert relay.outbox.retry(destination="expiring") == 3
    relay.run("expiring", until=lambda: relay.status("expiring")["delivered"] == 3, limit=10)
    assert receiver.keys == keys


@pytest.mark.parametrize("status, refused", [(400, True), (404, True), (422, True), (408, False), (429, False),
                                             (500, False), (503, False)])
def test_http_refusals_are_dead_lettered_at_once_other_failures_retried(relay, status, refused):
    receiver = relay.receivers["refusing"]
    receiver.mode, receiver.status = "status", status
    [key] = relay.owe("refusing", 1)
    relay.workers["refusing"].step()
    row = relay.messages("refusing")[key]
    assert (row.state, row.attempts) == (("DEAD" if refused else "PENDING"), 1)
    assert row.last_error == (f"refused: HTTP {status}" if refused else f"HTTP {status}")
    if not refused:  # it goes once the destination takes it
        receiver.mode = "ok"
        relay.run("refusing", until=lambda: relay.messages("refusing")[key].state == "DELIVERED", limit=10)
        assert receiver.keys[-1] == key


def test_a_soap_client_fault_is_a_refusal_a_server_fault_is_retried(relay):
    gate = relay.receivers["gate"]
    gate.mode = "client-fault"
    [refused] = relay.owe("gate", 1)
    relay.workers["gate"].step()
    gate.mode = "fault"
    [retried] = relay.owe("gate", 1)
    relay.workers["gate"].step()
    messages = relay.messages("gate")
    assert messages[refused].state == "DEAD"
    assert messages[refused].last_error.startswith("refused: SOAP Fault") and "Client.Rejected" in \
        messages[refused].last_error
    assert (messages[retried].state, messages[retried].attempts) == ("PENDING", 1)
    gate.mode = "ok"
    relay.run("gate", until=lambda: relay.messages("gate")[retried].state == "DELIVERED", limit=10)
    assert [r.payload[0].TransactionID for r in gate.received if r.payload] == [retried]


def test_a_document_the_profile_cannot_map_is_dead_lettered_and_the_next_goes_on(relay):
    gate = relay.receivers["gate"]
    before = len(gate.received)
    [unmappable] = relay.owe("gate", 1, prefix="UNMAPPABLE")
    [mapped] = relay.owe("gate", 1)
    relay.workers["gate"].step()  # one round: the refusal does not hold up the next message
    messages = relay.messages("gate")
    assert messages[unmappable].state == "DEAD"
    assert messages[unmappable].last_error.startswith("refused: mapping failed")
    assert messages[mapped].state == "DELIVERED"
    assert [r.payload[0].TransactionID for r in gate.received[before:] if r.payload] == [mapped]
