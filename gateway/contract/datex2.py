"""DATEX II v3 parking publications: each facility's static description and its live status.

The European exchange format for parking data. The official schemas are not in this repository
(their publisher's folder says they are not copied): ``[open_data] schemas`` names the folder they
are installed in, and the relays check every publication against them (:func:`official_schema`);
tests use ``../shared/standards/datex2-v3-parking``. A facility is a ``prk:Place`` of
one ``prk:ParkingTable``; its status a ``prk:PlaceStatus`` that refers to it by id and version.
The version is a digest of what the table says about the place, so it changes exactly when its
description does and a consumer knows its cached table is stale. The builders read facilities and
occupancy by attribute name (``id``, ``name``, ``capacity``; ``facility``, ``occupied``,
``available``, ``status``); they import neither.
"""

import hashlib
from collections.abc import Iterable
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


def place_version(facility) -> str:
    """Changes when the place's published description does (name, capacity)."""
    return hashlib.sha256(f"{facility.name}\x00{facility.capacity}".encode()).hexdigest()[:12]


def table_publication(facilities: Iterable, publisher: Publisher, at: datetime) -> etree._Element:
    """A ``ParkingTablePublication``: one place per facility, with its name and capacity."""
    facilities = list(facilities)
    root = _payload("prk:ParkingTablePublication", publisher, at)
    table = _el(root, "prk:parkingTable", id=publisher.table_id,
                version=hashlib.sha256("".join(place_version(f) for f in facilities).encode()).hexdigest()[:12])
    _multilingual(table, "prk:name", publisher.national_identifier, publisher.lang)
    _el(table, "prk:versionTime", at.replace(microsecond=0))
    for fac in facilities:
        place = _el(table, "prk:hierarchyElementGeneral", xsi_type="prk:Place", id=fac.id, version=place_version(fac))
        _multilingual(place, "fac:name", fac.name, publisher.lang)
        _el(place, "prk:layer", 0)
        _el(place, "prk:type", "place")
        characteristics = _el(_el(place, "prk:commonComponents"), "prk:characteristics")
        _el(characteristics, "prk:accessControlled", True)     # barriers at every lane
        _el(characteristics, "prk:structureType", "offStreetStructure")
        _el(characteristics, "prk:spacesTotal", fac.capacity)
    return root


def status_publication(occupancies: Iterable, publisher: Publisher, at: datetime) -> etree._Element:
    """A ``ParkingStatusPublication``: each facility's vacant and occupied spaces now."""
    root = _payload("prk:ParkingStatusPublication", publisher, at)
    for occ in occupancies:
        fac = occ.facility
        info = _el(root, "prk:parkingStatusInformation", xsi_type="prk:PlaceStatus")
        _el(info, "fac:reference", targetClass="fac:FacilityObject", id=fac.id, version=place_version(fac))
        counts = _el(info, "prk:occupancy")
        _el(counts, "prk:numberOfVacantSpaces", occ.available)
        _el(counts, "prk:numberOfOccupiedSpaces", occ.occupied)
        if fac.capacity:
            _el(counts, "prk:occupancy", round(min(100.0, 100.0 * occ.occupied / fac.capacity), 1))
        _el(info, "prk:status", PLACE_STATUS[occ.status])
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
