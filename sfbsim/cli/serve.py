"""``sfbsim app``: start the interactive app."""

from __future__ import annotations

from typing import Annotated

import typer

from sfbsim.cli.common import fail


def app_command(
    host: Annotated[
        str, typer.Option(help="Address to listen on (only this machine by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8765,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option(
            help="Also accept pages from this origin (scheme://host[:port], e.g. a reverse "
            "proxy's address; repeatable; also SFBSIM_ALLOWED_ORIGINS). By default only "
            "pages from the address the app listens on (and 127.0.0.1/localhost) may use it."
        ),
    ] = None,
) -> None:
    """Start the interactive app (Explore and Compare pages) at http://HOST:PORT."""
    from sfbsim.viz.server import allowed_origins, origins_from_environment, serve

    extra = allow_origin or []
    try:
        allowed_origins(host, port, [*extra, *origins_from_environment()])
    except ValueError as error:
        raise fail(str(error)) from None
    serve(host=host, port=port, allow_origins=extra)
