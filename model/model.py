"""The sfbsim Mesa model: all of Norway, one step per day on real dates.

The model builds the world (municipalities, a familiarity network, centres, intakes) and orders
activation. Work is event-driven where it matters: each day only that day's new cases are
handled; intake meetings run on meeting days; stays start and end as Mesa events scheduled when
they are booked. Nothing loops over municipalities × days.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import mesa
import networkx as nx
import numpy as np
import pandas as pd

from agents.centre import Centre
from agents.family import Decision, Family, Option, Status
from agents.intake import Intake
from agents.municipality import Municipality
from model.calendar import Calendar, CentreCalendar
from model.data_loading import BundledData, load_data
from model.outputs import Recorder
from model.parameters import WEEKDAY_INDEX, Levers, Parameters
from model.streams import RandomStreams

INTAKE_REGIONS: tuple[str, ...] = ("nord", "midt", "vest", "sør", "øst", "oslo")
"""Bufetat's five intake regions, plus Oslo's own intake (Barne- og familieetaten)."""

LUCK_WIDTH: dict[str, int] = {
    "choice": 6,
    "consent": 2,
    "intake": 2,
    "duration": 2,
    "dropout": 4,
    "outcome": 2,
}
"""Uniforms drawn per family per stream (more than any family can use)."""

_NORMAL = statistics.NormalDist()


def lognormal_days(u: float, median: float, sigma: float, low: int, high: int) -> int:
    """Inverse-CDF draw of a log-normal length in days, clipped to [low, high]."""
    u = min(max(u, 1e-9), 1 - 1e-9)
    return int(min(max(round(median * math.exp(sigma * _NORMAL.inv_cdf(u))), low), high))


class SfbModel(mesa.Model):
    """Municipalities, Bufetat intake, centres and families on a real calendar."""

    def __init__(
        self,
        *,
        parameters: Parameters | None = None,
        levers: Levers | None = None,
        start_year: int = 2025,
        years: int = 10,
        data: BundledData | None = None,
        rng: int = 1,
    ) -> None:
        super().__init__(rng=rng)
        self.parameters = parameters or Parameters()
        self.levers = levers or Levers()
        self.data = data if data is not None else load_data()
        self.start_year = start_year
        self.years = years
        self.calendar = Calendar.build(start_year, years)
        self.streams = RandomStreams(rng)
        self.current_year = start_year
        self._copay_cache: dict[tuple[int, str], float] = {}
        self._arrivals: dict[str, list] = {"day": []}
        self._arrival_cursor = 0
        self.status_counts = [0, 0, 0, 0]
        self.arrived = 0
        self._meeting_weekdays = {WEEKDAY_INDEX[d] for d in self.levers.intake_meeting_days}

        self._travel = self.data.travel_hours_matrix()
        self.residents = np.zeros(len(self.data.centres), dtype=np.int64)
        self.home_clients = np.zeros(len(self.data.centres), dtype=np.int64)
        self.centres = self._build_centres()
        self.municipalities = self._build_municipalities()
        self.graph = self._build_network()
        self._neighbour_weights = self._diffusion_matrix()
        self.intakes = {region: Intake(self, region) for region in INTAKE_REGIONS}
        self.recorder = Recorder(self)

    # --- building the world -----------------------------------------------------------------
    def _build_centres(self) -> list[Centre]:
        """One agent per centre open at some time during the run, with levers applied."""
        levers = self.levers
        last_year = self.start_year + self.years - 1
        unknown = set(levers.centres) - set(self.data.centres["centre_id"])
        if unknown:
            raise ValueError(f"levers.centres names unknown centres: {sorted(unknown)}")
        centres: list[Centre] = []
        for index, row in enumerate(self.data.centres.itertuples(index=False)):
            closed = None if _missing(row.closed_year) else int(row.closed_year)
            if int(row.opened_year) > last_year or (
                closed is not None and closed <= self.start_year
            ):
                continue
            override = levers.centres.get(row.centre_id)
            weekend = _first(override and override.weekend_policy, levers.weekend_policy)
            weekend = weekend or row.weekend_policy
            summer = _first(
                override and override.summer_closure_weeks,
                levers.summer_closure_weeks,
                int(row.summer_closure_weeks),
            )
            holidays_open = bool(_first(override and override.holidays_open, levers.holidays_open))
            units = _first(override and override.residential_units, None)
            if units is None:
                units = round(int(row.residential_units) * levers.units_multiplier)
            home = _first(override and override.home_based_capacity, None)
            if home is None:
                home = round(int(row.home_based_capacity) * levers.home_capacity_multiplier)
            open_days = self.calendar.centre_open_days(weekend, summer, holidays_open)
            centres.append(
                Centre(
                    self,
                    index=index,
                    centre_id=row.centre_id,
                    name=row.name,
                    operator=row.operator,
                    region=row.region,
                    kommunenummer=row.kommunenummer,
                    residential_units=units,
                    home_based_capacity=home,
                    weekend_policy=weekend,
                    calendar=CentreCalendar.from_open(open_days, self.calendar.n_days),
                    opened_year=int(row.opened_year),
                    closed_year=closed,
                    nationwide_intake=bool(row.nationwide_intake),
                )
            )
        return centres

    def _build_municipalities(self) -> list[Municipality]:
        """All municipalities with size-class indices plus municipal variation."""
        p = self.parameters
        rows = self.data.municipalities
        n = len(rows)
        noise = self.streams.municipality.normal(0.0, p.municipality_noise_sd, size=(n, 3))
        by_size = {
            "small": (p.own_capacity_small, p.budget_pressure_small, p.familiarity_small),
            "medium": (p.own_capacity_medium, p.budget_pressure_medium, p.familiarity_medium),
            "large": (p.own_capacity_large, p.budget_pressure_large, p.familiarity_large),
        }
        base = np.array([by_size[s] for s in rows["size_class"]])
        indices = np.clip(base + noise, 0.0, 1.0)
        campaign = self.levers.information_campaign
        self.familiarity = indices[:, 2] + campaign * (1.0 - indices[:, 2])
        active = [c for c in self.centres if c.is_active(self.start_year)]
        municipalities = []
        for i, row in enumerate(rows.itertuples(index=False)):
            own = [c for c in active if c.serves_intake == _intake_region(row.region)]
            residential = [c for c in (own or active) if c.residential_units > 0] or active
            nearest = min(self._travel[i, c.index] for c in residential)
            reachable = any(
                c.home_based_capacity > 0 and self._travel[i, c.index] <= p.max_home_travel_hours
                for c in active
            )
            municipalities.append(
                Municipality(
                    self,
                    index=i,
                    kommunenummer=row.kommunenummer,
                    name=row.name,
                    region=row.region,
                    size_class=row.size_class,
                    own_capacity=float(indices[i, 0]),
                    budget_pressure=float(indices[i, 1]),
                    nearest_centre_hours=float(nearest),
                    home_centre_reachable=reachable,
                )
            )
        return municipalities

    def _build_network(self) -> nx.Graph:
        """Neighbours (shared border) plus random cooperation links within counties."""
        graph = nx.Graph()
        graph.add_nodes_from(range(len(self.municipalities)))
        index = {m.kommunenummer: m.index for m in self.municipalities}
        for a, b in zip(
            self.data.neighbours["kommunenummer_a"],
            self.data.neighbours["kommunenummer_b"],
            strict=True,
        ):
            graph.add_edge(index[a], index[b], kind="neighbour")
        counties = self.data.municipalities["county_number"].to_numpy()
        seed = int(self.streams.network.integers(2**31))
        for county in sorted(set(counties)):
            members = np.flatnonzero(counties == county).tolist()
            links = nx.gnp_random_graph(
                len(members), self.parameters.cooperation_edge_prob, seed=seed + int(county)
            )
            for u, v in links.edges:
                if not graph.has_edge(members[u], members[v]):
                    graph.add_edge(members[u], members[v], kind="cooperation")
        return graph

    def _diffusion_matrix(self) -> np.ndarray:
        """Row-normalised adjacency: neighbours' mean familiarity is W @ f."""
        adjacency = nx.to_numpy_array(self.graph, nodelist=range(len(self.municipalities)))
        degree = adjacency.sum(axis=1, keepdims=True)
        return np.divide(adjacency, degree, out=np.zeros_like(adjacency), where=degree > 0)

    # --- look-ups used by the agents -----------------------------------------------------------
    def travel_hours(self, municipality: Municipality, centre: Centre) -> float:
        """One-way travel time from the municipality's travel point to the centre."""
        return float(self._travel[municipality.index, centre.index])

    def intake_for(self, municipality: Municipality) -> Intake:
        """Oslo refers to its own intake; everyone else to Bufetat's regional intake."""
        return self.intakes[_intake_region(municipality.region)]

    def candidate_centres(
        self, intake_region: str, municipality: Municipality, option: Option, beyond: bool
    ) -> list[Centre]:
        """Centres an intake may use for a family, nearest first."""
        p = self.parameters
        found = []
        for centre in self.centres:
            hours = self._travel[municipality.index, centre.index]
            own = centre.serves_intake == intake_region
            if option is Option.HOME_CENTRE:
                usable = centre.home_based_capacity > 0 and hours <= p.max_home_travel_hours
            else:
                usable = centre.residential_units > 0
                if beyond:
                    usable = usable and hours <= p.cross_region_max_hours
                    usable = usable and centre.operator != "oslo_municipal"
            if usable and own != beyond:
                found.append((hours, centre.index, centre))
        return [c for _, _, c in sorted(found, key=lambda t: (t[0], t[1]))]

    def copay(self, measure: str) -> float:
        """The co-payment per month (NOK, nominal) in the current year, levers applied."""
        key = (self.current_year, measure)
        if key not in self._copay_cache:
            rate = self.data.copay(self.current_year, measure)
            if measure.startswith("centre_"):
                rate *= self.levers.copay_multiplier
                if measure == "centre_residential":
                    rate *= self.levers.copay_multiplier_residential
                else:
                    rate *= self.levers.copay_multiplier_home
            self._copay_cache[key] = rate
        return self._copay_cache[key]

    def municipal_cost(self, option: Option, family: Family) -> float:
        """What the option costs the municipality for this family (NOK), as it sees it."""
        p = self.parameters
        if option is Option.RESIDENTIAL:
            return self.copay("centre_residential") * family.sats * p.residential_months_expected
        if option is Option.HOME_CENTRE:
            return self.copay("centre_home_based") * family.sats * p.home_centre_months_expected
        if option is Option.OWN:
            return p.own_assessment_cost
        if option is Option.EMERGENCY:
            return self.copay("specialised_foster_home") * p.emergency_months_expected
        return p.residential_full_cost

    def assessment_days(self, family: Family, median_parameter: str) -> int:
        """A length in days for the family's assessment (its own duration draw)."""
        p = self.parameters
        low, high = p.residential_days_min, p.residential_days_max
        if median_parameter != "residential_days_median":
            low, high = 14, 180
        median = getattr(p, median_parameter)
        return lognormal_days(family.draw("duration"), median, p.duration_sigma, low, high)

    # --- the day ----------------------------------------------------------------------------
    def step(self) -> None:
        """One day: new year and month bookkeeping, new cases, intake meetings, records."""
        day = int(self.time)
        if day > self.calendar.n_days:
            self.running = False
            return
        year = self.calendar.year_of(day)
        if day == 1 or year != self.current_year:
            self.current_year = year
            self._draw_year_of_cases(year)
        if self.calendar.day_of_month[day] == 1 and day > 1:
            self.update_familiarity()
        self._admit_new_cases(day)
        if self.is_meeting_day(day):
            for intake in self.intakes.values():
                intake.hold_meeting()
        self.recorder.record_day(day)

    def is_meeting_day(self, day: int) -> bool:
        """Intake meetings are held on the chosen weekdays that are not public holidays."""
        return (
            int(self.calendar.weekday[day]) in self._meeting_weekdays
            and not self.calendar.is_holiday[day]
        )

    def run_years(self, years: int | None = None, progress: Any = None) -> None:
        """Run whole years (all by default); ``progress(year)`` is called after each."""
        for offset in range(years or self.years):
            year = self.start_year + offset
            last_day = self.calendar.first_day_of_year(year + 1) - 1
            self.run_until(min(last_day, self.calendar.n_days))
            if progress is not None:
                progress(year)
        self.running = False

    def _draw_year_of_cases(self, year: int) -> None:
        """Draw every case of the year: where, when, who, and each family's own luck."""
        p = self.parameters
        first = self.calendar.first_day_of_year(year)
        last = min(self.calendar.first_day_of_year(year + 1) - 1, self.calendar.n_days)
        children = self.data.children_by_age(year)
        c02 = children[:, 0:3].sum(axis=1).astype(float)
        c35 = children[:, 3:6].sum(axis=1).astype(float)
        days_in_year = self.calendar.first_day_of_year(year + 1) - first
        share = (last - first + 1) / days_in_year
        rate = p.case_rate_per_1000_children / 1000.0 * share
        arrivals = self.streams.arrivals
        counts = arrivals.poisson(rate * (c02 + c35))
        municipality = np.repeat(np.arange(len(counts)), counts)
        day = arrivals.integers(first, last + 1, size=municipality.size)
        order = np.lexsort((municipality, day))
        municipality, day = municipality[order], day[order]
        n = municipality.size
        traits = self.streams.traits
        weighted = p.age_0_2_case_weight * c02
        share_0_2 = np.divide(weighted, weighted + c35, out=np.zeros_like(c02), where=c35 + c02 > 0)
        severity = traits.beta(p.severity_beta_a, p.severity_beta_b, size=n)
        columns = {
            "day": day,
            "municipality": municipality,
            "age_0_2": traits.random(n) < share_0_2[municipality],
            "parents": 1 + (traits.random(n) < p.two_parent_share),
            "children": 1 + (traits.random(n) < p.extra_child_share),
            "sibling_over_6": traits.random(n) < p.sibling_over_6_share,
            "severity": severity,
            "latent_need": severity + traits.normal(0.0, p.need_noise_sd, size=n),
            "days_used": traits.integers(
                p.days_used_before_referral_min, p.days_used_before_referral_max + 1, size=n
            ),
        }
        self._arrivals = {name: values.tolist() for name, values in columns.items()}
        self._luck = {
            stream: getattr(self.streams, stream).random((n, width)).tolist()
            for stream, width in LUCK_WIDTH.items()
        }
        self._arrival_cursor = 0

    def _admit_new_cases(self, day: int) -> None:
        """Create today's families and let their municipalities act."""
        a = self._arrivals
        days = a["day"]
        i = self._arrival_cursor
        while i < len(days) and days[i] == day:
            family = Family(
                self,
                municipality=self.municipalities[a["municipality"][i]],
                arrival_day=day,
                age_0_2=a["age_0_2"][i],
                parents=a["parents"][i],
                children=a["children"][i],
                sibling_over_6=a["sibling_over_6"][i],
                severity=a["severity"][i],
                latent_need=a["latent_need"][i],
                days_used=a["days_used"][i],
                luck={stream: values[i] for stream, values in self._luck.items()},
            )
            self.arrived += 1
            self.status_counts[Status.WAITING] += 1
            self.tally(family, "cases")
            family.municipality.handle_case(family)
            i += 1
        self._arrival_cursor = i

    def update_familiarity(self) -> None:
        """Monthly: familiarity spreads over the network and fades without use."""
        p = self.parameters
        f = self.familiarity
        f += p.familiarity_diffusion * (self._neighbour_weights @ f - f)
        f *= 1.0 - p.familiarity_decay

    # --- bookings and life-cycle ------------------------------------------------------------
    def tally(self, family: Family, metric: str, amount: float = 1.0) -> None:
        """Count an event for the family's municipality in the current year."""
        self.recorder.count(self.current_year, family.municipality.index, metric, amount)

    def book_residential(
        self, family: Family, centre: Centre, start: int, unit: int, option: Option | None = None
    ) -> None:
        """Book a unit for a consenting family and schedule its stay."""
        option = option or Option.RESIDENTIAL
        days = self.assessment_days(family, "residential_days_median")
        end = centre.book_unit(unit, family, start, days)
        travel = self.travel_hours(family.municipality, centre)
        breaks = centre.calendar.breaks_between(start, end)
        family.unit = unit
        self.schedule_assessment(
            family, centre, option, start, end, family.dropout_day(start, end, breaks, travel)
        )

    def schedule_assessment(
        self,
        family: Family,
        centre: Centre | None,
        option: Option,
        start: int,
        end: int,
        dropout_day: int | None,
    ) -> None:
        """Schedule the start and the end (or drop-out) of a booked assessment."""
        family.option = option
        family.centre = centre
        family.start_day = start
        family.end_day = dropout_day if dropout_day is not None else end
        if option in (Option.RESIDENTIAL, Option.HOME_CENTRE):
            family.municipality.learn_wait(option, start - family.arrival_day)
        if option is Option.DIRECT_PURCHASE:
            self.tally(family, "direct_purchases")
        if start <= int(self.time):
            self.family_starts(family)
        else:
            self.schedule_event(family.begin_assessment, at=start)
        ending = family.complete_assessment if dropout_day is None else family.drop_out
        self.schedule_event(ending, at=family.end_day)

    def family_starts(self, family: Family) -> None:
        """A booked assessment starts: the family is now in assessment."""
        self.status_counts[Status.WAITING] -= 1
        self.status_counts[Status.IN_ASSESSMENT] += 1
        family.status = Status.IN_ASSESSMENT
        if family.option is Option.OWN:
            return
        self.tally(family, "admissions")
        self.tally(family, f"admissions_{family.option.value}")
        self.recorder.admission(family)
        if family.option is Option.HOME_CENTRE:
            self.home_clients[family.centre.index] += 1
        else:
            self.residents[family.centre.index] += 1

    def family_finishes(self, family: Family, status: Status) -> None:
        """An assessment ends (completed or dropped out); the family leaves the model."""
        self.status_counts[family.status] -= 1
        self.status_counts[status] += 1
        family.status = status
        if status is Status.DROPPED_OUT:
            self.tally(family, "dropouts")
        if family.centre is not None:
            if family.option is Option.HOME_CENTRE:
                self.home_clients[family.centre.index] -= 1
            else:
                self.residents[family.centre.index] -= 1
                self.recorder.bed_days(family, family.start_day, int(self.time))
        if family.decision is not None:
            self.tally(family, f"decision_{family.decision.value}")
        self.recorder.family_done(family)
        family.remove()

    def start_own_assessment(self, family: Family) -> None:
        """The municipality assesses at home with its own staff, starting now."""
        self.tally(family, "own_assessments")
        today = int(self.time)
        days = self.assessment_days(family, "own_assessment_days_median")
        self.schedule_assessment(family, None, Option.OWN, today, today + days, None)

    def place_in_emergency(self, family: Family) -> None:
        """An emergency foster home now, instead of waiting for an assessment."""
        self.tally(family, "emergency_placements")
        family.decision = Decision.EMERGENCY_FOSTER_HOME
        family.start_day = family.end_day = int(self.time)
        self.status_counts[Status.WAITING] -= 1
        self.status_counts[Status.FINISHED] += 1
        family.status = Status.FINISHED
        self.tally(family, "decision_emergency_foster_home")
        self.recorder.family_done(family)
        family.remove()

    def buy_place_directly(self, family: Family) -> bool:
        """After a refusal: buy a residential place from a non-profit centre at full cost."""
        today = int(self.time)
        earliest = today + self.parameters.start_lead_days
        latest = family.deadline_day - self.parameters.min_days_before_deadline
        candidates = sorted(
            (c for c in self.centres if c.operator == "ideell" and c.is_active(self.current_year)),
            key=lambda c: (self._travel[family.municipality.index, c.index], c.index),
        )
        for centre in candidates:
            found = centre.earliest_residential_start(earliest)
            if found is None or found[0] > latest:
                continue
            travel = self.travel_hours(family.municipality, centre)
            if not family.consents_to_residential(travel, centre.calendar.breaks_per_month):
                family.consent_refused = True
                self.tally(family, "consent_refusals")
                return False
            self.book_residential(family, centre, found[0], found[1], Option.DIRECT_PURCHASE)
            return True
        return False

    # --- end of run ---------------------------------------------------------------------------
    def families_in_model(self) -> list[Family]:
        """Families still waiting or in assessment."""
        return list(self.agents_by_type.get(Family, []))


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value)) or value == ""


def _first(*values: Any) -> Any:
    """The first value that is not None."""
    return next((v for v in values if v is not None), None)


def _intake_region(region: str) -> str:
    return region
