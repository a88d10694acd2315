"""Building the world of a run: centres and their calendars and capacity, municipalities, the
familiarity network and travel times. ``SfbModel.__init__`` calls these in order; the capacity
and reach functions run again on every day when levers change or a centre opens or closes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse

from sfbsim.agents.centre import Centre, home_reach_hours
from sfbsim.agents.family import consent_log_odds, dropout_probability, logistic
from sfbsim.agents.municipality import Municipality
from sfbsim.model.calendar import CentreCalendar
from sfbsim.model.reforms import FOREVER
from sfbsim.model.travel import travel_matrix

if TYPE_CHECKING:
    from sfbsim.model.model import SfbModel
    from sfbsim.model.parameters import ClosedCentre, NewCentre


# --- centres ----------------------------------------------------------------------------------
def centre_rows(model: SfbModel, new_centres: list[NewCentre]) -> pd.DataFrame:
    """The bundled centres plus any new centres of the scenario, in index order."""
    rows = model.data.centres.reset_index(drop=True)
    if not new_centres:
        return rows
    municipalities = model.data.municipalities.set_index("kommunenummer")
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
        opens = centre.opens or model.calendar.start
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


def travel_hours_matrix(model: SfbModel) -> np.ndarray:
    """Travel hours municipality × centre, computed for new centres from coordinates."""
    bundled = model.data.travel_hours_matrix()
    n_bundled = bundled.shape[1]
    if len(model.centre_rows) == n_bundled:
        return bundled
    new = model.centre_rows.iloc[n_bundled:]
    long = travel_matrix(model.data.municipalities, new)
    wide = long.pivot(index="kommunenummer", columns="centre_id", values="hours")
    wide = wide.reindex(index=model.data.municipalities["kommunenummer"], columns=new["centre_id"])
    return np.hstack([bundled, wide.to_numpy(dtype=float)])


def build_centres(model: SfbModel, closed_centres: list[ClosedCentre]) -> list[Centre]:
    """One agent per centre open at some time during the run."""
    timeline = model.timeline
    known = set(model.centre_rows["centre_id"])
    unknown = set(timeline.base.centres) | {c.centre for _, _, c in timeline.changes}
    unknown = {c for c in unknown if c is not None} - known
    unknown |= {c.centre_id for c in closed_centres} - known
    if unknown:
        raise ValueError(f"the scenario names unknown centres: {', '.join(sorted(unknown))}")
    closes = {c.centre_id: model.day_of(c.closes) for c in closed_centres}
    last_day = model.calendar.n_days
    centres: list[Centre] = []
    for index, row in enumerate(model.centre_rows.itertuples(index=False)):
        opened = _opening_day(model, row)
        closed = FOREVER if _missing(row.closed_year) else _jan1(model, int(row.closed_year))
        closed = min(closed, closes.get(row.centre_id, FOREVER))
        if opened > last_day or closed <= 1:
            continue
        centres.append(
            Centre(
                model,
                index=index,
                centre_id=row.centre_id,
                name=row.name,
                operator=row.operator,
                region=row.region,
                kommunenummer=row.kommunenummer,
                calendar=CentreCalendar.from_open(
                    centre_open_days(model, row), model.calendar.n_days
                ),
                opened_day=opened,
                closed_day=closed,
                nationwide_intake=bool(row.nationwide_intake),
            )
        )
    return centres


def _jan1(model: SfbModel, year: int) -> int:
    return model.day_of(dt.date(year, 1, 1)) if year > model.start_year else 1


def _opening_day(model: SfbModel, row: Any) -> int:
    opens = getattr(row, "opens", None)
    if isinstance(opens, dt.date):
        return model.day_of(opens)
    return _jan1(model, int(row.opened_year))


def centre_open_days(model: SfbModel, row: Any) -> np.ndarray:
    """Open days under the weekend and holiday levers in force, segment by segment."""
    timeline = model.timeline
    override = timeline.base.centres.get(row.centre_id)
    summer = _first(
        override and override.summer_closure_weeks,
        timeline.base.summer_closure_weeks,
        int(row.summer_closure_weeks),
    )
    n = len(model.calendar.dates)
    starts = [0, *timeline.boundaries()]
    ends = [*starts[1:], n]
    open_days = np.zeros(n, dtype=bool)
    for start, end in zip(starts, ends, strict=True):
        day = max(start, 1)
        levers = timeline.levers_on(day)
        weekend, _ = timeline.centre_setting(
            row.centre_id, "weekend_policy", day, row.weekend_policy
        )
        holidays_open = _first(
            timeline.centre_value(row.centre_id, "holidays_open", day), levers.holidays_open
        )
        pattern = model.calendar.centre_open_days(weekend, summer, bool(holidays_open))
        open_days[start:end] = pattern[start:end]
    return open_days


def apply_capacity(model: SfbModel, day: int) -> None:
    """Units and home-based slots in force on ``day`` (levers, openings, closures)."""
    rows = model.centre_rows
    timeline = model.timeline
    for centre in model.centres:
        row = rows.iloc[centre.index]
        units = timeline.centre_value(centre.centre_id, "residential_units", day)
        if units is None:
            units = round(int(row["residential_units"]) * model.levers.units_multiplier)
        home = timeline.centre_value(centre.centre_id, "home_based_capacity", day)
        if home is None:
            home = round(int(row["home_based_capacity"]) * model.levers.home_capacity_multiplier)
        if not centre.accepts_families(day):
            units = home = 0
        centre.set_capacity(int(units), int(home))
        model.units_now[centre.index] = units
        model.home_capacity_now[centre.index] = home
    model.units_total = int(model.units_now.sum())
    model.home_capacity_total = int(model.home_capacity_now.sum())
    model.capacity_log.append((day, model.units_now.copy(), model.home_capacity_now.copy()))


def change_days(model: SfbModel) -> set[int]:
    """Days on which levers change or centres open or close."""
    days = set(model.timeline.boundaries())
    for centre in model.centres:
        days.update(d for d in (centre.opened_day, centre.closed_day) if d > 1)
    return {d for d in days if d <= model.calendar.n_days}


NO_CENTRE_HOURS = 48.0
"""Travel hours a municipality sees when no centre exists during the run (the plausible
maximum of a travel time): a centre option is then as good as unreal."""


# --- municipalities ---------------------------------------------------------------------------
def build_municipalities(model: SfbModel) -> list[Municipality]:
    """All municipalities with their size-class indices plus municipal variation (drawn from
    the *municipality* stream; own capacity varies more, ``own_capacity_sd``), and each one's
    case-rate factor (Gamma with mean 1 and shape ``case_rate_dispersion_shape``, from its own
    stream, constant within a run: some services see more serious cases per child than
    others). Initial familiarity and the case-rate factors go into the model's arrays."""
    p = model.parameters
    rows = model.data.municipalities
    n = len(rows)
    spread = np.array([p.own_capacity_sd, p.municipality_noise_sd, p.municipality_noise_sd])
    noise = model.streams.municipality.normal(0.0, 1.0, size=(n, 3)) * spread
    by_size = {
        "small": (p.own_capacity_small, p.budget_pressure_small, p.familiarity_small),
        "medium": (p.own_capacity_medium, p.budget_pressure_medium, p.familiarity_medium),
        "large": (p.own_capacity_large, p.budget_pressure_large, p.familiarity_large),
    }
    base = np.array([by_size[s] for s in rows["size_class"]])
    indices = np.clip(base + noise, 0.0, 1.0)
    model.familiarity = indices[:, 2].copy()
    model.run_information_campaign(model.levers.information_campaign)
    shape = p.case_rate_dispersion_shape
    model.case_rate_factor = model.streams.municipality_rates.gamma(shape, 1.0 / shape, size=n)
    return [
        Municipality(
            model,
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


def refresh_reach(model: SfbModel) -> None:
    """Tell each municipality the residential centre a stay would most likely be at (the
    nearest of its own intake with units, else the nearest with units anywhere) and the travel
    of the nearest centre whose staff can work at its families' homes (``home_reach_hours``)."""
    if not model.centres:  # no centre at all during the run: nothing is in reach
        for municipality in model.municipalities:
            municipality.set_reach(None, NO_CENTRE_HOURS, None)
        return
    reach = home_reach_hours(model.parameters, model.costs.home_centre_hours)
    has_units = model.units_now > 0
    has_home = model.home_capacity_now > 0
    serves = np.array([c.serves_intake for c in model.centres])
    columns = np.array([c.index for c in model.centres], dtype=np.int64)
    travel = model.travel[:, columns]  # municipality x centre
    own_units = has_units[columns]
    home_travel = np.where(has_home[columns][None, :], travel, np.inf).min(axis=1)
    # the centres a stay would be at: of the own intake with units, else any with units, else
    # any centre (all municipalities at once; argmin takes the first of equal travel times)
    regions = np.empty(len(travel), dtype=object)  # by municipality index, as travel's rows
    for municipality in model.municipalities:
        regions[municipality.index] = municipality.region
    mask = own_units[None, :] & (serves[None, :] == regions[:, None])
    fallback = own_units if own_units.any() else np.ones_like(own_units)
    mask[~mask.any(axis=1)] = fallback
    hours = np.where(mask, travel, np.inf)
    nearest = hours.argmin(axis=1)
    nearest_hours = hours[np.arange(len(nearest)), nearest]
    for municipality in model.municipalities:
        i = municipality.index
        centre = int(nearest[i])
        home = float(home_travel[i])
        municipality.set_reach(
            model.centres[centre] if own_units[centre] else None,
            float(nearest_hours[i]),
            home if home <= reach else None,
        )


def initial_expectations(model: SfbModel) -> None:
    """Each service's experience before the run: how often parents agree to a proposed stay
    and how often stays are completed, as it would have seen them for a typical family (mean
    severity, a sibling over 6 as often as families have one) at the centre it expects."""
    p = model.parameters
    severity = p.severity_beta_a / (p.severity_beta_a + p.severity_beta_b)
    sibling = 0.0 if model.levers.sibling_flexibility else p.sibling_over_6_share
    n = len(model.municipalities)
    model.expected_acceptance = np.zeros(n)
    model.expected_completion = np.zeros(n)
    for m in model.municipalities:
        travel, breaks = m.nearest_centre_hours, m.expected_breaks_per_month
        wait = p.expected_wait_initial_days
        agree = [
            logistic(consent_log_odds(p, travel, breaks, wait, left_out, severity))
            for left_out in (False, True)
        ]
        model.expected_acceptance[m.index] = (1 - sibling) * agree[0] + sibling * agree[1]
        expected_breaks = round(breaks * p.residential_months_expected)
        model.expected_completion[m.index] = 1.0 - dropout_probability(p, expected_breaks, travel)


# --- the familiarity network ------------------------------------------------------------------
def build_network(model: SfbModel) -> nx.Graph:
    """Neighbours (shared border) plus random cooperation links within counties."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(model.municipalities)))
    index = {m.kommunenummer: m.index for m in model.municipalities}
    neighbours = model.data.neighbours
    for a, b in zip(neighbours["kommunenummer_a"], neighbours["kommunenummer_b"], strict=True):
        graph.add_edge(index[a], index[b], kind="neighbour")
    counties = model.data.municipalities["county_number"].to_numpy()
    seed = int(model.streams.network.integers(2**31))
    for county in sorted(set(counties)):
        members = np.flatnonzero(counties == county).tolist()
        links = nx.gnp_random_graph(
            len(members), model.parameters.cooperation_edge_prob, seed=seed + int(county)
        )
        for u, v in links.edges:
            if not graph.has_edge(members[u], members[v]):
                graph.add_edge(members[u], members[v], kind="cooperation")
    return graph


def diffusion_matrix(graph: nx.Graph, n: int) -> sparse.csr_matrix:
    """Row-normalised adjacency (sparse): neighbours' mean familiarity is W @ f."""
    adjacency = nx.to_scipy_sparse_array(graph, nodelist=range(n), format="csr").astype(float)
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    scale = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
    return sparse.csr_matrix(sparse.diags(scale) @ adjacency)


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value)) or value == ""


def _first(*values: Any) -> Any:
    """The first value that is not None."""
    return next((v for v in values if v is not None), None)
