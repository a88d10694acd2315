"""The sfbsim Mesa model: all of Norway, one step per day on real dates.

The model builds the world (municipalities, a familiarity network, centres, intakes) and orders
activation. Work is event-driven where it matters: each day only that day's new cases are
handled; intake meetings run on meeting days; stays start and end as Mesa events scheduled when
they are booked. Nothing loops over municipalities × days.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import mesa
import networkx as nx
import numpy as np
import pandas as pd
from mesa.time import Priority, Schedule
from scipy import sparse
from scipy.special import ndtri
from sfbsim.agents.centre import Centre
from sfbsim.agents.family import (
    DIRECT_PURCHASE,
    DROPPED_OUT,
    EMERGENCY,
    FINISHED,
    HOME_CENTRE,
    IN_ASSESSMENT,
    OWN,
    RESIDENTIAL,
    WAITING,
    Decision,
    Family,
    Option,
    Status,
)
from sfbsim.agents.intake import Intake
from sfbsim.agents.municipality import Municipality
from sfbsim.model.calendar import Calendar, CentreCalendar
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
from sfbsim.model.reforms import FOREVER, LeverTimeline
from sfbsim.model.streams import RandomStreams
from sfbsim.model.travel import travel_matrix

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

ADMISSION_METRIC = {option: f"admissions_{option}" for option in Option}
DECISION_METRIC = {decision: f"decision_{decision}" for decision in Decision}


def lognormal_days(z: float, median: float, sigma: float, low: int, high: int) -> int:
    """A log-normal length in days from a standard-normal score ``z``, clipped to [low, high]."""
    return int(min(max(round(median * math.exp(sigma * z)), low), high))


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
    ) -> None:
        super().__init__(rng=rng)
        self.parameters = parameters or Parameters()
        self.costs = costs or Costs()
        self.data = data if data is not None else load_data()
        self.start_year = start_year
        self.years = years
        self.calendar = Calendar.build(start_year, years)
        self.streams = RandomStreams(rng)
        self.timeline = LeverTimeline(levers or Levers(), changes or [], self.calendar)
        self.levers = self.timeline.levers_on(1)
        self.current_year = start_year
        self._copay_cache: dict[tuple[int, str], Any] = {}
        self._option_costs: tuple[int, dict[Option, tuple[float, float]]] | None = None
        self._arrivals: list[list] = [[]] * 9  # the year's cases, column by column, by day
        self._arrival_cursor = 0
        self._due: dict[int, list[Callable[[], None]]] = {}
        self.status_counts = [0, 0, 0, 0]
        self.today = 0
        """The day number of the current step (``model.time`` as an int, for the hot path)."""
        self.arrived = 0
        self._year_of_day: list[int] = self.calendar.year.tolist()
        self._month_starts: list[bool] = (self.calendar.day_of_month == 1).tolist()
        self._meeting_days = self._meeting_day_flags()

        self.centre_rows = self._centre_rows(new_centres or [])
        self._travel = self._travel_matrix()
        n_centres = len(self.centre_rows)
        self.residents = np.zeros(n_centres, dtype=np.int64)
        self.home_clients = np.zeros(n_centres, dtype=np.int64)
        self.units_now = np.zeros(n_centres, dtype=np.int64)
        self.home_capacity_now = np.zeros(n_centres, dtype=np.int64)
        self.residents_total = self.home_clients_total = 0
        self.capacity_log: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.resident_children = np.zeros(len(self.data.municipalities), dtype=np.int64)
        self.units_total = self.home_capacity_total = 0
        self.centres = self._build_centres(closed_centres or [])
        self.apply_capacity(1)
        self.municipalities = self._build_municipalities()
        self.refresh_reach()
        self.graph = self._build_network()
        self._neighbour_weights = self._diffusion_matrix()
        self.intakes = {region: Intake(self, region) for region in INTAKE_REGIONS}
        self._change_days = self._days_of_change()
        self.recorder = Recorder(self)
        self.schedule_recurring(self._run_due, Schedule(interval=1, start=1), priority=Priority.LOW)
        self._tallies = self.recorder.tallies
        self._year_offset = 0  # current_year - start_year, for tally()

    # --- building the world -----------------------------------------------------------------
    def _centre_rows(self, new_centres: list[NewCentre]) -> pd.DataFrame:
        """The bundled centres plus any new centres of the scenario, in index order."""
        rows = self.data.centres.reset_index(drop=True)
        if not new_centres:
            return rows
        municipalities = self.data.municipalities.set_index("kommunenummer")
        known = set(rows["centre_id"])
        extra = []
        for centre in new_centres:
            if centre.centre_id in known:
                raise ValueError(f"new centre {centre.centre_id!r} already exists")
            if centre.kommunenummer not in municipalities.index:
                raise ValueError(
                    f"new centre {centre.centre_id!r}: no municipality {centre.kommunenummer}"
                )
            home = municipalities.loc[centre.kommunenummer]
            opens = centre.opens or self.calendar.start
            extra.append(
                {
                    "centre_id": centre.centre_id,
                    "name": centre.name or f"New centre in {home['name']}",
                    "operator": centre.operator,
                    "region": home["region"],
                    "kommunenummer": centre.kommunenummer,
                    "lat": home["lat"],
                    "lon": home["lon"],
                    "residential_units": centre.residential_units,
                    "home_based_capacity": centre.home_based_capacity,
                    "weekend_policy": centre.weekend_policy,
                    "summer_closure_weeks": centre.summer_closure_weeks,
                    "opened_year": opens.year,
                    "closed_year": pd.NA,
                    "nationwide_intake": int(centre.nationwide_intake),
                    "opens": opens,
                }
            )
            known.add(centre.centre_id)
        return pd.concat([rows, pd.DataFrame(extra)], ignore_index=True)

    def _travel_matrix(self) -> np.ndarray:
        """Travel hours municipality × centre, computed for new centres from coordinates."""
        bundled = self.data.travel_hours_matrix()
        n_bundled = bundled.shape[1]
        if len(self.centre_rows) == n_bundled:
            return bundled
        new = self.centre_rows.iloc[n_bundled:]
        long = travel_matrix(self.data.municipalities, new)
        wide = long.pivot(index="kommunenummer", columns="centre_id", values="hours")
        wide = wide.reindex(
            index=self.data.municipalities["kommunenummer"], columns=new["centre_id"]
        )
        return np.hstack([bundled, wide.to_numpy(dtype=float)])

    def _day_of(self, date: dt.date) -> int:
        return max(1, (date - self.calendar.start).days + 1)

    def _build_centres(self, closed_centres: list[ClosedCentre]) -> list[Centre]:
        """One agent per centre open at some time during the run."""
        known = set(self.centre_rows["centre_id"])
        unknown = set(self.timeline.base.centres) | {c.centre for c in self.timeline_changes()}
        unknown = {c for c in unknown if c is not None} - known
        unknown |= {c.centre_id for c in closed_centres} - known
        if unknown:
            raise ValueError(f"the scenario names unknown centres: {', '.join(sorted(unknown))}")
        closes = {c.centre_id: self._day_of(c.closes) for c in closed_centres}
        last_day = self.calendar.n_days
        centres: list[Centre] = []
        for index, row in enumerate(self.centre_rows.itertuples(index=False)):
            opened = self._opening_day(row)
            closed = FOREVER if _missing(row.closed_year) else self._jan1(int(row.closed_year))
            closed = min(closed, closes.get(row.centre_id, FOREVER))
            if opened > last_day or closed <= 1:
                continue
            centres.append(
                Centre(
                    self,
                    index=index,
                    centre_id=row.centre_id,
                    name=row.name,
                    operator=row.operator,
                    region=row.region,
                    kommunenummer=row.kommunenummer,
                    calendar=CentreCalendar.from_open(
                        self._centre_open_days(row), self.calendar.n_days
                    ),
                    opened_day=opened,
                    closed_day=closed,
                    nationwide_intake=bool(row.nationwide_intake),
                )
            )
        return centres

    def timeline_changes(self) -> list[Change]:
        """The scenario's dated changes."""
        return [change for _, _, change in self.timeline.changes]

    def _jan1(self, year: int) -> int:
        return self._day_of(dt.date(year, 1, 1)) if year > self.start_year else 1

    def _opening_day(self, row: Any) -> int:
        opens = getattr(row, "opens", None)
        if isinstance(opens, dt.date):
            return self._day_of(opens)
        return self._jan1(int(row.opened_year))

    def _centre_open_days(self, row: Any) -> np.ndarray:
        """Open days under the weekend and holiday levers in force, segment by segment."""
        timeline = self.timeline
        override = timeline.base.centres.get(row.centre_id)
        summer = _first(
            override and override.summer_closure_weeks,
            timeline.base.summer_closure_weeks,
            int(row.summer_closure_weeks),
        )
        starts = [0, *timeline.boundaries()]
        ends = [*starts[1:], len(self.calendar.dates)]
        open_days = np.zeros(len(self.calendar.dates), dtype=bool)
        for start, end in zip(starts, ends, strict=True):
            day = max(start, 1)
            levers = timeline.levers_on(day)
            weekend = _first(
                timeline.centre_value(row.centre_id, "weekend_policy", day),
                levers.weekend_policy,
                row.weekend_policy,
            )
            holidays_open = _first(
                timeline.centre_value(row.centre_id, "holidays_open", day), levers.holidays_open
            )
            pattern = self.calendar.centre_open_days(weekend, summer, bool(holidays_open))
            open_days[start:end] = pattern[start:end]
        return open_days

    def apply_capacity(self, day: int) -> None:
        """Units and home-based slots in force on ``day`` (levers, openings, closures)."""
        rows = self.centre_rows
        for centre in self.centres:
            row = rows.iloc[centre.index]
            units = self.timeline.centre_value(centre.centre_id, "residential_units", day)
            if units is None:
                units = round(int(row["residential_units"]) * self.levers.units_multiplier)
            home = self.timeline.centre_value(centre.centre_id, "home_based_capacity", day)
            if home is None:
                home = round(int(row["home_based_capacity"]) * self.levers.home_capacity_multiplier)
            if not centre.accepts_families(day):
                units = home = 0
            centre.set_capacity(int(units), int(home))
            self.units_now[centre.index] = units
            self.home_capacity_now[centre.index] = home
        self.units_total = int(self.units_now.sum())
        self.home_capacity_total = int(self.home_capacity_now.sum())
        self.capacity_log.append((day, self.units_now.copy(), self.home_capacity_now.copy()))

    def _days_of_change(self) -> set[int]:
        """Days on which levers change or centres open or close."""
        days = set(self.timeline.boundaries())
        for centre in self.centres:
            days.update(d for d in (centre.opened_day, centre.closed_day) if d > 1)
        return {d for d in days if d <= self.calendar.n_days}

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
        self.familiarity = indices[:, 2].copy()
        self.run_information_campaign(self.levers.information_campaign)
        return [
            Municipality(
                self,
                index=i,
                kommunenummer=row.kommunenummer,
                name=row.name,
                region=row.region,
                size_class=row.size_class,
                own_capacity=float(indices[i, 0]),
                budget_pressure=float(indices[i, 1]),
            )
            for i, row in enumerate(rows.itertuples(index=False))
        ]

    def refresh_reach(self) -> None:
        """Each municipality's nearest residential centre and whether home-based work reaches it."""
        p = self.parameters
        has_units = self.units_now > 0
        has_home = self.home_capacity_now > 0
        serves = np.array([c.serves_intake for c in self.centres])
        columns = np.array([c.index for c in self.centres])
        travel = self._travel[:, columns]
        own_units = has_units[columns]
        reach_home = (travel[:, has_home[columns]] <= p.max_home_travel_hours).any(axis=1)
        for municipality in self.municipalities:
            mask = own_units & (serves == municipality.region)
            if not mask.any():
                mask = own_units if own_units.any() else np.ones_like(own_units)
            municipality.set_reach(
                float(travel[municipality.index, mask].min()),
                bool(reach_home[municipality.index]),
            )

    def run_information_campaign(self, share: float) -> None:
        """Close ``share`` of every municipality's gap to full familiarity."""
        if share > 0:
            self.familiarity += share * (1.0 - self.familiarity)

    def lose_familiarity(self, share: float) -> None:
        """Every municipality loses ``share`` of its familiarity: the offer it knew has changed
        (stays became assessment-only), and it learns the new one by use and from neighbours."""
        if share > 0:
            self.familiarity *= 1.0 - share

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

    def _diffusion_matrix(self) -> sparse.csr_matrix:
        """Row-normalised adjacency (sparse): neighbours' mean familiarity is W @ f."""
        adjacency = nx.to_scipy_sparse_array(
            self.graph, nodelist=range(len(self.municipalities)), format="csr"
        ).astype(float)
        degree = np.asarray(adjacency.sum(axis=1)).ravel()
        scale = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
        return sparse.csr_matrix(sparse.diags(scale) @ adjacency)

    # --- look-ups used by the agents -----------------------------------------------------------
    def travel_hours(self, municipality: Municipality, centre: Centre) -> float:
        """One-way travel time from the municipality's travel point to the centre."""
        return float(self._travel[municipality.index, centre.index])

    def intake_for(self, municipality: Municipality) -> Intake:
        """Oslo refers to its own intake; everyone else to Bufetat's regional intake."""
        return self.intakes[municipality.region]

    def candidate_centres(
        self, intake_region: str, municipality: Municipality, option: Option, beyond: bool
    ) -> list[Centre]:
        """Centres an intake may ever use for a family, nearest first (capacity and opening
        are checked on the day)."""
        p = self.parameters
        found = []
        for centre in self.centres:
            hours = self._travel[municipality.index, centre.index]
            own = centre.serves_intake == intake_region
            if own == beyond:
                continue
            if option is HOME_CENTRE:
                usable = hours <= p.max_home_travel_hours
            else:
                usable = not beyond or (
                    hours <= p.cross_region_max_hours and centre.operator != "oslo_municipal"
                )
            if usable:
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

    def option_costs(self) -> dict[Option, tuple[float, float]]:
        """(cost per sats, fixed cost) of each option to the municipality, this year, under the
        levers in force: centre assessments cost the co-payment per month by the sats rule
        (brief §4) for the expected months (the high-risk multiplier is applied per family in
        Municipality.utilities); under full municipal financing the full cost instead."""
        cached = self._option_costs
        if cached is not None and cached[0] == self.current_year:
            return cached[1]
        p, costs = self.parameters, self.costs
        if self.levers.full_municipal_financing:
            residential = (0.0, costs.residential_full_cost)
            home = (0.0, costs.home_centre_full_cost)
        else:
            residential = (self.copay("centre_residential") * p.residential_months_expected, 0.0)
            home = (self.copay("centre_home_based") * p.home_centre_months_expected, 0.0)
        table = {
            RESIDENTIAL: residential,
            HOME_CENTRE: home,
            OWN: (0.0, costs.own_assessment_cost),
            EMERGENCY: (
                0.0,
                self.copay("specialised_foster_home") * p.emergency_months_expected,
            ),
            DIRECT_PURCHASE: (
                0.0,
                costs.residential_full_cost * costs.direct_purchase_price_factor,
            ),
        }
        self._option_costs = (self.current_year, table)
        return table

    def assessment_days(self, family: Family, median_parameter: str) -> int:
        """A length in days for the family's assessment (its own duration draw)."""
        p = self.parameters
        low, high = p.residential_days_min, p.residential_days_max
        median = getattr(p, median_parameter)
        if median_parameter != "residential_days_median":
            low, high = 14, 180
        elif self.levers.guidance_stays:
            median *= p.guidance_stay_factor  # assessment combined with guidance runs longer
        return lognormal_days(family.draw("duration"), median, p.duration_sigma, low, high)

    # --- the day ----------------------------------------------------------------------------
    def step(self) -> None:
        """One day: new year and month bookkeeping, new cases, intake meetings, records."""
        day = self.today = int(self.time)
        if day > self.calendar.n_days:
            self.running = False
            return
        year = self._year_of_day[day]
        if day == 1 or year != self.current_year:
            self.current_year = year
            self._year_offset = year - self.start_year
            self._draw_year_of_cases(year)
        if day in self._change_days:
            self.apply_changes(day)
        if self._month_starts[day] and day > 1:
            self.update_familiarity()
        self._admit_new_cases(day)
        if self._meeting_days[day]:
            for intake in self.intakes.values():
                intake.hold_meeting()
        self.recorder.record_day(day)

    def apply_changes(self, day: int) -> None:
        """Levers change, or centres open or close, today."""
        before = self.levers
        self.levers = self.timeline.levers_on(day)
        self._copay_cache.clear()
        self._option_costs = None
        self._meeting_days = self._meeting_day_flags()
        if self.levers.information_campaign > before.information_campaign:
            self.run_information_campaign(self.levers.information_campaign)
        if before.guidance_stays and not self.levers.guidance_stays:
            self.lose_familiarity(self.parameters.mandate_familiarity_loss)
        self.apply_capacity(day)
        self.refresh_reach()

    def _meeting_day_flags(self) -> list[bool]:
        """Per day: intake meetings are held on the chosen weekdays that are not public
        holidays (under the levers in force)."""
        weekdays = [WEEKDAY_INDEX[d] for d in self.levers.intake_meeting_days]
        calendar = self.calendar
        return (np.isin(calendar.weekday, weekdays) & ~calendar.is_holiday).tolist()

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
        """Draw every case of the year: where, when, who, and each family's own luck.

        The case rate follows each municipality's children 0-5 in that year, scaled day by day
        by the ``case_rate_multiplier`` lever (e.g. the pandemic); while ``older_children_included``
        is on (before the 2022 mandate) cases for children 6-12 arrive as well.
        """
        p = self.parameters
        first = self.calendar.first_day_of_year(year)
        last = min(self.calendar.first_day_of_year(year + 1) - 1, self.calendar.n_days)
        days_in_year = self.calendar.first_day_of_year(year + 1) - first
        children = self.data.children_by_age(year)
        c02 = children[:, 0:3].sum(axis=1).astype(float)
        c35 = children[:, 3:6].sum(axis=1).astype(float)
        weights = self.timeline.series("case_rate_multiplier", first, last).astype(float)
        older = weights * self.timeline.series("older_children_included", first, last)
        rate = p.case_rate_per_1000_children / 1000.0 / days_in_year
        arrivals = self.streams.arrivals
        young_counts = arrivals.poisson(rate * weights.sum() * (c02 + c35))
        older_counts = arrivals.poisson(rate * older.sum() * p.age_6_12_case_ratio * (c02 + c35))
        young_days = _days_from_weights(arrivals.random(young_counts.sum()), weights, first)
        older_days = _days_from_weights(arrivals.random(older_counts.sum()), older, first)
        municipalities = np.arange(len(c02))
        municipality = np.concatenate(
            [np.repeat(municipalities, young_counts), np.repeat(municipalities, older_counts)]
        )
        is_older = np.repeat([False, True], [young_counts.sum(), older_counts.sum()])
        day = np.concatenate([young_days, older_days])
        order = np.lexsort((is_older, municipality, day))
        municipality, day, is_older = municipality[order], day[order], is_older[order]
        n = municipality.size
        traits = self.streams.traits
        weighted = p.age_0_2_case_weight * c02
        share_0_2 = np.divide(weighted, weighted + c35, out=np.zeros_like(c02), where=c35 + c02 > 0)
        age_0_2 = traits.random(n) < share_0_2[municipality]
        severity = traits.beta(p.severity_beta_a, p.severity_beta_b, size=n)
        columns = {
            "day": day,
            "municipality": municipality,
            "age_group": np.where(is_older, "6-12", np.where(age_0_2, "0-2", "3-5")),
            "parents": 1 + (traits.random(n) < p.two_parent_share),
            "children": 1 + (traits.random(n) < p.extra_child_share),
            "sibling_over_6": traits.random(n) < p.sibling_over_6_share,
            "severity": severity,
            "latent_need": severity + traits.normal(0.0, p.need_noise_sd, size=n),
            "days_used": traits.integers(
                p.days_used_before_referral_min, p.days_used_before_referral_max + 1, size=n
            ),
        }
        self._arrivals = [values.tolist() for values in columns.values()]  # column lists
        luck = {
            stream: getattr(self.streams, stream).random((n, width))
            for stream, width in LUCK_WIDTH.items()
        }
        luck["duration"] = ndtri(np.clip(luck["duration"], 1e-9, 1 - 1e-9))  # normal scores
        # One flat list per stream (row-major): family ``row`` owns values[row*width:(row+1)*width]
        self._luck = {
            stream: (values.ravel().tolist(), LUCK_WIDTH[stream]) for stream, values in luck.items()
        }
        self._arrival_cursor = 0

    def _admit_new_cases(self, day: int) -> None:
        """Create today's families and let their municipalities act."""
        days, municipality, age, parents, children, sibling, severity, need, used = self._arrivals
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
                luck=self._luck,
                row=i,
            )
            self.arrived += 1
            self.status_counts[WAITING] += 1
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
        slot = self.recorder.slot(self._year_offset, family.municipality.index, metric)
        self._tallies[slot] += amount

    def book_residential(
        self, family: Family, centre: Centre, start: int, unit: int, option: Option | None = None
    ) -> None:
        """Book a unit for a consenting family and schedule its stay."""
        option = option or RESIDENTIAL
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
        if option in (RESIDENTIAL, HOME_CENTRE):
            family.municipality.learn_wait(option, start - family.arrival_day)
        if option is DIRECT_PURCHASE:
            self.tally(family, "direct_purchases")
        if start <= self.today:
            self.family_starts(family)
        else:
            self.on_day(start, family.begin_assessment)
        ending = family.complete_assessment if dropout_day is None else family.drop_out
        self.on_day(family.end_day, ending)

    def on_day(self, day: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` on a later ``day``, after that day's step (see ``_run_due``)."""
        if day <= self.today:
            raise ValueError(f"on_day: day {day} is not after today ({self.today})")
        due = self._due.get(day)
        if due is None:
            self._due[day] = [callback]
        else:
            due.append(callback)

    def _run_due(self) -> None:
        """Start and end the stays and assessments due today, in booking order.

        A recurring Mesa event (``schedule_recurring``, after the day's step): the calendar of
        due work is keyed by day, so its cost grows with the stays, not with the days × agents.
        """
        for callback in self._due.pop(int(self.time), ()):
            callback()

    def family_starts(self, family: Family) -> None:
        """A booked assessment starts: the family is now in assessment."""
        self.status_counts[WAITING] -= 1
        self.status_counts[IN_ASSESSMENT] += 1
        family.status = IN_ASSESSMENT
        if family.option is OWN:
            return
        self.tally(family, "admissions")
        self.tally(family, ADMISSION_METRIC[family.option])
        self.recorder.admission(family)
        if family.option is HOME_CENTRE:
            self.home_clients[family.centre.index] += 1
            self.home_clients_total += 1
        else:
            self.residents[family.centre.index] += 1
            self.residents_total += 1
            self.resident_children[family.municipality.index] += family.children

    def family_finishes(self, family: Family, status: Status) -> None:
        """An assessment ends (completed or dropped out); the family leaves the model."""
        self.status_counts[family.status] -= 1
        self.status_counts[status] += 1
        family.status = status
        if status is DROPPED_OUT:
            self.tally(family, "dropouts")
        if family.centre is not None:
            if family.option is HOME_CENTRE:
                self.home_clients[family.centre.index] -= 1
                self.home_clients_total -= 1
            else:
                self.residents[family.centre.index] -= 1
                self.residents_total -= 1
                self.resident_children[family.municipality.index] -= family.children
                self.recorder.bed_days(family, family.start_day, self.today)
                self.recorder.centre_measure(family, family.start_day, self.today)
        if family.decision is not None:
            self.tally(family, DECISION_METRIC[family.decision])
        self.recorder.family_done(family)
        family.remove()

    def start_own_assessment(self, family: Family) -> None:
        """The municipality assesses at home with its own staff, starting now."""
        self.tally(family, "own_assessments")
        today = self.today
        days = self.assessment_days(family, "own_assessment_days_median")
        self.schedule_assessment(family, None, OWN, today, today + days, None)

    def place_in_emergency(self, family: Family) -> None:
        """An emergency foster home now, instead of waiting for an assessment."""
        self.tally(family, "emergency_placements")
        family.decision = Decision.EMERGENCY_FOSTER_HOME
        family.start_day = family.end_day = self.today
        self.status_counts[WAITING] -= 1
        self.status_counts[FINISHED] += 1
        family.status = FINISHED
        self.tally(family, "decision_emergency_foster_home")
        self.recorder.family_done(family)
        family.remove()

    def buy_place_directly(self, family: Family) -> bool:
        """After a refusal: buy a residential place from a non-profit centre at full cost."""
        today = self.today
        earliest = today + self.parameters.start_lead_days
        latest = family.deadline_day - self.parameters.min_days_before_deadline
        candidates = sorted(
            (
                c
                for c in self.centres
                if c.operator == "ideell" and c.residential_units and c.accepts_families(today)
            ),
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
            self.book_residential(family, centre, found[0], found[1], DIRECT_PURCHASE)
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


def _days_from_weights(uniforms: np.ndarray, weights: np.ndarray, first: int) -> np.ndarray:
    """Days drawn in proportion to ``weights`` (one per day from ``first``), by inverse CDF."""
    if uniforms.size == 0:
        return np.zeros(0, dtype=np.int64)
    cumulative = np.cumsum(weights)
    index = np.searchsorted(cumulative, uniforms * cumulative[-1], side="right")
    return first + np.minimum(index, len(weights) - 1)
