"""The garbage collector in an ``sfbsim`` process: what the command spares it (issue 15).

Importing the model's libraries (pandas, pyarrow, scipy, networkx, Mesa, pydantic) makes some
500,000 long-lived objects. Python's cycle collector searches them again and again: about
0.15 s during the imports, part of every full collection during the run, and once more, for
0.3-0.5 s, when the interpreter shuts down. None of them is ever garbage. So, in a process
of its own (the ``sfbsim`` command, whose ``main`` calls ``own_the_process``, or a pool
worker, whose ``_init_worker`` in experiments/execution.py does):

- ``heavy_imports()``: the imports run with the collector paused, and what they made is moved
  to its permanent generation (``gc.freeze``), where collections do not look;
- ``leave_the_heap_to_the_os()``: at the end, everything is frozen, so the shutdown does not
  search the heap; files are closed and results written before it, and the memory is the
  operating system's to take back.

Called in-process (tests invoke the Typer app, scripts the API), nothing is frozen: only the
imports run with the collector paused. (The CLI imports this module from the experiments,
as the data flows; the experiments' pool needs it too.) Results never depend on any of this
(the collector frees memory; it draws no random numbers). benchmarks/README.md has the measurements.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_owned = False


def own_the_process() -> None:
    """Say that this process is one of sfbsim's own: the ``sfbsim`` command (its entry point
    calls this) or a pool worker (its initializer does)."""
    global _owned
    _owned = True


@contextlib.contextmanager
def heavy_imports() -> Iterator[None]:
    """Import with the cycle collector paused; in a process of sfbsim's own, freeze what the
    imports made (``gc.freeze``) so that later collections skip it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _owned:
            gc.freeze()
        if was_enabled:
            gc.enable()


def leave_the_heap_to_the_os() -> None:
    """At the command's end, in its own process: freeze everything, so that the interpreter's
    shutdown does not search the heap for cycles."""
    if _owned:
        gc.freeze()
