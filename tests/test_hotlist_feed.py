"""Hotlist feeds (issue 17): a CSV file by the CLI, and an XML feed fetched over HTTP on a schedule
(the job clock injected), synchronised with its source's entries; bad rows reported, not fatal."""

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import configs
import pytest
from twisted.internet import reactor, task
from twisted.internet.threads import blockingCallFromThread
from twisted.web import resource, server

from conftest import SettableClock, migrated_with_users, unique_plate
from gateway.contract.schema import CONTRACT_XSD
from gateway.service import GatewayService
from test_events import submit

LOT = "LOT-FEED"


class Feed(resource.Resource):
    isLeaf = True
    body = b""

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"application/xml")
        return self.body


def xml_feed(*entries):
    rows = "".join(f"<Entry><Plate>{plate}</Plate><Category>{category}</Category><Reason>police</Reason>"
                   f"{f'<ExpiresAt>{expires}</ExpiresAt>' if expires else ''}</Entry>"
                   for plate, category, expires in entries)
    return f'<HotlistFeed xmlns="urn:parkgate:v1">{rows}</HotlistFeed>'.encode()


@pytest.fixture(scope="module")
def feed():
    f = Feed()
    port = blockingCallFromThread(reactor, reactor.listenTCP, 0, server.Site(f), interface="127.0.0.1")
    yield f, f"http://127.0.0.1:{port.getHost().port}/feed.xml"
    blockingCallFromThread(reactor, port.stopListening)


@pytest.fixture(scope="module")
def node(database_url, feed, request):
    migrated_with_users(database_url, request)
    raw = configs.gateway(configs.facility(LOT, configs.lane("FEED-IN", 1, "ENTRY")),
                          hotlist_feed={"location": feed[1], "source": "police", "interval_minutes": 5,
                                        "allowed_sources": ["127.0.0.1"]})
    jobs = task.Clock()
    service = GatewayService(configs.parse(raw, database_url=database_url), clock=SettableClock(), reactor=reactor,
                             job_clock=jobs)
    blockingCallFromThread(reactor, service.startService)

    class Gw:
        clock = service.use_cases.clock

        @staticmethod
        def client(name, user="operator"):
            import zeep
            from zeep.wsse.username import UsernameToken

            from conftest import PASSWORD
            return zeep.Client(f"{service.base_url}/soap/{name}?wsdl", wsse=UsernameToken(user, PASSWORD)).service
    yield service, jobs, Gw
    blockingCallFromThread(reactor, service.stopService)


def scheduled_import(service, jobs):
    """Let the job clock reach the next scheduled import and wait (on its Deferred) until it ended."""
    before = service.job_runs.get("hotlist feed")
    blockingCallFromThread(reactor, jobs.advance, 5 * 60)
    run = service.job_runs["hotlist feed"]
    assert run is not before, "the scheduled import did not start"
    blockingCallFromThread(reactor, lambda: run)


def listed(service, source):
    return {(e.plate, e.category) for e in service.use_cases.hotlist.listing() if e.source == source}


def test_the_scheduled_import_follows_the_feed(node, feed):
    service, jobs, gw = node
    stolen, watched, released = unique_plate(), unique_plate(), unique_plate()
    feed[0].body = xml_feed((stolen, "stolen", None), (watched, "watch", "2030-01-01T00:00:00Z"),
                            (released, "banned", None))
    scheduled_import(service, jobs)
    assert listed(service, "police") == {(stolen, "stolen"), (watched, "watch"), (released, "banned")}
    assert (submit(gw, "ENTRY", stolen, camera="FEED-IN", facility=LOT).Reason) == "HOTLISTED"

    feed[0].body = xml_feed((stolen, "stolen", None), (watched, "watch", "2030-01-01T00:00:00Z"))
    scheduled_import(service, jobs)
    assert listed(service, "police") == {(stolen, "stolen"), (watched, "watch")}
    assert submit(gw, "ENTRY", released, camera="FEED-IN", facility=LOT).Decision == "OPEN"


def test_an_entry_the_feed_lists_again_with_a_new_expiry_or_reason_is_listed_as_it_now_says(node, feed):
    """A police feed that extends a stolen car's entry keeps the car held past the first expiry."""
    service, jobs, gw = node
    plate = unique_plate()
    soon = gw.clock() + timedelta(hours=1)
    feed[0].body = xml_feed((plate, "stolen", soon.isoformat()))
    scheduled_import(service, jobs)
    feed[0].body = xml_feed((plate, "stolen", "2030-01-01T00:00:00Z")).replace(b"police", b"police: still sought")
    scheduled_import(service, jobs)
    (entry,) = [e for e in service.use_cases.hotlist.listing() if e.plate == plate]
    assert (entry.expires_at, entry.reason) == (datetime(2030, 1, 1, tzinfo=timezone.utc), "police: still sought")
    gw.clock.advance(timedelta(hours=2))
    try:
        assert submit(gw, "ENTRY", plate, camera="FEED-IN", facility=LOT).Reason == "HOTLISTED"
    finally:
        gw.clock.advance(-timedelta(hours=2))


def test_a_plate_listed_by_hand_and_by_the_feed_is_one_entry_as_the_feed_says(node, feed):
    """The feed's rows are ADDs: a plate an operator listed in that category is that entry, revised
    (the feed's source, reason, expiry), not a second; and the feed's own second entries of a key
    (a database listed before entries were revised) go, so one entry is left."""
    from gateway.store import hotlist as store
    service, jobs, gw = node
    by_hand, twice = unique_plate(), unique_plate()
    security = gw.client("SecurityService")
    desk = security.ManageHotlist(Action="ADD", Plate=by_hand, Category="stolen", Reason="reported at the desk",
                                  Source="desk", ExpiresAt=gw.clock() + timedelta(hours=1)).Entry
    with service.store.connection() as conn:
        for _ in range(2):
            store.add(conn, twice, None, "police", gw.clock(), "wanted", "police")
    feed[0].body = xml_feed((by_hand, "stolen", None), (twice, "wanted", None))
    scheduled_import(service, jobs)
    mine = [(e.id, e.source, e.reason, e.expires_at) for e in service.use_cases.hotlist.listing(include_expired=True)
            if e.plate == by_hand]
    assert mine == [(desk.EntryID, "police", "police", None)]
    assert len([e for e in service.use_cases.hotlist.listing(include_expired=True) if e.plate == twice]) == 1
    scheduled_import(service, jobs)                                  # and again: nothing doubles
    assert listed(service, "police") == {(by_hand, "stolen"), (twice, "wanted")}
    assert len([e for e in service.use_cases.hotlist.listing() if e.plate in (by_hand, twice)]) == 2


def test_an_invalid_feed_changes_nothing_and_the_job_goes_on(node, feed):
    service, jobs, _ = node
    before = listed(service, "police")
    feed[0].body = b"<HotlistFeed xmlns='urn:parkgate:v1'><Nonsense/></HotlistFeed>"
    with pytest.raises(Exception, match="not a HotlistFeed"):
        service.hotlist_feeds.import_feed(feed[1])
    scheduled_import(service, jobs)
    assert listed(service, "police") == before
    plate = unique_plate()
    feed[0].body = xml_feed((plate, "wanted", None))
    scheduled_import(service, jobs)
    assert listed(service, "police") == {(plate, "wanted")}


def test_a_feed_from_a_source_not_allowed_is_refused(node):
    service, _, _ = node
    with pytest.raises(Exception, match="not an allowed feed source"):
        service.hotlist_feeds.import_feed("http://169.254.169.254/latest/meta-data")


def test_the_cli_imports_a_csv_file_and_reports_bad_rows(node, database_url, tmp_path):
    service, _, _ = node
    a, b = unique_plate(), unique_plate()
    csv = tmp_path / "feed.csv"
    csv.write_text(f"plate,category,reason,facility,expires_at\n{a.lower()},stolen,police,{LOT},\n"
                   f"{b},watch,,,2030-01-01T00:00:00Z\n,stolen,x,,\nq-1,bogus,x,,\n"
                   f"{unique_plate()},banned,x,LOT-NOWHERE,\n{unique_plate()},banned,x,,2020-01-01T00:00:00Z\n")
    config = tmp_path / "parkgate.toml"
    config.write_text(configs.toml(configs.gateway(configs.facility(LOT, configs.lane("FEED-IN", 1, "ENTRY")),
                                                   database_url=database_url)))
    run = subprocess.run([sys.executable, "-m", "gateway", "-c", str(config), "hotlist", "import", str(csv),
                          "--source", "city-csv"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr     # imported, with rejected rows
    assert run.stdout.splitlines()[0] == "city-csv: 2 added, 0 kept, 0 removed, 1 already expired, 3 rejected"
    assert "line 4:" in run.stdout and "line 5: category" in run.stdout and "line 6: unknown facility" in run.stdout
    assert a not in run.stdout   # rejected rows are named by line, never by plate
    assert listed(service, "city-csv") == {(a, "stolen"), (b, "watch")}
    missing = subprocess.run([sys.executable, "-m", "gateway", "-c", str(config), "hotlist", "import",
                              str(tmp_path / "nope.csv")], capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "cannot be read" in missing.stderr


def test_the_xml_feed_is_the_contract_s(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(xml_feed(("AB123", "stolen", datetime(2030, 1, 1, tzinfo=timezone.utc).isoformat())))
    run = subprocess.run(["xmllint", "--noout", "--schema", str(CONTRACT_XSD), str(path)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
