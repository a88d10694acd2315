"""The simulation calendar: real dates, weekends, Norwegian public holidays, centre closures.

Day numbers follow Mesa's clock: day 1 is the first simulated date (the model's first step runs
at time 1). Index 0 of every array is the day before the start. The arrays run ``PAD_DAYS``
past the horizon so that stays booked near the end still get an end date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from bisect import bisect_left
from dataclasses import dataclass

import holidays
import numpy as np

PAD_DAYS = 400  # stays up to 90 presence days, plus closures, plus a queue under duty to assist

SUMMER_CLOSURE_FIRST_ISO_WEEK = 29
"""ASSUMPTION: centres that close in summer do so from ISO week 29 (Norway's common holiday
weeks 28-31); the brief says most close about two weeks in summer."""


@dataclass(frozen=True)
class Calendar:
    """Dates and day flags for days 0..n_days+PAD_DAYS."""

    start: dt.date
    n_days: int
    dates: np.ndarray  # datetime64[D]
    weekday: np.ndarray  # 0 = Monday
    iso_week: np.ndarray
    year: np.ndarray
    is_holiday: np.ndarray  # Norwegian public holiday (holidays package)
    day_of_month: np.ndarray
    is_dec31: np.ndarray

    @classmethod
    @functools.cache
    def build(cls, start_year: int, years: int) -> Calendar:
        """A calendar from 1 January of ``start_year`` for ``years`` whole years.

        Built once per process for each span (a calendar depends on nothing else) and shared by
        the models that run it, so its arrays are read-only."""
        start = dt.date(start_year, 1, 1)
        n_days = (dt.date(start_year + years, 1, 1) - start).days
        total = n_days + PAD_DAYS + 1
        first = np.datetime64(start) - np.timedelta64(1, "D")
        dates = first + np.arange(total).astype("timedelta64[D]")
        py_dates = dates.astype(dt.date)
        years_span = range(start_year - 1, start_year + years + 3)
        norway = holidays.Norway(years=years_span)
        is_holiday = np.fromiter((d in norway for d in py_dates), dtype=bool, count=total)
        iso = np.fromiter((d.isocalendar()[1] for d in py_dates), dtype=np.int16, count=total)
        calendar = cls(
            start=start,
            n_days=n_days,
            dates=dates,
            weekday=((dates.astype("int64") - 4) % 7).astype(np.int8),  # 1970-01-01 was Thursday
            iso_week=iso,
            year=dates.astype("datetime64[Y]").astype(int) + 1970,
            is_holiday=is_holiday,
            day_of_month=np.fromiter((d.day for d in py_dates), dtype=np.int8, count=total),
            is_dec31=np.fromiter(
                (d.month == 12 and d.day == 31 for d in py_dates), dtype=bool, count=total
            ),
        )
        for field in dataclasses.fields(calendar):
            value = getattr(calendar, field.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        return calendar

    def date(self, day: int) -> dt.date:
        """The date of a day number."""
        return self.start + dt.timedelta(days=day - 1)

    def first_day_of_year(self, year: int) -> int:
        """The day number of 1 January of ``year``."""
        return (dt.date(year, 1, 1) - self.start).days + 1

    def centre_open_days(
        self, weekend_policy: str, summer_closure_weeks: int, holidays_open: bool
    ) -> np.ndarray:
        """Boolean array: is the centre open (families present) on each day.

        - open_every_weekend: open every day but holidays (unless open) and summer closure.
        - every_other_weekend_closed: Saturday and Sunday closed in even ISO weeks.
        - all_weekends_closed: every Saturday and Sunday closed.
        - weekdays_only: families go home on Friday and return on Monday (Fri-Sun closed).
        """
        weekend = self.weekday >= 5
        if weekend_policy == "open_every_weekend":
            closed = np.zeros_like(weekend)
        elif weekend_policy == "every_other_weekend_closed":
            closed = weekend & (self.iso_week % 2 == 0)
        elif weekend_policy == "all_weekends_closed":
            closed = weekend
        elif weekend_policy == "weekdays_only":
            closed = self.weekday >= 4
        else:
            raise ValueError(f"unknown weekend policy {weekend_policy!r}")
        if not holidays_open:
            closed = closed | self.is_holiday
        if summer_closure_weeks > 0:
            first = SUMMER_CLOSURE_FIRST_ISO_WEEK
            summer = (self.iso_week >= first) & (self.iso_week < first + summer_closure_weeks)
            closed = closed | summer
        open_ = ~closed
        open_[0] = False
        return open_


@dataclass(frozen=True)
class CentreCalendar:
    """Pre-computed open days of one centre, for O(1) stay arithmetic (the cumulative counts
    are Python lists: single look-ups and ``bisect`` on them are much cheaper than numpy's)."""

    open: np.ndarray
    open_cum: list[int]  # open_cum[d] = open days among 1..d
    break_cum: list[int]  # break_cum[d] = closure breaks (open -> closed) among 1..d

    @classmethod
    def from_open(cls, open_days: np.ndarray, n_days: int) -> CentreCalendar:
        """Build the cumulative arrays from an open-day mask."""
        open_cum = np.cumsum(open_days, dtype=np.int32)
        starts = np.zeros_like(open_days)
        starts[1:] = open_days[:-1] & ~open_days[1:]
        break_cum = np.cumsum(starts, dtype=np.int32)
        return cls(open=open_days, open_cum=open_cum.tolist(), break_cum=break_cum.tolist())

    def breaks_per_month(self, start: int, days: int) -> float:
        """Closure breaks per 30 days over the ``days`` from ``start``: what a family starting a
        stay then meets (under the weekend and holiday policy in force in that period)."""
        end = min(start + max(days, 1), len(self.break_cum) - 1)
        start = min(max(start, 0), end - 1)
        return (self.break_cum[end] - self.break_cum[start]) / (end - start) * 30.0

    def next_open_day(self, day: int) -> int:
        """The first open day on or after ``day``."""
        return bisect_left(self.open_cum, self.open_cum[day - 1] + 1)

    def end_after_presence(self, start: int, presence_days: int) -> int:
        """The day a stay that starts on ``start`` ends, after ``presence_days`` open days.

        The end day is the first day after the last presence day (the unit is free again).
        """
        target = self.open_cum[start - 1] + presence_days
        last = bisect_left(self.open_cum, target)
        return min(last + 1, len(self.open) - 1)

    def presence_between(self, start: int, end: int) -> int:
        """Open days in [start, end)."""
        return self.open_cum[end - 1] - self.open_cum[start - 1]

    def breaks_between(self, start: int, end: int) -> int:
        """Closure breaks that begin in (start, end)."""
        return self.break_cum[end - 1] - self.break_cum[start]
