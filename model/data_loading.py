"""Load and validate the model's data tables (bundled defaults or a user's directory).

``load_data()`` reads the tables in ``model/data`` (or any directory holding tables of the same
shape), checks schema, types, ranges and referential integrity, and raises one
``DataValidationError`` listing every problem as ``file: row N, column C: message`` (rows are
numbered as in a spreadsheet: the header is row 1, the first data row is row 2). If
``travel_times.csv`` is absent it is computed from the coordinates (``model.travel``).
"""

from __future__ import annotations

import re
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


class DataValidationError(ValueError):
    """Raised when data tables are invalid; ``errors`` holds one message per problem."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# Column specs: (kind, options). Kinds: code (n digits), text, int, float, enum.
def _code(width: int) -> tuple:
    return ("code", {"width": width})


def _int(lo: float | None = None, hi: float | None = None, nullable: bool = False) -> tuple:
    return ("int", {"lo": lo, "hi": hi, "nullable": nullable})


def _float(lo: float | None = None, hi: float | None = None) -> tuple:
    return ("float", {"lo": lo, "hi": hi})


def _enum(values: tuple[str, ...]) -> tuple:
    return ("enum", {"values": values})


def _text(required: bool = True, column_optional: bool = False) -> tuple:
    """Text column; ``required``: every value non-empty; ``column_optional``: the column may be
    absent from a user's table (it is then added empty)."""
    return ("text", {"required": required, "column_optional": column_optional})


SCHEMAS: dict[str, dict[str, tuple]] = {
    "municipalities.csv": {
        "kommunenummer": _code(4),
        "name": _text(),
        "county_number": _code(2),
        "county": _text(),
        "region": _enum(REGIONS),
        "size_class": _enum(SIZE_CLASSES),
        "population_2024": _int(0),
        "children_0_5_2024": _int(0),
        "lat": _float(57.0, 72.0),
        "lon": _float(3.0, 32.0),
        "point_method": _text(),
        "area_km2": _float(0.0),
        "island_or_fjord": _int(0, 1),
    },
    "municipality_population.csv": {
        "kommunenummer": _code(4),
        "year": _int(1900, 2200),
        "population": _int(0),
        "children_0_5": _int(0),
        **{a: _int(0) for a in AGES},
        "repaired": _int(0, 1),
    },
    "municipality_neighbours.csv": {
        "kommunenummer_a": _code(4),
        "kommunenummer_b": _code(4),
        "kind": _enum(NEIGHBOUR_KINDS),
    },
    "centres.csv": {
        "centre_id": ("slug", {}),
        "name": _text(),
        "operator": _enum(OPERATORS),
        "region": _enum(REGIONS),
        "kommunenummer": _code(4),
        "lat": _float(57.0, 72.0),
        "lon": _float(3.0, 32.0),
        "residential_units": _int(0),
        "home_based_capacity": _int(0),
        "weekend_policy": _enum(WEEKEND_POLICIES),
        "summer_closure_weeks": _int(0, 6),
        "opened_year": _int(1900, 2200),
        "closed_year": _int(1900, 2200, nullable=True),
        # dated source of an opening or closing in the simulated years, or "relocation: ..." for
        # a flagged capacity-neutral move (model/data/README.md, "Capacity history")
        "capacity_change_source": _text(required=False, column_optional=True),
        "nationwide_intake": _int(0, 1),
        "confidence": _text(required=False),
        "assumption": _text(required=False),
        "source": _text(required=False),
    },
    "copay_rates.csv": {
        "year": _int(1900, 2200),
        "measure": _enum(MEASURES),
        "nok_per_month": _float(0.0),
        "imputed": _int(0, 1),
        "method": _text(required=False),
        "source": _text(required=False),
    },
    "travel_times.csv": {
        "kommunenummer": _code(4),
        "centre_id": ("slug", {}),
        "distance_km": _float(0.0),
        "hours": _float(0.0),
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
_SLUG = re.compile(r"^[a-z0-9_]+$")
_MAX_PER_CHECK = 20  # report at most this many rows per (file, column, check), then a summary


def _row_errors(fname: str, col: str, bad: np.ndarray, raw: pd.Series, msg: str) -> list[str]:
    """Messages for the rows flagged in ``bad`` (spreadsheet row numbers)."""
    idx = np.flatnonzero(bad)
    out = [
        f"{fname}: row {i + 2}, column {col}: {raw.iat[i]!r} {msg}" for i in idx[:_MAX_PER_CHECK]
    ]
    if len(idx) > _MAX_PER_CHECK:
        out.append(f"{fname}: column {col}: {len(idx) - _MAX_PER_CHECK} more rows {msg}")
    return out


def _check_table(fname: str, raw: pd.DataFrame) -> tuple[pd.DataFrame | None, list[str]]:
    """Type- and range-check one table read as strings; return typed frame and errors."""
    schema = SCHEMAS[fname]
    errors = []
    optional = [c for c, (_, o) in schema.items() if o.get("column_optional")]
    raw = raw.assign(**{c: "" for c in optional if c not in raw.columns})
    missing = [c for c in schema if c not in raw.columns]
    for c in missing:
        errors.append(f"{fname}: row 1, column {c}: missing column (expected: {', '.join(schema)})")
    if missing:
        return None, errors
    out = raw.copy()
    for col, (kind, opt) in schema.items():
        s = raw[col].str.strip()
        empty = (s == "").to_numpy()
        if kind == "code":
            w = opt["width"]
            bad = ~s.str.fullmatch(rf"\d{{{w}}}").to_numpy()
            errors += _row_errors(fname, col, bad, s, f"is not a {w}-digit code")
            out[col] = s
        elif kind == "slug":
            bad = ~s.str.fullmatch(_SLUG.pattern).to_numpy()
            errors += _row_errors(fname, col, bad, s, "is not an id of a-z, 0-9 and _")
            out[col] = s
        elif kind == "text":
            if opt["required"]:
                errors += _row_errors(fname, col, empty, s, "is empty; a value is required")
            out[col] = s
        elif kind == "enum":
            bad = ~s.isin(opt["values"]).to_numpy()
            errors += _row_errors(
                fname, col, bad, s, f"is not allowed; must be one of {', '.join(opt['values'])}"
            )
            out[col] = s
        else:
            num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            nan = np.isnan(num)
            is_int = kind == "int"
            what = "an integer" if is_int else "a number"
            nullable = opt.get("nullable", False)
            bad = nan & ~(empty & nullable)
            if is_int:
                bad |= ~nan & (np.mod(num, 1) != 0)
            errors += _row_errors(fname, col, bad, s, f"is not {what}")
            lo, hi = opt["lo"], opt["hi"]
            ok = ~nan & ~bad
            if lo is not None:
                low = ok & (num < lo)
                word = "is negative" if lo == 0 else f"is below {lo:g}"
                errors += _row_errors(fname, col, low, s, f"{word}; must be {what} >= {lo:g}")
            if hi is not None:
                high = ok & (num > hi)
                errors += _row_errors(fname, col, high, s, f"is above {hi:g}; must be <= {hi:g}")
            if is_int:
                out[col] = pd.array(np.where(nan, np.nan, num), dtype="Int64")
                if not nullable and not bad.any():
                    out[col] = out[col].astype("int64")
            else:
                out[col] = num
    key = KEYS[fname]
    dup = raw.duplicated(key, keep="first").to_numpy()
    for i in np.flatnonzero(dup)[:_MAX_PER_CHECK]:
        vals = ", ".join(f"{k}={raw[k].iat[i]}" for k in key)
        errors.append(f"{fname}: row {i + 2}, column {key[-1]}: duplicate key ({vals})")
    return out, errors


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _ref_errors(fname, df, col, valid, what) -> list[str]:
    bad = ~df[col].isin(valid).to_numpy()
    return _row_errors(fname, col, bad, df[col], f"is not {what}")


def _cross_checks(t: dict[str, pd.DataFrame]) -> list[str]:
    """Referential integrity and completeness across tables."""
    errors: list[str] = []
    mun = t.get("municipalities.csv")
    if mun is None:
        return errors
    kn = set(mun["kommunenummer"])
    region_of = dict(zip(mun["kommunenummer"], mun["region"], strict=True))
    pop = t.get("municipality_population.csv")
    if pop is not None:
        f = "municipality_population.csv"
        errors += _ref_errors(f, pop, "kommunenummer", kn, "in municipalities.csv")
        s05 = pop[[f"age_{a}" for a in range(6)]].sum(axis=1).to_numpy()
        bad = s05 != pop["children_0_5"].to_numpy()
        errors += _row_errors(f, "children_0_5", bad, pop["children_0_5"], "is not age_0..age_5")
        years = sorted(set(pop["year"]))
        counts = pop.groupby("kommunenummer").size()
        for k in sorted(kn):
            if counts.get(k, 0) != len(years):
                have = set(pop.loc[pop["kommunenummer"] == k, "year"])
                miss = [str(y) for y in years if y not in have]
                errors.append(
                    f"{f}: kommunenummer {k}, column year: no rows for {', '.join(miss)} "
                    "(every municipality needs every year of the table)"
                )
    nb = t.get("municipality_neighbours.csv")
    if nb is not None:
        f = "municipality_neighbours.csv"
        for c in ("kommunenummer_a", "kommunenummer_b"):
            errors += _ref_errors(f, nb, c, kn, "in municipalities.csv")
        bad = (nb["kommunenummer_a"] >= nb["kommunenummer_b"]).to_numpy()
        errors += _row_errors(f, "kommunenummer_b", bad, nb["kommunenummer_b"], "is not > a")
    cen = t.get("centres.csv")
    if cen is not None:
        f = "centres.csv"
        errors += _ref_errors(f, cen, "kommunenummer", kn, "in municipalities.csv")
        exp = cen["kommunenummer"].map(region_of)
        bad = (exp.notna() & (exp != cen["region"])).to_numpy()
        errors += _row_errors(
            f, "region", bad, cen["region"], "differs from the region of the centre's municipality"
        )
        closed = cen["closed_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isnan(closed) & (closed <= cen["opened_year"].to_numpy(dtype=float))
        errors += _row_errors(f, "closed_year", bad, cen["closed_year"], "is not after opened_year")
    rates = t.get("copay_rates.csv")
    if rates is not None:
        have = set(zip(rates["year"], rates["measure"], strict=True))
        for m in MEASURES:
            miss = [str(y) for y in RATE_YEARS if (y, m) not in have]
            if miss:
                errors.append(
                    f"copay_rates.csv: measure {m}, column year: no rate for {', '.join(miss)} "
                    f"(every year {RATE_YEARS[0]}-{RATE_YEARS[-1]} needs a rate)"
                )
    tt = t.get("travel_times.csv")
    if tt is not None and cen is not None:
        f = "travel_times.csv"
        errors += _ref_errors(f, tt, "kommunenummer", kn, "in municipalities.csv")
        errors += _ref_errors(f, tt, "centre_id", set(cen["centre_id"]), "in centres.csv")
        n_pairs = len(set(zip(tt["kommunenummer"], tt["centre_id"], strict=True)))
        if n_pairs < len(kn) * len(cen):
            errors.append(
                f"{f}: column hours: {len(kn) * len(cen) - n_pairs} municipality x centre pairs "
                f"missing (need all {len(kn)} x {len(cen)})"
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
    _years: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    _ages: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    _travel: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    _rates: dict = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    _copay_memo: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        kn = self.municipalities["kommunenummer"].to_numpy()
        pop = self.population.sort_values(["year", "kommunenummer"])
        years = np.sort(pop["year"].unique())
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
        # Assumption: before the first data year use the first; after the last use the last.
        y = min(max(int(year), int(self._years[0])), int(self._years[-1]))
        return int(np.searchsorted(self._years, y))

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
        y = min(max(int(year), years[0]), years[-1])
        if (y, measure) not in self._rates:
            y = max(v for v in years if v <= y)
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


def load_data(data_dir: Path | str | None = None) -> BundledData:
    """Load and validate the tables in ``data_dir`` (default: the bundled ``model/data``)."""
    d = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    errors: list[str] = []
    if not d.is_dir():
        raise DataValidationError([f"{d}: data directory not found"])
    typed: dict[str, pd.DataFrame] = {}
    for fname in FILES.values():
        path = d / fname
        if not path.is_file():
            if fname == "travel_times.csv":
                continue  # computed below from the coordinates
            errors.append(f"{fname}: file missing in {d}; it should hold {PURPOSE[fname]}")
            continue
        try:
            raw = _read(path)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            errors.append(f"{fname}: row ?, column ?: cannot be read as CSV ({exc})")
            continue
        df, errs = _check_table(fname, raw)
        errors += errs
        if df is not None and not errs:
            typed[fname] = df
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
