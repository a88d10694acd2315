"""Levers over time: a scenario's levers plus its dated changes, as the model sees them each day.

Precedence, most specific first: a dated change for one centre, a per-centre override in
``[levers.centres]``, a dated change for all centres, the scenario's ``[levers]``, the data.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

import numpy as np

from sfbsim.model.calendar import Calendar
from sfbsim.model.parameters import Change, Levers

FOREVER = 10**9
EPOCH = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class _Span:
    """The first date and the number of days of a timeline without a calendar."""

    start: dt.date
    n_days: int


class LeverTimeline:
    """The levers in force on each day of a run (day 1 = ``calendar.start``)."""

    def __init__(self, base: Levers, changes: list[Change], calendar: Calendar | _Span) -> None:
        self.base = base
        self.start = calendar.start
        self.n_days = calendar.n_days
        self.changes = [(self._day(c.start, 1), self._day(c.end, FOREVER), c) for c in changes]
        check_overlaps(changes)
        self._cache: dict[int, Levers] = {}
        self._boundaries = self._find_boundaries()

    @classmethod
    def by_date(cls, base: Levers, changes: list[Change]) -> LeverTimeline:
        """A timeline for looking up the levers on any date (``levers_on_date``)."""
        return cls(base, changes, _Span(EPOCH, FOREVER))

    @classmethod
    def for_period(
        cls, base: Levers, changes: list[Change], start: dt.date, end: dt.date
    ) -> LeverTimeline:
        """A timeline of the days ``start`` to ``end`` (exclusive) without a model, e.g. a
        scenario's run (``Scenario.run.first_day``, ``end_day``)."""
        return cls(base, changes, _Span(start, (end - start).days))

    def _day(self, date: dt.date | None, default: int) -> int:
        if date is None:
            return default
        return max(1, (date - self.start).days + 1)

    def _find_boundaries(self) -> list[int]:
        days = {d for start, end, _ in self.changes for d in (start, end)}
        return sorted(d for d in days if 1 < d <= self.n_days)

    def boundaries(self) -> list[int]:
        """Days after day 1 on which some lever changes."""
        return self._boundaries

    def days_of(self, dates: Any) -> np.ndarray:
        """Day numbers of a column of dates (pandas datetimes; missing dates give day 1)."""
        ordinal = (dates - np.datetime64(self.start, "ns")).dt.days.fillna(0).to_numpy()
        return np.maximum(1, ordinal.astype(np.int64) + 1)

    def segment_starts(self, days: np.ndarray) -> np.ndarray:
        """The first day of the segment of constant levers that holds each day (vectorised
        ``_segment``)."""
        starts = np.array([1, *self._boundaries], dtype=np.int64)
        return starts[np.searchsorted(starts, days, side="right") - 1]

    def levers_on_date(self, date: dt.date) -> Levers:
        """The global levers in force on ``date``."""
        return self.levers_on(self._day(date, 1))

    def levers_on(self, day: int) -> Levers:
        """The global levers in force on ``day`` (validated)."""
        key = self._segment(day)
        if key not in self._cache:
            updates = {
                c.lever: c.value
                for start, end, c in self.changes
                if c.centre is None and start <= day < end
            }
            if updates:
                merged = {**self.base.model_dump(), **updates}
                self._cache[key] = Levers.model_validate(merged)
            else:
                self._cache[key] = self.base
        return self._cache[key]

    def series(self, lever: str, first: int, last: int) -> np.ndarray:
        """The value of a global lever on each day ``first``..``last``."""
        values = np.empty(last - first + 1, dtype=float)
        starts = [first, *(b for b in self.boundaries() if first < b <= last)]
        ends = [*starts[1:], last + 1]
        for start, end in zip(starts, ends, strict=True):
            values[start - first : end - first] = float(getattr(self.levers_on(start), lever))
        return values

    def _segment(self, day: int) -> int:
        """The first day of the segment of constant levers that holds ``day``."""
        index = bisect_right(self._boundaries, day)
        return self._boundaries[index - 1] if index else 1

    def centre_value(self, centre_id: str, lever: str, day: int) -> Any:
        """A centre's lever value on ``day``: dated centre change, then static override."""
        for start, end, change in self.changes:
            if change.centre == centre_id and change.lever == lever and start <= day < end:
                return change.value
        override = self.base.centres.get(centre_id)
        return getattr(override, lever, None) if override is not None else None

    def centre_setting(self, centre_id: str, lever: str, day: int, own: Any) -> tuple[Any, str]:
        """A centre's value of an all-centre lever (``weekend_policy``, ``holidays_open``) on
        ``day``, and where it comes from, by the module's precedence: ``"centre"`` (a dated
        change or override for this centre), ``"all centres"`` (the scenario's lever or a dated
        change of it, when set) or ``"own"`` (``own``: the centre's value in the data or in
        ``[[new_centres]]``)."""
        value = self.centre_value(centre_id, lever, day)
        if value is not None:
            return value, "centre"
        value = getattr(self.levers_on(day), lever)
        if value is not None:
            return value, "all centres"
        return own, "own"


def check_overlaps(changes: list[Change]) -> None:
    """Two changes of the same lever (for the same centre) may not overlap in time."""
    by_key: dict[tuple[str, str | None], list[Change]] = {}
    for change in changes:
        by_key.setdefault((change.lever, change.centre), []).append(change)
    for (lever, centre), group in by_key.items():
        ordered = sorted(group, key=lambda c: c.start or dt.date.min)
        for first, second in zip(ordered, ordered[1:], strict=False):
            first_end = first.end or dt.date.max
            second_start = second.start or dt.date.min
            if second_start < first_end:
                where = f" for centre {centre}" if centre else ""
                raise ValueError(
                    f"changes of {lever}{where} overlap: {first.start or 'start'}–"
                    f"{first.end or 'end'} and {second.start or 'start'}–{second.end or 'end'}; "
                    "give each change its own window (end is exclusive)"
                )
