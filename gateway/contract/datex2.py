"""DATEX II v3 parking publications: each facility's static description and its live status.

The European exchange format for parking data. The official schemas are not in this repository
(their publisher's folder says they are not copied): ``[open_data] schemas`` names the folder they
are installed in, and the relays check every publication against them (:func:`official_schema`);
tests use ``../shared/standards/datex2-v3-parking``. A facility is a ``prk:Place`` of
one ``prk:ParkingTable``; its status a ``prk:PlaceStatus`` that refers to it by id and version.
The version is a digest of what the table says about the place, so it changes exactly when its
description does and a consumer knows its cached table is stale.

A facility with zones (levels, areas) is the top of a place hierarchy: each zone is a place of
layer 1 under it (``prk:parentId``; the site names its ``prk:childId``), with its own status. Both
kinds are ``subplaceElement`` (the schema's "sub-division of a place ... to segment the place and
identify varied uses for parking"; ``identifiedArea`` is a geographic zone, whose only concrete
class is a supplemental facility without a status), a level with its floor. A zone's id is
``FACILITY/ZONE``, stable across its versions. A facility without zones is one place, as before.

The builders read facilities, zones and occupancy by attribute name (``id``, ``name``,
``capacity``; a zone's ``kind``, ``capacity`` per vehicle type, ``total``, ``floor``,
``permit_only``; ``facility``, ``occupied``, ``available``, ``status``, ``zones``); they import none.
"""

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lxml import etree

from .documents import text
from .schema import secure_parser

D2 = "http://datex2.eu/schema/3/d2Payload"
COM = "http://datex2.eu/schema/3/common"
FAC = "http://datex2.eu/schema/3/facilities"
PRK = "http://datex2.eu/schema/3/parking"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"d2": D2, "com": COM, "fac": FAC, "prk": PRK, "xsi": XSI}
_PREFIX = {"d2": D2, "com": COM, "fac": FAC, "prk": PRK}

#: The publications as relayed documents (outbox kinds, ``[[relay]] documents``).
TABLE, STATUS = "ParkingTablePublication", "ParkingStatusPublication"
KINDS = (TABLE, STATUS)
#: The official schema set's entry file: it imports the rest from its own folder.
PAYLOAD_XSD = "DATEXII_3_D2Payload.xsd"

#: The signs' words (gateway.domain.occupancy.spaces_status) as DATEX II's place status.
PLACE_STATUS = {"SPACES_AVAILABLE": "spacesAvailable", "ALMOST_FULL": "almostFull", "FULL": "full"}
#: The zones' vehicle types (gateway.domain.vehicle_types) as DATEX II's ``com:VehicleTypeEnum``.
VEHICLE_TYPE = {"car": "car", "motorcycle": "motorcycle", "van": "van", "truck": "lorry", "bus": "bus"}


@dataclass(frozen=True)
class Publisher:
    """Who publishes (``com:publicationCreator``) and in which language."""
    country: str = "US"                  # ISO 3166-1 alpha-2
    national_identifier: str = "parkgate"
    lang: str = "en"
    table_id: str = "parkgate"           # the ParkingTable's id


def _el(parent, tag, value=None, xsi_type=None, **attributes):
    prefix, name = tag.split(":")
    e = etree.SubElement(parent, f"{{{_PREFIX[prefix]}}}{name}")
    if xsi_type:
        e.set(f"{{{XSI}}}type", xsi_type)
    for key, attr in attributes.items():
        e.set(key, attr)
    if value is not None:
        e.text = text(value)
    return e


def _multilingual(parent, tag, value, lang):
    _el(_el(_el(parent, tag), "com:values"), "com:value", value, lang=lang)


def _payload(kind, publisher, at):
    root = etree.Element(f"{{{D2}}}payload", nsmap=NSMAP)
    root.set(f"{{{XSI}}}type", kind)
    root.set("lang", publisher.lang)
    root.set("modelBaseVersion", "3")
    _el(root, "com:publicationTime", at.replace(microsecond=0))
    creator = _el(root, "com:publicationCreator")
    _el(creator, "com:country", publisher.country)
    _el(creator, "com:nationalIdentifier", publisher.national_identifier)
    return root


def _digest(*parts) -> str:
    return hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()[:12]


def zone_place_id(facility_id: str, zone_id: str) -> str:
    """A zone's place id: its facility's and its own, so that it is unique in the table and the
    same in every version of the zone."""
    return f"{facility_id}/{zone_id}"


def zone_version(zone) -> str:
    """Changes when the zone's published description does (name, kind, floor, spaces, permit only)."""
    spaces = ",".join(f"{kind}={n}" for kind, n in zone.capacity.items())
    return _digest(zone.name, zone.kind, zone.floor or "", spaces, zone.permit_only)


def place_version(facility, zones: Iterable = ()) -> str:
    """Changes when the place's published description does (name, capacity, its zones')."""
    children = [f"{zone_place_id(facility.id, z.id)}={zone_version(z)}" for z in zones]
    return _digest(facility.name, facility.capacity, *children)


def _reference(parent, tag, id_, version):
    _el(parent, tag, targetClass="fac:FacilityObject", id=id_, version=version)


def _site(table, fac, zones, lang):
    place = _el(table, "prk:hierarchyElementGeneral", xsi_type="prk:Place", id=fac.id,
                version=place_version(fac, zones))
    _multilingual(place, "fac:name", fac.name, lang)
    _el(place, "prk:layer", 0)
    _el(place, "prk:type", "place")
    for z in zones:
        _reference(place, "prk:childId", zone_place_id(fac.id, z.id), zone_version(z))
    floors = [z.floor for z in zones if z.floor is not None]
    if floors:
        _el(place, "prk:availableFloors", " ".join(dict.fromkeys(floors)))   # as configured: lowest first
    characteristics = _el(_el(place, "prk:commonComponents"), "prk:characteristics")
    _el(characteristics, "prk:accessControlled", True)     # barriers at every lane
    _el(characteristics, "prk:structureType", "offStreetStructure")
    _el(characteristics, "prk:spacesTotal", fac.capacity)
    return place


def _zone(table, fac, site_version, z, lang):
    place = _el(table, "prk:hierarchyElementGeneral", xsi_type="prk:Place", id=zone_place_id(fac.id, z.id),
                version=zone_version(z))
    _multilingual(place, "fac:name", z.name, lang)
    kinds = [VEHICLE_TYPE[kind] for kind, n in z.capacity.items() if n > 0]
    if kinds:   # the types it has spaces for; how many of each, DATEX II's place cannot say
        vehicles = _el(place, "fac:applicableForVehicles")
        for kind in kinds:
            _el(vehicles, "com:vehicleType", kind)
    _el(place, "prk:layer", 1)
    _el(place, "prk:type", "subplaceElement")
    _reference(place, "prk:parentId", fac.id, site_version)
    common = _el(place, "prk:commonComponents")
    characteristics = _el(common, "prk:characteristics")
    _el(characteristics, "prk:structureType", "offStreetStructure")
    _el(characteristics, "prk:openToPublic", not z.permit_only)
    _el(characteristics, "prk:spacesTotal", z.total)
    if z.floor is not None:
        _el(_el(common, "prk:additionalCharacteristics"), "prk:floor", z.floor)


def table_publication(facilities: Iterable, publisher: Publisher, at: datetime,
                      zones: Mapping[str, Iterable] | None = None) -> etree._Element:
    """A ``ParkingTablePublication``: one place per facility, with its name and capacity, and under
    it a place per zone (``zones``: facility id -> its zones in force; none: it has none)."""
    sites = [(fac, list((zones or {}).get(fac.id, ()))) for fac in facilities]
    root = _payload("prk:ParkingTablePublication", publisher, at)
    table = _el(root, "prk:parkingTable", id=publisher.table_id,
                version=hashlib.sha256("".join(place_version(f, z) for f, z in sites).encode()).hexdigest()[:12])
    _multilingual(table, "prk:name", publisher.national_identifier, publisher.lang)
    _el(table, "prk:versionTime", at.replace(microsecond=0))
    for fac, found in sites:
        site = _site(table, fac, found, publisher.lang)
        for z in found:
            _zone(table, fac, site.get("version"), z, publisher.lang)
    return root


def _status(root, id_, version, occupied, available, capacity, status):
    info = _el(root, "prk:parkingStatusInformation", xsi_type="prk:PlaceStatus")
    _reference(info, "fac:reference", id_, version)
    counts = _el(info, "prk:occupancy")
    _el(counts, "prk:numberOfVacantSpaces", available)
    _el(counts, "prk:numberOfOccupiedSpaces", occupied)
    if capacity:
        _el(counts, "prk:occupancy", round(min(100.0, 100.0 * occupied / capacity), 1))
    _el(info, "prk:status", PLACE_STATUS[status])
    return info


def status_publication(occupancies: Iterable, publisher: Publisher, at: datetime) -> etree._Element:
    """A ``ParkingStatusPublication``: each facility's vacant and occupied spaces now, then each of
    its zones'; the facility says at which floors it is full."""
    root = _payload("prk:ParkingStatusPublication", publisher, at)
    for occ in occupancies:
        fac, views = occ.facility, list(occ.zones)
        site = _status(root, fac.id, place_version(fac, [v.zone for v in views]), occ.occupied, occ.available,
                       fac.capacity, occ.status)
        full: dict[str, bool] = {}   # floor -> every zone on it is full
        for v in views:
            if v.zone.floor is not None:
                full[v.zone.floor] = full.get(v.zone.floor, True) and v.status == "FULL"
        for floor in (f for f, is_full in full.items() if is_full):
            _el(site, "prk:parkingPlaceFullAtFloor", floor)
        for v in views:
            _status(root, zone_place_id(fac.id, v.zone.id), zone_version(v.zone), v.occupied, v.available,
                    v.zone.total, v.status)
    return root


def serialise(document: etree._Element) -> bytes:
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def official_schema(folder: Path | str) -> etree.XMLSchema:
    """The official DATEX II v3 schemas in ``folder`` (loaded from files only, never the network);
    OSError or etree.XMLSchemaParseError when they are not there or do not load."""
    path = Path(folder) / PAYLOAD_XSD
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not there")
    return etree.XMLSchema(etree.parse(str(path), secure_parser(remove_comments=True)))
