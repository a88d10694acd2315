"""Profile one history replication as the calibration runs it, here and in another checkout
(issue 15: the profile's top entries, before and after, go in benchmarks/README.md).

    .venv/bin/python benchmarks/profile_history.py --against ../ref --top 12

Each checkout runs its own virtualenv's python on the same driver as ``bench_speed.py history``
(a warm-up replication that loads the data, then one profiled replication on seed 1) and
prints cProfile's entries with the largest own time. Profiling slows Python calls more than
C code, so compare the shares of the total between checkouts, not the seconds with
bench_speed.py's.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from bench_speed import HERE, HISTORY_DRIVER, python_of

PROFILE_DRIVER = (
    HISTORY_DRIVER.split("replicate(1000)")[0]
    + r"""
import cProfile, io, pstats
replicate(1000)
profile = cProfile.Profile()
profile.enable()
replicate(1)
profile.disable()
stream = io.StringIO()
stats = pstats.Stats(profile, stream=stream)
stats.strip_dirs().sort_stats(sys.argv[3]).print_stats(int(sys.argv[2]))
print(stream.getvalue())
"""
)


def profile(checkout: Path, top: int, sort: str = "tottime") -> str:
    """cProfile's top entries (by ``sort``: own time, or ``cumulative``) of one history
    replication in ``checkout``."""
    result = subprocess.run(
        [str(python_of(checkout)), "-c", PROFILE_DRIVER, "1", str(top), sort],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="a checkout of another commit with a .venv")
    parser.add_argument("--top", type=int, default=12, help="entries to print (default 12)")
    parser.add_argument(
        "--sort",
        choices=["tottime", "cumulative"],
        default="tottime",
        help="own time (default) or time including the calls made",
    )
    args = parser.parse_args()
    checkouts = {"this": HERE} | ({"ref": args.against.resolve()} if args.against else {})
    for label, checkout in checkouts.items():
        print(f"=== {label}: {checkout}")
        print(profile(checkout, args.top, args.sort))


if __name__ == "__main__":
    main()
