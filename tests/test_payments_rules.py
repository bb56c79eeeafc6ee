"""The payment rules alone (gateway.domain.payments.settle): what a tender pays and gives back."""

from decimal import Decimal

import pytest

from gateway.domain.errors import InvalidInput
from gateway.domain.payments import MAX_AMOUNT, Tender, in_cents, settle
from gateway.domain.shifts import declared_amounts, opening_float

DUE = Decimal("6.00")


@pytest.mark.parametrize("amount", ["0", "-5.00"])
def test_cash_applies_a_positive_amount_only(amount):
    """With partial payments allowed, cash of Amount 0 or -5.00 was "taken": a payment of -5.00 that
    lowered what the session had paid, and 6.00 of change for 1.00 tendered."""
    with pytest.raises(InvalidInput) as refused:
        settle(Tender("CASH", amount=Decimal(amount), tendered=Decimal("1.00")), DUE, partial_allowed=True)
    assert refused.value.field == "Amount"


def test_cash_below_what_is_due_is_partial_by_policy():
    s = settle(Tender("CASH", amount=Decimal("2.00"), tendered=Decimal("5.00")), DUE, partial_allowed=True)
    assert (s.amount, s.tendered, s.change, s.partial) == (Decimal("2.00"), Decimal("5.00"), Decimal("3.00"), True)
    with pytest.raises(InvalidInput):
        settle(Tender("CASH", tendered=Decimal("5.00")), DUE, partial_allowed=False)


@pytest.mark.parametrize("tender", [
    Tender("CARD", amount=Decimal("5.555"), reference="T-1"),       # was recorded as 5.56
    Tender("CASH", tendered=Decimal("5.555")),                        # 5.56 recorded, 5.555 in the drawer
    Tender("CASH", tendered=Decimal("20.005")),                       # change 14.005 given as 14.00
])
def test_a_fraction_of_a_cent_is_refused_not_rounded(tender):
    with pytest.raises(InvalidInput) as refused:
        settle(tender, DUE, partial_allowed=True)
    assert refused.value.field in ("Amount", "Tendered")
    whole = settle(Tender("CASH", tendered=Decimal("20.0000")), DUE, partial_allowed=False)
    assert (whole.amount, whole.change) == (Decimal("6.00"), Decimal("14.00"))


def test_a_refund_is_in_whole_cents():
    from datetime import datetime, timezone

    from gateway.domain.payments import PaymentEntry, reversible
    paid = PaymentEntry("PAY-1", "S-1", "LOT", "PAYMENT", "CASH", Decimal("6.00"), "USD",
                        datetime(2026, 1, 5, tzinfo=timezone.utc), "officer", "car", 2, "SHIFT-1", None)
    with pytest.raises(InvalidInput):
        reversible(paid, Decimal("0"), Decimal("2.005"))
    assert reversible(paid, Decimal("0"), Decimal("2.00")) == Decimal("2.00")


@pytest.mark.parametrize("amount", ["10000000000.00", "1E+30", "-1E+30", "Infinity", "NaN"])
def test_an_amount_past_what_the_books_hold_is_refused(amount):
    """A tender, a float, a count or a tariff price of 1E+30 was taken as any other: PostgreSQL's
    money columns then failed the request (an internal error), and SQLite kept it for every report
    that sums it to fail on."""
    with pytest.raises(InvalidInput) as refused:
        in_cents(Decimal(amount), "Tendered")
    assert refused.value.field == "Tendered"
    for check in (lambda: opening_float(Decimal(amount)), lambda: declared_amounts({"CASH": Decimal(amount)})):
        with pytest.raises(InvalidInput):
            check()
    in_cents(MAX_AMOUNT, "Tendered")
    in_cents(-MAX_AMOUNT, "Amount")         # a refund's signed amount
