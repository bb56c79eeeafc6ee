"""ESC/POS, the command language of receipt printers (Epson's, and the many that copy it), for the
few things a parking receipt needs: text left, centred or in two columns, bold and double size, a
rule, a CODE128 barcode the exit's scanner reads, and a cut. Sent raw to TCP port 9100 ("JetDirect"),
which every networked receipt printer listens on, with a deadline on connecting and on sending.

A small encoder rather than python-escpos: that library brings USB, serial, image and QR stacks for
what is here a dozen command bytes.
"""

import socket
from dataclasses import dataclass, field

ESC, GS = b"\x1b", b"\x1d"
INIT = ESC + b"@"
CUT = GS + b"V\x42\x00"            # feed to the cutter and cut (partial cut where there is one)
_ALIGN = {"left": 0, "center": 1, "right": 2}


@dataclass(frozen=True)
class Line:
    text: str = ""
    align: str = "left"
    bold: bool = False
    large: bool = False             # double width and height


@dataclass(frozen=True)
class Receipt:
    """What prints, top to bottom: heading lines, label/value rows, then footer lines and a barcode."""
    heading: list[Line] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)
    footer: list[Line] = field(default_factory=list)
    barcode: str | None = None      # CODE128 (code set B: printable ASCII)


def _text(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


def encode(receipt: Receipt, *, columns: int = 42, encoding: str = "cp437") -> bytes:
    """The printer's bytes for ``receipt`` on paper ``columns`` characters wide (42 on 80 mm paper
    in font A... 48 with font B; 32 on 58 mm)."""
    out = bytearray(INIT)

    def line(item: Line) -> None:
        out.extend(ESC + b"a" + bytes([_ALIGN[item.align]]))
        out.extend(ESC + b"E" + bytes([1 if item.bold else 0]))
        out.extend(GS + b"!" + (b"\x11" if item.large else b"\x00"))
        out.extend(_text(item.text, encoding) + b"\n")

    for item in receipt.heading:
        line(item)
    out.extend(ESC + b"a\x00" + ESC + b"E\x00" + GS + b"!\x00")
    out.extend(b"-" * columns + b"\n")
    for label, value in receipt.rows:
        room = max(columns - len(value) - 1, 1)
        out.extend(_text(label[:room].ljust(room) + " " + value, encoding) + b"\n")
    out.extend(b"-" * columns + b"\n")
    for item in receipt.footer:
        line(item)
    if receipt.barcode:
        data = receipt.barcode.encode("ascii", errors="replace")[:250]
        out.extend(ESC + b"a\x01")                         # centred
        out.extend(GS + b"h\x50" + GS + b"w\x02" + GS + b"H\x02")   # 80 dots high, module 2, text below
        out.extend(GS + b"k\x49" + bytes([len(data) + 2]) + b"{B" + data + b"\n")
    out.extend(b"\n\n" + CUT)
    return bytes(out)


class PrinterUnavailable(Exception):
    pass


class NetworkPrinter:
    """A receipt printer on the network (raw TCP, port 9100). ``send`` blocks up to ``timeout`` for
    connecting and again for sending: call it off the reactor."""

    def __init__(self, *, host: str, port: int = 9100, timeout: float = 3.0, columns: int = 42) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.columns = columns

    def print(self, receipt: Receipt) -> int:
        """Print ``receipt``; the bytes sent. PrinterUnavailable when the printer cannot be reached."""
        data = encode(receipt, columns=self.columns)
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as conn:
                conn.settimeout(self.timeout)
                conn.sendall(data)
                conn.shutdown(socket.SHUT_WR)
        except OSError as e:
            raise PrinterUnavailable(f"the receipt printer at {self.host}:{self.port} did not take the job "
                                     f"({type(e).__name__})") from None
        return len(data)
