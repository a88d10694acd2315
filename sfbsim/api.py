"""The scripting API: sfbsim from Python scripts and notebooks, on the engine the CLI uses.

::

    import sfbsim

    base = sfbsim.scenario("baseline")
    weekends = base.with_levers(weekend_policy="open_every_weekend").named("weekends")
    one = sfbsim.run(base, years=2)                      # one run: its tables and manifest
    one.tables["yearly"]
    result = sfbsim.compare(base, weekends, reps=20)     # paired replications
    result.table                                         # comparison.csv's columns

Everything here is re-exported by ``sfbsim`` itself (``sfbsim.scenario``, ``sfbsim.run``, ...),
imported only when first used, so that ``import sfbsim`` and ``sfbsim --help`` stay fast.
docs/scripting.md walks through a complete analysis.

The same engine as the CLI: a scenario is loaded and validated by
``experiments.scenario_files``, one run is ``experiments.runner.run_scenario`` (the tables
``sfbsim run`` writes), and every replication of :func:`compare` and :func:`sweep` runs on
``experiments.execution`` and is summarised by ``experiments.compare.paired_summary``, so the
same scenarios, seeds and options give the same numbers as ``sfbsim compare`` and
``sfbsim sweep``. With ``out=`` the results are stored in ``OUT/results.duckdb`` exactly as the
CLI stores them (resumable, and readable by ``sfbsim results`` and ``sfbsim report``).

Every user mistake raises a :class:`ValueError` subclass whose message names the problem (the
key, file or option) and what is allowed, raised from the API call itself (no traceback from
deep inside): :class:`ScenarioError` (scenario names, files and values), :class:`ExperimentError`
(options of an experiment, resuming one that changed), :class:`OutputError` (an output folder
that may not be written), :class:`StoreError` (a results database that is not sfbsim's) and
:class:`DataValidationError` (your own data tables). Catch ``ValueError`` to catch them all.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from pydantic import ValidationError

from sfbsim.experiments.errors import ExecutionError, ExperimentError, StoreError
from sfbsim.experiments.files import OutputError
from sfbsim.experiments.scenario_files import ScenarioError
from sfbsim.model.data_loading import DataValidationError
from sfbsim.model.parameter_files import ParameterFileError

if TYPE_CHECKING:
    from sfbsim.experiments.compare import Arm, Experiment
    from sfbsim.model.costs import Costs
    from sfbsim.model.data_loading import BundledData
    from sfbsim.model.parameters import Levers, Parameters
    from sfbsim.model.parameters import Scenario as ScenarioSettings

__all__ = [
    "ComparisonResult",
    "DataValidationError",
    "ExperimentError",
    "OutputError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "StoreError",
    "SweepResult",
    "compare",
    "outcomes",
    "read_experiment",
    "read_run",
    "run",
    "scenario",
    "shipped_scenarios",
    "sweep",
]

Uncertainty = Literal["posterior", "fixed"]
"""``posterior``: replication r runs with posterior draw r // 2 (the intervals cover parameter
uncertainty and run-to-run noise, reported apart); ``fixed``: the parameter files' values (or
one named ``draw``), run-to-run noise only (experiments/uncertainty.py)."""
Grouping = Literal["region", "size_class", "county", "municipality"]
"""A column to break a comparison table down by (several give crossed groups, e.g. nord ×
small); named lists of municipality numbers are ``groups`` (experiments/groups.py)."""
Groups = Mapping[str, Sequence[str]]
"""Named groups of municipalities: ``{"salten": ["1804", "1875"]}``."""
Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while replications (or years) finish."""
PathLike = str | os.PathLike[str]

_INPUT_ERRORS: tuple[type[BaseException], ...] = (
    ScenarioError,
    ExperimentError,
    StoreError,
    OutputError,
    DataValidationError,
    ParameterFileError,
    ExecutionError,
)
_API_WORDS = (
    (re.compile(r"--uncertainty fixed"), 'uncertainty="fixed"'),
    (re.compile(r"--(resume|overwrite)\b"), r"\1=True"),
    (re.compile(r"--(out|draw|uncertainty|lever|data|years|reps|seed)\b"), r"\1"),
)
"""The engine's messages name the CLI's options; from Python they name the arguments."""


def _warn_if_one_draw(uncertainty: str, reps: int, draw: int | None) -> None:
    """Over the posterior, two replications are one draw: say that its intervals are empty."""
    from sfbsim.experiments.uncertainty import too_few_draws

    few = too_few_draws(uncertainty, reps, draw)
    if few:
        warnings.warn(_api_words(few.replace(" replications (", " reps (")), UserWarning, 4)


def _api_words(text: str) -> str:
    for pattern, replacement in _API_WORDS:
        text = pattern.sub(replacement, text)
    return text


def _user_facing[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """Raise input errors from the API call itself (no traceback from deep inside), in the
    words of the API (its arguments, not the CLI's options); pydantic's errors become a
    ScenarioError naming the key and what is allowed."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except ValidationError as error:
            from sfbsim.experiments.scenario_files import describe_errors

            raise ScenarioError("scenario", describe_errors(error)) from None
        except _INPUT_ERRORS as error:
            if type(error) in (ExperimentError, StoreError, OutputError, ExecutionError):
                error = type(error)(_api_words(str(error)))
            raise error.with_traceback(None) from None

    return wrapper


# --- data ------------------------------------------------------------------------------------
def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys (``levers.copay_multiplier``); lists of tables as JSON."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return {prefix[:-1]: json.dumps(value, ensure_ascii=False)}
    return {prefix[:-1]: value}


def _data_dir(data: PathLike | None) -> str | None:
    return None if data is None else os.fspath(data)


def _load(data: PathLike | None) -> BundledData:
    """The bundled data, or the tables in ``data``, loaded and validated once per process."""
    from sfbsim.experiments.execution import worker_data

    return worker_data(_data_dir(data))


# --- scenarios -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """A validated scenario: run settings, behavioural parameters, levers, costs, dated changes,
    new and closed centres (docs/ODD.md lists them all).

    Made by :func:`scenario`; never changed in place: ``with_levers``, ``with_parameters``,
    ``with_costs``, ``with_run`` and ``named`` return a new, validated scenario, and a bad
    value raises :class:`ScenarioError` naming the key and what is allowed.
    """

    validated: ScenarioSettings
    """The validated scenario (``sfbsim.model.parameters.Scenario``, a pydantic model)."""
    text: str = ""
    """The scenario file as written, with a comment per change made from Python (stored in a
    run's manifest and an experiment's store, as the CLI stores the file)."""
    source: str = "python"
    """Where it came from: the name or path given to :func:`scenario`."""
    data: str | None = None
    """The data folder its centres and municipalities were checked against (None: bundled)."""

    # --- reading -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.validated.name

    @property
    def description(self) -> str:
        return self.validated.description

    @property
    def start_year(self) -> int:
        return self.validated.run.start_year

    @property
    def years(self) -> int:
        return self.validated.run.years

    @property
    def seed(self) -> int:
        return self.validated.run.seed

    @property
    def levers(self) -> Levers:
        """The policy levers (a copy: change them with :meth:`with_levers`)."""
        return self.validated.levers.model_copy(deep=True)

    @property
    def parameters(self) -> Parameters:
        """The behavioural parameters (a copy: change them with :meth:`with_parameters`)."""
        return self.validated.parameters.model_copy(deep=True)

    @property
    def costs(self) -> Costs:
        """The ledger's costs and values (a copy: change them with :meth:`with_costs`)."""
        return self.validated.costs.model_copy(deep=True)

    @property
    def own_parameters(self) -> tuple[str, ...]:
        """The behavioural parameters this scenario sets itself (in its file or with
        :meth:`with_parameters`): over the posterior they keep their value in every draw."""
        from sfbsim.experiments.uncertainty import explicit_parameters

        return explicit_parameters(self.validated)

    def to_dict(self) -> dict[str, Any]:
        """Every setting as plain JSON-ready values."""
        return self.validated.model_dump(mode="json")

    def differences(self, other: Scenario) -> pd.DataFrame:
        """Every setting in which ``other`` differs from this scenario (columns ``setting``,
        ``this``, ``other``), the seed, name and description left out."""
        skip = {"name", "description", "baseline", "run.seed"}
        mine, theirs = _flatten(self.to_dict()), _flatten(other.to_dict())
        rows = [
            (key, mine.get(key), theirs.get(key))
            for key in sorted(set(mine) | set(theirs))
            if key not in skip and mine.get(key) != theirs.get(key)
        ]
        return pd.DataFrame(rows, columns=["setting", "this", "other"])

    def __repr__(self) -> str:
        last = self.start_year + self.years - 1
        return (
            f"<sfbsim.Scenario {self.name!r}: {self.start_year}–{last}, seed {self.seed} "
            f"(from {self.source})>"
        )

    # --- changing ----------------------------------------------------------------------------
    @_user_facing
    def with_levers(self, **changes: Any) -> Scenario:
        """The scenario with some levers set, as a reform file's ``[levers]`` sets them:
        ``with_levers(weekend_policy="open_every_weekend", units_multiplier=1.5)``; per-centre
        overrides merge by centre: ``with_levers(centres={"gullhella": {"residential_units":
        8}})``. Raises ScenarioError for an unknown lever or a value outside its range."""
        return self._changed("levers", changes)

    @_user_facing
    def with_parameters(self, **changes: Any) -> Scenario:
        """The scenario with some behavioural parameters set (each within its plausible range,
        docs/ODD.md §8); over the posterior they keep this value in every draw."""
        return self._changed("parameters", changes)

    @_user_facing
    def with_costs(self, **changes: Any) -> Scenario:
        """The scenario with some of the ledger's costs or values set (docs/ledger.md)."""
        return self._changed("costs", changes)

    @_user_facing
    def with_run(
        self, *, years: int | None = None, seed: int | None = None, start_year: int | None = None
    ) -> Scenario:
        """The scenario with some run settings replaced (years 1-100, seed 0-10¹², start year
        2012-2100). Dated entries that fall outside a shortened run do nothing (a warning)."""
        updates = {
            key: value
            for key, value in (("years", years), ("seed", seed), ("start_year", start_year))
            if value is not None
        }
        if not updates:
            return self
        return self._changed("run", updates)

    @_user_facing
    def named(self, name: str, description: str | None = None) -> Scenario:
        """The same scenario under another name (the name a comparison table shows)."""
        if not isinstance(name, str) or not name.strip():
            raise ScenarioError(self.source, [f"name: give a non-empty text (got {name!r})"])
        update: dict[str, Any] = {"name": name}
        if description is not None:
            if not isinstance(description, str):
                raise ScenarioError(
                    self.source, [f"description: give a text (got {description!r})"]
                )
            update["description"] = description
        return Scenario(self.validated.model_copy(update=update), self.text, self.source, self.data)

    def _changed(self, section: str, changes: dict[str, Any]) -> Scenario:
        from sfbsim.experiments.scenario_files import check_against_data, deep_merge

        changes = {key: _plain(value) for key, value in changes.items()}
        source = f"{self.name} (with_{section})"
        raw = self._raw()
        raw[section] = deep_merge(raw[section], changes)
        validated = _validate(raw, source)
        if section == "levers" and "centres" in changes:
            check_against_data(validated, _load(self.data), source)
        text = self.text
        if section != "run":  # run settings are recorded apart (manifest, experiment)
            text = text.rstrip("\n") + "\n" + _change_note(section, changes)
        return Scenario(validated, text, self.source, self.data)

    def _raw(self) -> dict[str, Any]:
        """The scenario as a dict to validate again; parameters and costs only those it sets
        itself (the rest come from the parameter files, as from a scenario file), so that what
        the file set stays known (``own_parameters``)."""
        raw = self.validated.model_dump()
        for section in ("parameters", "costs"):
            values = getattr(self.validated, section)
            raw[section] = {name: getattr(values, name) for name in values.model_fields_set}
        return raw


def _validate(raw: dict[str, Any], source: str) -> ScenarioSettings:
    from sfbsim.experiments.scenario_files import check_changes, describe_errors
    from sfbsim.model.parameters import Scenario as Settings

    try:
        validated = Settings.model_validate(raw)
    except ValidationError as error:
        raise ScenarioError(source, describe_errors(error)) from None
    messages = check_changes(validated)
    if messages:
        raise ScenarioError(source, messages)
    return validated


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python values (the models are strict about types)."""
    if hasattr(value, "tolist") and type(value).__module__ == "numpy":
        return value.tolist()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _change_note(section: str, changes: dict[str, Any]) -> str:
    """The changes as TOML-like comment lines, for the stored scenario text."""
    lines = ["# Changed from Python (sfbsim.Scenario.with_" + section + "):"]
    for key, value in _flatten({section: changes}).items():
        lines.append(f"# {key} = {json.dumps(value, ensure_ascii=False, default=str)}")
    return "\n".join(lines) + "\n"


@_user_facing
def scenario(name_or_path: PathLike, *, data: PathLike | None = None) -> Scenario:
    """Load and validate a shipped scenario (``"baseline"``, ``"weekends_open"``, ...; see
    :func:`shipped_scenarios`) or a scenario TOML file (a reform merged onto its baseline),
    checked against the bundled data or the tables in ``data``.

    A name holding ``/`` or ``..`` or ending in ``.toml`` is always a file. Raises
    ScenarioError naming the file, the key and what is allowed.
    """
    from sfbsim.experiments.scenario_files import load_scenario, resolve_scenario

    if not isinstance(name_or_path, str | os.PathLike):
        raise ScenarioError(
            repr(name_or_path), ["give a shipped scenario's name or the path to a .toml file"]
        )
    path = resolve_scenario(name_or_path)
    validated = load_scenario(path, _load(data))
    return Scenario(
        validated, path.read_text(encoding="utf-8"), os.fspath(name_or_path), _data_dir(data)
    )


def shipped_scenarios() -> list[str]:
    """The names of the scenarios that ship with sfbsim (experiments/scenarios/)."""
    from sfbsim.experiments.scenario_files import shipped_scenarios as names

    return names()


def outcomes() -> dict[str, str]:
    """Every outcome a comparison reports, with its meaning (experiments/outcomes.py)."""
    from sfbsim.experiments.outcomes import OUTCOMES

    return dict(OUTCOMES)


def _as_scenario(value: Scenario | PathLike, data: PathLike | None) -> Scenario:
    if isinstance(value, Scenario):
        return value
    return scenario(value, data=data)


# --- one run ---------------------------------------------------------------------------------
@dataclass
class RunResult:
    """One run: its tables (what ``sfbsim run --out`` writes, as DataFrames) and manifest."""

    tables: dict[str, pd.DataFrame]
    """``yearly``, ``year_region``, ``year_size_class``, ``municipality_yearly``,
    ``centre_yearly``, ``daily``, ``families``, ``ledger_families``, ``ledger_yearly``,
    ``ledger_centres``, ``ledger_totals`` (docs/outputs.md defines every column), and with
    ``trace`` the decision trail ``decisions`` (model/trail.py; saved as Parquet only)."""
    manifest: dict[str, Any]
    """What manifest.json holds: scenario text, every parameter, lever and cost, seed,
    package versions, git commit, data file hashes, start and end time."""
    scenario: Scenario | None = None
    """The scenario that ran (None for a result read back with :func:`read_run`)."""
    model: Any = field(default=None, repr=False)
    """The Mesa model after the run (``sfbsim.model.model.SfbModel``; None when read back)."""

    @_user_facing
    def save(self, folder: PathLike, *, overwrite: bool = False) -> Path:
        """Write the tables (CSV and Parquet) and manifest.json to ``folder``, with the rules
        of ``sfbsim run --out``: a folder that holds files is replaced only with
        ``overwrite=True`` and only if it holds an earlier sfbsim result and nothing else; the
        result is written beside it and moved into place when complete. Returns the folder."""
        from sfbsim.experiments.runner import RunResult as Written
        from sfbsim.experiments.runner import prepare_run_folder, publish_result

        out = prepare_run_folder(Path(folder), overwrite, notes=_warn)
        publish_result(Written(self.tables, self.manifest, self.model), out, overwrite)
        return out


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


@_user_facing
def run(
    scenario: Scenario | PathLike = "baseline",
    *,
    years: int | None = None,
    seed: int | None = None,
    data: PathLike | None = None,
    trace: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    """Run one scenario (a :class:`Scenario`, a shipped name or a TOML file) and return its
    tables and manifest, nothing written (``.save(folder)`` writes them). ``years`` and
    ``seed`` override the scenario's; ``data`` is a folder of your own tables of the bundled
    shape; ``trace`` keeps the decision trail (the ``decisions`` table: every decision with
    the terms, probabilities and draws that made it, what ``sfbsim explain`` reads), off by
    default as in ``sfbsim run`` (``--trace``). The same scenario and seed give the same tables
    as ``sfbsim run``."""
    from sfbsim.experiments.runner import run_scenario
    from sfbsim.experiments.scenario_files import check_against_data, scenario_warnings

    chosen = _as_scenario(scenario, data).with_run(years=years, seed=seed)
    bundled = _load(data)
    check_against_data(chosen.validated, bundled, chosen.source)
    for message in scenario_warnings(chosen.validated):
        warnings.warn(_api_words(message), UserWarning, stacklevel=3)
    total = chosen.years
    done = [0]

    def year_done(_year: int) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    result = run_scenario(chosen.validated, bundled, chosen.text, year_done, trace)
    return RunResult(result.tables, result.manifest, chosen, result.model)


@_user_facing
def read_run(folder: PathLike) -> RunResult:
    """Read back the folder of ``sfbsim run --out`` or ``RunResult.save``: its tables (from
    the Parquet files) and manifest."""
    from sfbsim.experiments.files import MANIFEST, is_run_result

    folder = Path(folder)
    if not is_run_result(folder):
        raise OutputError(
            f"{folder} is not the folder of an sfbsim run (manifest.json and its tables); "
            "give the folder `sfbsim run --out` or RunResult.save wrote"
        )
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    names = manifest.get("tables") or sorted(p.stem for p in folder.glob("*.parquet"))
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in names}
    return RunResult(tables, manifest)


# --- experiments: shared checks ----------------------------------------------------------------
def _check_count(name: str, value: Any, low: int, high: int, why: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ExperimentError(f"{name}={value!r}: give a whole number from {low} to {high:,}{why}")
    return value


def _check_uncertainty(uncertainty: Any, draw: Any) -> None:
    from sfbsim.experiments.uncertainty import MODES, POSTERIOR_FILE

    if uncertainty not in MODES:
        raise ExperimentError(
            f"uncertainty={uncertainty!r}: allowed: {', '.join(repr(m) for m in MODES)}"
        )
    if draw is not None:
        _check_count("draw", draw, 0, 10**9)
        if uncertainty != "fixed":
            raise ExperimentError(
                f"draw={draw}: a named draw runs every replication with it; pass "
                'uncertainty="fixed"'
            )
    if (uncertainty == "posterior" or draw is not None) and not POSTERIOR_FILE.is_file():
        raise ExperimentError(
            f"no posterior at {POSTERIOR_FILE}: run `sfbsim calibrate --write-defaults`, or pass "
            'uncertainty="fixed" (the parameter files\' values; the intervals then cover '
            "run-to-run noise only)"
        )


def _check_grouping(by: Any, groups: Any, data: PathLike | None = None) -> Any:
    """The grouping of ``by`` and ``groups`` (experiments.groups.parse_grouping)."""
    from sfbsim.experiments.groups import parse_grouping

    if groups is not None and not isinstance(groups, Mapping):
        raise ExperimentError(
            f"groups={groups!r}: give a dict of names to municipality numbers, e.g. "
            'groups={"salten": ["1804", "1875"]}'
        )
    return parse_grouping(by, groups, _load(data).municipalities, "by=", "groups=")


def _check_workers(workers: Any) -> int | None:
    if workers is not None:
        _check_count("workers", workers, 0, 64)
    return workers


def _check_seeds(seed: int, reps: int) -> None:
    _check_count("seed", seed, 0, 10**12)
    if seed + reps - 1 > 10**12:
        raise ExperimentError(
            f"seed={seed}: replication r runs with seed + r, and {seed} + {reps - 1} is above "
            "10¹²; choose a smaller seed"
        )


@dataclass
class _Counter:
    progress: Progress | None
    total: int = 0
    done: int = 0

    def start(self, n: int) -> None:
        self.total += n
        if self.progress is not None:
            self.progress(self.done, self.total)

    def finished(self, _result: object) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def _draw_number(uncertainty: str, draw: int | None, base_seed: int, n_draws: int):
    """seed → the posterior draw the replication ran with (None: the parameter files')."""
    from sfbsim.experiments.compare import replication_draw

    def number(seed: int) -> int | None:
        if uncertainty == "fixed":
            return draw
        return replication_draw(seed, base_seed, uncertainty, n_draws)

    return number


def _runs(
    rows: pd.DataFrame, arms: list[Arm], draw_of: Callable[[int], int | None]
) -> pd.DataFrame:
    """Outcome rows of replications (param_hash, seed, scope, grp, year, outcome, value) as
    the per-replication table of a result: one row per scenario × seed × scope × group ×
    year × outcome, with the posterior draw each replication ran with."""
    from sfbsim.experiments.compare import SCOPES
    from sfbsim.experiments.outcomes import OUTCOMES

    columns = ["scenario", "role", "seed", "draw", "scope", "group", "year", "outcome", "value"]
    parts = [
        rows[rows["param_hash"] == arm.param_hash].assign(scenario=arm.name, role=arm.role)
        for arm in arms
    ]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    frame = frame.rename(columns={"grp": "group"})
    frame["seed"] = frame["seed"].astype("int64")
    frame["year"] = frame["year"].astype("int64")
    frame["draw"] = pd.array([draw_of(int(s)) for s in frame["seed"]], dtype="Int64")
    order = {arm.name: i for i, arm in enumerate(arms)}
    outcome_order = {name: i for i, name in enumerate(OUTCOMES)}
    scope_order = {name: i for i, name in enumerate(SCOPES)}
    frame = frame.assign(
        _a=frame["scenario"].map(order),
        _s=frame["scope"].map(scope_order),
        _o=frame["outcome"].map(outcome_order).fillna(len(outcome_order)),
    ).sort_values(["_a", "seed", "_s", "group", "year", "_o", "outcome"], kind="stable")
    return frame[columns].reset_index(drop=True)


def _summarise(
    runs: pd.DataFrame,
    names: Sequence[str],
    uncertainty: str,
    scopes: tuple[str, ...],
    years: str,
) -> pd.DataFrame:
    """paired_summary over a result's runs: the first name is the baseline."""
    from sfbsim.experiments.compare import Arm, paired_summary

    chosen = runs[runs["scope"].isin(scopes)]
    if years == "period":
        chosen = chosen[chosen["year"] == 0]
    elif years == "yearly":
        chosen = chosen[chosen["year"] != 0]
    frame = chosen.rename(columns={"scenario": "param_hash", "group": "grp"})
    frame = frame[["param_hash", "seed", "scope", "grp", "year", "outcome", "value"]]
    frame = frame.drop_duplicates(["param_hash", "seed", "scope", "grp", "year", "outcome"])
    arms = [Arm(name, "arm", None, param_hash=name) for name in names]
    draw_of = None
    if uncertainty == "posterior":
        seeds = runs.drop_duplicates("seed")
        draws = dict(zip(seeds["seed"].astype(int), seeds["draw"], strict=True))

        def draw_of(seed: int) -> int | None:
            value = draws.get(seed)
            return None if value is None or pd.isna(value) else int(value)

    return paired_summary(frame, arms[0], arms[1:], arms, 0.95, draw_of, uncertainty)


def _draw_lookup(runs: pd.DataFrame) -> Callable[[int], int | None]:
    """seed → the posterior draw of a result's runs (the ``draw`` column)."""
    seeds = runs.drop_duplicates("seed")
    draws = dict(zip(seeds["seed"].astype(int), seeds["draw"], strict=True))

    def draw_of(seed: int) -> int | None:
        value = draws.get(seed)
        return None if value is None or pd.isna(value) else int(value)

    return draw_of


def _executor(workers: int | None, scheduler: str | None, data: PathLike | None):
    from sfbsim.experiments.execution import Executor

    return Executor(workers, scheduler, _data_dir(data))


# --- compare ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ComparisonResult:
    """A paired comparison of reforms with a baseline (common random numbers)."""

    table: pd.DataFrame
    """comparison.csv's columns: one row per reform × outcome (× region / size class with
    ``by``): baseline_mean, reform_mean, diff_mean, diff_ci_low, diff_ci_high (95 % CI of the
    mean difference), reps, uncertainty, draws, sd_parameter, sd_noise, effect_p05,
    effect_p95, same_sign_share, robust (docs/experiments.md)."""
    runs: pd.DataFrame
    """The outcome of every replication: scenario, role, seed, draw (the posterior draw it ran
    with; <NA> for the parameter files' values), scope (national, region, size_class), group,
    year (0: the whole run, per year), outcome, value."""
    scenarios: tuple[Scenario, ...]
    """The baseline first, then the reforms, as they ran (on the baseline's period)."""
    seeds: tuple[int, ...]
    """Replication r ran every scenario with seed ``seeds[r]``."""
    uncertainty: Uncertainty
    by: tuple[str, ...] = ()
    folder: Path | None = None
    """Where the experiment is stored (results.duckdb, comparison.csv), or None (in memory)."""
    experiment_id: str | None = None
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """The named groups of :attr:`table` (name, municipality numbers)."""
    municipalities: pd.DataFrame | None = None
    """The outcomes of every replication per municipality (scenario, seed, kommunenummer,
    outcome, value; experiments.outcomes.MUNICIPALITY_OUTCOMES), from which :meth:`summary`
    computes any grouping."""
    waits: pd.DataFrame | None = None
    """The admitted families' waits per replication and municipality (scenario, seed,
    kommunenummer, wait_days, families)."""
    notes: tuple[str, ...] = ()
    """What the table's groups need said (outcomes left out, groups a reform cannot change)."""
    per_municipality: bool = True

    @property
    def baseline(self) -> str:
        return self.scenarios[0].name

    @property
    def reforms(self) -> list[str]:
        return [s.name for s in self.scenarios[1:]]

    @property
    def reps(self) -> int:
        return len(self.seeds)

    @property
    def covers(self) -> str:
        """In plain words, what the intervals of the table cover and what they do not."""
        from sfbsim.experiments.uncertainty import what_intervals_cover

        return what_intervals_cover(self.uncertainty)

    @_user_facing
    def summary(
        self,
        by: Grouping | Sequence[Grouping] = (),
        years: Literal["period", "yearly"] = "period",
        groups: Groups | None = None,
    ) -> pd.DataFrame:
        """The paired table again from the stored replications: over the whole run
        (``period``, the columns of :attr:`table`, with any grouping: ``by`` region,
        size_class, county and/or municipality, crossed, and named ``groups`` of municipality
        numbers) or per calendar year (``yearly``, with a ``year`` column; nationally, or by
        one of region and size_class)."""
        from sfbsim.experiments.compare import comparison_columns

        if years not in ("period", "yearly"):
            raise ExperimentError(f"years={years!r}: allowed: 'period', 'yearly'")
        grouping = _check_grouping(by, groups, self.scenarios[0].data)
        names = [s.name for s in self.scenarios]
        if years == "period":
            return self._grouped(grouping)[0]
        if (
            grouping.named
            or len(grouping.by) > 1
            or not set(grouping.by) <= {"region", "size_class"}
        ):
            raise ExperimentError(
                "years='yearly' is kept nationally and by region or size_class (one of them); "
                "other groupings are stored over the whole run: pass years='period'"
            )
        scopes = ("national", *grouping.by)
        table = _summarise(self.runs, names, self.uncertainty, scopes, years)
        columns = list(comparison_columns(table, grouping.by).columns)
        at = columns.index("outcome") + (3 if grouping.by else 1)
        return table[[*columns[:at], "year", *columns[at:]]]

    def _grouped(self, grouping: Any) -> tuple[pd.DataFrame, list[str]]:
        """comparison.csv of ``grouping`` from :attr:`runs` and :attr:`municipalities`
        (experiments.groups.grouped_comparison, as the CLI)."""
        from sfbsim.experiments.compare import Arm
        from sfbsim.experiments.groups import grouped_comparison

        def keyed(frame: pd.DataFrame | None) -> pd.DataFrame | None:
            return None if frame is None else frame.rename(columns={"scenario": "param_hash"})

        runs = self.runs[(self.runs["year"] == 0) & (self.runs["scope"] == "national")]
        national = keyed(runs.rename(columns={"group": "grp"}))
        national = national[["param_hash", "seed", "scope", "grp", "year", "outcome", "value"]]
        arms = [Arm(s.name, "arm", s.validated, param_hash=s.name) for s in self.scenarios]
        result = grouped_comparison(
            national,
            keyed(self.municipalities),
            keyed(self.waits),
            grouping,
            arms[0],
            arms[1:],
            arms,
            _load(self.scenarios[0].data),
            _draw_lookup(self.runs) if self.uncertainty == "posterior" else None,
            self.uncertainty,
            per_municipality=self.per_municipality,
        )
        return result.table, result.notes


@_user_facing
def compare(
    baseline: Scenario | PathLike,
    *reforms: Scenario | PathLike,
    reps: int = 20,
    years: int | None = None,
    seed: int | None = None,
    uncertainty: Uncertainty = "posterior",
    draw: int | None = None,
    by: Grouping | Sequence[Grouping] = (),
    groups: Groups | None = None,
    out: PathLike | None = None,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    data: PathLike | None = None,
    progress: Progress | None = None,
) -> ComparisonResult:
    """Compare reforms with a baseline on ``reps`` paired replications, as ``sfbsim compare``.

    Replication r runs every scenario with seed ``seed + r`` (default: the baseline's seed)
    and, over the posterior (the default), posterior draw r // 2; reforms run on the
    baseline's period (``years`` overrides it). ``uncertainty="fixed"`` runs every replication
    with the parameter files' values (or posterior draw ``draw``). ``by`` breaks the table down
    by region, size_class, county and/or municipality (several: crossed groups, e.g. nord ×
    small) and ``groups`` by named lists of municipality numbers (``{"salten": ["1804",
    "1875"]}``), exactly as ``sfbsim compare --by/--group`` (experiments/groups.py); every
    outcome is kept per municipality, so :meth:`ComparisonResult.summary` gives any other
    grouping later.

    Without ``out`` everything stays in memory. With ``out`` every replication is stored in
    ``OUT/results.duckdb`` as it finishes and the table written to ``OUT/comparison.csv``,
    exactly as ``sfbsim compare --out`` does; ``resume=True`` continues a stored experiment
    (only missing replications run). ``workers``: local processes (default up to 2; 0 runs in
    this process — a script that uses processes needs ``if __name__ == "__main__":``);
    ``scheduler``: a Dask cluster (``tcp://HOST:PORT``). ``progress(done, total)`` is called
    as replications finish.
    """
    from sfbsim.experiments import compare as cmp

    if not reforms:
        raise ExperimentError(
            "give at least one reform: sfbsim.compare(baseline, reform, ...), e.g. "
            'sfbsim.compare("baseline", "weekends_open")'
        )
    _check_count("reps", reps, 2, cmp.MAX_REPS, " (a confidence interval needs two pairs)")
    grouping = _check_grouping(by, groups, data)
    _check_uncertainty(uncertainty, draw)
    _warn_if_one_draw(uncertainty, reps, draw)
    _check_workers(workers)
    bundled = _load(data)
    base = _as_scenario(baseline, data).with_run(years=years)
    chosen = [base, *(_as_scenario(r, data) for r in reforms)]
    arms = []
    for i, item in enumerate(chosen):
        _check_against(item, bundled)
        validated = item.validated
        if i:
            validated = validated.model_copy(update={"run": base.validated.run})
        role = "reform" if i else "baseline"
        arms.append(cmp.Arm(item.name, role, validated, text=item.text, keep=item.own_parameters))
    base_seed = base.seed if seed is None else seed
    _check_seeds(base_seed, reps)
    counter = _Counter(progress)
    if out is not None:
        folder = Path(out)
        experiment = cmp.open_experiment(
            folder,
            "compare",
            arms,
            {"years": base.years, "start_year": base.start_year},
            base_seed,
            bundled,
            _data_dir(data),
            resume,
            uncertainty=uncertainty,
            draw=draw,
        )
        try:
            scenarios = _scenarios_of(arms, chosen)  # named as the store names them
            with _executor(workers, scheduler, data) as executor:
                seeds = experiment.seeds(reps)
                cmp.run_replications(experiment, executor, seeds, counter.start, counter.finished)
            table, notes = cmp.comparison_table(experiment, reps, grouping, bundled)
            from sfbsim.experiments.files import atomic_write_frame

            atomic_write_frame(table, folder / "comparison.csv")
            return _stored_comparison(
                experiment, seeds, grouping, folder, (table, notes), scenarios
            )
        finally:
            experiment.close()
    cmp.unique_names(arms)
    scenarios = _scenarios_of(arms, chosen)
    seeds = [base_seed + r for r in range(reps)]
    sink: dict[str, list[pd.DataFrame]] = {}
    rows, draw_of = _replicate(
        arms, seeds, uncertainty, draw, base_seed, True, counter, data, workers, scheduler, sink
    )
    runs = _runs(rows, arms, draw_of)
    names = {a.param_hash: a.name for a in arms}
    frames = {
        key: pd.concat(parts, ignore_index=True).assign(
            scenario=lambda f: f["param_hash"].map(names)
        )
        for key, parts in sink.items()
        if parts
    }
    result = ComparisonResult(
        pd.DataFrame(),
        runs,
        scenarios,
        tuple(seeds),
        uncertainty,
        grouping.by,
        groups=grouping.named,
        municipalities=_by_scenario(frames.get("municipality"), MUNICIPALITY_COLUMNS),
        waits=_by_scenario(frames.get("waits"), WAITS_COLUMNS),
    )
    table, notes = result._grouped(grouping)
    return replace(result, table=table, notes=tuple(notes))


MUNICIPALITY_COLUMNS = ["scenario", "seed", "kommunenummer", "outcome", "value"]
WAITS_COLUMNS = ["scenario", "seed", "kommunenummer", "wait_days", "families"]


def _by_scenario(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    """Rows per municipality keyed by scenario name, sorted."""
    if frame is None or frame.empty:
        return pd.DataFrame({c: [] for c in columns})
    frame = frame[columns].copy()
    frame["seed"] = frame["seed"].astype("int64")
    frame["kommunenummer"] = frame["kommunenummer"].astype(str)
    return frame.sort_values(columns[:4], kind="stable").reset_index(drop=True)


def _check_against(item: Scenario, bundled: BundledData) -> None:
    from sfbsim.experiments.scenario_files import check_against_data

    check_against_data(item.validated, bundled, item.source)


def _scenarios_of(arms: list[Arm], chosen: list[Scenario]) -> tuple[Scenario, ...]:
    """The scenarios as they run (the arm's name and period), with what they came from."""
    return tuple(
        Scenario(
            arm.scenario.model_copy(update={"name": arm.name}), item.text, item.source, item.data
        )
        for arm, item in zip(arms, chosen, strict=True)
    )


def _replicate(
    arms: list[Arm],
    seeds: list[int],
    uncertainty: str,
    draw: int | None,
    base_seed: int,
    groups: bool,
    counter: _Counter,
    data: PathLike | None,
    workers: int | None,
    scheduler: str | None,
    sink: dict[str, list[pd.DataFrame]] | None = None,
) -> tuple[pd.DataFrame, Callable[[int], int | None]]:
    """Every arm on every seed in memory (replicate_in_memory), with the draws of the mode."""
    from sfbsim.experiments.compare import replicate_in_memory, replication_draw, select_draws
    from sfbsim.experiments.uncertainty import draw_values

    draws = select_draws(uncertainty, draw)
    n_draws = 0 if draws is None else len(draws)

    def draw_json(seed: int) -> str:
        index = replication_draw(seed, base_seed, uncertainty, n_draws)
        return "" if draws is None or index is None else json.dumps(draw_values(draws, index))

    counter.start(len(seeds) * len({a.param_hash for a in arms}))
    with _executor(workers, scheduler, data) as executor:
        rows = replicate_in_memory(
            arms,
            seeds,
            executor,
            _data_dir(data),
            counter.finished,
            draw_json,
            groups=groups,
            sink=sink,
        )
    return rows, _draw_number(uncertainty, draw, base_seed, n_draws)


def _stored_comparison(
    experiment: Experiment,
    seeds: list[int],
    grouping: Any,
    folder: Path,
    computed: tuple[pd.DataFrame, list[str]] | None = None,
    scenarios: tuple[Scenario, ...] | None = None,
) -> ComparisonResult:
    """A ComparisonResult from an experiment's store (what compare(out=...) ran, or what
    read_experiment finds)."""
    from sfbsim.experiments import compare as cmp

    if computed is None:
        computed = cmp.grouped_table(experiment, seeds, grouping, _load(experiment.data_dir))
    table, notes = computed
    names = {a.param_hash: a.name for a in experiment.arms}

    def named(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
        if frame is None:
            return None  # type: ignore[return-value]
        frame = frame[frame["param_hash"].isin(names)]
        return _by_scenario(frame.assign(scenario=frame["param_hash"].map(names)), columns)

    store, eid = experiment.store, experiment.experiment_id
    rows = experiment.store.outcomes(
        experiment.experiment_id, years="all", scopes=cmp.SCOPES, seeds=seeds
    )
    draw_of = _draw_number(
        experiment.uncertainty,
        experiment.spec.get("draw"),
        experiment.base_seed,
        experiment.n_draws,
    )
    if scenarios is None:
        scenarios = tuple(
            Scenario(arm.scenario.model_copy(update={"name": arm.name}), arm.text, str(folder))
            for arm in experiment.arms
        )
    return ComparisonResult(
        table.reset_index(drop=True),
        _runs(rows, experiment.arms, draw_of),
        scenarios,
        tuple(seeds),
        experiment.uncertainty,  # type: ignore[arg-type]
        grouping.by,
        folder,
        experiment.experiment_id,
        grouping.named,
        named(store.municipality(eid, seeds), MUNICIPALITY_COLUMNS),
        named(store.waits(eid, seeds), WAITS_COLUMNS),
        tuple(notes),
        bool(experiment.spec.get("per_municipality")),
    )


# --- sweep -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepResult:
    """A sweep: the baseline with levers set at points of a grid or a Latin hypercube, every
    point paired with the baseline on the same seeds."""

    table: pd.DataFrame
    """sweep.csv's columns: ``point`` and one column per swept lever, then outcome,
    baseline_mean, point_mean, diff_mean, diff_ci_low, diff_ci_high, reps and the columns of
    the uncertainty (as in a comparison table)."""
    points: pd.DataFrame
    """One row per point: ``point`` (p0000, ...) and the value of every swept lever."""
    runs: pd.DataFrame
    """The national outcome of every replication (columns as ComparisonResult.runs; the
    baseline's ``scenario`` is its name, a point's its point name)."""
    seeds: tuple[int, ...]
    uncertainty: Uncertainty
    folder: Path | None = None
    experiment_id: str | None = None

    @property
    def reps(self) -> int:
        return len(self.seeds)

    @property
    def covers(self) -> str:
        """In plain words, what the intervals of the table cover and what they do not."""
        from sfbsim.experiments.uncertainty import what_intervals_cover

        return what_intervals_cover(self.uncertainty)


def _lever_text(value: Any, name: str) -> str:
    value = _plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExperimentError(f"levers[{name!r}]: {value} is not a finite number")
        return repr(value)
    if isinstance(value, list):
        return "+".join(_lever_text(item, name) for item in value)
    if isinstance(value, str) and value.strip() and not set(value) & set(",+:="):
        return value.strip()
    raise ExperimentError(
        f"levers[{name!r}]: {value!r} is not a lever value (give numbers, true/false, names, "
        "or lists of weekdays)"
    )


def _lever_specs(levers: Any, design: str) -> list[str]:
    """The sweep's levers as the CLI's ``--lever`` specifications (NAME=v1,v2 / NAME=LOW:HIGH),
    so that a sweep from Python is the sweep the CLI runs (and stores)."""
    if isinstance(levers, str):
        return [levers]
    if not isinstance(levers, Mapping):
        specs = list(levers)
        if not all(isinstance(item, str) for item in specs):
            raise ExperimentError(
                "levers: give a mapping {name: values} or specifications 'NAME=v1,v2' / "
                "'NAME=LOW:HIGH'"
            )
        return specs
    specs = []
    for name, values in levers.items():
        values = _plain(values)
        if design == "lhs":
            if not (
                isinstance(values, list)
                and len(values) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
            ):
                raise ExperimentError(
                    f"levers[{name!r}]: design='lhs' needs a range (LOW, HIGH) of two numbers "
                    f"(got {values!r})"
                )
            low, high = (_lever_text(float(v), name) for v in values)
            specs.append(f"{name}={low}:{high}")
            continue
        if isinstance(values, list) and not values:
            raise ExperimentError(
                f"levers[{name!r}]: give at least one value to sweep (e.g. [1, 1.5]), or leave "
                "the lever out"
            )
        if not isinstance(values, list):
            values = [values]
        specs.append(f"{name}=" + ",".join(_lever_text(v, name) for v in values))
    return specs


@_user_facing
def sweep(
    baseline: Scenario | PathLike,
    levers: Mapping[str, Any] | Sequence[str],
    *,
    design: Literal["grid", "lhs"] = "grid",
    samples: int = 20,
    reps: int = 3,
    years: int | None = None,
    seed: int | None = None,
    uncertainty: Uncertainty = "posterior",
    draw: int | None = None,
    design_seed: int = 0,
    out: PathLike | None = None,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    data: PathLike | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Sweep levers over a grid (every combination) or a Latin hypercube of ``samples``
    points, as ``sfbsim sweep``; every point is paired with the baseline on the same seeds.

    ``levers`` maps a lever (or ``parameters.NAME``, a behavioural parameter) to its grid
    values, ``{"units_multiplier": [1, 1.25, 1.5], "duty_to_assist": [False, True]}``, or with
    ``design="lhs"`` to a range ``(LOW, HIGH)``; the CLI's specifications
    (``["units_multiplier=1,1.5"]``) are taken too. The other arguments are those of
    :func:`compare`; ``reps`` may be 1 (then no interval).
    """
    from sfbsim.experiments import compare as cmp
    from sfbsim.experiments import sweep as sw

    if design not in ("grid", "lhs"):
        raise ExperimentError(f"design={design!r}: allowed: 'grid', 'lhs'")
    _check_count("samples", samples, 1, 100_000)
    _check_count("reps", reps, 1, cmp.MAX_REPS)
    _check_count("design_seed", design_seed, 0, 2**32 - 1)
    _check_uncertainty(uncertainty, draw)
    _warn_if_one_draw(uncertainty, reps, draw)
    _check_workers(workers)
    lever_specs = _lever_specs(levers, design)
    if not lever_specs:
        raise ExperimentError("levers: give at least one lever to sweep")
    specs = [sw.parse_spec(item, ranges=design == "lhs") for item in lever_specs]
    points = (
        sw.grid_points(specs) if design == "grid" else sw.lhs_points(specs, samples, design_seed)
    )
    bundled = _load(data)
    base = _as_scenario(baseline, data).with_run(years=years)
    _check_against(base, bundled)
    base_arm = cmp.Arm(
        base.name, "baseline", base.validated, text=base.text, keep=base.own_parameters
    )
    arms = [base_arm, *sw.point_arms(base_arm, points)]
    base_seed = base.seed if seed is None else seed
    _check_seeds(base_seed, reps)
    counter = _Counter(progress)
    if out is not None:
        folder = Path(out)
        experiment = cmp.open_experiment(
            folder,
            "sweep",
            arms,
            {
                "years": base.years,
                "start_year": base.start_year,
                "design": design,
                "levers": lever_specs,
            },
            base_seed,
            bundled,
            _data_dir(data),
            resume,
            groups=False,
            municipalities=False,
            uncertainty=uncertainty,
            draw=draw,
        )
        try:
            with _executor(workers, scheduler, data) as executor:
                seeds = experiment.seeds(reps)
                cmp.run_replications(experiment, executor, seeds, counter.start, counter.finished)
            result = _stored_sweep(experiment, seeds, specs, folder)
            from sfbsim.experiments.files import atomic_write_frame

            atomic_write_frame(result.table, folder / "sweep.csv")
            return result
        finally:
            experiment.close()
    cmp.unique_names(arms)
    seeds = [base_seed + r for r in range(reps)]
    rows, draw_of = _replicate(
        arms, seeds, uncertainty, draw, base_seed, False, counter, data, workers, scheduler
    )
    runs = _runs(rows, arms, draw_of)
    table = _summarise(runs, [a.name for a in arms], uncertainty, ("national",), "period")
    return SweepResult(
        _sweep_table(table, arms, specs),
        _points(arms, specs),
        runs,
        tuple(seeds),
        uncertainty,
    )


def _sweep_table(table: pd.DataFrame, arms: list[Arm], specs: list[Any]) -> pd.DataFrame:
    from sfbsim.experiments import compare as cmp
    from sfbsim.experiments import sweep as sw

    table = table[cmp.TABLE_COLUMNS].rename(columns={"reform_mean": "point_mean"})
    return sw.with_values(table, arms[1:], specs)


def _points(arms: list[Arm], specs: list[Any]) -> pd.DataFrame:
    from sfbsim.experiments import sweep as sw

    names = pd.DataFrame({"scenario": [arm.name for arm in arms[1:]]})
    return sw.with_values(names, arms[1:], specs).reset_index(drop=True)


def _stored_sweep(
    experiment: Experiment, seeds: list[int], specs: list[Any], folder: Path
) -> SweepResult:
    from sfbsim.experiments import compare as cmp

    table = cmp.paired_table(experiment, seeds)
    rows = experiment.store.outcomes(experiment.experiment_id, years="all", seeds=seeds)
    draw_of = _draw_number(
        experiment.uncertainty,
        experiment.spec.get("draw"),
        experiment.base_seed,
        experiment.n_draws,
    )
    arms = experiment.arms
    return SweepResult(
        _sweep_table(table, arms, specs),
        _points(arms, specs),
        _runs(rows, arms, draw_of),
        tuple(seeds),
        experiment.uncertainty,  # type: ignore[arg-type]
        folder,
        experiment.experiment_id,
    )


# --- stored experiments ----------------------------------------------------------------------
@_user_facing
def read_experiment(folder: PathLike) -> ComparisonResult | SweepResult:
    """Read the experiment stored in ``folder`` by ``sfbsim compare``/``sweep`` (or
    :func:`compare`/:func:`sweep` with ``out``): a ComparisonResult or SweepResult with the
    table recomputed from the store (the national table; ``summary(by=...)`` for groups)
    over every finished replication, and the outcome of every replication."""
    from sfbsim.experiments.report import load_experiment
    from sfbsim.experiments.sweep import parse_spec

    folder = Path(folder)
    experiment, seeds = load_experiment(folder)
    try:
        if experiment.kind == "compare":
            from sfbsim.experiments.groups import Grouping as Groupings

            return _stored_comparison(experiment, seeds, Groupings(), folder)
        if experiment.kind == "sweep":
            spec = experiment.spec
            specs = [parse_spec(s, ranges=spec.get("design") == "lhs") for s in spec["levers"]]
            for arm in experiment.others:
                arm.values = json.loads(arm.text)
            return _stored_sweep(experiment, seeds, specs, folder)
        raise ExperimentError(
            f"{folder} holds a {experiment.kind} experiment; read_experiment reads compare and "
            f"sweep experiments (a sensitivity analysis's indices are in {folder}/sensitivity.csv)"
        )
    finally:
        experiment.close()
