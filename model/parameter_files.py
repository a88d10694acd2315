"""Parameters as data: the value, unit, plausible range and source of every parameter.

The behavioural parameters (``Parameters``) and the ledger's costs (``Costs``) take their
defaults from the TOML files in ``model/data/parameters/`` — one file per group (cases,
municipalities, choice, consent, stays, intake, decision, prices, costs). The value written in
a file is the value that runs; nothing in the code overrides it. ``sfbsim calibrate
--write-defaults`` writes fitted values into these files (and keeps the value and source they
replaced under ``[NAME.prior]``).

An entry::

    [case_rate_per_1000_children]
    description = "Serious-concern cases needing an assessment, per 1,000 children aged 0-5"
    unit = "cases per 1,000 children aged 0-5 per year"
    value = 4.115
    range = [0, 50]              # plausible range: a scenario value outside it is refused
    source = "CALIBRATED: ..."   # a public reference, ASSUMPTION: ..., or CALIBRATED: ...

    [case_rate_per_1000_children.prior]   # calibrated entries only: what the fit replaced
    value = 4.5
    range = [2.0, 9.0]           # the range the calibration searches
    source = "ASSUMPTION: ..."

Where the law or a rate changes over time an entry gives dated values instead of ``value``, as
OpenFisca does (``[NAME.values]`` with ISO dates as keys, each the first day a value is in
force); a run uses the value in force on its first day (``value_on``), and refuses a run during
which the value would change (model.parameters.Scenario). The co-payment rates, which change
every year, are a data table of their own (model/data/copay_rates.csv).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

PARAMETER_DIR = Path(__file__).resolve().parent / "data" / "parameters"
SECTIONS = ("parameters", "costs")
ENTRY_KEYS = {"description", "unit", "value", "values", "range", "source", "prior"}
PRIOR_KEYS = {"value", "range", "source"}
CALIBRATED = "CALIBRATED"
ASSUMPTION = "ASSUMPTION"


class ParameterFileError(ValueError):
    """A parameter file that cannot be used; the message names the file, entry and fix."""


@dataclass(frozen=True)
class Prior:
    """What a calibrated value replaced: the earlier value and its source, and the range the
    calibration searches."""

    value: Any
    source: str
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Entry:
    """One parameter as its file describes it."""

    name: str
    section: str
    group: str
    description: str
    unit: str
    value: Any
    source: str
    low: float | None = None
    high: float | None = None
    prior: Prior | None = None
    dated: tuple[tuple[dt.date, Any], ...] = ()
    """(first day in force, value), in date order, for an entry with dated values."""

    @property
    def calibrated(self) -> bool:
        return self.source.startswith(CALIBRATED)

    @property
    def assumed(self) -> bool:
        return self.source.startswith(ASSUMPTION)

    @property
    def file(self) -> str:
        return f"model/data/parameters/{self.group}.toml"

    def value_on(self, date: dt.date) -> Any:
        """The value in force on ``date`` (the first dated value before the first date)."""
        if not self.dated:
            return self.value
        found = self.dated[0][1]
        for start, value in self.dated:
            if start <= date:
                found = value
        return found

    def changes_between(self, first: dt.date, end: dt.date) -> list[dt.date]:
        """Dates in (first, end) on which a dated value changes."""
        out = []
        for (_, before), (start, value) in zip(self.dated, self.dated[1:], strict=False):
            if first < start < end and value != before:
                out.append(start)
        return out


def _range(raw: Any, where: str) -> tuple[float | None, float | None]:
    if raw is None:
        return None, None
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw)
        or raw[0] > raw[1]
    ):
        raise ParameterFileError(f"{where}: range must be [low, high] with low <= high")
    return float(raw[0]), float(raw[1])


def _entry(name: str, raw: Any, section: str, group: str, path: Path) -> Entry:
    where = f"{path.name}: [{name}]"
    if not isinstance(raw, dict):
        raise ParameterFileError(f"{where}: must be a table with description, unit, value, source")
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        raise ParameterFileError(
            f"{where}: unknown keys {', '.join(sorted(unknown))}; allowed: "
            f"{', '.join(sorted(ENTRY_KEYS))}"
        )
    for key in ("description", "unit", "source"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ParameterFileError(f"{where}: {key} is missing (a non-empty text)")
    if ("value" in raw) == ("values" in raw):
        raise ParameterFileError(f"{where}: give either value or dated [{name}.values]")
    dated: tuple[tuple[dt.date, Any], ...] = ()
    if "values" in raw:
        try:
            dated = tuple(
                sorted((dt.date.fromisoformat(day), value) for day, value in raw["values"].items())
            )
        except (AttributeError, ValueError):
            raise ParameterFileError(
                f"{where}: [{name}.values] must map ISO dates (YYYY-MM-DD) to values"
            ) from None
        if not dated:
            raise ParameterFileError(f"{where}: [{name}.values] is empty")
    value = raw["value"] if "value" in raw else dated[-1][1]
    low, high = _range(raw.get("range"), where)
    for _, v in dated or ((None, value),):
        if low is not None and not (isinstance(v, int | float) and low <= v <= high):
            raise ParameterFileError(f"{where}: value {v!r} is outside its range [{low}, {high}]")
    prior = None
    if "prior" in raw:
        p = raw["prior"]
        if not isinstance(p, dict) or set(p) - PRIOR_KEYS or "value" not in p:
            raise ParameterFileError(f"{where}: [{name}.prior] needs value (and range, source)")
        prior_low, prior_high = _range(p.get("range"), f"{where}.prior")
        prior = Prior(p["value"], str(p.get("source", "")), prior_low, prior_high)
    return Entry(
        name=name,
        section=section,
        group=group,
        description=raw["description"].strip(),
        unit=raw["unit"].strip(),
        value=value,
        source=raw["source"].strip(),
        low=low,
        high=high,
        prior=prior,
        dated=dated,
    )


def read_entries(folder: Path = PARAMETER_DIR) -> dict[str, Entry]:
    """Every entry of every parameter file in ``folder``, by name (names are unique)."""
    entries: dict[str, Entry] = {}
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise ParameterFileError(f"{folder}: no parameter files (*.toml)")
    for path in files:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ParameterFileError(f"{path.name}: not valid TOML: {error}") from None
        section = raw.pop("section", None)
        if section not in SECTIONS:
            raise ParameterFileError(f"{path.name}: section must be one of {', '.join(SECTIONS)}")
        for name, item in raw.items():
            if name in entries:
                raise ParameterFileError(f"{path.name}: [{name}] is also in another file")
            entries[name] = _entry(name, item, section, path.stem, path)
    return entries


ENTRIES: dict[str, Entry] = read_entries()
"""The shipped parameter files, read once at import."""


def entries(section: str) -> dict[str, Entry]:
    """The entries of one section (``parameters`` or ``costs``), in file order."""
    return {name: e for name, e in ENTRIES.items() if e.section == section}


def from_file(name: str, **constraints: Any) -> Any:
    """A pydantic field whose default, plausible range, description and source are those of
    the parameter file entry ``name``.

    The range is enforced as ``ge``/``le`` (the models refuse NaN and infinity);
    ``constraints`` may add more."""
    entry = ENTRIES[name]
    bounds: dict[str, Any] = {}
    if entry.low is not None:
        bounds = {"ge": entry.low, "le": entry.high}
    return Field(
        entry.value,
        description=entry.description,
        json_schema_extra={"source": entry.source, "unit": entry.unit, "file": entry.file},
        **bounds,
        **constraints,
    )


def write_values(values: dict[str, float], source: str, folder: Path = PARAMETER_DIR) -> list[Path]:
    """Write fitted ``values`` into the parameter files (``sfbsim calibrate --write-defaults``).

    Each entry's ``value`` becomes the fitted value and its ``source`` ``source`` (which should
    start with CALIBRATED); an entry fitted for the first time keeps the value and source it
    had under ``[NAME.prior]``. Comments and layout of the files are kept (tomlkit).
    """
    import tomlkit

    by_file: dict[Path, dict[str, float]] = {}
    for name, value in values.items():
        if name not in ENTRIES:
            raise ParameterFileError(f"no parameter {name!r} in {folder}")
        by_file.setdefault(folder / f"{ENTRIES[name].group}.toml", {})[name] = value
    written = []
    for path, updates in sorted(by_file.items()):
        document = tomlkit.parse(path.read_text(encoding="utf-8"))
        for name, value in updates.items():
            table = document[name]
            if "prior" not in table:
                prior = tomlkit.table()
                prior["value"] = table["value"]
                prior["source"] = table["source"]
                table["prior"] = prior
            table["value"] = int(value) if isinstance(table["value"], int) else float(value)
            table["source"] = source
        path.write_text(tomlkit.dumps(document), encoding="utf-8")
        written.append(path)
    return written
