"""Facilities as configured: lanes, tariff, citation rules. Value types, built once at start."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .errors import InvalidInput, UnknownFacility, UnknownLane
from .zones import Zone

ENTRY, EXIT, BOTH = "ENTRY", "EXIT", "BOTH"


@dataclass(frozen=True)
class Tariff:
    rate_code: str
    currency: str
    period: timedelta
    price_per_period: Decimal
    grace: timedelta
    daily_maximum: Decimal
    lost_ticket: Decimal
    exit_after_payment: timedelta


#: What a lost ticket is charged: the tariff's lost-ticket amount, the actual fee of the stay (its
#: entry is known), or the greater of the two.
LOST_TICKET_AMOUNT, ACTUAL_FEE, GREATER = "LOST_TICKET_AMOUNT", "ACTUAL_FEE", "GREATER"


@dataclass(frozen=True)
class OperatorPolicy:
    """How a facility's staff handle what is not routine: lost tickets, overnight stays, short payments."""
    lost_ticket: str = GREATER
    overnight_cutoff: time = time(0, 0)   # local: past it a vehicle stayed overnight, where its tariff sets no cut-off
    partial_payments: bool = False        # False: a payment below what is due is refused


@dataclass(frozen=True)
class CitationRule:
    violation: str
    fine: Decimal
    due_days: int


@dataclass(frozen=True)
class EnforcementRules:
    """A facility's scan: how often, and the limits it enforces (None: that check is off)."""
    interval: timedelta = timedelta(minutes=30)
    time_limit: timedelta | None = None          # stays without a valid permit longer than this: EXPIRED_TIME
    payment_window: timedelta | None = None      # stays still owing after this long: UNPAID_STAY


@dataclass(frozen=True)
class Lane:
    camera_id: str
    number: int
    direction: str       # ENTRY, EXIT or BOTH
    plc: Any = None      # where its barrier PLC listens (the composition root's PlcEndpoint); None: no PLC
    vehicle_type: str | None = None   # a lane for one type (a motorcycle lane); None: the caller says
    zone: str | None = None           # issue 16: the zone (level, area) it leads into

    def admits(self, direction: str) -> bool:
        return self.direction in (BOTH, direction)


@dataclass(frozen=True)
class Facility:
    id: str
    name: str
    capacity: int
    timezone: ZoneInfo
    tariff: Tariff
    permit_only: bool = False
    image_sources: Any = None                             # where lane images may come from (recognition.fetch)
    plate_regions: tuple[str, ...] | None = None          # plate formats admitted (US, EU, UK, BR)
    lanes: dict[str, Lane] = field(default_factory=dict)  # camera id -> Lane
    citation_rules: dict[str, CitationRule] = field(default_factory=dict)  # violation -> rule
    enforcement: EnforcementRules = EnforcementRules()    # the violation scan (issue 17)
    policy: OperatorPolicy = field(default_factory=OperatorPolicy)
    # issue 16: the configured tariff versions per vehicle type (domain.tariffs.TariffVersion);
    # none: ``tariff`` for every type (domain.tariffs.configured)
    tariff_versions: tuple[Any, ...] = ()
    zones: tuple[Zone, ...] = ()   # issue 16: its levels and areas as configured; none: one pool of ``capacity``
    # no capacity configured: ``capacity`` is the sum of its zones' spaces, so a zone set at run
    # time changes it (app.zones.Zones)
    capacity_of_zones: bool = False

    @property
    def currency(self) -> str:
        return self.tariff.currency

    def lane_of(self, camera_id: str, lane_number: int | None, direction: str) -> Lane:
        """The lane a camera reports from, checked against the lane number and direction it gives."""
        lane = self.lanes.get(camera_id)
        if lane is None or (lane_number is not None and lane_number != lane.number):
            raise UnknownLane(f"no lane with camera {camera_id!r} in {self.id}", "CameraID")
        if not lane.admits(direction):
            raise InvalidInput(f"lane {lane.number} of {self.id} is an {lane.direction} lane", "Direction")
        return lane

    def lane_numbered(self, number: int) -> Lane:
        for lane in self.lanes.values():
            if lane.number == number:
                return lane
        raise UnknownLane(f"{self.id} has no lane {number}", "LaneNumber")

    def citation_rule(self, violation: str) -> CitationRule:
        rule = self.citation_rules.get(violation)
        if rule is None:
            known = ", ".join(sorted(self.citation_rules)) or "none"
            raise InvalidInput(f"{self.id} has no rule for {violation!r} (known: {known})", "ViolationType")
        return rule


def find_facility(facilities: Mapping[str, Facility], facility_id: str) -> Facility:
    try:
        return facilities[facility_id]
    except KeyError:
        raise UnknownFacility(f"unknown facility {facility_id!r}", "FacilityID") from None
