"""The XML documents parkgate emits: ParkingEvent, Citation and Permit, and their parts.

Built here with lxml in the contract's namespace, checked against ``xsd/parkgate.xsd``
(libxml2, tens of microseconds), then stored, relayed and put into SOAP responses as they
are: the SOAP protocol appends prebuilt elements instead of serialising them again
(:meth:`gateway.soap.protocol.ContractSoap11.to_parent`). One builder per type, so each
document has exactly one way of being written.
"""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from lxml import etree

from .soap.contract import document_schema, secure_parser
from .soap.types import NS

_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_NSMAP = {None: NS}


class InvalidDocument(ValueError):
    """A document parkgate built does not satisfy its own schema: a bug, never sent."""


def text(value):
    """A Python value as the schema's lexical form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidDocument("naive datetime in a document")
        value = value.astimezone(timezone.utc).isoformat()
        return value[:-6] + "Z" if value.endswith("+00:00") else value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return duration(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def duration(delta):
    """xs:duration in whole seconds: PT0S, PT2H5M, P1DT3H."""
    seconds = max(int(delta.total_seconds()), 0)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    if not days and not clock:
        return "PT0S"
    return f"P{f'{days}D' if days else ''}{'T' + clock if clock else ''}"


def element(tag, *children, **attributes):
    """``{NS}tag`` holding the given children; None children are left out (optional fields)."""
    elt = etree.Element(f"{{{NS}}}{tag}", {k: text(v) for k, v in attributes.items() if v is not None},
                        nsmap=_NSMAP)
    for child in children:
        if child is not None:
            elt.append(child)
    return elt


def leaf(tag, value, **attributes):
    if value is None:
        return None
    elt = element(tag, **attributes)
    elt.text = text(value)
    return elt


def money(tag, amount, currency):
    return None if amount is None else leaf(tag, amount, currency=currency)


def checked(elt):
    schema = document_schema()
    if not schema.validate(elt):
        raise InvalidDocument(str(schema.error_log.last_error))
    return elt


def serialize(elt):
    return etree.tostring(elt, xml_declaration=True, encoding="UTF-8")


def parse(data):
    return etree.fromstring(data.encode() if isinstance(data, str) else data, secure_parser())


def location(parking_event):
    """(facility id, camera id) of a ParkingEvent element."""
    return (parking_event.findtext(f"{{{NS}}}Location/{{{NS}}}FacilityID"),
            parking_event.findtext(f"{{{NS}}}Location/{{{NS}}}CameraID"))


# --- the parts ---------------------------------------------------------------------------

def session(rec, now, tag="Session"):
    """A session as of ``now``: its duration so far while open, its length once closed."""
    end = rec.exit_time or now
    exit_time = element("ExitTime")
    if rec.exit_time:
        exit_time.text = text(rec.exit_time)
    else:
        exit_time.set(_XSI_NIL, "true")
    return element(tag, leaf("SessionID", rec.id), leaf("EntryTime", rec.entry_time), exit_time,
                   leaf("Duration", end - rec.entry_time), leaf("SpaceAssigned", rec.space_assigned))


def charges(tariff, current, paid=None, tag="Charges"):
    return element(tag, leaf("RateCode", tariff.rate_code),
                   money("BaseRate", tariff.price_per_period, tariff.currency),
                   money("MaximumDaily", tariff.daily_maximum, tariff.currency),
                   money("CurrentCharge", current, tariff.currency),
                   money("AmountPaid", paid or None, tariff.currency))


def authorization(status, permit_rec, granted):
    p = permit_rec
    return element("Authorization", leaf("PermitNumber", p and p.permit_number),
                   leaf("PermitType", p and p.permit_type), leaf("ValidFrom", p and p.valid_from),
                   leaf("ValidUntil", p and p.valid_until), leaf("Status", status), leaf("AccessGranted", granted))


def vehicle_attributes(v):
    if v is None:
        return None
    return element("Attributes", leaf("Make", v.Make), leaf("Model", v.Model), leaf("Year", v.Year),
                   leaf("Color", v.Color), leaf("VehicleClass", v.VehicleClass))


# --- the documents -----------------------------------------------------------------------

def parking_event(event_id, when, fac, lane, camera_id, direction, plate, confidence, jurisdiction=None,
                  country=None, vehicle=None, session_elt=None, authorization_elt=None, charges_elt=None,
                  image_url=None):
    return checked(element(
        "ParkingEvent",
        leaf("EventID", event_id), leaf("Timestamp", when),
        element("Location", leaf("FacilityID", fac.id), leaf("FacilityName", fac.name),
                leaf("CameraID", camera_id), leaf("LaneNumber", lane.number), leaf("Direction", direction)),
        element("Vehicle",
                element("LicensePlate", leaf("Number", plate), leaf("Jurisdiction", jurisdiction),
                        leaf("Country", country), leaf("Confidence", confidence)),
                vehicle_attributes(vehicle)),
        session_elt, authorization_elt, charges_elt,
        element("Image", leaf("OriginalURL", image_url)) if image_url else None))


def permit(rec):
    return checked(element(
        "Permit", leaf("PermitNumber", rec.permit_number), leaf("LicensePlate", rec.plate),
        leaf("FacilityID", rec.facility_id), leaf("PermitType", rec.permit_type),
        leaf("ValidFrom", rec.valid_from), leaf("ValidUntil", rec.valid_until), leaf("State", rec.state),
        leaf("IssuedAt", rec.issued_at), leaf("RevokedAt", rec.revoked_at),
        leaf("RevocationReason", rec.revocation_reason)))


def citation(rec):
    return checked(element(
        "Citation", leaf("CitationID", rec.id), leaf("IssuedDate", rec.issued_at),
        leaf("FacilityID", rec.facility_id), leaf("ViolationType", rec.violation), leaf("LicensePlate", rec.plate),
        leaf("Jurisdiction", rec.jurisdiction), leaf("Location", rec.location),
        money("Fine", rec.fine, rec.currency), leaf("DueDate", rec.due_date), leaf("EvidenceURL", rec.evidence_url),
        leaf("Note", rec.note), leaf("IssuedBy", rec.issued_by), leaf("Status", rec.status)))
