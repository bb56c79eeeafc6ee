"""spyne models of the published contract (``xsd/parkgate.xsd``) and of the operations' messages.

The document types here carry exactly the names of the schema's types so that spyne
serialises the schema's elements; the WSDL then takes the definitions themselves from
``xsd/`` (see :mod:`gateway.soap.wsdl`), so the contract is written once, by hand.
"""

from spyne import (
    AnyUri,
    Boolean,
    ByteArray,
    ComplexModel,
    Date,
    DateTime,
    Decimal,
    Duration,
    Enum,
    Integer32,
    Integer64,
    Unicode,
    XmlAttribute,
    XmlData,
)

from ..contract.namespace import NS


def _simple(base, name, **facets):
    """A named simple type in the contract's namespace (spyne needs the namespace set)."""
    t = base.customize(type_name=name, **facets)
    t.__namespace__ = NS
    t.Attributes.min_occurs = 0
    return t


def _occurs(t, **occurs):
    """``t`` with other occurrence rules; a named simple type keeps its name, so the
    WSDL refers to the contract's type instead of growing an anonymous copy."""
    name = t.get_type_name()
    if isinstance(name, str) and not issubclass(t, ComplexModel):
        occurs["type_name"] = name
    return t.customize(**occurs)


def req(t):
    """The field must be present and not nil."""
    return _occurs(t, min_occurs=1, nillable=False)


def opt(t):
    return _occurs(t, min_occurs=0, nillable=False)


def many(t):
    return _occurs(t, min_occurs=0, max_occurs="unbounded", nillable=False)


Identifier = _simple(Unicode, "Identifier", min_len=1, max_len=64, pattern=r"[A-Za-z0-9][A-Za-z0-9._:\-]*")
PlateNumber = _simple(Unicode, "PlateNumber", min_len=1, max_len=12, pattern="[A-Z0-9]+")
Confidence = _simple(Decimal, "Confidence", ge=0, le=1)
Amount = _simple(Decimal, "Amount", ge=0, fraction_digits=4)
CurrencyCode = _simple(Unicode, "CurrencyCode", pattern="[A-Z]{3}")
ShortText = _simple(Unicode, "ShortText", max_len=64)
LongText = _simple(Unicode, "LongText", max_len=1000)
URL = _simple(AnyUri, "URL", max_len=2048)
ViolationType = _simple(Unicode, "ViolationType", max_len=40, pattern="[A-Z][A-Z0-9_]*")
PermitToken = _simple(Unicode, "PermitToken", min_len=1, max_len=512)   # issue 17: a signed permit pass


def _enum(name, *values):
    t = Enum(*values, type_name=name)
    t.__namespace__ = NS
    return t


Direction = _enum("Direction", "ENTRY", "EXIT")
VehicleType = _enum("VehicleType", "car", "motorcycle", "van", "truck", "bus")   # issue 16
VehicleClass = _enum("VehicleClass", "Sedan", "SUV", "Truck", "Van", "Motorcycle", "Bus")
AuthorizationStatus = _enum("AuthorizationStatus", "VALID", "EXPIRED", "INVALID", "NONE")
PermitType = _enum("PermitType", "Daily", "Weekly", "Monthly", "Annual", "Employee", "Resident",
                   "Visitor", "Accessible")
PermitState = _enum("PermitState", "ACTIVE", "REVOKED")
CitationStatus = _enum("CitationStatus", "ISSUED", "PAID", "VOID")
LengthUnit = _enum("LengthUnit", "feet", "meters")
Decision = _enum("Decision", "OPEN", "HOLD", "REVIEW")
SessionStatus = _enum("SessionStatus", "OPEN", "CLOSED")
BarrierResult = _enum("BarrierResult", "COMMANDED", "OFFLINE", "FAULT", "LOCAL_MODE", "REFUSED", "FAILED",
                      "NOT_CONTROLLED", "NOT_DRIVEN")
BarrierCommand = _enum("BarrierCommand", "OPEN", "HOLD", "RELEASE")
BarrierPosition = _enum("BarrierPosition", "UP", "DOWN", "MOVING", "UNKNOWN")
LaneDirection = _enum("LaneDirection", "ENTRY", "EXIT", "BOTH")
ReviewState = _enum("ReviewState", "OPEN", "RESOLVED")
AccessDecision = _enum("AccessDecision", "GRANTED", "DECLINED")   # issue 17: AuthorizePlate
ScanOutcome = _enum("ScanOutcome", "CITED", "WOULD_CITE", "ALREADY_CITED", "NO_RULE")
HotlistCategory = _enum("HotlistCategory", "stolen", "wanted", "banned", "watch")   # defined by xsd/parkgate.xsd
HotlistAction = _enum("HotlistAction", "ADD", "REMOVE")


class _Model(ComplexModel):
    __namespace__ = NS


class Money(_Model):
    value = XmlData(Amount)
    currency = XmlAttribute(CurrencyCode, use="required")


class Length(_Model):
    value = XmlData(Decimal)
    unit = XmlAttribute(LengthUnit, use="required")


class OptionalTime(_Model):
    value = XmlData(DateTime)
    nil = XmlAttribute(Boolean)


# --- ParkingEvent -------------------------------------------------------------

class EventLocation(_Model):
    _type_info = [
        ("FacilityID", req(Identifier)),
        ("FacilityName", req(ShortText)),
        ("CameraID", req(Identifier)),
        ("LaneNumber", req(Integer32)),
        ("Direction", req(Direction)),
    ]


class LicensePlate(_Model):
    _type_info = [
        ("Number", opt(PlateNumber)),
        ("Jurisdiction", opt(ShortText)),
        ("Country", opt(ShortText)),
        ("Confidence", req(Confidence)),
    ]


class VehicleAttributes(_Model):
    _type_info = [
        ("Make", opt(ShortText)),
        ("Model", opt(ShortText)),
        ("Year", opt(Integer32)),
        ("Color", opt(ShortText)),
        ("VehicleClass", opt(VehicleClass)),
    ]


class VehicleDimensions(_Model):
    _type_info = [
        ("Length", opt(Length)),
        ("Width", opt(Length)),
        ("Height", opt(Length)),
    ]


class Vehicle(_Model):
    _type_info = [
        ("LicensePlate", req(LicensePlate)),
        ("Attributes", opt(VehicleAttributes)),
        ("Dimensions", opt(VehicleDimensions)),
    ]


class Session(_Model):
    _type_info = [
        ("SessionID", req(Identifier)),
        ("EntryTime", req(DateTime)),
        ("ExitTime", OptionalTime.customize(min_occurs=1, nillable=True)),
        ("Duration", req(Duration)),
        ("SpaceAssigned", opt(ShortText)),
    ]


class Authorization(_Model):
    _type_info = [
        ("PermitNumber", opt(Identifier)),
        ("PermitType", opt(PermitType)),
        ("ValidFrom", opt(Date)),
        ("ValidUntil", opt(Date)),
        ("Status", req(AuthorizationStatus)),
        ("AccessGranted", req(Boolean)),
    ]


class Charges(_Model):
    _type_info = [
        ("RateCode", req(Identifier)),
        ("BaseRate", req(Money)),
        ("MaximumDaily", req(Money)),
        ("CurrentCharge", req(Money)),
        ("AmountPaid", opt(Money)),
    ]


class EventImages(_Model):
    _type_info = [
        ("OriginalURL", opt(URL)),
        ("PlateClipURL", opt(URL)),
        ("VehicleOverviewURL", opt(URL)),
    ]


class ParkingEvent(_Model):
    _type_info = [
        ("EventID", req(Identifier)),
        ("Timestamp", req(DateTime)),
        ("Location", req(EventLocation)),
        ("Vehicle", req(Vehicle)),
        ("Session", opt(Session)),
        ("Authorization", req(Authorization)),
        ("Charges", opt(Charges)),
        ("Image", opt(EventImages)),
    ]


# --- Citation and Permit ---------------------------------------------------------

class Citation(_Model):
    _type_info = [
        ("CitationID", req(Identifier)),
        ("IssuedDate", req(DateTime)),
        ("FacilityID", req(Identifier)),
        ("ViolationType", req(ViolationType)),
        ("LicensePlate", req(PlateNumber)),
        ("Jurisdiction", opt(ShortText)),
        ("Location", opt(ShortText)),
        ("Fine", req(Money)),
        ("DueDate", req(Date)),
        ("EvidenceURL", opt(URL)),
        ("Note", opt(LongText)),
        ("IssuedBy", opt(ShortText)),
        ("Status", req(CitationStatus)),
        ("SessionID", opt(Identifier)),
        ("PlateClipURL", opt(URL)),
    ]


class Permit(_Model):
    _type_info = [
        ("PermitNumber", req(Identifier)),
        ("LicensePlate", req(PlateNumber)),
        ("FacilityID", opt(Identifier)),
        ("PermitType", req(PermitType)),
        ("ValidFrom", req(Date)),
        ("ValidUntil", req(Date)),
        ("State", req(PermitState)),
        ("IssuedAt", req(DateTime)),
        ("RevokedAt", opt(DateTime)),
        ("RevocationReason", opt(LongText)),
    ]


# Types above are defined by xsd/parkgate.xsd; the ones below belong to the service
# messages and are defined by the WSDL alone.

class LaneEvent(_Model):
    """What a lane camera (or the platform for it) reports: one vehicle at one lane."""
    _type_info = [
        ("EventID", req(Identifier)),
        ("FacilityID", req(Identifier)),
        ("CameraID", req(Identifier)),
        ("LaneNumber", opt(Integer32)),
        ("Direction", req(Direction)),
        ("Timestamp", req(DateTime)),
        ("PlateText", opt(ShortText)),
        ("Confidence", opt(Confidence)),
        ("Jurisdiction", opt(ShortText)),
        ("Country", opt(ShortText)),
        ("ImageURL", opt(URL)),
        ("Image", opt(ByteArray)),
        ("Vehicle", opt(VehicleAttributes)),
        ("SpaceAssigned", opt(ShortText)),
        ("PermitToken", opt(PermitToken)),     # issue 17: a permit's pass scanned at the lane
        ("VehicleType", opt(VehicleType)),   # issue 16: which tariff and zone capacity (a lane for one type decides)
    ]


class EventOutcome(_Model):
    _type_info = [
        ("ParkingEvent", req(ParkingEvent)),
        ("Decision", req(Decision)),
        ("Reason", req(ShortText)),
    ]


class PermitLookup(_Model):
    _type_info = [
        ("Status", req(AuthorizationStatus)),
        ("Permit", opt(Permit)),
    ]


class FeeQuote(_Model):
    _type_info = [
        ("SessionID", req(Identifier)),
        ("AsOf", req(DateTime)),
        ("Duration", req(Duration)),
        ("Charges", req(Charges)),
        ("AmountDue", req(Money)),
    ]


class Occupancy(_Model):
    _type_info = [
        ("FacilityID", req(Identifier)),
        ("Capacity", req(Integer32)),
        ("Occupied", req(Integer32)),
        ("Available", req(Integer32)),
        ("AsOf", req(DateTime)),
    ]


class PermitPass(_Model):
    """A permit's pass (issue 17): its signed token, and a QR code (PNG) that carries it."""
    _type_info = [
        ("PermitNumber", req(Identifier)),
        ("Token", req(PermitToken)),
        ("MediaType", req(ShortText)),
        ("QRCode", req(ByteArray)),
    ]


class OccupancyHour(_Model):
    """One UTC hour of a facility, as its lanes counted it (issue 17)."""
    _type_info = [
        ("Hour", req(DateTime)),
        ("Entries", req(Integer32)),
        ("Exits", req(Integer32)),
        ("Peak", req(Integer32)),
        ("OccupiedAtEnd", req(Integer32)),
    ]


class ZoneHistory(_Model):
    """A zone's hours for one vehicle type (GetOccupancyHistory with ByZone)."""
    _type_info = [
        ("ZoneID", req(Identifier)),
        ("VehicleType", req(VehicleType)),
        ("Capacity", req(Integer32)),
        ("Entries", req(Integer32)),
        ("Exits", req(Integer32)),
        ("PeakOccupancy", req(Integer32)),
        ("Hour", many(OccupancyHour)),
    ]


class OccupancyHistory(_Model):
    """A facility's hours over a period and what they add up to (issue 17)."""
    _type_info = [
        ("FacilityID", req(Identifier)),
        ("Capacity", req(Integer32)),
        ("From", req(DateTime)),
        ("To", req(DateTime)),
        ("Entries", req(Integer32)),
        ("Exits", req(Integer32)),
        ("PeakHour", opt(DateTime)),
        ("PeakOccupancy", req(Integer32)),
        ("AverageStay", opt(Duration)),
        ("Turnover", req(Decimal)),
        ("Hour", many(OccupancyHour)),
        ("Zone", many(ZoneHistory)),   # issue 16: with ByZone, per zone and vehicle type
    ]


class SessionView(_Model):
    _type_info = [
        ("FacilityID", req(Identifier)),
        ("Plate", req(PlateNumber)),
        ("Status", req(SessionStatus)),
        ("Session", req(Session)),
        ("Charges", req(Charges)),
        ("AmountDue", req(Money)),
        ("ImageMatchScore", opt(Confidence)),   # issue 16: entry and exit pictures alike (0-1), once both exist
    ]


class PaymentReceipt(_Model):
    _type_info = [
        ("PaymentID", req(Identifier)),
        ("SessionID", req(Identifier)),
        ("Amount", req(Money)),
        ("AmountPaid", req(Money)),
        ("AmountDue", req(Money)),
        ("PaidAt", req(DateTime)),
    ]



class BarrierAction(_Model):
    """What happened to the barrier: COMMANDED means the PLC took the command and reads it
    back; OFFLINE, FAULT, LOCAL_MODE, REFUSED or FAILED mean a person must act at the lane."""
    _type_info = [
        ("Result", req(BarrierResult)),
        ("Detail", req(LongText)),
    ]


class LaneStatus(_Model):
    _type_info = [
        ("FacilityID", req(Identifier)),
        ("LaneNumber", req(Integer32)),
        ("CameraID", req(Identifier)),
        ("Direction", req(LaneDirection)),
        ("Controlled", req(Boolean)),
        ("PlcOnline", req(Boolean)),
        ("Barrier", req(BarrierPosition)),
        ("PresenceLoop", req(Boolean)),
        ("SafetyLoop", req(Boolean)),
        ("Fault", req(Boolean)),
        ("LocalMode", req(Boolean)),
        ("HeldOpen", req(Boolean)),
        ("LastHeartbeat", opt(DateTime)),
        ("LastEventID", opt(Identifier)),
        ("LastDecision", opt(Decision)),
        ("LastEventTime", opt(DateTime)),
    ]


class RelayStatus(_Model):
    _type_info = [
        ("Destination", req(Identifier)),
        ("Kind", req(ShortText)),
        ("Pending", req(Integer32)),
        ("OldestPendingAge", opt(Duration)),
        ("Delivered", req(Integer32)),
        ("Dead", req(Integer32)),
        ("LastError", opt(LongText)),
        ("LastDeliveredAt", opt(DateTime)),
    ]


class ReviewItem(_Model):
    """A lane event waiting for (or decided by) a person, with what the camera saw."""
    _type_info = [
        ("ReviewID", req(Integer32)),
        ("EventID", req(Identifier)),
        ("FacilityID", req(Identifier)),
        ("CameraID", req(Identifier)),
        ("Direction", req(Direction)),
        ("Timestamp", req(DateTime)),
        ("Reason", req(ShortText)),
        ("PlateRead", opt(PlateNumber)),
        ("Confidence", opt(Confidence)),
        ("ImageURL", opt(URL)),
        ("Image", opt(ByteArray)),
        ("State", req(ReviewState)),
        ("ResolvedBy", opt(ShortText)),
        ("ResolvedPlate", opt(PlateNumber)),
        ("Decision", opt(Decision)),
        ("EntryImage", opt(ByteArray)),   # issue 16: IMAGE_MISMATCH: the picture at entry (Image: at the exit)
    ]


class ViolationFound(_Model):
    """A violation the scan found in an open session, and what it did (issue 17)."""
    _type_info = [
        ("FacilityID", req(Identifier)),
        ("SessionID", req(Identifier)),
        ("Plate", req(PlateNumber)),
        ("ViolationType", req(ViolationType)),
        ("Reason", req(LongText)),
        ("Outcome", req(ScanOutcome)),
        ("Fine", opt(Money)),
        ("CitationID", opt(Identifier)),
    ]


class HotlistEntry(_Model):
    """Defined by xsd/parkgate.xsd (issue 17)."""
    _type_info = [
        ("EntryID", req(Integer64)),
        ("Plate", req(PlateNumber)),
        ("Category", req(HotlistCategory)),
        ("FacilityID", opt(Identifier)),
        ("Reason", req(LongText)),
        ("Source", opt(ShortText)),
        ("AddedAt", req(DateTime)),
        ("ExpiresAt", opt(DateTime)),
    ]


# --- operations (issue 19, part A): defined by xsd/parkgate.xsd -----------------------------

AuditKind = _enum("AuditKind", "QUERY", "CHANGE", "SYSTEM")
Digest = _simple(Unicode, "Digest", pattern="[0-9a-f]{64}")


class AuditEntry(_Model):
    _type_info = [
        ("EntryID", req(Integer64)),
        ("At", req(DateTime)),
        ("User", req(ShortText)),
        ("Address", opt(ShortText)),
        ("Kind", req(AuditKind)),
        ("Action", req(ShortText)),
        ("Subject", req(LongText)),
        ("Detail", opt(LongText)),
        ("PlateHash", opt(Digest)),
        ("Hash", opt(Digest)),
    ]


class AuditVerification(_Model):
    _type_info = [
        ("Verified", req(Boolean)),
        ("Entries", req(Integer64)),
        ("Unchained", req(Integer64)),
        ("FirstEntryID", opt(Integer64)),
        ("LastEntryID", opt(Integer64)),
        ("HeadHash", req(Digest)),
        ("BrokenAt", opt(Integer64)),
        ("Problem", opt(LongText)),
    ]


class AuditExport(_Model):
    _type_info = [
        ("FileName", req(ShortText)),
        ("MediaType", req(ShortText)),
        ("Content", req(ByteArray)),
    ]


class BackupInfo(_Model):
    _type_info = [
        ("Name", req(Identifier)),
        ("CreatedAt", req(DateTime)),
        ("Database", req(ShortText)),
        ("SchemaRevision", req(ShortText)),
        ("SizeBytes", req(Integer64)),
        ("Images", req(Integer32)),
        ("Checksum", req(Digest)),
        ("Verified", req(Boolean)),
        ("Node", opt(ShortText)),
    ]


class RetentionStep(_Model):
    _type_info = [
        ("Step", req(ShortText)),
        ("Rows", req(Integer64)),
    ]


class RetentionRun(_Model):
    _type_info = [
        ("Started", req(Boolean)),
        ("StartedAt", opt(DateTime)),
        ("Seconds", opt(Decimal)),
        ("Step", many(RetentionStep)),
        ("Error", opt(LongText)),
    ]


# --- the operator's day (issue 16, part B): Ticket and Receipt defined by xsd/parkgate.xsd ---

TicketNumber = _simple(Unicode, "TicketNumber", pattern="[0-9]{16}")
CardLastFour = _simple(Unicode, "CardLastFour", pattern="[0-9]{4}")
TicketState = _enum("TicketState", "ISSUED", "USED", "LOST")
PaymentMethod = _enum("PaymentMethod", "CASH", "CARD", "EWALLET", "VOUCHER", "PERMIT")
PaymentKind = _enum("PaymentKind", "PAYMENT", "VOID", "REFUND")


class SignedMoney(_Model):
    value = XmlData(Decimal)
    currency = XmlAttribute(CurrencyCode, use="required")


class Ticket(_Model):
    _type_info = [
        ("TicketNumber", req(TicketNumber)),
        ("FacilityID", req(Identifier)),
        ("SessionID", req(Identifier)),
        ("IssuedAt", req(DateTime)),
        ("LaneNumber", req(Integer32)),
        ("VehicleType", req(VehicleType)),
        ("State", req(TicketState)),
        ("Code", req(LongText)),
    ]


class Receipt(_Model):
    _type_info = [
        ("ReceiptNumber", req(Identifier)),
        ("Kind", req(PaymentKind)),
        ("FacilityID", req(Identifier)),
        ("SessionID", req(Identifier)),
        ("TicketNumber", opt(TicketNumber)),
        ("IssuedAt", req(DateTime)),
        ("Method", req(PaymentMethod)),
        ("Amount", req(SignedMoney)),
        ("Tendered", opt(Money)),
        ("Change", opt(Money)),
        ("Reference", opt(ShortText)),
        ("CardLastFour", opt(CardLastFour)),
        ("Partial", req(Boolean)),
        ("AmountPaid", req(Money)),
        ("AmountDue", req(Money)),
        ("ServedBy", req(ShortText)),
        ("ShiftID", opt(Identifier)),
        ("Channel", opt(ShortText)),
        ("OriginalReceipt", opt(Identifier)),
        ("Reason", opt(LongText)),
    ]


# Message types of the operator's services (defined by the WSDL alone).

class Printout(_Model):
    _type_info = [
        ("FileName", req(ShortText)),
        ("MediaType", req(ShortText)),
        ("Content", req(ByteArray)),
    ]


class TicketView(_Model):
    _type_info = [
        ("Ticket", req(Ticket)),
        ("Plate", req(PlateNumber)),
        ("Charges", req(Charges)),
        ("AmountDue", req(Money)),
    ]


class LostTicketResult(_Model):
    _type_info = [
        ("LostTicketID", req(Identifier)),
        ("SessionID", req(Identifier)),
        ("TicketNumber", opt(TicketNumber)),
        ("EntryTime", req(DateTime)),
        ("Policy", req(ShortText)),
        ("Charge", req(Money)),
        ("AmountDue", req(Money)),
        ("EntryImageURL", opt(URL)),
        ("EntryImage", opt(ByteArray)),
    ]


class OvernightVehicle(_Model):
    _type_info = [
        ("SessionID", req(Identifier)),
        ("Plate", req(PlateNumber)),
        ("EntryTime", req(DateTime)),
        ("Cutoff", req(DateTime)),
        ("TicketNumber", opt(TicketNumber)),
        ("LaneNumber", req(Integer32)),
    ]


class DeclaredAmount(_Model):
    _type_info = [
        ("Method", req(PaymentMethod)),
        ("Amount", req(Money)),
    ]


class ShiftInfo(_Model):
    _type_info = [
        ("ShiftID", req(Identifier)),
        ("Officer", req(ShortText)),
        ("FacilityID", req(Identifier)),
        ("LaneNumber", opt(Integer32)),
        ("Booth", opt(ShortText)),
        ("OpeningFloat", req(Money)),
        ("OpenedAt", req(DateTime)),
        ("State", req(ShortText)),
        ("ClosedAt", opt(DateTime)),
        ("SignedBy", opt(ShortText)),
        ("SignedAt", opt(DateTime)),
    ]


class MethodTotal(_Model):
    _type_info = [
        ("Method", req(PaymentMethod)),
        ("Count", req(Integer32)),
        ("Expected", req(SignedMoney)),
        ("Declared", opt(Money)),
        ("Difference", opt(SignedMoney)),
    ]


class KeyedTotal(_Model):
    _type_info = [
        ("Key", req(ShortText)),
        ("Count", req(Integer32)),
        ("Amount", req(SignedMoney)),
    ]


class Transaction(_Model):
    _type_info = [
        ("PaymentID", req(Identifier)),
        ("Kind", req(PaymentKind)),
        ("At", req(DateTime)),
        ("SessionID", req(Identifier)),
        ("Method", req(PaymentMethod)),
        ("Amount", req(SignedMoney)),
        ("VehicleType", req(VehicleType)),
        ("Reference", opt(ShortText)),
        ("OriginalReceipt", opt(Identifier)),
        ("Reason", opt(LongText)),
    ]


class ShiftReport(_Model):
    _type_info = [
        ("Shift", req(ShiftInfo)),
        ("Transaction", many(Transaction)),
        ("ByMethod", many(MethodTotal)),
        ("ByVehicleType", many(KeyedTotal)),
        ("Taken", req(SignedMoney)),
        ("Voids", req(Integer32)),
        ("VoidAmount", req(SignedMoney)),
        ("LostTickets", req(Integer32)),
        ("LostTicketAmount", req(Money)),
        ("Overnight", req(Integer32)),
        ("Printout", opt(Printout)),      # GetShiftReport with a Paper: the report as a PDF
    ]


class FacilityFigures(_Model):
    _type_info = [
        ("FacilityID", req(Identifier)),
        ("Revenue", req(SignedMoney)),
        ("ByMethod", many(KeyedTotal)),
        ("ByVehicleType", many(KeyedTotal)),
        ("ByLane", many(KeyedTotal)),
        ("Voids", req(KeyedTotal)),
        ("Refunds", req(KeyedTotal)),
        ("LostTickets", req(KeyedTotal)),
        ("EntriesPerHour", many(Integer32)),
        ("ExitsPerHour", many(Integer32)),
        ("Stays", many(KeyedTotal)),
        ("OccupancyPeak", req(Integer32)),
        ("OccupancyAverage", req(Decimal)),
        ("Capacity", req(Integer32)),
    ]


class ParkingReport(_Model):
    _type_info = [
        ("Period", req(ShortText)),
        ("From", req(Date)),
        ("Until", req(Date)),
        ("Facility", many(FacilityFigures)),
        ("Export", opt(Printout)),
    ]


# --- issue 19: erasure by plate --------------------------------------------------------------

class ErasureStep(_Model):
    _type_info = [
        ("Table", req(ShortText)),
        ("Erased", req(Integer64)),
        ("Held", req(Integer64)),
    ]


class Erasure(_Model):
    _type_info = [
        ("Step", many(ErasureStep)),
    ]


# --- issue 16: tariffs per vehicle type, versioned: defined by xsd/parkgate.xsd ----------------

Weekday = _enum("Weekday", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
TariffSetting = _enum("TariffSetting", "DailyMaximum", "OvernightCutoff", "Band", "SpecialRate")  # SetTariff's Clear
Minutes = _simple(Integer32, "Minutes", ge=0)
TimeOfDay = _simple(Unicode, "TimeOfDay", pattern=r"([01][0-9]|2[0-3]):[0-5][0-9]")


class TimeBand(_Model):
    _type_info = [
        ("Name", req(ShortText)),
        ("Start", req(TimeOfDay)),
        ("End", req(TimeOfDay)),
        ("PricePerPeriod", req(Amount)),
    ]


class TariffRates(_Model):
    """Every element optional: in SetTariff, what is left out stays as it was."""
    _type_info = [
        ("FirstPeriodMinutes", opt(Minutes)),
        ("FirstPrice", opt(Amount)),
        ("PeriodMinutes", opt(Minutes)),
        ("PricePerPeriod", opt(Amount)),
        ("DailyMaximum", opt(Amount)),
        ("EntryCharge", opt(Amount)),
        ("Band", many(TimeBand)),
    ]


class SpecialRate(_Model):
    _type_info = [
        ("Name", req(ShortText)),
        ("FirstDay", opt(Date)),
        ("LastDay", opt(Date)),
        ("Weekday", many(Weekday)),
        ("Rates", req(TariffRates)),
    ]


class TariffRules(_Model):
    _type_info = [
        ("RateCode", opt(Identifier)),
        ("GraceMinutes", opt(Minutes)),
        ("Rates", opt(TariffRates)),
        ("OvernightCutoff", opt(TimeOfDay)),
        ("OvernightCharge", opt(Amount)),
        ("LostTicket", opt(Amount)),
        ("ExitAfterPaymentMinutes", opt(Minutes)),
        ("SpecialRate", many(SpecialRate)),
    ]


class TariffVersion(_Model):
    _type_info = [
        ("FacilityID", req(Identifier)),
        ("VehicleType", req(VehicleType)),
        ("Version", req(Integer64)),
        ("EffectiveFrom", req(DateTime)),
        ("Currency", req(CurrencyCode)),
        ("Rules", req(TariffRules)),
        ("SetBy", req(ShortText)),
        ("SetAt", opt(DateTime)),
        ("Reason", opt(LongText)),
    ]


# --- issue 16: zones (levels, areas), their spaces per vehicle type, a space assigned ----------------

ZoneKind = _enum("ZoneKind", "level", "area")
SpacesStatus = _enum("SpacesStatus", "SPACES_AVAILABLE", "ALMOST_FULL", "FULL")


class ZoneCapacity(_Model):
    _type_info = [
        ("VehicleType", req(VehicleType)),
        ("Spaces", req(Integer32)),
    ]


class ZoneSpaces(_Model):
    _type_info = [
        ("VehicleType", req(VehicleType)),
        ("Capacity", req(Integer32)),
        ("Occupied", req(Integer32)),
        ("Available", req(Integer32)),
        ("Status", req(SpacesStatus)),
    ]


class Zone(_Model):
    _type_info = [
        ("FacilityID", req(Identifier)),
        ("ZoneID", req(Identifier)),
        ("Name", req(LongText)),
        ("Kind", req(ZoneKind)),
        ("PermitOnly", req(Boolean)),
        ("Capacity", many(ZoneCapacity)),
        ("Version", req(Integer64)),
        ("SetBy", opt(ShortText)),
        ("SetAt", opt(DateTime)),
        ("Reason", opt(LongText)),
        ("Spaces", many(ZoneSpaces)),
    ]


class SpaceAssigned(_Model):
    _type_info = [
        ("AssignmentID", req(Identifier)),
        ("SessionID", req(Identifier)),
        ("FacilityID", req(Identifier)),
        ("ZoneID", req(Identifier)),
        ("SpaceID", opt(ShortText)),
        ("VehicleType", req(VehicleType)),
        ("AssignedAt", req(DateTime)),
        ("AssignedBy", req(ShortText)),
    ]

