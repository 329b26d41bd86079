"""China working days, checked by hand against the State Council holiday arrangements.

2025 Spring Festival: off Tue 28 Jan – Tue 4 Feb; make-up working days Sun 26 Jan and Sat 8 Feb.
2025 National Day + Mid-Autumn: off Wed 1 Oct – Wed 8 Oct; make-up days Sun 28 Sep, Sat 11 Oct.
"""

from __future__ import annotations

import datetime as dt

import pytest

from mrv.registry.calendar import (
    add_working_days,
    is_working_day,
    last_working_days,
    working_days_between,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 1, 24), True),  # Friday
        (D(2025, 1, 25), False),  # Saturday
        (D(2025, 1, 26), True),  # Sunday, make-up working day
        (D(2025, 1, 28), False),  # Spring Festival eve (a Tuesday)
        (D(2025, 2, 4), False),  # last day off (a Tuesday)
        (D(2025, 2, 5), True),
        (D(2025, 2, 8), True),  # Saturday, make-up working day
        (D(2025, 9, 28), True),  # Sunday, make-up working day
        (D(2025, 10, 1), False),
        (D(2025, 10, 8), False),  # Wednesday, still off
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),  # Saturday, make-up working day
        (D(2025, 10, 12), False),  # Sunday
        (D(2026, 3, 2), True),  # an ordinary Monday
    ],
)
def test_is_working_day(day: dt.date, working: bool) -> None:
    assert is_working_day(day) is working


def test_add_working_days_spring_festival_2025() -> None:
    start = D(2025, 1, 24)  # Friday
    assert add_working_days(start, 0) == start
    assert add_working_days(start, 1) == D(2025, 1, 26)  # the working Sunday
    assert add_working_days(start, 2) == D(2025, 1, 27)
    assert add_working_days(start, 3) == D(2025, 2, 5)  # after eight days off
    assert add_working_days(start, 6) == D(2025, 2, 8)  # the working Saturday
    assert add_working_days(start, 7) == D(2025, 2, 10)
    assert add_working_days(D(2025, 2, 5), -3) == D(2025, 1, 24)


def test_add_working_days_national_day_2025() -> None:
    start = D(2025, 9, 26)  # Friday
    assert [add_working_days(start, n) for n in range(1, 8)] == [
        D(2025, 9, 28),
        D(2025, 9, 29),
        D(2025, 9, 30),
        D(2025, 10, 9),
        D(2025, 10, 10),
        D(2025, 10, 11),
        D(2025, 10, 13),
    ]
    # 20 working days (CCER public notice): 28, 29, 30 Sep; 9, 10, 11 Oct; 13–17, 20–24 Oct
    # (16 so far); 27, 28, 29, 30 Oct -> the 20th is Thursday 30 Oct.
    assert add_working_days(start, 20) == D(2025, 10, 30)
    # March 2026 has no holiday: Tue 3 … Mon 30 March is 20 working days after Mon 2 March
    assert add_working_days(D(2026, 3, 2), 20) == D(2026, 3, 30)


def test_working_days_between() -> None:
    # (24 Jan, 9 Feb 2025]: 26, 27 Jan and 5, 6, 7, 8 Feb
    assert working_days_between(D(2025, 1, 24), D(2025, 2, 9)) == 6
    assert working_days_between(D(2025, 2, 9), D(2025, 1, 24)) == -6
    assert working_days_between(D(2025, 1, 24), D(2025, 1, 24)) == 0
    assert working_days_between(D(2025, 9, 30), D(2025, 10, 8)) == 0
    # all of 2025: 261 weekdays - 18 weekdays off (1 Jan; 28-31 Jan, 3-4 Feb; 4 Apr; 1-2, 5 May;
    # 2 Jun; 1-3, 6-8 Oct) + 5 make-up days (26 Jan, 8 Feb, 27 Apr, 28 Sep, 11 Oct) = 248
    assert working_days_between(D(2024, 12, 31), D(2025, 12, 31)) == 248
    for n in (1, 5, 20, 30):
        assert working_days_between(D(2025, 9, 26), add_working_days(D(2025, 9, 26), n)) == n


def test_last_working_days() -> None:
    assert last_working_days(D(2025, 10, 12), 4) == [
        D(2025, 9, 30),
        D(2025, 10, 9),
        D(2025, 10, 10),
        D(2025, 10, 11),
    ]
    # an end that is a working day is included
    assert last_working_days(D(2025, 10, 9), 2) == [D(2025, 9, 30), D(2025, 10, 9)]
    assert last_working_days(D(2025, 1, 27), 2) == [D(2025, 1, 26), D(2025, 1, 27)]
    assert last_working_days(D(2025, 1, 27), 0) == []
    thirty = last_working_days(D(2025, 10, 31), 30)
    assert len(thirty) == 30 and thirty[-1] == D(2025, 10, 31)
    # October: 9-11, 13-17, 20-24, 27-31 = 18; 28-30 Sep = 21; 22-26 Sep = 26; 16-19 Sep = 30
    assert thirty[0] == D(2025, 9, 16)
    with pytest.raises(ValueError, match="non-negative"):
        last_working_days(D(2025, 1, 1), -1)
