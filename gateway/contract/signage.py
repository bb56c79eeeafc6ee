"""The signage feed (issue 17): each facility's free spaces now, as XML (``SignageFeed`` in
``xsd/parkgate.xsd``) or as JSON with the same names. Reads occupancy by attribute name
(``facility``, ``occupied``, ``available``, ``status``)."""

import json
from collections.abc import Iterable
from datetime import datetime

from .documents import checked, element, leaf, serialize, text


def _fields(occ):
    fac = occ.facility
    return {"FacilityID": fac.id, "Name": fac.name, "Capacity": fac.capacity, "Occupied": occ.occupied,
            "Available": occ.available, "Status": occ.status}


def feed_xml(occupancies: Iterable, at: datetime) -> bytes:
    root = element("SignageFeed")
    leaf("AsOf", at.replace(microsecond=0), root)
    for occ in occupancies:
        place = element("Facility", root)
        for name, value in _fields(occ).items():
            leaf(name, value, place)
    return serialize(checked(root))


def feed_json(occupancies: Iterable, at: datetime) -> bytes:
    return json.dumps({"AsOf": text(at.replace(microsecond=0)),
                       "Facility": [_fields(occ) for occ in occupancies]}).encode() + b"\n"
