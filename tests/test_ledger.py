"""Tests for the municipal, state and societal ledgers (model/ledger.py, issue 6)."""

from __future__ import annotations

import pandas as pd
import pytest

from sfbsim.experiments.runner import simulate
from sfbsim.model.costs import Costs, cost_sources
from sfbsim.model.data_loading import load_data
from sfbsim.model.ledger import (
    MENON_CASES,
    MONEY_COLUMNS,
    annuity_factor,
    assessment_cost,
    centre_ledger,
    compare_totals,
    decision_cost_pv,
    family_ledger,
    fit_menon_case,
    ledger_tables,
    ledger_totals,
    measure_cost_pv,
    menon_case,
    sats,
    years_for_annuity,
)
from sfbsim.model.parameters import Levers, RunSettings, Scenario


@pytest.fixture(scope="module")
def data():
    return load_data()


@pytest.fixture(scope="module")
def run(data):
    scenario = Scenario(run=RunSettings(years=1))
    _, tables = simulate(scenario, data)
    return scenario, tables


# --- Costs ----------------------------------------------------------------------------------
def test_every_cost_has_a_source_and_description():
    for name, source in cost_sources().items():
        assert source.strip(), name  # its form is checked in tests/test_sources.py
        assert Costs.model_fields[name].description, name


def test_costs_reject_unknown_keys():
    with pytest.raises(ValueError):
        Costs(no_such_cost=1)


def test_brief_defaults():
    c = Costs()
    assert c.own_assessment_cost == 58_500
    assert c.home_centre_full_cost == 78_000
    assert c.residential_full_cost == 300_000
    assert c.municipal_value_fraction + c.state_value_fraction <= 1


# --- building blocks ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("parents", "children", "expected"),
    [(1, 1, 1.0), (2, 1, 1.5), (1, 2, 1.5), (2, 2, 2.0), (2, 3, 2.5)],
)
def test_sats_rule(parents, children, expected):
    assert sats(parents, children) == expected


def test_annuity_round_trip():
    assert annuity_factor(1, 0.04) == pytest.approx(1 / 1.04)
    assert annuity_factor(0, 0.04) == 0
    assert years_for_annuity(annuity_factor(7.3, 0.04), 0.04) == pytest.approx(7.3)


def test_institution_payers():
    c = Costs()
    full, mun, state = measure_cost_pv("institution", 1, c)
    assert mun == pytest.approx(12 * 190_190 / 1.04)
    assert full == pytest.approx(mun + state)
    _, mun_f, state_f = measure_cost_pv("foster_home", 3, c)
    assert state_f == 0 and mun_f > 0


def test_full_financing_moves_assessment_cost_to_municipality():
    c = Costs()
    full, mun = assessment_cost("residential", c, 1.5, 1.5, 79_335)
    assert full == pytest.approx(300_000)
    assert mun == pytest.approx(79_335 * 1.5 * 1.5)
    full_ff, mun_ff = assessment_cost("residential", c, 1.5, 1.5, 79_335, True)
    assert full_ff == full and mun_ff == full


# --- Menon 2025's five cases ----------------------------------------------------------------
@pytest.mark.parametrize("case", MENON_CASES, ids=lambda c: c.name)
def test_menon_five_cases(case):
    result = menon_case(case, Costs())
    assert result["society"] == pytest.approx(case.society_target, abs=1_000)
    assert result["municipality"] == pytest.approx(case.municipality_target, abs=1_000)


def test_menon_targets_are_the_brief():
    targets = [(c.society_target, c.municipality_target) for c in MENON_CASES]
    assert targets == [
        (-5_110_400, -468_700),
        (4_101_600, -437_500),
        (97_200, 267_000),
        (9_222_200, 120_700),
        (33_136_200, 15_681_400),
    ]


@pytest.mark.parametrize("case", MENON_CASES, ids=lambda c: c.name)
def test_menon_stored_reconstruction_is_the_fit(case):
    fitted = fit_menon_case(case, Costs())
    assert fitted.years == pytest.approx(case.years, abs=1e-4)
    assert fitted.exclusion_reduction == pytest.approx(case.exclusion_reduction, abs=1e-5)


def test_menon_society_gains_municipality_rarely():
    results = [menon_case(c, Costs()) for c in MENON_CASES]
    # society gains far more in cases 2, 4 and 5; case 5 is the only large municipal gain
    assert [r["society"] > r["municipality"] for r in results] == [False, True, False, True, True]
    assert sum(r["municipality"] > 200_000 for r in results) == 2


def test_menon_cases_respond_to_costs():
    case = MENON_CASES[4]
    base = menon_case(case, Costs())
    dearer = menon_case(case, Costs(institution_per_year=3_000_000))
    assert dearer["society"] > base["society"]


# --- the family ledger ----------------------------------------------------------------------
def _families(**overrides):
    row = {
        "family_id": 1,
        "kommunenummer": "0301",
        "arrival_date": "2025-01-10",
        "parents": 2,
        "children": 1,
        "severity": 0.5,
        "option": "residential",
        "centre_id": "x",
        "start_date": "2025-02-01",
        "end_date": "2025-03-17",
        "status": "finished",
        "decision": "foster_home",
        "decision_correct": True,
    }
    row.update(overrides)
    return pd.DataFrame([row])


MUNICIPALITIES = pd.DataFrame(
    {"kommunenummer": ["0301"], "region": ["ost"], "size_class": ["large"]}
)


def _copay(year, measure):
    return {"centre_residential": 79_335.0, "centre_home_based": 13_620.0}[measure]


def test_family_row_by_sats_rule_and_months():
    c = Costs()
    row = family_ledger(_families(), MUNICIPALITIES, _copay, c).iloc[0]
    months = 44 / (365.25 / 12)
    assert row["sats"] == 1.5
    assert row["municipal_copay"] == pytest.approx(79_335 * 1.5 * months)
    assert row["assessment_full_cost"] == pytest.approx(300_000 * months / 1.5)
    assert row["state_assessment_cost"] == pytest.approx(
        row["assessment_full_cost"] - row["municipal_copay"]
    )
    assert row["region"] == "ost" and row["year"] == 2025
    full, mun, state = decision_cost_pv("foster_home", c)
    assert row["measure_cost_municipal_pv"] == pytest.approx(mun)
    assert row["exclusion_value_pv_medium"] == pytest.approx(0.1 * 9.7e6)
    assert row["municipal_value_share"] == pytest.approx(0.1 * 9.7e6 * c.municipal_value_fraction)


def test_wrong_or_unfinished_decisions_have_no_value():
    frame = pd.concat(
        [
            _families(decision_correct=False),
            _families(family_id=2, status="in_assessment", decision="", decision_correct=None),
        ]
    )
    out = family_ledger(frame, MUNICIPALITIES, _copay, Costs())
    assert (out["exclusion_value_pv_mean"] == 0).all()
    assert out.loc[1, "measure_cost_full_pv"] == 0
    assert out.loc[1, "municipal_copay"] > 0


def test_a_case_left_at_follow_up_gets_no_measures_and_no_value():
    """Ordinary follow-up is nothing beyond the support the family has: no assessment, so no
    measures after it and no value of a right decision, even where leaving the child at home
    was right (the families table records it as home_with_support)."""
    follow_up = _families(
        option="follow_up",
        centre_id="",
        start_date="2025-01-10",
        end_date="2025-01-10",
        decision="home_with_support",
        decision_correct=True,
    )
    assessed = _families(family_id=2, option="own", centre_id="", decision="home_with_support")
    out = family_ledger(pd.concat([follow_up, assessed]), MUNICIPALITIES, _copay, Costs())
    assert out.loc[0, ["measure_cost_full_pv", "exclusion_value_pv_mean"]].tolist() == [0, 0]
    assert out.loc[0, ["municipal_cost", "state_cost", "societal_cost"]].tolist() == [0, 0, 0]
    assert out.loc[1, "measure_cost_full_pv"] > 0 and out.loc[1, "exclusion_value_pv_mean"] > 0


def test_copay_levers_and_dated_changes():
    c = Costs()
    base = family_ledger(_families(), MUNICIPALITIES, _copay, c).iloc[0]
    half = family_ledger(_families(), MUNICIPALITIES, _copay, c, Levers(copay_multiplier=0.5)).iloc[
        0
    ]
    assert half["municipal_copay"] == pytest.approx(base["municipal_copay"] / 2)
    assert half["assessment_full_cost"] == pytest.approx(base["assessment_full_cost"])
    high = family_ledger(
        _families(severity=0.9),
        MUNICIPALITIES,
        _copay,
        c,
        Levers(copay_multiplier_high_risk=0.0),
    ).iloc[0]
    assert high["municipal_copay"] == 0
    full = family_ledger(
        _families(),
        MUNICIPALITIES,
        _copay,
        c,
        Levers(full_municipal_financing=True),
    ).iloc[0]
    assert full["state_assessment_cost"] == 0
    assert full["municipal_copay"] == pytest.approx(full["assessment_full_cost"])


# --- on a run -------------------------------------------------------------------------------
def test_yearly_and_totals_equal_family_sums(run, data):
    scenario, tables = run
    out = ledger_tables(tables, scenario, data, Costs())
    fam, yearly, totals = out["ledger_families"], out["ledger_yearly"], out["ledger_totals"]
    assert len(fam) == len(tables["families"])
    for column in MONEY_COLUMNS:
        assert yearly[column].sum() == pytest.approx(fam[column].sum(), rel=1e-9)
    assert yearly["families"].sum() == len(fam)
    by_payer = totals.set_index("payer")
    assert by_payer.loc["municipality", "cost"] == pytest.approx(fam["municipal_cost"].sum())
    staff = out["ledger_centres"]["weekend_staff_cost"].sum()
    assert staff > 0  # some centres are open at weekends in the baseline
    assert by_payer.loc["state", "cost"] == pytest.approx(fam["state_cost"].sum() + staff)
    assert by_payer.loc["state", "weekend_staff_cost"] == pytest.approx(staff)
    assert by_payer.loc["society", "value"] == pytest.approx(fam["exclusion_value_pv_medium"].sum())
    flat = ledger_totals(tables, scenario, data, Costs())
    assert flat["societal_net"] == pytest.approx(flat["societal_value"] - flat["societal_cost"])
    assert flat["societal_cost"] == pytest.approx(
        1.2 * (flat["municipal_cost"] + flat["state_cost"])
    )


def test_higher_residential_cost_raises_state_cost(run, data):
    scenario, tables = run
    base = ledger_totals(tables, scenario, data, Costs())
    dear = ledger_totals(tables, scenario, data, Costs(residential_full_cost=400_000))
    assert dear["state_cost"] > base["state_cost"]
    assert dear["municipal_cost"] == pytest.approx(base["municipal_cost"])


def test_full_financing_on_a_run(run, data):
    scenario, tables = run
    base = ledger_totals(tables, scenario, data, Costs())
    full = scenario.model_copy(update={"levers": Levers(full_municipal_financing=True)})
    moved = ledger_totals(tables, full, data, Costs())
    assert moved["state_assessment_cost"] == pytest.approx(0, abs=1e-6)
    assert moved["municipal_assessment_cost"] == pytest.approx(base["assessment_full_cost"])


def test_value_responds_to_exclusion_parameters(run, data):
    scenario, tables = run
    base = ledger_totals(tables, scenario, data, Costs())
    more = ledger_totals(tables, scenario, data, Costs(exclusion_risk_wrong_decision=0.2))
    assert more["societal_value"] == pytest.approx(2 * base["societal_value"])
    assert base["societal_value"] > base["municipal_value"] > 0


def test_compare_totals_paired_ci():
    a = [{"x": 1.0}, {"x": 2.0}, {"x": 3.0}]
    b = [{"x": 2.0}, {"x": 3.5}, {"x": 4.0}]
    out = compare_totals(a, b).set_index("metric")
    assert out.loc["x", "difference"] == pytest.approx(7 / 6)
    assert out.loc["x", "ci_low"] < out.loc["x", "difference"] < out.loc["x", "ci_high"]


def test_compare_outcomes_carry_value_by_payer_and_returns_per_krone():
    """Issue 6: compare shows cost and value by payer and the return per krone."""
    from sfbsim.experiments.outcomes import replication_outcomes

    data = load_data()
    scenario = Scenario(run=RunSettings(years=1))
    _, tables = simulate(scenario, data)
    rows, _, _ = replication_outcomes(tables, scenario, data, groups=False, municipalities=False)
    period = rows[rows["year"] == 0].set_index("outcome")["value"]
    for name in ("municipal_cost", "state_cost", "municipal_value", "state_value"):
        assert period[name] > 0, name
    assert period["return_per_krone_society"] == pytest.approx(
        period["societal_value"] / period["societal_cost"]
    )
    assert period["return_per_krone_municipality"] == pytest.approx(
        period["municipal_value"] / period["municipal_cost"]
    )


# --- the cost split and the weekend staff (issue 18) -------------------------------------------
PAYER_KEYS = (("municipality", "municipal"), ("state", "state"), ("society", "societal"))


def test_cost_split_adds_up_to_the_totals_per_payer(run, data):
    """(a) spending on assessments in the year + (b) present value of the measures = cost."""
    scenario, tables = run
    flat = ledger_totals(tables, scenario, data, Costs())
    out = ledger_tables(tables, scenario, data, Costs())
    by_payer = out["ledger_totals"].set_index("payer")
    for payer, key in PAYER_KEYS:
        a, b = flat[f"{key}_cost_assessments"], flat[f"{key}_cost_measures_pv"]
        assert a > 0 and b > 0, key
        assert a + b == pytest.approx(flat[f"{key}_cost"], rel=1e-12), key
        row = by_payer.loc[payer]
        assert row["assessment_cost"] + row["weekend_staff_cost"] + row[
            "measure_cost_pv"
        ] == pytest.approx(row["cost"], rel=1e-12)
        assert row["cost"] == pytest.approx(flat[f"{key}_cost"], rel=1e-12)
    assert flat["state_cost_assessments"] == pytest.approx(
        flat["state_assessment_cost"] + flat["state_weekend_staff_cost"]
    )
    assert set(by_payer["price_year"]) == {Costs().price_year}


def test_outcome_split_adds_up_per_payer_year_and_region(run, data):
    from sfbsim.experiments.outcomes import replication_outcomes

    scenario, tables = run
    rows, _, _ = replication_outcomes(tables, scenario, data, municipalities=False)
    wide = rows.pivot_table(
        index=["scope", "grp", "year"], columns="outcome", values="value", aggfunc="sum"
    )
    for _, key in PAYER_KEYS:
        split = wide[f"{key}_cost_assessments"] + wide[f"{key}_cost_measures_pv"]
        assert split.to_numpy() == pytest.approx(wide[f"{key}_cost"].to_numpy(), rel=1e-12)
    national = wide.loc[("national", "")]
    regions = wide.loc["region"].groupby("year").sum()
    for name in ("state_cost", "state_cost_weekend_staff", "municipal_cost"):
        assert regions[name].to_numpy() == pytest.approx(national[name].to_numpy(), rel=1e-9)
    flat = ledger_totals(tables, scenario, data, scenario.costs)
    years = scenario.run.years
    for name in ("state_cost", "state_cost_assessments", "municipal_cost_measures_pv"):
        assert national.loc[0, name] == pytest.approx(flat[name] / years, rel=1e-9)
    assert national.loc[0, "state_cost_weekend_staff"] == pytest.approx(
        flat["state_weekend_staff_cost"] / years
    )


def _centres(days: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2025] * len(days),
            "centre_id": [f"c{i}" for i in range(len(days))],
            "region": ["vest"] * len(days),
            "open_weekend_holiday_days": days,
        }
    )


def test_weekend_staff_cost_grows_with_open_weekend_days():
    c = Costs()
    assert c.weekend_staff_cost_per_day == 15_600
    none = centre_ledger(_centres([0, 0]), c)
    assert none["weekend_staff_cost"].sum() == 0
    some = centre_ledger(_centres([52, 0]), c)["weekend_staff_cost"].sum()
    more = centre_ledger(_centres([104, 52]), c)["weekend_staff_cost"].sum()
    assert 0 < some < more
    assert more == pytest.approx(156 * c.weekend_staff_cost_per_day)
    assert centre_ledger(None, c).empty


def test_no_weekend_staff_cost_when_every_centre_closes_at_weekends(data):
    closed = Scenario(
        run=RunSettings(years=1),
        levers=Levers(weekend_policy="all_weekends_closed", holidays_open=False),
    )
    _, tables = simulate(closed, data)
    assert (tables["centre_yearly"]["open_weekend_holiday_days"] == 0).all()
    flat = ledger_totals(tables, closed, data, Costs())
    assert flat["state_weekend_staff_cost"] == 0
    assert flat["state_cost_assessments"] == pytest.approx(flat["state_assessment_cost"])


def test_weekends_open_costs_the_state_more_staff(run, data):
    """Every open weekend and holiday day is costed: the baseline's too, more with the lever."""
    from sfbsim.experiments.scenario_files import load_scenario

    scenario, tables = run
    base = ledger_totals(tables, scenario, data, Costs())
    weekends = load_scenario("weekends_open", data).with_run(years=1)
    _, open_tables = simulate(weekends, data)
    reform = ledger_totals(open_tables, weekends, data, Costs())
    assert 0 < base["state_weekend_staff_cost"] < reform["state_weekend_staff_cost"]
    days = open_tables["centre_yearly"]["open_weekend_holiday_days"]
    assert reform["state_weekend_staff_cost"] == pytest.approx(days.sum() * 15_600)
    extra = reform["state_weekend_staff_cost"] - base["state_weekend_staff_cost"]
    assert reform["state_cost"] > base["state_cost"]
    # the staff is most of the state's extra cost: assessments change by less
    change = reform["state_assessment_cost"] - base["state_assessment_cost"]
    assert abs(change) < extra
    cheaper = ledger_totals(open_tables, weekends, data, Costs(weekend_staff_cost_per_day=0))
    assert cheaper["state_cost"] == pytest.approx(
        reform["state_cost"] - reform["state_weekend_staff_cost"]
    )
