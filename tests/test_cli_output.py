"""What the CLI prints: tables that fit an 80-column terminal (or say how to widen), numbers
with meaningful digits, and what to do when results or report is pointed at a run folder."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sfbsim.cli import app
from sfbsim.cli.common import console, errors
from sfbsim.experiments.outcomes import format_value

runner = CliRunner()


@pytest.fixture
def columns(monkeypatch):
    """Run the CLI's consoles at a given width (they are made on first use)."""

    def narrow(width: int) -> None:
        for lazy in (console, errors):
            monkeypatch.setattr(lazy, "_console", None)
            monkeypatch.setattr(lazy, "_options", {**lazy._options, "width": width})

    return narrow


def invoke(*args: str, width: int = 80):
    return runner.invoke(app, list(args), terminal_width=width, env={"COLUMNS": str(width)})


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.0, "0"),
        (0.000123456, "0.000123"),
        (-0.0004567, "-0.000457"),
        (0.0163, "0.0163"),
        (0.319, "0.319"),
        (5.5, "5.50"),
        (14.25, "14.2"),
        (392.04, "392"),
        (1994.2, "1,994"),
        (float("nan"), "–"),
        (None, "–"),
        (3.2e-9, "3.20e-09"),
    ],
)
def test_small_values_keep_three_significant_digits(value, shown):
    assert format_value(value) == shown


def test_millions_are_compact_when_asked():
    assert format_value(1_994_203_123, millions=True) == "1,994 M"
    assert format_value(-7_796_122, millions=True) == "-7.80 M"
    assert format_value(695_683, millions=True) == "695,683"
    assert format_value(1_994_203_123) == "1,994,203,123"
    assert format_value(math.inf) == "∞"


@pytest.fixture(scope="module")
def comparison(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cmp") / "cmp"
    args = ["compare", "baseline", "weekends_open", "full_municipal_financing", "--years", "1"]
    args += ["--reps", "2", "--uncertainty", "fixed", "--workers", "0", "--quiet"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_comparison_fits_80_columns_and_says_what_it_left_out(comparison, columns):
    from sfbsim.cli.experiments import print_comparison

    table = pd.read_csv(comparison / "comparison.csv")
    columns(80)
    printed = _printed(lambda: print_comparison(table))
    assert widest(printed.out) <= 80
    for reform in ("weekends_open", "full_municipal_financing"):
        assert f"{reform} − baseline (mean over 2 paired replications)" in printed.out
    assert "return_per_krone_society" in printed.out
    for line in printed.out.splitlines():
        assert "…" not in line.replace(" … ", ""), f"a cell was cut: {line!r}"
    assert "left out at 80 columns: reform" in printed.err
    assert "COLUMNS=" in printed.err and "comparison.csv has every column" in printed.err
    columns(200)
    wide = _printed(lambda: print_comparison(table))
    assert " reform " in wide.out and "left out" not in wide.err


def test_no_return_per_krone_prints_as_zero_digits(comparison, columns):
    """A return per krone and its difference are small: they keep significant digits."""
    from sfbsim.cli.experiments import print_comparison

    table = pd.read_csv(comparison / "comparison.csv")
    returns = table[table["outcome"].str.startswith("return_per_krone")]
    assert (returns["baseline_mean"].abs() < 1).all()
    columns(200)
    printed = _printed(lambda: print_comparison(returns))
    for row in returns.itertuples():
        assert format_value(row.baseline_mean) in printed.out
        if row.diff_mean != 0:
            assert format_value(row.diff_mean) != "0.000"
            assert format_value(row.diff_mean) in printed.out
    assert " 0.000 " not in printed.out


def test_money_is_shown_in_mnok_with_the_price_year(comparison, columns):
    """Costs and values print in MNOK with the price year; comparison.csv keeps NOK."""
    from sfbsim.cli.experiments import print_comparison
    from sfbsim.model.costs import Costs

    table = pd.read_csv(comparison / "comparison.csv")
    rows = table.set_index(["scenario", "outcome"])
    assert rows.loc[("weekends_open", "municipal_cost"), "baseline_mean"] > 1e6  # NOK
    staff = rows.loc[("weekends_open", "state_cost_weekend_staff"), "diff_mean"]
    assert staff > 0  # more open weekend and holiday days, more staff
    assert rows.loc[("weekends_open", "state_cost"), "diff_mean"] > 0
    columns(200)
    printed = _printed(lambda: print_comparison(table))
    flat = " ".join(printed.out.split())
    assert f"MNOK (million NOK) at {Costs().price_year} prices" in flat
    for name in ("municipal_cost_assessments", "state_cost_measures_pv", "state_cost"):
        assert f" {name} (MNOK) " in printed.out
    assert f" {format_value(staff / 1e6)} " in printed.out
    assert " admissions (MNOK)" not in printed.out
    other = _printed(lambda: print_comparison(table, price_year=2030))
    assert "at 2030 prices" in " ".join(other.out.split())
    counts = _printed(lambda: print_comparison(table[table["outcome"] == "admissions"]))
    assert "MNOK" not in counts.out


def test_the_run_summary_fits_80_columns(tmp_path, columns):
    columns(80)
    out = tmp_path / "run"
    result = invoke("run", "--years", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    table = result.output.split("sfbsim: per year and region", 1)[1].split("note:")[0]
    assert widest(table) <= 80
    assert "admit" in table and "wait" in table
    assert "left out at 80 columns" in result.output and "COLUMNS=" in result.output
    assert "year_region.csv has every column" in result.output
    columns(200)
    result = invoke("run", "--years", "1", "--out", str(out), "--overwrite", width=200)
    assert result.exit_code == 0, result.output
    assert "left out" not in result.output and "bed-days" in result.output


def test_results_and_report_on_a_run_folder_say_what_to_do_instead(tmp_path, columns):
    columns(200)
    out = tmp_path / "run"
    assert invoke("run", "--years", "1", "--out", str(out), "--quiet").exit_code == 0
    for command in ("results", "report"):
        result = invoke(command, str(out))
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert "is the output of `sfbsim run` (scenario baseline, 2025)" in text
        assert "year_region.csv" in text and "docs/outputs.md" in text
        assert f"`sfbsim {command} results/weekends`" in text
        assert "sfbsim compare baseline weekends_open" in text
        assert "Traceback" not in result.output
    parent = invoke("results", str(tmp_path))
    assert parent.exit_code == 2 and "only results of `sfbsim run`" in parent.output
    missing = invoke("report", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_results_lists_an_experiment_at_80_columns(comparison, columns):
    columns(80)
    result = invoke("results", str(comparison.parent))
    assert result.exit_code == 0, result.output
    assert widest(result.output) <= 80
    from sfbsim.experiments.store import Store

    with Store(comparison, read_only=True) as store:
        (experiment_id,) = store.experiments()["experiment_id"]
    assert f" {experiment_id} " in result.output  # whole, never folded: it is copied
    assert "--export EXPERIMENT_ID" in result.output
    report = invoke("report", str(comparison.parent))
    assert report.exit_code == 2 and f"sfbsim report {comparison}" in report.output


class _Printed:
    def __init__(self, out: str, err: str) -> None:
        self.out, self.err = out, err


def _printed(action) -> _Printed:
    """What ``action`` prints on the CLI's two consoles."""
    real_out, real_err = console.real(), errors.real()
    with real_out.capture() as out, real_err.capture() as err:
        action()
    return _Printed(out.get(), err.get())


def test_the_app_table_keeps_significant_digits_of_a_return_per_krone():
    from sfbsim.viz.compare import Comparison, table_html

    row = {
        "outcome": "return_per_krone_society",
        "baseline_mean": 0.319,
        "reform_mean": 0.3198,
        "diff_mean": 0.000815,
        "diff_ci_low": -0.00531,
        "diff_ci_high": 0.00694,
        "effect_p05": float("nan"),
        "effect_p95": float("nan"),
        "reps": 2,
    }
    comparison = Comparison(
        baseline="baseline",
        reform="weekends_open",
        seeds=(1, 2),
        years=1,
        results=pd.DataFrame(),
        table=pd.DataFrame([row]),
        bands=pd.DataFrame(),
        uncertainty="fixed",
    )
    html = table_html(comparison)
    for shown in ("0.319", "0.320", "0.000815", "-0.00531", "0.00694"):
        assert f">{shown}<" in html, shown
    assert ">0.0<" not in html


def documented_columns() -> set[str]:
    """Every name docs/outputs.md gives in backticks, with ``a_{x,y}_b`` spelled out."""
    import itertools
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "outputs.md").read_text("utf-8")
    names: set[str] = set()
    for ticked in re.findall(r"`([^`]+)`", text):
        parts = re.split(r"\{([^}]*)\}", ticked)
        choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
        names.update("".join(combo) for combo in itertools.product(*choices))
    return names


def test_every_column_of_a_run_is_documented_in_outputs_md(tmp_path):
    """docs/outputs.md promises every column and its definition: each column of each table
    `sfbsim run --trace` writes is named there (the trail's utility terms as `term_*`)."""
    out = tmp_path / "run"
    args = ["run", "--scenario", "baseline", "--years", "1", "--trace", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    documented = documented_columns()
    missing = {}
    for path in sorted(out.glob("*.parquet")):
        columns = pd.read_parquet(path).columns
        gaps = [c for c in columns if c not in documented and not c.startswith("term_")]
        if gaps:
            missing[path.stem] = gaps
        assert path.stem in documented, f"table {path.stem} is not in docs/outputs.md"
    assert not missing, f"columns not in docs/outputs.md: {missing}"
