"""An officer's shift at a booth or lane: opened with a float, closed with the cash counted,
reported for the supervisor who signs it off. The report is a pure sum over the shift's journal."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .errors import InvalidInput
from .payments import CASH, METHODS, PAYMENT, REFUND, VOID, ZERO, PaymentEntry, in_cents

OPEN, CLOSED, SIGNED = "OPEN", "CLOSED", "SIGNED"


@dataclass(frozen=True)
class Shift:
    id: str
    officer: str
    facility_id: str
    lane_number: int | None
    booth: str | None
    currency: str
    opening_float: Decimal
    opened_at: datetime
    state: str                                   # OPEN, CLOSED, SIGNED
    closed_at: datetime | None = None
    declared: Mapping[str, Decimal] = field(default_factory=dict)   # method -> counted at close
    signed_by: str | None = None
    signed_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True)
class MethodLine:
    method: str
    count: int
    expected: Decimal                            # cash: with the float
    declared: Decimal | None
    difference: Decimal | None                   # declared - expected


@dataclass(frozen=True)
class ShiftReport:
    shift: Shift
    transactions: Sequence[PaymentEntry]
    by_method: Sequence[MethodLine]
    by_vehicle_type: Mapping[str, Decimal]
    taken: Decimal                               # net of voids and refunds
    voids: Sequence[PaymentEntry]
    lost_tickets: int
    lost_ticket_amount: Decimal
    overnight: int                               # vehicles present past the cut-off at the report's time

    @property
    def cash(self) -> MethodLine:
        return next(line for line in self.by_method if line.method == CASH)


def opening_float(amount: Decimal) -> Decimal:
    """The cash a shift starts with: counted money, in whole cents."""
    in_cents(amount, "OpeningFloat")
    if amount < 0:
        raise InvalidInput("an opening float is not negative", "OpeningFloat")
    return amount


def declared_amounts(values: Mapping[str, Decimal]) -> dict[str, Decimal]:
    out = {}
    for method, amount in values.items():
        if method not in METHODS:
            raise InvalidInput(f"a payment method is one of {', '.join(METHODS)}", "Declared")
        in_cents(amount, "Declared")
        if amount < 0:
            raise InvalidInput("a declared amount is not negative", "Declared")
        out[method] = amount
    if CASH not in out:
        raise InvalidInput("the cash counted is required", "Declared")
    return out


def report(shift: Shift, journal: Sequence[PaymentEntry], lost: Sequence[Decimal], overnight: int) -> ShiftReport:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    counts: dict[str, int] = defaultdict(int)
    by_type: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in journal:
        totals[entry.method] += entry.amount
        by_type[entry.vehicle_type] += entry.amount
        if entry.kind == PAYMENT:
            counts[entry.method] += 1
    lines = []
    for method in METHODS:
        expected = totals[method] + (shift.opening_float if method == CASH else ZERO)
        declared = shift.declared.get(method) if shift.state != OPEN else None
        lines.append(MethodLine(method, counts[method], expected, declared,
                                None if declared is None else declared - expected))
    return ShiftReport(shift, tuple(journal), tuple(lines), dict(by_type), sum(totals.values(), ZERO),
                       tuple(e for e in journal if e.kind in (VOID, REFUND)), len(lost), sum(lost, ZERO), overnight)
