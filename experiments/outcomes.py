"""Outcomes of one replication, reduced inside the worker to a small long table.

Every replication becomes rows of ``(scope, grp, year, outcome, value)``:

* ``scope`` is ``national``, ``region`` or ``size_class`` and ``grp`` the region or size class
  (``""`` for national);
* ``year`` is a calendar year, or ``0`` for the whole run;
* counts (admissions, refusals, bed-days, ...) and costs are **per year**: for ``year = 0`` the
  run's total divided by its number of years;
* ratios (residential share, occupancy) pool numerator and denominator over the period;
* the median wait is the median of the admitted families' waits (days from referral to the
  start of a centre assessment), taken from the families table, never an average of medians.

Plus, per replication, the rows per municipality (``kommunenummer``, outcome, value over the
whole run; :data:`MUNICIPALITY_OUTCOMES`) and the admitted families' waits per municipality
(``kommunenummer``, ``wait_days``, ``families``), from which experiments.groups computes any
grouping of municipalities after the run (and the report draws its map). Costs come from the
ledger (``model.ledger.ledger_tables``).

The same module defines the national series of a run that the calibration compares with
Statistics Norway (:func:`national_series`): one vocabulary for the CLI, the app and the
calibration.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

OUTCOMES: dict[str, str] = {
    "admissions": "Centre admissions per year (residential, home-based and bought directly)",
    "residential_share": "Share of centre admissions that are residential stays",
    "referrals": "Referrals to Bufetat's intake (residential and home-based), per year",
    "proposals_declined": "Residential stays proposed by the service and declined by the "
    "parents (before any referral), per year",
    "intake_refusals": "Referrals refused by Bufetat's intake, per year",
    "consent_refusals": "Residential places offered and refused by the parents, per year",
    "follow_ups": "Cases left at ordinary follow-up after a declined stay or a refused offer, "
    "per year",
    "median_wait": "Median days from referral to the start of a centre assessment",
    "ssb_child_bed_days": "Children × calendar days in residential stays, per year (SSB's "
    "bed-days)",
    "family_presence_days": "Days families are present at a centre, per year",
    "occupancy": "Occupied residential unit-days / unit-days",
    "emergency_placements": "Emergency placements per year",
    "municipal_cost": "Municipal cost per year: assessments plus the present value of the "
    "measures decided after them (model.ledger)",
    "municipal_cost_assessments": "Municipal spending on assessments in the year: co-payments to "
    "the state, own home assessments, places bought directly",
    "municipal_cost_measures_pv": "Present value, at the decision, of the municipality's part of "
    "the measures decided after the assessments of the year (home with support, foster home, "
    "institution co-payment)",
    "state_cost": "State (Bufetat) cost per year: assessments and weekend staff plus the present "
    "value of the measures decided after them (model.ledger)",
    "state_cost_assessments": "State spending on assessments in the year: its share of centre "
    "assessments (full cost less the co-payment) and the staff of weekend and holiday opening",
    "state_cost_weekend_staff": "Of the state's spending in the year: staff for centres open on "
    "Saturdays, Sundays and public holidays (every open such day, baseline's included; "
    "national and by the centre's region, not by size class)",
    "state_cost_measures_pv": "Present value, at the decision, of the state's part of the "
    "measures decided after the assessments of the year (institution beyond the co-payment)",
    "societal_cost": "Societal cost per year: all public spending × (1 + the 20 % tax financing "
    "cost) (model.ledger)",
    "societal_cost_assessments": "Societal cost of the year's assessments and weekend staff "
    "(public spending × 1.2)",
    "societal_cost_measures_pv": "Societal cost of the measures decided after them, present "
    "value (public spending × 1.2)",
    "cases": "Serious-concern cases per year",
    "direct_purchases": "Places bought directly after a refusal, per year",
    "dropouts": "Drop-outs from stays, per year",
    "wait_p90": "90th percentile of the wait, days",
    "municipal_value": "Value of avoided social exclusion that accrues to the municipalities, "
    "per year, NOK (model.ledger; Menon 2025's values)",
    "state_value": "Value of avoided social exclusion that accrues to the state, per year, NOK "
    "(model.ledger)",
    "societal_value": "Value of avoided social exclusion for society, per year, NOK (model.ledger)",
    "return_per_krone_society": "Societal value per krone of societal cost (value / cost over "
    "the period)",
    "return_per_krone_municipality": "Municipal value per krone of municipal cost (value / "
    "cost over the period)",
}
"""Every outcome a comparison reports, with its meaning (the default table shows them all)."""

OUTCOME_UNITS: dict[str, str] = {
    "admissions": "per year",
    "residential_share": "share",
    "referrals": "per year",
    "proposals_declined": "per year",
    "intake_refusals": "per year",
    "consent_refusals": "per year",
    "follow_ups": "per year",
    "median_wait": "days",
    "ssb_child_bed_days": "child-days per year",
    "family_presence_days": "days per year",
    "occupancy": "share",
    "emergency_placements": "per year",
    "municipal_cost": "NOK per year",
    "municipal_cost_assessments": "NOK per year",
    "municipal_cost_measures_pv": "NOK per year",
    "state_cost": "NOK per year",
    "state_cost_assessments": "NOK per year",
    "state_cost_weekend_staff": "NOK per year",
    "state_cost_measures_pv": "NOK per year",
    "societal_cost": "NOK per year",
    "societal_cost_assessments": "NOK per year",
    "societal_cost_measures_pv": "NOK per year",
    "cases": "per year",
    "direct_purchases": "per year",
    "dropouts": "per year",
    "wait_p90": "days",
    "municipal_value": "NOK per year",
    "state_value": "NOK per year",
    "societal_value": "NOK per year",
    "return_per_krone_society": "NOK per NOK",
    "return_per_krone_municipality": "NOK per NOK",
}
"""The unit of every outcome (``share``: 0-1). NOK are in the ledger's price year
(``Costs.price_year``, 2025 in model/data/parameters/costs.toml; :func:`outcome_unit` says it),
except co-payments, which are the nominal rate of their year (docs/ledger.md). comparison.csv
keeps NOK; the tables people read show MNOK (:func:`money_value`)."""

MONEY_OUTCOMES: tuple[str, ...] = tuple(
    name for name, unit in OUTCOME_UNITS.items() if unit.startswith("NOK per year")
)
"""Outcomes in NOK (costs and values by payer): shown in MNOK with the price year."""


def price_year(scenario: Any = None) -> int:
    """The price year of the ledger's NOK: the scenario's ``costs.price_year`` (the parameter
    file's value when no scenario is given)."""
    if scenario is not None and getattr(scenario, "costs", None) is not None:
        return int(scenario.costs.price_year)
    from sfbsim.model.costs import Costs

    return int(Costs().price_year)


def money_unit(year: int | None = None) -> str:
    """``MNOK per year, 2025 prices``: the unit money outcomes are shown in."""
    return f"MNOK per year, {price_year() if year is None else year} prices"


def outcome_unit(name: str, year: int | None = None) -> str:
    """An outcome's unit, with the price year for NOK (``NOK per year, 2025 prices``)."""
    unit = OUTCOME_UNITS.get(name, "")
    if name in MONEY_OUTCOMES:
        return f"{unit}, {price_year() if year is None else year} prices"
    return unit


def money_value(name: str, value: Any) -> Any:
    """A value as shown: NOK outcomes in MNOK (million NOK), anything else unchanged."""
    if name in MONEY_OUTCOMES and value is not None:
        return float(value) / 1e6
    return value


NOT_IN_LEDGER = (
    "Not in the costs: the families' own costs (travel, lost work, time), travel paid by the "
    "municipality, Bufetat's intake and administration, the municipality's investigation "
    "beyond the assessment, the fixed cost of centres beyond their weekend staff, emergency "
    "foster homes beyond a foster home, and long-run outcomes other than the value of avoided "
    "social exclusion (docs/ledger.md)."
)
"""What the ledger does not book: said under every table of costs (report, app)."""

COST_SPLIT_NOTE = (
    "Each payer's cost is (a) its spending on assessments in the year (_cost_assessments: "
    "co-payments, own home assessments, places bought directly, the state's share of centre "
    "assessments and its staff for weekend and holiday opening) plus (b) the present value, at "
    "the decision, of the measures decided after them (_cost_measures_pv: home with support, "
    "foster home, institution, over up to 15 years at 4 %). (b) is most of the municipal cost "
    "and follows the decisions, not the price of an assessment: read (a) for what a reform "
    "spends."
)
"""How the cost outcomes split (report, app)."""

MONEY_COLUMNS = (
    "baseline_mean",
    "reform_mean",
    "diff_mean",
    "diff_ci_low",
    "diff_ci_high",
    "sd_parameter",
    "sd_noise",
    "effect_p05",
    "effect_p95",
)
"""The columns of a comparison table in the outcome's unit."""


def in_mnok(table: pd.DataFrame) -> pd.DataFrame:
    """A comparison table with the money outcomes' values in MNOK (million NOK)."""
    out = table.copy()
    money = out["outcome"].isin(MONEY_OUTCOMES).to_numpy()
    for column in MONEY_COLUMNS:
        if column in out.columns:
            values = out[column].astype("float64")
            out[column] = np.where(money, values / 1e6, values)
    return out


def shown_unit(name: str, year: int | None = None) -> str:
    """The unit an outcome is shown in: ``MNOK per year, 2025 prices`` for money."""
    return money_unit(year) if name in MONEY_OUTCOMES else OUTCOME_UNITS.get(name, "")


def format_value(value: Any, digits: int = 3, millions: bool = False) -> str:
    """An outcome value for a table: ``digits`` significant digits below 1,000 (a return per
    krone of 0.000123 is ``0.000123``, not ``0.000``), whole numbers with thousands
    separators above; with ``millions``, values from a million up as ``1,994 M``. ``–`` for a
    missing value."""
    import math

    if value is None:
        return "–"
    value = float(value)
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if millions and magnitude >= 1e6:
        return format_value(value / 1e6, digits) + " M"
    if magnitude >= 10 ** (digits - 1) or magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude < 1e-6:
        return f"{value:.{digits - 1}e}"
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    return f"{value:,.{decimals}f}"


OUTCOME_TABLES = ("yearly", "municipality_yearly", "centre_yearly", "families")
"""The run tables the outcomes (and the ledger) are computed from."""
SERIES_TABLES = ("yearly",)
"""The run tables the national series are computed from."""
COST_OUTCOMES = (
    "municipal_cost",
    "municipal_cost_assessments",
    "municipal_cost_measures_pv",
    "state_cost",
    "state_cost_assessments",
    "state_cost_weekend_staff",
    "state_cost_measures_pv",
    "societal_cost",
    "societal_cost_assessments",
    "societal_cost_measures_pv",
)
"""Costs by payer: the total, (a) spending in the year on assessments (for the state with the
weekend staff, also shown alone) and (b) the present value of the measures decided after them;
a + b = the total (model.ledger)."""
VALUE_OUTCOMES = ("municipal_value", "state_value", "societal_value")
"""Value of avoided social exclusion by payer (model.ledger; Menon 2025's values)."""
RETURN_OUTCOMES = {
    "return_per_krone_society": ("societal_value", "societal_cost"),
    "return_per_krone_municipality": ("municipal_value", "municipal_cost"),
}
"""Value per krone of cost, for society and for the municipalities."""
COUNT_OUTCOMES = (
    "admissions",
    "referrals",
    "proposals_declined",
    "intake_refusals",
    "consent_refusals",
    "follow_ups",
    "ssb_child_bed_days",
    "family_presence_days",
    "emergency_placements",
    "cases",
    "direct_purchases",
    "dropouts",
)
MUNICIPALITY_OUTCOMES = (
    *COUNT_OUTCOMES,
    "residential_admissions",
    *COST_OUTCOMES,
    *VALUE_OUTCOMES,
    "occupied_unit_days",
    "unit_days",
)
"""The rows per municipality of a replication (table ``municipality`` of results.duckdb): the
counts, costs and values per year over the run, ``residential_admissions`` (residential stays
and places bought directly: the numerator of ``residential_share``), and the occupied and
available residential unit-days per year of the centres located in the municipality (only
municipalities with a centre). Every one is additive across municipalities; shares, waits and
returns per krone are pooled from them (experiments.groups)."""
WAIT_COLUMNS = ["kommunenummer", "wait_days", "families"]
CENTRE_OPTIONS = ("residential", "home_centre", "direct_purchase")
RESIDENTIAL_OPTIONS = ("residential", "direct_purchase")
COLUMNS = ["scope", "grp", "year", "outcome", "value"]


class _Rows:
    """Outcome rows collected as arrays and turned into one frame at the end (fast)."""

    def __init__(self) -> None:
        self.columns: dict[str, list[np.ndarray]] = {name: [] for name in COLUMNS}

    def add(self, scope: str, grp: Any, years: Any, outcome: str, values: Any) -> None:
        """Rows for one outcome: one per year (year 0 = the whole run)."""
        years = np.asarray(years, dtype="int64")
        n = years.size
        grp = np.asarray(grp, dtype=object) if np.ndim(grp) else np.full(n, grp, dtype=object)
        self.columns["scope"].append(np.full(n, scope, dtype=object))
        self.columns["grp"].append(grp.astype(str).astype(object))
        self.columns["year"].append(years)
        self.columns["outcome"].append(np.full(n, outcome, dtype=object))
        self.columns["value"].append(np.asarray(values, dtype="float64"))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({name: np.concatenate(parts) for name, parts in self.columns.items()})


def replication_outcomes(
    tables: dict[str, pd.DataFrame],
    scenario: Any,
    data: Any,
    groups: bool = True,
    municipalities: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The outcome rows, the per-municipality rows and the waits per municipality (empty
    without ``municipalities``) of one finished run."""
    from sfbsim.model.ledger import ledger_tables

    years = int(scenario.run.years)
    yearly = tables["yearly"]
    families = _admitted(tables["families"], data, scenario)
    centres = tables["centre_yearly"]
    ledger = ledger_tables(tables, scenario, data, scenario.costs)
    rows = _Rows()
    _scope_rows(rows, "national", "", yearly, families, centres, years)
    if groups:
        for scope in ("region", "size_class"):
            for grp, part in yearly.groupby(scope, sort=True):
                fam = families[families[scope] == grp]
                cen = centres[centres["region"] == grp] if scope == "region" else None
                _scope_rows(rows, scope, str(grp), part, fam, cen, years)
    _cost_rows(rows, ledger, scenario, years, groups)
    rows = rows.frame()
    if municipalities:
        mun = _municipality_rows(tables, ledger, scenario, data, years)
        waits = families.groupby(["kommunenummer", "wait_days"], sort=True).size()
        waits = waits.rename("families").reset_index()
        waits["wait_days"] = waits["wait_days"].astype("int64")
        waits["families"] = waits["families"].astype("int64")
    else:
        mun = pd.DataFrame({"kommunenummer": [], "outcome": [], "value": []})
        waits = pd.DataFrame({c: [] for c in WAIT_COLUMNS})
    return rows[COLUMNS], mun, waits[WAIT_COLUMNS]


def _municipality_rows(
    tables: dict[str, pd.DataFrame],
    ledgers: dict[str, pd.DataFrame],
    scenario: Any,
    data: Any,
    years: int,
) -> pd.DataFrame:
    """The rows of :data:`MUNICIPALITY_OUTCOMES` per municipality, per year over the run (the
    centres' weekend staff booked to the municipality the centre is in, so that any grouping
    of municipalities sums to the national cost)."""
    ledger = with_cost_split(ledgers["ledger_families"], scenario.costs)
    numbers = data.municipalities["kommunenummer"].astype(str)
    per = tables["municipality_yearly"].groupby("kommunenummer", sort=True).sum(numeric_only=True)
    per.index = per.index.astype(str)
    per = per.reindex(numbers, fill_value=0)
    per["referrals"] = per["referrals_residential"] + per["referrals_home"]
    per["residential_admissions"] = (
        per["admissions_residential"] + per["admissions_direct_purchase"]
    )
    money = ledger.assign(
        municipal_value=ledger["municipal_value_share"],
        state_value=ledger["state_value_share"],
        societal_value=ledger[f"exclusion_value_pv_{scenario.costs.exclusion_value_level}"],
    )
    names = [*COST_OUTCOMES, *VALUE_OUTCOMES]
    money = money.groupby(money["kommunenummer"].astype(str))[names].sum()
    money = money.reindex(numbers, fill_value=0.0)
    located = {
        str(c): str(k)
        for c, k in zip(data.centres["centre_id"], data.centres["kommunenummer"], strict=True)
    }
    located.update({c.centre_id: c.kommunenummer for c in scenario.new_centres})
    staff = ledgers["ledger_centres"]
    if len(staff):
        where = staff["centre_id"].astype(str).map(located)
        staff = staff.groupby(where)["weekend_staff_cost"].sum().reindex(numbers, fill_value=0.0)
        tax = 1 + scenario.costs.tax_financing_cost
        for name in ("state_cost", "state_cost_assessments", "state_cost_weekend_staff"):
            money[name] = money[name] + staff
        for name in ("societal_cost", "societal_cost_assessments"):
            money[name] = money[name] + tax * staff
    per = per.join(money, how="left")
    wide = (per[[*COUNT_OUTCOMES, "residential_admissions", *names]] / years).astype("float64")
    frame = (
        wide.rename_axis("kommunenummer")
        .reset_index()
        .melt(id_vars="kommunenummer", var_name="outcome", value_name="value")
    )
    centres = tables["centre_yearly"]
    units = centres.assign(kommunenummer=centres["centre_id"].astype(str).map(located))
    units = units.groupby("kommunenummer", sort=True)[["occupied_unit_days", "unit_days"]].sum()
    units = (units / years).rename_axis("kommunenummer").reset_index()
    units = units.melt(id_vars="kommunenummer", var_name="outcome", value_name="value")
    frame = pd.concat([frame, units], ignore_index=True)
    frame["kommunenummer"] = frame["kommunenummer"].astype(str)
    return frame[["kommunenummer", "outcome", "value"]]


def _admitted(families: pd.DataFrame, data: Any, scenario: Any) -> pd.DataFrame:
    """Families whose centre assessment started during the run, with year, region, size class."""
    started = families[families["option"].isin(CENTRE_OPTIONS) & families["wait_days"].notna()]
    started = started[started["start_date"].astype(str) != ""]
    year = started["start_date"].astype(str).str.slice(0, 4).astype("int64")
    first = int(scenario.run.start_year)
    keep = (year >= first) & (year < first + int(scenario.run.years))
    municipalities = data.municipalities.set_index("kommunenummer")
    kommune = started["kommunenummer"].astype(str).str.zfill(4)
    out = pd.DataFrame(
        {
            "kommunenummer": kommune.to_numpy(),
            "year": year.to_numpy(),
            "wait_days": started["wait_days"].astype("float64").to_numpy(),
            "region": municipalities["region"].reindex(kommune).to_numpy(),
            "size_class": municipalities["size_class"].reindex(kommune).to_numpy(),
        }
    )
    return out[keep.to_numpy()]


def _scope_rows(
    rows: _Rows,
    scope: str,
    grp: str,
    yearly: pd.DataFrame,
    families: pd.DataFrame,
    centres: pd.DataFrame | None,
    years: int,
) -> None:
    """Count, share, wait and occupancy outcomes of one scope and group."""
    by_year = yearly.groupby("year", sort=True).sum(numeric_only=True)
    by_year["referrals"] = by_year["referrals_residential"] + by_year["referrals_home"]
    year_index = by_year.index.to_numpy()
    out: dict[str, tuple[np.ndarray, float]] = {}
    for name in COUNT_OUTCOMES:
        values = by_year[name].to_numpy(dtype="float64")
        out[name] = (values, values.sum() / years)
    residential = (
        by_year["admissions_residential"] + by_year["admissions_direct_purchase"]
    ).to_numpy(dtype="float64")
    admissions = by_year["admissions"].to_numpy(dtype="float64")
    out["residential_share"] = (
        _ratio(residential, admissions),
        float(_ratio(residential.sum(), admissions.sum())),
    )
    waits = families.groupby("year")["wait_days"]
    out["median_wait"] = (
        waits.median().reindex(year_index).to_numpy(dtype="float64"),
        float(families["wait_days"].median()) if len(families) else np.nan,
    )
    out["wait_p90"] = (
        waits.quantile(0.9).reindex(year_index).to_numpy(dtype="float64"),
        float(families["wait_days"].quantile(0.9)) if len(families) else np.nan,
    )
    if centres is not None:
        units = centres.groupby("year")[["occupied_unit_days", "unit_days"]].sum()
        units = units.reindex(year_index, fill_value=0)
        occupied = units["occupied_unit_days"].to_numpy(dtype="float64")
        unit_days = units["unit_days"].to_numpy(dtype="float64")
        out["occupancy"] = (
            _ratio(occupied, unit_days),
            float(_ratio(occupied.sum(), unit_days.sum())),
        )
    for name, (per_year, period) in out.items():
        rows.add(scope, grp, np.append(year_index, 0), name, np.append(per_year, period))


def _ratio(numerator: Any, denominator: Any) -> Any:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.asarray(denominator) > 0, numerator / np.maximum(denominator, 1), np.nan)


def with_cost_split(frame: pd.DataFrame, costs: Any) -> pd.DataFrame:
    """A ledger table (per family, or per year × region × size class) with the cost outcomes'
    split: spending on assessments in the year and the present value of the measures decided
    after them, per payer (the weekend staff of the centres is booked apart, per centre)."""
    tax = 1 + costs.tax_financing_cost
    return frame.assign(
        municipal_cost_assessments=frame["municipal_assessment_cost"],
        municipal_cost_measures_pv=frame["measure_cost_municipal_pv"],
        state_cost_assessments=frame["state_assessment_cost"],
        state_cost_weekend_staff=0.0,
        state_cost_measures_pv=frame["measure_cost_state_pv"],
        societal_cost_assessments=tax * frame["assessment_full_cost"],
        societal_cost_measures_pv=tax * frame["measure_cost_full_pv"],
    )


def _cost_rows(
    rows: _Rows,
    ledger: dict[str, pd.DataFrame],
    scenario: Any,
    years: int,
    groups: bool,
) -> None:
    """Costs and values by payer, and returns per krone, per year (and per year × region /
    size class) from the ledger.

    The ledger books each family's costs (its assessment and the present value of the measure
    decided) and the value of avoided exclusion in the family's year, and the state's staff for
    weekend and holiday opening in the calendar year and region of the centre (in no size
    class); ``year = 0`` is the run's total divided by its years (for the returns: total value
    over total cost).
    """
    costs = scenario.costs
    yearly = with_cost_split(ledger["ledger_yearly"], costs)
    tax = 1 + costs.tax_financing_cost
    yearly["municipal_value"] = yearly["municipal_value_share"]
    yearly["state_value"] = yearly["state_value_share"]
    yearly["societal_value"] = yearly[f"exclusion_value_pv_{costs.exclusion_value_level}"]
    # the weekend staff of the centres: in the centre's year and region, in no size class
    # (groupby leaves out the missing size class)
    centres = ledger["ledger_centres"]
    if len(centres):
        staff = centres.groupby(["year", "region"], sort=True)["weekend_staff_cost"].sum()
        staff = staff.reset_index()
        extra = pd.DataFrame(
            {
                "year": staff["year"].to_numpy(),
                "region": staff["region"].to_numpy(),
                "size_class": pd.Series([None] * len(staff), dtype=object).to_numpy(),
            }
        )
        for name in ("state_cost", "state_cost_assessments", "state_cost_weekend_staff"):
            extra[name] = staff["weekend_staff_cost"].to_numpy()
        for name in ("societal_cost", "societal_cost_assessments"):
            extra[name] = tax * staff["weekend_staff_cost"].to_numpy()
        yearly = pd.concat([yearly, extra], ignore_index=True)
    names = [*COST_OUTCOMES, *VALUE_OUTCOMES]
    scopes: list[tuple[str, list[str]]] = [("national", [])]
    if groups:
        scopes += [("region", ["region"]), ("size_class", ["size_class"])]
    for scope, keys in scopes:
        by_year = yearly.groupby(["year", *keys], sort=True)[names].sum().reset_index()
        period = (
            yearly.groupby(keys, sort=True)[names].sum()
            if keys
            else yearly[names].sum().to_frame().T.set_axis([""])
        )
        grp_year = by_year[keys[0]].to_numpy() if keys else ""
        grp_period = period.index.to_numpy()
        for name in [*names, *RETURN_OUTCOMES]:
            if name in RETURN_OUTCOMES:
                value_column, cost_column = RETURN_OUTCOMES[name]
                per_year = _ratio(by_year[value_column], by_year[cost_column])
                total = _ratio(period[value_column], period[cost_column])
            else:
                per_year = by_year[name]
                total = period[name] / years
            rows.add(scope, grp_year, by_year["year"], name, per_year)
            rows.add(scope, grp_period, np.zeros(len(period), dtype="int64"), name, total)


# --- the national series compared with Statistics Norway --------------------------------------
SERIES_METRICS = (
    "ssb_measures_age_0_12",
    "ssb_measures_age_0_2",
    "ssb_child_bed_days",
    "child_presence_days",
    "ssb_children_present_dec31",
    "admissions_residential",
    "admissions_home_centre",
    "cases",
    "completed_stays",
    "completed_stay_days",
)
"""Yearly national counts of a run's series (the yearly table's columns of these names)."""


def national_series(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Yearly national values of the SSB-comparable metrics (the yearly table's ``ssb_``
    columns, docs/outputs.md) and the mean calendar length of the residential stays via Bufetat
    completed in the year."""
    yearly = tables["yearly"].groupby("year")[list(SERIES_METRICS)].sum()
    stays = yearly["completed_stays"].where(yearly["completed_stays"] > 0)
    yearly["mean_residential_stay_days"] = yearly["completed_stay_days"] / stays
    return yearly
