"""Start the app's server: ``serve()`` (used by ``sfbsim app``) or ``python -m viz.server``.

Offline by design: Solara's JavaScript, CSS and fonts are served by the app's own server from
the ``solara-assets`` package (installed into ``<prefix>/share/solara/cdn``) through Solara's
assets proxy, and the proxy's upstream CDN is pointed at an address that does not exist, so a
missing asset fails visibly instead of being fetched from the internet. Telemetry and the
version check are off. The server listens on 127.0.0.1 unless told otherwise.

Only its own pages may drive it. Solara accepts any page's WebSocket, so a web page open in the
same browser could otherwise connect to ``ws://127.0.0.1:8765/jupyter/api/kernels/...`` and run
the app (cross-site WebSocket hijacking), or reach it through a name of its own that resolves to
127.0.0.1 (DNS rebinding). ``OriginGuard``, an ASGI middleware added to Solara's Starlette app
(``solara.server.starlette:app``, the app ``solara run`` serves) when uvicorn loads it (see
``origin_guard``), answers every HTTP request and WebSocket upgrade with 403 unless

- its ``Host`` header is the host:port of an allowed origin (DNS rebinding), and
- its ``Origin`` header, when there is one, is an allowed origin (cross-site requests).

The allowed origins are the addresses the server listens on: ``http://127.0.0.1:PORT``,
``http://localhost:PORT``, ``http://[::1]:PORT`` and ``http://HOST:PORT`` for ``--host HOST``
(with a wildcard such as 0.0.0.0 also the machine's name and the addresses it resolves to),
plus any given with ``--allow-origin`` or in ``SFBSIM_ALLOWED_ORIGINS`` (comma- or
space-separated), e.g. the address of a reverse proxy or of this machine on a network.

A request without an ``Origin`` header is let through (when its Host is right): browsers send
Origin with every WebSocket upgrade and every cross-site POST, so a missing Origin means a
non-browser client (curl, a script, the tests' websocket client), which could forge any header
anyway; this is what Jupyter does too. ``Origin: null`` (sandboxed frames, ``file://`` pages)
is refused.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import urlsplit

APP = "sfbsim.viz.app"
SOLARA_ASGI_APP = "solara.server.starlette:app"
"""The ASGI app ``solara run`` has uvicorn serve."""
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
ALLOWED_ORIGINS_ENV = "SFBSIM_ALLOWED_ORIGINS"
"""Environment variable with more allowed origins (comma- or space-separated)."""

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("", "0.0.0.0", "::")
DEFAULT_PORTS = {"http": 80, "https": 443}

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


# --- which pages may drive the app ----------------------------------------------------------
def _netloc(hostname: str, port: int | None) -> str:
    name = f"[{hostname}]" if ":" in hostname else hostname
    return name if port is None else f"{name}:{port}"


def normalise_origin(origin: str) -> str:
    """``scheme://host[:port]`` as a browser sends it in ``Origin`` (lower case, no default
    port, no trailing slash); ValueError for anything else (a path, ``null``, no scheme)."""
    text = origin.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}") from None
    scheme = parts.scheme.lower()
    if (
        scheme not in DEFAULT_PORTS
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"not an origin (http[s]://host[:port]): {origin!r}")
    return f"{scheme}://{_netloc(parts.hostname, None if port == DEFAULT_PORTS[scheme] else port)}"


def _machine_names() -> set[str]:
    """This machine's names and the addresses they resolve to (for a wildcard --host)."""
    names = {socket.gethostname(), socket.getfqdn()}
    for name in list(names):
        with contextlib.suppress(OSError):
            names |= {info[4][0] for info in socket.getaddrinfo(name, None)}
    return {name for name in names if name and "%" not in name}


def allowed_origins(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, extra: Iterable[str] = ()
) -> list[str]:
    """The origins whose pages may use the app: the addresses it listens on, then ``extra``.

    ValueError for an ``extra`` entry that is not an origin.
    """
    names = [*LOOPBACK_NAMES, host.strip("[]")]
    if host.strip("[]") in WILDCARD_HOSTS:
        names += sorted(_machine_names())
    origins = [normalise_origin(f"http://{_netloc(name, port)}") for name in names if name]
    origins += [normalise_origin(origin) for origin in extra]
    return list(dict.fromkeys(origins))


def origins_from_environment(env: dict[str, str] | None = None) -> list[str]:
    """The entries of ``SFBSIM_ALLOWED_ORIGINS`` (comma- or space-separated; may be unset)."""
    value = (os.environ if env is None else env).get(ALLOWED_ORIGINS_ENV, "")
    return value.replace(",", " ").split()


class OriginGuard:
    """ASGI middleware: 403 for a request whose Host, or Origin if any, is not allowed.

    ``origins`` are normalised origins (``allowed_origins()``); a Host header must be the
    host:port of one of them (or the bare host when the port is the scheme's default). A refused
    WebSocket is closed before the handshake, which the server answers with HTTP 403. Lifespan
    messages pass through.
    """

    def __init__(self, app, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = frozenset(normalise_origin(origin) for origin in origins)
        hosts = set()
        for origin in self.origins:
            parts = urlsplit(origin)
            hosts.add(_netloc(parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]))
            if parts.port is None:
                hosts.add(_netloc(parts.hostname, None))
        self.hosts = frozenset(hosts)

    def refusal(self, headers: Sequence[tuple[bytes, bytes]]) -> str | None:
        """Why a request with these headers is refused, or None when it is allowed."""
        hosts = [value.decode("latin-1") for key, value in headers if key.lower() == b"host"]
        origins = [value.decode("latin-1") for key, value in headers if key.lower() == b"origin"]
        if len(hosts) != 1 or hosts[0].strip().lower() not in self.hosts:
            return f"Host {', '.join(hosts) or '(none)'!r} is not an address of this server"
        if len(origins) > 1:
            return "more than one Origin header"
        if origins:
            try:
                origin = normalise_origin(origins[0])
            except ValueError:
                origin = None
            if origin not in self.origins:
                return f"Origin {origins[0]!r} is not an allowed origin"
        return None

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        problem = self.refusal(scope.get("headers", [])) if kind in ("http", "websocket") else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        print(  # noqa: T201 - the server's log is its terminal
            f"sfbsim app: refused {kind} {scope.get('path', '')!r}: {problem} "
            f"(more origins: --allow-origin or {ALLOWED_ORIGINS_ENV})",
            file=sys.stderr,
            flush=True,
        )
        if kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        body = f"Forbidden: {problem}\n".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def origin_guard(origins: Iterable[str]) -> Iterator[None]:
    """While open, the Solara app uvicorn loads gets ``OriginGuard`` as its outermost middleware.

    ``solara run`` has uvicorn import ``solara.server.starlette:app`` by name when the server
    starts; importing it earlier here would run Solara's import-time set-up (loading the app
    script, choosing the file watcher) before ``solara run`` has switched to production mode. So
    the guard is added when uvicorn loads the app (``uvicorn.Config.load_app``), with Starlette's
    ``add_middleware``, before the app has handled anything.
    """
    import uvicorn.config

    load_app = uvicorn.config.Config.load_app
    origins = list(origins)

    def load_guarded_app(config):
        app = load_app(config)
        if config.app == SOLARA_ASGI_APP:
            app.add_middleware(OriginGuard, origins=origins)
        return app

    uvicorn.config.Config.load_app = load_guarded_app
    try:
        yield
    finally:
        uvicorn.config.Config.load_app = load_app


def serve(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, allow_origins: Iterable[str] = ()
) -> None:
    """Run the app with ``solara run`` until interrupted (blocking).

    Only pages from ``allowed_origins(host, port, allow_origins + SFBSIM_ALLOWED_ORIGINS)`` may
    use it (see the module's docstring); ValueError for an entry that is not an origin.
    """
    origins = allowed_origins(host, port, [*allow_origins, *origins_from_environment()])
    os.environ.update(OFFLINE_ENV)
    if "solara" in sys.modules:  # settings were read at import: set them here too
        import solara.server.settings
        import solara.settings

        solara.settings.assets.proxy = True
        solara.settings.assets.cdn = OFFLINE_ENV["SOLARA_ASSETS_CDN"]
        solara.server.settings.telemetry.mixpanel_enable = False
    from solara.__main__ import cli

    # Solara warns on every page over plain http at 127.0.0.1 that an iframe's samesite=none
    # cookie needs https, and falls back to samesite=lax: what a local app not embedded in an
    # iframe should have, so the warning says nothing to the user.
    warnings.filterwarnings(
        "ignore", message="Cookies with samesite=none require https", category=UserWarning
    )
    print(f"sfbsim app: http://{host}:{port}  (Ctrl-C stops it)", flush=True)  # noqa: T201
    with origin_guard(origins):
        cli.main(args=solara_arguments(host, port), prog_name="solara", standalone_mode=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the sfbsim app (Solara).")
    parser.add_argument("--host", default=DEFAULT_HOST, help="default: 127.0.0.1 (this machine)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default: 8765")
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept pages from ORIGIN (scheme://host[:port]; repeatable; "
        f"also {ALLOWED_ORIGINS_ENV})",
    )
    args = parser.parse_args(argv)
    try:
        allowed_origins(args.host, args.port, [*args.allow_origin, *origins_from_environment()])
    except ValueError as error:
        parser.error(str(error))
    serve(args.host, args.port, args.allow_origin)


if __name__ == "__main__":
    main()
