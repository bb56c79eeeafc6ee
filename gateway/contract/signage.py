"""The signage feed (issue 17): each facility's free spaces now, as XML (``SignageFeed`` in
``xsd/parkgate.xsd``) or as JSON with the same names. Reads occupancy by attribute name
(``facility``, ``occupied``, ``available``, ``status``; per zone ``zones``: each with ``zone`` and
``spaces``, issue 16)."""

import json
from collections.abc import Iterable
from datetime import datetime

from .documents import checked, element, leaf, serialize, text


def _fields(occ):
    fac = occ.facility
    return {"FacilityID": fac.id, "Name": fac.name, "Capacity": fac.capacity, "Occupied": occ.occupied,
            "Available": occ.available, "Status": occ.status}


def _spaces(s):
    return {"VehicleType": s.vehicle_type, "Capacity": s.capacity, "Occupied": s.occupied, "Available": s.available,
            "Status": s.status}


def _zones(occ):
    return [{"ZoneID": v.zone.id, "Name": v.zone.name, "Spaces": [_spaces(s) for s in v.spaces]}
            for v in getattr(occ, "zones", ())]


def feed_xml(occupancies: Iterable, at: datetime) -> bytes:
    root = element("SignageFeed")
    leaf("AsOf", at.replace(microsecond=0), root)
    for occ in occupancies:
        place = element("Facility", root)
        for name, value in _fields(occ).items():
            leaf(name, value, place)
        for z in _zones(occ):
            zone = element("Zone", place)
            leaf("ZoneID", z["ZoneID"], zone)
            leaf("Name", z["Name"], zone)
            for s in z["Spaces"]:
                spaces = element("Spaces", zone)
                for name, value in s.items():
                    leaf(name, value, spaces)
    return serialize(checked(root))


def feed_json(occupancies: Iterable, at: datetime) -> bytes:
    return json.dumps({"AsOf": text(at.replace(microsecond=0)),
                       "Facility": [{**_fields(occ), **({"Zone": _zones(occ)} if _zones(occ) else {})}
                                    for occ in occupancies]}).encode() + b"\n"
