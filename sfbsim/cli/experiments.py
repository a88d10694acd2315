"""Commands for policy experiments: compare, sweep, sensitivity, results, report."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sfbsim.cli.common import (
    DataOption,
    QuietOption,
    bad_input,
    console,
    errors,
    fail,
    fitted_table,
    input_errors,
    note,
    note_left_out,
    say,
)
from sfbsim.cli.common import cells as plain
from sfbsim.experiments.files import atomic_write_frame
from sfbsim.experiments.heap import heavy_imports

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress

    from sfbsim.experiments.compare import Arm, Experiment
    from sfbsim.model.data_loading import BundledData

# --- shared options -------------------------------------------------------------------------
YearsOption = Annotated[
    int | None,
    typer.Option(help="Simulated years, 1-100 (default: the baseline's).", min=1, max=100),
]
OutOption = Annotated[Path, typer.Option(help="Output folder (holds results.duckdb).")]
SeedOption = Annotated[
    int | None,
    typer.Option(
        help="Seed of replication 0; replication r uses seed+r (default: baseline's).",
        min=0,
        max=10**12,
    ),
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        help="Local worker processes (default: up to 2; 0 runs in this process).", min=0, max=64
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(help="Run on an existing Dask distributed cluster, e.g. tcp://HOST:8786."),
]
ResumeOption = Annotated[
    bool,
    typer.Option(help="Continue the experiment already in --out; finished runs are kept."),
]
UncertaintyOption = Annotated[
    str,
    typer.Option(
        help="posterior: replication r uses posterior draw r // 2 (the intervals cover parameter "
        "uncertainty and run-to-run noise, reported apart); fixed: the parameter files' values "
        "(or --draw), run-to-run noise only."
    ),
]
DrawOption = Annotated[
    int | None,
    typer.Option(
        help="With --uncertainty fixed: run every replication with this posterior draw.", min=0
    ),
]


def progress_bar(quiet: bool) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console.real(),
        disable=quiet,
    )


class Bar:
    """Callbacks that drive a progress bar over several batches of runs."""

    def __init__(self, progress: Progress, label: str) -> None:
        self.progress = progress
        self.task = progress.add_task(label, total=0)
        self.total = 0

    def start(self, n: int) -> None:
        self.total += n
        self.progress.update(self.task, total=self.total)

    def done(self, _result: object) -> None:
        self.progress.advance(self.task)


def _interrupted(out: Path) -> typer.Exit:
    errors.print(
        f"interrupted: every finished replication is stored in {out}; continue with the same "
        "command and --resume",
        markup=False,
        highlight=False,
    )
    return typer.Exit(130)


ByOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Also break the table down by region, size_class, county or municipality; "
        "several (region,size_class) give crossed groups (nord × small)."
    ),
]
GroupOption = Annotated[
    list[str] | None,
    typer.Option(
        "--group",
        help="A named group of municipalities, NAME=1875,1804,... (municipality numbers); "
        "repeat for more. With --by, crossed with its columns.",
    ),
]


def _parse_grouping(by: list[str] | None, groups: list[str] | None, data: Any):
    """The grouping of --by and --group (experiments.groups), or exit 2 naming the fix."""
    from sfbsim.experiments.groups import parse_grouping

    with bad_input():
        return parse_grouping(by, groups, data.municipalities)


def _print_notes(notes: list[str]) -> None:
    for text in notes:
        note(text)


def _parse_reps(reps: str) -> int | None:
    if reps == "auto":
        return None
    try:
        value = int(reps)
    except ValueError:
        raise fail(
            f"--reps {reps!r}: give a whole number of replications (2 or more) or auto"
        ) from None
    if not 2 <= value <= MAX_REPS:
        raise fail(
            f"--reps {value}: give 2 to {MAX_REPS:,} (a confidence interval needs two pairs) "
            "or auto"
        )
    return value


MAX_REPS = 10_000
"""Most replications an experiment may ask for."""


# --- compare --------------------------------------------------------------------------------
def compare(
    baseline: Annotated[str, typer.Argument(help="Baseline scenario (shipped name or .toml).")],
    reforms: Annotated[
        list[str], typer.Argument(help="Reform scenarios (shipped names or .toml files).")
    ],
    years: YearsOption = None,
    reps: Annotated[
        str,
        typer.Option(help="Paired replications, or auto (add until the CI is narrow enough)."),
    ] = "20",
    out: OutOption = Path("results/compare"),
    by: ByOption = None,
    group: GroupOption = None,
    target_outcome: Annotated[
        str, typer.Option(help="--reps auto: the outcome whose CI must be narrow.")
    ] = "admissions",
    target: Annotated[
        float,
        typer.Option(help="--reps auto: CI half-width target, as a share of the baseline mean."),
    ] = 0.05,
    min_reps: Annotated[
        int, typer.Option(help="--reps auto: start with this many.", min=2, max=10_000)
    ] = 5,
    max_reps: Annotated[
        int, typer.Option(help="--reps auto: never more than this.", min=2, max=10_000)
    ] = 200,
    seed: SeedOption = None,
    uncertainty: UncertaintyOption = "posterior",
    draw: DrawOption = None,
    pathways: Annotated[
        bool,
        typer.Option(
            help="Split each reform's effect on admissions and bed-days by pathway (more "
            "referrals, fewer declines, refusals, drop-outs, stay length): OUT/pathways.csv. "
            "Every replication is traced."
        ),
    ] = False,
    trace_reps: Annotated[
        int,
        typer.Option(
            help="Store the decision trails of the first N replications of every scenario in "
            "results.duckdb (table decisions; sfbsim results --export gives them).",
            min=0,
            max=100,
        ),
    ] = 0,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    data: DataOption = None,
    resume: ResumeOption = False,
    quiet: QuietOption = False,
) -> None:
    """Compare reforms with a baseline on paired replications (common random numbers).

    Writes OUT/comparison.csv (one row per reform × outcome: means, the mean difference and
    its intervals; by default over the posterior of the behavioural parameters), with
    --pathways OUT/pathways.csv, and stores every replication in OUT/results.duckdb.
    """
    with heavy_imports():
        from sfbsim.experiments import compare as cmp
        from sfbsim.experiments.outcomes import OUTCOMES
        from sfbsim.experiments.uncertainty import too_few_draws
        from sfbsim.model.data_loading import load_data

    n_reps = _parse_reps(reps)
    if target_outcome not in OUTCOMES:
        raise fail(f"--target-outcome {target_outcome!r}: allowed: {', '.join(OUTCOMES)}")
    if not (math.isfinite(target) and 0 < target <= 10):
        raise fail(
            f"--target {target}: give a share of the baseline mean above 0 and at most 10 "
            "(e.g. 0.05 for 5 %)"
        )
    with bad_input():
        bundled = load_data(data)
    grouping = _parse_grouping(by, group, bundled)
    with bad_input():
        base = cmp.load_arm(baseline, bundled, "baseline", years)
        arms = [base]
        for reform in reforms:
            arm = cmp.load_arm(reform, bundled, "reform", None)
            arm.scenario = arm.scenario.model_copy(update={"run": base.scenario.run})
            arm.param_hash = cmp.scenario_hash(arm.scenario)
            arms.append(arm)
        base_seed = base.scenario.run.seed if seed is None else seed
        experiment = cmp.open_experiment(
            out,
            "compare",
            arms,
            {"years": base.scenario.run.years, "start_year": base.scenario.run.start_year},
            base_seed,
            bundled,
            str(data) if data is not None else None,
            resume,
            uncertainty=uncertainty,
            draw=draw,
            pathways=pathways,
            trace_reps=trace_reps,
        )
    try:
        auto = None

        def body(executor, bar):
            nonlocal n_reps, auto
            if n_reps is None:
                auto = cmp.auto_replications(
                    experiment,
                    executor,
                    target_outcome,
                    target,
                    min_reps,
                    max_reps,
                    bar.start,
                    bar.done,
                )
                n_reps = auto.reps
            else:
                cmp.run_replications(
                    experiment, executor, experiment.seeds(n_reps), bar.start, bar.done
                )

        execute(experiment, workers, scheduler, quiet, out, "compare", body)
        table, notes = cmp.comparison_table(experiment, n_reps, grouping, bundled)
        few = too_few_draws(uncertainty, n_reps, draw)
        notes += [few] if few else []
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_frame(table, out / "comparison.csv")
        if not quiet:
            print_comparison(table, price_year=base.scenario.costs.price_year)
        _print_notes(notes)
        if reps == "auto":
            _say_auto(auto, target_outcome, target, max_reps)
        note_missing_pairs(table, n_reps)
        say("Comparison written to ", (str(out / "comparison.csv"), "bold"))
        if pathways:
            split = cmp.pathways_table(experiment, n_reps)
            atomic_write_frame(split, out / "pathways.csv")
            if not quiet:
                print_pathways(split)
            say("Effect by pathway written to ", (str(out / "pathways.csv"), "bold"))
    finally:
        experiment.close()


def print_pathways(split: pd.DataFrame) -> None:
    """Each reform's effect by pathway, the parts above their measured total."""
    import pandas as pd
    from rich.table import Table
    from rich.text import Text

    shown = Table(
        title=Text(
            "Effect by pathway (reform − baseline, per year; mean over paired replications)"
        ),
        caption=Text(
            "The parts add up to the total. 95 % CI over the replications (over the posterior "
            "draws' means when comparing over the posterior)."
        ),
    )
    for name in ("scenario", "outcome", "pathway"):
        shown.add_column(name)
    for name in ("effect", "95 % CI", "share"):
        shown.add_column(name, justify="right")
    for row in split.itertuples(index=False):
        share = "" if pd.isna(row.share_of_total) else f"{row.share_of_total:.0%}"
        shown.add_row(
            *plain(
                row.scenario,
                row.outcome,
                row.pathway,
                _fmt(row.effect_mean),
                f"{_fmt(row.effect_ci_low)} … {_fmt(row.effect_ci_high)}",
                share,
            )
        )
    console.print(shown)


def note_missing_pairs(table: pd.DataFrame, reps: int) -> None:
    """Say which outcomes some replications could not give (e.g. a wait with no admissions)."""
    short = table[table["reps"] < reps]
    for scenario, rows in short.groupby("scenario", sort=False):
        shown = ", ".join(
            f"{row.outcome} ({row.reps} of {reps})"
            for row in rows.drop_duplicates("outcome").itertuples()
        )
        note(
            f"{scenario}: some outcomes have a value in fewer pairs than asked for: {shown}. "
            "A run gives no value where there is nothing to measure (e.g. no wait without "
            "admissions); such outcomes are left out of their pairs, and shown as – when no "
            "pair has one"
        )


def execute(experiment, workers, scheduler, quiet: bool, out: Path, label: str, body) -> None:
    """Start the executor, run ``body(executor, bar)`` under a progress bar, handle Ctrl-C."""
    from sfbsim.experiments.execution import Executor

    with bad_input():
        executor = Executor(workers, scheduler, experiment.data_dir).__enter__()
    try:
        with progress_bar(quiet) as progress:
            from rich.markup import escape

            body(executor, Bar(progress, escape(f"{label} ({executor.description})")))
    except KeyboardInterrupt:
        executor.__exit__(KeyboardInterrupt, None, None)
        raise _interrupted(out) from None
    except BaseException as error:
        executor.__exit__(type(error), error, None)
        raise
    executor.__exit__(None, None, None)


def _say_auto(auto, outcome: str, target: float, max_reps: int) -> None:
    worst = max(auto.half_widths, key=lambda k: auto.half_widths[k] - auto.goals[k])
    if auto.reached:
        console.print(
            f"--reps auto: {auto.reps} paired replications; the 95 % CI half-width of the "
            f"difference in {outcome} is below {target:.0%} of the baseline mean for every "
            f"reform (widest: {worst}, {_fmt(auto.half_widths[worst])} < "
            f"{_fmt(auto.goals[worst])})"
        )
    else:
        console.print(
            f"--reps auto: stopped at the cap of {max_reps} replications; the 95 % CI "
            f"half-width of the difference in {outcome} for {worst} is still "
            f"{_fmt(auto.half_widths[worst])} (target {_fmt(auto.goals[worst])})"
        )


def _fmt(value: float | None) -> str:
    """A number for a table: three significant digits, millions as ``1,994 M``."""
    from sfbsim.experiments.outcomes import format_value

    return format_value(value, millions=True)


def print_comparison(
    table: pd.DataFrame,
    baseline: str = "baseline",
    where: str = "comparison.csv",
    split: bool = True,
    arm: str = "reform",
    label: str = "scenario",
    price_year: int | None = None,
) -> None:
    """The comparison table as a policy analyst reads it, with what its intervals cover.

    Money (costs and values by payer) is shown in MNOK, million NOK at ``price_year`` prices
    (default: the ledger's, model/data/parameters/costs.toml); ``where`` keeps NOK.

    One table per reform (``split``; else one table with a column of scenarios headed
    ``label``, e.g. a sweep's points; ``arm`` heads the column of their means). At a narrow
    terminal the secondary columns (the reform's mean, which is baseline plus difference, then
    the baseline's mean, then the interval over the posterior) are left out, and a note says
    which and how to widen; ``where`` has them all.
    """
    from functools import partial

    from sfbsim.experiments.outcomes import MONEY_OUTCOMES
    from sfbsim.experiments.outcomes import price_year as ledger_price_year
    from sfbsim.experiments.uncertainty import what_intervals_cover

    year = ledger_price_year() if price_year is None else int(price_year)
    posterior = "uncertainty" in table.columns and (table["uncertainty"] == "posterior").any()
    caption = what_intervals_cover("posterior" if posterior else "fixed")
    has_groups = "scope" in table.columns and (table["scope"] != "national").any()
    parts = list(table.groupby("scenario", sort=False)) if split else [(None, table)]
    outcomes = list(dict.fromkeys(table["outcome"]))
    left_out: list[str] = []
    needed = 0
    for scenario, rows in parts:
        reps = sorted(set(rows["reps"]))
        title = f"{scenario if scenario is not None else label} − {baseline}"
        if len(outcomes) == 1:
            title += f": {_outcome_label(outcomes[0])}"
        over = f"{reps[0]} paired replications" if len(reps) == 1 else "paired replications"
        title += f" (mean over {over})"
        columns: list[tuple[str, str]] = []
        if scenario is None:
            columns.append(("scenario", "left"))  # shown under the arm's name
        if len(outcomes) > 1:
            columns.append(("outcome", "left"))
        if has_groups:
            columns.append(("group", "left"))
        numbers = ["baseline", arm, "difference", "95 % CI"]
        numbers += ["90 % over posterior", "sign"] if posterior else []
        numbers += ["reps"] if len(reps) > 1 else []
        columns += [(name, "right") for name in numbers]
        cells = _comparison_cells(rows, posterior, arm)
        build = partial(_cell_table, title, columns, cells, headers={"scenario": label})
        shown, left, width = fitted_table(build, [arm, "baseline", "90 % over posterior"])
        console.print(shown)
        left_out = list(dict.fromkeys([*left_out, *left]))
        needed = max(needed, width)
    from rich.text import Text

    money = ""
    if any(name in MONEY_OUTCOMES for name in outcomes):
        money = (
            f" Costs and values in MNOK (million NOK) at {year} prices, per year; {where} has "
            "them in NOK."
        )
    console.print(Text(caption + money + " M = million."))
    note_left_out(left_out, needed, where)


def _outcome_label(name: str) -> str:
    """An outcome as a table names it: money outcomes with their unit, ``state_cost (MNOK)``."""
    from sfbsim.experiments.outcomes import MONEY_OUTCOMES

    return f"{name} (MNOK)" if name in MONEY_OUTCOMES else name


MONEY_FIELDS = (
    "baseline_mean",
    "reform_mean",
    "diff_mean",
    "diff_ci_low",
    "diff_ci_high",
    "effect_p05",
    "effect_p95",
)
"""The columns of a comparison row that are in the outcome's unit (NOK: shown in MNOK)."""


def _comparison_cells(rows: pd.DataFrame, posterior: bool, arm: str) -> list[dict[str, str]]:
    """The cells of a comparison table's rows, by column name."""
    import pandas as pd

    from sfbsim.experiments.outcomes import money_value

    out = []
    for record in rows.to_dict("records"):
        name = str(record["outcome"])
        row = {
            key: money_value(name, value) if key in MONEY_FIELDS else value
            for key, value in record.items()
        }
        cells = {
            "scenario": str(row["scenario"]),
            "outcome": _outcome_label(name),
            "group": "national" if row.get("scope") == "national" else str(row.get("group")),
            "baseline": _fmt(row["baseline_mean"]),
            arm: _fmt(row["reform_mean"]),
            "difference": _fmt(row["diff_mean"]),
            "95 % CI": f"{_fmt(row['diff_ci_low'])} … {_fmt(row['diff_ci_high'])}",
            "reps": str(row["reps"]),
        }
        if posterior:
            share = row["same_sign_share"]
            # as compare.within_noise: an empty interval of two or more draws, not of no data
            unresolved = pd.notna(row.get("sd_parameter")) and row.get("draws", 0) >= 2
            cells["90 % over posterior"] = (
                f"{_fmt(row['effect_p05'])} … {_fmt(row['effect_p95'])}"
                if pd.notna(row["effect_p05"])
                else "within noise"
                if unresolved
                else "–"
            )
            one_draw = row.get("draws", 2) < 2  # one draw agrees with itself: no sign to read
            cells["sign"] = (
                "–"
                if pd.isna(share) or one_draw
                else "robust"
                if row["robust"]
                else f"flips ({share:.0%})"
            )
        out.append(cells)
    return out


def _cell_table(
    title: str,
    columns: list[tuple[str, str]],
    cells: list[dict[str, str]],
    left: set[str],
    headers: dict[str, str] | None = None,
):
    """A table of ``cells`` with the ``columns`` (name, justify) not in ``left`` (headed by
    ``headers`` or their names): a rule under the head, no vertical lines; numbers
    (right-justified) are never folded."""
    headers = headers or {}
    from rich import box
    from rich.table import Table
    from rich.text import Text

    shown = Table(title=Text(title), box=box.SIMPLE_HEAD, pad_edge=False)
    kept = [(name, justify) for name, justify in columns if name not in left]
    for name, justify in kept:
        shown.add_column(headers.get(name, name), justify=justify, no_wrap=justify == "right")
    for row in cells:
        shown.add_row(*plain(*[row[name] for name, _ in kept]))
    return shown


# --- sweep and sensitivity ------------------------------------------------------------------
LeverOption = Annotated[
    list[str],
    typer.Option(
        "--lever",
        "-l",
        help="NAME=v1,v2,... (grid values) or NAME=LOW:HIGH (range); repeat for more levers. "
        "NAME is a lever, or parameters.NAME for a behavioural parameter.",
    ),
]


def _baseline_arm(baseline: str, data: Path | None, years: int | None):
    from sfbsim.experiments import compare as cmp
    from sfbsim.model.data_loading import load_data

    bundled = load_data(data)
    return bundled, cmp.load_arm(baseline, bundled, "baseline", years)


def _open_point_experiment(
    out: Path,
    kind: str,
    base: Arm,
    points: list[dict[str, Any]],
    settings: dict[str, Any],
    seed: int | None,
    bundled: BundledData,
    data: Path | None,
    resume: bool,
    uncertainty: str = "fixed",
    draw: int | None = None,
) -> Experiment:
    """Open (or resume) an experiment of the baseline and one arm per lever point: national
    outcomes only, seeds from the baseline unless ``seed`` is given."""
    from sfbsim.experiments import compare as cmp
    from sfbsim.experiments import sweep as sw

    run = base.scenario.run
    return cmp.open_experiment(
        out,
        kind,
        [base, *sw.point_arms(base, points)],
        {"years": run.years, "start_year": run.start_year, **settings},
        run.seed if seed is None else seed,
        bundled,
        str(data) if data is not None else None,
        resume,
        groups=False,
        municipalities=False,
        uncertainty=uncertainty,
        draw=draw,
    )


def _replicate_all(
    experiment: Experiment,
    reps: int,
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
    out: Path,
    label: str,
) -> None:
    """Run ``reps`` replications of every arm (those already stored are skipped)."""
    from sfbsim.experiments import compare as cmp

    def body(executor, bar):
        cmp.run_replications(experiment, executor, experiment.seeds(reps), bar.start, bar.done)

    execute(experiment, workers, scheduler, quiet, out, label, body)


def sweep(
    baseline: Annotated[str, typer.Argument(help="Baseline scenario (shipped name or .toml).")],
    lever: LeverOption,
    design: Annotated[str, typer.Option(help="grid (every combination) or lhs.")] = "grid",
    samples: Annotated[
        int, typer.Option(help="--design lhs: number of points.", min=1, max=100_000)
    ] = 20,
    years: YearsOption = None,
    reps: Annotated[int, typer.Option(help="Replications per point.", min=1, max=10_000)] = 3,
    outcome: Annotated[
        str, typer.Option(help="Outcome shown in the printed table (the CSV has all).")
    ] = "admissions",
    out: OutOption = Path("results/sweep"),
    seed: SeedOption = None,
    uncertainty: UncertaintyOption = "posterior",
    draw: DrawOption = None,
    design_seed: Annotated[
        int, typer.Option(help="Seed of the Latin hypercube.", min=0, max=2**32 - 1)
    ] = 0,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    data: DataOption = None,
    resume: ResumeOption = False,
    quiet: QuietOption = False,
) -> None:
    """Sweep levers over a grid or a Latin hypercube; every point is paired with the baseline.

    Writes OUT/sweep.csv: one row per point × outcome with the lever values, the point's mean,
    and its difference from the baseline with a 95 % CI (over the posterior when --reps is 3 or
    more, with --uncertainty fixed when 2 or more).
    """
    with heavy_imports():
        from sfbsim.experiments import compare as cmp
        from sfbsim.experiments import sweep as sw
        from sfbsim.experiments.outcomes import OUTCOMES
        from sfbsim.experiments.uncertainty import too_few_draws

    if design not in ("grid", "lhs"):
        raise fail(f"--design {design!r}: allowed: grid, lhs")
    if outcome not in OUTCOMES:
        raise fail(f"--outcome {outcome!r}: allowed: {', '.join(OUTCOMES)}")
    with bad_input():
        bundled, base = _baseline_arm(baseline, data, years)
        specs = [sw.parse_spec(item, ranges=design == "lhs") for item in lever]
        if not specs:
            raise cmp.ExperimentError("give at least one --lever")
        points = (
            sw.grid_points(specs)
            if design == "grid"
            else sw.lhs_points(specs, samples, design_seed)
        )
        settings = {"design": design, "levers": lever}
        experiment = _open_point_experiment(
            out, "sweep", base, points, settings, seed, bundled, data, resume, uncertainty, draw
        )
    try:
        _replicate_all(experiment, reps, workers, scheduler, quiet, out, "sweep")
        table = cmp.paired_table(experiment, experiment.seeds(reps))
        table = table[cmp.TABLE_COLUMNS].rename(columns={"reform_mean": "point_mean"})
        table = sw.with_values(table, experiment.others, specs)
        atomic_write_frame(table, out / "sweep.csv")
        if not quiet:
            shown = table[table["outcome"] == outcome].rename(
                columns={"point": "scenario", "point_mean": "reform_mean"}
            )
            shown = shown.assign(
                scenario=[
                    f"{p}: " + ", ".join(f"{s.label}={row[s.label]}" for s in specs)
                    for p, (_, row) in zip(shown["scenario"], shown.iterrows(), strict=True)
                ]
            )
            print_comparison(
                shown,
                where="sweep.csv",
                split=False,
                arm="point mean",
                label="Sweep point",
                price_year=base.scenario.costs.price_year,
            )
        few = too_few_draws(uncertainty, reps, draw)
        if few:
            note(few)
        say(f"Sweep of {len(points)} points written to ", (str(out / "sweep.csv"), "bold"))
    finally:
        experiment.close()


def sensitivity(
    baseline: Annotated[str, typer.Argument(help="Baseline scenario (shipped name or .toml).")],
    lever: LeverOption,
    method: Annotated[str, typer.Option(help="sobol or morris (SALib).")] = "sobol",
    samples: Annotated[
        int,
        typer.Option(
            help="Sobol: base sample N (runs N×(levers+2), a power of 2); Morris: trajectories.",
            min=2,
        ),
    ] = 8,
    outcome: Annotated[
        list[str] | None, typer.Option(help="Outcome(s) to analyse (default: admissions).")
    ] = None,
    years: YearsOption = None,
    reps: Annotated[
        int, typer.Option(help="Replications per point (the model output is their mean).", min=1)
    ] = 1,
    out: OutOption = Path("results/sensitivity"),
    seed: SeedOption = None,
    design_seed: Annotated[
        int, typer.Option(help="Seed of the SALib sample.", min=0, max=2**32 - 1)
    ] = 0,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    data: DataOption = None,
    resume: ResumeOption = False,
    quiet: QuietOption = False,
) -> None:
    """Global sensitivity of outcomes to levers: Sobol indices or Morris screening (SALib).

    Every point uses the same seeds (common random numbers). Writes OUT/sensitivity.csv.
    """
    with heavy_imports():
        from sfbsim.experiments import compare as cmp
        from sfbsim.experiments import sweep as sw
        from sfbsim.experiments.outcomes import OUTCOMES

    outcomes = outcome or ["admissions"]
    if method not in ("sobol", "morris"):
        raise fail(f"--method {method!r}: allowed: sobol, morris")
    for name in outcomes:
        if name not in OUTCOMES:
            raise fail(f"--outcome {name!r}: allowed: {', '.join(OUTCOMES)}")
    with bad_input():
        bundled, base = _baseline_arm(baseline, data, years)
        specs = [sw.parse_spec(item, ranges=True) for item in lever]
        if not specs:
            raise cmp.ExperimentError("give at least one --lever NAME=LOW:HIGH")
        matrix = sw.sensitivity_sample(specs, method, samples, design_seed)
        points = sw.matrix_points(specs, matrix)
        settings = {"method": method, "samples": samples, "levers": lever}
        experiment = _open_point_experiment(
            out, "sensitivity", base, points, settings, seed, bundled, data, resume
        )
    try:
        _replicate_all(experiment, reps, workers, scheduler, quiet, out, f"sensitivity ({method})")
        stored = experiment.store.outcomes(
            experiment.experiment_id, seeds=experiment.seeds(reps), outcomes=outcomes
        )
        means = stored.groupby(["param_hash", "outcome"])["value"].mean()
        frames = []
        for name in outcomes:
            import numpy as np

            y = np.array([means.get((a.param_hash, name), np.nan) for a in experiment.others])
            if np.isnan(y).any():
                raise fail(f"outcome {name} is undefined at some points; choose another outcome")
            frame = sw.sensitivity_indices(specs, method, matrix, y, design_seed)
            frame.insert(0, "outcome", name)
            frame.insert(1, "method", method)
            frames.append(frame)
        import pandas as pd

        table = pd.concat(frames, ignore_index=True)
        atomic_write_frame(table, out / "sensitivity.csv")
        if not quiet:
            distinct = len({arm.param_hash for arm in experiment.others})
            same = f" ({distinct} distinct)" if distinct < len(points) else ""
            print_sensitivity(table, method, f"{len(points)} points{same} × {reps} reps")
            from rich.text import Text

            console.print(Text(sw.sensitivity_caption(method, reps, outcomes)))
        say("Indices written to ", (str(out / "sensitivity.csv"), "bold"))
    finally:
        experiment.close()


def print_sensitivity(table: pd.DataFrame, method: str, size: str) -> None:
    """One table per outcome: a row per lever, its indices (columns that do not fit the
    terminal are left out from the right, with a note)."""
    from functools import partial

    indices = [c for c in table.columns if c not in ("outcome", "method", "lever")]
    columns = [("lever", "left"), *[(name, "right") for name in indices]]
    left_out: list[str] = []
    needed = 0
    for outcome, rows in table.groupby("outcome", sort=False):
        cells = [
            {"lever": str(row["lever"]), **{name: _fmt(row[name]) for name in indices}}
            for row in rows.to_dict("records")
        ]
        title = f"Sensitivity of {outcome} ({method}, {size})"
        build = partial(_cell_table, title, columns, cells)
        shown, left, width = fitted_table(build, indices[::-1])
        console.print(shown)
        left_out = list(dict.fromkeys([*left_out, *left]))
        needed = max(needed, width)
    note_left_out(left_out, needed, "sensitivity.csv")


# --- results --------------------------------------------------------------------------------
def results(
    path: Annotated[
        Path, typer.Argument(help="An experiment folder, a results.duckdb, or a folder of them.")
    ] = Path("results"),
    export: Annotated[
        str | None, typer.Option(help="Export this experiment (an id from the listing).")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    to: Annotated[
        Path | None,
        typer.Option(
            help="Export folder (default: OUT/export beside the database); with --by/--group "
            "the CSV file to write (default: PATH/comparison-by-GROUPING.csv)."
        ),
    ] = None,
    by: ByOption = None,
    group: GroupOption = None,
) -> None:
    """List the experiments stored under PATH, or export one to Parquet or CSV.

    PATH is the --out folder of sfbsim compare, sweep or sensitivity (or a folder of them);
    the folder of `sfbsim run` holds tables to read directly, not experiments. With --by or
    --group PATH is one compare folder: its comparison for that grouping is computed from the
    stored replications (nothing is rerun), printed and written as CSV.
    """
    from sfbsim.experiments.files import not_an_experiment
    from sfbsim.experiments.store import Store, StoreError, find_databases

    if format not in ("parquet", "csv"):
        raise fail(f"--format {format!r}: allowed: parquet, csv")
    if by or group:
        if export is not None:
            raise fail(
                "--export and --by/--group: give one of them (export the tables, or a grouping)"
            )
        _grouped_results(path, by, group, to)
        return
    databases = find_databases(path)
    if not databases:
        raise fail(not_an_experiment(path, "results"))
    listing = []
    for db in databases:
        try:
            store = Store(db, read_only=True)
        except input_errors() as error:
            if len(databases) == 1:
                raise fail(str(error)) from None
            note(f"skipped: {error}")
            continue
        with bad_input(), store:
            frame = store.experiments()
            if export is not None and export in set(frame["experiment_id"]):
                target = to if to is not None else db.parent / "export"
                try:
                    files = store.export(export, target, format)
                except StoreError as error:
                    raise fail(str(error)) from None
                for file in files:
                    say(f"wrote {file}")
                return
            listing.append((db, frame))
    if export is not None:
        raise fail(f"no experiment {export!r} under {path}; run `sfbsim results {path}` to list")
    if not listing:
        raise fail(f"none of the results databases under {path} could be read (above)")
    from rich.text import Text

    for db, frame in listing:
        print_experiments(db, frame)
    console.print(
        Text(
            "Export one: sfbsim results FOLDER --export EXPERIMENT_ID [--format csv]; "
            "a report: sfbsim report FOLDER."
        )
    )


def _grouped_results(
    path: Path, by: list[str] | None, group: list[str] | None, to: Path | None
) -> None:
    """sfbsim results PATH --by/--group: the stored compare experiment's grouped comparison."""
    from sfbsim.experiments import compare as cmp
    from sfbsim.experiments.files import not_an_experiment
    from sfbsim.experiments.report import load_experiment
    from sfbsim.experiments.store import DB_NAME, find_databases
    from sfbsim.model.data_loading import load_data

    db = path if path.suffix == ".duckdb" else path / DB_NAME
    if not db.is_file():
        found = find_databases(path) if path.is_dir() else []
        if found:
            raise fail(
                f"{path} holds no experiment itself; --by/--group reads one compare folder, e.g. "
                f"`sfbsim results {found[0].parent} --by region`"
            )
        raise fail(not_an_experiment(path, "results"))
    with bad_input():
        bundled = load_data(None)
    grouping = _parse_grouping(by, group, bundled)
    with bad_input():
        experiment, seeds = load_experiment(db.parent)
    try:
        if experiment.kind != "compare":
            raise fail(
                f"{db.parent} holds a {experiment.kind} experiment; --by/--group groups a "
                "compare experiment"
            )
        with bad_input():
            table, notes = cmp.grouped_table(experiment, seeds, grouping, bundled)
    finally:
        experiment.close()
    target = to if to is not None else db.parent / f"comparison-by-{grouping.slug}.csv"
    if target.is_dir():
        target = target / f"comparison-by-{grouping.slug}.csv"
    with bad_input():
        atomic_write_frame(table, target)
    baseline = experiment.baseline.name
    price_year = experiment.baseline.scenario.costs.price_year
    print_comparison(table, baseline=baseline, where=str(target), price_year=price_year)
    _print_notes(notes)
    say(f"Comparison by {grouping.words()} written to ", (str(target), "bold"))


def print_experiments(db: Path, frame: pd.DataFrame) -> None:
    """The experiments of one results database: id (never folded: it is copied into
    --export), kind, when, runs, and the scenarios (wrapped)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    shown = Table(
        title=Text(f"{db.parent} ({db.name})"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    shown.add_column("experiment_id", no_wrap=True)
    shown.add_column("kind", no_wrap=True)
    shown.add_column("created (UTC)", no_wrap=True)
    shown.add_column("runs", justify="right", no_wrap=True)
    shown.add_column("scenarios", ratio=1, min_width=20, overflow="fold")
    for row in frame.itertuples(index=False):
        shown.add_row(
            *plain(
                row.experiment_id,
                row.kind,
                str(row.created_at)[:16],
                str(row.runs),
                row.scenarios or "",
            )
        )
    console.print(shown)


# --- report ---------------------------------------------------------------------------------
def report(
    folder: Annotated[
        Path, typer.Argument(help="Output folder of sfbsim compare (or sweep, sensitivity).")
    ],
    out: Annotated[
        Path | None, typer.Option(help="HTML file to write (default: FOLDER/report.html).")
    ] = None,
) -> None:
    """Write one self-contained HTML report of the comparison stored in FOLDER.

    FOLDER is the --out folder of sfbsim compare, or of sfbsim sweep or sensitivity (their
    points against the baseline); a folder of `sfbsim run` holds one run's tables, not a
    comparison.
    """
    from sfbsim.experiments.files import not_an_experiment
    from sfbsim.experiments.store import DB_NAME, find_databases

    folder_db = folder if folder.suffix == ".duckdb" else folder / DB_NAME
    if not folder_db.is_file():
        found = find_databases(folder) if folder.is_dir() else []
        if found:
            shown = ", ".join(str(db.parent) for db in found[:5])
            raise fail(
                f"{folder} holds no experiment itself but these hold one: {shown}; give one of "
                "them (e.g. `sfbsim report " + str(found[0].parent) + "`)"
            )
        raise fail(not_an_experiment(folder, "report"))
    from sfbsim.experiments.report import write_report

    with bad_input():
        target = write_report(folder, out)
    say("Report written to ", (str(target), "bold"))


COMMANDS = [compare, sweep, sensitivity, results, report]
