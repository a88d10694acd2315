"""The decision trail (model/trail.py) and ``sfbsim explain`` (experiments/explain.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sfbsim.cli import app
from sfbsim.experiments.explain import REACH, explain_run, explain_scenario
from sfbsim.experiments.runner import run_to_folder, simulate
from sfbsim.experiments.scenario_files import load_scenario
from sfbsim.model.trail import COLUMNS, CONSENT_TERMS, UTILITY_TERMS

runner = CliRunner()


@pytest.fixture(scope="module")
def traced(data):
    """Two traced runs of the same seed and one untraced (two years of the baseline)."""
    scenario = load_scenario("baseline").with_run(years=2, seed=11)
    _, first = simulate(scenario, data, trace=True)
    _, again = simulate(scenario, data, trace=True)
    _, plain = simulate(scenario, data, trace=False)
    return first, again, plain


def test_trail_has_its_columns_and_every_kind_of_decision(traced):
    decisions = traced[0]["decisions"]
    assert tuple(decisions.columns) == COLUMNS
    kinds = set(decisions["decision"])
    for kind in ("assessment_choice", "proposal", "offer", "intake", "dropout", "after_assessment"):
        assert kind in kinds, kind


def test_same_seed_gives_the_same_trail_and_tracing_changes_no_result(traced):
    first, again, plain = traced
    pd.testing.assert_frame_equal(first["decisions"], again["decisions"])
    assert "decisions" not in plain
    for name, table in plain.items():
        pd.testing.assert_frame_equal(table, first[name])


def test_each_logged_choice_follows_from_its_logged_terms_and_draw(traced):
    choices = traced[0]["decisions"]
    choices = choices[choices["decision"] == "assessment_choice"]
    terms = [f"term_{t}" for t in UTILITY_TERMS]
    assert len(choices) > 1000
    for _, rows in choices.groupby("decision_id", sort=False):
        open_ = rows[rows["available"]]
        utility = open_[terms].fillna(0.0).sum(axis=1).to_numpy()
        assert np.allclose(utility, open_["utility"].to_numpy(), atol=1e-12)
        weights = np.exp(utility - utility.max())
        recomputed = weights / weights.sum()
        assert np.allclose(recomputed, open_["probability"].to_numpy(), atol=1e-9)
        assert (rows.loc[~rows["available"], "probability"] == 0).all()
        draw = rows["draw"].iloc[0]
        cumulative = np.cumsum(recomputed)
        expected = open_["option"].iloc[int(np.searchsorted(cumulative, draw, side="right"))]
        assert rows.loc[rows["chosen"], "option"].tolist() == [expected]
        assert (rows["outcome"] == expected).all()


def test_each_consent_answer_follows_from_its_terms_and_the_parents_willingness(traced):
    decisions = traced[0]["decisions"]
    answers = decisions[decisions["decision"].isin(["proposal", "offer"])]
    assert len(answers) > 50
    log_odds = answers[[f"term_{t}" for t in CONSENT_TERMS]].sum(axis=1)
    probability = 1 / (1 + np.exp(-log_odds))
    assert np.allclose(probability, answers["probability"], atol=1e-12)
    assert ((answers["draw"] < answers["probability"]) == answers["chosen"]).all()
    # the willingness is drawn once, at the proposal, and kept for the offer
    offers = answers[answers["decision"] == "offer"].groupby("family_id")["draw"].first()
    proposals = answers[answers["decision"] == "proposal"].groupby("family_id")["draw"].first()
    common = offers.index.intersection(proposals.index)
    assert len(common) > 0
    assert (offers[common] == proposals[common]).all()


def test_dropouts_and_decisions_after_the_assessment_follow_from_their_draws(traced):
    decisions = traced[0]["decisions"]
    dropouts = decisions[decisions["decision"] == "dropout"]
    hazard = dropouts["term_per_stay"] + dropouts["term_closure_breaks"]
    assert np.allclose(1 - np.exp(-hazard), dropouts["probability"], atol=1e-12)
    assert ((dropouts["draw"] < dropouts["probability"]) == dropouts["chosen"]).all()
    after = decisions[decisions["decision"] == "after_assessment"]
    assert ((after["draw"] < after["probability"]) == after["chosen"]).all()


def test_trail_counts_agree_with_the_recorded_counts(traced):
    tables = traced[0]
    decisions, yearly = tables["decisions"], tables["yearly"]
    intake = decisions[(decisions["decision"] == "intake") & (decisions["stage"] == "result")]
    assert (intake["outcome"] == "refused").sum() == yearly["intake_refusals"].sum()
    proposals = decisions[decisions["decision"] == "proposal"]
    assert len(proposals) == yearly["proposals"].sum()
    assert (~proposals["chosen"]).sum() == yearly["proposals_declined"].sum()
    offers = decisions[decisions["decision"] == "offer"]
    assert (~offers["chosen"]).sum() == yearly["consent_refusals"].sum()
    first = decisions[(decisions["decision"] == "assessment_choice") & decisions["chosen"]]
    assert (first["stage"] == "first").sum() == yearly["cases"].sum()
    refused = intake[intake["outcome"] == "refused"]
    assert set(refused["reason"]) <= {"capacity", "no_centre"}


def remote_without_reach(data) -> str:
    """The municipality farthest from its expected centre among those no centre's staff can
    reach for home-based work."""
    from sfbsim.experiments.runner import build_model

    model = build_model(load_scenario("baseline"), data)
    remote = [m for m in model.municipalities if not m.home_centre_reachable]
    assert remote
    return max(remote, key=lambda m: m.nearest_centre_hours).kommunenummer


def test_explain_names_travel_and_reach_for_a_remote_municipality(data):
    number = remote_without_reach(data)
    result = explain_scenario(load_scenario("baseline"), data, number)
    assert result.leading[0] == REACH
    assert "travel" in result.leading[1:3]
    assert result.likeliest not in ("residential", "home_centre")
    home = next(o for o in result.options if o["option"] == "home_centre")
    assert not home["available"] and "reach" in home["reason"]
    travel = next(c for c in result.changes if c.driver.startswith("travel"))
    assert travel.now > 3
    assert "reach" in " ".join(result.summary) and "travel" in " ".join(result.summary)
    # the probabilities printed are the model's own
    assert math.isclose(sum(o["probability"] for o in result.options), 1.0)


@pytest.fixture(scope="module")
def run_dir(data, tmp_path_factory):
    """A traced 4-year baseline run in a folder."""
    out = tmp_path_factory.mktemp("explain") / "run"
    scenario = load_scenario("baseline").with_run(years=4, seed=5)
    run_to_folder(scenario, data, out, trace=True)
    return out


def test_explain_reads_a_run_and_names_reach_and_travel_for_a_remote_municipality(run_dir, data):
    decisions = pd.read_parquet(run_dir / "decisions.parquet")
    number = remote_without_reach(data)
    result = explain_run(run_dir, number)
    cases = decisions[
        (decisions["municipality"] == number)
        & (decisions["decision"] == "assessment_choice")
        & (decisions["stage"] == "first")
        & decisions["chosen"]
    ]
    assert result.counts["cases"] == len(cases)
    if result.counts["cases"] and result.counts["centre_assessments"] < result.counts["cases"]:
        assert result.leading[0] == REACH
        assert "travel" in result.leading[1:3]
    assert len(result.cases) == cases["family_id"].nunique()


def test_explain_cli_prints_paths_and_json(run_dir):
    decisions = pd.read_parquet(run_dir / "decisions.parquet")
    busiest = decisions[decisions["decision"] == "proposal"]["municipality"].mode().iloc[0]
    done = runner.invoke(app, ["explain", str(run_dir), "-m", busiest, "--cases", "2"])
    assert done.exit_code == 0, done.output
    assert "First choices" in done.output and "the service chose" in done.output
    done = runner.invoke(app, ["explain", str(run_dir), "-m", busiest, "--json"])
    assert done.exit_code == 0, done.output
    parsed = json.loads(done.output)
    assert parsed["kommunenummer"] == busiest and parsed["cases"]
    family = parsed["cases"][0]["family_id"]
    done = runner.invoke(app, ["explain", str(run_dir), "-m", busiest, "--family", str(family)])
    assert done.exit_code == 0 and f"family {family}" in done.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["explain", "-m", "1875"], "either a run folder"),
        (["explain", "--scenario", "baseline"], "give the municipality"),
        (["explain", "--scenario", "baseline", "-m", "9999"], "no such municipality"),
        (["explain", "--scenario", "baseline", "-m", "1875", "--year", "2010"], "--year 2010"),
    ],
)
def test_explain_bad_input_is_a_clear_error(args, message):
    done = runner.invoke(app, args)
    assert done.exit_code == 2
    assert message in done.output


def test_explain_a_folder_without_a_trail_says_what_to_do(tmp_path, run_dir):
    done = runner.invoke(app, ["explain", str(tmp_path), "-m", "1875"])
    assert done.exit_code == 2 and "not a run folder" in done.output
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "manifest.json").write_text((run_dir / "manifest.json").read_text())
    done = runner.invoke(app, ["explain", str(copy), "-m", "1875"])
    assert done.exit_code == 2 and "--trace" in done.output
