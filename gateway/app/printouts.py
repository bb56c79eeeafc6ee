"""What a booth prints: tickets and receipts, as PDF or PNG at receipt-printer width (80 mm paper,
72 mm printed, 576 dots at 203 dpi), and a shift's report as PDF at that width (the booth's printer,
when the officer hands over) or on A4 (the supervisor's file). The ticket's QR code carries its
facility and number."""

import io
from collections.abc import Sequence
from decimal import Decimal

import qrcode
from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..domain.errors import InvalidInput

MEDIA = {"pdf": "application/pdf", "png": "image/png"}
WIDTH_DOTS = 576                     # 72 mm at 203 dpi
PAPER_MM = 80
LINE_DOTS = 30
PAPERS = ("receipt", "a4")           # a shift report's paper
RECEIPT_PAGE_LINES = 240             # 4 mm a line: about a metre of receipt paper a page


def media_type(media: str) -> str:
    return MEDIA[checked_media(media)]


def checked_media(media: str) -> str:
    m = (media or "pdf").lower()
    if m not in MEDIA:
        raise InvalidInput("a printout is pdf or png", "Format")
    return m


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(Decimal('0.01'))} {currency}"


def _local(when, tz) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def ticket(view, media: str) -> bytes:
    """``view``: a :class:`gateway.app.tickets.TicketView`."""
    fac, t = view.facility, view.ticket
    lines = [fac.name, "PARKING TICKET", f"No. {t.printed}", f"Entry {_local(t.issued_at, fac.timezone)}",
             f"Lane {t.lane_number}  {t.vehicle_type}", "Keep this ticket: scan it at the exit."]
    return _render(lines, view.code, media)


def receipt(view, media: str) -> bytes:
    """``view``: a :class:`gateway.app.payments.ReceiptView`."""
    e, fac = view.entry, view.facility
    lines = [fac.name, "RECEIPT" if e.kind == "PAYMENT" else e.kind, f"No. {e.id}",
             f"{_local(e.paid_at, fac.timezone)}", f"Entry {_local(view.session.entry_time, fac.timezone)}"]
    if view.ticket_number:
        lines.append(f"Ticket {view.ticket_number}")
    lines.append(f"{e.method}  {_money(e.amount, e.currency)}")
    if e.tendered is not None:
        lines += [f"Tendered {_money(e.tendered, e.currency)}", f"Change {_money(e.change, e.currency)}"]
    if e.card_last_four:
        lines.append(f"Card **** {e.card_last_four}")
    if e.reference:
        lines.append(f"Ref {e.reference}")
    lines += [f"Paid {_money(view.session.amount_paid, e.currency)}", f"Due {_money(view.due, e.currency)}",
              f"Served by {e.recorded_by}"]
    if e.reason:
        lines.append(f"Reason: {e.reason}")
    return _render(lines, None, media)


def _render(lines: Sequence[str], code: str | None, media: str) -> bytes:
    return _pdf(lines, code) if checked_media(media) == "pdf" else _png(lines, code)


def _png(lines: Sequence[str], code: str | None) -> bytes:
    qr = None
    if code:
        qr = qrcode.make(code, box_size=8, border=4).get_image().convert("L")
    height = 40 + LINE_DOTS * len(lines) + (qr.height + 20 if qr else 0)
    img = Image.new("L", (WIDTH_DOTS, height), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=24)
    y = 20
    for line in lines:
        draw.text((16, y), line, fill=0, font=font)
        y += LINE_DOTS
    if qr:
        img.paste(qr, ((WIDTH_DOTS - qr.width) // 2, y + 10))
    out = io.BytesIO()
    img.save(out, format="PNG", dpi=(203, 203))
    return out.getvalue()


def _pdf(lines: Sequence[str], code: str | None) -> bytes:
    qr_mm = 50 if code else 0
    height = (12 + 6 * len(lines) + qr_mm) * mm
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(PAPER_MM * mm, height))
    y = height - 10 * mm
    for i, line in enumerate(lines):
        c.setFont("Helvetica-Bold" if i < 2 else "Helvetica", 10)
        c.drawString(6 * mm, y, line)
        y -= 6 * mm
    if code:
        widget = QrCodeWidget(code)
        x0, y0, x1, y1 = widget.getBounds()
        size = 45 * mm
        drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, c, (PAPER_MM * mm - size) / 2, 3 * mm)
    c.showPage()
    c.save()
    return out.getvalue()


def checked_paper(paper: str | None) -> str:
    p = (paper or "receipt").lower()
    if p not in PAPERS:
        raise InvalidInput("a shift report is printed on receipt or a4 paper", "Paper")
    return p


def shift_report(report, facility, paper: str) -> bytes:
    """``report``: a :class:`gateway.domain.shifts.ShiftReport` of a shift in ``facility``; a PDF on
    ``paper`` (receipt or a4) with what the supervisor checks: expected against declared per method,
    the transactions, voids and refunds, lost tickets, overnight vehicles, and the sign-off."""
    return (_shift_receipt if checked_paper(paper) == "receipt" else _shift_a4)(report, facility)


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(Decimal('0.01'))}"


def _shift_facts(r, fac) -> list[tuple[str, str]]:
    s, tz = r.shift, fac.timezone
    where = ", ".join(p for p in (f"lane {s.lane_number}" if s.lane_number is not None else "",
                                  f"booth {s.booth}" if s.booth else "") if p)
    facts = [("Shift", s.id), ("Officer", s.officer), ("Facility", f"{fac.name} ({fac.id})")]
    if where:
        facts.append(("At", where))
    facts += [("Times", str(tz)), ("Opened", _local(s.opened_at, tz)),
              ("Closed", _local(s.closed_at, tz) if s.closed_at else "open"), ("State", s.state),
              ("Opening float", _money(s.opening_float, s.currency))]
    return facts


def _active(r):
    """The methods lines worth printing: those with takings, a float or a count declared."""
    return [line for line in r.by_method if line.count or line.expected or line.declared is not None]


def _sign_off(r, tz) -> str:
    s = r.shift
    if s.signed_by:
        return f"Signed off by {s.signed_by} {_local(s.signed_at, tz)}"
    return "Supervisor: ______________________"


def _shift_receipt(r, fac) -> bytes:
    """Courier on 72 mm: 42 characters a line, columns that line up."""
    s, cur, tz = r.shift, r.shift.currency, fac.timezone
    lines = [fac.name, "SHIFT REPORT", *(f"{k}: {v}" for k, v in _shift_facts(r, fac)), "",
             f"{'method':<8}{'n':>3}{'expected':>10}{'declared':>10}{'diff':>10}"]
    lines += [f"{line.method:<8}{line.count:>3}{_amount(line.expected):>10}{_amount(line.declared):>10}"
              f"{_amount(line.difference):>10}" for line in _active(r)]
    lines += ["", f"Taken {_money(r.taken, cur)}"]
    lines += [f"  {kind:<14}{_amount(amount):>12}" for kind, amount in sorted(r.by_vehicle_type.items())]
    void_total = sum((e.amount for e in r.voids), Decimal("0"))
    lines += [f"Voids and refunds {len(r.voids)}  {_money(void_total, cur)}",
              f"Lost tickets {r.lost_tickets}  {_money(r.lost_ticket_amount, cur)}",
              f"Overnight vehicles {r.overnight}", "", "Transactions:"]
    lines += [f"{_local(e.paid_at, tz)[11:]} {e.kind[:4]:<5}{e.method:<8}{_amount(e.amount):>10}"
              for e in r.transactions] or ["  none"]
    lines += ["", f"Officer: {s.officer}", _sign_off(r, tz)]
    out = io.BytesIO()
    c = canvas.Canvas(out)
    for first in range(0, len(lines), RECEIPT_PAGE_LINES):   # a busy shift: pages of at most 1 m of paper
        page = lines[first:first + RECEIPT_PAGE_LINES]
        height = (14 + 4 * len(page)) * mm
        c.setPageSize((PAPER_MM * mm, height))
        y = height - 8 * mm
        for i, line in enumerate(page, start=first):
            c.setFont("Courier-Bold" if i < 2 else "Courier", 8)
            c.drawString(4 * mm, y, line)
            y -= 4 * mm
        c.showPage()
    c.save()
    return out.getvalue()


def _shift_a4(r, fac) -> bytes:
    s, cur, tz = r.shift, r.shift.currency, fac.timezone
    styles = getSampleStyleSheet()
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("FONTSIZE", (0, 0), (-1, -1), 9),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke), ("ALIGN", (1, 1), (-1, -1), "RIGHT")])

    def table(rows, widths=None):
        t = Table(rows, colWidths=widths, hAlign="LEFT", repeatRows=1)
        t.setStyle(grid)
        return t
    void_total = sum((e.amount for e in r.voids), Decimal("0"))
    story = [Paragraph(f"Shift report, {fac.name}", styles["Title"]),
             Table([list(f) for f in _shift_facts(r, fac)], hAlign="LEFT"), Spacer(1, 6 * mm),
             Paragraph(f"Cash and other methods ({cur})", styles["Heading2"]),
             table([["Method", "Count", "Expected", "Declared", "Difference"],
                    *([line.method, line.count, _amount(line.expected), _amount(line.declared),
                       _amount(line.difference)] for line in _active(r))]),
             Spacer(1, 4 * mm),
             table([["", "Count", f"Amount ({cur})"],
                    ["Taken (net)", sum(1 for e in r.transactions if e.kind == "PAYMENT"), _amount(r.taken)],
                    ["Voids and refunds", len(r.voids), _amount(void_total)],
                    ["Lost tickets", r.lost_tickets, _amount(r.lost_ticket_amount)],
                    ["Overnight vehicles", r.overnight, ""],
                    *([f"Vehicle type {k}", "", _amount(v)] for k, v in sorted(r.by_vehicle_type.items()))]),
             Paragraph("Transactions", styles["Heading2"]),
             table([["Time", "Kind", "Method", f"Amount ({cur})", "Payment", "Reference / reason"],
                    *([_local(e.paid_at, tz), e.kind, e.method, _amount(e.amount), e.id,
                       (e.reason or e.reference or "")[:40]] for e in r.transactions)]),
             Spacer(1, 12 * mm), Paragraph(f"Officer: {s.officer}", styles["Normal"]),
             Paragraph(_sign_off(r, tz), styles["Normal"])]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                      bottomMargin=15 * mm, title=f"Shift report {s.id}").build(story)
    return out.getvalue()
