"""The activity log over real SOAP (issue 19): every plate query and change recorded with who,
when, from where and what; no plate in clear; filtered, exported as CSV and verified, through
AuditService and the CLI; the chain holds with concurrent writers and breaks where an entry was
touched. On SQLite and PostgreSQL."""

import csv
import io
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, delete, func, insert, select, text, update

from conftest import FACILITY, SettableClock, _drop_pg_schema, blank_database, unique_plate
from gateway.app.audit import Audit
from gateway.domain.audit import AuditKeys
from gateway.domain.plates import normalise_plate
from gateway.store import audit as audit_store
from gateway.store.engine import Store
from gateway.store.migrate import upgrade
from gateway.store.schema import ERASURES, AuditPlateRecord, AuditRecord
from test_events import fault_of, issue_permit, submit


def entries(gateway, **filters):
    return gateway.client("AuditService", user="admin").QueryAudit(**filters, Limit=1000)


def test_plate_queries_are_recorded_with_who_where_and_a_keyed_hash(gateway, clock):
    plate = unique_plate()
    gateway.client("PermitService", user="integrator").LookupPermit(Plate=plate, FacilityID=FACILITY)
    issue_permit(gateway, plate)
    gateway.client("PermitService", user="enforcement").ListPermits(Plate=plate)

    about = entries(gateway, Plate=plate)
    assert [(e.Action, e.User, e.Kind) for e in about] == [
        ("LookupPermit", "integrator", "QUERY"), ("IssuePermit", "operator", "CHANGE"),
        ("ListPermits", "enforcement", "QUERY")]
    assert {e.Address for e in about} == {"127.0.0.1"}
    assert len({e.PlateHash for e in about}) == 1 and all(len(e.Hash) == 64 for e in about)
    assert entries(gateway, Plate=unique_plate()) == []
    # The plate itself is nowhere in the log.
    with gateway.store.connection() as conn:
        rows = conn.execute(text("SELECT * FROM audit_log")).all()
    assert plate not in repr(rows)


def test_a_hotlist_listing_is_found_by_each_plate_it_showed(gateway, clock):
    """ListHotlist shows many plates: "who looked at plate X" finds the listing by any of them (a
    keyed hash of each beside the entry, never the plate), and the chain still verifies."""
    listed, other = unique_plate(), unique_plate()
    security = gateway.client("SecurityService")
    security.ManageHotlist(Action="ADD", Plate=listed, Category="watch", Reason="seen at night")
    shown = gateway.client("SecurityService", user="enforcement").ListHotlist()
    assert listed in {e.Plate for e in shown}
    assert [(e.Action, e.User) for e in entries(gateway, Plate=listed)] == [
        ("AddHotlistEntry", "operator"), ("ListHotlist", "enforcement")]
    assert "ListHotlist" not in {e.Action for e in entries(gateway, Plate=other)}
    with gateway.store.connection() as conn:
        kept = conn.execute(text("SELECT * FROM audit_plates")).all()
    assert kept and listed not in repr(kept)
    assert gateway.client("AuditService", user="admin").VerifyAudit().Verified


def test_the_listings_that_showed_a_plate_are_found_by_it(gateway, clock):
    """ListPermits by facility, ListOvernightVehicles and ListReviews show many plates, and kept no
    hash of them (ListReviews was not audited at all): "who looked at plate X" missed them. Now each
    is found by every plate it showed (a review's as read and as resolved), and by no other."""
    permitted, parked, read, corrected, other = (unique_plate() for _ in range(5))
    issue_permit(gateway, permitted)
    assert submit(gateway, "ENTRY", parked).Decision == "OPEN"
    assert submit(gateway, "ENTRY", read, confidence="0.40").Decision == "REVIEW"
    clock.advance(timedelta(hours=15))                     # past midnight in New York: parked overnight
    assert permitted in {p.LicensePlate for p in gateway.client("PermitService", user="enforcement").ListPermits(
        FacilityID=FACILITY)}
    assert parked in {v.Plate for v in gateway.client("TicketService").ListOvernightVehicles(FacilityID=FACILITY)}
    events = gateway.client("EventService", user="admin")
    review = next(r for r in events.ListReviews(FacilityID=FACILITY, Limit=500) if r.PlateRead == read)
    events.ResolveReview(ReviewID=review.ReviewID, Plate=corrected)
    assert corrected in {r.ResolvedPlate for r in gateway.client("EventService").ListReviews(State="RESOLVED",
                                                                                             Limit=500)}

    def listings(plate):
        return [(e.Action, e.User, e.Kind) for e in entries(gateway, Plate=plate) if e.Action.startswith("List")]
    assert listings(permitted) == [("ListPermits", "enforcement", "QUERY")]
    assert listings(parked) == [("ListOvernightVehicles", "operator", "QUERY")]
    assert listings(read) == [("ListReviews", "admin", "QUERY"), ("ListReviews", "operator", "QUERY")]
    assert listings(corrected) == [("ListReviews", "operator", "QUERY")]
    assert listings(other) == []
    assert gateway.client("AuditService", user="admin").VerifyAudit().Verified


def test_a_search_for_a_plate_not_parked_is_recorded_too(gateway, clock):
    """GetSession by plate (the exit desk's search) recorded only when it found a session: a search
    that learnt the plate is not parked left no trace. Now it is an entry about the plate too."""
    plate = unique_plate()
    missing = fault_of(lambda: gateway.client("EventService").GetSession(FacilityID=FACILITY, Plate=plate.lower()))
    assert missing.code.endswith("Client.NotFound")
    assert [(e.Action, e.User, e.Subject, e.Detail) for e in entries(gateway, Plate=plate)] == [
        ("GetSession", "operator", FACILITY, "by plate, none found")]
    unknown = fault_of(lambda: gateway.client("EventService").GetSession(SessionID="S-NONE"))
    assert unknown.code.endswith("Client.NotFound")          # by id: no plate asked about, nothing to find it by


def test_a_lost_ticket_for_a_plate_not_parked_is_recorded_as_a_query(gateway, clock):
    """ProcessLostTicket of a plate that is not in answers "no vehicle of this plate": it learnt the
    plate is not parked, and left no trace."""
    plate = unique_plate()
    missing = fault_of(lambda: gateway.client("TicketService").ProcessLostTicket(
        FacilityID=FACILITY, Plate=plate, Reason="driver lost it"))
    assert missing.code.endswith("Client.NotFound")
    found = entries(gateway, Plate=plate)
    assert [(e.Action, e.Kind, e.Subject, e.Detail) for e in found] == [
        ("ProcessLostTicket", "QUERY", FACILITY, "no vehicle of this plate is in")]


def test_filters_export_and_the_log_reading_itself_is_recorded(gateway, clock):
    plate = unique_plate()
    issue_permit(gateway, plate)
    service = gateway.client("AuditService", user="admin")
    changes = service.QueryAudit(User="operator", Kind="CHANGE", Action="IssuePermit", Limit=1000)
    assert changes and {(e.User, e.Kind, e.Action) for e in changes} == {("operator", "CHANGE", "IssuePermit")}
    first, *rest = service.QueryAudit(Limit=2)
    page = service.QueryAudit(AfterID=first.EntryID, Limit=1)
    assert page[0].EntryID > first.EntryID
    recent = service.QueryAudit(From=clock() - timedelta(seconds=1), Until=clock() + timedelta(seconds=1),
                                Limit=1000)
    assert recent and all(e.At >= clock() - timedelta(seconds=1) for e in recent)

    export = service.ExportAudit(Plate=plate)
    assert export.MediaType.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.Content.decode())))
    assert [r["action"] for r in rows] == ["IssuePermit"] and plate not in export.Content.decode()
    assert entries(gateway, Action="ExportAudit")[-1].Detail.startswith("by plate")

    bad = fault_of(lambda: service.QueryAudit(Plate="not a plate!"))
    assert bad.code.endswith("Client.InvalidInput")
    refused = fault_of(lambda: gateway.client("AuditService", user="operator").QueryAudit())
    assert refused.code.endswith("Client.Authorization")


def test_barrier_commands_payments_and_users_are_changes_on_record(gateway, clock):
    lanes = gateway.client("LaneService", user="admin")
    lanes.OpenBarrier(FacilityID=FACILITY, LaneNumber=1, Reason="ambulance")
    opened = entries(gateway, Action="BarrierOpen")[-1]
    assert opened.User == "admin" and "ambulance" in opened.Detail and opened.Kind == "CHANGE"


def test_csv_cells_never_run_as_formulas(gateway, clock):
    lanes = gateway.client("LaneService", user="admin")
    lanes.OpenBarrier(FacilityID=FACILITY, LaneNumber=1, Reason="=HYPERLINK(\"x\")")
    content = gateway.client("AuditService", user="admin").ExportAudit(Action="BarrierOpen").Content.decode()
    assert "'=HYPERLINK" in content and ",=HYPERLINK" not in content


def test_the_chain_holds_with_concurrent_writers(gateway, clock):
    log = Audit(gateway.store, clock)
    errors = []

    def write(n):
        try:
            for i in range(25):
                log.record(f"writer-{n}", "BarrierOpen", f"lane {i}", "load")
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    check = gateway.client("AuditService", user="admin").VerifyAudit()
    assert check.Verified and check.Entries >= 150 and check.BrokenAt is None


@pytest.fixture
def tampering(gateway):
    """Undo the tampering after the test: the module's other tests share the log."""
    touched = []
    yield touched
    with gateway.store.connection() as conn:
        for entry_id, detail in touched:
            conn.execute(update(AuditRecord).where(AuditRecord.id == entry_id).values(detail=detail))


def test_verify_says_where_an_entry_was_changed(gateway, clock, tampering):
    issue_permit(gateway, unique_plate())
    victim = entries(gateway, Action="IssuePermit")[-1]
    with gateway.store.connection() as conn:
        conn.execute(update(AuditRecord).where(AuditRecord.id == victim.EntryID).values(detail="Annual"))
    tampering.append((victim.EntryID, victim.Detail))
    check = gateway.client("AuditService", user="admin").VerifyAudit()
    assert not check.Verified and check.BrokenAt == victim.EntryID and "changed" in check.Problem

    cli = subprocess.run([sys.executable, "-m", "gateway", "--database-url", gateway.service.config.database_url,
                          "audit", "verify"], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 1 and f"BROKEN at entry {victim.EntryID}" in cli.stdout


def _listing(gateway, clock, plates):
    """A listing's entry that showed ``plates`` (its id, and its audit_plates rows as written)."""
    with gateway.store.connection() as conn:
        entry_id = audit_store.record(conn, clock(), "enforcement", "ListHotlist", "hotlist", f"{len(plates)} shown",
                                      plates=plates)
    with gateway.store.connection() as conn:
        return entry_id, conn.execute(select(AuditPlateRecord.__table__).where(
            AuditPlateRecord.entry_id == entry_id)).mappings().all()


@pytest.mark.parametrize("tamper", ["removed", "changed", "added", "tombstoned"])
def test_verify_says_where_a_plate_a_listing_showed_was_touched(gateway, clock, tamper):
    """The hashes of the plates a listing showed are what QueryAudit Plate=... finds it by: one removed
    (the listing no longer found by it), changed, added or made to look erased without an erasure
    breaks the chain at the listing's entry."""
    entry_id, rows = _listing(gateway, clock, [unique_plate(), unique_plate()])
    audit_api = gateway.client("AuditService", user="admin")
    assert audit_api.VerifyAudit().Verified
    P = AuditPlateRecord.__table__
    mine = (P.c.entry_id == entry_id) & (P.c.plate_hash == rows[0]["plate_hash"])
    with gateway.store.connection() as conn:
        if tamper == "removed":
            conn.execute(delete(P).where(mine))
        elif tamper == "changed":
            conn.execute(update(P).where(mine).values(plate_hash=AuditKeys(b"k" * 32).plate_hash(unique_plate())))
        elif tamper == "added":
            conn.execute(insert(P).values(entry_id=entry_id, plate_hash="ab" * 32))
        else:
            conn.execute(update(P).where(mine).values(plate_hash="cd" * 32, erased=True))
    try:
        check = audit_api.VerifyAudit()
        assert not check.Verified and check.BrokenAt == entry_id and "audit_plates" in check.Problem
    finally:   # the module's other tests share the log
        with gateway.store.connection() as conn:
            conn.execute(delete(P).where(P.c.entry_id == entry_id))
            conn.execute(insert(P), [dict(r) for r in rows])
    assert audit_api.VerifyAudit().Verified


def test_listings_chained_before_their_plates_were_still_verify(gateway, clock, monkeypatch):
    """An entry written before its plates were chained (its hash over its own fields only) verifies as
    it was chained, and so do the entries after it, chained the new way."""
    real = audit_store.fields_of
    with monkeypatch.context() as before:   # the append as it was: the plates shown outside the hash
        before.setattr(audit_store, "fields_of", lambda *fields: real(*fields[:8]))
        old_id, rows = _listing(gateway, clock, [unique_plate()])
    new_id, _ = _listing(gateway, clock, [unique_plate()])
    assert rows and new_id > old_id
    check = gateway.client("AuditService", user="admin").VerifyAudit()
    assert check.Verified and check.LastEntryID >= new_id


def test_a_plate_erased_while_verify_runs_breaks_nothing(gateway, clock, monkeypatch):
    """verify read the erased plates once, when it met the first tombstone. A plate erased after
    that, in a listing it had yet to read (a later chunk), left a tombstone that the plates read
    before did not explain: verify said the chain was broken there. Now a chunk with a tombstone not
    explained has the erased plates read again, as of that chunk."""
    import gateway.app.audit as audit_app
    first, later = unique_plate(), unique_plate()
    erase = gateway.client("MaintenanceService", user="admin").ErasePlate
    first_id, _ = _listing(gateway, clock, [first, unique_plate()])
    later_id, _ = _listing(gateway, clock, [later, unique_plate()])
    erase(Plate=first)

    class ErasingMeanwhile(audit_app.ChainVerifier):
        def feed(self, entries):
            entries = list(entries)
            going_on = super().feed(entries)
            if any(e.id == first_id for e in entries):   # its tombstone met: the erased plates read
                erase(Plate=later)
            return going_on
    monkeypatch.setattr(audit_app, "ChainVerifier", ErasingMeanwhile)
    monkeypatch.setattr(audit_app, "CHUNK", 1)   # each entry read in a unit of work of its own
    check = gateway.service.use_cases.audit.verify()
    assert check.verified and check.last_id >= later_id, check


def test_a_sealed_tombstone_opens_to_its_own_plate_only():
    """Beside each tombstone, the erased plate's hash sealed under the audit key: opened, it gives that
    hash back; sealed for another entry or tombstone, changed, mangled or under another key, nothing.
    Two listings' seals of one plate have nothing in common (nor with the plate's hash)."""
    k = AuditKeys(b"k" * 32)
    erased, other = k.plate_hash("AB123"), k.plate_hash("CD456")
    tombstone = k.erased_plate(7, erased)
    sealed = k.seal_erased(7, tombstone, erased)
    assert k.open_erased(7, tombstone, sealed) == erased
    elsewhere = k.erased_plate(8, erased)
    assert len({sealed, k.seal_erased(8, elsewhere, erased), erased}) == 3
    assert k.open_erased(8, elsewhere, sealed) is None                     # another entry's tombstone
    assert k.open_erased(7, k.erased_plate(7, other), sealed) is None     # another plate's, same entry
    assert k.open_erased(7, tombstone, k.seal_erased(7, tombstone, other)) is None   # sealed for another plate
    changed = ("0" if sealed[0] != "0" else "1") + sealed[1:]
    assert k.open_erased(7, tombstone, changed) is None
    assert k.open_erased(7, tombstone, "zz" * 32) is None and k.open_erased(7, tombstone, sealed[:62]) is None
    assert AuditKeys(b"j" * 32).open_erased(7, tombstone, sealed) is None


def _tombstones(gateway, entry_id):
    P = AuditPlateRecord.__table__
    with gateway.store.connection() as conn:
        return conn.execute(select(P).where(P.c.entry_id == entry_id, P.c.erased).order_by(P.c.plate_hash)
                            ).mappings().all()


@pytest.mark.parametrize("tamper", ["tombstone changed", "seal changed", "seals swapped", "removed"])
def test_verify_says_where_an_erasures_tombstone_was_touched(gateway, clock, tamper):
    """An erasure's tombstones, each with its plate's hash sealed beside it: a tombstone changed, its
    seal changed, two seals swapped or the tombstone removed breaks the chain at the listing's entry
    (a seal that does not open is not tried against every erased plate instead)."""
    erased = [unique_plate(), unique_plate()]
    entry_id, _ = _listing(gateway, clock, [*erased, unique_plate()])
    erase = gateway.client("MaintenanceService", user="admin").ErasePlate
    for plate in erased:
        erase(Plate=plate)
    audit_api = gateway.client("AuditService", user="admin")
    assert audit_api.VerifyAudit().Verified
    rows = _tombstones(gateway, entry_id)
    assert len(rows) == 2 and all(r["sealed_plate"] for r in rows)
    P = AuditPlateRecord.__table__

    def of(row):
        return (P.c.entry_id == entry_id) & (P.c.plate_hash == row["plate_hash"])
    with gateway.store.connection() as conn:
        if tamper == "tombstone changed":
            conn.execute(update(P).where(of(rows[0])).values(plate_hash="ef" * 32))
        elif tamper == "seal changed":
            conn.execute(update(P).where(of(rows[0])).values(sealed_plate="01" * 32))
        elif tamper == "seals swapped":
            conn.execute(update(P).where(of(rows[0])).values(sealed_plate=rows[1]["sealed_plate"]))
            conn.execute(update(P).where(of(rows[1])).values(sealed_plate=rows[0]["sealed_plate"]))
        else:
            conn.execute(delete(P).where(of(rows[0])))
    try:
        check = audit_api.VerifyAudit()
        assert not check.Verified and check.BrokenAt == entry_id and "audit_plates" in check.Problem
    finally:   # the module's other tests share the log
        with gateway.store.connection() as conn:
            conn.execute(delete(P).where(P.c.entry_id == entry_id, P.c.erased))
            conn.execute(insert(P), [dict(r) for r in rows])
    assert audit_api.VerifyAudit().Verified


def test_verify_opens_each_tombstone_once_however_many_plates_were_erased(gateway, clock, monkeypatch):
    """verify tried every erased plate's hash on every tombstone (an HMAC for each pair: minutes for a
    thousand erasures of a hundred thousand tombstones). Now it opens the hash sealed beside each
    one: its tombstone worked out once (and once more for the one that has verify read the erased
    plates), whatever the number of erasures. A tombstone without a seal (left before 0143) still
    has each erased plate tried on it."""
    erase = gateway.client("MaintenanceService", user="admin").ErasePlate
    plates = [unique_plate() for _ in range(12)]
    listings = [_listing(gateway, clock, plates[i:i + 4])[0] for i in range(0, len(plates), 2)]
    for plate in plates:
        erase(Plate=plate)
    P = AuditPlateRecord.__table__
    with gateway.store.connection() as conn:
        tombstones = conn.execute(select(func.count()).select_from(P).where(P.c.erased)).scalar_one()
        erasures = conn.execute(select(func.count()).select_from(AuditRecord.__table__).where(
            AuditRecord.action == "ErasePlate")).scalar_one()
    assert erasures >= len(plates) and tombstones >= 2 * len(plates) - 2
    worked_out = []
    real = AuditKeys.erased_plate
    monkeypatch.setattr(AuditKeys, "erased_plate", lambda self, *a: worked_out.append(a) or real(self, *a))
    check = gateway.service.use_cases.audit.verify()
    assert check.verified and check.last_id >= listings[-1], check
    assert tombstones <= len(worked_out) <= tombstones + 1, (len(worked_out), tombstones, erasures)

    unsealed = listings[0]
    with gateway.store.connection() as conn:   # as an erasure before 0143 left them
        conn.execute(update(P).where(P.c.entry_id == unsealed).values(sealed_plate=None))
    worked_out.clear()
    check = gateway.service.use_cases.audit.verify()
    assert check.verified, check
    assert len(worked_out) > tombstones + 2   # each erased plate tried on the unsealed ones


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_log_erased_from_before_0143_still_verifies_once_upgraded(kind, tmp_path, monkeypatch):
    """A database at 0142 with listings, a plate's erasure as 0142 left it (tombstones with no seal
    beside them) and entries after: upgraded, no entry's hash changed and the chain verifies; a plate
    erased since (its tombstone sealed) beside the old tombstones too; an old tombstone changed, or
    one removed, still breaks the chain at its listing."""
    url, schema = blank_database(kind, tmp_path)
    k, at = AuditKeys(b"before 0143 " * 3), SettableClock()
    monkeypatch.setattr(audit_store, "_keys", k)
    erased, kept, later = (normalise_plate(unique_plate()) for _ in range(3))
    try:
        upgrade(url, "0142")
        engine = create_engine(url)
        with engine.begin() as conn:
            listing = audit_store.record(conn, at(), "enforcement", "ListHotlist", "hotlist", "3 shown",
                                         plates=[erased, kept, later])
            other = audit_store.record(conn, at(), "enforcement", "ListPermits", "permits", "2 shown",
                                       plates=[erased, later])
            audit_store.record(conn, at(), "integrator", "LookupPermit", "LOT-TEST", "found", plate=erased)
            P, hashed = AuditPlateRecord.__table__, k.plate_hash(erased)   # 0142's erasure, as it wrote it
            for entry_id in (listing, other):
                conn.execute(update(P).where(P.c.entry_id == entry_id, P.c.plate_hash == hashed).values(
                    plate_hash=k.erased_plate(entry_id, hashed), erased=True))
            audit_store.record(conn, at(), "admin", "ErasePlate", "plate", "audit_plates 2", plate=erased)
            audit_store.record(conn, at(), "admin", "GetLaneStatus", "LOT-TEST/lane 1")
            chained = conn.execute(select(AuditRecord.id, AuditRecord.entry_hash).order_by(AuditRecord.id)).all()
        engine.dispose()

        upgrade(url)
        store = Store(url)
        try:
            log = Audit(store, at)
            with store.connection() as conn:
                assert conn.execute(select(AuditRecord.id, AuditRecord.entry_hash).order_by(AuditRecord.id)
                                    ).all() == chained
                assert conn.execute(select(P.c.sealed_plate).where(P.c.erased)).scalars().all() == [None, None]
            check = log.verify()
            assert check.verified and check.entries == len(chained), check
            with store.connection() as conn:   # a plate erased since, beside the old tombstones
                audit_store.forget_plate(conn, later)
                audit_store.record(conn, at(), "admin", "ErasePlate", "plate", "audit_plates 2", plate=later)
                assert len(conn.execute(select(P.c.sealed_plate).where(P.c.erased, P.c.sealed_plate.is_not(None))
                                        ).all()) == 2
            check = log.verify()
            assert check.verified and check.entries == len(chained) + 1, check

            old = (P.c.entry_id == other) & (P.c.plate_hash == k.erased_plate(other, hashed))
            for tamper in (update(P).where(old).values(plate_hash="ab" * 32), delete(P).where(old)):
                with store.connection() as conn:
                    conn.execute(tamper)
                check = log.verify()
                assert not check.verified and check.broken_at == other and "audit_plates" in check.problem
                with store.connection() as conn:
                    conn.execute(delete(P).where(P.c.entry_id == other, P.c.erased, P.c.sealed_plate.is_(None)))
                    conn.execute(insert(P).values(entry_id=other, plate_hash=k.erased_plate(other, hashed),
                                                  erased=True))
                assert log.verify().verified
        finally:
            store.dispose()
    finally:
        if schema:
            _drop_pg_schema(schema)


def test_the_erased_plates_are_read_from_the_erasures_index(gateway, clock):
    """verify reads the erased plates from an index of the erasures' entries alone (the log is mostly
    AuthorizePlate's), not by scanning the log for the erasures' action."""
    query = select(AuditRecord.plate_hash).where(ERASURES, AuditRecord.plate_hash.is_not(None))
    with gateway.store.connection() as conn:
        sql = str(query.compile(conn))
        if gateway.store.dialect == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(conn.execute(text(f"EXPLAIN {sql}")).scalars())
        else:
            plan = " ".join(str(row) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        assert audit_store.erased_plates(conn) == set(conn.execute(query).scalars())
    assert "ix_audit_log_erasures" in plan, plan


def test_cli_lists_and_exports_with_filters(gateway, clock, tmp_path):
    plate = unique_plate()
    issue_permit(gateway, plate)
    url = gateway.service.config.database_url
    run = subprocess.run([sys.executable, "-m", "gateway", "--database-url", url, "audit", "list", "--plate", plate],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "IssuePermit" in run.stdout and plate not in run.stdout and "operator" in run.stdout
    out = tmp_path / "audit.csv"
    run = subprocess.run([sys.executable, "-m", "gateway", "--database-url", url, "audit", "export", "--kind",
                          "CHANGE", "--user", "operator", "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows and {r["kind"] for r in rows} == {"CHANGE"} and {r["username"] for r in rows} == {"operator"}
    # Reading the log from the command line is on record too, as the command line.
    assert entries(gateway, Action="ExportAudit")[-1].User.startswith("cli:")


def test_the_existing_call_signatures_still_record(gateway, clock):
    """Other parts call ``audit.record(conn, at, user, action, subject, detail)`` and
    ``Audit.record(user, action, subject, detail)``: both still work, and chain."""
    with gateway.store.connection() as conn:
        audit_store.record(conn, clock(), "feed:x", "HotlistImport", "hotlist", "3 listed")
    Audit(gateway.store, clock).record("admin", "GetLaneStatus", f"{FACILITY}/lane 1", None)
    Audit(gateway.store, clock).record("admin", "HotlistLookup", "hotlist", "by plate", plate="ABC123")
    got = entries(gateway, User="admin", Action="HotlistLookup")
    assert got[-1].Kind == "QUERY" and got[-1].PlateHash == AuditKeys(
        bytes.fromhex(gateway.service.config.ops.audit_key_file.read_text().strip())).plate_hash("ABC123")
    assert gateway.client("AuditService", user="admin").VerifyAudit().Verified


def test_the_callers_address_behind_a_trusted_load_balancer():
    import ipaddress

    from gateway.app.callers import caller_address
    lb = (ipaddress.ip_network("10.0.0.0/24"),)
    assert caller_address({"REMOTE_ADDR": "192.0.2.7"}, lb) == "192.0.2.7"
    behind = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.0.0.4"}
    assert caller_address(behind, lb) == "203.0.113.9"
    assert caller_address(behind, ()) == "10.0.0.5"                       # no proxy trusted: the peer
    forged = {"REMOTE_ADDR": "192.0.2.7", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert caller_address(forged, lb) == "192.0.2.7"                      # not from the load balancer


def test_verify_holds_while_retention_purges_what_it_reads(gateway, clock, monkeypatch):
    """Retention removes the oldest entries (and their audit_plates) while verify reads them. verify
    read a chunk's entries, then, in a statement of its own, their plates: a purge committed between
    the two left listings without the plates their hashes cover, and verify said the chain was broken
    there. Now both are read in one statement. (Last in the module: the log loses its start.) SQLite
    takes units of work in turn: nothing is purged amid a read."""
    if gateway.store.dialect != "postgresql":
        pytest.skip("SQLite takes units of work in turn")
    purged_id, _ = _listing(gateway, clock, [unique_plate(), unique_plate()])
    clock.advance(timedelta(seconds=1))
    cutoff = clock()
    kept_id, _ = _listing(gateway, clock, [unique_plate()])
    real_chunk, purges = audit_store.chunk, []

    class PurgedMeanwhile:
        """verify's unit of work: retention commits a purge after its first statement."""
        def __init__(self, conn):
            self.conn = conn

        def execute(self, *args, **kwargs):
            result = self.conn.execute(*args, **kwargs)
            if not purges:
                with gateway.store.engine.begin() as other:
                    purges.append(audit_store.purge(other, cutoff, 10 ** 6))
            return result
    monkeypatch.setattr(audit_store, "chunk", lambda conn, *a, **kw: real_chunk(PurgedMeanwhile(conn), *a, **kw))
    check = gateway.service.use_cases.audit.verify()
    assert purges[0] > 0 and check.verified and check.last_id >= kept_id > purged_id, check
