"""The booth's pages: entry (the booth's own camera through the browser, or the plate typed; the
officer confirms, the entry is submitted as a lane event like a camera's, and the ticket prints)."""

import json
import secrets
from decimal import Decimal

from werkzeug.wrappers import Response

from printer.escpos import Line, Receipt

from ...domain.errors import Busy, InvalidInput, ParkgateError
from ...domain.events import LaneEvent, VehicleAttributes
from ...domain.plates import normalise_plate
from ...domain.vehicle_types import DEFAULT as DEFAULT_VEHICLE_TYPE
from ...domain.vehicle_types import VEHICLE_TYPES, class_of
from .app import OFFICER, page

MAX_PICTURE = 2 * 1024 * 1024
ONE = Decimal("1")


def _entry_lanes(ctx):
    return [lane for lane in sorted(ctx.facility.lanes.values(), key=lambda lane: lane.number)
            if lane.admits("ENTRY")]


@page("/entry", roles=OFFICER)
def entry(ctx):
    lanes = _entry_lanes(ctx)
    chosen = ctx.request.args.get("lane", lanes[0].camera_id if lanes else "")
    return ctx.render("entry.html", lanes=lanes, chosen=chosen, event_id=f"BOOTH-{secrets.token_hex(8).upper()}",
                      vehicle_types=VEHICLE_TYPES, default_type=DEFAULT_VEHICLE_TYPE)


@page("/entry/read", roles=OFFICER, methods=("POST",))
def entry_read(ctx):
    """A picture from the booth's camera, read for its plate (JSON for the page's script); kept in
    the session until the entry is recorded, as its evidence."""
    picture = ctx.request.files.get("image")
    data = picture.read(MAX_PICTURE + 1) if picture else b""
    if not data or len(data) > MAX_PICTURE:
        return _json({"message": ctx._("Send one picture (JPEG or PNG) of at most 2 MB.")}, 400)
    try:
        reading = ctx.use_cases.events.read_plate(ctx.facility.id, data, ctx.use_cases.clock())
    except ParkgateError as e:  # Busy: the recognisers are full; the officer types the plate or tries again
        return _json({"message": ctx._(e.message)}, 503 if isinstance(e, Busy) else 400)
    ctx.console.sessions.keep_capture(ctx.session, data)
    compared = None
    if ctx.form("session"):   # the exit page: this vehicle against the session's entry picture
        stay = ctx.use_cases.sessions.get(ctx.form("session"), username=ctx.username).session
        compared = ctx.use_cases.events.match(stay.entry_image, data)
    return _json({
        "match": str(compared[0]) if compared else "", "threshold": str(compared[1]) if compared else "",
        "match_ok": bool(compared and compared[0] >= compared[1]),
        "plate": reading.plate or "", "confidence": str(reading.confidence) if reading.confidence is not None else "",
        "unread": reading.unread or "",
        "message": ctx._("Read %(plate)s: check it against the car.", plate=reading.plate) if reading.plate
        else ctx._("No plate read: type it.")})


def _json(answer: dict, status: int = 200) -> Response:
    return Response(json.dumps(answer), status=status, content_type="application/json")


@page("/entry", roles=OFFICER, methods=("POST",))
def entry_record(ctx):
    lane = next((lane for lane in _entry_lanes(ctx) if lane.camera_id == ctx.form("lane")), None)
    if lane is None:
        raise InvalidInput(ctx._("Choose an entry lane."), "lane")
    plate = normalise_plate(ctx.form("plate"), "Plate")
    event_id = ctx.form("event_id")
    if not event_id.startswith("BOOTH-") or len(event_id) > 40:
        raise InvalidInput(ctx._("Reload the page and try again."), "event_id")
    vehicle_type = ctx.form("vehicle_type", DEFAULT_VEHICLE_TYPE)
    if vehicle_type not in VEHICLE_TYPES:
        raise InvalidInput(ctx._("Choose the vehicle type."), "vehicle_type")
    picture = ctx.console.sessions.take_capture(ctx.session)
    decided = ctx.use_cases.events.submit(LaneEvent(
        event_id=event_id, facility_id=ctx.facility.id, camera_id=lane.camera_id, direction="ENTRY",
        timestamp=ctx.use_cases.clock(), plate_text=plate, confidence=ONE, image=picture,
        vehicle_type=vehicle_type, vehicle=_seen(vehicle_type)))
    outcome = decided.outcome
    if outcome.session_id is None or outcome.decision != "OPEN":
        ctx.flash(ctx._("Entry not admitted: %(decision)s (%(reason)s).", decision=outcome.decision,
                        reason=outcome.reason), "error")
        return ctx.redirect("entry", lane=lane.camera_id)
    return ctx.redirect("ticket", session_id=outcome.session_id, barrier=decided.barrier.result)


def _seen(vehicle_type):
    """What the event says of the vehicle the officer picked the type of (a car: nothing more)."""
    said = class_of(vehicle_type)
    return VehicleAttributes(vehicle_class=said) if said else None


@page("/ticket/<session_id>", roles=OFFICER)
def ticket(ctx, session_id):
    quote = ctx.use_cases.sessions.get(session_id, username=ctx.username)
    return ctx.render("ticket.html", quote=quote, ticket=_ticket_of(ctx, quote.session),
                      barrier=ctx.request.args.get("barrier", ""))


def _ticket_of(ctx, session):
    """The session's ticket as the exit scans it (none for a permit holder)."""
    ticket = ctx.use_cases.tickets.of_session(session.id)
    if ticket is None:
        return None
    return ctx.use_cases.tickets.get(session.facility_id, number=ticket.number, username=ctx.username)


def ticket_receipt(ctx, quote, ticket) -> Receipt:
    """The ticket as the receipt printer prints it, in the officer's language; its barcode is the
    ticket number the exit's scanner reads."""
    session, tariff, fmt = quote.session, quote.tariff, ctx.formats
    facility = ctx.console.facilities.get(session.facility_id) or ctx.facility
    return Receipt(
        heading=[Line(facility.name, "center", bold=True, large=True), Line(ctx._("Parking ticket"), "center")],
        rows=[(ctx._("Ticket"), ticket.ticket.printed if ticket else session.id), (ctx._("Plate"), session.plate),
              (ctx._("Vehicle type"), ctx._(ticket.ticket.vehicle_type) if ticket else ""), (ctx._("Entry"),
              fmt.when(session.entry_time)), (ctx._("Lane"), str(session.lane_number)),
              (ctx._("Rate"), f"{tariff.rate_code} {fmt.money(tariff.price_per_period, tariff.currency)}")],
        footer=[Line(ctx._("Keep this ticket: it is needed at the exit."), "center")],
        barcode=ticket.code if ticket else session.id)


@page("/ticket/<session_id>/print", roles=OFFICER, methods=("POST",))
def ticket_print(ctx, session_id):
    quote = ctx.use_cases.sessions.get(session_id, username=ctx.username)
    ctx.use_cases.printing.print(ticket_receipt(ctx, quote, _ticket_of(ctx, quote.session)), "Ticket", session_id,
                                 ctx.username)
    ctx.flash(ctx._("The ticket went to the receipt printer."), "success")
    return ctx.redirect("ticket", session_id=session_id)


@page("/ticket/<session_id>/ticket.png", roles=OFFICER)
def ticket_picture(ctx, session_id):
    """The ticket as printed at the entry, with its code (a PNG at receipt-printer width)."""
    ticket = ctx.use_cases.tickets.of_session(session_id)
    if ticket is None:
        return Response(ctx._("This vehicle has no ticket."), status=404, content_type="text/plain")
    printout = ctx.use_cases.tickets.printout(ticket.facility_id, number=ticket.number, media="png")
    return Response(printout.content, content_type=printout.media_type, headers={"Cache-Control": "private, no-store"})
