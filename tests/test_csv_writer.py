"""The Arrow CSV writer (experiments/csv_writer.py) writes the bytes pandas wrote."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from sfbsim.experiments.csv_writer import csv_text, float_text
from sfbsim.experiments.runner import csv_ready, simulate, write_csv
from sfbsim.experiments.scenario_files import load_scenario
from sfbsim.model.data_loading import load_data


def by_pandas(table: pd.DataFrame) -> str:
    buffer = io.StringIO()
    csv_ready(table).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def test_floats_are_written_as_repr_writes_them_at_every_magnitude():
    rng = np.random.default_rng(15)
    n = 200_000
    values = np.concatenate(
        [
            rng.standard_normal(n) * 10.0 ** rng.integers(-320, 308, n),
            rng.standard_normal(n) * 10.0 ** rng.integers(-6, 18, n),
            rng.integers(-(10**17), 10**17, 20_000).astype(float),
            np.round(rng.standard_normal(20_000) * 1e6, 2),
            [0.0, -0.0, np.nan, np.inf, -np.inf, 1e15, 1e16, 1e-4, 9.999e-5, 5e-324, 1e308],
            [999999999999999.9, 1e15 - 1, 1e16 - 2, 123456789012345.67, 0.1 + 0.2],
        ]
    )
    expected = ["" if v != v else repr(v) for v in values.tolist()]
    assert float_text(values).to_pylist() == expected


def test_text_integers_booleans_and_missing_values_as_pandas_writes_them():
    table = pd.DataFrame(
        {
            "plain": pd.array(["Bø", "", None, "a b", " lead"], dtype="str"),
            "needs, quotes": pd.array(["x,y", 'say "hi"', "two\nlines", "cr\r", ","], dtype="str"),
            "count": np.array([1, -2, 0, 10**12, 7], dtype=np.int64),
            "flag": np.array([True, False, True, False, True]),
            "maybe": pd.array([1, None, 3, None, -5], dtype="Int64"),
            "judged": pd.Series([True, None, False, None, True], dtype=object),
            "share": [0.5, np.nan, 1.0, 1e-7, 2.5e20],
        }
    )
    assert csv_text(table) == by_pandas(table)
    assert csv_text(table.iloc[:0]) == by_pandas(table.iloc[:0])


def test_a_column_of_another_type_is_left_to_pandas(tmp_path):
    table = pd.DataFrame({"when": pd.to_datetime(["2025-01-01", "2025-06-30"]), "n": [1, 2]})
    assert csv_text(table) is None
    write_csv(table, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == by_pandas(table)


@pytest.fixture(scope="module")
def run_tables() -> dict[str, pd.DataFrame]:
    data = load_data()
    scenario = load_scenario("baseline", data).with_run(years=2, seed=3)
    return simulate(scenario, data)[1]


def test_every_table_of_a_run_is_written_with_the_bytes_pandas_wrote(run_tables, tmp_path):
    from sfbsim.model.ledger import ledger_tables

    data = load_data()
    scenario = load_scenario("baseline", data).with_run(years=2, seed=3)
    tables = run_tables | ledger_tables(run_tables, scenario, data, scenario.costs)
    for name, table in tables.items():
        text = csv_text(table)
        assert text is not None, f"{name}: a column type the Arrow writer does not format"
        assert text == by_pandas(table), name
        write_csv(table, tmp_path / f"{name}.csv")
        assert (tmp_path / f"{name}.csv").read_bytes() == by_pandas(table).encode("utf-8")


def test_a_single_column_or_a_nullable_float_column_is_left_to_pandas(tmp_path):
    lone = pd.DataFrame({"name": pd.array(["a", "", None], dtype="str")})
    assert csv_text(lone) is None
    write_csv(lone, tmp_path / "lone.csv")
    assert (tmp_path / "lone.csv").read_text(encoding="utf-8") == by_pandas(lone)
    nullable = pd.DataFrame({"x": pd.array([0.5, 1.0], dtype="Float64"), "n": [1, 2]})
    assert csv_text(nullable) is None
