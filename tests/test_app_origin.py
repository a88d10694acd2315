"""Only the app's own pages may drive it: Origin and Host checks (viz/server.py's OriginGuard).

A web page open in the same browser must not be able to open the app's kernel websocket
(cross-site WebSocket hijacking) or reach the app through a name of its own that resolves to
127.0.0.1 (DNS rebinding). The first tests check the rules in-process; the others start the real
server (as the browser tests do) and send upgrades and requests with chosen Origin and Host
headers. The same refusal seen from a real browser page is in test_app_browser.py.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import websockets
from websockets.sync.client import connect

from sfbsim.viz import server

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"


# --- the rules, in-process ------------------------------------------------------------------
def test_origins_are_normalised_like_a_browser_sends_them():
    assert server.normalise_origin("HTTP://LocalHost:8765/") == "http://localhost:8765"
    assert server.normalise_origin("https://app.example.org:443") == "https://app.example.org"
    assert server.normalise_origin("http://[::1]:8765") == "http://[::1]:8765"
    for bad in ["null", "app.example.org", "ftp://x", "http://x/path", "http://u@x", "http://x:y"]:
        with pytest.raises(ValueError, match="not an origin"):
            server.normalise_origin(bad)


def test_allowed_origins_are_the_listening_addresses_and_the_extra_ones():
    assert server.allowed_origins() == [
        "http://127.0.0.1:8765",
        "http://localhost:8765",
        "http://[::1]:8765",
    ]
    origins = server.allowed_origins("192.168.1.5", 9000, ["https://app.example.org/"])
    assert origins[-2:] == ["http://192.168.1.5:9000", "https://app.example.org"]
    assert "http://localhost:9000" in origins
    wildcard = server.allowed_origins("0.0.0.0", 9000)
    assert f"http://{socket.gethostname().lower()}:9000" in wildcard
    env = {server.ALLOWED_ORIGINS_ENV: "https://a.example, http://b.example:8080 http://c"}
    assert server.origins_from_environment(env) == [
        "https://a.example",
        "http://b.example:8080",
        "http://c",
    ]
    assert server.origins_from_environment({}) == []
    with pytest.raises(ValueError, match="not an origin"):
        server.allowed_origins(extra=["evil.example"])


def test_a_bad_origin_is_refused_before_the_server_starts():
    command = [sys.executable, "-m", "sfbsim", "app", "--allow-origin", "evil.example"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "not an origin" in result.stderr, result.stderr
    env = {**os.environ, server.ALLOWED_ORIGINS_ENV: "http://x/path"}
    command = [sys.executable, "-m", "sfbsim.viz.server"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2 and "not an origin" in result.stderr, result.stderr
    help_text = subprocess.run(
        [sys.executable, "-m", "sfbsim", "app", "--help"], capture_output=True, text=True
    ).stdout
    assert "--allow-origin" in help_text


def run(coroutine):
    """Run a coroutine in a thread of its own (the browser tests' Playwright holds this thread's
    event loop when the whole suite runs in one session)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def call(guard: server.OriginGuard, kind: str, headers: dict[str, str]) -> tuple[bool, list]:
    """(whether the wrapped app was reached, the messages the guard sent) for one request."""
    reached = []
    sent = []

    async def inner(scope, receive, send):
        reached.append(scope["type"])

    async def receive():
        return {"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": kind,
        "path": "/jupyter/api/kernels/k/channels",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    run(server.OriginGuard(inner, guard.origins)(scope, receive, send))
    return bool(reached), sent


def test_the_guard_refuses_foreign_origins_and_hosts():
    guard = server.OriginGuard(None, server.allowed_origins(port=8765))
    own = {"Host": "127.0.0.1:8765"}
    assert call(guard, "websocket", {**own, "Origin": "http://127.0.0.1:8765"}) == (True, [])
    local = {"Host": "localhost:8765", "Origin": "http://localhost:8765"}
    assert call(guard, "websocket", local)[0]
    assert call(guard, "websocket", own)[0], "no Origin: a non-browser client"
    foreign = ["http://evil.example", "http://127.0.0.1:9999", "https://127.0.0.1:8765", "null"]
    for origin in foreign:
        reached, sent = call(guard, "websocket", {**own, "Origin": origin})
        assert not reached and sent == [{"type": "websocket.close", "code": 1008}], origin
        reached, sent = call(guard, "http", {**own, "Origin": origin})
        assert not reached and sent[0]["status"] == 403, origin
    for host in ["evil.example:8765", "127.0.0.1:9999", "localhost.evil.example:8765"]:
        assert not call(guard, "websocket", {"Host": host})[0], host
        assert not call(guard, "http", {"Host": host, "Origin": f"http://{host}"})[0], host
    assert not call(guard, "http", {})[0], "no Host"
    lifespan = []

    async def inner(scope, receive, send):
        lifespan.append(scope["type"])

    run(server.OriginGuard(inner, guard.origins)({"type": "lifespan"}, None, None))
    assert lifespan == ["lifespan"]


def test_the_guard_is_added_only_to_the_solara_app_and_only_while_serving():
    import uvicorn.config

    original = uvicorn.config.Config.load_app
    with server.origin_guard(["http://127.0.0.1:1"]):
        assert uvicorn.config.Config.load_app is not original
    assert uvicorn.config.Config.load_app is original


# --- the real server ------------------------------------------------------------------------
EXTRA_ENV = "https://app.example.org"
EXTRA_OPTION = "http://proxy.example:8080"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def port():
    """The app on a free loopback port, with one extra origin from the environment and one
    from --allow-origin; stopped after the module."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "server-origin.log"
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115
    command = [sys.executable, "-m", "sfbsim.viz.server", "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--allow-origin", EXTRA_OPTION],
        cwd=REPO,
        env={**os.environ, server.ALLOWED_ORIGINS_ENV: EXTRA_ENV},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the app's server exited ({process.returncode}); see {log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app's server did not answer within 90 s; see {log_path}")
            time.sleep(0.3)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    assert "Traceback" not in log_path.read_text(encoding="utf-8"), f"see {log_path}"


def upgrade(port: int, origin: str | None, host: str | None = None) -> int:
    """HTTP status of a WebSocket upgrade to the kernel channel (101: accepted), sent to the
    server on ``port`` with this Origin (none if None) and Host (default 127.0.0.1:PORT)."""
    host = host or f"127.0.0.1:{port}"
    path = f"/jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}"

    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        with connect(f"ws://{host}{path}", sock=sock, origin=origin) as ws:
            return ws.response.status_code
    except websockets.InvalidStatus as error:
        return error.response.status_code
    finally:
        sock.close()


def request(port: int, method: str, path: str, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, headers={"Host": f"127.0.0.1:{port}", **headers})
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_app_accepts_websockets_from_its_own_pages(port):
    assert upgrade(port, f"http://127.0.0.1:{port}") == 101
    assert upgrade(port, f"http://localhost:{port}", host=f"localhost:{port}") == 101
    assert upgrade(port, None) == 101  # no Origin: not a browser (documented in viz/server.py)


def test_the_app_refuses_websockets_from_other_pages(port):
    """Cross-site WebSocket hijacking: a page elsewhere (or on another local port) is refused."""
    assert upgrade(port, "http://evil.example") == 403
    assert upgrade(port, f"http://127.0.0.1:{port + 1}") == 403
    assert upgrade(port, "null") == 403


def test_the_app_refuses_a_foreign_host(port):
    """DNS rebinding: evil.example resolving to 127.0.0.1 sends its own name as the Host."""
    rebound = f"evil.example:{port}"
    assert upgrade(port, f"http://{rebound}", host=rebound) == 403
    assert request(port, "GET", "/", {"Host": rebound}) == 403
    assert request(port, "GET", "/", {}) == 200


def test_the_app_refuses_cross_site_http_requests(port):
    close = f"/_solara/api/close/{uuid.uuid4()}?session_id=x"
    assert request(port, "POST", close, {"Origin": "http://evil.example"}) == 403
    assert request(port, "POST", close, {"Origin": f"http://127.0.0.1:{port}"}) == 200


def test_more_origins_come_from_the_option_and_the_environment(port):
    assert upgrade(port, EXTRA_ENV, host="app.example.org") == 101
    assert upgrade(port, EXTRA_OPTION, host="proxy.example:8080") == 101
    assert upgrade(port, EXTRA_OPTION, host=f"127.0.0.1:{port}") == 101
    assert upgrade(port, "https://other.example.org", host="app.example.org") == 403
