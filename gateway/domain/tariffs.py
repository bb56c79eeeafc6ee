"""What a stay costs: pure functions over a facility's :class:`~gateway.domain.facility.Tariff`."""

from datetime import datetime, timedelta
from decimal import Decimal

from .facility import Tariff

DAY = timedelta(hours=24)
ZERO = Decimal("0.00")
CENTS = Decimal("0.01")


def fee(tariff: Tariff, entry: datetime, leave: datetime) -> Decimal:
    """The charge for a stay from ``entry`` to ``leave``.

    Free within the grace period; otherwise every started period is charged from the
    entry on, and each 24 hours of the stay cost at most the daily maximum (the maximum
    repeats per 24 h, counted from the entry).
    """
    stay = leave - entry
    if stay <= tariff.grace:
        return ZERO
    days, rest = divmod(stay, DAY)
    periods = -(-rest // tariff.period)  # started periods
    partial = min(periods * tariff.price_per_period, tariff.daily_maximum)
    return (days * tariff.daily_maximum + partial).quantize(CENTS)


def amount_due(tariff: Tariff, entry: datetime, leave: datetime, paid: Decimal,
               paid_at: datetime | None = None) -> Decimal:
    """What is still owed when leaving at ``leave`` after paying ``paid`` at ``paid_at``.

    A payment covers the stay up to the moment it was made, plus the tariff's
    ``exit_after_payment`` time to reach the exit.
    """
    until = leave
    if paid_at is not None and leave - paid_at <= tariff.exit_after_payment:
        until = max(paid_at, entry)
    return max(fee(tariff, entry, until) - paid, ZERO).quantize(CENTS)
