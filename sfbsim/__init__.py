"""sfbsim: an agent-based simulator of municipal referrals to Norway's centres for parents and
children (sentre for foreldre og barn) through Bufetat's intake.

From Python (docs/scripting.md)::

    import sfbsim

    base = sfbsim.scenario("baseline")
    weekends = base.with_levers(weekend_policy="open_every_weekend").named("weekends")
    result = sfbsim.compare(base, weekends, reps=20, years=5)
    result.table            # one row per reform × outcome, as comparison.csv

The scripting API (``scenario``, ``run``, ``compare``, ``sweep``, ``read_experiment``,
``read_run`` and their types and errors) lives in ``sfbsim.api`` and is imported on first use,
so that ``import sfbsim`` and the command line start at once. The code lives in
``sfbsim.agents`` (the actors), ``sfbsim.model`` (the Mesa model, its data and outputs),
``sfbsim.experiments`` (scenarios, replications, comparisons, calibration), ``sfbsim.viz``
(the app) and ``sfbsim.cli`` (the command line); docs/architecture.md walks through them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sfbsim.api import (
        ComparisonResult,
        DataValidationError,
        ExperimentError,
        OutputError,
        RunResult,
        Scenario,
        ScenarioError,
        StoreError,
        SweepResult,
        compare,
        outcomes,
        read_experiment,
        read_run,
        run,
        scenario,
        shipped_scenarios,
        sweep,
    )

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
    "__version__",
    "compare",
    "outcomes",
    "read_experiment",
    "read_run",
    "run",
    "scenario",
    "shipped_scenarios",
    "sweep",
]


def __getattr__(name: str) -> Any:
    """The scripting API (sfbsim.api) and ``sfbsim.__version__``, looked up only when asked
    for (importing sfbsim stays fast)."""
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("sfbsim")
        except metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
            return "unknown"
    if name in __all__:
        from sfbsim import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sfbsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
