"""AuthorizePlate over real SOAP: a PARCS asks whether a plate may pass a lane, nothing is opened;
every question audited once, durably, before its answer. On SQLite and PostgreSQL."""

import threading
from datetime import date, timedelta

import zeep
from zeep.wsse.username import UsernameToken

from conftest import FACILITY, PASSWORD, unique_plate
from gateway.app.authorization import Authorizations
from gateway.store import audit as audit_store
from gateway.store.audit import AuditFilter
from gateway.store.engine import Store
from gateway.store.schema import AuditRecord, HotlistRecord
from test_events import fault_of, issue_permit, submit


def authorize(gw, plate, lane=1, facility=FACILITY, **more):
    return gw.client("PermitService", user="integrator").AuthorizePlate(
        FacilityID=facility, LaneNumber=lane, Plate=plate, **more)


def test_a_permit_holder_is_granted_and_no_session_is_opened(gateway, clock):
    plate = unique_plate()
    issued = issue_permit(gateway, plate)
    answer = authorize(gateway, plate.lower())
    assert (answer.Decision, answer.Reason, answer.Status) == ("GRANTED", "PERMIT_VALID", "VALID")
    assert answer.Permit.PermitNumber == issued.PermitNumber
    # Asked again: the same answer (no session was opened by the first question).
    assert authorize(gateway, plate).Decision == "GRANTED"
    events = gateway.client("EventService")
    assert fault_of(lambda: events.GetSession(Plate=plate, FacilityID=FACILITY)).code.endswith("Client.NotFound")


def test_transients_expired_permits_and_permit_only_lots(gateway, clock):
    plate = unique_plate()
    assert (authorize(gateway, plate).Decision, authorize(gateway, plate).Reason) == ("GRANTED", "TRANSIENT_ENTRY")
    # A permit-only lot declines a plate without one, and one whose permit lapsed (its permit comes back).
    small = authorize(gateway, plate, facility="LOT-SMALL")
    assert (small.Decision, small.Reason, small.Status, small.Permit) == ("DECLINED", "NO_PERMIT", "NONE", None)
    lapsed = unique_plate()
    issue_permit(gateway, lapsed, facility="LOT-SMALL", valid_from=date(2024, 12, 1), valid_until=date(2024, 12, 31))
    answer = authorize(gateway, lapsed, facility="LOT-SMALL")
    assert (answer.Decision, answer.Reason, answer.Status) == ("DECLINED", "PERMIT_EXPIRED", "EXPIRED")
    assert answer.Permit.ValidUntil == date(2024, 12, 31)


def test_exit_lane_declines_until_paid_and_a_parked_plate_cannot_enter_twice(gateway, clock):
    plate = unique_plate()
    submit(gateway, "ENTRY", plate)
    again = authorize(gateway, plate)
    assert (again.Decision, again.Reason) == ("DECLINED", "OPEN_SESSION_EXISTS")
    clock.advance(timedelta(hours=2))
    out = authorize(gateway, plate, lane=2)
    assert (out.Decision, out.Reason) == ("DECLINED", "PAYMENT_DUE")
    # The question changed nothing: the session is still open, the exit still decides as before.
    assert gateway.client("EventService").GetSession(Plate=plate, FacilityID=FACILITY).Status == "OPEN"


def test_hotlisted_plate_is_declined(gateway, clock):
    plate = unique_plate()
    with gateway.store.connection() as conn:
        conn.execute(HotlistRecord.__table__.insert(), dict(plate=plate, facility_id=None, reason="stolen",
                                                             added_at=clock()))
    answer = authorize(gateway, plate)
    assert (answer.Decision, answer.Reason) == ("DECLINED", "HOTLISTED")


def test_two_way_lanes_need_a_direction_and_bad_questions_get_faults(gateway, clock):
    plate = unique_plate()
    assert fault_of(lambda: authorize(gateway, plate, lane=3)).code.endswith("Client.InvalidInput")
    assert authorize(gateway, plate, lane=3, Direction="ENTRY").Decision == "GRANTED"
    wrong_way = fault_of(lambda: authorize(gateway, plate, lane=1, Direction="EXIT"))
    assert wrong_way.code.endswith("Client.InvalidInput")
    assert fault_of(lambda: authorize(gateway, plate, lane=9)).code.endswith("Client.UnknownLane")
    assert fault_of(lambda: authorize(gateway, plate, facility="LOT-NOWHERE")).code.endswith(
        "Client.UnknownFacility")
    assert fault_of(lambda: authorize(gateway, "!!")).code.endswith("Client.InvalidInput")
    future = clock() + timedelta(hours=1)
    assert fault_of(lambda: authorize(gateway, plate, At=future)).code.endswith("Client.InvalidTime")
    enforcement = gateway.client("PermitService", user="enforcement")
    denied = fault_of(lambda: enforcement.AuthorizePlate(FacilityID=FACILITY, LaneNumber=1, Plate=plate))
    assert denied.code.endswith("Client.Authorization")


def test_each_question_is_audited_without_the_plate(gateway, clock):
    plate = unique_plate()
    authorize(gateway, plate)
    with gateway.store.connection() as conn:
        rows = conn.execute(AuditRecord.__table__.select().where(AuditRecord.__table__.c.action == "AuthorizePlate")
                            ).all()
    mine = [r for r in rows if r.subject == f"{FACILITY}:1" and r.kind == "QUERY"]
    assert mine and all(plate not in (r.detail or "") for r in mine)
    assert all(r.username == "integrator" for r in mine)


def test_concurrent_questions_each_leave_one_audit_entry_and_the_chain_verifies(gateway, clock):
    """Questions at once from several connections (and, on PostgreSQL, a second node on the same
    database, its own engine and its own commit groups): each is recorded once, before its answer,
    and the chain they were appended to in groups verifies."""
    plates = [unique_plate() for _ in range(6 * 5)]
    second = None
    if gateway.store.dialect != "sqlite":
        second = Store(gateway.store.url, keys=gateway.store.keys)
        node2 = Authorizations(gateway.service.config.facilities, gateway.service.config.decision_rules, second,
                               clock)
    answers, errors = {}, []

    def ask(n):
        try:
            if second is not None and n % 2:
                for plate in plates[n::6]:
                    answers[plate] = node2.authorize(FACILITY, 1, plate, "integrator").decision
                return
            client = zeep.Client(gateway.url("PermitService") + "?wsdl",
                                 wsse=UsernameToken("integrator", PASSWORD)).service
            for plate in plates[n::6]:
                answers[plate] = client.AuthorizePlate(FacilityID=FACILITY, LaneNumber=1, Plate=plate).Decision
        except Exception as e:  # noqa: BLE001 - asserted below
            errors.append(e)
    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if second is not None:
        second.dispose()
    assert not errors and len(answers) == len(plates) and set(answers.values()) == {"GRANTED"}
    with gateway.store.connection() as conn:
        for plate in plates:
            found = audit_store.find(conn, AuditFilter(plate=plate, action="AuthorizePlate"))
            assert len(found) == 1 and found[0].detail == "ENTRY GRANTED TRANSIENT_ENTRY"
    check = gateway.service.audit.verify()
    assert check.verified and check.broken_at is None
