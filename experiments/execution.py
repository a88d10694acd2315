"""The one replication engine: in this process, on a local process pool, or on a Dask cluster.

Every replication in sfbsim runs here: compare, sweep and sensitivity (experiments.compare), the
calibration (experiments.calibration) and the app's Compare page (viz.compare). A :class:`Task`
is small (the validated scenario as JSON, a seed, a data folder, what to reduce the run to) and
a :class:`Result` is small (the outcome rows of experiments.outcomes, or the national series the
calibration compares with Statistics Norway): the big tables never leave the worker. Each
worker loads the data once and keeps it.

The same task gives the same result wherever it runs: the model's randomness comes only from
the seed, so a Dask cluster reproduces a local run exactly.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sfbsim.experiments.errors import ExecutionError
from sfbsim.experiments.heap import heavy_imports, own_the_process

OUTCOMES_KIND = "outcomes"
"""Reduce a run to the outcome rows of experiments.outcomes (compare, sweep, the app)."""
SERIES_KIND = "series"
"""Reduce a run to its national series of Statistics Norway's statistics (the calibration)."""


@dataclass(frozen=True)
class Task:
    """One replication: a scenario (validated JSON) run with one seed, reduced to ``kind``."""

    param_hash: str
    seed: int
    scenario_json: str
    data_dir: str | None = None
    groups: bool = True
    municipalities: bool = True
    kind: str = OUTCOMES_KIND
    draw_json: str = ""
    """A posterior draw's parameter values (JSON), or empty for the scenario's own values."""
    keep: tuple[str, ...] = ()
    """Parameters the scenario file sets itself: the draw does not change them."""
    pathways: bool = False
    """Trace the run and add the pathway counts (experiments.pathways) to the outcome rows."""
    trace: bool = False
    """Trace the run and send its decision trail back (stored by compare --trace-reps)."""


@dataclass
class Result:
    """What a replication sends back: its key and its outcome rows (or its series)."""

    param_hash: str
    seed: int
    rows: pd.DataFrame
    municipality: pd.DataFrame
    seconds: float
    series: pd.DataFrame | None = None
    decisions: pd.DataFrame | None = None
    """The run's decision trail (``Task.trace``)."""
    waits: pd.DataFrame | None = None
    """The admitted families' waits per municipality (kommunenummer, wait_days, families)."""


_DATA: dict[str | None, Any] = {}
_SCENARIOS: dict[str, Any] = {}


def worker_data(data_dir: str | None) -> Any:
    """The bundled (or given) data, loaded once per worker process."""
    if data_dir not in _DATA:
        from sfbsim.model.data_loading import load_data

        _DATA[data_dir] = load_data(data_dir)
    return _DATA[data_dir]


def _init_worker(data_dir: str | None, parent_pid: int | None = None) -> None:
    """Import the model and load the data with the collector paused, and freeze what that
    made (it lives as long as the worker: sfbsim.experiments.heap, the worker being a process
    of its own); exit if the parent process dies (e.g. killed outright). The pool's worker
    processes are the Executor's own."""
    if parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    own_the_process()
    with heavy_imports():
        import sfbsim.experiments.outcomes  # noqa: F401  (what run_task imports)
        import sfbsim.experiments.runner  # noqa: F401

        worker_data(data_dir)


def _watch_parent(pid: int, interval: float = 1.0) -> None:
    """A pool worker does not notice when its parent is killed: exit when it has gone."""
    while True:
        time.sleep(interval)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # pragma: no cover - a new process took the pid
            os._exit(1)


def run_task(task: Task) -> Result:
    """Run one replication and reduce it (runs in the worker)."""
    from sfbsim.experiments.outcomes import (
        OUTCOME_TABLES,
        SERIES_TABLES,
        national_series,
        replication_outcomes,
    )
    from sfbsim.experiments.runner import simulate

    clock = time.perf_counter()
    data = worker_data(task.data_dir)
    seeded = scenario_of(task.scenario_json).with_run(seed=task.seed)
    if task.draw_json:
        import json

        from sfbsim.experiments.uncertainty import with_draw

        seeded = with_draw(seeded, json.loads(task.draw_json), task.keep)
    if task.kind == SERIES_KIND:
        _model, tables = simulate(seeded, data, tables=SERIES_TABLES, details=False)
        series = national_series(tables)
        empty = pd.DataFrame()
        return Result(task.param_hash, task.seed, empty, empty, time.perf_counter() - clock, series)
    traced = task.pathways or task.trace
    names = (*OUTCOME_TABLES, "decisions") if traced else OUTCOME_TABLES
    _model, tables = simulate(seeded, data, tables=names, trace=traced)
    rows, municipality, waits = replication_outcomes(
        tables, seeded, data, groups=task.groups, municipalities=task.municipalities
    )
    if task.pathways:
        from sfbsim.experiments.pathways import pathway_rows

        rows = pd.concat([rows, pathway_rows(tables, seeded)], ignore_index=True)
    decisions = tables["decisions"] if task.trace else None
    seconds = time.perf_counter() - clock
    return Result(
        task.param_hash, task.seed, rows, municipality, seconds, decisions=decisions, waits=waits
    )


def scenario_of(scenario_json: str) -> Any:
    """The validated scenario of a task (parsed once per worker and kept)."""
    from sfbsim.model.parameters import Scenario

    scenario = _SCENARIOS.get(scenario_json)
    if scenario is None:
        if len(_SCENARIOS) > 64:
            _SCENARIOS.clear()
        scenario = Scenario.model_validate_json(scenario_json)
        _SCENARIOS[scenario_json] = scenario
    return scenario


def default_workers() -> int:
    """Local workers: the usable cores, at most 2 unless asked (the machine is shared)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


class Executor:
    """Runs tasks and hands each result to a callback as soon as it is ready.

    ``workers = 0`` runs in this process; ``scheduler = "tcp://host:port"`` uses an existing
    Dask distributed cluster; otherwise a local process pool of ``workers`` processes.
    Use as a context manager: the pool or client lives across several ``run`` calls.
    """

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        data_dir: str | None = None,
    ) -> None:
        self.workers = default_workers() if workers is None else workers
        self.scheduler = scheduler
        self.data_dir = data_dir
        self._pool: ProcessPoolExecutor | None = None
        self._client: Any = None

    @property
    def description(self) -> str:
        if self.scheduler:
            return f"Dask cluster at {self.scheduler}"
        if self.workers == 0:
            return "this process"
        return f"local process pool, {self.workers} workers"

    def __enter__(self) -> Executor:
        if self.scheduler:
            try:
                from distributed import Client

                self._client = Client(self.scheduler, timeout="15s")
            except (OSError, TimeoutError, ValueError) as error:
                raise ExecutionError(
                    f"cannot reach the Dask scheduler at {self.scheduler}: {error}; check the "
                    "address (tcp://HOST:PORT) and that `dask scheduler` is running"
                ) from None
        elif self.workers > 0:
            method = (
                "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            )
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(method),
                initializer=_init_worker,
                initargs=(self.data_dir, os.getpid()),
            )
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        interrupted = exc_type is not None
        if self._pool is not None:
            if interrupted:
                self._pool.shutdown(wait=False, cancel_futures=True)
                for process in list((self._pool._processes or {}).values()):
                    if process.is_alive():
                        process.terminate()
            else:
                self._pool.shutdown(wait=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def slots(self) -> int:
        """How many tasks to keep in flight."""
        if self._client is not None:
            threads = sum(self._client.nthreads().values()) or 1
            return 2 * threads
        return max(1, 2 * self.workers)

    def run(self, tasks: Iterable[Task], on_result: Callable[[Result], None]) -> None:
        """Run every task; call ``on_result`` in this process as each one finishes."""
        if self._client is not None:
            self._run_dask(iter(tasks), on_result)
        elif self._pool is not None:
            self._run_pool(iter(tasks), on_result)
        else:
            for task in tasks:
                on_result(run_task(task))

    def _run_pool(self, tasks: Iterator[Task], on_result: Callable[[Result], None]) -> None:
        assert self._pool is not None
        pending: set = set()
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.slots:
                task = next(tasks, None)
                if task is None:
                    exhausted = True
                    break
                pending.add(self._pool.submit(run_task, task))
            if not pending:
                return
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                on_result(future.result())

    def _run_dask(self, tasks: Iterator[Task], on_result: Callable[[Result], None]) -> None:
        from distributed import as_completed

        client = self._client
        submitted: list = []
        for task in tasks:
            submitted.append(client.submit(run_task, task, pure=False))
            if len(submitted) >= self.slots:
                break
        if not submitted:
            return
        batch = as_completed(list(submitted))

        def submit(task: Task) -> None:
            future = client.submit(run_task, task, pure=False)
            submitted.append(future)
            batch.add(future)

        try:
            for future in batch:
                result = future.result()
                submitted.remove(future)
                future.release()
                on_result(result)
                task = next(tasks, None)
                if task is not None:
                    submit(task)
        except BaseException:
            client.cancel(submitted)
            raise
