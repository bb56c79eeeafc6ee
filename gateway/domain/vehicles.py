"""Which frames at a lane show one vehicle.

Lane cameras often send a burst: several pictures (or readings) of the same car within a second
or two. A frame at the same lane, in the same direction, within the window of the vehicle's first
frame, with a similar reading (same length and at most two characters apart, or one character
more), is another look at that vehicle.
"""

from datetime import datetime, timedelta


def similar(a: str, b: str, max_differences: int = 2) -> bool:
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= max_differences
    short, long_ = sorted((a, b), key=len)
    return len(long_) - len(short) == 1 and short in long_


def within(first_seen: datetime, when: datetime, window: timedelta) -> bool:
    """A frame at ``when`` falls in the window opened by a vehicle's first frame."""
    return timedelta(0) <= when - first_seen <= window
