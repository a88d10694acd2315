"""Who pays and who gains: municipal, state and societal ledgers (issue 6).

The ledger prices what a run did, family by family, and splits it by payer:

* the assessment (residential at full cost, centre staff at home, the municipality's own home
  assessment, direct purchases from non-profit centres), with the municipal co-payment by the
  sats rule and year and the state paying the rest;
* the staff for keeping centres open on Saturdays, Sundays and public holidays, per centre and
  open day (``weekend_staff_cost_per_day``), paid by the state (Bufetat runs the centres);
* the measures that follow the decision (support at home, foster home, institution) over a
  horizon, as present values at a 4 % discount rate, split by who pays them;
* the long-term value of avoided social exclusion (utenforskap) that a right decision brings,
  by a simple, documented ASSUMPTION rule, split into the municipality's share (4.86 % of the tax
  part, 50 % of the health part), the state's share and the rest (the family's own gain).

Every NOK figure is a field of :class:`Costs` with its source; a scenario file can set them under
``[costs]``. ``menon_case`` recomputes Menon 2025's five-case accounting with the same building
blocks (``assessment_cost``, ``measure_cost_pv``, ``exclusion_value_split``). docs/ledger.md
explains sources, the reconstruction of the five cases and the limits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sfbsim.model.costs import Costs
from sfbsim.model.parameters import Change, Levers, Scenario
from sfbsim.model.prices import CENTRE_MEASURE, copay_per_month
from sfbsim.model.reforms import LeverTimeline

if TYPE_CHECKING:
    from sfbsim.model.data_loading import BundledData


AssessmentKind = Literal["residential", "home_centre", "own", "direct_purchase", "none"]
Measure = Literal["support_at_home", "foster_home", "institution"]
VALUE_LEVELS: tuple[str, ...] = ("low", "medium", "mean")
PAYERS: tuple[str, ...] = ("municipality", "state", "society")
MONTH_DAYS = 365.25 / 12


# --- building blocks ------------------------------------------------------------------------
def sats(parents: Any, children: Any) -> Any:
    """Co-payment units: 1 for one parent and one child, +0.5 per extra parent or child."""
    return 1.0 + 0.5 * (parents - 1) + 0.5 * (children - 1)


def annuity_factor(years: float, rate: float) -> float:
    """Present value of 1 NOK a year for ``years`` (fractional allowed), paid at year ends."""
    if years <= 0:
        return 0.0
    if rate == 0:
        return float(years)
    return (1 - (1 + rate) ** -years) / rate


def years_for_annuity(factor: float, rate: float) -> float:
    """The inverse of :func:`annuity_factor`."""
    if rate == 0:
        return factor
    if factor * rate >= 1:
        raise ValueError(f"no horizon has an annuity factor of {factor} at rate {rate}")
    return -math.log(1 - factor * rate) / math.log(1 + rate)


def measure_yearly(measure: str, costs: Costs) -> tuple[float, float]:
    """(full, municipal) yearly cost of a measure; the state pays full - municipal."""
    if measure == "support_at_home":
        full = costs.support_at_home_per_year
        return full, full * costs.support_at_home_municipal_share
    if measure == "foster_home":
        full = costs.foster_home_per_year
        return full, full * costs.foster_home_municipal_share
    if measure == "institution":
        full = costs.institution_per_year
        return full, min(full, 12 * costs.institution_copay_per_month)
    raise ValueError(f"unknown measure {measure!r}")


def measure_cost_pv(
    measure: str, years: float, costs: Costs, start_year: float = 0.0
) -> tuple[float, float, float]:
    """(full, municipal, state) present value of ``years`` of a measure starting after
    ``start_year`` years, discounted at ``costs.discount_rate``."""
    r = costs.discount_rate
    factor = annuity_factor(start_year + years, r) - annuity_factor(start_year, r)
    full, municipal = measure_yearly(measure, costs)
    return full * factor, municipal * factor, (full - municipal) * factor


def decision_measures(decision: str, costs: Costs) -> list[tuple[str, float, float]]:
    """The measures (measure, years, start year) that follow a decision, by the Costs rules."""
    horizon = costs.measure_horizon_years
    if decision == "home_with_support":
        return [("support_at_home", costs.support_at_home_years, 0.0)]
    if decision == "foster_home" or (
        decision == "emergency_foster_home" and costs.emergency_counts_as_foster_home
    ):
        return [("foster_home", horizon, 0.0)]
    if decision == "institution":
        inst = min(costs.institution_years, horizon)
        return [("institution", inst, 0.0), ("foster_home", horizon - inst, inst)]
    return []


def decision_cost_pv(decision: str, costs: Costs) -> tuple[float, float, float]:
    """(full, municipal, state) present value of the measures after a decision."""
    total = np.zeros(3)
    for measure, years, start in decision_measures(decision, costs):
        total += measure_cost_pv(measure, years, costs, start)
    return float(total[0]), float(total[1]), float(total[2])


def assessment_cost(
    kind: str,
    costs: Costs,
    months: float | None = None,
    sats_units: float = 1.0,
    copay_per_month: float = 0.0,
    full_municipal_financing: bool = False,
) -> tuple[float, float]:
    """(full, municipal) cost of one assessment; the state pays full - municipal.

    ``copay_per_month`` is the co-payment rate of one sats with levers applied; the municipality
    pays it × sats × months, or the full cost under full municipal financing.
    """
    if kind == "own":
        return costs.own_assessment_cost, costs.own_assessment_cost
    if kind in ("residential", "direct_purchase"):
        per_case, ref = costs.residential_full_cost, costs.residential_reference_months
        if kind == "direct_purchase":
            per_case *= costs.direct_purchase_price_factor
    elif kind == "home_centre":
        per_case, ref = costs.home_centre_full_cost, costs.home_centre_reference_months
    else:
        return 0.0, 0.0
    months = ref if months is None else months
    full = per_case * (months / ref if costs.scale_full_cost_with_months else 1.0)
    if kind == "direct_purchase" or full_municipal_financing:
        return full, full
    return full, copay_per_month * sats_units * months


def exclusion_value_split(value: float, costs: Costs) -> tuple[float, float]:
    """(municipal, state) shares of an exclusion value; the rest is the family's own gain."""
    return value * costs.municipal_value_fraction, value * costs.state_value_fraction


# --- Menon 2025's five cases --------------------------------------------------------------
class MenonCase(BaseModel):
    """One child's path after an assessment against a comparator path (Menon 2025, brief §4).

    For ``years`` after the decision the child has ``case_measures`` in the case path and
    ``comparator_measures`` in the comparator; ``exclusion_reduction`` is the fall in the
    probability of social exclusion in the case path compared with the comparator.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    assessment: AssessmentKind
    comparator: AssessmentKind
    case_measures: list[Measure] = Field(default_factory=list)
    comparator_measures: list[Measure] = Field(default_factory=list)
    years: float = Field(0.0, ge=0)
    exclusion_reduction: float = Field(0.0, ge=-1, le=1)
    society_target: float
    municipality_target: float


def _menon_assessment(kind: str, costs: Costs) -> tuple[float, float]:
    return assessment_cost(
        kind,
        costs,
        months=costs.residential_reference_months if kind == "residential" else None,
        sats_units=costs.menon_sats,
        copay_per_month=costs.menon_copay_per_month if kind == "residential" else 0.0,
    )


def _path_measures(measures: list[str], years: float, costs: Costs) -> tuple[float, float]:
    full = municipal = 0.0
    for measure in measures:
        f, m, _ = measure_cost_pv(measure, years, costs)
        full, municipal = full + f, municipal + m
    return full, municipal


def menon_case(case: MenonCase, costs: Costs) -> dict[str, float]:
    """One child's balance (NOK, case path minus comparator) for society, municipality, state.

    Society: -(1 + tax financing cost) x (extra public spending) + exclusion value avoided.
    Municipality: -(extra municipal spending) + its share of the exclusion value avoided.
    """
    a_full, a_mun = _menon_assessment(case.assessment, costs)
    c_full, c_mun = _menon_assessment(case.comparator, costs)
    m_full, m_mun = _path_measures(case.case_measures, case.years, costs)
    k_full, k_mun = _path_measures(case.comparator_measures, case.years, costs)
    extra_full = (a_full - c_full) + (m_full - k_full)
    extra_mun = (a_mun - c_mun) + (m_mun - k_mun)
    value = case.exclusion_reduction * costs.exclusion_value(costs.menon_exclusion_value_level)
    v_mun, v_state = exclusion_value_split(value, costs)
    return {
        "society": -(1 + costs.tax_financing_cost) * extra_full + value,
        "municipality": -extra_mun + v_mun,
        "state": -(1 + costs.tax_financing_cost) * (extra_full - extra_mun) + v_state,
        "assessment_full_cost": a_full - c_full,
        "measure_full_cost_pv": m_full - k_full,
        "exclusion_value": value,
    }


def fit_menon_case(case: MenonCase, costs: Costs) -> MenonCase:
    """Solve ``years`` and ``exclusion_reduction`` so that ``menon_case`` hits both of Menon's
    figures (society and municipality) for this case's paths.

    Both balances are linear in the annuity factor of ``years`` and in the exclusion reduction:
    two equations give both; the factor is then turned back into years.
    """
    zero = case.model_copy(update={"years": 0.0, "exclusion_reduction": 0.0})
    one = zero.model_copy(update={"years": years_for_annuity(1.0, costs.discount_rate)})
    b0, b1 = menon_case(zero, costs), menon_case(one, costs)
    value = costs.exclusion_value(costs.menon_exclusion_value_level)
    vm = costs.municipal_value_fraction
    # society = s0 + s1 * factor + p * V ; municipality = m0 + m1 * factor + vm * p * V
    s0, s1 = b0["society"], b1["society"] - b0["society"]
    m0, m1 = b0["municipality"], b1["municipality"] - b0["municipality"]
    factor = (case.municipality_target - m0 - vm * (case.society_target - s0)) / (m1 - vm * s1)
    p = (case.society_target - s0 - s1 * factor) / value
    years = years_for_annuity(factor, costs.discount_rate) if factor > 0 else 0.0
    return case.model_copy(update={"years": years, "exclusion_reduction": p})


MENON_CASES: tuple[MenonCase, ...] = (
    MenonCase(
        name="home_strict_parent_support",
        description="Own home assessment instead of a residential one, under the strict "
        "assessment-only mandate: the child stays at home with support for longer and is more "
        "likely to end in social exclusion",
        assessment="own",
        comparator="residential",
        case_measures=["support_at_home"],
        years=1.2108,
        exclusion_reduction=-0.32798,
        society_target=-5_110_400,
        municipality_target=-468_700,
    ),
    MenonCase(
        name="home_better_competence",
        description="Own home assessment with better competence instead of a residential one: "
        "more support at home (paid by the municipality), less exclusion",
        assessment="own",
        comparator="residential",
        case_measures=["support_at_home"],
        years=2.7135,
        exclusion_reduction=0.3035,
        society_target=4_101_600,
        municipality_target=-437_500,
    ),
    MenonCase(
        name="residential_better_support",
        description="Residential assessment instead of the municipality's own: better targeted "
        "support afterwards, so fewer years of support at home",
        assessment="residential",
        comparator="own",
        comparator_measures=["support_at_home"],
        years=1.2474,
        exclusion_reduction=-0.00041,
        society_target=97_200,
        municipality_target=267_000,
    ),
    MenonCase(
        name="residential_faster_foster_home",
        description="Residential assessment instead of the municipality's own: a foster home at "
        "once instead of years of ineffective support at home first, and less exclusion",
        assessment="residential",
        comparator="own",
        case_measures=["foster_home"],
        comparator_measures=["support_at_home"],
        years=5.219,
        exclusion_reduction=0.63974,
        society_target=9_222_200,
        municipality_target=120_700,
    ),
    MenonCase(
        name="residential_foster_instead_of_institution",
        description="Residential assessment instead of the municipality's own: a foster home "
        "instead of an institution, and less exclusion",
        assessment="residential",
        comparator="own",
        case_measures=["foster_home"],
        comparator_measures=["institution"],
        years=9.5269,
        exclusion_reduction=0.74714,
        society_target=33_136_200,
        municipality_target=15_681_400,
    ),
)
"""Menon 2025's five cases as reconstructed here. The paths are our reading of the case names;
``years`` and ``exclusion_reduction`` are solved from Menon's two figures per case
(``fit_menon_case``) with the default Costs and rounded. Source: Menon 2025 (reconstructed);
see docs/ledger.md."""


# --- the family ledger ----------------------------------------------------------------------
MONEY_COLUMNS: tuple[str, ...] = (
    "assessment_full_cost",
    "municipal_copay",
    "municipal_own_assessment_cost",
    "direct_purchase_cost",
    "municipal_assessment_cost",
    "state_assessment_cost",
    "measure_cost_full_pv",
    "measure_cost_municipal_pv",
    "measure_cost_state_pv",
    "exclusion_value_pv_low",
    "exclusion_value_pv_medium",
    "exclusion_value_pv_mean",
    "municipal_value_share",
    "state_value_share",
    "municipal_cost",
    "state_cost",
    "societal_cost",
)


def _dates(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column.replace("", None), errors="coerce", format="%Y-%m-%d")


def family_ledger(
    families: pd.DataFrame,
    municipalities: pd.DataFrame,
    copay: Callable[[int, str], float],
    costs: Costs,
    levers: Levers | None = None,
    *,
    changes: Sequence[Change] = (),
    high_risk_severity: float = 0.7,
) -> pd.DataFrame:
    """One row per family: what its assessment and the measures after it cost each payer, and
    the value of the exclusion a right decision avoids.

    Assessments that started are costed (for a stay still running at the end, up to its booked
    end); measures and values only for families whose assessment finished (or who were placed in
    an emergency). Co-payments are nominal NOK of the start year (``copay(year, measure)`` per
    month and sats, with the co-payment levers in force on the start date); everything else is
    in ``costs.price_year`` NOK; measures are present values at the decision.
    """
    levers = levers or Levers()
    f = families.reset_index(drop=True)
    n = len(f)
    arrival = _dates(f["arrival_date"])
    start = _dates(f["start_date"])
    end = _dates(f["end_date"])
    option = f["option"].fillna("").astype(str).to_numpy()
    status = f["status"].astype(str).to_numpy()
    decision = f["decision"].fillna("").astype(str).to_numpy()
    started = start.notna().to_numpy() & np.isin(
        status, ["in_assessment", "finished", "dropped_out"]
    )
    year = np.where(started, start.dt.year.fillna(0), arrival.dt.year.fillna(0)).astype(int)
    months = np.where(started, (end - start).dt.days.fillna(0).to_numpy() / MONTH_DAYS, 0.0)
    units = sats(f["parents"].to_numpy(float), f["children"].to_numpy(float))
    timeline = LeverTimeline.by_date(levers, list(changes))
    severity = f["severity"].to_numpy(float)
    # the levers in force on each family's start (or arrival) date: its segment of the timeline
    on_day = timeline.days_of(start.where(started, arrival))
    segment = timeline.segment_starts(on_day)

    full = np.zeros(n)
    mun_copay = np.zeros(n)
    own = np.zeros(n)
    direct = np.zeros(n)
    for kind in ("residential", "home_centre", "own", "direct_purchase"):
        of_kind = started & (option == kind)
        for first_day in np.unique(segment[of_kind]).tolist():
            rows = of_kind & (segment == first_day)
            in_force = timeline.levers_on(first_day)
            rate: Any = 0.0
            if kind in CENTRE_MEASURE:
                measure = CENTRE_MEASURE[kind]
                base = np.array([copay(y, measure) for y in year[rows].tolist()])
                rate = copay_per_month(base, measure, in_force)
                risky = severity[rows] >= high_risk_severity
                rate = rate * np.where(risky, in_force.copay_multiplier_high_risk, 1.0)
            total, municipal = assessment_cost(
                kind,
                costs,
                months=None if kind == "own" else months[rows],
                sats_units=units[rows],
                copay_per_month=rate,
                full_municipal_financing=in_force.full_municipal_financing,
            )
            full[rows] = total
            target = own if kind == "own" else direct if kind == "direct_purchase" else mun_copay
            target[rows] = municipal

    # measures and value follow a decision taken after an assessment, or an emergency placement;
    # a case left at ordinary follow-up gets nothing beyond the support it has (docs/ledger.md)
    decided = ((status == "finished") & (option != "follow_up")) | (option == "emergency")
    pv = {d: decision_cost_pv(d, costs) for d in set(decision)}
    measure = np.array(
        [pv[d] if ok else (0.0, 0.0, 0.0) for d, ok in zip(decision, decided, strict=True)]
    )
    measure = measure.reshape(n, 3)

    flags = f["decision_correct"].map(lambda v: v is True or v == "True" or v == 1)
    correct = flags.to_numpy(bool) & decided
    children_valued = f["children"].to_numpy(float) if costs.exclusion_counts_all_children else 1.0
    avoided = np.where(correct, costs.exclusion_risk_wrong_decision, 0.0) * children_valued

    place = municipalities.set_index("kommunenummer")[["region", "size_class"]]
    where = place.reindex(f["kommunenummer"].astype(str))
    out = pd.DataFrame(
        {
            "family_id": f["family_id"].to_numpy() if "family_id" in f else np.arange(n),
            "kommunenummer": f["kommunenummer"].astype(str).to_numpy(),
            "region": where["region"].to_numpy(),
            "size_class": where["size_class"].to_numpy(),
            "year": year,
            "option": option,
            "status": status,
            "decision": decision,
            "decision_correct": correct,
            "sats": units,
            "months": np.round(months, 4),
            "assessment_full_cost": full,
            "municipal_copay": mun_copay,
            "municipal_own_assessment_cost": own,
            "direct_purchase_cost": direct,
        }
    )
    out["municipal_assessment_cost"] = mun_copay + own + direct
    out["state_assessment_cost"] = full - out["municipal_assessment_cost"]
    out["measure_cost_full_pv"] = measure[:, 0]
    out["measure_cost_municipal_pv"] = measure[:, 1]
    out["measure_cost_state_pv"] = measure[:, 2]
    for level in VALUE_LEVELS:
        out[f"exclusion_value_pv_{level}"] = avoided * costs.exclusion_value(level)
    headline = out[f"exclusion_value_pv_{costs.exclusion_value_level}"]
    out["municipal_value_share"] = headline * costs.municipal_value_fraction
    out["state_value_share"] = headline * costs.state_value_fraction
    out["municipal_cost"] = out["municipal_assessment_cost"] + out["measure_cost_municipal_pv"]
    out["state_cost"] = out["state_assessment_cost"] + out["measure_cost_state_pv"]
    out["societal_cost"] = (1 + costs.tax_financing_cost) * (
        out["municipal_cost"] + out["state_cost"]
    )
    return out


CENTRE_COLUMNS: tuple[str, ...] = (
    "year",
    "centre_id",
    "region",
    "open_weekend_holiday_days",
    "weekend_staff_cost",
)
"""``ledger_centres``: one row per year × centre."""


def centre_ledger(centre_yearly: pd.DataFrame | None, costs: Costs) -> pd.DataFrame:
    """One row per year × centre: the days it was open with residential units on a Saturday,
    Sunday or public holiday (centre_yearly) and the staff cost of those days, paid by the
    state. Every open weekend or holiday day is costed, also those of centres open at weekends
    in the baseline: it is a cost of open days, not of a lever."""
    if centre_yearly is None or "open_weekend_holiday_days" not in centre_yearly:
        return pd.DataFrame({name: [] for name in CENTRE_COLUMNS}).astype(
            {"open_weekend_holiday_days": "int64", "weekend_staff_cost": "float64"}
        )
    out = centre_yearly[["year", "centre_id", "region", "open_weekend_holiday_days"]].copy()
    out["weekend_staff_cost"] = (
        out["open_weekend_holiday_days"].astype("float64") * costs.weekend_staff_cost_per_day
    )
    return out.reset_index(drop=True)


def _summed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = frame.groupby(keys, sort=True)
    table = grouped[list(MONEY_COLUMNS)].sum()
    table.insert(0, "families", grouped.size())
    assessed = (frame["assessment_full_cost"] > 0).astype("int64")
    table.insert(1, "assessments", assessed.groupby([frame[k] for k in keys], sort=True).sum())
    return table.reset_index()


def _totals_from(
    ledger: pd.DataFrame, costs: Costs, centres: pd.DataFrame | None = None
) -> dict[str, float]:
    s = ledger[list(MONEY_COLUMNS)].sum()
    weekend = 0.0 if centres is None else float(centres["weekend_staff_cost"].sum())
    value = float(s[f"exclusion_value_pv_{costs.exclusion_value_level}"])
    tax = 1 + costs.tax_financing_cost
    out = {
        "municipal_cost": float(s["municipal_cost"]),
        "state_cost": float(s["state_cost"]) + weekend,
        "societal_cost": float(s["societal_cost"]) + tax * weekend,
        "municipal_value": float(s["municipal_value_share"]),
        "state_value": float(s["state_value_share"]),
        "societal_value": value,
        "municipal_assessment_cost": float(s["municipal_assessment_cost"]),
        "state_assessment_cost": float(s["state_assessment_cost"]),
        "assessment_full_cost": float(s["assessment_full_cost"]),
        "measure_cost_full_pv": float(s["measure_cost_full_pv"]),
        "state_weekend_staff_cost": weekend,
        # (a) spending in the year on assessments (with the state's weekend staff) and (b) the
        # present value of the measures decided after them: a + b = the payer's cost
        "municipal_cost_assessments": float(s["municipal_assessment_cost"]),
        "municipal_cost_measures_pv": float(s["measure_cost_municipal_pv"]),
        "state_cost_assessments": float(s["state_assessment_cost"]) + weekend,
        "state_cost_measures_pv": float(s["measure_cost_state_pv"]),
        "societal_cost_assessments": tax * (float(s["assessment_full_cost"]) + weekend),
        "societal_cost_measures_pv": tax * float(s["measure_cost_full_pv"]),
    }
    out["municipal_net"] = out["municipal_value"] - out["municipal_cost"]
    out["state_net"] = out["state_value"] - out["state_cost"]
    out["societal_net"] = out["societal_value"] - out["societal_cost"]
    out["societal_assessment_cost"] = tax * out["assessment_full_cost"]
    for level in VALUE_LEVELS:
        out[f"societal_value_{level}"] = float(s[f"exclusion_value_pv_{level}"])
    for payer, key in (("society", "societal"), ("municipality", "municipal"), ("state", "state")):
        cost, assessment = out[f"{key}_cost"], out[f"{key}_cost_assessments"]
        value = out[f"{key}_value"]
        out[f"return_per_krone_{payer}"] = value / cost if cost > 0 else float("nan")
        out[f"return_per_assessment_krone_{payer}"] = (
            value / assessment if assessment > 0 else float("nan")
        )
    return out


def _ledger_for(
    tables: dict[str, pd.DataFrame], scenario: Scenario, data: BundledData, costs: Costs
) -> pd.DataFrame:
    return family_ledger(
        tables["families"],
        data.municipalities,
        data.copay,
        costs,
        scenario.levers,
        changes=scenario.changes,
        high_risk_severity=scenario.parameters.high_risk_severity,
    )


def ledger_tables(
    tables: dict[str, pd.DataFrame], scenario: Scenario, data: BundledData, costs: Costs
) -> dict[str, pd.DataFrame]:
    """The ledger tables of a run: per family, per year × region × size class, per year ×
    centre (weekend and holiday staff) and per payer."""
    ledger = _ledger_for(tables, scenario, data, costs)
    centres = centre_ledger(tables.get("centre_yearly"), costs)
    yearly = _summed(ledger, ["year", "region", "size_class"])
    t = _totals_from(ledger, costs, centres)
    tax = 1 + costs.tax_financing_cost
    weekend = t["state_weekend_staff_cost"]
    totals = pd.DataFrame(
        [
            {
                "payer": payer,
                "assessment_cost": assessment,
                "weekend_staff_cost": staff,
                "measure_cost_pv": t[f"{key}_cost_measures_pv"],
                "cost": t[f"{key}_cost"],
                "value": t[f"{key}_value"],
                "net": t[f"{key}_net"],
                "return_per_krone": t[f"return_per_krone_{payer}"],
                "return_per_assessment_krone": t[f"return_per_assessment_krone_{payer}"],
            }
            for payer, key, assessment, staff in (
                ("municipality", "municipal", t["municipal_assessment_cost"], 0.0),
                ("state", "state", t["state_assessment_cost"], weekend),
                ("society", "societal", t["societal_assessment_cost"], tax * weekend),
            )
        ]
    )
    totals["value_level"] = costs.exclusion_value_level
    totals["price_year"] = costs.price_year
    return {
        "ledger_families": ledger,
        "ledger_yearly": yearly,
        "ledger_centres": centres,
        "ledger_totals": totals,
    }


def ledger_totals(
    tables: dict[str, pd.DataFrame], scenario: Scenario, data: BundledData, costs: Costs
) -> dict[str, float]:
    """Flat scalars of a run's ledger, for comparisons across replications and scenarios."""
    centres = centre_ledger(tables.get("centre_yearly"), costs)
    return _totals_from(_ledger_for(tables, scenario, data, costs), costs, centres)


def compare_totals(
    baseline: Iterable[dict[str, float]],
    reform: Iterable[dict[str, float]],
    level: float = 0.95,
) -> pd.DataFrame:
    """Reform minus baseline for every ledger scalar, with a t-interval of the mean difference.

    The two lists are paired by position (same seeds, common random numbers); with unequal
    lengths they are treated as independent samples (Welch).
    """
    from scipy import stats

    a, b = pd.DataFrame(list(baseline)), pd.DataFrame(list(reform))
    rows = []
    for metric in a.columns.intersection(b.columns):
        x, y = a[metric].to_numpy(float), b[metric].to_numpy(float)
        if len(x) == len(y):
            d = y - x
            mean, n = float(np.nanmean(d)), int(np.isfinite(d).sum())
            se = float(np.nanstd(d, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
            df = n - 1
        else:
            mean = float(np.nanmean(y) - np.nanmean(x))
            vx, vy = np.nanvar(x, ddof=1) / len(x), np.nanvar(y, ddof=1) / len(y)
            se = float(math.sqrt(vx + vy))
            df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
        half = float(stats.t.ppf(0.5 + level / 2, df) * se) if df and df > 0 else float("nan")
        rows.append(
            {
                "metric": metric,
                "baseline": float(np.nanmean(x)),
                "reform": float(np.nanmean(y)),
                "difference": mean,
                "ci_low": mean - half,
                "ci_high": mean + half,
            }
        )
    return pd.DataFrame(rows)
