"""Tickets at the booth and the exit: look one up, print it, exit by it, process a lost one,
and the vehicles that stayed overnight. Transport-free: the SOAP services, the CLI and the
console call these and get typed results."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain import times
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.events import LaneEvent
from ..domain.facility import Facility, find_facility
from ..domain.plates import normalise_plate
from ..domain.sessions import CLOSED, ParkingSession
from ..domain.tariffs import Schedule, TariffVersion
from ..domain.tickets import (
    ISSUED,
    LOST,
    USED,
    LostTicket,
    Ticket,
    TicketCodes,
    lost_ticket_charge,
)
from ..store import audit, sessions, shifts, tickets
from ..store.engine import Store
from . import printouts
from .clock import Clock, new_id
from .fees import owed, schedule_of, shown_tariff
from .lanes import Decided, Lanes
from .recording import EventRecorder


@dataclass(frozen=True)
class TicketView:
    """A ticket as of now: its session, what it owes, its state (USED once its session closed)."""
    ticket: Ticket
    facility: Facility
    session: ParkingSession
    code: str                        # what its QR code carries
    state: str
    charge: Decimal
    due: Decimal
    tariff: TariffVersion            # what its Charges show (gateway.app.fees.shown_tariff)


@dataclass(frozen=True)
class TicketExit:
    decided: Decided
    ticket: Ticket
    plate_matches: bool
    entry_image_url: str | None
    entry_image: bytes | None


@dataclass(frozen=True)
class LostTicketOutcome:
    lost: LostTicket
    session: ParkingSession
    due: Decimal
    entry_image_url: str | None
    entry_image: bytes | None


@dataclass(frozen=True)
class OvernightVehicle:
    session: ParkingSession
    ticket: Ticket | None
    cutoff: datetime                 # the first cut-off it stayed past


def overnight_vehicles(conn: Any, fac: Facility, schedule: Schedule, at: datetime,
                       limit: int) -> list[OvernightVehicle]:
    """Vehicles still in at ``at`` that stayed overnight, oldest first: past a cut-off of their tariff
    (the one its overnight charge counts) or, where it has none, the operator's
    (:meth:`~gateway.domain.tariffs.Schedule.last_overnight`)."""
    operator = fac.policy.overnight_cutoff
    found = tickets.open_entered_before(conn, fac.id, schedule.last_overnights(at, operator), limit)
    return [OvernightVehicle(s, t, schedule.first_overnight(s.vehicle_type, s.entry_time, operator))
            for s, t in found]


@dataclass(frozen=True)
class Printout:
    content: bytes
    media_type: str
    file_name: str


class Tickets:
    def __init__(self, *, facilities: Mapping[str, Facility], store: Store, codes: TicketCodes, clock: Clock,
                 recorder: EventRecorder | None = None, lanes: Lanes | None = None, tariffs: Any = None) -> None:
        """``recorder`` and ``lanes``: for exits by ticket (a command line that prints has neither);
        ``tariffs``: the versions set since start (issue 16 part A; None: as configured)."""
        self.tariffs = tariffs
        self.facilities = facilities
        self.store = store
        self.codes = codes
        self.recorder = recorder
        self.lanes = lanes
        self.clock = clock

    def _number(self, facility_id: str | None, number: str | None, code: str | None) -> tuple[str, str]:
        if code:
            return self.codes.scanned(code)
        if not facility_id or not number:
            raise InvalidInput("give a TicketCode, or a FacilityID and a TicketNumber", "TicketNumber")
        find_facility(self.facilities, facility_id)
        return facility_id, self.codes.verify(facility_id, number)

    def _view(self, conn, facility_id: str, number: str) -> TicketView:
        ticket = tickets.get(conn, facility_id, number)
        if ticket is None:
            raise NotFound("no such ticket", "TicketNumber")
        session = sessions.get(conn, ticket.session_id)
        assert session is not None
        fac = find_facility(self.facilities, facility_id)
        charge, due = owed(fac, session, self.clock(), tickets.lost_of_session(conn, session.id),
            tariffs=self.tariffs, conn=conn)
        state = USED if session.status == CLOSED and ticket.state == ISSUED else ticket.state
        return TicketView(ticket, fac, session, self.codes.code(facility_id, number), state, charge, due,
                          shown_tariff(schedule_of(self.tariffs, fac, conn), session))

    def get(self, facility_id: str | None = None, number: str | None = None, code: str | None = None,
            username: str = "system") -> TicketView:
        facility_id, number = self._number(facility_id, number, code)
        with self.store.connection() as conn:
            view = self._view(conn, facility_id, number)
            audit.record(conn, self.clock(), username, "GetTicket", view.session.id, "by ticket",
                         plate=view.session.plate, kind="QUERY")
        return view

    def of_session(self, session_id: str) -> Ticket | None:
        with self.store.connection() as conn:
            return tickets.of_session(conn, session_id)

    def entry_picture(self, session_id: str) -> tuple[str | None, bytes | None]:
        """The picture a session's entry was decided on (its URL, and the image where one was kept),
        for the exit page to show beside the vehicle at the exit."""
        with self.store.connection() as conn:
            session = sessions.get(conn, session_id)
            if session is None:
                raise NotFound("no such session", "SessionID")
            return tickets.entry_image(conn, session.entry_event_id)

    def printout(self, facility_id: str | None = None, number: str | None = None, code: str | None = None,
                 media: str = "pdf") -> Printout:
        """The ticket as printed at the entry: PDF or PNG at receipt-printer width."""
        view = self.get(facility_id, number, code)
        return Printout(printouts.ticket(view, media), printouts.media_type(media),
                        f"ticket-{view.ticket.number}.{media}")

    def exit_by(self, *, event_id: str, facility_id: str, camera_id: str, timestamp: datetime | None,
                number: str | None = None, code: str | None = None, plate: str | None = None,
                confidence: Decimal | None = None, image: bytes | None = None, image_url: str | None = None,
                lane_number: int | None = None) -> TicketExit:
        """An exit by the scanned ticket (with or without a plate reading). A plate that is not the
        ticket's sends the exit to a person (REVIEW), with both pictures."""
        fac_id, number = self._number(facility_id if not code else None, number, code)
        if fac_id != facility_id:
            raise InvalidInput("the ticket is of another facility", "TicketCode")
        with self.store.connection() as conn:
            view = self._view(conn, fac_id, number)
            entry_url, entry_image = tickets.entry_image(conn, view.session.entry_event_id)
        if view.state != ISSUED:
            raise Conflict(f"the ticket is {view.state}", "TicketNumber")
        read = normalise_plate(plate, "PlateText") if plate else None
        matches = read is None or read == view.session.plate
        ev = LaneEvent(event_id=event_id, facility_id=facility_id, camera_id=camera_id, direction="EXIT",
                       timestamp=times.aware(timestamp, "Timestamp") if timestamp else self.clock(),
                       lane_number=lane_number, image=image, image_url=image_url,
                       plate_text=view.session.plate if matches else None,
                       confidence=Decimal("1") if matches else confidence,
                       unread=None if matches else "TICKET_PLATE_MISMATCH")
        assert self.recorder is not None and self.lanes is not None, "exits need the lanes"
        decided = self.lanes.after_decision(self.recorder.submit(ev))
        return TicketExit(decided, view.ticket, matches, entry_url, entry_image)

    def lost(self, facility_id: str, plate: str, reason: str, username: str) -> LostTicketOutcome:
        """The officer gives the plate: its open session, the entry picture to compare, the charge
        by the facility's policy; recorded with who and why."""
        if not reason or not reason.strip():
            raise InvalidInput("say why (the driver's account)", "Reason")
        fac = find_facility(self.facilities, facility_id)
        number = normalise_plate(plate, "Plate")
        now = self.clock()
        with self.store.connection() as conn:
            session = sessions.of_plate(conn, fac.id, number, for_update=True)
            if session is None or session.status != "OPEN":   # the answer says it is not parked: audited
                audit.record(conn, now, username, "ProcessLostTicket", fac.id, "no vehicle of this plate is in",
                             plate=number, kind="QUERY")
                recorded = None
            else:
                recorded = self._record_lost(conn, fac, session, number, reason.strip()[:1000], username, now)
        if recorded is None:   # raised once the query's entry is committed
            raise NotFound("no vehicle of this plate is in the facility", "Plate")
        lost, stay, entry_url, entry_image = recorded
        _, due = owed(fac, stay, now, lost, tariffs=self.tariffs)
        return LostTicketOutcome(lost, stay, due, entry_url, entry_image)

    def _record_lost(self, conn: Any, fac: Facility, session: ParkingSession, number: str, reason: str, username: str,
                     now: datetime) -> tuple[LostTicket, ParkingSession, str | None, bytes | None]:
        if tickets.lost_of_session(conn, session.id) is not None:
            raise Conflict("a lost ticket was processed for this stay already", "Plate")
        fee, _ = owed(fac, session, now, tariffs=self.tariffs, conn=conn)
        lost_amount = schedule_of(self.tariffs, fac, conn).lost_ticket(session.vehicle_type, now)
        charge = lost_ticket_charge(fac.policy.lost_ticket, lost_amount, fee)
        ticket = tickets.of_session(conn, session.id)
        if ticket is not None:
            tickets.close(conn, ticket, LOST, now)
        shift = shifts.open_of(conn, username)
        lost = LostTicket(id=new_id("LOST", now), facility_id=fac.id, session_id=session.id,
                          ticket_number=ticket.number if ticket else None, at=now, recorded_by=username,
                          reason=reason, policy=fac.policy.lost_ticket, charge=charge,
                          currency=fac.currency, shift_id=shift.id if shift else None)
        tickets.insert_lost(conn, lost)
        audit.record(conn, now, username, "ProcessLostTicket", session.id,
                     f"{charge} {fac.currency} by {fac.policy.lost_ticket}: {lost.reason}"[:1000], plate=number)
        entry_url, entry_image = tickets.entry_image(conn, session.entry_event_id)
        return lost, session, entry_url, entry_image

    def overnight(self, facility_id: str, at: datetime | None = None, limit: int = 1000,
                  username: str = "system") -> list[OvernightVehicle]:
        """Vehicles still in that stayed overnight (as of ``at``): :func:`overnight_vehicles`. Audited
        with the plates shown (found by each)."""
        fac = find_facility(self.facilities, facility_id)
        at = times.aware(at, "AsOf") if at is not None else self.clock()
        if not 1 <= limit <= 10_000:
            raise InvalidInput("a limit is 1 to 10000", "Limit")
        with self.store.connection() as conn:
            found = overnight_vehicles(conn, fac, schedule_of(self.tariffs, fac, conn), at, limit)
            audit.record(conn, self.clock(), username, "ListOvernightVehicles", fac.id, f"{len(found)} found",
                         kind="QUERY", plates=[v.session.plate for v in found])
        return found
