"""What a booth prints: tickets and receipts, as PDF or PNG at receipt-printer width (80 mm paper,
72 mm printed, 576 dots at 203 dpi). The ticket's QR code carries its facility and number."""

import io
from collections.abc import Sequence
from decimal import Decimal

import qrcode
from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from ..domain.errors import InvalidInput

MEDIA = {"pdf": "application/pdf", "png": "image/png"}
WIDTH_DOTS = 576                     # 72 mm at 203 dpi
PAPER_MM = 80
LINE_DOTS = 30


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
