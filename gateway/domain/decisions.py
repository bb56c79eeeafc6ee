"""The lane decision: what the facts about a plate say a barrier does (OPEN, HOLD or REVIEW).

A pure function of the facts (hotlist, occupancy, the plate's open session and permits), the
event (direction, instant, confidence) and the facility's rules. The use case reads the facts,
calls :func:`decide`, and writes what the verdict says (a session opened or closed).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from . import tariffs
from .errors import InvalidTime
from .facility import ENTRY, Facility
from .hotlist import holds
from .permits import EXPIRED, NONE, VALID, Permit, Standing, judge
from .sessions import ParkingSession
from .tickets import owed_after_lost_ticket
from .vehicle_types import CAR
from .zones import Zone, has_space

OPEN, HOLD, REVIEW = "OPEN", "HOLD", "REVIEW"
IMAGE_MISMATCH = "IMAGE_MISMATCH"   # the exit's picture does not show the vehicle that entered


@dataclass(frozen=True)
class DecisionRules:
    confidence_threshold: Decimal = Decimal("0.85")   # below: REVIEW (a person looks)
    max_clock_skew: timedelta = timedelta(minutes=5)  # event times further ahead are refused
    frame_window: timedelta = timedelta(seconds=3)    # more frames of one vehicle within this: decided once
    image_match_threshold: Decimal = Decimal("0.5")   # entry and exit pictures less alike: REVIEW (0: off)


@dataclass(slots=True)  # not frozen: on the lane-event path, 2 us a record (nothing changes one)
class LaneFacts:
    """What is known about a plate in a facility when a lane event is decided."""
    hotlisted: str | None            # the most severe live hotlist category of the plate here, or None
    occupied: int | None             # open sessions in the facility (read for entries only)
    session: ParkingSession | None   # the plate's open session there
    permits: tuple[Permit, ...]      # the plate's permits there (its facility's and everywhere's)
    schedule: tariffs.Schedule | None = None   # the facility's tariff versions (None: as configured)
    lost_charge: Decimal | None = None   # a lost ticket processed for the open session: its charge (exits)
    zone: Zone | None = None             # the zone the entry's lane leads into, as it is now (entries)
    zone_occupied: int | None = None     # open sessions of the vehicle's type in that zone (entries)


@dataclass(slots=True)  # not frozen: on the lane-event path, 2 us a record (nothing changes one)
class Verdict:
    decision: str                    # OPEN, HOLD, REVIEW
    reason: str
    standing: Standing               # the plate's permit standing
    session: ParkingSession | None = None   # the session the event is about (as closed, when it closes it)
    charge: Decimal | None = None
    paid: Decimal | None = None
    opens_session: bool = False      # an admitted entry: the use case opens a session
    closes_session: bool = False     # an admitted exit: the use case closes ``session``

    @property
    def granted(self) -> bool:
        return self.decision == OPEN


def decide(facts: LaneFacts, facility: Facility, rules: DecisionRules, event_id: str, direction: str,
           when: datetime, confidence: Decimal | None, vehicle_type: str = CAR,
           image_match: Decimal | None = None) -> Verdict:
    """``vehicle_type``: of the vehicle at the lane (the lane's, or as the caller said);
    ``image_match``: how alike the vehicle at entry and at this exit look (None: not compared)."""
    standing = judge(facts.permits, facility.timezone, when)
    if confidence is not None and confidence < rules.confidence_threshold:
        return Verdict(REVIEW, "LOW_CONFIDENCE", standing, facts.session)
    if direction == ENTRY:
        return _entry(facts, facility, standing, vehicle_type)
    verdict = _exit(facts, facility, standing, event_id, when, vehicle_type)
    if verdict.closes_session and image_match is not None and image_match < rules.image_match_threshold:
        # The plate says the stay is over, the pictures say another vehicle: a person looks.
        return Verdict(REVIEW, IMAGE_MISMATCH, standing, facts.session)
    return verdict


def _entry(facts: LaneFacts, facility: Facility, standing: Standing, vehicle_type: str) -> Verdict:
    if holds(facts.hotlisted):
        return Verdict(HOLD, "HOTLISTED", standing)
    if facts.session is not None:
        return Verdict(REVIEW, "OPEN_SESSION_EXISTS", standing, facts.session)
    zone = facts.zone
    if (facility.permit_only or (zone is not None and zone.permit_only)) and standing.status != VALID:
        reason = {NONE: "NO_PERMIT", EXPIRED: "PERMIT_EXPIRED"}.get(standing.status, "PERMIT_INVALID")
        return Verdict(HOLD, reason, standing)
    if standing.status != VALID:   # a valid permit holder passes however full it is
        if (facts.occupied or 0) >= facility.capacity:
            return Verdict(HOLD, "FACILITY_FULL", standing)
        if zone is not None and not has_space(zone, vehicle_type, facts.zone_occupied or 0):
            return Verdict(HOLD, "FACILITY_FULL", standing)   # no space of its type in the lane's zone
    reason = "PERMIT_VALID" if standing.status == VALID else "TRANSIENT_ENTRY"
    return Verdict(OPEN, reason, standing, charge=tariffs.ZERO, opens_session=True)


def _exit(facts: LaneFacts, facility: Facility, standing: Standing, event_id: str, when: datetime,
          vehicle_type: str) -> Verdict:
    schedule, session = facts.schedule or tariffs.configured(facility), facts.session
    if holds(facts.hotlisted):
        return Verdict(HOLD, "HOTLISTED", standing, session)
    if session is None:
        if standing.status == VALID:
            return Verdict(OPEN, "PERMIT_VALID", standing)
        return Verdict(HOLD, "NO_ENTRY_RECORD", standing, charge=schedule.lost_ticket(vehicle_type, when))
    if when < session.entry_time:
        raise InvalidTime("exit before the session's entry", "Timestamp")
    if standing.status == VALID:
        return _close(session, standing, event_id, when, tariffs.ZERO, "PERMIT_VALID")
    charge = schedule.fee(session.vehicle_type, session.entry_time, when)
    due = schedule.amount_due(session.vehicle_type, session.entry_time, when, session.amount_paid, session.paid_at)
    charge, due = owed_after_lost_ticket(charge, due, session.amount_paid, facts.lost_charge)
    if due > 0:
        return Verdict(HOLD, "PAYMENT_DUE", standing, session, charge=charge, paid=session.amount_paid)
    return _close(session, standing, event_id, when, charge, "WITHIN_GRACE" if charge == 0 else "PAID")


def _close(session: ParkingSession, standing: Standing, event_id: str, when: datetime, charge: Decimal,
           reason: str) -> Verdict:
    return Verdict(OPEN, reason, standing, session.closed(when, event_id, charge), charge=charge,
                   paid=session.amount_paid, closes_session=True)
