"""Hotlist categories over real SOAP: stolen and banned plates held, wanted and watched ones let
through, expired entries ignored; each read of a listed plate relayed as a SecurityEvent to a VMS
over real HTTP, schema-valid; ManageHotlist and ListHotlist audited."""

import threading
from datetime import timedelta

import configs
import pytest
import zeep
from lxml import etree
from sqlalchemy import select
from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread
from zeep.wsse.username import UsernameToken

from conftest import PASSWORD, SettableClock, migrated_with_users, unique, unique_plate, waits_for_a_turn
from gateway.app.hotlist import put
from gateway.contract.schema import document_schema
from gateway.service import GatewayService
from gateway.store import hotlist as hotlist_store
from gateway.store.schema import AuditRecord
from test_plc import until


@pytest.fixture(scope="module")
def gw(database_url, receiver, request):
    migrated_with_users(database_url, request)
    raw = configs.gateway(
        configs.facility("LOT-SEC", configs.lane("S-IN", 1, "ENTRY"), configs.lane("S-OUT", 2, "EXIT")),
        configs.facility("LOT-OTHER", configs.lane("O-IN", 1, "ENTRY")),
        relays=[configs.relay("vms", receiver.url, documents=["SecurityEvent"], backoff_s=0.1)])
    service = GatewayService(configs.parse(raw, database_url=database_url), clock=SettableClock(), reactor=reactor)
    blockingCallFromThread(reactor, service.startService)
    yield service
    blockingCallFromThread(reactor, service.stopService)


def client(gw, name, user="operator"):
    return zeep.Client(f"{gw.base_url}/soap/{name}?wsdl", wsse=UsernameToken(user, PASSWORD)).service


def enter(gw, plate, facility="LOT-SEC", camera="S-IN", event_id=None, **more):
    return client(gw, "EventService").SubmitEvent(Event={
        "EventID": event_id or unique(), "FacilityID": facility, "CameraID": camera, "Direction": "ENTRY",
        "Timestamp": gw.use_cases.clock(), "PlateText": plate, "Confidence": "0.97", **more})


def delivered(receiver, key):
    until(lambda: key in receiver.keys)
    return etree.fromstring(next(r.body for r in receiver.received if r.key == key))


@pytest.mark.parametrize("category, decision, severity", [
    ("stolen", "HOLD", "HIGH"), ("banned", "HOLD", "MEDIUM"), ("wanted", "OPEN", "HIGH"), ("watch", "OPEN", "LOW")])
def test_each_category_decides_and_raises_a_security_event(gw, receiver, category, decision, severity):
    plate = unique_plate()
    added = client(gw, "SecurityService").ManageHotlist(Action="ADD", Plate=plate.lower(), Category=category,
                                                        Reason="from the police feed", Source="police")
    assert (added.Entry.Plate, added.Entry.Category, added.Entry.Source) == (plate, category, "police")
    event_id = unique()
    outcome = enter(gw, plate, event_id=event_id, ImageURL="https://cams.example/lane1/1.jpg")
    assert outcome.Decision == decision
    assert (outcome.Reason == "HOTLISTED") == (decision == "HOLD")
    doc = delivered(receiver, f"{event_id}:SEC")
    alert = doc if doc.tag.endswith("SecurityEvent") else doc[0]
    assert document_schema().validate(alert), document_schema().error_log
    ns = {"pg": "urn:parkgate:v1"}
    assert alert.findtext("pg:Category", namespaces=ns) == category
    assert alert.findtext("pg:Severity", namespaces=ns) == severity
    assert alert.findtext("pg:Decision", namespaces=ns) == decision
    assert alert.findtext("pg:ImageURL", namespaces=ns) == "https://cams.example/lane1/1.jpg"
    assert (alert.findtext("pg:CameraID", namespaces=ns), alert.findtext("pg:Plate", namespaces=ns)) == ("S-IN", plate)


def test_the_most_severe_entry_decides_and_expired_or_other_lots_entries_do_not_count(gw, receiver):
    security = client(gw, "SecurityService")
    plate = unique_plate()
    now = gw.use_cases.clock()
    security.ManageHotlist(Action="ADD", Plate=plate, Category="watch", Reason="seen loitering")
    security.ManageHotlist(Action="ADD", Plate=plate, Category="stolen", Reason="reported", ExpiresAt=now
                           + timedelta(hours=1))
    assert enter(gw, plate).Decision == "HOLD"
    gw.use_cases.clock.advance(timedelta(hours=2))   # the stolen entry has expired; the watch remains
    try:
        assert enter(gw, unique_plate()).Decision == "OPEN"
        assert {e.Category for e in security.ListHotlist() if e.Plate == plate} == {"watch"}
        assert {e.Category for e in security.ListHotlist(IncludeExpired=True) if e.Plate == plate} == {"watch",
                                                                                                      "stolen"}
        other = unique_plate()
        security.ManageHotlist(Action="ADD", Plate=other, Category="banned", Reason="fraud", FacilityID="LOT-OTHER")
        assert enter(gw, other).Decision == "OPEN"                      # banned elsewhere, not here
        assert enter(gw, other, facility="LOT-OTHER", camera="O-IN").Decision == "HOLD"
        assert [e.Plate for e in security.ListHotlist(FacilityID="LOT-SEC") if e.Plate == other] == []
        removed = security.ManageHotlist(Action="REMOVE", Plate=other)
        assert removed.Removed == 1
        assert enter(gw, unique_plate(), facility="LOT-OTHER", camera="O-IN").Decision == "OPEN"
    finally:
        gw.use_cases.clock.now = SettableClock().now


def test_a_second_add_of_a_plate_and_category_revises_its_entry_and_lists_show_active_ones(gw):
    """The same plate and category ADDed again is that entry, revised (note, source, expiry; an
    expired one applies again), never a second; another facility's is its own. ListHotlist shows
    the entries in force unless IncludeExpired."""
    security = client(gw, "SecurityService")
    plate = unique_plate()
    now = gw.use_cases.clock()

    def entries(**asked):
        return [(e.EntryID, e.Category, e.FacilityID, e.Reason, e.Source, e.ExpiresAt)
                for e in security.ListHotlist(**asked) if e.Plate == plate]
    first = security.ManageHotlist(Action="ADD", Plate=plate, Category="stolen", Reason="reported", Source="desk",
                                   ExpiresAt=now + timedelta(hours=1)).Entry
    again = security.ManageHotlist(Action="ADD", Plate=plate, Category="stolen", Reason="reported: red van",
                                   Source="police").Entry
    assert again.EntryID == first.EntryID and (again.Reason, again.Source, again.ExpiresAt) == (
        "reported: red van", "police", None)
    assert entries(IncludeExpired=True) == [(first.EntryID, "stolen", None, "reported: red van", "police", None)]

    watched = security.ManageHotlist(Action="ADD", Plate=plate, Category="watch", Reason="seen",
                                     ExpiresAt=now + timedelta(hours=1)).Entry
    there = security.ManageHotlist(Action="ADD", Plate=plate, Category="watch", Reason="seen there",
                                   FacilityID="LOT-OTHER").Entry
    assert there.EntryID != watched.EntryID                           # another place: an entry of its own
    gw.use_cases.clock.advance(timedelta(hours=2))                    # the watch everywhere has expired
    try:
        assert {e[0] for e in entries()} == {first.EntryID, there.EntryID}
        assert {e[0] for e in entries(IncludeExpired=True)} == {first.EntryID, watched.EntryID, there.EntryID}
        renewed = security.ManageHotlist(Action="ADD", Plate=plate, Category="watch", Reason="seen again",
                                         ExpiresAt=gw.use_cases.clock() + timedelta(days=1)).Entry
        assert renewed.EntryID == watched.EntryID
        assert {e[0] for e in entries()} == {first.EntryID, watched.EntryID, there.EntryID}
        assert enter(gw, plate, facility="LOT-SEC").Decision == "HOLD"
    finally:
        gw.use_cases.clock.now = SettableClock().now
    security.ManageHotlist(Action="REMOVE", Plate=plate)


def test_two_nodes_adding_a_new_plate_at_once_list_it_once(gw):
    """Node A is amid an ADD of a key not yet listed (its turn taken, nothing found, its entry written,
    not committed) when node B's ADD of the same key comes over SOAP. Before, on PostgreSQL, B found
    nothing (A had not committed) and listed the key a second time; now B waits for the hotlist's
    turn, finds A's entry and revises it. (On SQLite units take turns anyway: B waits for A.)"""
    plate, answered, outcome = unique_plate(), threading.Event(), {}

    def node_b():
        try:
            outcome["entry"] = client(gw, "SecurityService").ManageHotlist(
                Action="ADD", Plate=plate, Category="stolen", Reason="reported at lane 2", Source="desk-b").Entry
        except Exception as e:  # noqa: BLE001 - the test looks at it
            outcome["error"] = e
        answered.set()
    with gw.store.connection() as conn:                                   # node A
        hotlist_store.take_turn(conn)
        assert hotlist_store.find(conn, plate, "stolen", None) is None
        first = put(conn, None, plate, None, "reported at lane 1", gw.use_cases.clock(), "stolen", "desk-a", None)
        b = threading.Thread(target=node_b)
        b.start()
        for _ in range(3000):   # at most 30 s; each check waits on B's answer, not on the clock
            if answered.wait(0.01) or waits_for_a_turn(gw.store, "hotlist"):
                break
    b.join(30)
    assert answered.is_set() and "entry" in outcome, outcome
    assert outcome["entry"].EntryID == first.id
    assert [(e.id, e.reason, e.source) for e in gw.use_cases.hotlist.listing() if e.plate == plate] == [
        (first.id, "reported at lane 2", "desk-b")]
    client(gw, "SecurityService").ManageHotlist(Action="REMOVE", Plate=plate)


def test_plates_not_listed_raise_nothing_and_changes_are_audited(gw, receiver):
    event_id = unique()
    enter(gw, unique_plate(), event_id=event_id)
    plate = unique_plate()
    client(gw, "SecurityService").ManageHotlist(Action="ADD", Plate=plate, Reason="x")
    client(gw, "SecurityService", user="enforcement").ListHotlist()
    with gw.store.connection() as conn:
        T = AuditRecord.__table__
        actions = {(r.action, r.username) for r in conn.execute(select(T.c.action, T.c.username))}
    assert {("AddHotlistEntry", "operator"), ("ListHotlist", "enforcement")} <= actions
    assert f"{event_id}:SEC" not in receiver.keys


def test_bad_hotlist_requests_get_faults(gw):
    security = client(gw, "SecurityService")
    cases = [dict(Action="ADD", Plate="ABC1"),                                    # no reason
             dict(Action="ADD", Plate="!!", Reason="x"),
             dict(Action="ADD", Plate="ABC1", Reason="x", Category="suspicious"),
             dict(Action="ADD", Plate="ABC1", Reason="x", FacilityID="LOT-NOWHERE"),
             dict(Action="ADD", Plate="ABC1", Reason="x", ExpiresAt=gw.use_cases.clock() - timedelta(minutes=1))]
    codes = []
    for case in cases:
        with pytest.raises(zeep.exceptions.Fault) as info:
            security.ManageHotlist(**case)
        codes.append(info.value.code.split(":")[-1])
    assert codes == ["Client.InvalidInput", "Client.InvalidInput", "Client.InvalidInput", "Client.UnknownFacility",
                     "Client.InvalidTime"]
    with pytest.raises(zeep.exceptions.Fault) as denied:
        client(gw, "SecurityService", user="integrator").ListHotlist()
    assert denied.value.code.endswith("Client.Authorization")
