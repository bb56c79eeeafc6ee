"""The officer's cash desk: the exit (ticket scanned or typed, or the plate; the fee; the payment
with the amount tendered and the change; the receipt; the barrier), a lost ticket, the vehicles
that stayed overnight, and the shift (opened with a float, closed with the cash counted, its report)."""

import secrets
from decimal import Decimal

from werkzeug.wrappers import Response

from printer.escpos import Line, Receipt

from ...domain.errors import InvalidInput
from ...domain.payments import CASH, METHODS, Tender
from ...domain.tickets import CODE_PREFIX
from .app import OFFICER, page

#: What an officer takes at the booth (a permit is not paid there).
DESK_METHODS = tuple(m for m in METHODS if m != "PERMIT")


def _amount(ctx, name: str, required: bool = True) -> Decimal | None:
    """An amount as the page's language writes it (the page shows them so)."""
    text = ctx.form(name).strip()
    if not text:
        if required:
            raise InvalidInput(ctx._("Give the amount."), name)
        return None
    hint = ctx._("Write an amount as digits, like %(whole)s or %(cents)s.", whole=ctx.formats.number(15000),
                 cents=ctx.formats.number(Decimal("12.50")))
    try:
        value = ctx.formats.amount(text)
    except ValueError:
        raise InvalidInput(hint, name) from None
    if not value.is_finite() or value < 0:
        raise InvalidInput(hint, name)
    return value


def _exit_lanes(ctx):
    return [lane for lane in sorted(ctx.facility.lanes.values(), key=lambda lane: lane.number)
            if lane.admits("EXIT")]


def _find(ctx, scanned: str, plate: str):
    """The ticket scanned (its code), typed (its number) or found by the plate: a TicketView, or a
    session quote for a vehicle without a ticket (a permit holder)."""
    tickets, fac = ctx.use_cases.tickets, ctx.facility
    if scanned:
        if scanned.upper().startswith(CODE_PREFIX):
            return tickets.get(code=scanned, username=ctx.username), None
        return tickets.get(fac.id, number=scanned.replace("-", "").replace(" ", ""), username=ctx.username), None
    quote = ctx.use_cases.sessions.get(plate=plate, facility_id=fac.id, username=ctx.username)
    ticket = tickets.of_session(quote.session.id)
    if ticket is not None:
        return tickets.get(fac.id, number=ticket.number, username=ctx.username), None
    return None, quote


@page("/exit", roles=OFFICER)
def exit_desk(ctx):
    scanned, plate = ctx.request.args.get("ticket", "").strip(), ctx.request.args.get("plate", "").strip()
    view = quote = None
    if scanned or plate:
        view, quote = _find(ctx, scanned, plate)
    parked = view.session if view else quote.session if quote else None
    picture_url, picture = ctx.use_cases.tickets.entry_picture(parked.id) if parked is not None else (None, None)
    if parked is not None and parked.entry_image:
        picture = ctx.use_cases.events.stored_picture(parked.entry_image) or picture
    return ctx.render("exit.html", view=view, quote=quote, parked=parked, lanes=_exit_lanes(ctx),
                      methods=DESK_METHODS, picture_url=picture_url, has_picture=picture is not None,
                      scanned=scanned, plate=plate,
                      event_id=f"BOOTH-{secrets.token_hex(8).upper()}")


@page("/sessions/<session_id>/entry-picture", roles=OFFICER)
def entry_picture(ctx, session_id):
    stay = ctx.use_cases.sessions.get(session_id, username=ctx.username).session   # a look at a vehicle: audited
    image = ctx.use_cases.events.stored_picture(stay.entry_image) or ctx.use_cases.tickets.entry_picture(session_id)[1]
    if not image:
        return Response(ctx._("No picture was kept for this event."), status=404, content_type="text/plain")
    from .monitor import _image_type
    return Response(image, content_type=_image_type(image), headers={"Cache-Control": "private, no-store"})


@page("/exit/pay", roles=OFFICER, methods=("POST",))
def exit_pay(ctx):
    method = ctx.form("method")
    tender = Tender(method=method, tendered=_amount(ctx, "tendered") if method == CASH else None,
                    reference=ctx.form("reference") or None, card_last_four=ctx.form("last_four") or None)
    receipt = ctx.use_cases.payments.take(tender, ctx.username, ctx.session.role, session_id=ctx.form("session"))
    return ctx.redirect("receipt", payment_id=receipt.entry.id, lane=ctx.form("lane"))


@page("/receipts/<payment_id>", roles=OFFICER)
def receipt(ctx, payment_id):
    view = ctx.use_cases.payments.receipt(payment_id)
    return ctx.render("receipt.html", view=view, lane=ctx.request.args.get("lane", ""), lanes=_exit_lanes(ctx),
                      event_id=f"BOOTH-{secrets.token_hex(8).upper()}")


def receipt_printout(ctx, view) -> Receipt:
    entry, fmt, fac = view.entry, ctx.formats, view.facility
    rows = [(ctx._("Receipt"), entry.id), (ctx._("Plate"), view.session.plate),
            (ctx._("Entry"), fmt.when(view.session.entry_time)), (ctx._("Paid"), fmt.when(entry.paid_at)),
            (ctx._("Method"), entry.method), (ctx._("Amount"), fmt.money(entry.amount, entry.currency))]
    if entry.tendered is not None:
        rows += [(ctx._("Tendered"), fmt.money(entry.tendered, entry.currency)),
                 (ctx._("Change"), fmt.money(entry.change or Decimal("0"), entry.currency))]
    rows.append((ctx._("Still due"), fmt.money(view.due, entry.currency)))
    return Receipt(heading=[Line(fac.name, "center", bold=True, large=True), Line(ctx._("Payment receipt"), "center")],
                   rows=rows, footer=[Line(ctx._("Thank you. Drive safely."), "center")])


@page("/receipts/<payment_id>/print", roles=OFFICER, methods=("POST",))
def receipt_print(ctx, payment_id):
    view = ctx.use_cases.payments.receipt(payment_id)
    ctx.use_cases.printing.print(receipt_printout(ctx, view), "Receipt", payment_id, ctx.username)
    ctx.flash(ctx._("The receipt went to the receipt printer."), "success")
    return ctx.back("receipt", payment_id=payment_id)


@page("/exit/leave", roles=OFFICER, methods=("POST",))
def exit_leave(ctx):
    lane = next((lane for lane in _exit_lanes(ctx) if lane.camera_id == ctx.form("lane")), None)
    if lane is None:
        raise InvalidInput(ctx._("Choose an exit lane."), "lane")
    event_id = ctx.form("event_id")
    if not event_id.startswith("BOOTH-") or len(event_id) > 40:
        raise InvalidInput(ctx._("Reload the page and try again."), "event_id")
    picture = ctx.console.sessions.take_capture(ctx.session)
    left = ctx.use_cases.tickets.exit_by(event_id=event_id, facility_id=ctx.facility.id, camera_id=lane.camera_id,
                                         timestamp=None, number=ctx.form("ticket"), image=picture)
    outcome = left.decided.outcome
    kind = "success" if outcome.decision == "OPEN" else "error"
    ctx.flash(ctx._("Exit: %(decision)s (%(reason)s); barrier %(barrier)s.", decision=outcome.decision,
                    reason=outcome.reason, barrier=left.decided.barrier.result), kind)
    return ctx.redirect("exit_desk")


@page("/lost", roles=OFFICER, methods=("GET", "POST"))
def lost(ctx):
    if ctx.request.method == "GET":
        return ctx.render("lost.html", outcome=None)
    outcome = ctx.use_cases.tickets.lost(ctx.facility.id, ctx.form("plate"), ctx.form("reason"), ctx.username)
    return ctx.render("lost.html", outcome=outcome)


@page("/overnight", roles=OFFICER)
def overnight(ctx):
    return ctx.render("overnight.html", vehicles=ctx.use_cases.tickets.overnight(ctx.facility.id,
                                                                                  username=ctx.username))


@page("/shift", roles=OFFICER)
def shift(ctx):
    from ...domain.errors import NotFound
    try:
        current = ctx.use_cases.shifts.report(ctx.username, ctx.session.role)
    except NotFound:
        current = None
    return ctx.render("shift.html", report=current, methods=DESK_METHODS, lanes=sorted(
        ctx.facility.lanes.values(), key=lambda lane: lane.number))


@page("/shift/open", roles=OFFICER, methods=("POST",))
def shift_open(ctx):
    lane = ctx.form("lane")
    ctx.use_cases.shifts.open(ctx.username, ctx.facility.id, _amount(ctx, "float"),
                              lane_number=int(lane) if lane.isdigit() else None)
    ctx.flash(ctx._("Shift opened."), "success")
    return ctx.redirect("shift")


@page("/shift/close", roles=OFFICER, methods=("POST",))
def shift_close(ctx):
    declared = {m: _amount(ctx, f"declared-{m}", required=(m == CASH)) for m in DESK_METHODS}
    report = ctx.use_cases.shifts.close(ctx.username, {m: a for m, a in declared.items() if a is not None},
                                        ctx.form("note") or None)
    ctx.flash(ctx._("Shift closed."), "success")
    return ctx.redirect("shift_report", shift_id=report.shift.id)


@page("/shift/<shift_id>", roles=OFFICER)
def shift_report(ctx, shift_id):
    report = ctx.use_cases.shifts.report(ctx.username, ctx.session.role, shift_id)
    return ctx.render("shift_report.html", report=report)


def shift_printout(ctx, report) -> Receipt:
    s, fmt = report.shift, ctx.formats
    rows = [(ctx._("Shift"), s.id), (ctx._("Officer"), s.officer), (ctx._("Opened"), fmt.when(s.opened_at)),
            (ctx._("Closed"), fmt.when(s.closed_at)), (ctx._("Opening float"), fmt.money(s.opening_float, s.currency))]
    for line in report.by_method:
        rows.append((f"{line.method} ({line.count})", fmt.money(line.expected, s.currency)))
        if line.declared is not None:
            rows.append((f"  {ctx._('declared')}", fmt.money(line.declared, s.currency)))
            rows.append((f"  {ctx._('difference')}", fmt.money(line.difference or Decimal("0"), s.currency)))
    rows += [(ctx._("Taken"), fmt.money(report.taken, s.currency)), (ctx._("Lost tickets"), str(report.lost_tickets)),
             (ctx._("Overnight vehicles"), str(report.overnight))]
    return Receipt(heading=[Line(ctx._("Shift report"), "center", bold=True, large=True)], rows=rows,
                   footer=[Line(ctx._("Signature"), "left"), Line(""), Line("______________________")])


@page("/shift/<shift_id>/print", roles=OFFICER, methods=("POST",))
def shift_print(ctx, shift_id):
    report = ctx.use_cases.shifts.report(ctx.username, ctx.session.role, shift_id)
    ctx.use_cases.printing.print(shift_printout(ctx, report), "ShiftReport", shift_id, ctx.username)
    ctx.flash(ctx._("The shift report went to the receipt printer."), "success")
    return ctx.redirect("shift_report", shift_id=shift_id)
