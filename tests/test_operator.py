"""The operator's day over real SOAP: tickets at the entry, exits by ticket, payments on a shift,
lost tickets, overnight vehicles, the shift's report (SQLite and PostgreSQL)."""

import io
import subprocess
from datetime import timedelta
from decimal import Decimal
from functools import partial

import cv2
import numpy as np
import pytest
from configs import QUICK_PASSWORDS
from lxml import etree
from pypdf import PdfReader

from conftest import FACILITY, PASSWORD, unique, unique_plate
from gateway.app.auth import Users
from gateway.contract.schema import CONTRACT_XSD
from test_events import fault_of, pay_station, submit


def usd(amount):
    return {"_value_1": Decimal(amount), "currency": "USD"}


@pytest.fixture
def officer(gateway):
    """An officer of their own (one open shift per officer)."""
    name = unique("officer")
    Users(gateway.store, passwords=QUICK_PASSWORDS).add(name, PASSWORD, "operator")
    return name


def svc(gw, name, user):
    return gw.client(name, user=user)


def entry(gw, plate, **extra):
    result = submit(gw, "ENTRY", plate, **extra)
    assert result.Decision == "OPEN", result.Reason
    return result


def test_a_transient_entry_issues_a_ticket_that_prints_and_scans(gateway, clock, tmp_path):
    plate = unique_plate()
    result = entry(gateway, plate)
    number = result.TicketNumber
    assert number and len(number) == 16 and number.isdigit()
    tickets = gateway.client("TicketService")
    view = tickets.GetTicket(FacilityID=FACILITY, TicketNumber=number)
    assert (view.Ticket.State, view.Ticket.VehicleType, view.Plate) == ("ISSUED", "car", plate)
    assert view.Ticket.SessionID == result.ParkingEvent.Session.SessionID
    # Two entries: numbers that do not follow one another.
    other = entry(gateway, unique_plate()).TicketNumber
    assert abs(int(other[:12]) - int(number[:12])) > 1000

    # A forged number (one digit changed) fails its check; an unknown but checking one is not found.
    forged = number[:5] + str((int(number[5]) + 1) % 10) + number[6:]
    assert "does not check" in fault_of(lambda: tickets.GetTicket(FacilityID=FACILITY, TicketNumber=forged)).message
    assert fault_of(lambda: tickets.GetTicket(TicketCode=f"PGT1:{FACILITY}:{forged}")).code.endswith("InvalidInput")

    png = tickets.PrintTicket(FacilityID=FACILITY, TicketNumber=number, Format="png")
    assert png.MediaType == "image/png"
    pixels = cv2.imdecode(np.frombuffer(png.Content, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert pixels.shape[1] == 576                                    # 72 mm at 203 dpi
    scanned, _, _ = cv2.QRCodeDetectorAruco().detectAndDecode(pixels)
    assert scanned == f"PGT1:{FACILITY}:{number}"
    assert tickets.GetTicket(TicketCode=scanned).Ticket.TicketNumber == number

    pdf = tickets.PrintTicket(FacilityID=FACILITY, TicketNumber=number)
    text = PdfReader(io.BytesIO(pdf.Content)).pages[0].extract_text()
    assert "PARKING TICKET" in text and "-".join(number[i:i + 4] for i in range(0, 16, 4)) in text

    # The Ticket document is schema-valid by xmllint, independently of Python.
    doc = tmp_path / "ticket.xml"
    doc.write_bytes(etree.tostring(etree.fromstring(
        gateway.service.published and _ticket_xml(gateway, number))))
    subprocess.run(["xmllint", "--noout", "--schema", str(CONTRACT_XSD), str(doc)], check=True, capture_output=True)


def _ticket_xml(gw, number):
    from gateway.contract import documents
    view = gw.service.use_cases.tickets.get(FACILITY, number)
    return documents.serialize(documents.ticket(view.ticket, view.state, view.code))


def test_the_replayed_entry_answers_the_same_ticket(gateway, clock):
    plate, event_id = unique_plate(), unique()
    first = entry(gateway, plate, event_id=event_id)
    again = submit(gateway, "ENTRY", plate, event_id=event_id)
    assert again.TicketNumber == first.TicketNumber


def test_a_day_at_the_booth(gateway, clock, officer):
    """Shift opened with a float; a payment without a shift refused; cash with change; exit by
    ticket; a void by the supervisor; the shift closed, reported and signed off."""
    shifts, payments = svc(gateway, "ShiftService", officer), svc(gateway, "PaymentService", officer)
    plate = unique_plate()
    number = entry(gateway, plate).TicketNumber
    clock.advance(timedelta(hours=2, minutes=10))                   # 3 started hours: 9.00 USD

    refused = fault_of(lambda: payments.TakePayment(Method="CASH", FacilityID=FACILITY, TicketNumber=number,
                                                    Tendered=usd("20.00")))
    assert refused.code.endswith("Client.Conflict") and "shift" in refused.message

    shift = shifts.OpenShift(FacilityID=FACILITY, OpeningFloat=usd("100.00"), LaneNumber=2, Booth="B1")
    assert shift.State == "OPEN"
    assert fault_of(lambda: shifts.OpenShift(FacilityID=FACILITY, OpeningFloat=usd("50.00"))).code.endswith(
        "Client.Conflict")

    receipt = payments.TakePayment(Method="CASH", FacilityID=FACILITY, TicketNumber=number, Tendered=usd("20.00"))
    assert (receipt.Amount._value_1, receipt.Tendered._value_1, receipt.Change._value_1) == \
        (Decimal("9.00"), Decimal("20.00"), Decimal("11.00"))
    assert receipt.AmountDue._value_1 == 0 and receipt.ShiftID == shift.ShiftID and receipt.TicketNumber == number

    printed = payments.PrintReceipt(PaymentID=receipt.ReceiptNumber)
    text = PdfReader(io.BytesIO(printed.Content)).pages[0].extract_text()
    assert "Change 11.00 USD" in text and "Tendered 20.00 USD" in text

    # Leaving by the scanned ticket: paid, so the barrier opens and the ticket is used.
    tickets = svc(gateway, "TicketService", officer)
    out = tickets.ExitByTicket(EventID=unique(), FacilityID=FACILITY, CameraID="CAM-OUT",
                               TicketCode=f"PGT1:{FACILITY}:{number}", PlateText=plate)
    assert (out.Decision, out.Reason) == ("OPEN", "PAID")
    assert tickets.GetTicket(FacilityID=FACILITY, TicketNumber=number).Ticket.State == "USED"
    assert fault_of(lambda: tickets.ExitByTicket(EventID=unique(), FacilityID=FACILITY, CameraID="CAM-OUT",
                                                 TicketNumber=number)).code.endswith("Client.Conflict")

    # A second car pays by card (last four only; a card number is refused), and the supervisor voids it.
    number2 = entry(gateway, unique_plate()).TicketNumber
    clock.advance(timedelta(minutes=30))
    pan = fault_of(lambda: payments.TakePayment(Method="CARD", FacilityID=FACILITY, TicketNumber=number2,
                                                Reference="4111 1111 1111 1111"))
    assert pan.code.endswith("Client.InvalidInput")
    arabic_indic = "\u0661" * 4
    other_digits = fault_of(lambda: payments.TakePayment(Method="CARD", FacilityID=FACILITY, TicketNumber=number2,
                                                         Reference="TERM-7781", CardLastFour=arabic_indic))
    assert other_digits.code.endswith("Client.InvalidInput")   # Arabic-Indic digits are no card's last four
    card = payments.TakePayment(Method="CARD", FacilityID=FACILITY, TicketNumber=number2, Reference="TERM-7781",
                                CardLastFour="1111")
    assert (card.Amount._value_1, card.CardLastFour, card.Tendered) == (Decimal("3.00"), "1111", None)
    assert fault_of(lambda: payments.VoidPayment(PaymentID=card.ReceiptNumber, Reason="x")).code.endswith(
        "Client.Authorization")
    admin = gateway.client("PaymentService", user="admin")
    assert fault_of(lambda: admin.VoidPayment(PaymentID=card.ReceiptNumber, Reason=" ")).code.endswith(
        "Client.InvalidInput")
    void = admin.VoidPayment(PaymentID=card.ReceiptNumber, Reason="charged twice by the terminal")
    assert (void.Kind, void.Amount._value_1, void.AmountDue._value_1) == ("VOID", Decimal("-3.00"), Decimal("3.00"))
    assert fault_of(lambda: admin.VoidPayment(PaymentID=card.ReceiptNumber, Reason="again")).code.endswith(
        "Client.Conflict")
    assert _receipt_totals(payments, card.ReceiptNumber) == ("Paid 3.00 USD", "Due 0.00 USD")   # as paid, not now
    assert _receipt_totals(payments, void.ReceiptNumber) == ("Paid 0.00 USD", "Due 3.00 USD")

    # Closing: 109.50 counted in cash against 109.00 expected (the float and the 9.00 taken).
    report = shifts.CloseShift(Declared=[{"Method": "CASH", "Amount": usd("109.50")},
                                         {"Method": "CARD", "Amount": usd("0.00")}])
    cash = next(line for line in report.ByMethod if line.Method == "CASH")
    assert (cash.Count, cash.Expected._value_1, cash.Declared._value_1, cash.Difference._value_1) == \
        (1, Decimal("109.00"), Decimal("109.50"), Decimal("0.50"))
    card_line = next(line for line in report.ByMethod if line.Method == "CARD")
    assert (card_line.Count, card_line.Expected._value_1, card_line.Difference._value_1) == (1, 0, 0)
    assert (report.Voids, report.VoidAmount._value_1, report.Taken._value_1) == (1, Decimal("-3.00"), Decimal("9.00"))
    assert [(k.Key, k.Count, k.Amount._value_1) for k in report.ByVehicleType] == [("car", 2, Decimal("9.00"))]
    assert {tx.Kind for tx in report.Transaction} == {"PAYMENT", "VOID"}
    assert report.Shift.State == "CLOSED"

    again = fault_of(lambda: payments.TakePayment(Method="CASH", FacilityID=FACILITY, TicketNumber=number2,
                                                  Tendered=usd("5.00")))
    assert "shift" in again.message
    assert fault_of(lambda: shifts.SignOffShift(ShiftID=shift.ShiftID)).code.endswith("Client.Authorization")
    signed = gateway.client("ShiftService", user="admin").SignOffShift(ShiftID=shift.ShiftID, Note="checked")
    assert (signed.Shift.State, signed.Shift.SignedBy) == ("SIGNED", "admin")
    assert shifts.GetShiftReport(ShiftID=shift.ShiftID).Shift.State == "SIGNED"

    # Reprinted hours later, with the second car still in, each receipt says what it said then.
    clock.advance(timedelta(hours=3))
    assert _receipt_totals(payments, card.ReceiptNumber) == ("Paid 3.00 USD", "Due 0.00 USD")
    assert _receipt_totals(payments, void.ReceiptNumber) == ("Paid 0.00 USD", "Due 3.00 USD")
    assert _receipt_totals(payments, receipt.ReceiptNumber) == ("Paid 9.00 USD", "Due 0.00 USD")


def _receipt_totals(payments, payment_id):
    """The receipt's "Paid" and "Due" lines, as printed."""
    text = PdfReader(io.BytesIO(payments.PrintReceipt(PaymentID=payment_id).Content)).pages[0].extract_text()
    return tuple(line.strip() for line in text.splitlines() if line.startswith(("Paid ", "Due ")))


def test_money_in_another_currency_is_refused_not_read_as_the_facilitys(gateway, clock, officer):
    """The facility takes USD: 20.00 EUR tendered is not 20.00 USD (nothing converts), for a
    payment, a refund, a float and the cash counted at the close."""
    def eur(amount):
        return {"_value_1": Decimal(amount), "currency": "EUR"}
    shifts, payments = svc(gateway, "ShiftService", officer), svc(gateway, "PaymentService", officer)
    refused = fault_of(lambda: shifts.OpenShift(FacilityID=FACILITY, OpeningFloat=eur("100.00")))
    assert refused.code.endswith("Client.InvalidInput") and "USD" in refused.message
    shifts.OpenShift(FacilityID=FACILITY, OpeningFloat=usd("100.00"))
    number = entry(gateway, unique_plate()).TicketNumber
    clock.advance(timedelta(hours=1, minutes=5))                     # 6.00 USD
    for given in (dict(Tendered=eur("20.00")), dict(Amount=eur("6.00"), Tendered=usd("20.00"))):
        refused = fault_of(partial(payments.TakePayment, Method="CASH", FacilityID=FACILITY, TicketNumber=number,
                                   **given))
        assert refused.code.endswith("Client.InvalidInput") and "USD" in refused.message
    assert fault_of(lambda: payments.TakePayment(Method="CARD", FacilityID=FACILITY, TicketNumber=number,
                                                 Reference="T-9", Amount=eur("6.00"))).code.endswith("InvalidInput")
    paid = payments.TakePayment(Method="CASH", FacilityID=FACILITY, TicketNumber=number, Tendered=usd("20.00"))
    assert (paid.Amount._value_1, paid.Change._value_1) == (Decimal("6.00"), Decimal("14.00"))
    admin = gateway.client("PaymentService", user="admin")
    assert fault_of(lambda: admin.RefundPayment(PaymentID=paid.ReceiptNumber, Amount=eur("2.00"),
                                                Reason="complaint")).code.endswith("Client.InvalidInput")
    refused = fault_of(lambda: shifts.CloseShift(Declared=[{"Method": "CASH", "Amount": eur("106.00")}]))
    assert refused.code.endswith("Client.InvalidInput") and "USD" in refused.message
    report = shifts.CloseShift(Declared=[{"Method": "CASH", "Amount": usd("106.00")}])
    cash = next(line for line in report.ByMethod if line.Method == "CASH")
    assert (cash.Expected._value_1, cash.Difference._value_1) == (Decimal("106.00"), Decimal("0.00"))


def test_a_plate_that_is_not_the_tickets_goes_to_review(gateway, clock):
    number = entry(gateway, unique_plate()).TicketNumber
    out = gateway.client("TicketService").ExitByTicket(
        EventID=unique(), FacilityID=FACILITY, CameraID="CAM-OUT", TicketNumber=number, PlateText=unique_plate(),
        Confidence="0.99", Image=b"exit-picture")
    assert (out.Decision, out.Reason) == ("REVIEW", "TICKET_PLATE_MISMATCH")
    reviews = gateway.client("EventService").ListReviews(FacilityID=FACILITY, IncludeImages=True)
    mine = [r for r in reviews if r.Reason == "TICKET_PLATE_MISMATCH"]
    assert mine and mine[-1].Image == b"exit-picture"


def test_partial_cash_is_refused_and_an_integrator_pays_on_its_channel(gateway, clock):
    number = entry(gateway, unique_plate()).TicketNumber
    clock.advance(timedelta(hours=1, minutes=1))                    # 6.00 USD
    app = gateway.client("PaymentService", user="integrator")
    short = fault_of(lambda: app.TakePayment(Method="CASH", FacilityID=FACILITY, TicketNumber=number,
                                             Tendered=usd("5.00")))
    assert "partial" in short.message
    no_lane = fault_of(lambda: app.TakePayment(Method="EWALLET", FacilityID=FACILITY, TicketNumber=number,
                                               Reference="WALLET-990", LaneNumber=999))
    assert no_lane.code.endswith("Client.UnknownLane")              # was taken, on a "lane 999" in the reports
    paid = app.TakePayment(Method="EWALLET", FacilityID=FACILITY, TicketNumber=number, Reference="WALLET-991")
    assert (paid.Channel, paid.ShiftID, paid.Amount._value_1) == ("integrator", None, Decimal("6.00"))
    assert fault_of(lambda: app.TakePayment(Method="EWALLET", FacilityID=FACILITY, TicketNumber=number,
                                            Reference="WALLET-992")).message == "nothing is due"


def test_a_lost_ticket_is_charged_by_policy_audited_and_counted_on_the_shift(gateway, clock, officer):
    plate = unique_plate()
    entry(gateway, plate, ImageURL="https://cams.example/entry-1.jpg")
    clock.advance(timedelta(hours=1, minutes=5))                     # fee 6.00; lost-ticket amount 40.00
    shifts = svc(gateway, "ShiftService", officer)
    shifts.OpenShift(FacilityID=FACILITY, OpeningFloat=usd("0"))
    tickets = svc(gateway, "TicketService", officer)
    assert fault_of(lambda: tickets.ProcessLostTicket(FacilityID=FACILITY, Plate=unique_plate(),
                                                      Reason="lost")).code.endswith("Client.NotFound")
    lost = tickets.ProcessLostTicket(FacilityID=FACILITY, Plate=plate, Reason="driver dropped it in the lift")
    assert (lost.Policy, lost.Charge._value_1, lost.AmountDue._value_1) == ("GREATER", Decimal("40.00"),
                                                                          Decimal("40.00"))
    assert lost.EntryImageURL == "https://cams.example/entry-1.jpg"
    assert fault_of(lambda: tickets.ProcessLostTicket(FacilityID=FACILITY, Plate=plate,
                                                      Reason="again")).code.endswith("Client.Conflict")
    paid = svc(gateway, "PaymentService", officer).TakePayment(Method="CASH", SessionID=lost.SessionID,
                                                               Tendered=usd("50.00"))
    assert (paid.Amount._value_1, paid.Change._value_1) == (Decimal("40.00"), Decimal("10.00"))
    assert submit(gateway, "EXIT", plate).Decision == "OPEN"
    entries = gateway.client("AuditService", user="admin").QueryAudit(Action="ProcessLostTicket", Plate=plate)
    assert [(e.User, "lift" in e.Detail) for e in entries] == [(officer, True)]
    report = shifts.CloseShift(Declared=[{"Method": "CASH", "Amount": usd("40.00")}])
    assert (report.LostTickets, report.LostTicketAmount._value_1) == (1, Decimal("40.00"))


def test_after_a_lost_ticket_the_plate_exit_asks_for_the_lost_ticket_charge(gateway, clock, officer):
    """The loophole: a car whose ticket was processed as lost cannot leave by its plate having paid
    only its stay's fee at a pay station."""
    plate = unique_plate()
    entry(gateway, plate)
    clock.advance(timedelta(hours=1, minutes=5))                     # fee 6.00; lost-ticket amount 40.00
    lost = svc(gateway, "TicketService", officer).ProcessLostTicket(FacilityID=FACILITY, Plate=plate,
                                                                    Reason="no ticket at the exit")
    events = gateway.client("EventService")
    assert events.QuoteFee(SessionID=lost.SessionID).AmountDue._value_1 == Decimal("40.00")
    assert events.GetSession(SessionID=lost.SessionID).AmountDue._value_1 == Decimal("40.00")
    station = pay_station(gateway).RecordPayment(SessionID=lost.SessionID, Amount=usd("6.00"), Method="card")
    assert station.AmountDue._value_1 == Decimal("34.00")

    held = submit(gateway, "EXIT", plate)
    assert (held.Decision, held.Reason) == ("HOLD", "PAYMENT_DUE")
    charges = held.ParkingEvent.Charges
    assert (charges.CurrentCharge._value_1, charges.AmountPaid._value_1) == (Decimal("40.00"), Decimal("6.00"))
    asked = gateway.client("PermitService", user="integrator").AuthorizePlate(
        FacilityID=FACILITY, LaneNumber=2, Plate=plate, Direction="EXIT")
    assert (asked.Decision, asked.Reason) == ("DECLINED", "PAYMENT_DUE")

    svc(gateway, "ShiftService", officer).OpenShift(FacilityID=FACILITY, OpeningFloat=usd("0"))
    rest = svc(gateway, "PaymentService", officer).TakePayment(Method="CASH", SessionID=lost.SessionID,
                                                               Tendered=usd("40.00"))
    assert (rest.Amount._value_1, rest.Change._value_1) == (Decimal("34.00"), Decimal("6.00"))
    out = submit(gateway, "EXIT", plate)
    assert (out.Decision, out.Reason) == ("OPEN", "PAID")
    assert out.ParkingEvent.Charges.CurrentCharge._value_1 == Decimal("40.00")


def test_record_payment_is_the_integrators_channel_and_refuses_officers(gateway, clock, officer):
    """An officer's money goes on their shift (TakePayment), where the shift's cash is reconciled
    from; the legacy RecordPayment keeps serving pay stations and apps, on their channel."""
    sid = entry(gateway, unique_plate()).ParkingEvent.Session.SessionID
    clock.advance(timedelta(hours=1, minutes=5))
    svc(gateway, "ShiftService", officer).OpenShift(FacilityID=FACILITY, OpeningFloat=usd("0"))
    for user in (officer, "admin"):
        booth = gateway.client("EventService", user=user)
        refused = fault_of(partial(booth.RecordPayment, SessionID=sid, Amount=usd("6.00"), Method="cash"))
        assert refused.code.endswith("Client.Authorization") and "TakePayment" in refused.message
    assert gateway.client("EventService").QuoteFee(SessionID=sid).AmountDue._value_1 == Decimal("6.00")
    short = fault_of(lambda: pay_station(gateway).RecordPayment(SessionID=sid, Amount=usd("5.9999"), Method="card"))
    assert short.code.endswith("Client.InvalidInput")               # was taken, and left 0.00 due
    paid = pay_station(gateway).RecordPayment(SessionID=sid, Amount=usd("6.00"), Method="card")
    assert paid.AmountDue._value_1 == 0
    report = svc(gateway, "ShiftService", officer).CloseShift(Declared=[{"Method": "CASH", "Amount": usd("0")}])
    assert sid not in [t.SessionID for t in report.Transaction or []]


def _pdf_text(content):
    reader = PdfReader(io.BytesIO(content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_the_shift_report_prints_at_receipt_width_and_on_a4(gateway, clock, officer):
    shifts, payments = svc(gateway, "ShiftService", officer), svc(gateway, "PaymentService", officer)
    shift = shifts.OpenShift(FacilityID=FACILITY, OpeningFloat=usd("50.00"), LaneNumber=2, Booth="B7")
    numbers = [entry(gateway, unique_plate()).TicketNumber for _ in range(3)]
    clock.advance(timedelta(hours=1, minutes=5))                     # 6.00 each
    payments.TakePayment(Method="CASH", FacilityID=FACILITY, TicketNumber=numbers[0], Tendered=usd("10.00"))
    card = payments.TakePayment(Method="CARD", FacilityID=FACILITY, TicketNumber=numbers[1], Reference="T-1",
                                CardLastFour="4242")
    gateway.client("PaymentService", user="admin").VoidPayment(PaymentID=card.ReceiptNumber,
                                                               Reason="charged twice by the terminal")
    payments.TakePayment(Method="CASH", FacilityID=FACILITY, TicketNumber=numbers[2], Tendered=usd("6.00"))
    shifts.CloseShift(Declared=[{"Method": "CASH", "Amount": usd("61.50")}])   # expected 62.00: 0.50 short

    receipt = shifts.GetShiftReport(ShiftID=shift.ShiftID, Paper="receipt")
    assert receipt.Printout.MediaType == "application/pdf" and receipt.Taken._value_1 == Decimal("12.00")
    reader, text = _pdf_text(receipt.Printout.Content)
    width_mm = float(reader.pages[0].mediabox.width) / 72 * 25.4
    assert abs(width_mm - 80) < 0.5                                  # the booth's receipt printer
    assert "SHIFT REPORT" in text and officer in text and "booth B7" in text
    assert "CASH      2     62.00     61.50     -0.50" in text       # expected, declared, difference
    assert "Voids and refunds 1  -6.00 USD" in text and "Supervisor: ____" in text

    admin = gateway.client("ShiftService", user="admin")
    admin.SignOffShift(ShiftID=shift.ShiftID, Note="short 0.50, noted")
    a4 = admin.GetShiftReport(ShiftID=shift.ShiftID, Paper="A4")
    reader, text = _pdf_text(a4.Printout.Content)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)   # A4 in points
    assert "Shift report, Test Garage" in text and "Signed off by admin" in text
    assert "charged twice by the terminal" in text and card.ReceiptNumber in text
    assert "62.00" in text and "-0.50" in text
    assert shifts.GetShiftReport(ShiftID=shift.ShiftID).Printout is None
    assert fault_of(lambda: shifts.GetShiftReport(ShiftID=shift.ShiftID, Paper="letter")).code.endswith(
        "Client.InvalidInput")
    assert fault_of(lambda: svc(gateway, "ShiftService", "operator").GetShiftReport(
        ShiftID=shift.ShiftID, Paper="a4")).code.endswith("Client.Authorization")   # another officer's


def test_overnight_vehicles_are_those_past_the_cutoff(gateway, clock):
    # The test facility's cut-off is midnight in New York; the clock starts at 09:30 there.
    plate = unique_plate()
    entry(gateway, plate)
    tickets = gateway.client("TicketService")
    mine = [v for v in tickets.ListOvernightVehicles(FacilityID=FACILITY) if v.Plate == plate]
    assert mine == []
    clock.advance(timedelta(hours=15))                               # 00:30 the next day
    mine = [v for v in tickets.ListOvernightVehicles(FacilityID=FACILITY) if v.Plate == plate]
    assert len(mine) == 1 and mine[0].TicketNumber
    assert mine[0].Cutoff.hour == 5                                  # midnight in New York, in UTC


def test_reports_count_revenue_traffic_and_refunds_and_export_to_real_readers(gateway, clock, officer):
    import csv

    from openpyxl import load_workbook
    reports = gateway.client("ReportService", user="admin")
    before = reports.GetReport(Period="daily", FacilityID=FACILITY).Facility[0]
    shifts = svc(gateway, "ShiftService", officer)
    shifts.OpenShift(FacilityID=FACILITY, OpeningFloat=usd("20.00"))
    plate = unique_plate()
    number = entry(gateway, plate, Vehicle={"VehicleClass": "Van"}).TicketNumber
    clock.advance(timedelta(hours=3, minutes=30))                    # 12.00 USD
    paid = svc(gateway, "PaymentService", officer).TakePayment(Method="CASH", FacilityID=FACILITY,
                                                               TicketNumber=number, Tendered=usd("12.00"))
    assert submit(gateway, "EXIT", plate).Decision == "OPEN"
    admin = gateway.client("PaymentService", user="admin")
    assert fault_of(lambda: admin.RefundPayment(PaymentID=paid.ReceiptNumber, Amount=usd("13.00"),
                                                Reason="complaint")).code.endswith("Client.InvalidInput")
    refund = admin.RefundPayment(PaymentID=paid.ReceiptNumber, Amount=usd("2.00"), Reason="barrier was slow")
    assert (refund.Kind, refund.Amount._value_1, refund.ShiftID) == ("REFUND", Decimal("-2.00"), None)
    shifts.CloseShift(Declared=[{"Method": "CASH", "Amount": usd("32.00")}])

    after = reports.GetReport(Period="daily", FacilityID=FACILITY).Facility[0]
    assert after.Revenue._value_1 - before.Revenue._value_1 == Decimal("10.00")
    van = [k for k in after.ByVehicleType if k.Key == "van"]
    assert van and van[0].Count >= 1 and van[0].Amount._value_1 >= Decimal("10.00")
    assert after.Refunds.Count - before.Refunds.Count == 1
    assert sum(after.EntriesPerHour) - sum(before.EntriesPerHour) == 1
    band = next(s for s in after.Stays if s.Key == "2-4 h")
    assert band.Count >= 1

    xlsx = reports.GetReport(Period="monthly", FacilityID=FACILITY, Format="xlsx").Export
    sheet = load_workbook(io.BytesIO(xlsx.Content)).active
    figures = {(r[1], r[2]): r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert figures[("exceptions", "REFUND")][3] >= 1
    assert figures[("revenue by vehicle type", "van")][4] >= 10
    amounts = [row[4] for row in sheet.iter_rows(min_row=2) if row[1].value == "revenue by vehicle type"]
    assert amounts and all(cell.number_format == "#,##0.00" for cell in amounts)
    pdf = reports.GetReport(Period="weekly", FacilityID=FACILITY, Format="pdf").Export
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.Content)).pages)
    assert "Parking report, weekly" in text and "Entries (blue) and exits (orange) per hour" in text
    listed = reports.GetReport(Period="custom", From=clock().date(), Until=clock().date(), Format="csv").Export
    rows = list(csv.reader(io.StringIO(listed.Content.decode())))
    assert rows[0] == ["facility", "section", "key", "count", "amount"]
    assert {r[0] for r in rows[1:]} == {"LOT-TEST", "LOT-SMALL", "LOT-TINY"}
    assert fault_of(lambda: reports.GetReport(Period="yearly")).code.endswith("Client.InvalidInput")
    from datetime import date
    off_the_calendar = fault_of(lambda: reports.GetReport(Period="monthly", From=date(9999, 12, 1)))
    assert off_the_calendar.code.endswith("Client.InvalidTime")      # was a Server fault (OverflowError)
    assert fault_of(lambda: gateway.client("ReportService").GetReport(Period="daily")).code.endswith(
        "Client.Authorization")


def test_the_report_peak_is_the_most_inside_at_once_not_at_an_hour_s_end(gateway, clock):
    """Two cars in together within one hour, both gone by its end: the day's peak is two more than
    the day began with (it read one hour's end only, and said none more)."""
    from datetime import date, datetime, timezone
    clock.now = datetime(2025, 3, 5, 15, 0, tzinfo=timezone.utc)    # 10:00 in New York; no other test's day
    reports = gateway.client("ReportService", user="admin")

    def peak():
        return reports.GetReport(Period="daily", From=date(2025, 3, 5), FacilityID=FACILITY).Facility[0].OccupancyPeak
    before = peak()
    first, second = unique_plate(), unique_plate()
    for minutes, direction, plate in ((5, "ENTRY", first), (10, "ENTRY", second), (18, "EXIT", first),
                                      (24, "EXIT", second)):   # stays inside the 15 min grace: free
        clock.now = datetime(2025, 3, 5, 15, minutes, tzinfo=timezone.utc)
        assert submit(gateway, direction, plate).Decision == "OPEN"
    clock.now = datetime(2025, 3, 5, 17, 0, tzinfo=timezone.utc)
    assert peak() == before + 2
    history = gateway.client("EventService").GetOccupancyHistory(
        FacilityID=FACILITY, From=datetime(2025, 3, 5, 15, tzinfo=timezone.utc),
        To=datetime(2025, 3, 5, 16, tzinfo=timezone.utc))
    assert history.PeakOccupancy == before + 2   # the same count the occupancy history shows


def test_the_command_line_prints_a_ticket_and_reports(gateway, clock, tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the command line runs on the SQLite database here")
    number = entry(gateway, unique_plate()).TicketNumber
    import configs

    from conftest import TEST_CONFIG
    config = tmp_path / "parkgate.toml"
    config.write_text(configs.toml(TEST_CONFIG))
    cli = [".venv/bin/parkgate", "--config", str(config), "--database-url", database_url]
    out = tmp_path / "t.png"
    done = subprocess.run([*cli, "ticket", "print", number, "--facility", FACILITY, "--format", "png", "--out",
                           str(out)], capture_output=True, text=True, cwd=_repo())
    assert done.returncode == 0, done.stderr
    scanned, _, _ = cv2.QRCodeDetectorAruco().detectAndDecode(cv2.imread(str(out), cv2.IMREAD_GRAYSCALE))
    assert scanned.endswith(number)
    forged = subprocess.run([*cli, "ticket", "print", "1" * 16, "--facility", FACILITY], capture_output=True,
                            text=True, cwd=_repo())
    assert forged.returncode == 2 and "does not check" in forged.stderr
    xlsx = tmp_path / "r.xlsx"
    done = subprocess.run([*cli, "report", "daily", "--from", clock().date().isoformat(), "--format", "xlsx",
                           "--out", str(xlsx)], capture_output=True, text=True, cwd=_repo())
    assert done.returncode == 0, done.stderr
    from openpyxl import load_workbook
    assert load_workbook(xlsx)["Traffic"].max_row == 1 + 24 * 3

    officer = unique("officer")
    Users(gateway.store).add(officer, PASSWORD, "operator")
    svc(gateway, "ShiftService", officer).OpenShift(FacilityID=FACILITY, OpeningFloat=usd("25.00"))
    pdf = tmp_path / "shift.pdf"
    done = subprocess.run([*cli, "shift", "report", "--officer", officer, "--pdf", "--paper", "a4", "--out",
                           str(pdf)], capture_output=True, text=True, cwd=_repo())
    assert done.returncode == 0, done.stderr
    reader, text = _pdf_text(pdf.read_bytes())
    assert round(float(reader.pages[0].mediabox.width)) == 595 and officer in text and "25.00" in text


def _repo():
    from pathlib import Path
    return Path(__file__).resolve().parents[1]



def test_amounts_past_what_the_books_hold_are_invalid_input(gateway, clock, officer):
    """Found by fuzzing: on PostgreSQL an OpeningFloat or a Tendered of 1E+30 was an internal error
    (the money column overflowed); on SQLite the float was kept, for every report to fail on."""
    shifts, payments = svc(gateway, "ShiftService", officer), svc(gateway, "PaymentService", officer)
    number = entry(gateway, unique_plate()).TicketNumber
    clock.advance(timedelta(hours=2))
    for huge in ("1E+30", "10000000000.00"):
        refused = fault_of(partial(shifts.OpenShift, FacilityID=FACILITY, OpeningFloat=usd(huge)))
        assert refused.code.endswith("Client.InvalidInput") and "9999999999.99" in refused.message
    shifts.OpenShift(FacilityID=FACILITY, OpeningFloat=usd("100.00"))
    refused = fault_of(lambda: payments.TakePayment(Method="CASH", FacilityID=FACILITY, TicketNumber=number,
                                                    Tendered=usd("1E+30")))
    assert refused.code.endswith("Client.InvalidInput")
    refused = fault_of(lambda: shifts.CloseShift(Declared=[{"Method": "CASH", "Amount": usd("1E+30")}]))
    assert refused.code.endswith("Client.InvalidInput")
    report = shifts.CloseShift(Declared=[{"Method": "CASH", "Amount": usd("100.00")}])
    assert report.Shift.State == "CLOSED"
