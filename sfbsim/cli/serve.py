"""``sfbsim app``: start the interactive app."""

from __future__ import annotations

from typing import Annotated

import typer

from sfbsim.cli.common import console


def app_command(
    host: Annotated[
        str, typer.Option(help="Address to listen on (only this machine by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8765,
) -> None:
    """Start the interactive app (Explore and Compare pages) at http://HOST:PORT."""
    from sfbsim.viz.server import serve

    console.print(f"sfbsim app on http://{host}:{port} (Ctrl-C stops it)", markup=False)
    serve(host=host, port=port)
