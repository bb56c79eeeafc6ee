"""``parkgate ticket``, ``shift``, ``pay`` and ``report``: the booth's and the office's commands,
on the configured database (the same use cases the SOAP services and the console call)."""

import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..domain.errors import ParkgateError
from .admin import cli_origin, open_store


def register(sub):
    ticket = sub.add_parser("ticket", help="print a ticket", description="Tickets issued at the entries.")
    t_sub = ticket.add_subparsers(dest="ticket_command", required=True, metavar="ACTION")
    tp = t_sub.add_parser("print", help="a ticket as PDF or PNG (receipt-printer width)",
                          description="Write a ticket's printout (PDF or PNG at 80 mm receipt width).")
    tp.add_argument("number")
    tp.add_argument("--facility", required=True)
    tp.add_argument("--format", choices=("pdf", "png"), default="pdf")
    tp.add_argument("--out", help="the file (default: ticket-NUMBER.FORMAT)")
    tp.set_defaults(run=cmd_ticket_print)

    shift = sub.add_parser("shift", help="an officer's shift", description="Open, close and report shifts.")
    s_sub = shift.add_subparsers(dest="shift_command", required=True, metavar="ACTION")
    so = s_sub.add_parser("open", help="open a shift with a float", description="Open the officer's shift.")
    so.add_argument("--officer", required=True)
    so.add_argument("--facility", required=True)
    so.add_argument("--float", dest="opening_float", type=amount, default=Decimal("0.00"))
    so.add_argument("--lane", type=int)
    so.add_argument("--booth")
    so.set_defaults(run=cmd_shift_open)
    sc = s_sub.add_parser("close", help="close a shift with the cash counted",
                          description="Close the officer's shift: the amounts counted per method.")
    sc.add_argument("--officer", required=True)
    sc.add_argument("--cash", type=amount, required=True, help="cash counted, float included")
    for method in ("card", "ewallet", "voucher", "permit"):
        sc.add_argument(f"--{method}", type=amount)
    sc.add_argument("--note")
    sc.set_defaults(run=cmd_shift_close)
    sr = s_sub.add_parser("report", help="a shift's report", description="The officer's open or latest shift.")
    sr.add_argument("--officer", required=True)
    sr.add_argument("--shift")
    sr.add_argument("--pdf", action="store_true", help="write the report as a PDF to print")
    sr.add_argument("--paper", choices=("receipt", "a4"), default="receipt",
                    help="with --pdf: receipt-printer width (80 mm) or A4 (default: receipt)")
    sr.add_argument("--out", help="with --pdf: the file (default: shift-ID-PAPER.pdf)")
    sr.set_defaults(run=cmd_shift_report)

    pay = sub.add_parser("pay", help="take a payment on the officer's shift",
                         description="Take a payment for a ticket (or a session) on the officer's open shift.")
    pay.add_argument("--officer", required=True)
    pay.add_argument("--facility")
    pay.add_argument("--ticket")
    pay.add_argument("--session")
    pay.add_argument("--method", default="CASH")
    pay.add_argument("--tendered", type=amount)
    pay.add_argument("--amount", type=amount)
    pay.add_argument("--reference")
    pay.add_argument("--last-four")
    pay.add_argument("--receipt", help="also write the receipt's PDF here")
    pay.set_defaults(run=cmd_pay)

    report = sub.add_parser("report", help="revenue, traffic and occupancy over a period",
                            description="A report over a period, printed or exported (CSV, XLSX, PDF).")
    report.add_argument("period", choices=("daily", "weekly", "monthly", "custom"))
    report.add_argument("--from", dest="day", type=date.fromisoformat, help="a day of the period (default: today)")
    report.add_argument("--until", type=date.fromisoformat, help="the last day of a custom period")
    report.add_argument("--facility")
    report.add_argument("--format", choices=("csv", "xlsx", "pdf"))
    report.add_argument("--out", help="the file (default: report-PERIOD-FROM-UNTIL.FORMAT)")
    report.set_defaults(run=cmd_report)


def amount(text):
    """An amount: digits (NaN and Infinity are Decimals too, and opened a shift with an infinite float)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def _use_cases(cfg):
    from ..app.clock import utcnow
    from ..app.payments import Payments
    from ..app.reports import Reports
    from ..app.shifts import Shifts
    from ..app.tariffs import Tariffs
    from ..app.tickets import Tickets
    from ..domain.tickets import TicketCodes
    from ..store import audit
    store = open_store(cfg)
    codes = TicketCodes(audit.keys().tickets)
    tariffs = Tariffs(facilities=cfg.facilities, store=store, clock=utcnow)   # the versions set since, as served
    return dict(tickets=Tickets(facilities=cfg.facilities, store=store, codes=codes, clock=utcnow, tariffs=tariffs),
                payments=Payments(facilities=cfg.facilities, store=store, codes=codes, clock=utcnow, tariffs=tariffs),
                shifts=Shifts(facilities=cfg.facilities, store=store, clock=utcnow, tariffs=tariffs),
                reports=Reports(facilities=cfg.facilities, store=store, clock=utcnow))


def _failed(e):
    print(f"parkgate: {e.message}", file=sys.stderr)
    return 2


def cmd_ticket_print(args, cfg):
    try:
        p = _use_cases(cfg)["tickets"].printout(args.facility, args.number, media=args.format)
    except ParkgateError as e:
        return _failed(e)
    out = Path(args.out or p.file_name)
    out.write_bytes(p.content)
    print(f"wrote {out} ({p.media_type}, {len(p.content)} bytes)")


def cmd_shift_open(args, cfg):
    try:
        with cli_origin():
            s = _use_cases(cfg)["shifts"].open(args.officer, args.facility, args.opening_float, args.lane, args.booth)
    except ParkgateError as e:
        return _failed(e)
    print(f"shift {s.id} open for {s.officer} at {s.facility_id}, float {s.opening_float} {s.currency}")


def cmd_shift_close(args, cfg):
    declared = {m.upper(): getattr(args, m) for m in ("cash", "card", "ewallet", "voucher", "permit")
                if getattr(args, m) is not None}
    try:
        with cli_origin():
            report = _use_cases(cfg)["shifts"].close(args.officer, declared, args.note)
    except ParkgateError as e:
        return _failed(e)
    _print_report(report)


def cmd_shift_report(args, cfg):
    shifts = _use_cases(cfg)["shifts"]
    try:
        report = shifts.report(args.officer, "operator", args.shift)
    except ParkgateError as e:
        return _failed(e)
    if args.pdf:
        p = shifts.printed(report, args.paper)
        out = Path(args.out or p.file_name)
        out.write_bytes(p.content)
        print(f"wrote {out} ({p.media_type}, {len(p.content)} bytes)")
        return
    _print_report(report)


def _print_report(r):
    s = r.shift
    print(f"shift {s.id}  {s.officer}  {s.facility_id}  {s.state}  opened {s.opened_at:%Y-%m-%d %H:%M}Z"
          + (f"  closed {s.closed_at:%H:%M}Z" if s.closed_at else ""))
    print(f"{'method':<10}{'count':>6}{'expected':>12}{'declared':>12}{'difference':>12}")
    for line in r.by_method:
        if line.count or line.expected or line.declared is not None:
            print(f"{line.method:<10}{line.count:>6}{line.expected:>12.2f}"
                  f"{'' if line.declared is None else format(line.declared, '.2f'):>12}"
                  f"{'' if line.difference is None else format(line.difference, '.2f'):>12}")
    for vehicle_type, amount in sorted(r.by_vehicle_type.items()):
        print(f"  {vehicle_type:<12}{amount:>10.2f}")
    print(f"taken {r.taken:.2f} {s.currency}; voids and refunds {len(r.voids)}; lost tickets {r.lost_tickets} "
          f"({r.lost_ticket_amount:.2f}); overnight vehicles {r.overnight}")


def cmd_pay(args, cfg):
    from ..domain.payments import Tender
    cases = _use_cases(cfg)
    tender = Tender(method=args.method, amount=args.amount, tendered=args.tendered, reference=args.reference,
                    card_last_four=args.last_four)
    try:
        with cli_origin():
            view = cases["payments"].take(tender, args.officer, "operator", session_id=args.session,
                                          facility_id=args.facility, ticket_number=args.ticket)
    except ParkgateError as e:
        return _failed(e)
    e = view.entry
    print(f"receipt {e.id}: {e.amount:.2f} {e.currency} by {e.method}"
          + (f", tendered {e.tendered:.2f}, change {e.change:.2f}" if e.tendered is not None else "")
          + f"; still due {view.due:.2f}")
    if args.receipt:
        Path(args.receipt).write_bytes(cases["payments"].printout(e.id).content)
        print(f"wrote {args.receipt}")


def cmd_report(args, cfg):
    from ..app import exports
    try:
        report = _use_cases(cfg)["reports"].report(args.period, args.day, args.until, args.facility,
                                                   username="cli")
        if args.format:
            out = Path(args.out or exports.file_name(report, args.format))
            out.write_bytes(exports.export(report, args.format))
            print(f"wrote {out}")
            return
    except ParkgateError as e:
        return _failed(e)
    p = report.period
    print(f"{p.kind} report {p.first_day} to {p.last_day}")
    for f in report.facilities:
        print(f"{f.facility.id}: revenue {f.revenue:.2f} {f.facility.currency}; entries {sum(f.entries_per_hour)}, "
              f"exits {sum(f.exits_per_hour)}; occupancy peak {f.occupancy_peak}/{f.facility.capacity}")
        for line in f.by_method:
            print(f"  {line.key:<10}{line.count:>6}{line.amount:>12.2f}")
        for line in (f.voids, f.refunds, f.lost_tickets):
            if line.count:
                print(f"  {line.key:<14}{line.count:>6}{line.amount:>12.2f}")
