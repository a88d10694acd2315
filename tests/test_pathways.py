"""Effect by pathway (experiments/pathways.py): the parts add up to the total effect."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from sfbsim.cli import app
from sfbsim.experiments.pathways import ADMISSION_PATHWAYS, pathway_counts, split_effects
from sfbsim.experiments.runner import simulate
from sfbsim.experiments.scenario_files import load_scenario

runner = CliRunner()


@pytest.fixture(scope="module")
def counts(data):
    """Pathway counts of traced 2-year runs of a baseline and two reforms, two seeds each."""
    out = {}
    for name in ("baseline", "weekends_open", "duty_to_assist"):
        base = load_scenario("baseline").with_run(years=2)
        scenario = load_scenario(name).model_copy(update={"run": base.run})
        for seed in (3, 4):
            seeded = scenario.with_run(seed=seed)
            _, tables = simulate(seeded, data, trace=True)
            out[name, seed] = pathway_counts(tables, seeded)
    return out


def test_the_trail_accounts_for_every_admission(counts):
    """Admissions counted by the recorder equal the referrals that got through, counted
    from the trail: the identity the split rests on."""
    for c in counts.values():
        through = (
            c["proposals"]
            - c["proposals_declined"]
            + c["home_referrals"]
            - c["intake_refusals"]
            - c["offer_refusals"]
            + c["bought_directly"]
            - c["waiting_at_end"]
        )
        assert through == pytest.approx(c["admissions"], abs=1e-9)
        residential = (
            c["proposals"]
            - c["proposals_declined"]
            - c["intake_refusals_residential"]
            - c["offer_refusals"]
            + c["bought_directly"]
            - c["waiting_at_end_residential"]
        )
        assert residential == pytest.approx(c["admissions_residential"], abs=1e-9)


@pytest.mark.parametrize("reform", ["weekends_open", "duty_to_assist"])
def test_pathway_parts_add_up_to_the_measured_total(counts, reform):
    for seed in (3, 4):
        parts = split_effects(counts["baseline", seed], counts[reform, seed])
        for outcome in ("admissions", "bed_days"):
            mine = {k: v for k, v in parts.items() if k.startswith(outcome + ":")}
            total = mine.pop(f"{outcome}:total")
            assert sum(mine.values()) == pytest.approx(total, abs=1e-6)
        assert set(k.split(":")[1] for k in parts if k.startswith("admissions:")) == {
            *ADMISSION_PATHWAYS,
            "total",
        }


def test_duty_to_assist_works_through_fewer_intake_refusals(counts):
    """The duty to assist books the earliest place however late: its effect on admissions
    comes through the intake, not through the services' choices."""
    parts = [split_effects(counts["baseline", s], counts["duty_to_assist", s]) for s in (3, 4)]
    intake = sum(p["admissions:intake_refusals"] for p in parts)
    assert intake > 0
    assert counts["duty_to_assist", 3]["intake_refusals"] == 0


def test_compare_pathways_writes_a_table_whose_parts_add_up(tmp_path):
    out = tmp_path / "cmp"
    done = runner.invoke(
        app,
        [
            "compare", "baseline", "duty_to_assist", "--years", "1", "--reps", "2",
            "--pathways", "--trace-reps", "1", "--uncertainty", "fixed", "--workers", "0",
            "--out", str(out), "--quiet",
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    split = pd.read_csv(out / "pathways.csv")
    comparison = pd.read_csv(out / "comparison.csv").set_index("outcome")
    for _outcome, rows in split.groupby("outcome"):
        total = rows.loc[rows["pathway"] == "total", "effect_mean"].iloc[0]
        parts = rows.loc[rows["pathway"] != "total", "effect_mean"].sum()
        assert parts == pytest.approx(total, abs=1e-6)
    admissions = split[(split["outcome"] == "admissions") & (split["pathway"] == "total")]
    assert admissions["effect_mean"].iloc[0] == pytest.approx(
        comparison.loc["admissions", "diff_mean"], abs=1e-9
    )
    from sfbsim.experiments.store import Store

    with Store(out, read_only=True) as store:
        seeds = store.con.execute("SELECT DISTINCT seed FROM decisions").fetchall()
    assert len(seeds) == 1  # --trace-reps 1: the first replication's trails only
    done = runner.invoke(app, ["report", str(out)])
    assert done.exit_code == 0, done.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Where the effects come from" in page and 'alt="effects by pathway"' in page
