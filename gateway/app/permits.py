"""Permits: looked up at an instant, issued, revoked, listed. Each change is owed to the relays."""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from ..contract import documents
from ..domain import times
from ..domain.errors import Conflict, InvalidInput, InvalidTime, NotFound
from ..domain.facility import Facility, find_facility
from ..domain.permits import ACTIVE, REVOKED, Permit, Standing, judge
from ..domain.plates import normalise_plate
from ..store import audit, permits
from ..store.engine import Store
from .clock import Clock, new_id
from .relaying import Relaying


class Permits:
    def __init__(self, facilities: Mapping[str, Facility], store: Store, relaying: Relaying, clock: Clock) -> None:
        self.facilities = facilities
        self.store = store
        self.relaying = relaying
        self.clock = clock

    def lookup(self, plate: str, facility_id: str, at: datetime | None = None, username: str = "system") -> Standing:
        """The plate's standing in the facility at ``at`` (any instant, past or future; default now).
        A plate query: audited."""
        fac = find_facility(self.facilities, facility_id)
        plate = normalise_plate(plate, "Plate")
        when = times.aware(at, "At") if at is not None else self.clock()
        with self.store.connection() as conn:
            standing = judge(permits.of_plate_here(conn, plate, fac.id), fac.timezone, when)
            audit.record(conn, self.clock(), username, "LookupPermit", fac.id, standing.status, plate=plate)
        return standing

    def issue(self, plate: str, permit_type: str, valid_from: date, valid_until: date, username: str,
              facility_id: str | None = None, permit_number: str | None = None) -> Any:
        """The Permit document of the permit issued."""
        plate = normalise_plate(plate, "Plate")
        if facility_id is not None:
            find_facility(self.facilities, facility_id)
        if valid_until < valid_from:
            raise InvalidTime("ValidUntil is before ValidFrom", "ValidUntil")
        now = self.clock()
        permit = Permit(permit_number=permit_number or new_id("PRMT", now), plate=plate, facility_id=facility_id,
                        permit_type=permit_type, valid_from=valid_from, valid_until=valid_until, state=ACTIVE,
                        issued_at=now)
        document = documents.permit(permit)
        try:
            with self.store.connection() as conn:
                if permits.get(conn, permit.permit_number) is not None:
                    raise Conflict("that permit number is taken", "PermitNumber")
                permits.insert(conn, permit)
                audit.record(conn, now, username, "IssuePermit", permit.permit_number, permit_type, plate=plate)
                owed = self.relaying.owe(conn, "Permit", f"{permit.permit_number}:ACTIVE", facility_id,
                                         documents.serialize(document))
        except IntegrityError:
            raise Conflict("that permit number is taken", "PermitNumber") from None
        self.relaying.wake(owed)
        return document

    def revoke(self, permit_number: str, reason: str, username: str) -> Any:
        """The Permit document of the permit revoked."""
        with self.store.connection() as conn:
            permit = permits.get(conn, permit_number, for_update=True)  # revoked once, by one caller
            if permit is None:
                raise NotFound("no such permit", "PermitNumber")
            if permit.state == REVOKED:
                raise Conflict("the permit is already revoked", "PermitNumber")
            now = self.clock()
            permit = permit.revoked(now, reason)
            permits.revoke(conn, permit)
            audit.record(conn, now, username, "RevokePermit", permit_number, reason, plate=permit.plate)
            document = documents.permit(permit)
            owed = self.relaying.owe(conn, "Permit", f"{permit_number}:REVOKED", permit.facility_id,
                                     documents.serialize(document))
        self.relaying.wake(owed)
        return document

    def listing(self, plate: str | None = None, facility_id: str | None = None,
                username: str = "system") -> list[Permit]:
        """By plate, facility or both; audited (with the plate's hash when by plate, and those of the
        plates it shows, so "who looked at plate X" finds a facility's listing too)."""
        if not plate and not facility_id:
            raise InvalidInput("give a Plate, a FacilityID or both", "Plate")
        if facility_id:
            find_facility(self.facilities, facility_id)
        plate = normalise_plate(plate, "Plate") if plate else None
        with self.store.connection() as conn:
            found = permits.listing(conn, plate, facility_id)
            audit.record(conn, self.clock(), username, "ListPermits", facility_id or "*",
                         f"{'by plate, ' if plate else ''}{len(found)} found", plate=plate,
                         plates=[p.plate for p in found])
        return found
