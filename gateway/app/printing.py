"""Tickets and receipts on the booth's network receipt printer (ESC/POS, port 9100), where one is
configured (``[console] printer``). The console composes what prints (in the officer's language);
this sends it within the printer's deadline and records that it printed."""

from typing import Protocol

from printer.escpos import PrinterUnavailable, Receipt

from ..domain.errors import DeviceUnavailable
from .audit import Audit


class ReceiptPrinter(Protocol):
    def print(self, receipt: Receipt) -> int: ...


class Printing:
    def __init__(self, *, printer: ReceiptPrinter | None, audit: Audit) -> None:
        self.printer = printer
        self.audit = audit

    @property
    def configured(self) -> bool:
        return self.printer is not None

    def print(self, receipt: Receipt, what: str, subject: str, username: str) -> int:
        """Print ``receipt`` (a ``what``: Ticket, Receipt, ShiftReport, about ``subject``); the bytes sent.
        Blocks up to the printer's deadline: call it from a request thread."""
        if self.printer is None:
            raise DeviceUnavailable("no receipt printer is configured ([console] printer)", "printer")
        try:
            sent = self.printer.print(receipt)
        except PrinterUnavailable as e:
            raise DeviceUnavailable(str(e), "printer") from None
        self.audit.record(username, f"Print{what}", subject, f"{sent} bytes", kind="SYSTEM")
        return sent
