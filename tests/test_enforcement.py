"""The violation scan over real SOAP and the CLI: open sessions checked on an injected schedule,
each violation cited once per session (across scans, restarts and two nodes on PostgreSQL), the
citation relayed to an enforcement destination over real HTTP."""

import subprocess
import sys
import threading
from datetime import date, timedelta
from decimal import Decimal

import configs
import pytest
from sqlalchemy import select
from twisted.internet import reactor, task
from twisted.internet.threads import blockingCallFromThread

from conftest import SettableClock, migrated_with_users, unique, unique_plate
from gateway.domain.sessions import ParkingSession
from gateway.service import GatewayService
from gateway.store import audit, sessions
from gateway.store.audit import AuditFilter
from gateway.store.schema import CitationRecord
from test_events import submit
from test_plc import until

CITATIONS = {"EXPIRED_TIME": ("50.00", 30), "INVALID_PERMIT": ("75.00", 30), "UNPAID_STAY": ("40.00", 14)}


def enforcement_config(database_url, receiver_url):
    raw = configs.gateway(
        configs.facility("LOT-ENF", configs.lane("CAM-IN", 1, "ENTRY"), configs.lane("CAM-OUT", 2, "EXIT"),
                         timezone="America/New_York", citations=CITATIONS,
                         tariff_=configs.tariff("H", "3.00", "24.00", grace_minutes=15),
                         enforcement={"time_limit_minutes": 120, "payment_window_minutes": 90}),
        configs.facility("LOT-PERMITS", configs.lane("P-IN", 1, "ENTRY"), permit_only=True,
                         citations={"NO_PERMIT": ("60.00", 30), "INVALID_PERMIT": ("75.00", 30)},
                         enforcement={"scan_interval_minutes": 0}),
        relays=[configs.relay("enforcement-office", receiver_url, documents=["Citation"], backoff_s=0.1)])
    return configs.parse(raw, database_url=database_url)


class Node:
    def __init__(self, database_url, receiver_url, clock, name):
        self.clock, self.jobs = clock, task.Clock()
        cfg = enforcement_config(database_url, receiver_url)
        cfg = cfg.override(ops=cfg.ops.__class__(**{**vars(cfg.ops), "node": name}))
        self.service = GatewayService(cfg, clock=clock, reactor=reactor, job_clock=self.jobs)
        blockingCallFromThread(reactor, self.service.startService)

    def client(self, name, user="enforcement"):
        import zeep
        from zeep.wsse.username import UsernameToken

        from conftest import PASSWORD
        return zeep.Client(f"{self.service.base_url}/soap/{name}?wsdl", wsse=UsernameToken(user, PASSWORD)).service

    def stop(self):
        blockingCallFromThread(reactor, self.service.stopService)


@pytest.fixture(scope="module")
def node(database_url, receiver, request):
    migrated_with_users(database_url, request)
    n = Node(database_url, receiver.url, SettableClock(), "enf-1")
    yield n
    n.stop()


class _Gw:
    """What test_events.submit needs of a gateway."""

    def __init__(self, n):
        self.clock, self._n = n.clock, n

    def client(self, name, user="operator"):
        return self._n.client(name, user)


def enter(n, plate, facility="LOT-ENF", camera="CAM-IN", **extra):
    return submit(_Gw(n), "ENTRY", plate, camera=camera, facility=facility,
                  ImageURL=f"https://cams.example/{unique('img')}.jpg", **extra)


def citations_of(n, session_id):
    with n.service.store.connection() as conn:
        T = CitationRecord.__table__
        return conn.execute(select(T).where(T.c.session_id == session_id).order_by(T.c.violation)).all()


def test_dry_run_shows_then_a_scan_cites_once_with_evidence_and_relays_it(node, receiver):
    node.clock.now = SettableClock().now
    plate = unique_plate()
    session_id = enter(node, plate).ParkingEvent.Session.SessionID
    scan = node.client("CitationService").ScanViolations
    node.clock.advance(timedelta(minutes=100))   # past the payment window (90), within the time limit (120)
    mine = lambda found: [v for v in found if v.SessionID == session_id]  # noqa: E731
    dry = mine(scan(FacilityID="LOT-ENF", DryRun=True))
    assert [(v.ViolationType, v.Outcome) for v in dry] == [("UNPAID_STAY", "WOULD_CITE")]
    assert "6.00 USD unpaid after 1h40" in dry[0].Reason and plate not in dry[0].Reason
    assert citations_of(node, session_id) == []

    node.clock.advance(timedelta(minutes=30))    # now past the time limit too
    done = mine(scan(FacilityID="LOT-ENF"))
    assert sorted((v.ViolationType, v.Outcome) for v in done) == [("EXPIRED_TIME", "CITED"), ("UNPAID_STAY", "CITED")]
    rows = citations_of(node, session_id)
    assert [(r.violation, r.fine, r.due_date, r.issued_by) for r in rows] == [
        ("EXPIRED_TIME", Decimal("50.00"), date(2025, 1, 22) + timedelta(days=30), "enforcement-scan"),
        ("UNPAID_STAY", Decimal("40.00"), date(2025, 1, 22) + timedelta(days=14), "enforcement-scan")]
    assert all(r.evidence_url.startswith("https://cams.example/img-") and r.plate == plate for r in rows)

    # "Who looked at this plate": the scans that showed it, found by the plate (a keyed hash beside each).
    about = node.client("AuditService", user="admin").QueryAudit(Plate=plate, Limit=1000)
    assert [(e.Action, e.User, e.Kind) for e in about if e.Action == "EnforcementScan"] == [
        ("EnforcementScan", "enforcement", "QUERY"), ("EnforcementScan", "enforcement", "CHANGE")]

    again = mine(scan(FacilityID="LOT-ENF"))
    assert sorted((v.ViolationType, v.Outcome, v.CitationID) for v in again) == [
        ("EXPIRED_TIME", "ALREADY_CITED", None), ("UNPAID_STAY", "ALREADY_CITED", None)]
    assert len(citations_of(node, session_id)) == 2
    # Both citations reach the enforcement office over HTTP, each under its CitationID.
    ids = {r.id for r in rows}
    until(lambda: ids <= set(receiver.keys))
    body = next(r.body for r in receiver.received if r.key == rows[0].id)
    assert b"<SessionID>" + session_id.encode() + b"</SessionID>" in body


def test_an_unpaid_stay_is_judged_by_the_tariff_versions_set_since_start(node):
    """SetTariff's versions price the stay the scan finds unpaid, as they price its exit and QuoteFee."""
    node.clock.now = SettableClock().now
    admin = node.client("TariffService", user="admin")
    admin.SetTariff(FacilityID="LOT-ENF", VehicleType="bus", Reason="buses pay more",
                    Rules={"Rates": {"PricePerPeriod": "10.00", "DailyMaximum": "80.00"}})
    session_id = enter(node, unique_plate(), VehicleType="bus").ParkingEvent.Session.SessionID
    node.clock.advance(timedelta(minutes=100))   # past the payment window (90): two hours at 10.00
    due = node.client("EventService").QuoteFee(SessionID=session_id)
    found = [v for v in node.client("CitationService").ScanViolations(FacilityID="LOT-ENF", DryRun=True)
             if v.SessionID == session_id]
    assert [v.ViolationType for v in found] == ["UNPAID_STAY"]
    assert "20.00 USD unpaid after 1h40" in found[0].Reason, (found[0].Reason, due)


def test_permits_that_lapse_and_permit_only_lots(node):
    node.clock.now = SettableClock().now
    permits = node.client("PermitService", user="operator")
    holder = unique_plate()
    permit = permits.IssuePermit(Plate=holder, PermitType="Monthly", ValidFrom=date(2025, 1, 1),
                                 ValidUntil=date(2025, 1, 31), FacilityID="LOT-PERMITS")
    on_permit = enter(node, holder, facility="LOT-PERMITS", camera="P-IN").ParkingEvent.Session.SessionID
    # A vehicle in the permit-only lot without one (it followed another through the barrier).
    stray = unique_plate()
    with node.service.store.connection() as conn:
        sessions.insert(conn, ParkingSession(
            id=unique("S"), facility_id="LOT-PERMITS", plate=stray, status="OPEN", entry_time=node.clock(),
            exit_time=None, entry_event_id=unique("E"), exit_event_id=None, lane_number=1, jurisdiction=None,
            country=None, space_assigned="B-12", permit_number=None, amount_charged=None, amount_paid=Decimal("0"),
            paid_at=None))
    scan = node.client("CitationService").ScanViolations
    found = {v.Plate: (v.ViolationType, v.Outcome) for v in scan(FacilityID="LOT-PERMITS")}
    assert found.get(stray) == ("NO_PERMIT", "CITED") and holder not in found
    permits.RevokePermit(PermitNumber=permit.PermitNumber, Reason="sold the car")
    found = {v.Plate: (v.ViolationType, v.Outcome, v.Reason) for v in scan(FacilityID="LOT-PERMITS")}
    assert found[holder][:2] == ("INVALID_PERMIT", "CITED") and "revoked" in found[holder][2]
    assert found[stray][:2] == ("NO_PERMIT", "ALREADY_CITED")
    assert [r.violation for r in citations_of(node, on_permit)] == ["INVALID_PERMIT"]
    with node.service.store.read() as conn:   # a user's scan cites: a change of theirs, not the scheduler's
        scans = audit.find(conn, AuditFilter(action="EnforcementScan"))
    assert {(e.username, e.kind) for e in scans if e.subject == "LOT-PERMITS"} == {("enforcement", "CHANGE")}


def test_the_scan_runs_on_its_schedule_and_survives_a_restart(node, database_url, receiver):
    node.clock.now = SettableClock().now
    plate = unique_plate()
    session_id = enter(node, plate).ParkingEvent.Session.SessionID
    node.clock.advance(timedelta(hours=3))
    blockingCallFromThread(reactor, node.jobs.advance, 29 * 60)
    assert citations_of(node, session_id) == []        # not yet: every 30 minutes
    blockingCallFromThread(reactor, node.jobs.advance, 60)
    until(lambda: len(citations_of(node, session_id)) == 2, blocking=True)
    # Another gateway on the same database (a restart): the same violations are not cited again.
    other = Node(database_url, receiver.url, node.clock, "enf-restarted")
    try:
        again = [v for v in other.client("CitationService").ScanViolations(FacilityID="LOT-ENF")
                 if v.SessionID == session_id]
        assert {v.Outcome for v in again} == {"ALREADY_CITED"}
    finally:
        other.stop()
    assert len(citations_of(node, session_id)) == 2


def test_scan_faults_and_roles(node):
    import zeep
    with pytest.raises(zeep.exceptions.Fault) as nowhere:
        node.client("CitationService").ScanViolations(FacilityID="LOT-NOWHERE")
    assert nowhere.value.code.endswith("Client.UnknownFacility")
    with pytest.raises(zeep.exceptions.Fault) as denied:
        node.client("CitationService", user="integrator").ScanViolations(FacilityID="LOT-ENF")
    assert denied.value.code.endswith("Client.Authorization")


@pytest.mark.postgres
def test_two_nodes_scanning_at_once_cite_each_violation_once(node, database_url, receiver):
    if not database_url.startswith("postgresql"):
        pytest.skip("two nodes share a PostgreSQL database")
    node.clock.now = SettableClock().now
    sessions_ = [enter(node, unique_plate()).ParkingEvent.Session.SessionID for _ in range(12)]
    node.clock.advance(timedelta(hours=3))
    second = Node(database_url, receiver.url, node.clock, "enf-2")
    try:
        results, barrier = {}, threading.Barrier(4)

        def scan(name, n):
            client = n.client("CitationService")
            barrier.wait()
            results[name] = client.ScanViolations(FacilityID="LOT-ENF")
        threads = [threading.Thread(target=scan, args=(f"{n.service.node}-{i}", n))
                   for n in (node, second) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        cited = [v for found in results.values() for v in found if v.SessionID in sessions_ and v.Outcome == "CITED"]
        assert len(results) == 4 and len(cited) == 2 * len(sessions_)
        assert len({(v.SessionID, v.ViolationType) for v in cited}) == 2 * len(sessions_)
        for s in sessions_:
            assert [r.violation for r in citations_of(node, s)] == ["EXPIRED_TIME", "UNPAID_STAY"]
    finally:
        second.stop()


def test_cli_dry_run_shows_what_it_would_cite(node, database_url, tmp_path):
    node.clock.now = SettableClock().now
    plate = unique_plate()
    enter(node, plate)
    cfg = tmp_path / "enforce.toml"
    raw = configs.gateway(configs.facility("LOT-ENF", configs.lane("CAM-IN", 1, "ENTRY"), citations=CITATIONS,
                                           enforcement={"time_limit_minutes": 1}), database_url=database_url)
    cfg.write_text(configs.toml(raw))
    run = subprocess.run([sys.executable, "-m", "gateway", "--config", str(cfg), "enforce", "scan", "--dry-run"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    mine = [line for line in run.stdout.splitlines() if plate in line]
    assert len(mine) == 1 and "EXPIRED_TIME" in mine[0] and "WOULD_CITE" in mine[0] and "50.00 USD" in mine[0]
    # The CLI's clock is the wall clock: the entry (in January 2025) is long past the limit.
    assert "limit 0h01" in mine[0]
