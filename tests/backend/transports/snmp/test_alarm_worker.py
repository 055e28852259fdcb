"""The worker's record of done journal records stays a few ranges however long a hole lasts."""

from __future__ import annotations

from promptlink.transports.snmp.alarm_worker import SeqRanges


def test_done_records_are_ranges_and_the_low_water_mark_moves_over_them() -> None:
    done = SeqRanges().union(range(5, 100_005))  # a storm's records done while seq 3 and 4 wait (deferred)
    assert done.ranges == [[5, 100_004]] and len(done) == 100_000
    low, done = done.advance(3)
    assert low == 3 and 4 not in done and 5 in done and 100_005 not in done
    low, done = done.union([4, 3, 100_006]).advance(low)
    assert low == 100_005 and done.ranges == [[100_006, 100_006]] and len(done) == 1
    low, rest = SeqRanges([[1, 2], [10, 12]]).advance(1)
    assert low == 3 and rest.ranges == [[10, 12]]
