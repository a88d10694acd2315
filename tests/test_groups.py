"""Any grouping (issue 18): crossed --by, county, municipality, named --group; sfbsim results
--by recomputes from the store; notes for groups a reform cannot change; bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sfbsim
from sfbsim.cli import app
from sfbsim.experiments.outcomes import COUNT_OUTCOMES
from sfbsim.model.data_loading import load_data

runner = CliRunner()
TINY = ["--years", "1", "--reps", "2", "--workers", "0", "--uncertainty", "fixed"]
ADDITIVE = [*COUNT_OUTCOMES, "municipal_cost", "state_cost", "societal_cost", "societal_value"]


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def crossed(tmp_path_factory) -> Path:
    """One tiny comparison of weekends_open, broken down by region × size class."""
    out = tmp_path_factory.mktemp("groups") / "crossed"
    result = invoke(
        "compare", "baseline", "weekends_open", *TINY, "--by", "region,size_class", "--out", out
    )
    assert result.exit_code == 0, result.output
    return out


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype={"municipality": str})


def test_crossed_groups_sum_to_the_national_total(crossed):
    table = read(crossed / "comparison.csv")
    assert list(table.columns[:6]) == [
        "scenario",
        "outcome",
        "scope",
        "group",
        "region",
        "size_class",
    ]
    assert table.columns[-1] == "note"
    groups = table[table["scope"] == "region×size_class"]
    data = load_data()
    expected = set(
        zip(data.municipalities["region"], data.municipalities["size_class"], strict=True)
    )
    assert set(zip(groups["region"], groups["size_class"], strict=True)) == expected
    assert "nord × small" in set(groups["group"])
    national = table[table["scope"] == "national"].set_index("outcome")
    for outcome in ADDITIVE:
        rows = groups[groups["outcome"] == outcome]
        for column in ("baseline_mean", "reform_mean", "diff_mean"):
            total = pd.to_numeric(rows[column]).sum()
            assert total == pytest.approx(float(national.loc[outcome, column]), rel=1e-9, abs=1e-6)


def test_grouping_from_municipalities_matches_the_runs_own_region_rows(crossed):
    """Pooled shares, waits from the families' waits, occupancy of the centres located in the
    group: --by region from the rows per municipality equals the region rows each run
    computed itself (never an average of medians)."""
    result = sfbsim.read_experiment(crossed)
    by_region = result.summary(by="region").set_index(["group", "outcome"])
    runs = result.runs[(result.runs["scope"] == "region") & (result.runs["year"] == 0)]
    own = runs.groupby(["scenario", "group", "outcome"])["value"].mean()
    for (group, outcome), row in by_region[by_region["scope"] != "national"].iterrows():
        if outcome == "occupancy" and row["reps"] == 0:
            continue
        expected = own.loc[("baseline", group, outcome)]
        assert row["baseline_mean"] == pytest.approx(expected, rel=1e-9, nan_ok=True), outcome


def test_results_by_recomputes_the_grouping_compare_gives(crossed, tmp_path):
    direct = tmp_path / "county"
    result = invoke(
        "compare", "baseline", "weekends_open", *TINY, "--by", "county", "--out", direct
    )
    assert result.exit_code == 0, result.output
    target = tmp_path / "again.csv"
    again = invoke("results", direct, "--by", "county", "--to", target)
    assert again.exit_code == 0, again.output
    assert target.read_text(encoding="utf-8") == (direct / "comparison.csv").read_text(
        encoding="utf-8"
    )
    # any grouping of the crossed experiment, without rerunning: equal to the API's
    later = invoke("results", crossed, "--by", "county")
    assert later.exit_code == 0, later.output
    written = read(crossed / "comparison-by-county.csv")
    api = sfbsim.read_experiment(crossed).summary(by="county")
    assert written["group"].tolist() == api["group"].tolist()
    assert pd.to_numeric(written["diff_mean"], errors="coerce").tolist() == pytest.approx(
        api["diff_mean"].tolist(), nan_ok=True
    )
    counties = set(load_data().municipalities["county"])
    assert set(written.loc[written["scope"] == "county", "county"]) == counties


def test_municipality_and_named_groups(crossed):
    result = invoke(
        "results",
        crossed,
        "--group",
        "salten=1804,1875",
        "--group",
        "oslo=0301",
        "--by",
        "size_class",
    )
    assert result.exit_code == 0, result.output
    table = read(crossed / "comparison-by-size_class-groups.csv")
    groups = table[table["scope"] != "national"]
    assert set(groups["named_group"]) == {"salten", "oslo"}
    assert set(zip(groups["named_group"], groups["size_class"], strict=True)) == {
        ("salten", "large"),
        ("salten", "small"),
        ("oslo", "large"),
    }
    assert "small × salten" in set(groups["group"])
    single = invoke("results", crossed, "--by", "municipality", "--to", crossed / "mun.csv")
    assert single.exit_code == 0, single.output
    mun = read(crossed / "mun.csv")
    mun = mun[(mun["scope"] == "municipality") & (mun["outcome"] == "admissions")]
    assert len(mun) == len(load_data().municipalities)
    national = read(crossed / "comparison.csv")
    total = national[(national["scope"] == "national") & (national["outcome"] == "admissions")]
    assert mun["baseline_mean"].astype(float).sum() == pytest.approx(
        float(total["baseline_mean"].iloc[0])
    )
    salten = sfbsim.read_experiment(crossed).summary(groups={"salten": ["1804", "1875"]})
    both = mun[mun["municipality"].isin(["1804", "1875"])]["baseline_mean"].astype(float).sum()
    row = salten[(salten["group"] == "salten") & (salten["outcome"] == "admissions")]
    assert float(row["baseline_mean"].iloc[0]) == pytest.approx(both)


def test_weekends_open_in_nord_gets_a_note_saying_why(crossed):
    result = invoke("results", crossed, "--by", "region", "--to", crossed / "region.csv")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "weekends_open in nord" in text
    assert "Solbakken" in text and "already opens every weekend" in text
    table = read(crossed / "region.csv")
    nord = table[table["group"] == "nord"].set_index("outcome")
    assert "already opens every weekend" in nord.loc["admissions", "note"]
    assert "exactly zero in every replication" in nord.loc["admissions", "note"]
    assert float(nord.loc["admissions", "diff_mean"]) == 0.0
    vest = table[table["group"] == "vest"]
    assert not vest["note"].str.contains("already opens").any()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--by", "kommune"], "allowed: region, size_class, county, municipality"),
        (["--group", "north=9999"], "no municipality '9999'"),
        (["--group", "north="], "the group is empty"),
        (["--group", "north"], "give NAME=NUMBER"),
        (["--group", "=1804"], "needs a name"),
    ],
)
def test_bad_groupings_exit_2_naming_the_fix(crossed, tmp_path, args, expected):
    out = tmp_path / "never"
    result = invoke("compare", "baseline", "weekends_open", *TINY, *args, "--out", out)
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split())
    assert not (out / "results.duckdb").exists()
    again = invoke("results", crossed, *args)
    assert again.exit_code == 2, again.output
    assert expected in " ".join(again.output.split())


def test_the_api_takes_the_same_groupings(crossed):
    with pytest.raises(sfbsim.ExperimentError, match="allowed: region"):
        sfbsim.compare("baseline", "weekends_open", by="kommune", uncertainty="fixed")
    with pytest.raises(sfbsim.ExperimentError, match="no municipality '9999'"):
        sfbsim.compare(
            "baseline", "weekends_open", groups={"x": ["9999"]}, uncertainty="fixed", reps=2
        )
    memory = sfbsim.compare(
        "baseline",
        "weekends_open",
        years=1,
        reps=2,
        by=("region", "size_class"),
        uncertainty="fixed",
        workers=0,
    )
    expected = (crossed / "comparison.csv").read_text(encoding="utf-8")
    assert memory.table.to_csv(index=False, lineterminator="\n") == expected
    assert any("weekends_open in nord" in n for n in memory.notes)
