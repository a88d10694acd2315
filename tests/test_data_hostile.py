"""Hostile data folders: every corruption is one DataValidationError naming file, row and column.

Each test copies the bundled tables (model/data) to a temporary folder, corrupts one file and
checks that ``load_data`` raises ``DataValidationError`` (never another exception) whose message
names the file, and the row and column where they are known. The CLI turns the error into a
plain message and exit code 2, without a traceback and without creating --out.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfbsim.model import data_loading
from sfbsim.model.data_loading import (
    DEFAULT_DATA_DIR,
    FILES,
    SCHEMAS,
    DataValidationError,
    load_data,
)

REPO = Path(__file__).resolve().parents[1]
CSVS = sorted(p.name for p in DEFAULT_DATA_DIR.glob("*.csv") if p.name in SCHEMAS)
REQUIRED = [f for f in FILES.values() if f != "travel_times.csv"]


# --- helpers -------------------------------------------------------------------------------
def _copy(dest: Path) -> Path:
    d = dest / "data"
    d.mkdir(parents=True)
    for name in CSVS:
        shutil.copy(DEFAULT_DATA_DIR / name, d / name)
    return d


def _records(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _write_records(path: Path, recs: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(recs)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _set_cell(d: Path, fname: str, row: int, column: str, value: str) -> None:
    """Set spreadsheet row ``row`` (2 = first data row) of ``column`` to ``value``."""
    recs = _records(d / fname)
    recs[row - 1][recs[0].index(column)] = value
    _write_records(d / fname, recs)


def _rejects(d: Path, fname: str, *fragments: str) -> list[str]:
    """load_data(d) raises DataValidationError with a message on ``fname`` holding every
    fragment (all in one message); returns the messages on ``fname``."""
    with pytest.raises(DataValidationError) as exc:
        load_data(d)
    msgs = [m for m in exc.value.errors if m.startswith(f"{fname}: ")]
    assert msgs, exc.value.errors
    assert any(all(f in m for f in fragments) for m in msgs), (fragments, msgs)
    assert "Traceback" not in str(exc.value)
    return msgs


# --- numbers: finite, bounded, whole where integer -----------------------------------------
HOSTILE_NUMBERS = [
    # (file, row, column, value, words in the message)
    ("centres.csv", 4, "residential_units", "inf", "is not a finite number"),
    ("centres.csv", 4, "residential_units", "-inf", "is not a finite number"),
    ("centres.csv", 4, "residential_units", "nan", "is not a finite number"),
    ("centres.csv", 4, "residential_units", "NaN", "is not a finite number"),
    ("centres.csv", 4, "residential_units", "Infinity", "is not a finite number"),
    ("centres.csv", 4, "residential_units", "1e30", "is above 200"),
    ("centres.csv", 4, "residential_units", "1e999", "is above 200"),
    ("centres.csv", 4, "residential_units", "1000000000000", "is above 200"),
    ("centres.csv", 4, "residential_units", "5.5", "is not a whole number"),
    ("centres.csv", 4, "residential_units", "-3", "is negative"),
    ("centres.csv", 4, "residential_units", "", "is empty"),
    ("centres.csv", 4, "residential_units", "five", "is not a number"),
    ("centres.csv", 4, "residential_units", "1_000", "is not a number"),
    ("centres.csv", 4, "residential_units", "0x10", "is not a number"),
    ("centres.csv", 4, "residential_units", "٣", "is not a number"),  # Arabic-Indic three
    ("centres.csv", 2, "home_based_capacity", "1e12", "is above 200"),
    ("centres.csv", 2, "home_based_capacity", "2.25", "is not a whole number"),
    ("centres.csv", 3, "summer_closure_weeks", "13", "is above 12"),
    ("centres.csv", 3, "opened_year", "1e30", "is above 2100"),
    ("centres.csv", 3, "opened_year", "1899", "is below 1900"),
    ("centres.csv", 3, "closed_year", "inf", "is not a finite number"),
    ("centres.csv", 3, "lat", "nan", "is not a finite number"),
    ("centres.csv", 3, "lon", "-inf", "is not a finite number"),
    ("centres.csv", 3, "nationwide_intake", "2", "is above 1"),
    ("municipality_population.csv", 6, "population", "100000000000000", "is above 2,000,000"),
    ("municipality_population.csv", 6, "population", "-1", "is negative"),
    ("municipality_population.csv", 6, "age_3", "1e30", "is above 100,000"),
    ("municipality_population.csv", 6, "age_3", "5.5", "is not a whole number"),
    ("municipality_population.csv", 6, "age_3", "inf", "is not a finite number"),
    ("municipality_population.csv", 6, "year", "2010.5", "is not a whole number"),
    ("municipalities.csv", 5, "population_2024", "1e14", "is above 2,000,000"),
    ("municipalities.csv", 5, "area_km2", "0", "is not above 0"),
    ("municipalities.csv", 5, "area_km2", "1e6", "is above 100,000"),
    ("municipalities.csv", 5, "area_km2", "-inf", "is not a finite number"),
    ("municipalities.csv", 5, "lat", "90", "is above 72"),
    ("copay_rates.csv", 5, "nok_per_month", "inf", "is not a finite number"),
    ("copay_rates.csv", 5, "nok_per_month", "nan", "is not a finite number"),
    ("copay_rates.csv", 5, "nok_per_month", "1e30", "is above 1,000,000"),
    ("copay_rates.csv", 5, "nok_per_month", "-0.5", "is negative"),
    ("travel_times.csv", 9, "hours", "inf", "is not a finite number"),
    ("travel_times.csv", 9, "hours", "49", "is above 48"),
    ("travel_times.csv", 9, "hours", "-1", "is negative"),
    ("travel_times.csv", 9, "distance_km", "1e30", "is above 5000"),
    ("travel_times.csv", 9, "distance_km", "nan", "is not a finite number"),
]


@pytest.mark.parametrize(("fname", "row", "column", "value", "words"), HOSTILE_NUMBERS)
def test_rejects_hostile_number(tmp_path, fname, row, column, value, words):
    d = _copy(tmp_path)
    _set_cell(d, fname, row, column, value)
    allowed = SCHEMAS[fname][column].allowed()
    _rejects(d, fname, f"{fname}: row {row}, column {column}: {value!r} {words}", allowed)


NUMERIC = [(f, c) for f, cols in SCHEMAS.items() for c, spec in cols.items() if spec.numeric]


@pytest.mark.parametrize(("fname", "column"), NUMERIC)
def test_every_numeric_column_is_finite_and_bounded(tmp_path, fname, column):
    spec = SCHEMAS[fname][column]
    assert spec.lo is not None and spec.hi is not None
    assert np.isfinite([spec.lo, spec.hi]).all() and spec.lo < spec.hi
    d = _copy(tmp_path)
    recs = _records(d / fname)
    j = recs[0].index(column)
    recs[2][j], recs[3][j], recs[4][j] = "inf", "nan", repr(spec.hi * 10 + 1)
    _write_records(d / fname, recs)
    msgs = _rejects(d, fname, f"row 3, column {column}: 'inf'")
    assert any(m.startswith(f"{fname}: row 4, column {column}: 'nan'") for m in msgs), msgs
    assert any(m.startswith(f"{fname}: row 5, column {column}: ") for m in msgs), msgs


def test_readme_lists_every_range():
    """model/data/README.md, "Ranges": one table row per numeric column, with its range."""
    text = (DEFAULT_DATA_DIR / "README.md").read_text(encoding="utf-8")
    section = text.split("### Ranges", 1)[1].split("\n## ", 1)[0]
    listed = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            for column in re.findall(r"`([^`]+)`", cells[1]):
                listed[(cells[0].strip("`"), column)] = cells[2]
    expected = {(f, c): SCHEMAS[f][c].allowed() for f, c in NUMERIC}
    assert listed == expected


def test_whole_numbers_written_with_a_decimal_point_are_accepted(tmp_path):
    """5.0 is a whole number: pandas and spreadsheets write integer columns with empty cells so."""
    d = _copy(tmp_path)
    _set_cell(d, "centres.csv", 2, "residential_units", "5.0")
    _set_cell(d, "centres.csv", 2, "closed_year", "2030.0")
    data = load_data(d)
    assert data.centres.loc[0, "residential_units"] == 5
    assert data.centres.loc[0, "closed_year"] == 2030
    assert data.centres["residential_units"].dtype == np.int64


def test_pandas_round_trip_of_a_table_loads(tmp_path):
    """A table read and written back by pandas (closed_year becomes 2023.0) still loads."""
    d = _copy(tmp_path)
    pd.read_csv(d / "centres.csv", dtype={"kommunenummer": str}).to_csv(
        d / "centres.csv", index=False
    )
    assert load_data(d).centres["closed_year"].dropna().tolist() == [2017, 2023, 2023]


def test_children_above_population_is_rejected(tmp_path):
    d = _copy(tmp_path)
    _set_cell(d, "municipalities.csv", 3, "children_0_5_2024", "500000")
    _rejects(d, "municipalities.csv", "row 3, column children_0_5_2024", "population_2024")


# --- the file as a whole -------------------------------------------------------------------
@pytest.mark.parametrize("fname", CSVS)
def test_zero_byte_file(tmp_path, fname):
    d = _copy(tmp_path)
    (d / fname).write_bytes(b"")
    _rejects(d, fname, "empty (0 bytes)")


@pytest.mark.parametrize("fname", CSVS)
def test_header_only_file(tmp_path, fname):
    d = _copy(tmp_path)
    header = (d / fname).read_text(encoding="utf-8").splitlines()[0]
    (d / fname).write_text(header + "\n", encoding="utf-8")
    _rejects(d, fname, "row 2", "header but no data rows")


def test_whitespace_only_file(tmp_path):
    d = _copy(tmp_path)
    (d / "centres.csv").write_text("\n \n\n", encoding="utf-8")
    _rejects(d, "centres.csv", "no header row")


def test_latin1_file_names_row_column_and_byte(tmp_path):
    d = _copy(tmp_path)
    text = (d / "municipalities.csv").read_text(encoding="utf-8")
    (d / "municipalities.csv").write_bytes(text.encode("latin-1", errors="replace"))
    i = next(i for i, ch in enumerate(text) if ord(ch) > 127)  # 'Hå' in row 10, column name
    assert text[:i].count("\n") + 1 == 10
    offset = len(text[:i].encode("latin-1"))
    _rejects(
        d,
        "municipalities.csv",
        "municipalities.csv: row 10, column name: byte 0xe5",
        f"byte offset {offset}",
        "Latin-1",
        "save it as UTF-8",
    )


def test_latin1_o_slash_in_region(tmp_path):
    d = _copy(tmp_path)
    recs = _records(d / "centres.csv")
    row = next(i for i, r in enumerate(recs) if r[3] == "sør") + 1
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(recs)
    (d / "centres.csv").write_bytes(buf.getvalue().encode("cp1252", errors="replace"))
    msgs = _rejects(d, "centres.csv", "byte 0x", "Latin-1")
    # the first non-ASCII character is reported; it is in the region column or before
    first = int(re.search(r"row (\d+)", msgs[0]).group(1))
    assert 2 <= first <= row


def test_utf8_byte_order_mark_and_crlf_are_accepted(tmp_path):
    d = _copy(tmp_path)
    text = (d / "centres.csv").read_text(encoding="utf-8")
    (d / "centres.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert len(load_data(d).centres) == 21


def test_utf16_file(tmp_path):
    d = _copy(tmp_path)
    text = (d / "copay_rates.csv").read_text(encoding="utf-8")
    (d / "copay_rates.csv").write_text(text, encoding="utf-16")
    _rejects(d, "copay_rates.csv", "UTF-16", "save it as UTF-8")


def test_binary_garbage(tmp_path):
    d = _copy(tmp_path)
    rng = np.random.default_rng(13)
    (d / "centres.csv").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _rejects(d, "centres.csv", "centres.csv: row ")


def test_nul_byte_names_row_column_and_offset(tmp_path):
    d = _copy(tmp_path)
    data = (d / "centres.csv").read_bytes()
    lines = data.split(b"\n")
    lines[3] = lines[3].replace(b",bufetat,", b",bufe\x00tat,", 1)  # row 4, column operator
    (d / "centres.csv").write_bytes(b"\n".join(lines))
    offset = b"\n".join(lines).index(b"\x00")
    _rejects(
        d, "centres.csv", "centres.csv: row 4, column operator: NUL byte", f"byte offset {offset}"
    )


def test_ragged_row_with_an_extra_field(tmp_path):
    d = _copy(tmp_path)
    lines = (d / "municipalities.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[4] = lines[4].rstrip("\n") + ",extra\n"  # row 5
    (d / "municipalities.csv").write_text("".join(lines), encoding="utf-8")
    _rejects(d, "municipalities.csv", "row 5, column 14 (after island_or_fjord)", "14 values")


def test_ragged_row_with_a_missing_field(tmp_path):
    d = _copy(tmp_path)
    lines = (d / "municipalities.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[6] = lines[6].rsplit(",", 1)[0] + "\n"  # row 7 loses island_or_fjord
    (d / "municipalities.csv").write_text("".join(lines), encoding="utf-8")
    _rejects(d, "municipalities.csv", "row 7, column island_or_fjord", "12 values")


def test_ragged_rows_are_capped(tmp_path):
    d = _copy(tmp_path)
    lines = (d / "travel_times.csv").read_text(encoding="utf-8").splitlines()
    (d / "travel_times.csv").write_text(
        "\n".join(x + ",1" for x in lines[:1]) + "\n" + "\n".join(lines[1:]) + "\n",
        encoding="utf-8",
    )
    msgs = _rejects(d, "travel_times.csv", "more rows have a number of values")
    assert len(msgs) == 21


def test_empty_lines_keep_their_row_numbers(tmp_path):
    d = _copy(tmp_path)
    lines = (d / "centres.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(",bufetat,", ",private,", 1)  # row 4 ...
    lines.insert(2, "\n")  # ... becomes row 5 after an empty row 3
    (d / "centres.csv").write_text("".join(lines) + "\n\n", encoding="utf-8")
    _rejects(d, "centres.csv", "centres.csv: row 5, column operator: 'private'")


def test_empty_line_above_the_header(tmp_path):
    d = _copy(tmp_path)
    text = (d / "centres.csv").read_text(encoding="utf-8")
    (d / "centres.csv").write_text("\n" + text, encoding="utf-8")
    _rejects(d, "centres.csv", "row 1", "header is not on the first line")


def test_unclosed_quote(tmp_path):
    d = _copy(tmp_path)
    text = (d / "centres.csv").read_text(encoding="utf-8")
    (d / "centres.csv").write_text(text.replace(",Viktoria", ',"Viktoria', 1), encoding="utf-8")
    _rejects(d, "centres.csv", "centres.csv: row 3 (line", "double quotes")


def test_duplicate_header_column(tmp_path):
    d = _copy(tmp_path)
    text = (d / "municipalities.csv").read_text(encoding="utf-8")
    (d / "municipalities.csv").write_text(text.replace("lat,lon", "lat,lat", 1), encoding="utf-8")
    _rejects(d, "municipalities.csv", "row 1, column lat: appears 2 times", "columns 9, 10")


def test_duplicate_extra_column(tmp_path):
    d = _copy(tmp_path)
    recs = _records(d / "copay_rates.csv")
    _write_records(
        d / "copay_rates.csv",
        [r + ["x", "x"] for r in recs[:1]] + [r + ["1", "2"] for r in recs[1:]],
    )
    _rejects(d, "copay_rates.csv", "row 1, column x: appears 2 times")


def test_unknown_extra_column_is_kept_and_not_checked(tmp_path):
    d = _copy(tmp_path)
    recs = _records(d / "centres.csv")
    _write_records(d / "centres.csv", [recs[0] + ["note"]] + [r + ["inf"] for r in recs[1:]])
    data = load_data(d)
    assert (data.centres["note"] == "inf").all()


def test_column_name_with_other_case(tmp_path):
    d = _copy(tmp_path)
    text = (d / "centres.csv").read_text(encoding="utf-8")
    (d / "centres.csv").write_text(text.replace("operator", "Operator", 1), encoding="utf-8")
    _rejects(d, "centres.csv", "row 1, column operator: missing column", "'Operator'")


def test_too_many_centres(tmp_path):
    d = _copy(tmp_path)
    recs = _records(d / "centres.csv")
    extra = [[f"c{i}"] + recs[1][1:] for i in range(1001)]
    _write_records(d / "centres.csv", recs + extra)
    _rejects(d, "centres.csv", "1022 data rows; at most 1000 allowed")


def test_oversized_file(tmp_path, monkeypatch):
    monkeypatch.setattr(data_loading, "MAX_FILE_BYTES", 1000)
    d = _copy(tmp_path)
    _rejects(d, "municipalities.csv", "at most 0 MB allowed")


def test_long_value_is_cut_in_the_message(tmp_path):
    d = _copy(tmp_path)
    _set_cell(d, "centres.csv", 2, "operator", "x" * 10_000)
    msgs = _rejects(d, "centres.csv", "row 2, column operator: 'xxx", "...'")
    assert max(len(m) for m in msgs) < 300


def test_control_characters_are_escaped(tmp_path):
    d = _copy(tmp_path)
    _set_cell(d, "centres.csv", 2, "operator", "\x1b[31m[/]red")
    msgs = _rejects(d, "centres.csv", r"'\x1b[31m[/]red' is not allowed")
    assert not any("\x1b" in m for m in msgs)


# --- years: no gaps ------------------------------------------------------------------------
def _drop_rows(d: Path, fname: str, keep: Callable[[list[str]], bool]) -> None:
    recs = _records(d / fname)
    _write_records(d / fname, recs[:1] + [r for r in recs[1:] if keep(r)])


def test_population_year_gap_for_every_municipality(tmp_path):
    d = _copy(tmp_path)
    _drop_rows(d, "municipality_population.csv", lambda r: r[1] != "2010")
    _rejects(
        d,
        "municipality_population.csv",
        "column year: no rows for 2010 inside 2005-2026",
        "contiguous",
    )


def test_population_year_missing_for_one_municipality(tmp_path):
    d = _copy(tmp_path)
    _drop_rows(d, "municipality_population.csv", lambda r: r[:2] != ["0301", "2015"])
    _rejects(d, "municipality_population.csv", "kommunenummer 0301, column year: no rows for 2015")


def test_population_first_year_dropped_is_fine_years_clamp(tmp_path):
    """Dropping a year at an end is no gap: the table starts later, earlier years clamp to it."""
    d = _copy(tmp_path)
    _drop_rows(d, "municipality_population.csv", lambda r: r[1] != "2005")
    data = load_data(d)
    np.testing.assert_array_equal(data.children_by_age(2000), data.children_by_age(2006))


def test_copay_year_gap_before_the_simulated_years(tmp_path):
    d = _copy(tmp_path)
    recs = _records(d / "copay_rates.csv")
    old = [r for r in recs[1:] if r[0] == "2013"]
    extra = [["2010", *r[1:]] for r in old]  # 2010 and 2013 but not 2011-2012
    _write_records(d / "copay_rates.csv", recs + extra)
    _rejects(d, "copay_rates.csv", "measure centre_residential, column year: no rows for 2011-2012")


def test_bundled_data_never_fills_a_gap(data):
    pop = data.population
    with pytest.raises(ValueError, match="contiguous"):
        dataclasses.replace(data, population=pop[pop.year != 2010])
    rates = data.copay_rates
    gap = rates[~((rates.year == 2019) & (rates.measure == "institution"))]
    holed = dataclasses.replace(data, copay_rates=gap)
    with pytest.raises(KeyError, match="2019"):
        holed.copay(2019, "institution")
    # ASSUMPTION (documented): years outside the table clamp to its first / last year
    assert holed.copay(2040, "institution") == data.copay(2026, "institution")
    assert holed.copay(2000, "institution") == data.copay(2013, "institution")
    np.testing.assert_array_equal(data.children_by_age(1990), data.children_by_age(2005))


# --- folder and files ----------------------------------------------------------------------
@pytest.mark.parametrize("fname", REQUIRED)
def test_missing_file(tmp_path, fname):
    d = _copy(tmp_path)
    (d / fname).unlink()
    _rejects(d, fname, "file missing", "it should hold")


def test_file_name_with_other_case(tmp_path):
    d = _copy(tmp_path)
    (d / "centres.csv").rename(d / "Centres.csv")
    _rejects(d, "centres.csv", "file missing", "'Centres.csv'", "case-sensitive")


def test_file_that_is_a_folder(tmp_path):
    d = _copy(tmp_path)
    (d / "centres.csv").unlink()
    (d / "centres.csv").mkdir()
    _rejects(d, "centres.csv", "is a folder")


def test_unreadable_file(tmp_path, monkeypatch):
    d = _copy(tmp_path)
    real = Path.read_bytes

    def deny(self):
        if self.name == "centres.csv":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    _rejects(d, "centres.csv", "cannot read", "Permission denied")


def test_data_path_is_a_file(tmp_path):
    d = _copy(tmp_path)
    with pytest.raises(DataValidationError, match="is a file, not a folder"):
        load_data(d / "centres.csv")


def test_data_folder_missing(tmp_path):
    with pytest.raises(DataValidationError, match="data folder not found"):
        load_data(tmp_path / "nowhere")
    with pytest.raises(DataValidationError, match="data folder not found"):
        load_data("bad\x00name")


def test_unreadable_folder(tmp_path, monkeypatch):
    d = _copy(tmp_path)

    def deny(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "listdir", deny)
    with pytest.raises(DataValidationError, match=r"cannot read the data folder .*Permission"):
        load_data(d)


def test_empty_folder_lists_every_missing_file(tmp_path):
    with pytest.raises(DataValidationError) as exc:
        load_data(tmp_path)
    assert [m.split(":")[0] for m in exc.value.errors] == REQUIRED


# --- random garbage (hypothesis) ------------------------------------------------------------
@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """One copy of the bundled tables; each example corrupts a fresh copy of it."""
    return _copy(tmp_path_factory.mktemp("hostile"))


def _fresh(base: Path) -> Path:
    d = Path(tempfile.mkdtemp(prefix="case-", dir=base.parent))
    for name in CSVS:
        shutil.copy(base / name, d / name)
    return d


def _load_or_reject(d: Path, fname: str, only: bool = True) -> DataValidationError | None:
    """load_data either succeeds or raises DataValidationError, each message naming a file;
    with ``only``, every message is about ``fname``."""
    names = tuple(f"{f}: " for f in CSVS)
    try:
        load_data(d)
    except DataValidationError as exc:
        assert exc.errors and all(m.startswith(names) for m in exc.errors), exc.errors
        if only:
            assert all(m.startswith(f"{fname}: ") for m in exc.errors), exc.errors
        return exc
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return None


FUZZ = settings(
    max_examples=int(os.environ.get("SFBSIM_FUZZ_EXAMPLES", "50")),  # more: a longer hunt
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes_as_a_file(base, garbage):
    d = _fresh(base)
    (d / "centres.csv").write_bytes(garbage)
    assert _load_or_reject(d, "centres.csv") is not None


@FUZZ
@given(st.binary(min_size=1, max_size=200), st.integers(0, 4000))
def test_random_bytes_inside_a_file(base, garbage, at):
    d = _fresh(base)
    data = (d / "centres.csv").read_bytes()
    (d / "centres.csv").write_bytes(data[:at] + garbage + data[at:])
    # garbage may make a valid but different value (an id 'forde0'): other files then disagree
    _load_or_reject(d, "centres.csv", only=False)


@FUZZ
@given(st.text(max_size=300), st.integers(2, 22))
def test_random_text_as_a_row(base, text, row):
    d = _fresh(base)
    lines = (d / "centres.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[row - 1] = text + "\n"
    (d / "centres.csv").write_text("".join(lines), encoding="utf-8")
    # an empty or blank row is skipped: the centre is gone, and travel_times.csv says so
    _load_or_reject(d, "centres.csv", only=bool(text.strip()))


NUMERIC_STRINGS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**40), 10**40).map(str),
    st.integers(-5, 300).map(str),
    st.text(alphabet="0123456789.eE+-_ infaINFAx", max_size=12),
)
_PLAIN = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _valid(spec, s: str) -> bool:
    s = s.strip()
    if not s:
        return spec.nullable
    if not _PLAIN.fullmatch(s):
        return False
    v = float(s)
    if not np.isfinite(v) or (spec.kind == "int" and v != int(v)):
        return False
    above = v > spec.lo if spec.lo_open else v >= spec.lo
    return above and v <= spec.hi


@FUZZ
@given(
    st.sampled_from(
        [("centres.csv", c) for c in SCHEMAS["centres.csv"] if SCHEMAS["centres.csv"][c].numeric]
        + [("copay_rates.csv", "nok_per_month"), ("copay_rates.csv", "imputed")]
    ),
    NUMERIC_STRINGS,
    st.integers(2, 15),
)
def test_random_numeric_strings(base, where, value, row):
    fname, column = where
    d = _fresh(base)
    _set_cell(d, fname, row, column, value)
    exc = _load_or_reject(d, fname)
    if not _valid(SCHEMAS[fname][column], value):
        assert exc is not None, value
        assert any(m.startswith(f"{fname}: row {row}, column {column}: ") for m in exc.errors)
    elif exc is not None:  # valid alone, but may clash with another column of the row
        assert all(f"row {row}, column " in m for m in exc.errors), exc.errors


# --- the CLI ---------------------------------------------------------------------------------
def _corrupt_inf(d: Path) -> Path:
    _set_cell(d, "copay_rates.csv", 3, "nok_per_month", "inf")
    return d


def _corrupt_units(d: Path) -> Path:
    _set_cell(d, "centres.csv", 3, "residential_units", "1000000000000")
    return d


def _corrupt_latin1(d: Path) -> Path:
    text = (d / "centres.csv").read_text(encoding="utf-8")
    (d / "centres.csv").write_bytes(text.encode("latin-1", errors="replace"))
    return d


def _corrupt_empty(d: Path) -> Path:
    (d / "municipality_population.csv").write_bytes(b"")
    return d


CLI_CASES = {
    "inf co-payment": (_corrupt_inf, "copay_rates.csv: row 3, column nok_per_month"),
    "10^12 units": (_corrupt_units, "centres.csv: row 3, column residential_units"),
    "latin-1": (_corrupt_latin1, "centres.csv: row "),
    "zero bytes": (_corrupt_empty, "municipality_population.csv: row 1"),
    "is a file": (lambda d: d / "centres.csv", "is a file, not a folder"),
    "missing": (lambda d: d / "nowhere", "data folder not found"),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_rejects_bad_data_cleanly(tmp_path, case):
    corrupt, words = CLI_CASES[case]
    bad = corrupt(_copy(tmp_path))
    out = tmp_path / "out"
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "sfbsim", "run", "--data", str(bad), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert words in " ".join(proc.stderr.split()), proc.stderr
    assert not out.exists()
