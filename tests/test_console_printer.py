"""Tickets on a network receipt printer (ESC/POS on raw TCP, port 9100), checked against a local TCP
listener that records the bytes it is sent; a printer that is not there is a clear message, and the
console carries on."""

import re
import socketserver
import threading

import configs
import pytest
from console_client import logged_in

from conftest import TEST_CONFIG, SettableClock, add_test_users, start_gateway, stop_gateway, unique_plate
from gateway.store.migrate import upgrade
from printer.escpos import CUT, INIT, Line, Receipt, encode


class RecordingPrinter(socketserver.ThreadingTCPServer):
    """A receipt printer as far as the network goes: it keeps each job's bytes."""
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self):
        self.jobs = []
        self.received = threading.Event()

        class Job(socketserver.BaseRequestHandler):
            def handle(handler):
                data = b""
                while chunk := handler.request.recv(65536):
                    data += chunk
                self.jobs.append(data)
                self.received.set()
        super().__init__(("127.0.0.1", 0), Job)

    @property
    def port(self):
        return self.server_address[1]


@pytest.fixture(scope="module")
def printer():
    server = RecordingPrinter()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def gw(printer, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('printer') / 'parkgate.db'}"
    upgrade(url)
    add_test_users(url)
    raw = {**TEST_CONFIG, "console": {"printer": f"127.0.0.1:{printer.port}", "printer_timeout_s": 2}}
    gateway = start_gateway(configs.parse(raw, database_url=url), SettableClock())
    yield gateway
    stop_gateway(gateway)


def typed_entry(officer, plate):
    html = officer.get("/entry").text
    event_id = re.search(r'name="event_id" value="(BOOTH-\w+)"', html).group(1)
    r = officer.post("/entry", {"lane": "CAM-IN", "plate": plate, "event_id": event_id})
    return r.url.split("/console/ticket/")[1].split("?")[0], r


def test_a_ticket_prints_on_the_network_printer(gw, printer):
    officer = logged_in(gw, "operator")
    plate = unique_plate()
    session_id, page = typed_entry(officer, plate)
    ticket = gw.service.use_cases.tickets.get("LOT-TEST", number=gw.service.use_cases.tickets.of_session(
        session_id).number)
    assert 'id="print-escpos"' in page.text
    printer.received.clear()
    r = officer.post(f"/ticket/{session_id}/print")
    assert "went to the receipt printer" in r.text
    assert printer.received.wait(10)
    job = printer.jobs[-1]
    assert job.startswith(INIT) and job.endswith(CUT)
    assert b"Test Garage" in job and b"Parking ticket" in job and plate.encode() in job
    code = ticket.code.encode()
    assert b"\x1dk\x49" + bytes([len(code) + 2]) + b"{B" + code in job   # CODE128 of what the exit scans
    assert ticket.ticket.printed.encode() in job
    assert re.search(rb"Plate {10,}" + plate.encode(), job)                         # label left, value right
    entries = gw.client("AuditService", user="admin").QueryAudit(Action="PrintTicket")
    assert any(e.Subject == session_id and e.User == "operator" for e in entries)


def test_the_ticket_prints_in_the_officers_language(gw, printer):
    officer = logged_in(gw, "operator", language="id")
    session_id, _ = typed_entry(officer, unique_plate())
    printer.received.clear()
    officer.post(f"/ticket/{session_id}/print")
    assert printer.received.wait(10)
    assert b"Tiket parkir" in printer.jobs[-1] and b"Plat nomor" in printer.jobs[-1]


def test_a_printer_that_is_not_there_is_a_message_not_a_crash(gw):
    officer = logged_in(gw, "operator")
    session_id, _ = typed_entry(officer, unique_plate())
    printing = gw.service.use_cases.printing
    gone = RecordingPrinter()
    gone.server_close()                       # a port nobody listens on any more
    printing.printer.port, port = gone.port, printing.printer.port
    try:
        r = officer.post(f"/ticket/{session_id}/print")
    finally:
        printing.printer.port = port
    assert r.status_code == 200 and "did not take the job" in r.text
    assert officer.get("/dashboard").status_code == 200


def test_encoding_columns_and_characters_the_printer_lacks():
    data = encode(Receipt(heading=[Line("Garage €", "center", bold=True)], rows=[("Fee", "Rp15.000")],
                          footer=[], barcode=None), columns=32)
    assert b"\x1ba\x01" in data and b"\x1bE\x01" in data and b"Garage ?\n" in data   # no euro sign in cp437
    assert b"Fee" + b" " * (32 - 3 - 8) + b"Rp15.000\n" in data
    assert b"-" * 32 + b"\n" in data and b"\x1dk" not in data


def test_the_receipt_and_the_shift_report_print(gw, printer):
    from datetime import timedelta
    officer = logged_in(gw, "admin")   # an admin at the desk keeps a shift too
    if 'id="close-shift"' in officer.get("/shift").text:
        officer.post("/shift/close", {"declared-CASH": "0"})
    officer.post("/shift/open", {"float": "20"})
    session_id, _ = typed_entry(officer, unique_plate())
    gw.clock.advance(timedelta(minutes=30))
    try:
        officer = logged_in(gw, "admin")
        r = officer.post("/exit/pay", {"session": session_id, "method": "CASH", "tendered": "5"})
        payment_id = r.url.split("/console/receipts/")[1].split("?")[0]
        printer.received.clear()
        r = officer.post(f"/receipts/{payment_id}/print")
        assert "receipt went to the receipt printer" in r.text and printer.received.wait(10)
        job = printer.jobs[-1]
        assert b"Payment receipt" in job and re.search(rb"Change {10,}\$2\.00", job) and job.endswith(CUT)
        r = officer.post("/shift/close", {"declared-CASH": "23"})
        shift_id = r.url.split("/console/shift/")[1]
        printer.received.clear()
        officer.post(f"/shift/{shift_id}/print")
        assert printer.received.wait(10)
        assert b"Shift report" in printer.jobs[-1] and b"$23.00" in printer.jobs[-1]
    finally:
        gw.clock.now = SettableClock().now
