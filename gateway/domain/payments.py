"""Taking a payment: which methods there are, what each must say, what is applied and given back.

Pure rules over what is owed and what the payer tendered. No card number is ever kept: a card
payment carries the terminal's reference and the last four digits at most, and anything that
looks like a card number is refused before it could be stored.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .errors import Conflict, InvalidInput

CASH, CARD, EWALLET, VOUCHER, PERMIT = "CASH", "CARD", "EWALLET", "VOUCHER", "PERMIT"
METHODS = (CASH, CARD, EWALLET, VOUCHER, PERMIT)
PAYMENT, VOID, REFUND = "PAYMENT", "VOID", "REFUND"
ZERO = Decimal("0.00")
CENTS = Decimal("0.01")
#: The most one amount can be: what the store's money columns hold (14 digits, 4 of them after the point).
MAX_AMOUNT = Decimal("9999999999.99")
_PAN = re.compile(r"\d[\d -]{10,}\d")   # 12 or more digits in a row: a card number, never kept


@dataclass(frozen=True)
class Tender:
    """What the payer hands over. ``amount``: what to apply (default: all that is due);
    ``tendered``: the cash handed over (cash only)."""
    method: str
    amount: Decimal | None = None
    tendered: Decimal | None = None
    reference: str | None = None     # card terminal, e-wallet transaction, voucher code, permit number
    card_last_four: str | None = None
    currencies: tuple[str, ...] = ()  # the currencies ``amount`` and ``tendered`` were given in (none: the facility's)


@dataclass(frozen=True)
class Settlement:
    amount: Decimal                  # applied to what is owed
    tendered: Decimal | None
    change: Decimal | None
    partial: bool                    # less than what was due, by the facility's policy


@dataclass(frozen=True)
class PaymentEntry:
    """One line of the payments journal: a payment, or a void or refund of one (negative)."""
    id: str
    session_id: str
    facility_id: str
    kind: str                        # PAYMENT, VOID, REFUND
    method: str
    amount: Decimal                  # signed: voids and refunds are negative
    currency: str
    paid_at: datetime
    recorded_by: str
    vehicle_type: str
    lane_number: int | None
    shift_id: str | None             # an officer's payment: their open shift
    channel: str | None              # an integrator's payment: its channel (the integrator)
    tendered: Decimal | None = None
    change: Decimal | None = None
    reference: str | None = None
    card_last_four: str | None = None
    partial: bool = False
    original_id: str | None = None   # what a void or refund reverses
    reason: str | None = None
    authorised_by: str | None = None


def checked_method(method: str) -> str:
    m = (method or "").upper().replace("-", "").replace("_", "")
    m = {"QR": EWALLET, "WALLET": EWALLET, "VALIDATION": VOUCHER}.get(m, m)
    if m not in METHODS:
        raise InvalidInput(f"a payment method is one of {', '.join(METHODS)}", "Method")
    return m


def checked_currency(given: Iterable[str], expected: str, field: str) -> None:
    """Money given in another currency is refused, never read as ``expected`` (nothing converts)."""
    if any(c != expected for c in given):
        raise InvalidInput(f"this facility takes {expected}", field)


def in_cents(amount: Decimal | None, field: str) -> None:
    """Money changes hands in whole cents: a fraction of one is refused, never rounded into a
    payment, a change or a refund that differs from what changed hands. An amount past what the
    books hold is refused too (stored, it would fail the database or every report that sums it)."""
    if amount is None:
        return
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise InvalidInput(f"an amount is at most {MAX_AMOUNT}", field)
    if amount != amount.quantize(CENTS):
        raise InvalidInput("an amount is in whole cents (at most two decimals)", field)


def settle(tender: Tender, due: Decimal, partial_allowed: bool, currency: str | None = None) -> Settlement:
    """What ``tender`` pays towards ``due`` (in ``currency``), and the change; refused when it cannot
    be taken."""
    method = checked_method(tender.method)
    if currency is not None:
        checked_currency(tender.currencies, currency, "Amount")
    in_cents(tender.amount, "Amount")
    in_cents(tender.tendered, "Tendered")
    if tender.reference and _PAN.search(tender.reference):
        raise InvalidInput("a reference must not be a card number (give the last four digits only)", "Reference")
    if tender.card_last_four is not None and not re.fullmatch(r"[0-9]{4}", tender.card_last_four):
        raise InvalidInput("the last four digits of the card, and no more", "CardLastFour")
    if method != CARD and tender.card_last_four is not None:
        raise InvalidInput("last four digits belong to card payments", "CardLastFour")
    if method in (CARD, EWALLET, VOUCHER, PERMIT) and not tender.reference:
        raise InvalidInput(f"a {method} payment needs its reference", "Reference")
    if method != CASH and tender.tendered is not None:
        raise InvalidInput("only cash is tendered", "Tendered")
    return paid_towards(method, due, tender.amount, tender.tendered, partial_allowed)


def paid_towards(method: str, due: Decimal, amount: Decimal | None, tendered: Decimal | None,
                 partial_allowed: bool) -> Settlement:
    """What ``amount`` (and the cash ``tendered``) of a checked ``method`` applies to ``due``: cash above
    it is change, any other method above it is refused (a report counts only what was due)."""
    if due <= 0:
        raise Conflict("nothing is due", "SessionID")
    if method == CASH:
        tendered = tendered if tendered is not None else amount
        if tendered is None or tendered <= 0:
            raise InvalidInput("cash needs the amount tendered", "Tendered")
        if amount is not None and amount <= 0:
            raise InvalidInput("a payment is a positive amount", "Amount")
        wanted = min(amount, due) if amount is not None else due
        applied = min(tendered, wanted)
        settlement = Settlement(applied.quantize(CENTS), tendered, (tendered - applied).quantize(CENTS),
                                applied < due)
    else:
        applied = amount if amount is not None else due
        if applied <= 0:
            raise InvalidInput("a payment is a positive amount", "Amount")
        if applied > due:
            raise InvalidInput(f"more than is due ({due})", "Amount")
        settlement = Settlement(applied.quantize(CENTS), None, None, applied < due)
    if settlement.partial and not partial_allowed:
        raise InvalidInput(f"{due} is due: this facility takes no partial payments", "Amount")
    return settlement


def reversible(original: PaymentEntry, already_reversed: Decimal, amount: Decimal | None) -> Decimal:
    """How much a refund (or void: ``amount`` None) of ``original`` takes back."""
    if original.kind != PAYMENT:
        raise Conflict("only a payment is voided or refunded", "PaymentID")
    left = original.amount + already_reversed     # already_reversed is negative
    if left <= 0:
        raise Conflict("the payment was voided or refunded already", "PaymentID")
    if amount is None:
        if already_reversed:
            raise Conflict("a partly refunded payment cannot be voided", "PaymentID")
        return left
    in_cents(amount, "Amount")
    if amount <= 0 or amount > left:
        raise InvalidInput(f"a refund is more than 0 and at most {left}", "Amount")
    return amount
