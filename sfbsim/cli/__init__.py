"""The ``sfbsim`` command line: one Typer app, one module per group of commands.

``run`` (sfbsim.cli.run), ``compare``, ``sweep``, ``sensitivity``, ``results`` and ``report``
(sfbsim.cli.experiments), ``calibrate`` (sfbsim.cli.calibrate), ``explain`` (sfbsim.cli.explain),
``app`` (sfbsim.cli.serve), and what exists: ``scenarios``, ``levers``, ``outcomes`` and
``--version`` (sfbsim.cli.listings).
Heavy modules (the model, pandas, the app) are imported inside the commands, so ``--help``
answers at once.
"""

from __future__ import annotations

from typing import Annotated

import typer

from sfbsim.cli import calibrate, experiments, explain, listings, run, serve
from sfbsim.experiments import heap

app = typer.Typer(
    help="sfbsim: simulate municipal referrals to centres for parents and children "
    "(sentre for foreldre og barn) through Bufetat's intake, and test policy levers.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)


@app.callback()
def sfbsim(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version (and git commit) and stop.",
            callback=listings.version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Simulate referrals to centres for parents and children and compare policy levers.

    Start with `sfbsim run` (the baseline); `sfbsim scenarios`, `sfbsim levers` and
    `sfbsim outcomes` list what exists; see `sfbsim COMMAND --help` for each command.
    """


app.command()(run.run)
for _command in experiments.COMMANDS:
    app.command()(_command)
app.command()(calibrate.calibrate)
app.command()(explain.explain)
app.command("app")(serve.app_command)
for _command in listings.COMMANDS:
    app.command()(_command)


def main() -> None:
    """Entry point of the ``sfbsim`` command (sfbsim.experiments.heap: the collector spared in
    its own process)."""
    heap.own_the_process()
    try:
        app()
    finally:
        heap.leave_the_heap_to_the_os()
