"""What every command of the CLI shares: the consoles, error printing, and the common options.

Errors are printed as plain text (user text is never read as rich markup: a key, value, file
name or CSV cell holding ``[/]`` is printed as it is), and every input error exits with code 2.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text


class _LazyConsole:
    """A rich Console made on first use (importing rich costs ~0.1 s; ``--help`` needs none)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def real(self) -> Any:
        """The rich Console itself (for rich objects that need one, e.g. a progress bar)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


console: Any = _LazyConsole()
"""Standard output: tables, progress and results."""
errors: Any = _LazyConsole(stderr=True)
"""Standard error: error messages and notes."""

INPUT_ERROR = 2
"""Exit code of every input error (a bad value, file, folder or option)."""


def fail(message: str, code: int = INPUT_ERROR) -> typer.Exit:
    """Print an error to stderr (as plain text) and give the exit to raise."""
    from rich.text import Text

    errors.print(Text.assemble(("error: ", "bold red"), str(message)), soft_wrap=True)
    return typer.Exit(code)


def note(message: str) -> None:
    """Print a note to stderr (as plain text)."""
    from rich.text import Text

    errors.print(Text.assemble(("note: ", "bold"), str(message)), soft_wrap=True)


def say(*parts: str | tuple[str, str]) -> None:
    """Print a line to stdout; plain strings are text, ``(text, style)`` pairs are styled."""
    from rich.text import Text

    console.print(Text.assemble(*parts), soft_wrap=True)


def cells(*values: object) -> list[Text]:
    """Table cells as plain text (a name holding ``[/]`` is shown, never read as markup)."""
    from rich.text import Text

    return [Text(str(value)) for value in values]


def fitted_table(
    build: Callable[[set[str]], Table], optional: Sequence[str]
) -> tuple[Table, list[str], int]:
    """``build(left_out)`` with as few of the ``optional`` columns left out (in that order) as
    the terminal's width needs for every cell to keep its natural width (no number folded over
    two lines); also what was left out and the width the full table needs."""
    from rich.measure import Measurement

    real = console.real()
    wide = real.options.update_width(100_000)

    def width(table: Table) -> int:
        return Measurement.get(real, wide, table).maximum

    table = build(set())
    needed = width(table)
    left: list[str] = []
    for name in optional:
        if width(table) <= real.width:
            break
        left.append(name)
        table = build(set(left))
    return table, left, needed


def note_left_out(left: list[str], needed: int, where: str) -> None:
    """Say which columns a narrow terminal left out and how to see them."""
    if left:
        wide = max(needed, console.width + 1)
        note(
            f"left out at {console.width} columns: {', '.join(left)}; to show them, widen the "
            f"terminal or set COLUMNS={wide} (e.g. COLUMNS={wide} sfbsim ...); {where} has "
            "every column"
        )


def input_errors() -> tuple[type[BaseException], ...]:
    """Every exception type that means bad input (imported here, not at start-up)."""
    from sfbsim.experiments.errors import ExecutionError, ExperimentError, StoreError
    from sfbsim.experiments.files import OutputError
    from sfbsim.experiments.scenario_files import ScenarioError
    from sfbsim.model.data_loading import DataValidationError
    from sfbsim.model.parameter_files import ParameterFileError

    return (
        ScenarioError,
        DataValidationError,
        ExperimentError,
        StoreError,
        ExecutionError,
        OutputError,
        ParameterFileError,
    )


@contextlib.contextmanager
def bad_input() -> Iterator[None]:
    """Turn every input error into a clear message and exit code 2."""
    from pydantic import ValidationError

    from sfbsim.experiments.scenario_files import describe_errors

    kinds = input_errors()
    try:
        yield
    except kinds as error:
        raise fail(str(error)) from None
    except ValidationError as error:
        raise fail("\n".join(describe_errors(error))) from None


# --- options shared by several commands -----------------------------------------------------
ScenarioOption = Annotated[
    str,
    typer.Option(
        "--scenario",
        "-s",
        help="Scenario TOML file, or the name of a shipped scenario (e.g. baseline).",
    ),
]
DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Folder with your own tables of the bundled shape (municipalities.csv, "
        "centres.csv, ...); default: the bundled data.",
    ),
]
QuietOption = Annotated[bool, typer.Option(help="No progress bar or table.")]
