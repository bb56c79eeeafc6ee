"""The XML documents parkgate emits: ParkingEvent, Citation and Permit, and their parts.

Built here with lxml in the contract's namespace, checked against ``xsd/parkgate.xsd``
(libxml2, tens of microseconds), then stored, relayed and put into SOAP responses as they
are: the SOAP protocol appends prebuilt elements instead of serialising them again
(:meth:`gateway.soap.protocol.ContractSoap11.to_parent`). One builder per type, so each
document has exactly one way of being written. The builders read the domain's records by their
attribute names (a session, a permit, a citation, a facility's tariff); they import none of them.
"""

import copy
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from lxml import etree

from .namespace import NS
from .schema import document_schema, secure_parser

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


def _child(parent, tag, attributes):
    """``{NS}tag`` under ``parent``; without a parent, the root of a tree of its own.

    Documents are built top-down: a child made in its parent's tree costs less than an element
    made on its own and appended (lxml gives each of those a document of its own, then moves
    it, namespaces and all)."""
    attrib = {k: text(v) for k, v in attributes.items() if v is not None} if attributes else None
    if parent is None:
        return etree.Element(f"{{{NS}}}{tag}", attrib, nsmap=_NSMAP)
    return etree.SubElement(parent, f"{{{NS}}}{tag}", attrib)


def element(tag, parent=None):
    """``{NS}tag`` with no text (its children are added to it)."""
    return _child(parent, tag, None)


def leaf(tag, value, parent=None, **attributes):
    """``{NS}tag`` holding ``value``; nothing when the value is None (an optional field left out)."""
    if value is None:
        return None
    elt = _child(parent, tag, attributes)
    elt.text = text(value)
    return elt


def money(tag, amount, currency, parent=None):
    return None if amount is None else leaf(tag, amount, parent, currency=currency)


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
    # By position, as the schema orders them (EventID, Timestamp, Location; FacilityID,
    # FacilityName, CameraID): every ParkingEvent was checked against it when it was built.
    # lxml's find() costs microseconds a call, on the path of every lane event.
    loc = parking_event[2]
    return loc[0].text, loc[2].text


# --- the parts: each standalone (for SOAP responses) or under a parent document ---------

def session(rec, now, tag="Session", parent=None):
    """A session as of ``now``: its duration so far while open, its length once closed."""
    end = rec.exit_time or now
    elt = element(tag, parent)
    leaf("SessionID", rec.id, elt)
    leaf("EntryTime", rec.entry_time, elt)
    exit_time = element("ExitTime", elt)
    if rec.exit_time:
        exit_time.text = text(rec.exit_time)
    else:
        exit_time.set(_XSI_NIL, "true")
    leaf("Duration", end - rec.entry_time, elt)
    leaf("SpaceAssigned", rec.space_assigned, elt)
    return elt


def charges(tariff, current, paid=None, tag="Charges", parent=None):
    elt = element(tag, parent)
    leaf("RateCode", tariff.rate_code, elt)
    money("BaseRate", tariff.price_per_period, tariff.currency, elt)
    money("MaximumDaily", tariff.daily_maximum, tariff.currency, elt)
    money("CurrentCharge", current, tariff.currency, elt)
    money("AmountPaid", paid or None, tariff.currency, elt)
    return elt


def license_plate(number, confidence, jurisdiction=None, country=None, parent=None):
    """A plate as read: its number (none when nothing was read), where from, how sure."""
    return _fields(parent, "LicensePlate", (("Number", number), ("Jurisdiction", jurisdiction), ("Country", country),
                                            ("Confidence", confidence)))


def authorization(status, permit, granted, parent=None):
    p = permit
    elt = element("Authorization", parent)
    if p is not None:
        leaf("PermitNumber", p.permit_number, elt)
        leaf("PermitType", p.permit_type, elt)
        leaf("ValidFrom", p.valid_from, elt)
        leaf("ValidUntil", p.valid_until, elt)
    leaf("Status", status, elt)
    leaf("AccessGranted", granted, elt)
    return elt


def _fields(parent, tag, values):
    """``tag`` under ``parent`` with a leaf per (name, value) that has a value."""
    elt = element(tag, parent)
    for name, value in values:
        leaf(name, value, elt)
    return elt


# --- the documents -----------------------------------------------------------------------

def parking_event(event_id, when, fac, lane, camera_id, direction, plate, confidence, jurisdiction=None,
                  country=None, vehicle=None, session_rec=None, authorization_of=None, charge=None, paid=None,
                  tariff=None, image_url=None):
    """``authorization_of``: (status, permit or None, access granted); ``charge`` and ``paid``
    under ``tariff`` (the version the Charges show)."""
    doc = element("ParkingEvent")
    leaf("EventID", event_id, doc)
    leaf("Timestamp", when, doc)
    _fields(doc, "Location", (("FacilityID", fac.id), ("FacilityName", fac.name), ("CameraID", camera_id),
                              ("LaneNumber", lane.number), ("Direction", direction)))
    vehicle_elt = element("Vehicle", doc)
    license_plate(plate, confidence, jurisdiction, country, parent=vehicle_elt)
    if vehicle is not None:
        _fields(vehicle_elt, "Attributes", (("Make", vehicle.make), ("Model", vehicle.model), ("Year", vehicle.year),
                                            ("Color", vehicle.color), ("VehicleClass", vehicle.vehicle_class)))
    if session_rec is not None:
        session(session_rec, when, parent=doc)
    if authorization_of is not None:
        status, permit_of, granted = authorization_of
        authorization(status, permit_of, granted, parent=doc)
    if charge is not None:
        charges(tariff, charge, paid, parent=doc)
    if image_url:
        leaf("OriginalURL", image_url, element("Image", doc))
    return checked(doc)


#: A Permit with every leaf, each empty: copied for each permit (every AuthorizePlate answer that has
#: one). Its leaves made one by one cost about 150,000 instructions (callgrind); a copy, its texts set
#: and the leaves without a value taken out, about half of that.
_PERMIT = _fields(None, "Permit", ((name, "") for name in (
    "PermitNumber", "LicensePlate", "FacilityID", "PermitType", "ValidFrom", "ValidUntil", "State", "IssuedAt",
    "RevokedAt", "RevocationReason")))


def permit(rec):
    elt = copy.copy(_PERMIT)   # lxml copies an element with all that is under it
    for leaf_elt, value in zip(list(elt), (rec.permit_number, rec.plate, rec.facility_id, rec.permit_type,
                                            rec.valid_from, rec.valid_until, rec.state, rec.issued_at,
                                            rec.revoked_at, rec.revocation_reason)):
        if value is None:   # an optional field left out
            elt.remove(leaf_elt)
        else:
            leaf_elt.text = text(value)
    return checked(elt)


def citation(rec):
    doc = element("Citation")
    for name, value in (("CitationID", rec.id), ("IssuedDate", rec.issued_at), ("FacilityID", rec.facility_id),
                        ("ViolationType", rec.violation), ("LicensePlate", rec.plate),
                        ("Jurisdiction", rec.jurisdiction), ("Location", rec.location)):
        leaf(name, value, doc)
    money("Fine", rec.fine, rec.currency, doc)
    for name, value in (("DueDate", rec.due_date), ("EvidenceURL", rec.evidence_url), ("Note", rec.note),
                        ("IssuedBy", rec.issued_by), ("Status", rec.status), ("SessionID", rec.session_id),
                        ("PlateClipURL", rec.plate_clip_url)):
        leaf(name, value, doc)
    return checked(doc)


def images(parking_event):
    """(OriginalURL, PlateClipURL) of a ParkingEvent element, each None when it has none."""
    found = parking_event.find(f"{{{NS}}}Image")
    if found is None:
        return None, None
    return found.findtext(f"{{{NS}}}OriginalURL"), found.findtext(f"{{{NS}}}PlateClipURL")


def security_event(event_id, category, severity, plate, facility_id, camera_id, when, image_url, decision):
    """A read of a hotlisted plate, for a video management system (issue 17): one per lane event,
    under its EventID."""
    return checked(_fields(None, "SecurityEvent", (
        ("EventID", event_id), ("Category", category),
        ("Severity", severity), ("Plate", plate), ("FacilityID", facility_id), ("CameraID", camera_id),
        ("Timestamp", when), ("ImageURL", image_url), ("Decision", decision))))
# --- the operator's day (issue 16, part B) ---------------------------------------------------

def ticket(rec, state, code):
    """A ticket record (with its state as of now, and what its QR code carries)."""
    return checked(_fields(None, "Ticket", (
        ("TicketNumber", rec.number), ("FacilityID", rec.facility_id), ("SessionID", rec.session_id),
        ("IssuedAt", rec.issued_at), ("LaneNumber", rec.lane_number), ("VehicleType", rec.vehicle_type),
        ("State", state), ("Code", code))))


def receipt(entry, amount_paid, due, ticket_number=None):
    """A payments-journal entry as its receipt, with the session's paid and due after it."""
    cur = entry.currency
    doc = element("Receipt")
    for name, value in (("ReceiptNumber", entry.id), ("Kind", entry.kind), ("FacilityID", entry.facility_id),
                        ("SessionID", entry.session_id), ("TicketNumber", ticket_number),
                        ("IssuedAt", entry.paid_at), ("Method", entry.method)):
        leaf(name, value, doc)
    money("Amount", entry.amount, cur, doc)
    money("Tendered", entry.tendered, cur, doc)
    money("Change", entry.change, cur, doc)
    leaf("Reference", entry.reference, doc)
    leaf("CardLastFour", entry.card_last_four, doc)
    leaf("Partial", entry.partial, doc)
    money("AmountPaid", amount_paid, cur, doc)
    money("AmountDue", due, cur, doc)
    for name, value in (("ServedBy", entry.recorded_by), ("ShiftID", entry.shift_id), ("Channel", entry.channel),
                        ("OriginalReceipt", entry.original_id), ("Reason", entry.reason)):
        leaf(name, value, doc)
    return checked(doc)
# --- issue 16: zones ---------------------------------------------------------------------------

def space_assigned(assignment_id, session_id, facility_id, zone_id, space_id, vehicle_type, when, by):
    """A session given a zone (and perhaps a space in it), for the destinations that ask for it."""
    return checked(_fields(None, "SpaceAssigned", (
        ("AssignmentID", assignment_id), ("SessionID", session_id), ("FacilityID", facility_id),
        ("ZoneID", zone_id), ("SpaceID", space_id), ("VehicleType", vehicle_type), ("AssignedAt", when),
        ("AssignedBy", by))))
