"""The parking logic: lane events become sessions, decisions and charges.

Protocol-free: the SOAP services translate to and from these calls. Every method runs one
database transaction and blocks, so the server calls it from a request thread. Time comes
from the injected ``clock`` so tests decide what "now" is.
"""

import secrets
from types import SimpleNamespace
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import (LABEL_STYLE_TABLENAME_PLUS_COL, and_, bindparam, delete, exists, func, insert,
                        literal_column, or_, select, update)
from sqlalchemy.exc import IntegrityError

from . import documents, tariffs
from .errors import Busy, Conflict, InvalidInput, InvalidTime, NotFound, UnknownFacility, UnknownLane
from .plates import normalise_plate
from .soap import types as t
from .store import (AuditEntry, CitationRecord, HotlistEntry, LaneEventRecord, LaneIncident, ParkingSession,
                    Payment, PermitRecord, Prepared, Review)

OPEN, HOLD, REVIEW = "OPEN", "HOLD", "REVIEW"
VALID, EXPIRED, INVALID, NONE = "VALID", "EXPIRED", "INVALID", "NONE"
_FAR_PAST = timedelta(days=366)
_EVENTS, _SESSIONS = LaneEventRecord.__table__, ParkingSession.__table__
_PERMITS, _HOTLIST = PermitRecord.__table__, HotlistEntry.__table__

# The statements of the lane-event path, built once: SQLAlchemy then compiles each once and
# reuses it, instead of building and hashing a new statement on every event. Those every event
# runs are Prepared (gateway.store): compiled once, run on the DBAPI cursor.
_EVENT_BY_ID = select(_EVENTS.c.document, _EVENTS.c.decision, _EVENTS.c.reason, _EVENTS.c.session_id).where(
    _EVENTS.c.event_id == bindparam("event_id"))
_OPEN = literal_column("'OPEN'")  # a literal, as in the partial index's WHERE, so planners can use it


def _applies_here(table):
    """Rows of ``table`` (permits, hotlist) about the plate bound as ``plate`` that apply in the
    facility bound as ``facility_id``: its own, and those of every facility (no facility_id)."""
    return and_(table.c.plate == bindparam("plate"),
                or_(table.c.facility_id == bindparam("facility_id"), table.c.facility_id.is_(None)))


_PERMITS_OF_PLATE = select(_PERMITS).where(_applies_here(_PERMITS))
_OCCUPIED = select(func.count()).select_from(_SESSIONS).where(
    _SESSIONS.c.facility_id == bindparam("facility_id"), _SESSIONS.c.status == _OPEN)


def _plate_here_statement(occupancy):
    """What a lane decision reads about a plate in a facility, in one statement (one round trip):
    whether it is hotlisted, the plate's open session there and its permits, one row per permit
    (at least one row); with ``occupancy``, also the facility's count of open sessions (entries
    need it; counting on every exit would cost large facilities for nothing)."""
    facts = [exists().where(_applies_here(_HOTLIST)).label("hotlisted")]
    if occupancy:
        facts.append(_OCCUPIED.scalar_subquery().label("occupied"))
    facts = select(*facts).subquery("facts")
    session, permit = _SESSIONS.alias("open_session"), _PERMITS.alias("permit")
    joined = facts.outerjoin(session, and_(session.c.facility_id == bindparam("facility_id"),
                                           session.c.plate == bindparam("plate"), session.c.status == _OPEN)) \
        .outerjoin(permit, _applies_here(permit))
    return select(facts, session, permit).select_from(joined).set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)


_PLATE_HERE = {"ENTRY": Prepared(_plate_here_statement(occupancy=True)),
               "EXIT": Prepared(_plate_here_statement(occupancy=False))}
_SESSION_KEYS = [(f"open_session_{c.name}", c.name) for c in _SESSIONS.c]
_PERMIT_KEYS = [(f"permit_{c.name}", c.name) for c in _PERMITS.c]
# Only a session still open is closed: of two exits racing for one session, one closes it.
_CLOSE_SESSION = Prepared(
    update(_SESSIONS).where(_SESSIONS.c.id == bindparam("session_id"), _SESSIONS.c.status == _OPEN),
    ["session_id", "status", "exit_time", "exit_event_id", "amount_charged"])
_REVIEWS = Review.__table__
_INSERT_SESSION = Prepared(insert(_SESSIONS), _SESSIONS.c.keys())
_INSERT_EVENT = Prepared(insert(_EVENTS), [key for key in _EVENTS.c.keys() if key != "id"])  # id: the database's
_ATTEMPTS = 3


class _Overtaken(Busy):
    """What a decision read changed before its transaction wrote (PostgreSQL runs lane events side by
    side; SQLite takes them in turn): roll back and decide again on what is there now. Overtaken
    on every attempt, the caller is told to try again (Server.Busy)."""


def utcnow():
    return datetime.now(timezone.utc)


def new_id(prefix, when):
    return f"{prefix}-{when:%Y%m%d}-{secrets.token_hex(5).upper()}"


@dataclass(frozen=True)
class LaneEvent:
    """A lane event as submitted: who saw which plate where, and when."""
    event_id: str
    facility_id: str
    camera_id: str
    direction: str
    timestamp: datetime
    plate_text: str | None = None
    confidence: Decimal | None = None
    lane_number: int | None = None
    jurisdiction: str | None = None
    country: str | None = None
    image_url: str | None = None
    image: bytes | None = None
    vehicle: t.VehicleAttributes | None = None
    space_assigned: str | None = None
    unread: str | None = None  # why its picture gave no plate (then the event goes to REVIEW)


@dataclass(frozen=True)
class Outcome:
    """A decided lane event. ``event`` is the ParkingEvent document, already schema-checked:
    it is stored, relayed and returned as it is, never serialised twice."""
    event_id: str
    event: object  # lxml element {urn:parkgate:v1}ParkingEvent
    decision: str
    reason: str
    session_id: str | None
    replayed: bool = False
    frame_of: str | None = None   # recorded as another frame of this (earlier) event

    @property
    def drives_barrier(self):
        """Only a decision made now moves a barrier: not a replay, not one more frame."""
        return not self.replayed and self.frame_of is None


@dataclass(frozen=True)
class _PlateHere:
    """What is known about a plate in a facility when a lane event is decided."""
    hotlisted: bool
    occupied: int | None              # open sessions in the facility (read for entries only)
    session: SimpleNamespace | None   # the plate's open session there (a sessions row)
    permits: list                     # the plate's permits there (permits rows)


def _judge_permits(permits, fac, when):
    """(status, permit) of a plate with these permits at an instant, judged on the facility's dates."""
    if not permits:
        return NONE, None
    day = when.astimezone(fac.timezone).date()
    active = [p for p in permits if p.state == "ACTIVE"]
    current = [p for p in active if p.valid_from <= day <= p.valid_until]
    if current:
        return VALID, max(current, key=lambda p: p.valid_until)
    lapsed = [p for p in active if p.valid_until < day]
    if lapsed:
        return EXPIRED, max(lapsed, key=lambda p: p.valid_until)
    return INVALID, max(permits, key=lambda p: p.issued_at)


@dataclass
class _Verdict:
    decision: str
    reason: str
    session: SimpleNamespace | None = None  # a sessions row
    charge: Decimal | None = None
    paid: Decimal | None = None


class Parking:
    def __init__(self, config, store, clock=utcnow, outbox=None, notify=None):
        self.config = config
        self.store = store
        self.clock = clock
        self.outbox = outbox          # documents owed to relays, written in the same transaction
        self.notify = notify          # callable(destination names), after the commit

    # --- look-ups shared by the operations ------------------------------------------

    def facility(self, facility_id):
        try:
            return self.config.facilities[facility_id]
        except KeyError:
            raise UnknownFacility(f"unknown facility {facility_id!r}", "FacilityID") from None

    def _lane(self, fac, camera_id, lane_number, direction):
        lane = fac.lanes.get(camera_id)
        if lane is None or (lane_number is not None and lane_number != lane.number):
            raise UnknownLane(f"no lane with camera {camera_id!r} in {fac.id}", "CameraID")
        if lane.direction not in ("BOTH", direction):
            raise InvalidInput(f"lane {lane.number} of {fac.id} is an {lane.direction} lane", "Direction")
        return lane

    def instant(self, when):
        return self._instant(when, "Timestamp")

    def _instant(self, when, field):
        """A reported time: timezone-aware, not in the future beyond the allowed clock skew."""
        if when is None:
            return self.clock()
        if when.tzinfo is None:
            raise InvalidTime("times must carry a timezone (e.g. 2025-01-22T14:30:45Z)", field)
        when = when.astimezone(timezone.utc)
        now = self.clock()
        if when > now + self.config.max_clock_skew:
            raise InvalidTime("time is in the future", field)
        if when < now - _FAR_PAST:
            raise InvalidTime("time is more than a year in the past", field)
        return when

    def permit_status(self, db, plate, fac, when):
        """(status, permit row) of a plate in a facility at an instant."""
        return _judge_permits(db.execute(_PERMITS_OF_PLATE, {"plate": plate, "facility_id": fac.id}).all(),
                              fac, when)

    def _occupied(self, db, fac_id):
        return db.execute(_OCCUPIED, {"facility_id": fac_id}).scalar_one()

    def _plate_here(self, db, fac, plate, direction):
        rows = _PLATE_HERE[direction].rows(db, {"plate": plate, "facility_id": fac.id})
        first = rows[0]
        session = None
        if first["open_session_id"] is not None:
            session = SimpleNamespace(**{name: first[key] for key, name in _SESSION_KEYS})
        permits = [SimpleNamespace(**{name: row[key] for key, name in _PERMIT_KEYS})
                   for row in rows if row["permit_permit_number"] is not None]
        return _PlateHere(first["facts_hotlisted"], first.get("facts_occupied"), session, permits)

    # --- lane events ----------------------------------------------------------------
    #
    # The hot path: plain SQL statements (SQLAlchemy Core, Prepared) on the transaction's
    # connection and a document built once. ORM objects appear only as detached value holders.

    def submit_event(self, ev):
        """Decide a lane event once: the same EventID always returns the first outcome."""
        fac = self.facility(ev.facility_id)
        lane = self._lane(fac, ev.camera_id, ev.lane_number, ev.direction)
        when = self._instant(ev.timestamp, "Timestamp")
        if not ev.plate_text and not ev.unread:
            raise InvalidInput("PlateText, ImageURL or Image is required", "PlateText")
        plate = normalise_plate(ev.plate_text) if ev.plate_text else None
        # Optimistic: decide and insert; the unique EventID makes a duplicate fail at the
        # insert, which rolls everything back. Then look the first outcome up and replay it
        # (or, after a concurrent entry of the same plate, decide again).
        for attempt in range(_ATTEMPTS):
            try:
                with self.store.connection() as conn:
                    if attempt:
                        done = conn.execute(_EVENT_BY_ID, {"event_id": ev.event_id}).first()
                        if done is not None:
                            return Outcome(ev.event_id, documents.parse(done.document), done.decision,
                                           done.reason, done.session_id, replayed=True)
                    outcome, owed = self._record(conn, fac, lane, ev, plate, when)
            except (IntegrityError, _Overtaken):
                if attempt == _ATTEMPTS - 1:
                    raise
            else:
                self._owed(owed)
                return outcome

    def _record(self, db, fac, lane, ev, plate, when, relay_key=None, queue_review=True):
        here = self._plate_here(db, fac, plate, ev.direction) if plate else None
        status, permit = _judge_permits(here.permits, fac, when) if plate else (NONE, None)
        if plate is None:
            verdict = _Verdict(REVIEW, ev.unread)
        elif ev.confidence is not None and ev.confidence < self.config.confidence_threshold:
            verdict = _Verdict(REVIEW, "LOW_CONFIDENCE", here.session)
        elif ev.direction == "ENTRY":
            verdict = self._entry(db, fac, lane, ev, plate, when, here, status, permit)
        else:
            verdict = self._exit(db, fac, ev, when, here, status)
        event = documents.parking_event(
            ev.event_id, when, fac, lane, ev.camera_id, ev.direction, plate,
            (ev.confidence if ev.confidence is not None else Decimal("1")) if plate else Decimal("0"),
            ev.jurisdiction, ev.country, ev.vehicle, session_rec=verdict.session,
            authorization_of=(status, permit if status != NONE else None, verdict.decision == OPEN),
            charge=verdict.charge, paid=verdict.paid, image_url=ev.image_url)
        session_id = verdict.session.id if verdict.session else None
        text = documents.serialize(event).decode()
        _INSERT_EVENT.run(db, dict(
            event_id=ev.event_id, facility_id=fac.id, camera_id=ev.camera_id, direction=ev.direction,
            occurred_at=when, recorded_at=self.clock(), plate=plate, confidence=ev.confidence,
            decision=verdict.decision, reason=verdict.reason, session_id=session_id, document=text))
        if verdict.decision == REVIEW and queue_review:
            now = self.clock()
            db.execute(insert(_REVIEWS), dict(
                event_id=ev.event_id, facility_id=fac.id, camera_id=ev.camera_id, direction=ev.direction,
                occurred_at=when, reason=verdict.reason, plate=plate, confidence=ev.confidence, image=ev.image,
                image_url=ev.image_url, state="OPEN", created_at=now))
        owed = self._owe(db, "ParkingEvent", relay_key or ev.event_id, fac.id, text,
                         provisional=verdict.decision == REVIEW and queue_review)
        return Outcome(ev.event_id, event, verdict.decision, verdict.reason, session_id), owed

    def _entry(self, db, fac, lane, ev, plate, when, here, status, permit):
        if here.hotlisted:
            return _Verdict(HOLD, "HOTLISTED")
        if here.session is not None:
            return _Verdict(REVIEW, "OPEN_SESSION_EXISTS", here.session)
        if fac.permit_only and status != VALID:
            return _Verdict(HOLD, {NONE: "NO_PERMIT", EXPIRED: "PERMIT_EXPIRED"}.get(status, "PERMIT_INVALID"))
        if status != VALID and here.occupied >= fac.capacity:
            return _Verdict(HOLD, "FACILITY_FULL")
        row = dict(
            id=new_id("S", when), facility_id=fac.id, plate=plate, status="OPEN", entry_time=when, exit_time=None,
            entry_event_id=ev.event_id, exit_event_id=None, lane_number=lane.number, jurisdiction=ev.jurisdiction,
            country=ev.country, space_assigned=ev.space_assigned,
            permit_number=permit.permit_number if status == VALID else None, amount_charged=None,
            amount_paid=Decimal("0"), paid_at=None)
        _INSERT_SESSION.run(db, row)
        session = SimpleNamespace(**row)
        return _Verdict(OPEN, "PERMIT_VALID" if status == VALID else "TRANSIENT_ENTRY", session,
                        charge=tariffs.ZERO)

    def _exit(self, db, fac, ev, when, here, status):
        tariff = fac.tariff
        session = here.session
        if here.hotlisted:
            return _Verdict(HOLD, "HOTLISTED", session)
        if session is None:
            if status == VALID:
                return _Verdict(OPEN, "PERMIT_VALID")
            return _Verdict(HOLD, "NO_ENTRY_RECORD", charge=tariff.lost_ticket)
        if when < session.entry_time:
            raise InvalidTime("exit before the session's entry", "Timestamp")
        if status == VALID:
            return self._close(db, session, ev, when, tariffs.ZERO, "PERMIT_VALID")
        charge = tariffs.fee(tariff, session.entry_time, when)
        due = tariffs.amount_due(tariff, session.entry_time, when, session.amount_paid, session.paid_at)
        if due > 0:
            return _Verdict(HOLD, "PAYMENT_DUE", session, charge=charge, paid=session.amount_paid)
        return self._close(db, session, ev, when, charge, "WITHIN_GRACE" if charge == 0 else "PAID")

    def _close(self, db, session, ev, when, charge, reason):
        closed = dict(status="CLOSED", exit_time=when, exit_event_id=ev.event_id, amount_charged=charge)
        if _CLOSE_SESSION.run(db, {"session_id": session.id, **closed}) != 1:
            raise _Overtaken("the session was closed meanwhile")
        for name, value in closed.items():
            setattr(session, name, value)
        return _Verdict(OPEN, reason, session, charge=charge, paid=session.amount_paid)

    # --- frames of one vehicle (gateway.frames) --------------------------------------

    def record_frame(self, ev, vehicle_event_id, plate, confidence):
        """Record ``ev`` as another frame of the vehicle's event; complete that event when it
        waits for a person only for want of a sure reading and the vote is now sure."""
        fac = self.facility(ev.facility_id)
        lane = self._lane(fac, ev.camera_id, ev.lane_number, ev.direction)
        when = self._instant(ev.timestamp, "Timestamp")
        with self.store.connection() as conn:
            done = conn.execute(_EVENT_BY_ID, {"event_id": ev.event_id}).first()
            if done is not None:
                return Outcome(ev.event_id, documents.parse(done.document), done.decision, done.reason,
                               done.session_id, replayed=True)
            vehicle = conn.execute(_EVENT_BY_ID, {"event_id": vehicle_event_id}).first()
        if vehicle is None:  # the vehicle's event failed: this frame is a vehicle of its own
            return self.submit_event(ev)
        decided_now = None
        if vehicle.decision == REVIEW and vehicle.reason == "LOW_CONFIDENCE" \
                and confidence >= self.config.confidence_threshold:
            review = self._open_review(vehicle_event_id)
            if review is not None:
                decided_now = self.resolve_review(review, plate, "frame-vote")
        decision = decided_now.decision if decided_now else vehicle.decision
        session_id = decided_now.session_id if decided_now else vehicle.session_id
        with self.store.connection() as conn:
            status, permit = self.permit_status(conn, plate, fac, when)
            session = conn.execute(select(_SESSIONS).where(_SESSIONS.c.id == session_id)).first() \
                if session_id else None
            event = documents.parking_event(
                ev.event_id, when, fac, lane, ev.camera_id, ev.direction, plate, confidence, ev.jurisdiction,
                ev.country, ev.vehicle, session_rec=session,
                authorization_of=(status, permit if status != NONE else None, decision == OPEN),
                image_url=ev.image_url)
            _INSERT_EVENT.run(conn, dict(
                event_id=ev.event_id, facility_id=fac.id, camera_id=ev.camera_id, direction=ev.direction,
                occurred_at=when, recorded_at=self.clock(), plate=plate, confidence=confidence, decision=decision,
                reason="SAME_VEHICLE", session_id=session_id, document=documents.serialize(event).decode()))
        # A frame whose vote just decided the vehicle moves its barrier; any other frame does not.
        return Outcome(ev.event_id, event, decision, "SAME_VEHICLE", session_id,
                       frame_of=None if decided_now else vehicle_event_id)

    def _open_review(self, event_id):
        with self.store.connection() as conn:
            row = conn.execute(select(_REVIEWS.c.id).where(_REVIEWS.c.event_id == event_id,
                                                           _REVIEWS.c.state == "OPEN")).first()
        return row.id if row else None

    # --- the review queue --------------------------------------------------------------

    def list_reviews(self, facility_id=None, state="OPEN", limit=50):
        query = select(_REVIEWS).where(_REVIEWS.c.state == state).order_by(_REVIEWS.c.id).limit(max(1, min(limit, 500)))
        if facility_id:
            self.facility(facility_id)
            query = query.where(_REVIEWS.c.facility_id == facility_id)
        with self.store.connection() as conn:
            return conn.execute(query).all()

    def resolve_review(self, review_id, plate_text, username):
        """A person read the plate: the event is completed as if it had been read so."""
        plate = normalise_plate(plate_text, "Plate")
        for attempt in range(_ATTEMPTS):
            try:
                return self._resolve_review(review_id, plate, username)
            except _Overtaken:
                if attempt == _ATTEMPTS - 1:
                    raise

    def _resolve_review(self, review_id, plate, username):
        with self.store.connection() as conn:
            # Locked: of two people resolving one review at once, the second finds it resolved.
            review = conn.execute(select(_REVIEWS).where(_REVIEWS.c.id == review_id).with_for_update()).first()
            if review is None:
                raise NotFound("no such review", "ReviewID")
            if review.state != "OPEN":
                raise Conflict("the review is already resolved", "ReviewID")
            fac = self.facility(review.facility_id)
            lane = fac.lanes[review.camera_id]
            ev = LaneEvent(event_id=review.event_id, facility_id=fac.id, camera_id=review.camera_id,
                           direction=review.direction, timestamp=review.occurred_at, plate_text=plate,
                           confidence=Decimal("1"), image_url=review.image_url)
            conn.execute(delete(_EVENTS).where(_EVENTS.c.event_id == review.event_id))
            outcome, owed = self._record(conn, fac, lane, ev, plate, review.occurred_at,
                                         relay_key=f"{review.event_id}:resolved", queue_review=False)
            conn.execute(update(_REVIEWS).where(_REVIEWS.c.id == review_id).values(
                state="RESOLVED", resolved_at=self.clock(), resolved_by=username, resolved_plate=plate,
                outcome=outcome.decision))
            self._audit(conn, username, "ResolveReview", review.event_id, f"-> {outcome.decision}")
        self._owed(owed)
        return outcome

    # --- sessions, fees, payments, occupancy ------------------------------------------

    def find_session(self, db, session_id=None, plate=None, facility_id=None, for_update=False):
        """``for_update``: the row stays locked until the transaction ends, for changing it."""
        if session_id:
            rec = db.get(ParkingSession, session_id, with_for_update=for_update)
        elif plate and facility_id:
            self.facility(facility_id)
            query = select(ParkingSession).where(
                ParkingSession.facility_id == facility_id, ParkingSession.plate == normalise_plate(plate, "Plate")) \
                .order_by(ParkingSession.status.desc(), ParkingSession.entry_time.desc()).limit(1)
            rec = db.scalars(query.with_for_update() if for_update else query).first()
        else:
            raise InvalidInput("give a SessionID, or a Plate and a FacilityID", "SessionID")
        if rec is None:
            raise NotFound("no such session", "SessionID")
        return rec

    def get_session(self, session_id=None, plate=None, facility_id=None):
        with self.store.transaction() as db:
            rec = self.find_session(db, session_id, plate, facility_id)
            return rec, self._quote(rec, self.clock())

    def _quote(self, rec, at):
        tariff = self.facility(rec.facility_id).tariff
        end = rec.exit_time or at
        if rec.status == "CLOSED":
            charge, due = rec.amount_charged or tariffs.ZERO, tariffs.ZERO
        elif rec.permit_number:
            charge = due = tariffs.ZERO
        else:
            charge = tariffs.fee(tariff, rec.entry_time, end)
            due = tariffs.amount_due(tariff, rec.entry_time, end, rec.amount_paid, rec.paid_at)
        return charge, due

    def quote_fee(self, session_id, at=None):
        with self.store.transaction() as db:
            rec = self.find_session(db, session_id)
            at = self._instant(at, "AsOf")
            if at < rec.entry_time:
                raise InvalidTime("AsOf is before the session's entry", "AsOf")
            charge, due = self._quote(rec, at)
            return rec, at, charge, due

    def record_payment(self, session_id, amount, currency, method, username):
        with self.store.transaction() as db:
            rec = self.find_session(db, session_id, for_update=True)  # two payments at once both count
            fac = self.facility(rec.facility_id)
            if rec.status != "OPEN":
                raise Conflict("the session is closed", "SessionID")
            if amount <= 0:
                raise InvalidInput("a payment is a positive amount", "Amount")
            if currency != fac.currency:
                raise InvalidInput(f"this facility takes {fac.currency}", "Amount")
            now = self.clock()
            payment = Payment(id=new_id("PAY", now), session_id=rec.id, amount=amount, currency=currency,
                              method=method, paid_at=now, recorded_by=username)
            rec.amount_paid = (rec.amount_paid or Decimal("0")) + amount
            rec.paid_at = now
            db.add(payment)
            self._audit(db, username, "RecordPayment", rec.id, f"{amount} {currency} by {method}")
            charge, due = self._quote(rec, now)
            return payment, rec, due

    def occupancy(self, facility_id):
        fac = self.facility(facility_id)
        with self.store.transaction() as db:
            return fac, self._occupied(db, fac.id), self.clock()

    # --- permits --------------------------------------------------------------------

    def lookup_permit(self, plate, facility_id, at=None):
        fac = self.facility(facility_id)
        plate = normalise_plate(plate, "Plate")
        when = at.astimezone(timezone.utc) if at is not None and at.tzinfo else self._instant(at, "At")
        with self.store.transaction() as db:
            return self.permit_status(db, plate, fac, when)

    def issue_permit(self, plate, permit_type, valid_from, valid_until, username, facility_id=None,
                     permit_number=None):
        plate = normalise_plate(plate, "Plate")
        if facility_id is not None:
            self.facility(facility_id)
        if valid_until < valid_from:
            raise InvalidTime("ValidUntil is before ValidFrom", "ValidUntil")
        now = self.clock()
        rec = PermitRecord(permit_number=permit_number or new_id("PRMT", now), plate=plate,
                           facility_id=facility_id, permit_type=permit_type, valid_from=valid_from,
                           valid_until=valid_until, state="ACTIVE", issued_at=now)
        document = documents.permit(rec)
        try:
            with self.store.transaction() as db:
                if db.get(PermitRecord, rec.permit_number) is not None:
                    raise Conflict("that permit number is taken", "PermitNumber")
                db.add(rec)
                self._audit(db, username, "IssuePermit", rec.permit_number, permit_type)
                owed = self._owe(db.connection(), "Permit", f"{rec.permit_number}:ACTIVE", facility_id,
                                 documents.serialize(document))
        except IntegrityError:
            raise Conflict("that permit number is taken", "PermitNumber") from None
        self._owed(owed)
        return document

    def revoke_permit(self, permit_number, reason, username):
        with self.store.transaction() as db:
            rec = db.get(PermitRecord, permit_number, with_for_update=True)  # revoked once, by one caller
            if rec is None:
                raise NotFound("no such permit", "PermitNumber")
            if rec.state == "REVOKED":
                raise Conflict("the permit is already revoked", "PermitNumber")
            rec.state = "REVOKED"
            rec.revoked_at = self.clock()
            rec.revocation_reason = reason
            self._audit(db, username, "RevokePermit", permit_number, reason)
            document = documents.permit(rec)
            owed = self._owe(db.connection(), "Permit", f"{permit_number}:REVOKED", rec.facility_id,
                             documents.serialize(document))
        self._owed(owed)
        return document

    def list_permits(self, plate=None, facility_id=None):
        if not plate and not facility_id:
            raise InvalidInput("give a Plate, a FacilityID or both", "Plate")
        query = select(PermitRecord).order_by(PermitRecord.issued_at, PermitRecord.permit_number)
        if plate:
            query = query.where(PermitRecord.plate == normalise_plate(plate, "Plate"))
        if facility_id:
            self.facility(facility_id)
            query = query.where(or_(PermitRecord.facility_id == facility_id, PermitRecord.facility_id.is_(None)))
        with self.store.transaction() as db:
            return db.scalars(query).all()

    # --- citations ------------------------------------------------------------------

    def issue_citation(self, facility_id, plate, violation, username, location=None, evidence_url=None,
                       note=None, jurisdiction=None):
        fac = self.facility(facility_id)
        plate = normalise_plate(plate, "Plate")
        rule = fac.citation_rules.get(violation)
        if rule is None:
            known = ", ".join(sorted(fac.citation_rules)) or "none"
            raise InvalidInput(f"{fac.id} has no rule for {violation!r} (known: {known})", "ViolationType")
        now = self.clock()
        rec = CitationRecord(
            id=new_id("CIT", now), issued_at=now, facility_id=fac.id, violation=violation, plate=plate,
            jurisdiction=jurisdiction, location=location, fine=rule.fine, currency=fac.currency,
            due_date=now.astimezone(fac.timezone).date() + timedelta(days=rule.due_days),
            evidence_url=evidence_url, note=note, issued_by=username, status="ISSUED")
        document = documents.citation(rec)
        with self.store.transaction() as db:
            db.add(rec)
            self._audit(db, username, "IssueCitation", rec.id, violation)
            owed = self._owe(db.connection(), "Citation", rec.id, fac.id, documents.serialize(document))
        self._owed(owed)
        return document

    # --- relays ---------------------------------------------------------------------

    def _owe(self, conn, kind, key, facility_id, document, provisional=False):
        """Owe a document to the relays that want it, in the caller's transaction (``provisional``:
        a REVIEW, whose resolution follows under the same EventID)."""
        if self.outbox is None:
            return ()
        return self.outbox.enqueue(conn, kind, key, facility_id, document, self.clock(), provisional)

    def _owed(self, names):
        if names and self.notify is not None:
            self.notify(names)

    # --- audit and lane incidents ---------------------------------------------------

    def audit(self, username, action, subject, detail):
        with self.store.transaction() as db:
            self._audit(db, username, action, subject, detail)

    def record_incident(self, facility_id, lane_number, kind, event_id, detail):
        with self.store.transaction() as db:
            db.add(LaneIncident(at=self.clock(), facility_id=facility_id, lane_number=lane_number, kind=kind,
                                event_id=event_id, detail=(detail or "")[:500] or None))

    def _audit(self, db, username, action, subject, detail=None):
        """On an ORM session or a Core connection alike: part of the caller's transaction."""
        db.execute(insert(AuditEntry.__table__), dict(at=self.clock(), username=username, action=action,
                                                      subject=subject, detail=(detail or "")[:1000] or None))
