"""The errors of the experiments layer that mean bad input (the CLI turns each into a message
and exit code 2). Kept in a module of their own, with no heavy imports, so that a command can
catch them without loading what raises them."""

from __future__ import annotations


class ExperimentError(ValueError):
    """An experiment that cannot start as asked; the message names the problem and the fix."""


class ExecutionError(RuntimeError):
    """The executor could not start (e.g. no Dask scheduler at the address)."""


class StoreError(ValueError):
    """The store cannot be used as asked (the message says what to do instead)."""
