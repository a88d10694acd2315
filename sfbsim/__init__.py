"""sfbsim: an agent-based simulator of municipal referrals to Norway's centres for parents and
children (sentre for foreldre og barn) through Bufetat's intake.

The code lives in ``sfbsim.agents`` (the actors), ``sfbsim.model`` (the Mesa model, its data
and outputs), ``sfbsim.experiments`` (scenarios, replications, comparisons, calibration),
``sfbsim.viz`` (the app) and ``sfbsim.cli`` (the command line); docs/architecture.md walks
through them.
"""


def __getattr__(name: str) -> str:
    """``sfbsim.__version__``, looked up only when asked for (importing sfbsim stays fast)."""
    if name != "__version__":
        raise AttributeError(f"module 'sfbsim' has no attribute {name!r}")
    from importlib import metadata

    try:
        return metadata.version("sfbsim")
    except metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        return "unknown"
