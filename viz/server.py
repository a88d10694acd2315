"""Start the app's server: ``serve()`` (used by ``sfbsim app``) or ``python -m viz.server``.

Offline by design: Solara's JavaScript, CSS and fonts are served by the app's own server from
the ``solara-assets`` package (installed into ``<prefix>/share/solara/cdn``) through Solara's
assets proxy, and the proxy's upstream CDN is pointed at an address that does not exist, so a
missing asset fails visibly instead of being fetched from the internet. Telemetry and the
version check are off. The server listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys

APP = "sfbsim.viz.app"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

OFFLINE_ENV = {
    # serve every asset from <prefix>/share/solara/cdn (the solara-assets package) ...
    "SOLARA_ASSETS_PROXY": "True",
    # ... and never fetch a missing one from the internet (nothing listens on port 9)
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/npm/",
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
}


def offline_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with the settings that keep the app offline."""
    return {**(os.environ if env is None else env), **OFFLINE_ENV}


def solara_arguments(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """The ``solara run`` arguments for the app (production mode, no browser, no version check)."""
    return [
        "run",
        APP,
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
    ]


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Run the app with ``solara run`` until interrupted (blocking)."""
    os.environ.update(OFFLINE_ENV)
    if "solara" in sys.modules:  # settings were read at import: set them here too
        import solara.server.settings
        import solara.settings

        solara.settings.assets.proxy = True
        solara.settings.assets.cdn = OFFLINE_ENV["SOLARA_ASSETS_CDN"]
        solara.server.settings.telemetry.mixpanel_enable = False
    from solara.__main__ import cli

    print(f"sfbsim app: http://{host}:{port}  (Ctrl-C stops it)", flush=True)  # noqa: T201
    cli.main(args=solara_arguments(host, port), prog_name="solara", standalone_mode=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the sfbsim app (Solara).")
    parser.add_argument("--host", default=DEFAULT_HOST, help="default: 127.0.0.1 (this machine)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default: 8765")
    args = parser.parse_args(argv)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
