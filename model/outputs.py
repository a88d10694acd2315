"""What a run records, and the tidy tables it becomes.

The recorder counts events per year × municipality (and per year × centre) as they happen,
keeps one row per family that has left the model, one row per admission (for waits), and one
row per day. ``tables()`` turns these into the tidy tables written to the output folder.
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sfbsim.agents.family import CENTRE_OPTIONS, STATUS_NAMES, Decision, Option

if TYPE_CHECKING:
    from sfbsim.agents.family import Family
    from sfbsim.model.model import SfbModel

METRICS: tuple[str, ...] = (
    "cases",
    "proposals",
    "proposals_declined",
    "referrals_residential",
    "referrals_home",
    "own_assessments",
    "own_assessments_first_choice",
    "emergency_placements",
    "emergency_placements_first_choice",
    "follow_ups",
    "direct_purchases",
    "intake_refusals",
    "consent_refusals",
    "admissions",
    "admissions_residential",
    "admissions_home_centre",
    "admissions_direct_purchase",
    "dropouts",
    "completed_stays",
    "completed_stay_days",
    "family_presence_days",
    "child_presence_days",
    "decision_home_with_support",
    "decision_foster_home",
    "decision_institution",
    "decision_emergency_foster_home",
    "ssb_measures_age_0_12",
    "ssb_measures_age_0_2",
    "ssb_child_bed_days",
    "ssb_children_present_dec31",
)
"""Counts per year × municipality; docs/outputs.md defines every column in one table.

The ``ssb_`` columns follow Statistics Norway's definitions, the same ones the calibration
compares with: ``ssb_measures_age_0_12`` counts every child in a residential stay (via Bufetat
or bought directly) started or running during the year, once per year (table 10661; home-based
work is not in it), ``ssb_measures_age_0_2`` the children aged 0-2 among them (each child by its
own age group), ``ssb_child_bed_days`` children × calendar days of those stays in the year, days
at home while the centre is closed included (SSB's bed-days), and ``ssb_children_present_dec31``
children in a residential stay on 31 December. ``family_presence_days`` and
``child_presence_days`` count only the days a family (or its children) is at the centre."""

METRIC_INDEX = {name: i for i, name in enumerate(METRICS)}
N_METRICS = len(METRICS)
CASES, OWN_ASSESSMENTS, EMERGENCY_PLACEMENTS, DIRECT_PURCHASES = (
    METRIC_INDEX[name]
    for name in ("cases", "own_assessments", "emergency_placements", "direct_purchases")
)
PROPOSALS, PROPOSALS_DECLINED, FOLLOW_UPS = (
    METRIC_INDEX[name] for name in ("proposals", "proposals_declined", "follow_ups")
)
OWN_FIRST, EMERGENCY_FIRST = (
    METRIC_INDEX[name]
    for name in ("own_assessments_first_choice", "emergency_placements_first_choice")
)
COMPLETED_STAYS, COMPLETED_STAY_DAYS = (
    METRIC_INDEX[name] for name in ("completed_stays", "completed_stay_days")
)
FAMILY_PRESENCE, CHILD_PRESENCE, SSB_MEASURES, SSB_MEASURES_0_2, SSB_BED_DAYS = (
    METRIC_INDEX[name]
    for name in (
        "family_presence_days",
        "child_presence_days",
        "ssb_measures_age_0_12",
        "ssb_measures_age_0_2",
        "ssb_child_bed_days",
    )
)
INTAKE_REFUSALS, CONSENT_REFUSALS, DROPOUTS, ADMISSIONS = (
    METRIC_INDEX[name] for name in ("intake_refusals", "consent_refusals", "dropouts", "admissions")
)
REFERRAL_METRIC = {
    Option.RESIDENTIAL: METRIC_INDEX["referrals_residential"],
    Option.HOME_CENTRE: METRIC_INDEX["referrals_home"],
}
ADMISSION_METRIC = {option: METRIC_INDEX[f"admissions_{option}"] for option in CENTRE_OPTIONS}
DECISION_METRIC = {decision: METRIC_INDEX[f"decision_{decision}"] for decision in Decision}
REQUIRED_COLUMNS: tuple[str, ...] = (
    "cases",
    "referrals_residential",
    "referrals_home",
    "own_assessments",
    "emergency_placements",
    "direct_purchases",
    "intake_refusals",
    "consent_refusals",
    "admissions",
    "ssb_child_bed_days",
    "dropouts",
)
DAILY_COLUMNS: tuple[str, ...] = (
    "arrived",
    "waiting",
    "in_assessment",
    "finished",
    "dropped_out",
    "residential_units_occupied",
    "residential_units",
    "families_present",
    "home_based_active",
    "home_based_capacity",
)


class Recorder:
    """Accumulates a run's counts and records."""

    def __init__(self, model: SfbModel) -> None:
        self.model = model
        self.details = model.details
        """False in a calibration run: only the yearly counts are kept (no family records,
        waits or daily rows), which is all its targets need."""
        n_years = model.years
        n_mun = len(model.municipalities)
        n_centres = len(model.centre_rows)
        self._shape = (n_years, n_mun, len(METRICS))
        self.tallies: list[float] = [0.0] * (n_years * n_mun * len(METRICS))
        """Counts per year × municipality × metric, flat (a Python list: fast to add to)."""
        self.centre_counts = np.zeros((n_years, n_centres, 2), dtype=np.float64)
        self.occupied_unit_days = np.zeros((n_years, n_centres), dtype=np.int64)
        self.unit_days = np.zeros((n_years, n_centres), dtype=np.int64)
        self.home_slot_days = np.zeros((n_years, n_centres), dtype=np.int64)
        self.open_weekend_holiday_days = np.zeros((n_years, n_centres), dtype=np.int64)
        self.open_days = np.zeros((model.calendar.n_days + 1, n_centres), dtype=np.int64)
        shape = (model.calendar.n_days + 1, n_centres)
        self.residents_by_day = np.zeros(shape, dtype=np.int32)
        for centre in model.centres:
            self.open_days[:, centre.index] = centre.calendar.open[: model.calendar.n_days + 1]
        self._day_rows: list[tuple[int, ...]] = [(0,) * len(DAILY_COLUMNS)]  # day 0: nothing yet
        self._families_present: np.ndarray | None = None  # column 7, filled in finalise()
        calendar = model.calendar
        self._last_day = calendar.n_days
        self._year_offset: list[int] = (calendar.year - model.start_year).tolist()
        self._year_start: list[int] = [
            calendar.first_day_of_year(model.start_year + k) for k in range(model.years + 2)
        ]
        self._dec31: list[bool] = model.calendar.is_dec31.tolist()
        self.waits: list[tuple[int, int, str, int, int]] = []
        self.families: list[tuple] = []
        self._finalised = False
        self._row_base = 0

    @property
    def counts(self) -> np.ndarray:
        """Counts so far as an array, year × municipality × metric (in METRICS order)."""
        return np.array(self.tallies, dtype=np.float64).reshape(self._shape)

    def slot(self, year_offset: int, municipality: int, metric: str) -> int:
        """Position of a year × municipality × metric count in ``tallies``."""
        _, n_mun, n_metrics = self._shape
        return (year_offset * n_mun + municipality) * n_metrics + METRIC_INDEX[metric]

    # --- during the run: one named method per event ----------------------------------------
    def new_year(self, year: int) -> None:
        """From today, events count in ``year``."""
        self._row_base = (year - self.model.start_year) * self._shape[1]

    def _count(self, family: Family, metric: int, amount: float = 1.0) -> None:
        """Add to a count of the current year for the family's municipality."""
        self.tallies[(self._row_base + family.municipality.index) * N_METRICS + metric] += amount

    def case(self, family: Family) -> None:
        """A serious-concern case arrives."""
        self._count(family, CASES)

    def referral(self, family: Family, option: Option) -> None:
        """The municipality refers the family to Bufetat's intake."""
        self._count(family, REFERRAL_METRIC[option])

    def proposal(self, family: Family) -> None:
        """The municipality proposes a residential stay to the parents."""
        self._count(family, PROPOSALS)

    def proposal_declined(self, family: Family) -> None:
        """The parents decline the proposed stay (before any referral)."""
        self._count(family, PROPOSALS_DECLINED)

    def own_assessment(self, family: Family, first_choice: bool) -> None:
        """The municipality assesses the family with its own staff (as its first choice, or
        after a declined proposal or a refusal)."""
        self._count(family, OWN_ASSESSMENTS)
        if first_choice:
            self._count(family, OWN_FIRST)

    def emergency_placement(self, family: Family, first_choice: bool) -> None:
        """The municipality places the child in an emergency foster home."""
        self._count(family, EMERGENCY_PLACEMENTS)
        if first_choice:
            self._count(family, EMERGENCY_FIRST)

    def follow_up(self, family: Family) -> None:
        """Nothing beyond the service's ordinary follow-up (after a declined proposal or a
        refused offer)."""
        self._count(family, FOLLOW_UPS)

    def direct_purchase(self, family: Family) -> None:
        """The municipality buys a residential place from a non-profit centre."""
        self._count(family, DIRECT_PURCHASES)

    def intake_refusal(self, family: Family) -> None:
        """Bufetat's intake refuses a referral."""
        self._count(family, INTAKE_REFUSALS)

    def consent_refusal(self, family: Family) -> None:
        """The parents refuse the residential place offered (after accepting the proposal)."""
        self._count(family, CONSENT_REFUSALS)

    def dropout(self, family: Family) -> None:
        """The family leaves a stay early."""
        self._count(family, DROPOUTS)

    def decision(self, family: Family) -> None:
        """The municipality's decision after the assessment (or the emergency placement)."""
        self._count(family, DECISION_METRIC[family.decision])

    def admission(self, family: Family) -> None:
        """A centre assessment starts: count it and keep its wait (days from referral)."""
        self._count(family, ADMISSIONS)
        self._count(family, ADMISSION_METRIC[family.option])
        year = self.model.current_year
        wait = family.start_day - family.arrival_day
        if self.details:
            self.waits.append(
                (year, family.municipality.index, str(family.option), wait, family.centre.index)
            )
        self.centre_counts[year - self.model.start_year, family.centre.index, 0] += 1

    def completed_stay(self, family: Family, start: int, end: int) -> None:
        """A residential stay via Bufetat ended as planned: its calendar days, in the year it
        ended (the mean stay is completed_stay_days / completed_stays)."""
        self._count(family, COMPLETED_STAYS)
        self._count(family, COMPLETED_STAY_DAYS, end - start)

    def stay(self, family: Family, start: int, end: int) -> None:
        """A residential stay ran over [start, end) (ended, or still running at the end of the
        run): its days and measures, split by calendar year."""
        tallies = self.tallies
        municipality = family.municipality.index
        calendar = family.centre.calendar
        children = family.children
        children_0_2 = family.age_0_2 + (children > 1 and family.second_child_0_2)
        for offset, lo, hi in self._years_of(start, end):
            row = (offset * self._shape[1] + municipality) * N_METRICS
            presence = calendar.presence_between(lo, hi)
            tallies[row + FAMILY_PRESENCE] += presence
            tallies[row + CHILD_PRESENCE] += presence * children
            tallies[row + SSB_BED_DAYS] += (hi - lo) * children
            tallies[row + SSB_MEASURES] += children
            tallies[row + SSB_MEASURES_0_2] += children_0_2
            self.centre_counts[offset, family.centre.index, 1] += presence

    def _years_of(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """(year offset, first day, end day) of each simulated year that [start, end) touches."""
        end = min(end, self._last_day + 1)
        first = self._year_offset[start]
        last = self._year_offset[max(end - 1, start)]
        if first == last:  # most stays: within one year
            return [(first, start, end)] if end > start else []
        spans = []
        for offset in range(first, last + 1):
            lo = max(start, self._year_start[offset])
            hi = min(end, self._year_start[offset + 1])
            if hi > lo:
                spans.append((offset, lo, hi))
        return spans

    def day_row(self, day: int) -> tuple[int, ...]:
        """The state at the end of ``day`` (a recorded day), columns as DAILY_COLUMNS."""
        return self._day_rows[day]

    @property
    def daily(self) -> np.ndarray:
        """The state at the end of each day so far, one row per day number (row 0: before the
        first day), columns as DAILY_COLUMNS; ``families_present`` once the run is finalised."""
        table = np.zeros((self._last_day + 1, len(DAILY_COLUMNS)), dtype=np.int64)
        table[: len(self._day_rows)] = self._day_rows
        if self._families_present is not None:
            table[1:, DAILY_COLUMNS.index("families_present")] = self._families_present
        return table

    def record_day(self, day: int) -> None:
        """The state of the model on ``day``, after its arrivals and intake meetings and before
        the starts and ends booked for it (families present is summed later)."""
        model = self.model
        if self._dec31[day]:
            offset = model.current_year - model.start_year
            for municipality in np.flatnonzero(model.resident_children).tolist():
                slot = self.slot(offset, municipality, "ssb_children_present_dec31")
                self.tallies[slot] += int(model.resident_children[municipality])
        if not self.details:
            return
        arrived = model.arrived
        waiting, in_assessment, finished, dropped_out = model.status_counts
        self._day_rows.append(
            (
                arrived,
                waiting,
                in_assessment,
                finished,
                dropped_out,
                model.residents_total,
                model.units_total,
                0,
                model.home_clients_total,
                model.home_capacity_total,
            )
        )
        self.residents_by_day[day] = model.residents

    def _per_centre_totals(self) -> None:
        """Fill the daily totals and the year × centre unit-days from the per-day arrays."""
        days = slice(1, self.model.calendar.n_days + 1)
        residents = self.residents_by_day[days]
        self._families_present = (residents * self.open_days[days]).sum(axis=1)
        units, home = self._capacity_by_day()
        calendar = self.model.calendar
        years = calendar.year[days] - self.model.start_year
        # open with residential units on a Saturday, Sunday or public holiday: staffed (ledger)
        off_day = (calendar.weekday[days] >= 5) | calendar.is_holiday[days]
        staffed = self.open_days[days].astype(bool) & (units[days] > 0) & off_day[:, None]
        for offset in range(self.model.years):
            in_year = years == offset
            self.occupied_unit_days[offset] = residents[in_year].sum(axis=0)
            self.unit_days[offset] = units[days][in_year].sum(axis=0)
            self.home_slot_days[offset] = home[days][in_year].sum(axis=0)
            self.open_weekend_holiday_days[offset] = staffed[in_year].sum(axis=0)

    def _capacity_by_day(self) -> tuple[np.ndarray, np.ndarray]:
        """Units and home-based slots per day × centre, from the model's capacity log."""
        shape = self.residents_by_day.shape
        units = np.zeros(shape, dtype=np.int64)
        home = np.zeros(shape, dtype=np.int64)
        log = self.model.capacity_log
        for i, (day, units_now, home_now) in enumerate(log):
            end = log[i + 1][0] if i + 1 < len(log) else shape[0]
            units[day:end] = units_now
            home[day:end] = home_now
        return units, home

    def family_done(self, family: Family) -> None:
        """Keep the record of a family that leaves the model."""
        if self.details:
            self.families.append(family_record(family))

    def finalise(self) -> None:
        """At the end of the run: bed-days of stays still running, records of families left."""
        if self._finalised:
            return
        self._finalised = True
        if self.details:
            self._per_centre_totals()
        end = self.model.calendar.n_days + 1
        for family in self.model.families_in_model():
            started = family.start_day is not None and family.start_day < end
            residential = family.option in (Option.RESIDENTIAL, Option.DIRECT_PURCHASE)
            if started and family.centre is not None and residential:
                self.stay(family, family.start_day, end)
            if self.details:
                self.families.append(family_record(family))

    # --- tables -----------------------------------------------------------------------------
    def tables(self, names: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
        """The output tables keyed by file stem: all of them, or only ``names``."""
        self.finalise()
        self._frames: dict[str, pd.DataFrame] = {}
        builders = {
            "yearly": lambda: self.grouped_table(["region", "size_class"]),
            "year_region": self.region_table,
            "year_size_class": lambda: self.grouped_table(["size_class"]),
            "municipality_yearly": self.municipality_table,
            "centre_yearly": self.centre_table,
            "daily": self.daily_table,
            "families": self.family_table,
        }
        if self.model.trail is not None:
            builders["decisions"] = self.model.trail.table
        return {name: build() for name, build in builders.items() if names is None or name in names}

    def _long_counts(self) -> pd.DataFrame:
        """Counts as a long frame (year × municipality), built once per call of tables()."""
        cached = getattr(self, "_frames", {}).get("counts")
        if cached is not None:
            return cached
        model = self.model
        n_years, n_mun, _ = self._shape
        municipalities = model.data.municipalities
        frame = pd.DataFrame(self.counts.reshape(n_years * n_mun, len(METRICS)), columns=METRICS)
        frame.insert(0, "year", np.repeat(np.arange(n_years) + model.start_year, n_mun))
        frame.insert(1, "municipality", np.tile(np.arange(n_mun), n_years))
        frame.insert(
            2, "kommunenummer", np.tile(municipalities["kommunenummer"].to_numpy(), n_years)
        )
        frame.insert(3, "region", np.tile(municipalities["region"].to_numpy(), n_years))
        frame.insert(4, "size_class", np.tile(municipalities["size_class"].to_numpy(), n_years))
        if hasattr(self, "_frames"):
            self._frames["counts"] = frame
        return frame

    def _waits(self) -> pd.DataFrame:
        """One row per admission with its wait, built once per call of tables()."""
        cached = getattr(self, "_frames", {}).get("waits")
        if cached is not None:
            return cached
        municipalities = self.model.data.municipalities
        columns = {
            "year": "int64",
            "municipality": "int64",
            "option": "object",
            "wait_days": "int64",
            "centre": "int64",
        }
        values = list(zip(*self.waits, strict=True)) if self.waits else [[]] * len(columns)
        waits = pd.DataFrame(
            {
                name: pd.Series(list(column), dtype=dtype)
                for (name, dtype), column in zip(columns.items(), values, strict=True)
            }
        )
        waits["region"] = municipalities["region"].to_numpy()[waits["municipality"].to_numpy()]
        waits["size_class"] = municipalities["size_class"].to_numpy()[
            waits["municipality"].to_numpy()
        ]
        waits["kommunenummer"] = municipalities["kommunenummer"].to_numpy()[
            waits["municipality"].to_numpy()
        ]
        if hasattr(self, "_frames"):
            self._frames["waits"] = waits
        return waits

    def grouped_table(self, keys: list[str]) -> pd.DataFrame:
        """Counts summed over year × keys, with wait percentiles over those admissions."""
        counts = self._long_counts().groupby(["year", *keys], sort=True)[list(METRICS)].sum()
        waits = wait_percentiles(self._waits(), ["year", *keys])
        table = counts.join(waits, how="left").reset_index()
        return _finish(table)

    def municipality_table(self) -> pd.DataFrame:
        """One row per year × kommunenummer."""
        counts = self._long_counts().drop(columns=["municipality"])
        waits = wait_percentiles(self._waits(), ["year", "kommunenummer"])
        table = counts.merge(waits.reset_index(), on=["year", "kommunenummer"], how="left")
        return _finish(table)

    def region_table(self) -> pd.DataFrame:
        """Year × region, with the occupancy of the centres located in the region."""
        table = self.grouped_table(["region"])
        centres = self.centre_table()
        units = centres.groupby(["year", "region"])[["occupied_unit_days", "unit_days"]].sum()
        units["occupancy"] = np.where(
            units["unit_days"] > 0, units["occupied_unit_days"] / units["unit_days"].clip(1), np.nan
        )
        years = units.index.get_level_values("year")
        units["residential_units"] = units["unit_days"] / [self._days_in_year(y) for y in years]
        table = table.merge(
            units[["residential_units", "occupancy"]].reset_index(),
            on=["year", "region"],
            how="left",
        )
        return _finish(table)

    def centre_table(self) -> pd.DataFrame:
        """One row per year × centre: capacity, admissions, bed-days, occupancy, and the days
        it was open with residential units on a Saturday, Sunday or public holiday (the days
        the ledger books weekend staff for)."""
        model = self.model
        centres = model.centre_rows
        n_years, n_centres, _ = self.centre_counts.shape
        years = np.arange(n_years) + model.start_year
        days = np.array([self._days_in_year(y) for y in years])[:, None]
        table = pd.DataFrame(
            {
                "year": np.repeat(years, n_centres),
                "centre_id": np.tile(centres["centre_id"].to_numpy(), n_years),
                "region": np.tile(centres["region"].to_numpy(), n_years),
                "residential_units": (self.unit_days / days).reshape(-1),
                "home_based_capacity": (self.home_slot_days / days).reshape(-1),
                "admissions": self.centre_counts[:, :, 0].reshape(-1),
                "bed_days": self.centre_counts[:, :, 1].reshape(-1),
                "occupied_unit_days": self.occupied_unit_days.reshape(-1),
                "unit_days": self.unit_days.reshape(-1),
            }
        )
        used = (table["unit_days"] > 0) | (self.home_slot_days.reshape(-1) > 0)
        used |= table["occupied_unit_days"] > 0
        weekend = self.open_weekend_holiday_days.reshape(-1)[used.to_numpy()]
        table = table[used.to_numpy()].reset_index(drop=True)
        table["occupancy"] = table["occupied_unit_days"] / table["unit_days"].where(
            table["unit_days"] > 0
        )
        table["open_weekend_holiday_days"] = weekend
        return _finish(table)

    def _days_in_year(self, year: int) -> int:
        calendar = self.model.calendar
        last = min(calendar.first_day_of_year(year + 1), calendar.n_days + 1)
        return last - max(calendar.first_day_of_year(year), 1)

    def daily_table(self) -> pd.DataFrame:
        """One row per simulated day (the state in the day's record: after its arrivals and
        intake meetings, before the starts and ends booked for it)."""
        calendar = self.model.calendar
        n = calendar.n_days
        table = pd.DataFrame(self.daily[1 : n + 1], columns=list(DAILY_COLUMNS))
        table.insert(0, "date", np.datetime_as_string(calendar.dates[1 : n + 1], unit="D"))
        return table

    def family_table(self, so_far: bool = False) -> pd.DataFrame:
        """One row per family: who, what was tried, where, when, and the decision. ``so_far``:
        during a run (the app), also the families still waiting or in assessment, as they are
        now, without finalising the run."""
        records = list(self.families)
        if so_far and not self._finalised:
            records += [family_record(family) for family in self.model.families_in_model()]
        records = sorted(records, key=itemgetter(0))
        columns: dict[str, Any] = {name: [] for name in FAMILY_COLUMNS}
        if records:
            columns = dict(zip(FAMILY_COLUMNS, zip(*records, strict=True), strict=True))
        columns["severity"] = [round(value, 4) for value in columns["severity"]]
        columns["options_tried"] = ["|".join(tried) for tried in columns["options_tried"]]
        for name in ("option", "decision"):
            columns[name] = [str(value or "") for value in columns[name]]
        columns["status"] = [STATUS_NAMES[status] for status in columns["status"]]
        arrival = columns["arrival_date"]
        columns["wait_days"] = [
            None if start is None else start - arrived
            for start, arrived in zip(columns["start_date"], arrival, strict=True)
        ]
        for name in ("start_date", "end_date"):
            columns[name] = [-1 if day is None else day for day in columns[name]]
        table = pd.DataFrame(columns)
        dates = np.datetime_as_string(self.model.calendar.dates, unit="D").astype(object)
        for column in ("arrival_date", "start_date", "end_date"):
            days = table[column].to_numpy(dtype=np.int64)
            table[column] = np.where(days >= 0, dates[np.clip(days, 0, len(dates) - 1)], "")
        table["wait_days"] = table["wait_days"].astype("Int64")
        return table


FAMILY_COLUMNS: tuple[str, ...] = (
    "family_id",
    "kommunenummer",
    "arrival_date",
    "age_group",
    "parents",
    "children",
    "sibling_over_6",
    "severity",
    "options_tried",
    "option",
    "proposal_declined",
    "intake_refused",
    "consent_refused",
    "centre_id",
    "start_date",
    "end_date",
    "wait_days",
    "status",
    "decision",
    "decision_correct",
)


def family_record(family: Family) -> tuple:
    """A family's raw row for families.csv, in FAMILY_COLUMNS order (days as day numbers,
    enums and the tried options as they are; ``family_table`` formats them)."""
    centre = family.centre
    return (
        family.unique_id,
        family.municipality.kommunenummer,
        family.arrival_day,
        family.age_group,
        family.parents,
        family.children,
        family.sibling_over_6,
        family.severity,
        family.options_tried,
        family.option,
        family.proposal_declined,
        family.intake_refused,
        family.consent_refused,
        centre.centre_id if centre is not None else "",
        family.start_day,
        family.end_day,
        None,  # wait_days, from start and arrival in family_table
        family.status,
        family.decision,
        family.decision_correct,
    )


def wait_percentiles(waits: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Median and 90th percentile of waits (days from referral to start) per group."""
    grouped = waits.groupby(keys, sort=True)["wait_days"]
    return pd.DataFrame(
        {"wait_days_p50": grouped.quantile(0.5), "wait_days_p90": grouped.quantile(0.9)}
    )


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    """Integer counts as integers; floats rounded for stable, readable files."""
    for column in table.columns:
        if column in METRICS or column in ("occupied_unit_days", "unit_days"):
            table[column] = table[column].round().astype("int64")
        elif table[column].dtype.kind == "f":
            table[column] = table[column].round(4)
    return table
