"""Occupancy analytics (issue 17): the hours kept as vehicles come and go, GetOccupancyHistory over
SOAP, and the signage feed (XML valid against the contract, and JSON), on SQLite and PostgreSQL."""

import json
import subprocess
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import configs
import pytest
from lxml import etree

from conftest import SettableClock, migrated_with_users, start_gateway, stop_gateway, unique_plate
from gateway.contract.documents import parse
from gateway.contract.namespace import NS
from gateway.contract.schema import CONTRACT_XSD, document_schema
from gateway.store.migrate import upgrade
from test_events import fault_of, submit

LOT = "LOT-OCC"
FREE = configs.tariff("FREE", "0.00", "0.00", grace_minutes=0)


@pytest.fixture(scope="module")
def gateway(database_url, request):
    """Two lots of two spaces each, free to park in (every exit closes its stay)."""
    raw = configs.gateway(
        configs.facility(LOT, configs.lane("OCC-IN", 1, "ENTRY"), configs.lane("OCC-OUT", 2, "EXIT"),
                         name="Occupancy Lot", capacity=2, tariff_=FREE),
        configs.facility("LOT-OTHER", configs.lane("OTHER-IN", 1, "BOTH"), capacity=2, tariff_=FREE))
    migrated_with_users(database_url, request)
    gw = start_gateway(configs.parse(raw, database_url=database_url),
                       SettableClock(datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)))
    yield gw
    stop_gateway(gw)


def at(gw, hour, minute):
    gw.clock.now = datetime(2025, 3, 1, hour, minute, tzinfo=timezone.utc)
    return gw.clock.now


def lane(gw, direction, plate, hour, minute, facility=LOT):
    at(gw, hour, minute)
    camera = {LOT: "OCC-IN" if direction == "ENTRY" else "OCC-OUT"}.get(facility, "OTHER-IN")
    answer = submit(gw, direction, plate, camera=camera, facility=facility)
    assert answer.Decision == "OPEN", answer.Reason
    return answer


def get(gw, path):
    with urllib.request.urlopen(f"{gw.base_url}{path}", timeout=10) as answer:
        return answer.headers["Content-Type"], answer.read()


def test_the_hours_are_kept_as_vehicles_come_and_go(gateway):
    a, b = unique_plate(), unique_plate()
    lane(gateway, "ENTRY", a, 8, 10)
    lane(gateway, "ENTRY", b, 8, 20)
    lane(gateway, "EXIT", a, 8, 50)        # a stayed 40 minutes
    lane(gateway, "ENTRY", unique_plate(), 9, 0, facility="LOT-OTHER")   # another lot's hours are its own
    lane(gateway, "EXIT", b, 10, 30)       # b stayed 2 h 10
    at(gateway, 12, 0)
    h = gateway.client("EventService").GetOccupancyHistory(
        FacilityID=LOT, From=datetime(2025, 3, 1, 7, 15, tzinfo=timezone.utc),
        To=datetime(2025, 3, 1, 11, 0, tzinfo=timezone.utc))
    # Widened to whole hours: 07:00 to 11:00.
    assert (h.From.hour, h.To.hour) == (7, 11)
    rows = [(x.Hour.hour, x.Entries, x.Exits, x.Peak, x.OccupiedAtEnd) for x in h.Hour]
    assert rows == [(7, 0, 0, 0, 0), (8, 2, 1, 2, 1), (9, 0, 0, 1, 1), (10, 0, 1, 1, 0)]
    assert (h.Entries, h.Exits, h.Capacity) == (2, 2, 2)
    assert h.PeakHour == datetime(2025, 3, 1, 8, tzinfo=timezone.utc) and h.PeakOccupancy == 2
    assert h.AverageStay == timedelta(minutes=85)
    assert h.Turnover == Decimal("1.00")   # two entries over two spaces

    # A later period carries what the last counted hour ended with.
    later = gateway.client("EventService").GetOccupancyHistory(
        FacilityID="LOT-OTHER", From=datetime(2025, 3, 1, 11, tzinfo=timezone.utc),
        To=datetime(2025, 3, 1, 13, tzinfo=timezone.utc))
    assert [(x.Peak, x.OccupiedAtEnd) for x in later.Hour] == [(1, 1), (1, 1)]
    assert later.Entries == 0 and later.AverageStay is None and later.PeakHour == datetime(
        2025, 3, 1, 11, tzinfo=timezone.utc)


def test_history_faults(gateway):
    events = gateway.client("EventService")
    t0 = datetime(2025, 3, 1, 8, tzinfo=timezone.utc)
    assert fault_of(lambda: events.GetOccupancyHistory(FacilityID="LOT-NOWHERE", From=t0, To=t0 + timedelta(hours=1))
                    ).code.endswith("Client.UnknownFacility")
    assert fault_of(lambda: events.GetOccupancyHistory(FacilityID=LOT, From=t0, To=t0 - timedelta(hours=1))
                    ).code.endswith("Client.InvalidTime")
    assert fault_of(lambda: events.GetOccupancyHistory(FacilityID=LOT, From=t0, To=t0 + timedelta(days=40))
                    ).code.endswith("Client.InvalidInput")
    # A time without its offset is refused as every other one is (Client.InvalidTime), naming its field.
    naive = fault_of(lambda: events.GetOccupancyHistory(FacilityID=LOT, From=t0, To=datetime(2025, 3, 1, 9)))
    assert naive.code.endswith("Client.InvalidTime") and naive.detail.findtext(f".//{{{NS}}}Field") == "To"


def test_the_signage_feed_says_the_free_spaces(gateway, tmp_path):
    plate = unique_plate()
    lane(gateway, "ENTRY", plate, 13, 0)
    content_type, body = get(gateway, f"/signage?facility={LOT}")
    assert content_type.startswith("application/xml")
    feed = parse(body)
    assert document_schema().validate(feed), document_schema().error_log
    path = tmp_path / "signage.xml"
    path.write_bytes(body)
    run = subprocess.run(["xmllint", "--noout", "--schema", str(CONTRACT_XSD), str(path)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    facility = feed.find(f"{{{NS}}}Facility")
    assert [c.text for c in facility] == [LOT, "Occupancy Lot", "2", "1", "1", "SPACES_AVAILABLE"]

    lane(gateway, "ENTRY", unique_plate(), 13, 5)
    content_type, body = get(gateway, "/signage?format=json")
    assert content_type == "application/json"
    data = json.loads(body)
    assert data["AsOf"] == "2025-03-01T13:05:00Z"
    mine = {f["FacilityID"]: f for f in data["Facility"]}
    assert mine[LOT] == {"FacilityID": LOT, "Name": "Occupancy Lot", "Capacity": 2, "Occupied": 2, "Available": 0,
                         "Status": "FULL"}
    assert set(mine) == {LOT, "LOT-OTHER"}

    with pytest.raises(urllib.error.HTTPError) as info:
        get(gateway, "/signage?facility=LOT-NOWHERE&format=json")
    assert info.value.code == 404
    assert etree.fromstring(get(gateway, "/signage")[1]).tag == f"{{{NS}}}SignageFeed"


@pytest.mark.postgres
def test_lane_events_side_by_side_never_wait_on_one_hour_s_row(database_url):
    """Two units of work open at once count the same hour (PostgreSQL runs lane events side by side):
    the second does not wait for the first's row lock (each connection keeps a shard of its own),
    and the hour reads as both together: the counts summed, the highest peak, what the latest left."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes units of work in turn")
    from sqlalchemy import text

    from gateway.store import occupancy
    from gateway.store.engine import Store

    upgrade(database_url)
    store = Store(database_url)
    hour = datetime(2025, 4, 1, 9, 0, tzinfo=timezone.utc)
    facility = f"LOT-SHARDS-{unique_plate()}"
    try:
        with store.connection() as first:
            occupancy.count(first, facility, hour + timedelta(minutes=10), 5, entered=True)
            with store.connection() as second:
                second.execute(text("SET LOCAL lock_timeout = '3s'"))  # one row for both: it would wait, then fail
                occupancy.count(second, facility, hour + timedelta(minutes=20), 4, entered=False, stay_seconds=600)
            occupancy.count(first, facility, hour + timedelta(minutes=5), 6, entered=True)
        with store.connection() as conn:
            [counted] = occupancy.hours(conn, facility, hour, hour + timedelta(hours=1))
            carried = occupancy.occupied_before(conn, facility, hour + timedelta(hours=1))
    finally:
        store.dispose()
    assert (counted.entries, counted.exits, counted.stays, counted.stay_seconds) == (2, 1, 1, 600)
    assert counted.peak == 6
    assert counted.occupied_end == carried == 4   # the exit at 9:20 was the hour's latest event
