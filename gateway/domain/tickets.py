"""Parking tickets: the number a transient entry is given, printed, and scanned at the exit.

A ticket number is twelve random digits (nothing in one tells the next) and four check digits,
a keyed hash of the facility and those twelve: a number made up, or mistyped, fails the check
before anything is looked up. The scannable code carries the facility and the number.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .errors import InvalidInput
from .facility import ACTUAL_FEE, LOST_TICKET_AMOUNT

SERIAL_DIGITS, CHECK_DIGITS = 12, 4
ISSUED, USED, LOST = "ISSUED", "USED", "LOST"
CODE_PREFIX = "PGT1"

@dataclass(frozen=True)
class Ticket:
    facility_id: str
    number: str
    session_id: str
    issued_at: datetime
    lane_number: int
    vehicle_type: str
    state: str                       # ISSUED, USED, LOST
    closed_at: datetime | None = None

    @property
    def printed(self) -> str:
        return printed(self.number)


def printed(number: str) -> str:
    """A number as printed for people: 1234-5678-9012-3456."""
    return "-".join(number[i:i + 4] for i in range(0, len(number), 4))


class TicketCodes:
    """Makes and checks ticket numbers with the gateway's secret (the same on every node)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _check(self, facility_id: str, serial: str) -> str:
        digest = hmac.new(self._key, f"{facility_id}\n{serial}".encode(), hashlib.sha256).digest()
        return f"{int.from_bytes(digest[:8], 'big') % 10 ** CHECK_DIGITS:0{CHECK_DIGITS}d}"

    def new_number(self, facility_id: str, draw: Callable[[int], int] = secrets.randbelow) -> str:
        serial = f"{draw(10 ** SERIAL_DIGITS):0{SERIAL_DIGITS}d}"
        return serial + self._check(facility_id, serial)

    def verify(self, facility_id: str, typed: str) -> str:
        """The number ``typed`` (spaces and dashes allowed) if its check holds, else InvalidInput."""
        number = re.sub(r"[\s-]", "", typed or "")
        if not re.fullmatch(rf"[0-9]{{{SERIAL_DIGITS + CHECK_DIGITS}}}", number):   # \d: any script's digits
            raise InvalidInput(f"a ticket number is {SERIAL_DIGITS + CHECK_DIGITS} digits", "TicketNumber")
        serial, check = number[:SERIAL_DIGITS], number[SERIAL_DIGITS:]
        if not hmac.compare_digest(check, self._check(facility_id, serial)):
            raise InvalidInput("the ticket number does not check: not a ticket of this facility", "TicketNumber")
        return number

    @staticmethod
    def code(facility_id: str, number: str) -> str:
        """What the ticket's QR code carries."""
        return f"{CODE_PREFIX}:{facility_id}:{number}"

    def scanned(self, code: str) -> tuple[str, str]:
        """(facility, number) of a scanned code, checked."""
        parts = (code or "").strip().split(":")
        if len(parts) != 3 or parts[0] != CODE_PREFIX:
            raise InvalidInput("not a parkgate ticket code", "TicketCode")
        return parts[1], self.verify(parts[1], parts[2])


def lost_ticket_charge(policy: str, lost_ticket_amount: Decimal, actual_fee: Decimal) -> Decimal:
    """What a lost ticket costs by the facility's policy (the stay's entry is known: its fee is)."""
    if policy == LOST_TICKET_AMOUNT:
        return lost_ticket_amount
    if policy == ACTUAL_FEE:
        return actual_fee
    return max(lost_ticket_amount, actual_fee)


def owed_after_lost_ticket(charge: Decimal, due: Decimal, paid: Decimal,
                           lost_charge: Decimal | None) -> tuple[Decimal, Decimal]:
    """(charge, still due) of an open stay whose ticket was processed as lost: at least the lost
    charge, so a car cannot leave by its plate paying only the fee of its stay."""
    if lost_charge is None:
        return charge, due
    return max(charge, lost_charge), max(due, lost_charge - paid, Decimal("0.00"))


@dataclass(frozen=True)
class LostTicket:
    """A lost ticket processed at a booth: what it was charged, by which policy, who did it and why."""
    id: str
    facility_id: str
    session_id: str
    ticket_number: str | None
    at: datetime
    recorded_by: str
    reason: str
    policy: str
    charge: Decimal
    currency: str
    shift_id: str | None
