"""A centre for parents and children: family apartments and staff for home-based work."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

from sfbsim.agents.family import HOME_CENTRE, RESIDENTIAL, Option

if TYPE_CHECKING:
    from sfbsim.agents.family import Family
    from sfbsim.model.calendar import CentreCalendar
    from sfbsim.model.model import SfbModel
    from sfbsim.model.parameters import Parameters


def home_visits(travel_hours: float, p: Parameters, staff_hours: float) -> float:
    """Visits centre staff can make to a family this far away in a home-based assessment.

    The assessment has ``staff_hours`` of staff time (Menon 2025: 200 hours); reporting takes
    ``home_report_hours`` of them, and each visit takes its observation hours plus the journey
    there and back. Up to ``home_visits_nominal`` visits (observations 2-3 days a week, Menon
    2025): beyond some distance the hours allow fewer, and beyond a further one too few
    (``home_work_feasible``) — a consequence of the hours, not a set distance.
    """
    per_visit = p.home_visit_observation_hours + 2.0 * travel_hours
    return min(float(p.home_visits_nominal), (staff_hours - p.home_report_hours) / per_visit)


def home_reach_hours(p: Parameters, staff_hours: float) -> float:
    """The longest one-way travel at which centre staff can still make the fewest visits a
    home-based assessment needs (``home_visits_min``)."""
    hours_per_visit = (staff_hours - p.home_report_hours) / p.home_visits_min
    return (hours_per_visit - p.home_visit_observation_hours) / 2.0


def home_work_feasible(travel_hours: float, p: Parameters, staff_hours: float) -> bool:
    """Whether centre staff can make the fewest visits an assessment needs at this distance."""
    return travel_hours <= home_reach_hours(p, staff_hours)


def home_visit_shortfall(travel_hours: float, p: Parameters, staff_hours: float) -> float:
    """log(visits possible / nominal visits): 0 near the centre, negative farther away, where a
    home-based assessment is thinner (the municipality weighs it with ``beta_home_visits``)."""
    visits = max(home_visits(travel_hours, p, staff_hours), 1e-9)
    return math.log(visits / p.home_visits_nominal)


class Centre(mesa.Agent):
    """A centre with residential units and home-based slots (levers may change them).

    Each unit (and slot) keeps the first day it is free again; a booking starts on the first
    open day on or after both that day and the earliest start, and moves the free day to the
    planned end. Closed days (weekends by policy, holidays, summer) pause a stay: the family
    travels home and the calendar stay lengthens.
    """

    def __init__(
        self,
        model: SfbModel,
        index: int,
        centre_id: str,
        name: str,
        operator: str,
        region: str,
        kommunenummer: str,
        calendar: CentreCalendar,
        opened_day: int,
        closed_day: int,
        nationwide_intake: bool,
    ) -> None:
        super().__init__(model)
        self.index = index
        self.centre_id = centre_id
        self.name = name
        self.operator = operator
        self.region = region
        self.kommunenummer = kommunenummer
        self.calendar = calendar
        self.opened_day = opened_day
        self.closed_day = closed_day
        self.nationwide_intake = nationwide_intake
        self.unit_free_day: list[int] = []
        self.unit_holder: list[Family | None] = []
        self.home_free_day: list[int] = []
        self.residential_units = 0
        self.home_based_capacity = 0

    @property
    def residents(self) -> int:
        """Families in a residential stay here (present, or home over a closure)."""
        return int(self.model.residents[self.index])

    @property
    def home_clients(self) -> int:
        """Families in a home-based assessment by this centre's staff."""
        return int(self.model.home_clients[self.index])

    def set_capacity(self, units: int, home_slots: int) -> None:
        """Units and home-based slots from today; bookings on retired units run to their end."""
        today = max(int(self.model.time), 1)
        while len(self.unit_free_day) < units:
            self.unit_free_day.append(today)
            self.unit_holder.append(None)
        while len(self.home_free_day) < home_slots:
            self.home_free_day.append(today)
        self.residential_units = units
        self.home_based_capacity = home_slots

    def accepts_families(self, day: int) -> bool:
        """Open for new stays on ``day`` (between opening and closing)."""
        return self.opened_day <= day < self.closed_day

    @property
    def serves_intake(self) -> str:
        """The intake that allocates this centre's places first.

        Oslo's municipal centre serves Oslo's own intake; the non-profit centres in Oslo are on
        Bufetat framework agreements and serve region øst (and, where approved, the country).
        """
        if self.operator == "oslo_municipal":
            return "oslo"
        if self.region == "oslo":
            return "øst"
        return self.region

    # --- bookings ---------------------------------------------------------------------------
    def book_stay(
        self, family: Family, start: int, unit: int, option: Option = RESIDENTIAL
    ) -> None:
        """Book ``unit`` for a consenting family from ``start``: its length is the family's
        (presence days), its end follows the centre's open days, and each closure break on the
        way adds drop-out risk (``Family.dropout_day``)."""
        days = family.assessment_days(option)
        end = self.book_unit(unit, family, start, days)
        travel = self.model.travel_hours(family.municipality, self)
        breaks = self.calendar.breaks_between(start, end)
        family.unit = unit
        family.book(option, self, start, end, family.dropout_day(start, end, breaks, travel, self))

    def book_home_assessment(self, family: Family, start: int, slot: int) -> None:
        """Book staff for a home-based assessment (no consent needed), ``slot`` from ``start``."""
        days = family.assessment_days(HOME_CENTRE)
        end = self.book_home(slot, start, days)
        family.book(HOME_CENTRE, self, start, end, None)

    def admit(self, family: Family) -> None:
        """A booked assessment starts: the family moves in (or staff start visiting it)."""
        model = self.model
        if family.option is HOME_CENTRE:
            model.home_clients[self.index] += 1
            model.home_clients_total += 1
        else:
            model.residents[self.index] += 1
            model.residents_total += 1
            model.resident_children[family.municipality.index] += family.children

    def discharge(self, family: Family, early: bool) -> None:
        """An assessment ends today; a stay left ``early`` frees its unit at once."""
        model = self.model
        if family.option is HOME_CENTRE:
            model.home_clients[self.index] -= 1
            model.home_clients_total -= 1
            return
        if early and family.unit is not None:
            self.release_unit(family.unit, family, model.today)
        model.residents[self.index] -= 1
        model.residents_total -= 1
        model.resident_children[family.municipality.index] -= family.children
        model.recorder.stay(family, family.start_day, model.today)
        if family.option is RESIDENTIAL and not early:
            model.recorder.completed_stay(family, family.start_day, model.today)
        family.municipality.learn_completion(not early)

    # --- residential units ------------------------------------------------------------------
    def earliest_residential_start(self, earliest: int) -> tuple[int, int] | None:
        """(start day, unit) of the earliest possible residential start, or None if no units."""
        if self.residential_units == 0:
            return None
        unit = min(range(self.residential_units), key=self.unit_free_day.__getitem__)
        start = self.calendar.next_open_day(max(earliest, self.unit_free_day[unit]))
        return start, unit

    def book_unit(self, unit: int, family: Family, start: int, presence_days: int) -> int:
        """Book ``unit`` from ``start`` for ``presence_days`` open days; return the end day."""
        end = self.calendar.end_after_presence(start, presence_days)
        self.unit_free_day[unit] = end
        self.unit_holder[unit] = family
        return end

    def release_unit(self, unit: int, family: Family, day: int) -> None:
        """Free a unit early (drop-out or a refused consent) if no later booking holds it."""
        if self.unit_holder[unit] is family:
            self.unit_free_day[unit] = day
            self.unit_holder[unit] = None

    # --- home-based slots -------------------------------------------------------------------
    def earliest_home_start(self, earliest: int) -> tuple[int, int] | None:
        """(start day, slot) of the earliest home-based start, or None if no home capacity."""
        if self.home_based_capacity == 0:
            return None
        slot = min(range(self.home_based_capacity), key=self.home_free_day.__getitem__)
        return max(earliest, self.home_free_day[slot]), slot

    def book_home(self, slot: int, start: int, days: int) -> int:
        """Book a home-based slot for ``days`` calendar days; return the end day."""
        end = start + days
        self.home_free_day[slot] = end
        return end
