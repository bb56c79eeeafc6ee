"""Relays to legacy systems over the wire: SOAP through zeep to spyne doubles, XML/JSON POSTs and
signed webhooks to an HTTP receiver; outages, faults, timeouts, dead letters, order, no loss."""

import base64
import hashlib
import hmac
import json
import socket
from datetime import date, datetime, timezone

import pytest
import xmlschema
import zeep
from lxml import etree
from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from conftest import PASSWORD, migrated_with_users, start_gateway, stop_gateway, unique, unique_plate
from gateway import config as configuration
from gateway.contract.schema import CONTRACT_XSD
from gateway.store.schema import OutboxMessage
from legacy.doubles import HttpReceiver, enforcement_office, gate_system, kept_transits
from test_plc import until

REPO_PROFILES = configuration.REPO_ROOT / "adapters" / "profiles"
SECRET = "hook-secret-for-tests"
NS = {"pg": "urn:parkgate:v1"}

CONFIG = """
[server]
listen = "127.0.0.1:0"
[recognition]
allowed_sources = ["127.0.0.1/32"]
fetch_timeout_s = 1
[[facility]]
id = "LOT-R"
name = "Relay Garage"
capacity = 100
timezone = "UTC"
[facility.tariff]
rate_code = "H"
price_per_period = "2.00"
daily_maximum = "20.00"
grace_minutes = 10
[facility.citations]
FIRE_LANE = {{ fine = "150.00", due_days = 14 }}
[[facility.lane]]
camera_id = "R-IN"
number = 1
direction = "BOTH"

[[relay]]
name = "xml-feed"
kind = "xml"
url = "{xml}"
documents = ["ParkingEvent"]
timeout_s = 0.5
backoff_s = 0.05
backoff_max_s = 0.2

[[relay]]
name = "json-feed"
kind = "json"
url = "{json}"
basic_auth = {{ username = "feed-user", password = "feed-pass" }}
timeout_s = 0.5
backoff_s = 0.05
backoff_max_s = 0.2

[[relay]]
name = "hook"
kind = "webhook"
url = "{hook}"
secret = "{secret}"
documents = ["Citation", "Permit"]
timeout_s = 0.5
backoff_s = 0.05
backoff_max_s = 0.2

[[relay]]
name = "batched"
kind = "xml"
url = "{batch}"
documents = ["ParkingEvent"]
batch_window_s = 1.5
timeout_s = 0.5
backoff_s = 0.05

[[relay]]
name = "gate-system"
kind = "soap"
wsdl = "{gate}?wsdl"
operation = "RecordTransit"
stylesheet = "{profiles}/gate-transactions.xsl"
documents = ["ParkingEvent"]
timeout_s = 0.5
backoff_s = 0.05
backoff_max_s = 0.2

[[relay]]
name = "stuck"
kind = "xml"
url = "{stuck}"
documents = ["ParkingEvent"]
timeout_s = 30
lease_s = 120

[[relay]]
name = "enforcement"
kind = "soap"
wsdl = "{enforcement}?wsdl"
operation = "SubmitCitation"
stylesheet = "{profiles}/enforcement-citations.xsl"
documents = ["Citation"]
wsse = {{ username = "parkgate", password = "back-office-secret" }}
timeout_s = 0.5
backoff_s = 0.05
backoff_max_s = 0.2
"""


def on_reactor(fn, *args):
    return blockingCallFromThread(reactor, fn, *args)


@pytest.fixture(scope="module")
def doubles():
    ds = {"xml": HttpReceiver(), "json": HttpReceiver(), "hook": HttpReceiver(), "batch": HttpReceiver(),
          "stuck": HttpReceiver(), "gate": gate_system(), "enforcement": enforcement_office()}
    for d in ds.values():
        on_reactor(d.start)
    yield ds
    for d in ds.values():
        if d.port is not None and d.port.connected:
            on_reactor(d.stop)
        if hasattr(d, "pool"):
            d.pool.stop()


def relay_config(doubles, url):
    text = CONFIG.format(secret=SECRET, profiles=REPO_PROFILES,
                         **{name: d.url.rstrip("/") + ("/" if name in ("xml", "json", "hook", "batch", "stuck") else "")
                            for name, d in doubles.items()})
    return configuration.parse(configuration.tomllib.loads(text)).override(database_url=url)


@pytest.fixture(scope="module")
def relaying(doubles, tmp_path_factory, request):
    url = f"sqlite:///{tmp_path_factory.mktemp('relay') / 'relay.db'}"
    migrated_with_users(url, request)
    gw = start_gateway(relay_config(doubles, url), lambda: datetime.now(timezone.utc))
    yield gw
    stop_gateway(gw)


@pytest.fixture(autouse=True)
def healthy(doubles):
    for d in doubles.values():
        d.mode = "ok"
    yield


def submit(gw, plate=None, direction="ENTRY", event_id=None, client=None):
    event_id = event_id or unique()
    (client or gw.client("EventService")).SubmitEvent(Event={
        "EventID": event_id, "FacilityID": "LOT-R", "CameraID": "R-IN", "Direction": direction,
        "Timestamp": datetime.now(timezone.utc), "PlateText": plate or unique_plate(), "Confidence": "0.95"})
    return event_id


def test_xml_post_carries_the_schema_valid_document_and_its_key(relaying, doubles):
    event_id = submit(relaying)
    until(lambda: event_id in doubles["xml"].keys)
    got = next(r for r in doubles["xml"].received if r.key == event_id)
    assert got.headers["content-type"].startswith("application/xml")
    xmlschema.XMLSchema(str(CONTRACT_XSD)).validate(got.body)
    assert etree.fromstring(got.body).findtext("pg:EventID", namespaces=NS) == event_id


def test_json_post(relaying, doubles):
    event_id = submit(relaying)
    until(lambda: event_id in doubles["json"].keys)
    received = next(r for r in doubles["json"].received if r.key == event_id)
    assert received.headers["authorization"] == "Basic " + base64.b64encode(b"feed-user:feed-pass").decode()
    got = json.loads(received.body)
    assert got["kind"] == "ParkingEvent" and got["key"] == event_id
    assert got["document"]["EventID"] == event_id
    assert got["document"]["Charges"]["CurrentCharge"] == {"@currency": "USD", "$": "0.00"}


def test_signed_webhook_for_permits_and_citations(relaying, doubles):
    plate = unique_plate()
    permit = relaying.client("PermitService").IssuePermit(Plate=plate, PermitType="Monthly", ValidFrom=date.today(),
                                                          ValidUntil=date.today(), FacilityID="LOT-R")
    key = f"{permit.PermitNumber}:ACTIVE"
    until(lambda: key in doubles["hook"].keys)
    got = next(r for r in doubles["hook"].received if r.key == key)
    expected = hmac.new(SECRET.encode(), f"{got.headers['x-parkgate-timestamp']}.".encode() + got.body,
                        hashlib.sha256).hexdigest()
    assert got.headers["x-parkgate-signature"] == f"sha256={expected}"
    assert json.loads(got.body)["document"]["State"] == "ACTIVE"


def test_batching_window_sends_one_document(relaying, doubles):
    # The earlier tests' events (a window ago at most) are sent first: alone, or with ours.
    until(lambda: relaying.service.outbox.status()["batched"]["pending"] == 0, interval=0.05, blocking=True)
    before = len(doubles["batch"].received)
    ids = [submit(relaying) for _ in range(3)]
    until(lambda: all(any(i.encode() in r.body for r in doubles["batch"].received[before:]) for i in ids))
    batches = doubles["batch"].received[before:]
    assert len(batches) < 3  # gathered
    doc = etree.fromstring(batches[0].body)
    assert doc.tag == "{urn:parkgate:v1}DocumentBatch"
    xmlschema.XMLSchema(str(CONTRACT_XSD)).validate(batches[0].body)


def test_soap_relay_through_zeep_and_the_profile_stylesheet(relaying, doubles):
    event_id = submit(relaying)
    until(lambda: event_id in [r.payload[0].TransactionID for r in doubles["gate"].received if r.payload])
    transit = next(r for r in doubles["gate"].received if r.payload and r.payload[0].TransactionID == event_id)
    assert transit.payload[0].Direction == "IN" and transit.key == event_id

    citation = relaying.client("CitationService", user="enforcement").IssueCitation(
        FacilityID="LOT-R", Plate="ENF123", ViolationType="FIRE_LANE", Location="Gate 2")
    until(lambda: citation.CitationID in [r.payload[0].Reference for r in doubles["enforcement"].received
                                          if r.payload])
    taken = next(r for r in doubles["enforcement"].received
                 if r.payload and r.payload[0].Reference == citation.CitationID)
    ticket = taken.payload[0]
    assert (ticket.Plate, str(ticket.Fine), ticket.Currency) == ("ENF123", "150.00", "USD")
    assert taken.wsse_username == "parkgate"  # WS-Security UsernameToken on the way out


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("review", ["unread", "low-confidence"])
def test_a_review_reaches_the_gate_system_once_with_the_plate_a_person_read(relaying, doubles, review):
    """Issue 14, defect 11: the REVIEW is not a transit (the gate system, which drops repeated
    TransactionIDs, would keep it and drop the real one); its resolution is."""
    events = relaying.client("EventService")
    event_id = unique()
    event = {"EventID": event_id, "FacilityID": "LOT-R", "CameraID": "R-IN", "Direction": "ENTRY",
             "Timestamp": datetime.now(timezone.utc)}
    if review == "unread":  # a picture nobody serves: no plate at all
        event["ImageURL"] = f"http://127.0.0.1:{closed_port()}/lane.jpg"
    else:
        event.update(PlateText=unique_plate(), Confidence="0.40")
    assert events.SubmitEvent(Event=event).Decision == "REVIEW"
    outbox = relaying.service.outbox
    until(lambda: event_id in [m.key for m in outbox.list(destination="gate-system", state="SKIPPED", limit=1000)])

    plate = unique_plate()
    item = next(i for i in events.ListReviews(FacilityID="LOT-R", Limit=500) if i.EventID == event_id)
    assert events.ResolveReview(ReviewID=item.ReviewID, Plate=plate).Decision == "OPEN"
    until(lambda: event_id in kept_transits(doubles["gate"]))
    transit = kept_transits(doubles["gate"])[event_id]
    assert (transit.LicensePlate, transit.Direction, transit.Outcome) == (plate, "IN", "GRANTED")
    assert [r.key for r in doubles["gate"].received
            if r.payload and r.payload[0].TransactionID == event_id] == [f"{event_id}:resolved"]

    # Generic feeds get both documents; the JSON of the REVIEW says a resolution follows.
    until(lambda: f"{event_id}:resolved" in doubles["json"].keys)
    sent = {json.loads(r.body)["key"]: json.loads(r.body) for r in doubles["json"].received
            if r.key in (event_id, f"{event_id}:resolved")}
    assert sent[event_id]["provisional"] is True and "provisional" not in sent[f"{event_id}:resolved"]


def delivered_in_order(double, ids):
    """Every id delivered; the first deliveries in submission order; repeats only of the same key."""
    keys = [k for k in double.keys if k in ids]
    firsts = list(dict.fromkeys(keys))
    return firsts == ids


def test_outage_then_recovery_delivers_everything_once_in_order(relaying, doubles):
    receiver = doubles["xml"]
    on_reactor(receiver.go_down)
    ids = [submit(relaying) for _ in range(5)]
    until(lambda: relaying.service.outbox.status()["xml-feed"]["pending"] >= 5)
    on_reactor(receiver.come_back)
    until(lambda: all(i in receiver.keys for i in ids))
    assert delivered_in_order(receiver, ids)
    assert all(receiver.keys.count(i) == 1 for i in ids)


@pytest.mark.parametrize("mode, channel", [("http500", "xml"), ("malformed", "gate"), ("fault", "gate"),
                                           ("slow", "xml")])
def test_faults_are_retried_until_the_peer_recovers(relaying, doubles, mode, channel):
    double = doubles[channel]
    double.mode, double.slow_s = mode, 1.0
    ids = [submit(relaying) for _ in range(3)]
    name = {"xml": "xml-feed", "gate": "gate-system"}[channel]
    until(lambda: relaying.service.outbox.status()[name]["last_error"] is not None
          and relaying.service.outbox.status()[name]["pending"] >= 1)
    double.mode = "ok"
    seen = (lambda: double.keys) if channel == "xml" else \
        (lambda: [r.payload[0].TransactionID for r in double.received if r.payload])
    until(lambda: all(i in seen() for i in ids))
    firsts = list(dict.fromkeys(k for k in seen() if k in ids))
    assert firsts == ids
    if mode != "slow":  # only an unacknowledged delivery may be repeated
        assert all(seen().count(i) == 1 for i in ids)


def test_dead_letters_and_retry(relaying, doubles):
    hook = doubles["hook"]
    hook.mode, hook.status = "status", 403  # a refusal the peer will repeat: dead-lettered at once
    citation = relaying.client("CitationService", user="enforcement").IssueCitation(
        FacilityID="LOT-R", Plate="DEAD1", ViolationType="FIRE_LANE")
    until(lambda: relaying.service.outbox.status()["hook"]["dead"] >= 1)
    status = relaying.client("RelayService").GetRelayStatus()
    hook_status = next(s for s in status if s.Destination == "hook")
    assert hook_status.Dead >= 1 and hook_status.LastError == "refused: HTTP 403"
    hook.mode = "ok"
    assert relaying.service.outbox.retry(destination="hook") >= 1
    until(lambda: citation.CitationID in hook.keys)


def test_a_document_failing_the_schema_is_recorded_not_sent(relaying, doubles):
    bad = '<ParkingEvent xmlns="urn:parkgate:v1"><EventID>no spaces allowed</EventID></ParkingEvent>'
    with relaying.store.transaction() as db:
        row = OutboxMessage(destination="json-feed", kind="ParkingEvent", key="BAD-1", facility_id="LOT-R",
                            document=bad, created_at=datetime.now(timezone.utc), state="PENDING", attempts=0,
                            next_attempt_at=datetime.now(timezone.utc))
        db.add(row)
    on_reactor(relaying.service.relays.wake, ["json-feed"])
    until(lambda: relaying.service.outbox.list(destination="json-feed", state="DEAD"))
    dead = relaying.service.outbox.list(destination="json-feed", state="DEAD")[-1]
    assert dead.key == "BAD-1" and dead.last_error.startswith("schema:")
    assert "BAD-1" not in doubles["json"].keys
    event_id = submit(relaying)  # and the destination goes on
    until(lambda: event_id in doubles["json"].keys)


def test_a_dead_destination_does_not_hold_up_decisions(relaying, doubles):
    stuck = doubles["stuck"]
    # A lane event is answered within 5 s while the relay waits up to its 30 s timeout.
    events = zeep.Client(relaying.url("EventService") + "?wsdl", wsse=UsernameToken("operator", PASSWORD),
                         transport=Transport(timeout=5, operation_timeout=5)).service
    # "stuck" takes every ParkingEvent: the earlier tests' are delivered first, or (on a loaded
    # machine) the relay gets stuck on one of those, with this test's event queued behind it.
    until(lambda: relaying.service.outbox.status()["stuck"]["pending"] == 0, interval=0.05, blocking=True)
    stuck.mode, stuck.slow_s = "slow", 120.0  # takes the document, answers in two minutes
    try:
        first = submit(relaying, client=events)
        until(lambda: first in stuck.keys and stuck.waiting())  # the relay is stuck on it...
        second = submit(relaying, client=events)  # ...and lane events go on being decided, at once
        assert on_reactor(stuck.waiting)  # while the relay still waits
    finally:
        stuck.mode = "ok"
        on_reactor(stuck.release)
    with relaying.store.transaction() as db:
        assert db.query(OutboxMessage).filter(OutboxMessage.key.in_([first, second]),
                                              OutboxMessage.destination == "stuck").count() == 2
    until(lambda: second in stuck.keys)  # released, it delivers the rest
