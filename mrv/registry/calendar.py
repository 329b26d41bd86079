"""China working days: statutory holidays and weekend make-up workdays (调休).

Deadlines of the CCER rules are counted in working days (public notice: 20 working days, CCER
Measures Art. 12 and 19; registry decision: 15 working days, Art. 15 and 22); the Anji collection
price is the average ETS price of the previous 30 trading days (registries.md §2.5). The
calendar is :class:`holidays.China`, which knows the State Council's holiday arrangement of
each year including the weekend days that become working days (e.g. Sunday 2025-01-26). For years
the package has no arrangement for, only the statutory holidays and weekends are known.

Convention: a period of *n* working days starting on a date does not count that date and ends
on the *n*-th working day after it (Civil Code Art. 201: "开始的当日不计入，自下一日开始计算").
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
from holidays import country_holidays

_MAX_SPAN_DAYS = 366 * 200
"""Guard against runaway loops: no registry period spans more than two centuries."""


@cache
def _year(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """(non-working weekdays, working weekend days) of ``year``."""
    cal = country_holidays("CN", years=year)  # holidays.China
    off = frozenset(d for d in cal if d.year == year and d.weekday() < 5)
    workdays = frozenset(d for d in cal.weekend_workdays if d.year == year)
    return off, workdays


def is_working_day(d: dt.date) -> bool:
    """Whether ``d`` is a working day in mainland China (make-up weekend days included)."""
    off, weekend_workdays = _year(d.year)
    if d.weekday() >= 5:
        return d in weekend_workdays
    return d not in off


def working_days_between(a: dt.date, b: dt.date) -> int:
    """The number of working days in ``(a, b]`` (negative, counted in ``(b, a]``, if b < a).

    Consistent with :func:`add_working_days`: ``working_days_between(a, add_working_days(a, n))
    == n`` for ``n >= 1``.
    """
    if b < a:
        return -working_days_between(b, a)
    first, last = a + dt.timedelta(days=1), b  # inclusive range
    if first > last:
        return 0
    count = int(np.busday_count(first, last + dt.timedelta(days=1)))
    for year in range(first.year, last.year + 1):
        off, weekend_workdays = _year(year)
        count -= sum(1 for d in off if first <= d <= last)
        count += sum(1 for d in weekend_workdays if first <= d <= last)
    return count


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The date on which a period of ``n`` working days starting on ``start`` ends.

    ``start`` itself is not counted (Civil Code Art. 201): the result is the ``n``-th working
    day after ``start``; ``n = 0`` gives ``start``. Negative ``n`` counts backwards.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("n must be an int")
    step = dt.timedelta(days=1 if n >= 0 else -1)
    day, left = start, abs(n)
    for _ in range(_MAX_SPAN_DAYS):
        if left == 0:
            return day
        day += step
        if is_working_day(day):
            left -= 1
    raise ValueError(f"{n} working days from {start} is out of range")


def last_working_days(end: dt.date, n: int) -> list[dt.date]:
    """The ``n`` working days ending at ``end`` (including ``end`` if it is one), oldest first.

    Used for reference prices over the previous N trading days (Anji: 30, registries.md §2.5).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError("n must be a non-negative int")
    days: list[dt.date] = []
    day = end
    for _ in range(_MAX_SPAN_DAYS):
        if len(days) == n:
            return days[::-1]
        if is_working_day(day):
            days.append(day)
        day -= dt.timedelta(days=1)
    raise ValueError(f"{n} working days before {end} is out of range")
