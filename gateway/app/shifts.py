"""Officers' shifts: opened with a float, closed with the cash counted per method, reported
(expected against declared) and signed off by a supervisor."""

from collections.abc import Collection, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from ..domain.errors import Conflict, NotFound, NotPermitted
from ..domain.facility import Facility, find_facility
from ..domain.payments import checked_currency, checked_method
from ..domain.shifts import CLOSED, OPEN, SIGNED, Shift, ShiftReport, declared_amounts, report
from ..domain.shifts import opening_float as checked_float
from ..store import audit, payments, shifts, tickets
from ..store.engine import Store
from . import printouts
from .clock import Clock, new_id
from .fees import schedule_of
from .tickets import Printout, overnight_vehicles


class Shifts:
    def __init__(self, *, facilities: Mapping[str, Facility], store: Store, clock: Clock, tariffs: Any = None) -> None:
        """``tariffs``: the versions set since start (None: as configured): whose cut-offs the report's
        overnight count is by."""
        self.tariffs = tariffs
        self.facilities = facilities
        self.store = store
        self.clock = clock

    def open(self, officer: str, facility_id: str, opening_float: Decimal, lane_number: int | None = None,
             booth: str | None = None, currency: str | None = None) -> Shift:
        """One open shift per officer; the float in the facility's currency (``currency``: as given)."""
        fac = find_facility(self.facilities, facility_id)
        checked_currency([currency] if currency else [], fac.currency, "OpeningFloat")
        if lane_number is not None:
            fac.lane_numbered(lane_number)
        opening_float = checked_float(opening_float)
        now = self.clock()
        shift = Shift(id=new_id("SHIFT", now), officer=officer, facility_id=fac.id, lane_number=lane_number,
                      booth=booth, currency=fac.currency, opening_float=opening_float, opened_at=now, state=OPEN)
        try:
            with self.store.connection() as conn:
                if shifts.open_of(conn, officer) is not None:
                    raise Conflict("this officer has a shift open already", "Officer")
                shifts.insert(conn, shift)
                audit.record(conn, now, officer, "OpenShift", shift.id, f"float {opening_float} {fac.currency}")
        except IntegrityError:
            raise Conflict("this officer has a shift open already", "Officer") from None
        return shift

    def close(self, officer: str, declared: Mapping[str, Decimal], note: str | None = None,
              currencies: Collection[str] = ()) -> ShiftReport:
        """``currencies``: those the amounts were given in (the shift's, or refused)."""
        counted = declared_amounts({checked_method(m): a for m, a in declared.items()})
        now = self.clock()
        with self.store.connection() as conn:
            shift = shifts.open_of(conn, officer, for_update=True)
            if shift is None:
                raise NotFound("this officer has no open shift", "Officer")
            checked_currency(currencies, shift.currency, "Declared")
            closed = replace(shift, state=CLOSED, closed_at=now, declared=counted, note=note)
            shifts.save(conn, closed)
            audit.record(conn, now, officer, "CloseShift", shift.id,
                         ", ".join(f"{m} {a}" for m, a in counted.items()))
            return self._report(conn, closed)

    def report(self, username: str, role: str, shift_id: str | None = None) -> ShiftReport:
        """A shift's report (default: the caller's open, else latest, shift). Officers see their own."""
        with self.store.connection() as conn:
            shift = shifts.get(conn, shift_id) if shift_id else \
                (shifts.open_of(conn, username) or shifts.latest_of(conn, username))
            if shift is None:
                raise NotFound("no such shift", "ShiftID")
            if role != "admin" and shift.officer != username:
                raise NotPermitted()
            return self._report(conn, shift)

    def printout(self, username: str, role: str, shift_id: str | None = None, paper: str = "receipt") -> Printout:
        """The report as a PDF on receipt-printer paper or A4 (who may read it: as :meth:`report`)."""
        printouts.checked_paper(paper)
        return self.printed(self.report(username, role, shift_id), paper)

    def printed(self, report: ShiftReport, paper: str = "receipt") -> Printout:
        """``report`` (as :meth:`report` gave it) as a PDF on receipt or a4 paper."""
        paper = printouts.checked_paper(paper)
        content = printouts.shift_report(report, find_facility(self.facilities, report.shift.facility_id), paper)
        return Printout(content, printouts.media_type("pdf"), f"shift-{report.shift.id}-{paper}.pdf")

    def sign_off(self, shift_id: str, supervisor: str, role: str, note: str | None = None) -> ShiftReport:
        if role != "admin":
            raise NotPermitted()
        now = self.clock()
        with self.store.connection() as conn:
            shift = shifts.get(conn, shift_id, for_update=True)
            if shift is None:
                raise NotFound("no such shift", "ShiftID")
            if shift.state != CLOSED:
                raise Conflict(f"only a closed shift is signed off (this one is {shift.state})", "ShiftID")
            if shift.officer == supervisor:
                raise Conflict("a supervisor signs off someone else's shift", "ShiftID")
            signed = replace(shift, state=SIGNED, signed_by=supervisor, signed_at=now,
                             note="\n".join(n for n in (shift.note, note) if n) or None)
            shifts.save(conn, signed)
            audit.record(conn, now, supervisor, "SignOffShift", shift.id, note)
            return self._report(conn, signed)

    def _report(self, conn, shift: Shift) -> ShiftReport:
        fac = find_facility(self.facilities, shift.facility_id)
        at = shift.closed_at or self.clock()
        overnight = len(overnight_vehicles(conn, fac, schedule_of(self.tariffs, fac, conn), at, 10_000))
        lost = [lt.charge for lt in tickets.lost_of_shift(conn, shift.id)]
        return report(shift, payments.of_shift(conn, shift.id), lost, overnight)
