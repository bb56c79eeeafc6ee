"""A lane event decided and recorded once: the same EventID always answers the first outcome.

The hot path: the facts about the plate in one statement, the domain's decision, the writes
(the session, the event, the review, the outbox) on one unit of work, and the ParkingEvent
document built once: it is stored, relayed and returned as it is, never serialised twice.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from ..contract import documents
from ..domain import times
from ..domain.decisions import HOLD, OPEN, REVIEW, DecisionRules, Verdict, decide
from ..domain.errors import Busy, Conflict, InvalidInput
from ..domain.events import LaneEvent, RecordedEvent
from ..domain.facility import Facility, Lane, find_facility
from ..domain.hotlist import SEVERITY
from ..domain.permits import NO_PERMIT, VALID, Standing
from ..domain.plates import normalise_plate
from ..domain.sessions import ParkingSession
from ..domain.tickets import ISSUED, Ticket, TicketCodes
from ..domain.vehicle_types import DEFAULT as DEFAULT_VEHICLE_TYPE
from ..domain.vehicle_types import of_class
from ..store import events, facts, occupancy, reviews, sessions, tickets
from ..store import zones as zone_store
from ..store.engine import Store
from .clock import Clock, new_id
from .fees import schedule_of, shown_tariff
from .relaying import Relaying
from .tariffs import Tariffs
from .zones import SpaceAssignment, Zones, lane_zone, owe_assignment

#: How often a lane event is decided again when what it read changed before it wrote.
ATTEMPTS = 3


class Overtaken(Busy):
    """What a decision read changed before its unit of work wrote (PostgreSQL runs lane events side by
    side; SQLite takes them in turn): roll back and decide again on what is there now. Overtaken
    on every attempt, the caller is told to try again (Server.Busy)."""


@dataclass(slots=True)  # not frozen: on the lane-event path, 2 us a record (nothing changes one)
class Outcome:
    """A decided lane event. ``event`` is the ParkingEvent document, already schema-checked."""
    event_id: str
    event: Any                       # lxml element {urn:parkgate:v1}ParkingEvent
    decision: str
    reason: str
    session_id: str | None
    replayed: bool = False
    frame_of: str | None = None      # recorded as another frame of this (earlier) event
    ticket_number: str | None = None  # the ticket a transient entry issued (none on a replay)

    @property
    def drives_barrier(self) -> bool:
        """Only a decision made now moves a barrier: not a replay, not one more frame."""
        return not self.replayed and self.frame_of is None


class EventRecorder:
    def __init__(self, facilities: Mapping[str, Facility], rules: DecisionRules, store: Store,
                 relaying: Relaying, clock: Clock, ticket_codes: TicketCodes | None = None,
                 tariffs: Tariffs | None = None, zones: Zones | None = None) -> None:
        """``ticket_codes``: every transient entry issues a ticket (numbered with them); ``tariffs``:
        the versions set since start (None: the configured tariffs only); ``zones``: the zones set
        since start (None: as configured)."""
        self.zones = zones
        # Facilities whose last count here was roomy (gateway.store.sessions.roomy): their entries share
        # the facility's turn; the others' take it alone.
        self.roomy: set[str] = set()
        self.ticket_codes = ticket_codes
        self.tariffs = tariffs
        self.facilities = facilities
        self.rules = rules
        self.store = store
        self.relaying = relaying
        self.clock = clock

    def instant(self, when: datetime | None) -> datetime:
        return times.reported(when, self.clock(), self.rules.max_clock_skew, "Timestamp")

    def place(self, ev: LaneEvent) -> tuple[Facility, Lane, datetime]:
        """Where and when the event happened, checked: its facility, its lane, its instant."""
        fac = find_facility(self.facilities, ev.facility_id)
        return fac, fac.lane_of(ev.camera_id, ev.lane_number, ev.direction), self.instant(ev.timestamp)

    @staticmethod
    def replay(done: RecordedEvent, ev: LaneEvent) -> Outcome:
        """The first outcome of ``ev``'s EventID; a Conflict when ``ev`` is another request."""
        if not done.answers(ev):
            raise Conflict(f"EventID {ev.event_id!r} was used for another request", "EventID")
        return Outcome(done.event_id, documents.parse(done.document), done.decision, done.reason, done.session_id,
                       replayed=True)

    def recorded(self, ev: LaneEvent) -> Outcome | None:
        """The replay of ``ev``'s EventID, if it was decided already."""
        with self.store.connection() as conn:
            done = events.by_id(conn, ev.event_id)
        return self.replay(done, ev) if done is not None else None

    def submit(self, ev: LaneEvent) -> Outcome:
        """Decide ``ev`` once (a replayed EventID answers the first outcome)."""
        fac, lane, when = self.place(ev)
        if not ev.plate_text and not ev.unread and not ev.token_refusal:
            raise InvalidInput("PlateText, ImageURL or Image is required", "PlateText")
        plate = normalise_plate(ev.plate_text) if ev.plate_text else None
        # Optimistic: decide and insert; the unique EventID makes a duplicate fail at the
        # insert, which rolls everything back. Then look the first outcome up and replay it
        # (or, after a concurrent entry of the same plate, decide again).
        for attempt in range(ATTEMPTS):
            try:
                with self.store.connection() as conn:
                    if attempt:
                        done = events.by_id(conn, ev.event_id)
                        if done is not None:
                            return self.replay(done, ev)
                    outcome, owed = self.record(conn, fac, lane, ev, plate, when, alone=attempt > 0)
            except (IntegrityError, Overtaken):
                if attempt == ATTEMPTS - 1:
                    raise
            else:
                self.relaying.wake(owed)
                return outcome
        raise AssertionError("unreachable")

    def record(self, conn: Connection, fac: Facility, lane: Lane, ev: LaneEvent, plate: str | None, when: datetime,
               relay_key: str | None = None, queue_review: bool = True, alone: bool = False
               ) -> tuple[Outcome, Sequence[str]]:
        """Decide and write ``ev`` on ``conn``: (its outcome, the relays owed its document). ``alone``: an
        entry takes the facility's turn alone, whatever the last count here said (decided again: it is
        not sent back once more by other entries' counts meanwhile)."""
        hotlisted, occupied, zone_occupied, owed_space = None, None, None, []
        kind = lane.vehicle_type or ev.vehicle_type or of_class(ev.vehicle.vehicle_class if ev.vehicle else None)
        if ev.token_refusal:  # a permit token scanned at the lane that does not admit (issue 17)
            verdict = Verdict(HOLD, ev.token_refusal, NO_PERMIT)
        elif plate is None:
            verdict = Verdict(REVIEW, ev.unread or "NO_PLATE_READ", NO_PERMIT)
        else:
            entry = ev.direction == "ENTRY"
            zone = lane_zone(self.zones, conn, fac, lane) if entry else None
            # The facility's spaces, then the zone's, counted and taken in turn with every other node's
            # entries (the facility's turn shared while its last count was roomy). So too where its
            # capacity is its zones' sum: a permit holder passes a full zone, so the facility-wide
            # count can refuse an entry that its zone's admits.
            shared = entry and not alone and fac.id in self.roomy
            if entry:
                sessions.take_turn(conn, fac.id, shared)
            if zone is not None:
                zone_store.take_turn(conn, fac.id, zone.id)
            known = facts.of_plate(conn, fac.id, plate, ev.direction, when, zone.id if zone else None, kind)
            if entry and sessions.roomy(conn, fac.capacity, known.occupied or 0):
                self.roomy.add(fac.id)
            elif entry:
                self.roomy.discard(fac.id)
                if shared:
                    raise Overtaken("the facility's last spaces: counted again in turn")
            known.zone = zone
            hotlisted, occupied, zone_occupied = known.hotlisted, known.occupied, known.zone_occupied
            if self.tariffs is not None and ev.direction != "ENTRY":
                known.schedule = self.tariffs.schedule(fac.id, conn)
            verdict = decide(known, fac, self.rules, ev.event_id, ev.direction, when, ev.confidence, kind,
                             ev.image_match)
        session, ticket = verdict.session, None
        if verdict.opens_session:
            assert plate is not None
            permit = verdict.standing.permit if verdict.standing.status == VALID else None
            session = ParkingSession(
                id=new_id("S", when), facility_id=fac.id, plate=plate, status="OPEN", entry_time=when,
                exit_time=None, entry_event_id=ev.event_id, exit_event_id=None, lane_number=lane.number,
                jurisdiction=ev.jurisdiction, country=ev.country, space_assigned=ev.space_assigned,
                permit_number=permit.permit_number if permit else None, amount_charged=None,
                amount_paid=Decimal("0"), paid_at=None, vehicle_type=kind, zone_id=lane.zone,
                entry_image=ev.picture)
            sessions.insert(conn, session)
            inside = occupied + 1 if occupied is not None else sessions.occupied(conn, fac.id)
            occupancy.count(conn, fac.id, when, inside, entered=True)
            if lane.zone is not None:   # issue 16: counted into the lane's zone, and its space assigned
                zone_store.count(conn, fac.id, lane.zone, kind, when, entered=True,
                                 inside=zone_occupied + 1 if zone_occupied is not None else None)
                owed_space = owe_assignment(self.relaying, conn, SpaceAssignment(
                    f"{ev.event_id}:SPA", session, lane.zone, session.space_assigned, when, f"lane {lane.number}"))
            if permit is None and self.ticket_codes is not None:
                ticket = Ticket(facility_id=fac.id, number=self.ticket_codes.new_number(fac.id), session_id=session.id,
                                issued_at=when, lane_number=lane.number, state=ISSUED,
                                vehicle_type=kind)
                tickets.insert(conn, ticket)
        elif verdict.closes_session:
            assert session is not None
            if not sessions.close(conn, session):
                raise Overtaken("the session was closed meanwhile")
            occupancy.count(conn, fac.id, when, sessions.occupied(conn, fac.id), entered=False,
                            stay_seconds=max(int((when - session.entry_time).total_seconds()), 0))
            if session.zone_id is not None:
                zone_store.count(conn, fac.id, session.zone_id, session.vehicle_type, when, entered=False)
        if ev.picture is not None and ev.direction != "ENTRY" and session is not None:
            sessions.pictured_at_exit(conn, session.id, ev.picture, ev.image_match)
        event, text = self.write(conn, fac, lane, ev, when, plate, ev.confidence, verdict.decision, verdict.reason,
                                 verdict.standing, session, verdict.charge, verdict.paid, vehicle_type=kind)
        if verdict.decision == REVIEW and queue_review:
            reviews.insert(conn, event_id=ev.event_id, facility_id=fac.id, camera_id=ev.camera_id,
                           direction=ev.direction, occurred_at=when, reason=verdict.reason, plate=plate,
                           confidence=ev.confidence, image=ev.image, image_url=ev.image_url, created_at=self.clock())
        owed = self.relaying.owe(conn, "ParkingEvent", relay_key or ev.event_id, fac.id, text,
                                 provisional=verdict.decision == REVIEW and queue_review)
        if owed_space:
            owed = [*owed, *owed_space]
        if hotlisted is not None and (verdict.decision != REVIEW or not queue_review):
            # A listed plate read surely (or as a person confirmed it): the VMS is told, once per event.
            assert plate is not None
            alert = documents.security_event(ev.event_id, hotlisted, SEVERITY[hotlisted], plate, fac.id,
                                             ev.camera_id, when, ev.image_url, verdict.decision)
            owed = [*owed, *self.relaying.owe(conn, "SecurityEvent", f"{ev.event_id}:SEC", fac.id,
                                              documents.serialize(alert))]
        return Outcome(ev.event_id, event, verdict.decision, verdict.reason, session.id if session else None,
                       ticket_number=ticket.number if ticket else None), owed

    def write(self, conn: Connection, fac: Facility, lane: Lane, ev: LaneEvent, when: datetime, plate: str | None,
              confidence: Decimal | None, decision: str, reason: str, standing: Standing,
              session: ParkingSession | None, charge: Decimal | None = None,
              paid: Decimal | None = None, vehicle_type: str | None = None) -> tuple[Any, str]:
        """The event's ParkingEvent document, built and recorded with the outcome: (element, text).
        Its Charges show the session's tariff (:func:`~gateway.app.fees.shown_tariff`); with no
        session, the one of ``vehicle_type`` (the vehicle at the lane) in force at ``when``."""
        shown = (confidence if confidence is not None else Decimal("1")) if plate else Decimal("0")
        tariff = None
        if charge is not None:
            schedule = schedule_of(self.tariffs, fac, conn)
            tariff = shown_tariff(schedule, session) if session is not None \
                else schedule.in_force(vehicle_type or DEFAULT_VEHICLE_TYPE, when)
        event = documents.parking_event(
            ev.event_id, when, fac, lane, ev.camera_id, ev.direction, plate, shown, ev.jurisdiction, ev.country,
            ev.vehicle, session_rec=session, authorization_of=(standing.status, standing.permit, decision == OPEN),
            charge=charge, paid=paid, tariff=tariff, image_url=ev.image_url)
        text = documents.serialize(event).decode()
        events.insert(conn, event_id=ev.event_id, facility_id=fac.id, camera_id=ev.camera_id, direction=ev.direction,
                      occurred_at=when, recorded_at=self.clock(), plate=plate, confidence=confidence,
                      decision=decision, reason=reason, session_id=session.id if session else None, document=text,
                      fingerprint=ev.fingerprint)
        return event, text
