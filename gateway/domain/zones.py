"""Zones: a facility's levels and areas, each with its spaces per vehicle type (issue 16).

A facility without zones is one space pool (its ``capacity``); with zones, an entry at a lane of a
zone also needs a space of its vehicle type there. Zones are configured, and changed at runtime by
an admin: each change is a new version of the zone (never an edit), the latest one in force. A
zone's floor (where a level is in the building) is configuration only: its versions keep it.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from .errors import InvalidInput
from .occupancy import spaces_status
from .vehicle_types import VEHICLE_TYPES, vehicle_type

LEVEL, AREA = "level", "area"
KINDS = (LEVEL, AREA)


@dataclass(frozen=True)
class Zone:
    facility_id: str
    id: str
    name: str
    kind: str                                   # level or area
    capacity: Mapping[str, int] = field(default_factory=dict)   # vehicle type -> spaces (none: no space)
    permit_only: bool = False                   # only valid permit holders enter it
    floor: str | None = None                    # the floor it is on, as signs say it (e.g. "-1", "G", "2")
    version: int = 0                            # 0: as configured; then each SetZone's number
    set_by: str | None = None
    set_at: datetime | None = None
    reason: str | None = None

    def spaces(self, kind: str) -> int:
        return self.capacity.get(kind, 0)

    @property
    def total(self) -> int:
        return sum(self.capacity.values())


def zone(facility_id: str, zone_id: str, *, name: str | None = None, kind: str = AREA,
         capacity: Mapping[str, object] | None = None, permit_only: bool = False, floor: object = None,
         **recorded) -> Zone:
    """A zone checked: a known kind, capacities of known vehicle types, none negative."""
    if not zone_id or len(zone_id) > 64:
        raise InvalidInput("a zone needs an id of at most 64 characters", "ZoneID")
    floor_named = None if floor is None else str(floor).strip()
    if floor_named is not None and (len(floor_named.split()) != 1 or len(floor_named) > 16):
        raise InvalidInput("a zone's floor is one word of at most 16 characters (e.g. -1, G, 2)", "Floor")
    if kind not in KINDS:
        raise InvalidInput(f"a zone's kind is one of {', '.join(KINDS)}, not {kind!r}", "Kind")
    spaces = {}
    for key, value in (capacity or {}).items():
        kind_of = vehicle_type(str(key), "Capacity")
        try:
            count = int(str(value))
        except ValueError:
            raise InvalidInput(f"the capacity for {kind_of} must be a whole number", "Capacity") from None
        if count < 0:
            raise InvalidInput(f"the capacity for {kind_of} cannot be negative", "Capacity")
        spaces[kind_of] = count
    ordered = {k: spaces[k] for k in VEHICLE_TYPES if k in spaces}
    return Zone(facility_id, zone_id, name or zone_id, kind, ordered, bool(permit_only), floor_named, **recorded)


def changed(current: Zone | None, facility_id: str, zone_id: str, *, name: str | None = None,
            kind: str | None = None, capacity: Mapping[str, object] | None = None,
            permit_only: bool | None = None) -> Zone:
    """The next version of a zone: ``current`` (None: a new zone) with what is given on top; the
    capacities given replace those of their types, the others stay."""
    if current is None:
        return zone(facility_id, zone_id, name=name, kind=kind or AREA, capacity=capacity,
                    permit_only=bool(permit_only))
    merged = {**current.capacity, **(capacity or {})}
    return zone(facility_id, zone_id, name=name or current.name, kind=kind or current.kind, capacity=merged,
                permit_only=current.permit_only if permit_only is None else permit_only, floor=current.floor)


def in_force(configured: Iterable[Zone], versions: Iterable[Zone]) -> dict[str, Zone]:
    """Zone id -> the zone as it is now: the configured ones, each replaced by its latest version
    (on the configured zone's floor)."""
    found = {z.id: z for z in configured}
    floors = {z.id: z.floor for z in configured}
    for version in sorted(versions, key=lambda v: v.version):
        found[version.id] = replace(version, floor=floors.get(version.id))
    return found


@dataclass(frozen=True)
class ZoneSpaces:
    """A zone's spaces of one vehicle type, and how many are taken now."""
    zone: Zone
    vehicle_type: str
    occupied: int

    @property
    def capacity(self) -> int:
        return self.zone.spaces(self.vehicle_type)

    @property
    def available(self) -> int:
        return max(self.capacity - self.occupied, 0)

    @property
    def status(self) -> str:
        return spaces_status(self.capacity, self.occupied)


def spaces(zones: Mapping[str, Zone], occupied: Mapping[tuple[str, str], int]) -> list[ZoneSpaces]:
    """Every zone's spaces per vehicle type it has spaces for (or vehicles of, over capacity)."""
    out: list[ZoneSpaces] = []
    for z in zones.values():
        kinds = set(z.capacity) | {k for (zid, k) in occupied if zid == z.id}
        out.extend(ZoneSpaces(z, k, occupied.get((z.id, k), 0)) for k in VEHICLE_TYPES if k in kinds)
    return out


def has_space(z: Zone, kind: str, occupied: int) -> bool:
    return occupied < z.spaces(kind)

