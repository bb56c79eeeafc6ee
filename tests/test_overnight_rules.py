"""Which vehicles stayed overnight (gateway.domain.tickets.last_cutoff), on ordinary days and on
the days the clocks change."""

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from gateway.domain.tickets import first_cutoff_after, last_cutoff

LA = ZoneInfo("America/Los_Angeles")


def local(*args):
    return datetime(*args, tzinfo=LA)


@pytest.mark.parametrize(("at", "expected"), [
    (local(2026, 6, 10, 0, 30), local(2026, 6, 10, 0, 0)),
    (local(2026, 6, 10, 0, 0), local(2026, 6, 10, 0, 0)),          # at the cut-off: it counts
    (local(2026, 6, 9, 23, 59), local(2026, 6, 9, 0, 0)),
    (local(2026, 3, 9, 0, 30), local(2026, 3, 9, 0, 0)),            # after the 23-hour day (clocks forward)
    (local(2026, 11, 2, 0, 30), local(2026, 11, 2, 0, 0)),          # after the 25-hour day (clocks back)
    (local(2026, 3, 8, 12, 0), local(2026, 3, 8, 0, 0)),
])
def test_the_last_cutoff_is_that_of_the_local_day(at, expected):
    """It was taken as the first cut-off after 24 hours before: on 9 March at 00:30, after a day of
    23 hours, that is 8 March's, so a car in since 8 March at noon was not listed as overnight."""
    got = last_cutoff(at.astimezone(timezone.utc), LA, time(0))
    assert got == expected and got.tzinfo == timezone.utc


def test_a_cutoff_in_the_skipped_hour():
    """02:30 does not exist on 8 March 2026 in Los Angeles; its cut-off is an instant all the same,
    and the last one and the next one agree."""
    at = local(2026, 3, 8, 12, 0).astimezone(timezone.utc)
    cut = last_cutoff(at, LA, time(2, 30))
    assert cut < at and first_cutoff_after(cut, LA, time(2, 30)) > at


def test_a_cutoff_in_the_repeated_hour_is_the_next_after_the_entry():
    """On 1 November 2026 01:00-02:00 happens twice in Los Angeles. A car in at the second 01:15
    (PST) is past the first 01:30 (PDT, 15 minutes before it came) and reaches the second."""
    entry = datetime(2026, 11, 1, 9, 15, tzinfo=timezone.utc)            # 01:15 PST, the second one
    got = first_cutoff_after(entry, LA, time(1, 30))
    assert got == datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc) and got > entry
    first = datetime(2026, 11, 1, 8, 15, tzinfo=timezone.utc)            # 01:15 PDT, the first one
    assert first_cutoff_after(first, LA, time(1, 30)) == datetime(2026, 11, 1, 8, 30, tzinfo=timezone.utc)
    assert first_cutoff_after(datetime(2026, 6, 10, 9, 0, tzinfo=timezone.utc), LA, time(1, 30)) == \
        datetime(2026, 6, 11, 8, 30, tzinfo=timezone.utc)                 # 02:00 PDT: tomorrow's
