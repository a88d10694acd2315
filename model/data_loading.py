"""Load and validate the model's data tables (bundled defaults or a user's directory).

``load_data()`` reads the tables in ``model/data`` (or any directory holding tables of the same
shape), checks encoding, CSV structure, schema, types, ranges and referential integrity, and
raises one ``DataValidationError`` listing every problem as ``file: row N, column C: message``
(rows are numbered as in a spreadsheet: the header is row 1, the first data row is row 2, an
empty line counts as a row). If ``travel_times.csv`` is absent it is computed from the
coordinates (``model.travel``).

Hostile input never escapes as another exception: a missing, empty, header-only, binary,
non-UTF-8, NUL-holding, ragged or oversized file, a duplicate header column, ``inf``/``nan`` or
an absurd magnitude in any numeric column all become one line of the ``DataValidationError``.
Every numeric column has a finite allowed range (``SCHEMAS``; listed in model/data/README.md,
"Ranges"). Messages are plain text: user values are shown with ``repr`` (quoted, control
characters escaped).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sfbsim.model.travel import TRAVEL_COLUMNS, travel_matrix

DEFAULT_DATA_DIR: Path = Path(__file__).resolve().parent / "data"

REGIONS = ("nord", "midt", "vest", "sør", "øst", "oslo")
SIZE_CLASSES = ("small", "medium", "large")
OPERATORS = ("bufetat", "ideell", "oslo_municipal")
WEEKEND_POLICIES = (
    "open_every_weekend",
    "every_other_weekend_closed",
    "all_weekends_closed",
    "weekdays_only",
)
MEASURES = ("centre_residential", "centre_home_based", "institution", "specialised_foster_home")
TRAVEL_MODES = ("road", "road_ferry", "flight")
NEIGHBOUR_KINDS = ("border", "nearest")
RATE_YEARS = range(2013, 2027)  # years the model can simulate; every measure needs a rate
AGES = [f"age_{a}" for a in range(7)]

FILES = {
    "municipalities": "municipalities.csv",
    "population": "municipality_population.csv",
    "neighbours": "municipality_neighbours.csv",
    "centres": "centres.csv",
    "copay_rates": "copay_rates.csv",
    "travel_times": "travel_times.csv",
}
PURPOSE = {
    "municipalities.csv": "one row per municipality: kommunenummer, name, county, region, ...",
    "municipality_population.csv": "population and children by age per municipality and year",
    "municipality_neighbours.csv": "pairs of neighbouring municipalities",
    "centres.csv": "one row per centre: centre_id, operator, region, kommunenummer, capacity, ...",
    "copay_rates.csv": "co-payment NOK per month by year and measure",
    "travel_times.csv": "hours from every municipality to every centre",
}
MAX_FILE_BYTES = 64 * 2**20
"""Largest table file read (the bundled files are below 1 MB; a full 357 x 1,000 travel table
is about 15 MB)."""
MAX_ROWS = {"municipalities.csv": 2_000, "centres.csv": 1_000}
"""Row caps on the tables whose sizes multiply (the travel matrix is municipalities x centres;
Norway has 357 municipalities and about 20 centres)."""


class DataValidationError(ValueError):
    """Raised when data tables are invalid; ``errors`` holds one message per problem."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# --- column specs ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One column's type and allowed values.

    kind: ``code`` (``width`` ASCII digits, kept as text), ``slug`` (a-z, 0-9, _), ``text``,
    ``enum`` (one of ``values``), ``int`` (a whole number) or ``float``. Numeric kinds have a
    finite range ``lo``..``hi`` (``lo_open``: strictly above ``lo``); ``nullable`` allows an
    empty cell. Text: ``required``: every value non-empty; ``column_optional``: the column may
    be absent from a user's table (it is then added empty).
    """

    kind: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    nullable: bool = False
    width: int = 0
    values: tuple[str, ...] = ()
    required: bool = True
    column_optional: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "float")

    def allowed(self) -> str:
        """The allowed values in words, e.g. ``whole number 0 to 200``."""
        what = "whole number" if self.kind == "int" else "number"
        low = f"above {_num(self.lo)} up to" if self.lo_open else f"{_num(self.lo)} to"
        text = f"{what} {low} {_num(self.hi)}"
        return text + (", or empty" if self.nullable else "")


def _num(v: float | None) -> str:
    """A bound for a message: 200, 2100 (a year), 100,000 (thousands grouped from 10,000)."""
    if v is None:
        return "?"
    if not float(v).is_integer():
        return f"{v:g}"
    return f"{int(v):,}" if abs(v) >= 10_000 else str(int(v))


def _code(width: int) -> Column:
    return Column("code", width=width)


def _int(lo: int, hi: int, nullable: bool = False) -> Column:
    return Column("int", lo=lo, hi=hi, nullable=nullable)


def _float(lo: float, hi: float, lo_open: bool = False) -> Column:
    return Column("float", lo=lo, hi=hi, lo_open=lo_open)


def _enum(values: tuple[str, ...]) -> Column:
    return Column("enum", values=values)


def _text(required: bool = True, column_optional: bool = False) -> Column:
    return Column("text", required=required, column_optional=column_optional)


FLAG = _int(0, 1)
YEAR = _int(1900, 2100)
LAT = _float(57.0, 72.0)  # Norway's mainland: 57.9-71.2 N
LON = _float(3.0, 32.0)  # Norway's mainland: 4.5-31.1 E
MUNICIPALITY_POPULATION = _int(0, 2_000_000)  # Oslo, the largest: 0.72 million (2024)
CHILDREN_PER_AGE = _int(0, 100_000)  # Oslo, the largest: about 8,000 per year of age
CHILDREN_0_5 = _int(0, 600_000)  # six ages
CENTRE_CAPACITY = _int(0, 200)  # families at a time; as parameters.Units (largest bundled: 8)

SCHEMAS: dict[str, dict[str, Column]] = {
    "municipalities.csv": {
        "kommunenummer": _code(4),
        "name": _text(),
        "county_number": _code(2),
        "county": _text(),
        "region": _enum(REGIONS),
        "size_class": _enum(SIZE_CLASSES),
        "population_2024": MUNICIPALITY_POPULATION,
        "children_0_5_2024": CHILDREN_0_5,
        "lat": LAT,
        "lon": LON,
        "point_method": _text(),
        "area_km2": _float(0.0, 100_000.0, lo_open=True),  # the largest, Kautokeino: 9,728
        "island_or_fjord": FLAG,
    },
    "municipality_population.csv": {
        "kommunenummer": _code(4),
        "year": YEAR,
        "population": MUNICIPALITY_POPULATION,
        "children_0_5": CHILDREN_0_5,
        **{a: CHILDREN_PER_AGE for a in AGES},
        "repaired": FLAG,
    },
    "municipality_neighbours.csv": {
        "kommunenummer_a": _code(4),
        "kommunenummer_b": _code(4),
        "kind": _enum(NEIGHBOUR_KINDS),
    },
    "centres.csv": {
        "centre_id": Column("slug"),
        "name": _text(),
        "operator": _enum(OPERATORS),
        "region": _enum(REGIONS),
        "kommunenummer": _code(4),
        "lat": LAT,
        "lon": LON,
        "residential_units": CENTRE_CAPACITY,
        "home_based_capacity": CENTRE_CAPACITY,
        "weekend_policy": _enum(WEEKEND_POLICIES),
        "summer_closure_weeks": _int(0, 12),  # as the summer_closure_weeks lever
        "opened_year": YEAR,
        "closed_year": _int(1900, 2100, nullable=True),
        # dated source of an opening or closing in the simulated years, or "relocation: ..." for
        # a flagged capacity-neutral move (model/data/README.md, "Capacity history")
        "capacity_change_source": _text(required=False, column_optional=True),
        "nationwide_intake": FLAG,
        "confidence": _text(required=False),
        "assumption": _text(required=False),
        "source": _text(required=False),
    },
    "copay_rates.csv": {
        "year": YEAR,
        "measure": _enum(MEASURES),
        "nok_per_month": _float(0.0, 1_000_000.0),  # the highest bundled rate: 195,896
        "imputed": FLAG,
        "method": _text(required=False),
        "source": _text(required=False),
    },
    "travel_times.csv": {
        "kommunenummer": _code(4),
        "centre_id": Column("slug"),
        "distance_km": _float(0.0, 5_000.0),  # Norway is about 1,750 km long
        "hours": _float(0.0, 48.0),
        "mode": _enum(TRAVEL_MODES),
    },
}
KEYS = {
    "municipalities.csv": ["kommunenummer"],
    "municipality_population.csv": ["kommunenummer", "year"],
    "municipality_neighbours.csv": ["kommunenummer_a", "kommunenummer_b"],
    "centres.csv": ["centre_id"],
    "copay_rates.csv": ["year", "measure"],
    "travel_times.csv": ["kommunenummer", "centre_id"],
}
_SLUG = re.compile(r"[a-z0-9_]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NONFINITE = {"inf", "infinity", "nan"}
_MAX_PER_CHECK = 20  # report at most this many rows per (file, column, check), then a summary
_UTF8_HINT = "save it as UTF-8 (in a spreadsheet: Save as CSV, character set UTF-8)"


def _show(value: object) -> str:
    """A user value for a message: quoted, control characters escaped, long values cut."""
    s = str(value)
    return repr(s if len(s) <= 60 else s[:57] + "...")


def _name(header_cell: str) -> str:
    """A header cell for a message (printed as is when plain)."""
    if header_cell and header_cell.isprintable() and len(header_cell) <= 60:
        return header_cell
    return "(empty name)" if not header_cell else _show(header_cell)


def _row_errors(
    fname: str, col: str, bad: np.ndarray, values: Sequence, rows: Sequence, msg: str
) -> list[str]:
    """Messages for the rows flagged in ``bad``; ``rows`` holds their spreadsheet numbers."""
    idx = np.flatnonzero(bad)
    out = [
        f"{fname}: row {rows[i]}, column {col}: {_show(values[i])} {msg}"
        for i in idx[:_MAX_PER_CHECK]
    ]
    if len(idx) > _MAX_PER_CHECK:
        out.append(f"{fname}: column {col}: {len(idx) - _MAX_PER_CHECK} more rows {msg}")
    return out


def _years_text(years: Sequence[int]) -> str:
    """``[2005, 2006, 2007, 2010]`` -> ``2005-2007, 2010``."""
    runs: list[list[int]] = []
    for y in sorted(years):
        if runs and y == runs[-1][1] + 1:
            runs[-1][1] = y
        else:
            runs.append([y, y])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


# --- reading: bytes -> text -> records ------------------------------------------------------
@dataclass
class _Raw:
    """A table as read: stripped header, cells by column (as in the file), spreadsheet rows."""

    header: list[str]
    cells: dict[str, tuple[str, ...]]
    rows: np.ndarray


def _locate(data: bytes, offset: int) -> tuple[int, str]:
    """Spreadsheet row and column (header name or number) of the byte at ``offset``."""
    try:
        prefix = data[:offset].decode("utf-8", errors="replace").replace("\x00", "?")
        recs = list(csv.reader(io.StringIO(prefix, newline="")))
    except (csv.Error, ValueError):  # e.g. a field above the csv module's size limit
        return prefix.count("\n") + 1, "?"
    if not recs or prefix.endswith(("\n", "\r")):
        row, fld = len(recs) + 1, 0
    else:
        row, fld = len(recs), max(len(recs[-1]) - 1, 0)
    header = [h.strip() for h in recs[0]] if row > 1 else []
    return row, _name(header[fld]) if fld < len(header) else str(fld + 1)


def _decode(fname: str, data: bytes) -> tuple[str | None, str | None]:
    """The file's text, or an error naming the file, row, column and byte offset."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, f"{fname}: row 1: the file is UTF-16 encoded (byte order mark); {_UTF8_HINT}"
    nul = data.find(b"\x00")
    if nul >= 0:
        row, col = _locate(data, nul)
        return None, (
            f"{fname}: row {row}, column {col}: NUL byte (0x00) at byte offset {nul}; the file "
            f"looks binary or UTF-16 encoded, not a CSV text file; {_UTF8_HINT}"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        row, col = _locate(data, exc.start)
        try:
            data.decode("cp1252")
            ctrl = any(b < 32 and b not in (9, 10, 13) for b in data[:65536])
            looks = "binary, not a CSV text file" if ctrl else "Latin-1/Windows-1252 encoded"
        except UnicodeDecodeError:
            looks = "binary or in an unknown encoding, not a UTF-8 CSV text file"
        return None, (
            f"{fname}: row {row}, column {col}: byte 0x{data[exc.start]:02x} at byte offset "
            f"{exc.start} is not UTF-8 (the file looks {looks}); {_UTF8_HINT}"
        )
    return text.removeprefix("\ufeff"), None


def _records(fname: str, text: str) -> tuple[_Raw | None, list[str]]:
    """Split CSV text into header and columns; errors for quoting and ragged rows."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    recs: list[list[str]] = []
    try:
        recs.extend(reader)
    except csv.Error as exc:
        why = str(exc)
        if "field larger" in why:
            why = "a value is too long (an unclosed double quote?)"
        return None, [
            f"{fname}: row {len(recs) + 1} (line {reader.line_num}): cannot be read as CSV: "
            f"{why}; check the double quotes in this row"
        ]
    # empty lines are skipped but keep their row number (a spreadsheet shows them as rows)
    keep = [i for i, r in enumerate(recs) if len(r) > 1 or (r and r[0].strip())]
    if not keep:
        return None, [
            f"{fname}: row 1: the file is empty (no header row); it should hold {PURPOSE[fname]}"
        ]
    header = [h.strip() for h in recs[keep[0]]]
    if keep[0] != 0:
        return None, [
            f"{fname}: row 1: the header is not on the first line; delete the empty lines above it"
        ]
    errors: list[str] = []
    seen: dict[str, list[int]] = {}
    for j, h in enumerate(header):
        seen.setdefault(h, []).append(j + 1)
    for h, cols in seen.items():
        if len(cols) > 1:
            where = ", ".join(map(str, cols))
            errors.append(
                f"{fname}: row 1, column {_name(h)}: appears {len(cols)} times in the header "
                f"(columns {where}); rename or delete all but one"
            )
    width = len(header)
    data_idx = keep[1:]
    if len(data_idx) == len(recs) - 1:
        body = recs[1:]
        rows = np.arange(2, len(recs) + 1)
    else:
        body = [recs[i] for i in data_idx]
        rows = np.asarray(data_idx, dtype=np.int64) + 1
    ragged = [i for i, r in enumerate(body) if len(r) != width]
    for i in ragged[:_MAX_PER_CHECK]:
        n = len(body[i])
        if n < width:
            errors.append(
                f"{fname}: row {rows[i]}, column {_name(header[n])}: the row has {n} values, "
                f"the header {width} columns; a value or a comma is missing from here on"
            )
        else:
            errors.append(
                f"{fname}: row {rows[i]}, column {width + 1} (after {_name(header[-1])}): the row "
                f"has {n} values, the header {width} columns; put a value holding a comma in "
                'double quotes ("a, b") or delete the extra commas'
            )
    if len(ragged) > _MAX_PER_CHECK:
        errors.append(
            f"{fname}: {len(ragged) - _MAX_PER_CHECK} more rows have a number of values "
            "different from the header"
        )
    if not body:
        errors.append(
            f"{fname}: row 2: the file has a header but no data rows; it should hold "
            f"{PURPOSE[fname]}"
        )
    cap = MAX_ROWS.get(fname)
    if cap is not None and len(body) > cap:
        errors.append(f"{fname}: row {rows[cap]}: {len(body)} data rows; at most {cap} allowed")
    if errors:
        return None, errors
    cols = list(zip(*body, strict=True))
    return _Raw(header, dict(zip(header, cols, strict=True)), rows), []


def _read(fname: str, path: Path) -> tuple[_Raw | None, list[str]]:
    """Read one table file, with an error for every way a file can be unreadable."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                f"{fname}: the file is {size / 2**20:.0f} MB; at most "
                f"{MAX_FILE_BYTES // 2**20} MB allowed (is it the right file?)"
            ]
        data = path.read_bytes()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        return None, [
            f"{fname}: cannot read {_where(path)} ({why}); check that it is a readable file"
        ]
    if not data:
        return None, [
            f"{fname}: row 1: the file is empty (0 bytes); it should hold a header row and "
            f"{PURPOSE[fname]}"
        ]
    text, err = _decode(fname, data)
    if err is not None:
        return None, [err]
    return _records(fname, text)


# --- checking one table -----------------------------------------------------------------------
def _numbers(
    fname: str, col: str, spec: Column, cells: tuple[str, ...], rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Parse a numeric column; return values (nan where empty), the empty mask and errors."""
    n = len(cells)
    empty = np.zeros(n, dtype=bool)
    word = np.zeros(n, dtype=bool)  # inf, -inf, nan written as such
    bad = np.zeros(n, dtype=bool)
    try:
        num = np.array(cells, dtype=float)  # fast path: every cell is a float() literal
        joined = "".join(cells)
        if "_" in joined or not joined.isascii():  # float() takes 1_000 and non-ASCII digits
            raise ValueError
        nonfinite = ~np.isfinite(num)
        for i in np.flatnonzero(nonfinite):
            word[i] = cells[i].strip().lstrip("+-").lower() in _NONFINITE
    except ValueError:
        num = np.full(n, np.nan)
        for i, c in enumerate(cells):
            s = c.strip()
            if not s:
                empty[i] = True
            elif _NUMBER.fullmatch(s):
                num[i] = float(s)
            elif s.lstrip("+-").lower() in _NONFINITE:
                word[i] = True
            else:
                bad[i] = True
    shown = [c.strip() for c in cells]
    what = spec.allowed()
    errors = _row_errors(fname, col, bad, shown, rows, f"is not a number; allowed: {what}")
    if not spec.nullable:
        errors += _row_errors(fname, col, empty, shown, rows, f"is empty; allowed: {what}")
    errors += _row_errors(fname, col, word, shown, rows, f"is not a finite number; allowed: {what}")
    # left to check: every value that parsed (an overflow such as 1e999 is inf: out of range)
    check = ~word & ~np.isnan(num)
    if spec.kind == "int":
        frac = check & np.isfinite(num) & (num != np.floor(num))
        errors += _row_errors(
            fname, col, frac, shown, rows, f"is not a whole number; allowed: {what}"
        )
        check &= ~frac
    lo, hi = spec.lo, spec.hi
    if spec.lo_open:
        low, neg = check & (num <= lo), f"is not above {_num(lo)}"
    else:
        low, neg = check & (num < lo), "is negative" if lo == 0 else f"is below {_num(lo)}"
    errors += _row_errors(fname, col, low, shown, rows, f"{neg}; allowed: {what}")
    high = check & (num > hi)
    errors += _row_errors(fname, col, high, shown, rows, f"is above {_num(hi)}; allowed: {what}")
    return num, empty, errors


def _check_table(fname: str, raw: _Raw) -> tuple[pd.DataFrame | None, list[str]]:
    """Type- and range-check one table; return the typed frame (None if any error) and errors."""
    schema = SCHEMAS[fname]
    errors = []
    for c, spec in schema.items():  # an optional column left out is added empty, at the end
        if spec.column_optional and c not in raw.cells:
            raw.cells[c] = ("",) * len(raw.rows)
            raw.header.append(c)
    missing = [c for c in schema if c not in raw.cells]
    lower = {h.lower(): h for h in raw.header}
    for c in missing:
        near = lower.get(c.lower())
        hint = f" (found {near!r}: column names are case-sensitive)" if near else ""
        errors.append(
            f"{fname}: row 1, column {c}: missing column{hint} (expected: {', '.join(schema)})"
        )
    if missing:
        return None, errors
    rows = raw.rows
    out: dict[str, object] = {}
    for col, spec in schema.items():
        cells = raw.cells[col]
        if spec.numeric:
            num, empty, errs = _numbers(fname, col, spec, cells, rows)
            errors += errs
            if errs:
                continue
            if spec.kind == "float":
                out[col] = num
            elif spec.nullable:  # pandas nullable integers, as before, even with no empty cell
                out[col] = pd.array(np.where(empty, np.nan, num), dtype="Int64")
            else:
                out[col] = num.astype(np.int64)
            continue
        s = [c.strip() for c in cells]
        if spec.kind == "code":
            w = spec.width
            bad = [not (len(v) == w and v.isascii() and v.isdigit()) for v in s]
            errors += _row_errors(fname, col, bad, s, rows, f"is not a {w}-digit code")
        elif spec.kind == "slug":
            bad = [_SLUG.fullmatch(v) is None for v in s]
            errors += _row_errors(fname, col, bad, s, rows, "is not an id of a-z, 0-9 and _")
        elif spec.kind == "text":
            if spec.required:
                bad = [not v for v in s]
                errors += _row_errors(fname, col, bad, s, rows, "is empty; a value is required")
        elif spec.kind == "enum":
            ok = set(spec.values)
            bad = [v not in ok for v in s]
            msg = f"is not allowed; must be one of {', '.join(spec.values)}"
            errors += _row_errors(fname, col, bad, s, rows, msg)
        out[col] = s
    key = KEYS[fname]
    seen: set[tuple[str, ...]] = set()
    dups = 0
    for i, k in enumerate(zip(*(raw.cells[c] for c in key), strict=True)):
        k = tuple(v.strip() for v in k)
        if k in seen:
            dups += 1
            if dups <= _MAX_PER_CHECK:
                vals = ", ".join(f"{c}={_show(v)}" for c, v in zip(key, k, strict=True))
                errors.append(
                    f"{fname}: row {rows[i]}, column {key[-1]}: duplicate key ({vals}); "
                    "each key may appear once"
                )
        seen.add(k)
    if dups > _MAX_PER_CHECK:
        errors.append(f"{fname}: {dups - _MAX_PER_CHECK} more duplicate keys")
    if errors:
        return None, errors
    # columns in the file's order (as pandas read them before); extra columns are kept as text,
    # unchecked
    cols = {c: out[c] if c in schema else list(raw.cells[c]) for c in raw.header}
    return pd.DataFrame(cols, index=pd.Index(rows, name="row")), []


# --- checks across rows and tables ------------------------------------------------------------
def _ref_errors(fname: str, df: pd.DataFrame, col: str, valid: set, what: str) -> list[str]:
    values = df[col].tolist()
    bad = [v not in valid for v in values]
    return _row_errors(fname, col, bad, values, df.index, f"is not {what}")


def _contiguity_errors(fname: str, years: set[int], where: str) -> list[str]:
    """An error if ``years`` has a gap (a year inside the range without rows)."""
    if not years:
        return []
    first, last = min(years), max(years)
    gaps = [y for y in range(first, last + 1) if y not in years]
    if not gaps:
        return []
    return [
        f"{fname}: {where}column year: no rows for {_years_text(gaps)} inside {first}-{last}; "
        "the years must be contiguous (a missing year is not filled from its neighbours): "
        "add the missing years, or remove the years on one side of the gap"
    ]


def _cross_checks(t: dict[str, pd.DataFrame]) -> list[str]:
    """Referential integrity and completeness across tables."""
    errors: list[str] = []
    mun = t.get("municipalities.csv")
    if mun is None:
        return errors
    kn = set(mun["kommunenummer"])
    region_of = dict(zip(mun["kommunenummer"], mun["region"], strict=True))
    f = "municipalities.csv"
    bad = (mun["children_0_5_2024"] > mun["population_2024"]).to_numpy()
    errors += _row_errors(
        f,
        "children_0_5_2024",
        bad,
        mun["children_0_5_2024"].to_numpy(),
        mun.index,
        "is above population_2024",
    )
    pop = t.get("municipality_population.csv")
    if pop is not None:
        f = "municipality_population.csv"
        errors += _ref_errors(f, pop, "kommunenummer", kn, "in municipalities.csv")
        s05 = pop[AGES[:6]].to_numpy().sum(axis=1)
        c05 = pop["children_0_5"].to_numpy()
        errors += _row_errors(
            f, "children_0_5", s05 != c05, c05, pop.index, "is not age_0 + ... + age_5"
        )
        errors += _row_errors(
            f,
            "children_0_5",
            c05 > pop["population"].to_numpy(),
            c05,
            pop.index,
            "is above population",
        )
        years = set(pop["year"].tolist())
        errors += _contiguity_errors(f, years, "")
        have: dict[str, set[int]] = {}
        for k, y in zip(pop["kommunenummer"].tolist(), pop["year"].tolist(), strict=True):
            have.setdefault(k, set()).add(y)
        short = [k for k in sorted(kn) if len(have.get(k, ())) != len(years)]
        for k in short[:_MAX_PER_CHECK]:
            miss = _years_text([y for y in years if y not in have.get(k, set())])
            errors.append(
                f"{f}: kommunenummer {k}, column year: no rows for {miss} "
                f"(every municipality needs every year of the table, {_years_text(years)})"
            )
        if len(short) > _MAX_PER_CHECK:
            errors.append(
                f"{f}: column year: {len(short) - _MAX_PER_CHECK} more municipalities lack years"
            )
    nb = t.get("municipality_neighbours.csv")
    if nb is not None:
        f = "municipality_neighbours.csv"
        for c in ("kommunenummer_a", "kommunenummer_b"):
            errors += _ref_errors(f, nb, c, kn, "in municipalities.csv")
        b = nb["kommunenummer_b"].tolist()
        bad = [a >= bb for a, bb in zip(nb["kommunenummer_a"].tolist(), b, strict=True)]
        errors += _row_errors(f, "kommunenummer_b", bad, b, nb.index, "is not > kommunenummer_a")
    cen = t.get("centres.csv")
    if cen is not None:
        f = "centres.csv"
        errors += _ref_errors(f, cen, "kommunenummer", kn, "in municipalities.csv")
        region = cen["region"].tolist()
        exp = [region_of.get(k) for k in cen["kommunenummer"].tolist()]
        bad = [e is not None and e != r for e, r in zip(exp, region, strict=True)]
        errors += _row_errors(
            f,
            "region",
            bad,
            region,
            cen.index,
            "differs from the region of the centre's municipality",
        )
        closed = cen["closed_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isnan(closed) & (closed <= cen["opened_year"].to_numpy(dtype=float))
        errors += _row_errors(
            f,
            "closed_year",
            bad,
            cen["closed_year"].tolist(),
            cen.index,
            "is not after opened_year",
        )
    rates = t.get("copay_rates.csv")
    if rates is not None:
        have_rate = set(zip(rates["year"].tolist(), rates["measure"].tolist(), strict=True))
        for m in MEASURES:
            years = {y for (y, ms) in have_rate if ms == m}
            miss = [y for y in RATE_YEARS if y not in years]
            if miss:
                errors.append(
                    f"copay_rates.csv: measure {m}, column year: no rate for {_years_text(miss)} "
                    f"(every year {RATE_YEARS[0]}-{RATE_YEARS[-1]} needs a rate)"
                )
            else:
                errors += _contiguity_errors("copay_rates.csv", years, f"measure {m}, ")
    tt = t.get("travel_times.csv")
    if tt is not None and cen is not None:
        f = "travel_times.csv"
        errors += _ref_errors(f, tt, "kommunenummer", kn, "in municipalities.csv")
        errors += _ref_errors(f, tt, "centre_id", set(cen["centre_id"]), "in centres.csv")
        pairs = set(zip(tt["kommunenummer"].tolist(), tt["centre_id"].tolist(), strict=True))
        n_pairs = len(pairs)
        if n_pairs < len(kn) * len(cen):
            errors.append(
                f"{f}: column hours: {len(kn) * len(cen) - n_pairs} municipality x centre pairs "
                f"missing (need all {len(kn)} x {len(cen)}); add them, or delete travel_times.csv "
                "to have the times computed from the coordinates"
            )
    return errors


@dataclass(frozen=True)
class BundledData:
    """The validated tables; municipality rows in kommunenummer order, centres in file order."""

    municipalities: pd.DataFrame
    population: pd.DataFrame
    neighbours: pd.DataFrame
    centres: pd.DataFrame
    copay_rates: pd.DataFrame
    travel_times: pd.DataFrame
    data_dir: Path
    _years: np.ndarray = field(init=False, repr=False, compare=False)
    _ages: np.ndarray = field(init=False, repr=False, compare=False)
    _travel: np.ndarray = field(init=False, repr=False, compare=False)
    _rates: dict = field(init=False, repr=False, compare=False)
    _copay_memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kn = self.municipalities["kommunenummer"].to_numpy()
        pop = self.population.sort_values(["year", "kommunenummer"])
        years = np.sort(pop["year"].unique())
        if len(years) == 0 or years[-1] - years[0] + 1 != len(years):
            raise ValueError(f"population years must be contiguous, got {years.tolist()}")
        pos = pd.Index(kn).get_indexer(pop["kommunenummer"])
        yi = np.searchsorted(years, pop["year"].to_numpy())
        ages = np.zeros((len(years), len(kn), 7), dtype=float)
        ok = pos >= 0
        ages[yi[ok], pos[ok], :] = pop[AGES].to_numpy(dtype=float)[ok]
        ages.setflags(write=False)
        tt = self.travel_times
        ti = pd.Index(kn).get_indexer(tt["kommunenummer"])
        ci = pd.Index(self.centres["centre_id"]).get_indexer(tt["centre_id"])
        travel = np.full((len(kn), len(self.centres)), np.nan)
        m = (ti >= 0) & (ci >= 0)
        travel[ti[m], ci[m]] = tt["hours"].to_numpy(dtype=float)[m]
        travel.setflags(write=False)
        rates = {
            (int(y), str(ms)): float(v)
            for y, ms, v in zip(
                self.copay_rates["year"],
                self.copay_rates["measure"],
                self.copay_rates["nok_per_month"],
                strict=True,
            )
        }
        object.__setattr__(self, "_years", years)
        object.__setattr__(self, "_ages", ages)
        object.__setattr__(self, "_travel", travel)
        object.__setattr__(self, "_rates", rates)

    def _year_index(self, year: int) -> int:
        # ASSUMPTION: before the first data year use the first; after the last use the last.
        # A year inside the range is never filled from a neighbour: load_data requires the
        # table's years to be contiguous, and a missing one raises here.
        y = min(max(int(year), int(self._years[0])), int(self._years[-1]))
        i = int(np.searchsorted(self._years, y))
        if self._years[i] != y:
            raise KeyError(f"no population data for {y} (the table's years have a gap)")
        return i

    def children_by_age(self, year: int) -> np.ndarray:
        """Children aged 0..6 per municipality, shape (n_municipalities, 7); years clamped."""
        return self._ages[self._year_index(year)].copy()

    def children_0_5(self, year: int) -> np.ndarray:
        """Children aged 0-5 per municipality (municipalities order); years clamped."""
        return self._ages[self._year_index(year), :, :6].sum(axis=1)

    def copay(self, year: int, measure: str) -> float:
        """Co-payment in nominal NOK per month (1 sats); years outside the table are clamped."""
        key = (int(year), measure)
        cached = self._copay_memo.get(key)
        if cached is None:
            cached = self._copay_memo[key] = self._copay_lookup(year, measure)
        return cached

    def _copay_lookup(self, year: int, measure: str) -> float:
        years = sorted(y for (y, m) in self._rates if m == measure)
        if not years:
            raise KeyError(f"no co-payment rates for measure {measure!r}")
        # ASSUMPTION: years before the first / after the last rate year are clamped; a year
        # inside the range must have its own rate (load_data checks this).
        y = min(max(int(year), years[0]), years[-1])
        if (y, measure) not in self._rates:
            raise KeyError(f"no co-payment rate for {measure!r} in {y} (the table has a gap)")
        return self._rates[(y, measure)]

    def travel_hours_matrix(self) -> np.ndarray:
        """Travel hours, shape (n_municipalities, n_centres), rows and columns in table order."""
        return self._travel.copy()

    def centres_active(self, year: int) -> pd.DataFrame:
        """Centres open in ``year`` (opened_year <= year < closed_year); index = centre position."""
        c = self.centres
        closed = c["closed_year"]
        mask = (c["opened_year"] <= year) & (closed.isna() | (closed > year)).fillna(False)
        return c[mask.to_numpy(dtype=bool)]


def _where(d: Path) -> str:
    """A folder for a message: as it is when plain, else quoted with escapes."""
    s = str(d)
    return s if s.isprintable() else repr(s)


def _folder_errors(d: Path) -> list[str]:
    """Errors if ``d`` is not a readable folder."""
    where = _where(d)
    wanted = ", ".join(f for f in FILES.values() if f != "travel_times.csv")
    try:
        if not d.exists():
            return [f"{where}: data folder not found; give a folder holding {wanted}"]
        if not d.is_dir():
            return [f"{where}: is a file, not a folder; give the folder holding {wanted}"]
        os.listdir(d)
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        return [f"{where}: cannot read the data folder ({why}); check its permissions"]
    return []


def _missing_file(fname: str, d: Path) -> str:
    try:
        near = [p.name for p in d.iterdir() if p.name.lower() == fname.lower()]
    except OSError:
        near = []
    hint = f" (found {near[0]!r}: file names are case-sensitive)" if near else ""
    return f"{fname}: file missing in {_where(d)}{hint}; it should hold {PURPOSE[fname]}"


def load_data(data_dir: Path | str | None = None) -> BundledData:
    """Load and validate the tables in ``data_dir`` (default: the bundled ``model/data``).

    Raises ``DataValidationError`` (and nothing else) for any problem with the folder or its
    files, listing every problem found.
    """
    d = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    errors = _folder_errors(d)
    if errors:
        raise DataValidationError(errors)
    typed: dict[str, pd.DataFrame] = {}
    for fname in FILES.values():
        path = d / fname
        if not path.exists():
            if fname == "travel_times.csv":
                continue  # computed below from the coordinates
            errors.append(_missing_file(fname, d))
            continue
        if path.is_dir():
            errors.append(
                f"{fname}: is a folder in {_where(d)}, not a file; it should hold {PURPOSE[fname]}"
            )
            continue
        raw, errs = _read(fname, path)
        if raw is not None:
            df, errs = _check_table(fname, raw)
            if df is not None:
                typed[fname] = df
        errors += errs
    if not errors:
        if "travel_times.csv" not in typed:
            typed["travel_times.csv"] = travel_matrix(
                typed["municipalities.csv"].sort_values("kommunenummer"), typed["centres.csv"]
            )
        errors += _cross_checks(typed)
    if errors:
        raise DataValidationError(errors)
    mun = typed["municipalities.csv"].sort_values("kommunenummer").reset_index(drop=True)
    cen = typed["centres.csv"].reset_index(drop=True)
    tt = typed["travel_times.csv"][TRAVEL_COLUMNS].reset_index(drop=True)
    return BundledData(
        municipalities=mun,
        population=typed["municipality_population.csv"].reset_index(drop=True),
        neighbours=typed["municipality_neighbours.csv"].reset_index(drop=True),
        centres=cen,
        copay_rates=typed["copay_rates.csv"].reset_index(drop=True),
        travel_times=tt,
        data_dir=d,
    )
