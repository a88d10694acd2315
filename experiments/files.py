"""Writing results without losing anything: output folders checked before any work, the safe
replacement of an earlier result, and every file written atomically.

- ``check_run_folder`` / ``check_experiment_folder``: an output folder must be a place sfbsim
  may write to (not ``/``, home, the current folder or a parent of it, the project or package
  folders, ``/proc``, ``/sys``, a file, a symlink, a read-only folder), and a folder that already
  holds files may only be replaced (``--overwrite``) or added to (an experiment) if sfbsim wrote
  everything in it. They raise :class:`OutputError` (exit code 2 in the CLI).
- ``publish_folder``: a finished run, written in ``.NAME.partial-PID`` beside its target, takes
  the target's place by renames only (old result aside, new one in, old one deleted), so a kill at
  any moment leaves the old or the new result complete; ``recover_stale`` cleans up (or restores)
  what a killed run left behind.
- ``atomic_write_text`` / ``atomic_write_frame`` / ``atomic_path``: a file is written under a
  temporary name in its own folder and renamed into place.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

MANIFEST = "manifest.json"
RESULT_MARK = "sfbsim_result"
"""Key in manifest.json that marks a folder written by ``sfbsim run``."""
RUN_SUFFIXES = (".csv", ".parquet")
EXPERIMENT_FILES = (
    "results.duckdb",
    "results.duckdb.wal",
    "comparison.csv",
    "pathways.csv",
    "sweep.csv",
    "sensitivity.csv",
    "report.html",
)
EXPERIMENT_GROUPED = re.compile(r"^comparison-by-[a-z0-9_]+(-[a-z0-9_]+)*\.csv$")
"""The grouped comparisons ``sfbsim results FOLDER --by ...`` writes beside comparison.csv."""
EXPERIMENT_FOLDERS = ("export",)
CALIBRATION_SUFFIXES = (".csv", ".png", ".md", ".toml", ".json", ".parquet", ".html")
FORBIDDEN_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
STALE = re.compile(r"^\.(?P<name>.+)\.(?P<kind>partial|old)-(?P<pid>\d+)$")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class OutputError(ValueError):
    """An output place sfbsim must not or cannot write to; the message says what to do."""


def _protected() -> list[Path]:
    """Folders that are never an output folder: their content is not sfbsim's to replace."""
    places = [Path("/"), Path.home(), PROJECT_ROOT]
    places += [PROJECT_ROOT / name for name in ("agents", "model", "experiments", "viz", "sfbsim")]
    places += [PROJECT_ROOT / "model" / "data", PROJECT_ROOT / "experiments" / "scenarios"]
    return [p.resolve() for p in places]


def check_place(out: Path) -> Path:
    """The resolved output folder, or OutputError if it can never be one."""
    out = Path(out)
    if str(out).strip() == "":
        raise OutputError("--out is empty; give a folder for the results")
    if out.is_symlink():
        raise OutputError(f"{out} is a symbolic link; give a real folder for the results")
    resolved = out.resolve()
    for root in FORBIDDEN_ROOTS:
        if resolved == root or root in resolved.parents:
            raise OutputError(f"{out} is inside {root}, a system folder; choose another --out")
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise OutputError(
            f"{out} is the current folder or a parent of it; give a subfolder such as results/NAME"
        )
    if resolved in _protected():
        raise OutputError(
            f"{out} is a folder sfbsim must not write into (home, /, the project or its code and "
            "data); choose another --out such as results/NAME"
        )
    if resolved.exists() and not resolved.is_dir():
        raise OutputError(f"{out} is a file, not a folder; choose another --out")
    parent = resolved
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{parent} is a file, so {out} cannot be a folder; choose another --out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{parent} is not writable; choose another --out")
    return resolved


def is_run_result(folder: Path) -> bool:
    """Whether ``folder`` holds a result of ``sfbsim run`` and nothing else: its manifest
    says so and every other entry is a table file."""
    manifest = folder / MANIFEST
    try:
        written = json.loads(manifest.read_text(encoding="utf-8"))
        marked = written.get(RESULT_MARK) is True or (
            "sfbsim" in written.get("versions", {}) and "git_commit" in written  # before the mark
        )
    except (OSError, ValueError, AttributeError, TypeError):
        return False
    if not marked:
        return False
    return all(
        p.name == MANIFEST or (p.is_file() and not p.is_symlink() and p.suffix in RUN_SUFFIXES)
        for p in folder.iterdir()
    )


def run_summary(folder: Path) -> str | None:
    """``scenario NAME, 2025–2034`` for a folder written by ``sfbsim run``, else None."""
    try:
        written = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(written, dict) or not (
        written.get(RESULT_MARK) is True or "git_commit" in written
    ):
        return None
    name, start, years = written.get("scenario"), written.get("start_year"), written.get("years")
    if isinstance(start, int) and isinstance(years, int):
        return f"scenario {name}, " + (str(start) if years == 1 else f"{start}–{start + years - 1}")
    return f"scenario {name}"


def not_an_experiment(path: Path, command: str) -> str:
    """What to do when ``sfbsim results`` or ``sfbsim report`` (``command``) is pointed at a
    place that holds no experiment: a run folder, a folder of runs, nothing at all."""
    path = Path(path)
    example = "sfbsim compare baseline weekends_open --out results/weekends"
    after = f"then `sfbsim {command} results/weekends`"
    if not path.exists():
        return (
            f"{path} does not exist; give the --out folder of sfbsim compare, sweep or "
            f"sensitivity (e.g. `{example}`, {after})"
        )
    summary = run_summary(path) if path.is_dir() else None
    if summary is not None:
        return (
            f"{path} is the output of `sfbsim run` ({summary}): the tables of one run, not an "
            f"experiment, so there is no results database for `sfbsim {command}`. Read its "
            f"tables directly ({path / 'year_region.csv'}, yearly.csv, families.csv, ...; "
            "docs/outputs.md defines every column), or compare scenarios on paired "
            f"replications: `{example}`, {after}"
        )
    runs = (
        sorted(m.parent for m in path.rglob(MANIFEST) if run_summary(m.parent))
        if (path.is_dir())
        else []
    )
    if runs:
        shown = ", ".join(str(r) for r in runs[:3]) + (" ..." if len(runs) > 3 else "")
        return (
            f"no experiment under {path}, only results of `sfbsim run` ({shown}): their tables "
            "are read directly (docs/outputs.md); for an experiment to list or report, run "
            f"`{example}`, {after}"
        )
    return (
        f"no results database (results.duckdb) under {path}; it is written by sfbsim compare, "
        f"sweep and sensitivity (e.g. `{example}`, {after})"
    )


def check_run_folder(out: Path, overwrite: bool) -> Path:
    """Check before any work that ``sfbsim run`` may write its result to ``out``.

    An empty or missing folder is fine; one that holds files only with ``overwrite`` and only
    if it is an earlier sfbsim result with nothing foreign in it.
    """
    resolved = check_place(out)
    if resolved.exists() and any(resolved.iterdir()):
        if not overwrite:
            raise OutputError(
                f"{out} already holds files; choose another --out, or pass --overwrite to "
                "replace an earlier sfbsim result there"
            )
        if not is_run_result(resolved):
            raise OutputError(
                f"{out} holds files that sfbsim run did not write (no sfbsim manifest.json, or "
                "other files beside its tables); --overwrite replaces only an earlier sfbsim "
                "result: choose another --out"
            )
    return resolved


def check_experiment_folder(out: Path) -> Path:
    """Check before any work that an experiment (compare, sweep, sensitivity) may use ``out``:
    missing, empty, or holding only what sfbsim's experiments write there."""
    if Path(out).suffix == ".duckdb":
        raise OutputError(
            f"--out {out}: give a folder; sfbsim keeps results.duckdb and the tables inside it"
        )
    resolved = check_place(out)
    if resolved.exists():
        foreign = [
            p.name
            for p in resolved.iterdir()
            if not (
                (p.is_file() and (p.name in EXPERIMENT_FILES or EXPERIMENT_GROUPED.match(p.name)))
                or (p.is_dir() and p.name in EXPERIMENT_FOLDERS)
            )
        ]
        if foreign:
            shown = ", ".join(sorted(foreign)[:5]) + (" ..." if len(foreign) > 5 else "")
            raise OutputError(
                f"{out} holds files that sfbsim did not write ({shown}); choose another --out "
                "(an empty or new folder, or an earlier experiment's folder)"
            )
    return resolved


def check_calibration_folder(out: Path) -> Path:
    """Check before any work that a calibration may write its report to ``out``."""
    resolved = check_place(out)
    if resolved.exists():
        foreign = [
            p.name
            for p in resolved.iterdir()
            if not (p.is_file() and p.suffix in CALIBRATION_SUFFIXES)
            and p.name not in ("runs.duckdb", "runs.duckdb.wal")
        ]
        if foreign:
            raise OutputError(
                f"{out} holds files that sfbsim calibrate does not write "
                f"({', '.join(sorted(foreign)[:5])}); choose another --out"
            )
    return resolved


def check_file_target(path: Path, marker: str) -> Path:
    """Check before any work that a single output file (e.g. report.html) may be written to
    ``path``: not a folder, a symlink or a system place, in a writable folder, and if it exists
    already a file sfbsim wrote (it holds ``marker``)."""
    path = Path(path)
    if path.is_symlink():
        raise OutputError(f"{path} is a symbolic link; give a real file name")
    resolved = path.resolve()
    for root in FORBIDDEN_ROOTS:
        if root in resolved.parents:
            raise OutputError(f"{path} is inside {root}, a system folder; choose another file")
    if resolved.is_dir():
        raise OutputError(f"{path} is a folder; give a file name such as report.html")
    if not resolved.parent.is_dir() or not os.access(resolved.parent, os.W_OK | os.X_OK):
        raise OutputError(f"{resolved.parent} is not a writable folder; choose another file")
    if resolved.exists():
        try:
            ours = marker in resolved.read_text(encoding="utf-8", errors="replace")[:4000]
        except OSError:
            ours = False
        if not ours:
            raise OutputError(
                f"{path} exists and sfbsim did not write it; choose another file name"
            )
    return resolved


# --- replacing a result -----------------------------------------------------------------------
def staging_folder(out: Path) -> Path:
    """Where a run writes before its result takes ``out``'s place (beside it)."""
    return out.parent / f".{out.name}.partial-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_stale(out: Path) -> list[str]:
    """Clean up what killed runs left beside ``out``; say what was done.

    A ``.NAME.partial-PID`` of a process that no longer runs is an unfinished result: deleted.
    A ``.NAME.old-PID`` is an earlier result put aside during a swap: put back if ``out`` is
    missing (the swap was killed between its two renames), otherwise deleted.
    """
    notes: list[str] = []
    if not out.parent.is_dir():
        return notes
    for path in sorted(out.parent.iterdir()):
        match = STALE.match(path.name)
        if not match or match["name"] != out.name or not path.is_dir():
            continue
        if _alive(int(match["pid"])) and int(match["pid"]) != os.getpid():
            notes.append(f"{path} belongs to a run still going (process {match['pid']}); left")
            continue
        if match["kind"] == "old" and not out.exists() and is_run_result(path):
            path.rename(out)
            notes.append(f"restored the earlier result {out} from {path.name} (a run was killed)")
        else:
            shutil.rmtree(path)
            notes.append(f"removed {path.name}, left by a run that was killed")
    return notes


def publish_folder(staging: Path, out: Path, step: Callable[[str], None] | None = None) -> None:
    """Move a complete result from ``staging`` to ``out`` by renames: the earlier result (if
    any) aside, the new one in, then the earlier one deleted. ``step(name)`` is called between
    the steps (tests use it to kill the swap at each point)."""
    aside = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(aside)
        if step is not None:
            step("aside")
    staging.rename(out)
    if step is not None:
        step("in")
    if aside.exists():
        shutil.rmtree(aside)


# --- atomic files -----------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path in ``path``'s folder; renamed to ``path`` when the block succeeds and
    deleted when it fails, so ``path`` is never left half written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


def atomic_write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table to ``path`` atomically, as CSV or Parquet by its suffix."""
    with atomic_path(path) as temporary:
        if Path(path).suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False, lineterminator="\n")
    return Path(path)
