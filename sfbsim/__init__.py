"""sfbsim: an agent-based simulator of municipal referrals to Norway's centres for parents and
children (sentre for foreldre og barn) through Bufetat's intake.

The code lives in ``sfbsim.agents`` (the actors), ``sfbsim.model`` (the Mesa model, its data
and outputs), ``sfbsim.experiments`` (scenarios, replications, comparisons, calibration),
``sfbsim.viz`` (the app) and ``sfbsim.cli`` (the command line); docs/architecture.md walks
through them.
"""

from importlib import metadata

try:
    __version__ = metadata.version("sfbsim")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "unknown"
