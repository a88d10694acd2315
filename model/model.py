"""The sfbsim Mesa model: all of Norway, one step per day on real dates.

The model builds the world (model/world.py), holds the state the actors share (the calendar,
the levers in force, prices, familiarity, who is where) and orders activation; every decision is
a method of the actor that makes it (agents/). Work is event-driven where it matters: each day
only that day's new cases are handled; intake meetings run on meeting days; stays start and end
on the days they were booked for. Nothing loops over municipalities × days.
docs/architecture.md walks one family through it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np

from sfbsim.agents.family import WAITING, Family
from sfbsim.agents.intake import Intake
from sfbsim.agents.municipality import Municipality
from sfbsim.model import world
from sfbsim.model.arrivals import Arrivals, draw_year
from sfbsim.model.calendar import Calendar
from sfbsim.model.costs import Costs
from sfbsim.model.data_loading import BundledData, load_data
from sfbsim.model.outputs import Recorder
from sfbsim.model.parameters import (
    WEEKDAY_INDEX,
    Change,
    ClosedCentre,
    Levers,
    NewCentre,
    Parameters,
)
from sfbsim.model.prices import Prices
from sfbsim.model.reforms import LeverTimeline
from sfbsim.model.streams import RandomStreams
from sfbsim.model.trail import DecisionTrail

INTAKE_REGIONS: tuple[str, ...] = ("nord", "midt", "vest", "sør", "øst", "oslo")
"""Bufetat's five intake regions, plus Oslo's own intake (Barne- og familieetaten)."""


class SfbModel(mesa.Model):
    """Municipalities, Bufetat intake, centres and families on a real calendar."""

    def __init__(
        self,
        *,
        parameters: Parameters | None = None,
        levers: Levers | None = None,
        costs: Costs | None = None,
        changes: list[Change] | None = None,
        new_centres: list[NewCentre] | None = None,
        closed_centres: list[ClosedCentre] | None = None,
        start_year: int = 2025,
        years: int = 10,
        data: BundledData | None = None,
        rng: int = 1,
        details: bool = True,
        trace: bool = False,
    ) -> None:
        super().__init__(rng=rng)
        self.details = details
        """False in a calibration run: only what the calibration's targets count is simulated
        and kept (the yearly counts); own assessments end at once (nothing the targets count
        depends on their course), and no family records, waits or daily rows are kept."""
        self.parameters = parameters or Parameters()
        self.costs = costs or Costs()
        self.data = data if data is not None else load_data()
        self.start_year = start_year
        self.years = years
        self.calendar = Calendar.build(start_year, years)
        self.streams = RandomStreams(rng)
        self.timeline = LeverTimeline(levers or Levers(), changes or [], self.calendar)
        self.levers = self.timeline.levers_on(1)
        self.prices = Prices(self.data, self.parameters, self.costs)
        self.stay_window_days = round(self.parameters.residential_months_expected * 30.44)
        """Days over which a stay's closures are judged (an expected stay: 1.5 months)."""
        self.current_year = start_year
        self.today = 0
        """The day number of the current step (``model.time`` as an int, for the hot path)."""
        self.arrived = 0
        self.status_counts = [0, 0, 0, 0]
        """Families waiting, in assessment, finished, dropped out (indexed by Status)."""
        self._arrivals = Arrivals.none()
        self._arrival_cursor = 0
        self._due: dict[int, list[Callable[[], None]]] = {}
        self._year_of_day: list[int] = self.calendar.year.tolist()
        self._month_starts: list[bool] = (self.calendar.day_of_month == 1).tolist()
        self._meeting_days = self._meeting_day_flags()

        # The world: centres, capacity, municipalities, network, intakes.
        self.centre_rows = world.centre_rows(self, new_centres or [])
        self.travel = world.travel_hours_matrix(self)
        n_centres = len(self.centre_rows)
        self.residents = np.zeros(n_centres, dtype=np.int64)
        self.home_clients = np.zeros(n_centres, dtype=np.int64)
        self.units_now = np.zeros(n_centres, dtype=np.int64)
        self.home_capacity_now = np.zeros(n_centres, dtype=np.int64)
        self.residents_total = self.home_clients_total = 0
        self.units_total = self.home_capacity_total = 0
        self.capacity_log: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.resident_children = np.zeros(len(self.data.municipalities), dtype=np.int64)
        self.centres = world.build_centres(self, closed_centres or [])
        world.apply_capacity(self, 1)
        self.familiarity = np.zeros(len(self.data.municipalities))
        """Each municipality's familiarity with the centres, 0-1 (an array: it diffuses)."""
        self.case_rate_factor = np.ones(len(self.data.municipalities))
        """Each municipality's case-rate factor (mean 1; world.build_municipalities)."""
        self.municipalities: list[Municipality] = world.build_municipalities(self)
        world.refresh_reach(self)
        # Each service's experience: how often parents agree to a proposed stay, and how often
        # stays are completed (arrays: they spread over the network like familiarity).
        world.initial_expectations(self)
        self.graph = world.build_network(self)
        self._neighbour_weights = world.diffusion_matrix(self.graph, len(self.municipalities))
        self.intakes = {region: Intake(self, region) for region in INTAKE_REGIONS}
        self._change_days = world.change_days(self)
        self.recorder = Recorder(self)
        self.trail: DecisionTrail | None = DecisionTrail(self) if trace and details else None
        """The decision trail (model/trail.py), or None when the run is not traced."""

    # --- look-ups used by the actors ----------------------------------------------------------
    def day_of(self, date: dt.date) -> int:
        """The day number of a date (day 1 = the first simulated day; earlier dates give 1)."""
        return max(1, (date - self.calendar.start).days + 1)

    def travel_hours(self, municipality: Municipality, centre: Any) -> float:
        """One-way travel time from the municipality's travel point to the centre."""
        return float(self.travel[municipality.index, centre.index])

    def intake_for(self, municipality: Municipality) -> Intake:
        """Oslo refers to its own intake; everyone else to Bufetat's regional intake."""
        return self.intakes[municipality.region]

    # --- the day ----------------------------------------------------------------------------
    def step(self) -> None:
        """One day: new year and month bookkeeping, new cases, intake meetings, the record of
        the day, then the stays and assessments due today start and end (``run_due``)."""
        day = self.today = int(self.time)
        if day > self.calendar.n_days:
            self.running = False
            return
        year = self._year_of_day[day]
        if day == 1 or year != self.current_year:
            self.start_year_of_cases(year)
        if day in self._change_days:
            self.apply_changes(day)
        if self._month_starts[day] and day > 1:
            self.update_familiarity()
        self.admit_new_cases(day)
        if self._meeting_days[day]:
            for intake in self.intakes.values():
                intake.hold_meeting()
        self.recorder.record_day(day)
        self.run_due(day)

    def start_year_of_cases(self, year: int) -> None:
        """1 January: events count in the new year, whose cases are drawn now."""
        self.current_year = year
        self.recorder.new_year(year)
        self._arrivals = draw_year(
            year,
            calendar=self.calendar,
            data=self.data,
            parameters=self.parameters,
            timeline=self.timeline,
            streams=self.streams,
            case_rate_factor=self.case_rate_factor,
        )
        self._arrival_cursor = 0

    def admit_new_cases(self, day: int) -> None:
        """Create today's families; each one's municipality chooses how to get it assessed."""
        days, municipality, age, parents, children, sibling, severity, need, used, second = (
            self._arrivals.columns
        )
        luck = self._arrivals.luck
        i = self._arrival_cursor
        n = len(days)
        while i < n and days[i] == day:
            family = Family(
                self,
                municipality=self.municipalities[municipality[i]],
                arrival_day=day,
                age_group=age[i],
                parents=parents[i],
                children=children[i],
                sibling_over_6=sibling[i],
                severity=severity[i],
                latent_need=need[i],
                days_used=used[i],
                luck=luck,
                row=i,
                second_child_0_2=second[i],
            )
            self.arrived += 1
            self.status_counts[WAITING] += 1
            self.recorder.case(family)
            family.municipality.handle_case(family)
            i += 1
        self._arrival_cursor = i

    def apply_changes(self, day: int) -> None:
        """Levers change, or centres open or close, today."""
        before = self.levers
        self.levers = self.timeline.levers_on(day)
        self.prices.levers_changed()
        self._meeting_days = self._meeting_day_flags()
        if self.levers.information_campaign > before.information_campaign:
            self.run_information_campaign(self.levers.information_campaign)
        if before.guidance_stays and not self.levers.guidance_stays:
            self.lose_familiarity(self.parameters.mandate_familiarity_loss)
        world.apply_capacity(self, day)
        world.refresh_reach(self)

    def _meeting_day_flags(self) -> list[bool]:
        """Per day: intake meetings are held on the chosen weekdays that are not public
        holidays (under the levers in force)."""
        weekdays = [WEEKDAY_INDEX[d] for d in self.levers.intake_meeting_days]
        calendar = self.calendar
        return (np.isin(calendar.weekday, weekdays) & ~calendar.is_holiday).tolist()

    # --- familiarity --------------------------------------------------------------------------
    def update_familiarity(self) -> None:
        """Monthly: familiarity and experience spread over the network (services learn from
        their neighbours); familiarity fades without use."""
        p = self.parameters
        weights = self._neighbour_weights
        for known in (self.familiarity, self.expected_acceptance, self.expected_completion):
            known += p.familiarity_diffusion * (weights @ known - known)
        self.familiarity *= 1.0 - p.familiarity_decay

    def run_information_campaign(self, share: float) -> None:
        """Close ``share`` of every municipality's gap to full familiarity."""
        if share > 0:
            self.familiarity += share * (1.0 - self.familiarity)

    def lose_familiarity(self, share: float) -> None:
        """Every municipality loses ``share`` of its familiarity: the offer it knew has changed
        (stays became assessment-only), and it learns the new one by use and from neighbours."""
        if share > 0:
            self.familiarity *= 1.0 - share

    # --- the calendar of due work -------------------------------------------------------------
    def on_day(self, day: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` on a later ``day``, at the end of that day's step (``run_due``)."""
        if day <= self.today:
            raise ValueError(f"on_day: day {day} is not after today ({self.today})")
        due = self._due.get(day)
        if due is None:
            self._due[day] = [callback]
        else:
            due.append(callback)

    def run_due(self, day: int) -> None:
        """Start and end the stays and assessments due on ``day``, in booking order.

        The calendar of due work is keyed by day, so its cost grows with the stays, not with
        the days × agents. (It was a recurring Mesa event of low priority after the step; run
        at the end of the step it does the same, without an event a day.)
        """
        due = self._due.pop(day, None)
        if due is not None:
            for callback in due:
                callback()

    # --- running ------------------------------------------------------------------------------
    def run_years(self, years: int | None = None, progress: Any = None) -> None:
        """Run whole years (all by default); ``progress(year)`` is called after each."""
        for offset in range(years or self.years):
            year = self.start_year + offset
            last_day = self.calendar.first_day_of_year(year + 1) - 1
            self.run_until(min(last_day, self.calendar.n_days))
            if progress is not None:
                progress(year)
        self.running = False

    def families_in_model(self) -> list[Family]:
        """Families still waiting or in assessment."""
        return list(self.agents_by_type.get(Family, []))
