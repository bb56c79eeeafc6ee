"""Which frames at a lane show one vehicle.

Lane cameras often send a burst: several pictures (or readings) of the same car within a second
or two. A frame at the same lane, in the same direction, within the window of the vehicle's first
frame, is another look at that vehicle when the two readings can be of one plate: the same text,
or similar text (same length and at most two characters apart, or one character more) where at
least one of the two readings is unsure. Two sure, different readings are two vehicles: FLT1001
and FLT1002, both read at 0.97, are two cars, however alike.
"""

from datetime import datetime, timedelta
from decimal import Decimal


def similar(a: str, b: str, max_differences: int = 2) -> bool:
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= max_differences
    short, long_ = sorted((a, b), key=len)
    return len(long_) - len(short) == 1 and short in long_


def same_plate_possible(a: str, a_confidence: float, b: str, b_confidence: float, sure: Decimal) -> bool:
    """Whether readings ``a`` and ``b``, with their confidences, can be of one plate (``sure``: the
    confidence at which a reading decides on its own)."""
    if a == b:
        return True
    if a_confidence >= sure and b_confidence >= sure:
        return False
    return similar(a, b)


def within(first_seen: datetime, when: datetime, window: timedelta) -> bool:
    """A frame at ``when`` falls in the window opened by a vehicle's first frame."""
    return timedelta(0) <= when - first_seen <= window
