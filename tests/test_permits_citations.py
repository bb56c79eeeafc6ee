"""Permits and citations over real SOAP: lookup at an instant, issue, revoke, list, citations."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from conftest import FACILITY, unique_plate
from test_events import fault_of, issue_permit


def test_lookup_permit_statuses_over_time(gateway, clock):
    permits = gateway.client("PermitService")
    plate = unique_plate()
    assert permits.LookupPermit(Plate=plate, FacilityID=FACILITY).Status == "NONE"
    issued = issue_permit(gateway, plate, valid_from=date(2025, 1, 1), valid_until=date(2025, 1, 31))
    assert issued.State == "ACTIVE" and issued.LicensePlate == plate

    found = permits.LookupPermit(Plate=plate, FacilityID=FACILITY)
    assert found.Status == "VALID"
    assert found.Permit.PermitNumber == issued.PermitNumber

    # The last day counts in the facility's own time zone (America/New_York): valid until
    # 23:59 local on the 31st, which is 04:59 UTC on 1 February.
    late = datetime(2025, 2, 1, 4, 30, tzinfo=timezone.utc)
    assert permits.LookupPermit(Plate=plate, FacilityID=FACILITY, At=late).Status == "VALID"
    after = datetime(2025, 2, 1, 5, 30, tzinfo=timezone.utc)
    assert permits.LookupPermit(Plate=plate, FacilityID=FACILITY, At=after).Status == "EXPIRED"

    revoked = permits.RevokePermit(PermitNumber=issued.PermitNumber, Reason="vehicle sold")
    assert revoked.State == "REVOKED" and revoked.RevocationReason == "vehicle sold"
    assert permits.LookupPermit(Plate=plate, FacilityID=FACILITY).Status == "INVALID"


def test_permit_for_every_facility_and_listing(gateway, clock):
    permits = gateway.client("PermitService")
    plate = unique_plate()
    everywhere = permits.IssuePermit(Plate=plate, PermitType="Annual", ValidFrom=date(2025, 1, 1),
                                     ValidUntil=date(2025, 12, 31), PermitNumber=f"PRMT-{plate}")
    assert everywhere.FacilityID is None and everywhere.PermitNumber == f"PRMT-{plate}"
    assert permits.LookupPermit(Plate=plate, FacilityID="LOT-TINY").Status == "VALID"
    listed = permits.ListPermits(Plate=plate)
    assert [p.PermitNumber for p in listed] == [f"PRMT-{plate}"]
    assert f"PRMT-{plate}" in {p.PermitNumber for p in permits.ListPermits(FacilityID=FACILITY)}
    assert permits.ListPermits(Plate=unique_plate()) == []


def test_permit_faults(gateway, clock):
    permits = gateway.client("PermitService")
    plate = unique_plate()
    issued = issue_permit(gateway, plate)
    dup = fault_of(lambda: permits.IssuePermit(Plate=plate, PermitType="Monthly", ValidFrom=date(2025, 1, 1),
                                               ValidUntil=date(2025, 1, 2), PermitNumber=issued.PermitNumber))
    assert dup.code.endswith("Client.Conflict")
    backwards = fault_of(lambda: permits.IssuePermit(Plate=plate, PermitType="Monthly",
                                                     ValidFrom=date(2025, 2, 1), ValidUntil=date(2025, 1, 1)))
    assert backwards.code.endswith("Client.InvalidTime")
    nowhere = fault_of(lambda: permits.LookupPermit(Plate=plate, FacilityID="LOT-NOWHERE"))
    assert nowhere.code.endswith("Client.UnknownFacility")
    assert fault_of(lambda: permits.RevokePermit(PermitNumber="PRMT-NONE", Reason="x")).code.endswith(
        "Client.NotFound")
    permits.RevokePermit(PermitNumber=issued.PermitNumber, Reason="fraud")
    assert fault_of(lambda: permits.RevokePermit(PermitNumber=issued.PermitNumber, Reason="again")).code.endswith(
        "Client.Conflict")
    assert fault_of(lambda: permits.ListPermits()).code.endswith("Client.InvalidInput")
    bad_type = fault_of(lambda: permits.IssuePermit(Plate=plate, PermitType="Forever", ValidFrom=date(2025, 1, 1),
                                                    ValidUntil=date(2025, 1, 2)))
    assert bad_type.code.endswith("Client.InvalidInput")


def test_issue_citation_uses_the_facility_rules(gateway, clock):
    citations = gateway.client("CitationService", user="enforcement")
    plate = unique_plate()
    c = citations.IssueCitation(FacilityID=FACILITY, Plate=plate.lower(), ViolationType="FIRE_LANE",
                                Location="Level 2, row C", EvidenceURL="https://evidence.example/1.jpg",
                                Note="blocking hydrant")
    assert c.CitationID.startswith("CIT-20250122-")
    assert c.LicensePlate == plate
    assert (c.Fine._value_1, c.Fine.currency) == (Decimal("150.00"), "USD")
    assert c.DueDate == date(2025, 1, 22) + timedelta(days=14)
    assert (c.Status, c.IssuedBy) == ("ISSUED", "enforcement")


def test_citation_faults_and_roles(gateway, clock):
    citations = gateway.client("CitationService", user="enforcement")
    unknown = fault_of(lambda: citations.IssueCitation(FacilityID=FACILITY, Plate="ABC123",
                                                       ViolationType="LOUD_MUSIC"))
    assert unknown.code.endswith("Client.InvalidInput")
    assert "FIRE_LANE" in unknown.message
    integrator = gateway.client("CitationService", user="integrator")
    denied = fault_of(lambda: integrator.IssueCitation(FacilityID=FACILITY, Plate="ABC123",
                                                       ViolationType="FIRE_LANE"))
    assert denied.code.endswith("Client.Authorization")
    enforcement_permits = gateway.client("PermitService", user="enforcement")
    denied = fault_of(lambda: enforcement_permits.IssuePermit(Plate="ABC123", PermitType="Monthly",
                                                              ValidFrom=date(2025, 1, 1), ValidUntil=date(2025, 1, 2)))
    assert denied.code.endswith("Client.Authorization")
    assert enforcement_permits.LookupPermit(Plate="ABC123", FacilityID=FACILITY).Status in ("NONE", "VALID")
