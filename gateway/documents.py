"""The XML documents parkgate emits: ParkingEvent, Citation and Permit.

They are the same objects the SOAP responses carry (``gateway.soap.types``), serialised by
spyne the same way, and each is checked against ``xsd/parkgate.xsd`` (libxml2, ~tens of
microseconds) before it is stored or leaves the gateway.
"""

from datetime import timedelta

from lxml import etree
from spyne.util.xml import get_object_as_xml, get_xml_as_object

from .soap import types as t
from .soap.contract import document_schema, secure_parser


class InvalidDocument(ValueError):
    """A document parkgate built does not satisfy its own schema: a bug, never sent."""


def to_xml(obj):
    """Serialise a ParkingEvent, Citation or Permit as a standalone, schema-valid document."""
    elt = get_object_as_xml(obj, type(obj))
    schema = document_schema()
    if not schema.validate(elt):
        raise InvalidDocument(str(schema.error_log.last_error))
    return etree.tostring(elt, xml_declaration=True, encoding="UTF-8")


def from_xml(data, cls):
    if isinstance(data, str):
        data = data.encode()
    return get_xml_as_object(etree.fromstring(data, secure_parser()), cls)


def money(amount, currency):
    return t.Money(value=amount, currency=currency)


def iso_duration(delta):
    """timedelta -> the value spyne writes as xs:duration (whole seconds)."""
    return timedelta(seconds=int(delta.total_seconds()))


def permit(rec):
    return t.Permit(
        PermitNumber=rec.permit_number, LicensePlate=rec.plate, FacilityID=rec.facility_id,
        PermitType=rec.permit_type, ValidFrom=rec.valid_from, ValidUntil=rec.valid_until,
        State=rec.state, IssuedAt=rec.issued_at, RevokedAt=rec.revoked_at,
        RevocationReason=rec.revocation_reason)


def citation(rec):
    return t.Citation(
        CitationID=rec.id, IssuedDate=rec.issued_at, FacilityID=rec.facility_id,
        ViolationType=rec.violation, LicensePlate=rec.plate, Jurisdiction=rec.jurisdiction,
        Location=rec.location, Fine=money(rec.fine, rec.currency), DueDate=rec.due_date,
        EvidenceURL=rec.evidence_url, Note=rec.note, IssuedBy=rec.issued_by, Status=rec.status)


def session(rec, now):
    """A session as of ``now``: its duration so far while open, its length once closed."""
    end = rec.exit_time or now
    return t.Session(
        SessionID=rec.id, EntryTime=rec.entry_time,
        ExitTime=t.OptionalTime(value=rec.exit_time) if rec.exit_time else None,
        Duration=iso_duration(max(end - rec.entry_time, timedelta(0))),
        SpaceAssigned=rec.space_assigned)


def charges(tariff, current, paid=None):
    return t.Charges(
        RateCode=tariff.rate_code,
        BaseRate=money(tariff.price_per_period, tariff.currency),
        MaximumDaily=money(tariff.daily_maximum, tariff.currency),
        CurrentCharge=money(current, tariff.currency),
        AmountPaid=money(paid, tariff.currency) if paid else None)


def authorization(status, permit_rec, granted):
    return t.Authorization(
        PermitNumber=permit_rec.permit_number if permit_rec else None,
        PermitType=permit_rec.permit_type if permit_rec else None,
        ValidFrom=permit_rec.valid_from if permit_rec else None,
        ValidUntil=permit_rec.valid_until if permit_rec else None,
        Status=status, AccessGranted=granted)
