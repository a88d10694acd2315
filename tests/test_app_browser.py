"""The app in a real browser: Debian's chromium driven by pytest-playwright.

The tests start the app's server themselves (``python -m viz.server``) on a free loopback port,
load each page, change a lever, run, and check that the charts and tables change and that no
request leaves this machine. Screenshots go to ``test-artifacts/``.

No browser is downloaded: the tests use /usr/bin/chromium (``apt-get install chromium``;
``.ci/run`` does it). Without it they skip locally and fail under CI (the CI variable is set).
"""

from __future__ import annotations

import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """pytest-playwright launches Debian's chromium (never a downloaded browser)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install it with `apt-get install chromium`"
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the browser tests to run: {message}", pytrace=False)
        pytest.skip(message)
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args() -> dict:
    return {"viewport": {"width": 1400, "height": 1000}, "accept_downloads": True}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(browser_type_launch_args):  # noqa: ARG001 - skip/fail before starting a server
    """The app on a free loopback port; stopped after the module."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "server.log", "w", encoding="utf-8")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "sfbsim.viz.server", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the app's server exited ({process.returncode}); see server.log")
            try:
                with urllib.request.urlopen(url + "/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the app's server did not answer within 90 s; see server.log")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    text = (ARTIFACTS / "server.log").read_text(encoding="utf-8")
    assert "Could not load URL" not in text, "an asset was missing from the bundled assets"
    assert "Traceback" not in text, "the server logged a traceback; see server.log"


class Requests:
    """Every host a page asked for (requests and websockets) and every failed request."""

    def __init__(self, page) -> None:
        self.hosts: set[str] = set()
        self.failed: list[str] = []
        page.on("request", lambda r: self._add(r.url))
        page.on("websocket", lambda ws: self._add(ws.url))
        page.on("requestfailed", lambda r: self.failed.append(r.url))

    def _add(self, url: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("data", "blob"):
            self.hosts.add(parsed.hostname or "")

    def assert_local(self) -> None:
        assert self.hosts <= {"127.0.0.1", "localhost"}, f"requests left localhost: {self.hosts}"
        assert not self.failed, f"failed requests: {self.failed}"


def status(page) -> str:
    return page.locator(".sfb-status").inner_text()


def region_table(page) -> str:
    return page.locator("table.sfb-region-table").inner_text()


def chart_src(page) -> str:
    return page.locator(".sfb-charts img").first.get_attribute("src") or ""


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def tick(page, label: str) -> None:
    """Tick a Solara checkbox and wait until the server has it ticked.

    The box is the server's: a click sends the change and the page re-renders with it, so a
    click that lands while an earlier change is still re-rendering the panel can be lost.
    Playwright's ``check()`` looks at the box right after its click and fails then; this
    clicks again only once the box has been seen unticked for a while.
    """
    box = page.get_by_label(label)
    for _ in range(4):
        if box.is_checked():
            return
        box.click(force=True)
        try:
            expect(box).to_be_checked(timeout=5_000)
            return
        except AssertionError:
            continue
    expect(box).to_be_checked()


def smallest_fixed_comparison(page) -> None:
    """Set the Compare page to its quickest comparison: the fewest replications (2) and years
    (1), at fixed parameters, and wait until the page shows all three."""
    for lever in ("replications", "years"):
        handle = page.locator(f".sfb-lever-{lever} [role=slider]")
        handle.focus()
        handle.press("Home")
    page.get_by_text("Replications: 2 paired seeds").wait_for()
    page.get_by_text("Run length: 1 year", exact=True).wait_for()
    page.locator(".sfb-uncertainty").get_by_role("button", name="fixed").click()
    page.get_by_text("Intervals cover: Noise only (fixed parameters).").wait_for()


def test_explore_page_levers_run_and_sessions(server, page, browser):
    page.set_default_timeout(TIMEOUT_MS)
    requests = Requests(page)
    page.goto(server + "/")
    page.locator(".sfb-status").wait_for()
    assert "Day 0 of 730" in status(page)
    page.locator("table.sfb-region-table").wait_for()
    page.locator(".sfb-map img").first.wait_for()
    table_before, chart_before = region_table(page), chart_src(page)
    shot(page, "explore-initial")

    # change levers: duty to assist on, another seed; Reset applies them
    tick(page, "Duty to assist (Bufetat queues families instead of refusing them)")
    seed = page.get_by_label("Seed")
    seed.fill("7")
    seed.press("Enter")
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("duty to assist: yes").wait_for()
    page.get_by_text("seed 7").wait_for()

    # run: two steps of 31 days each
    page.get_by_role("button", name="Step").click()
    page.get_by_text("Day 31 of").wait_for()
    page.get_by_role("button", name="Step").click()
    page.get_by_text("Day 62 of").wait_for()
    page.wait_for_function(
        "before => document.querySelector('table.sfb-region-table').innerText !== before",
        arg=table_before,
    )
    assert region_table(page) != table_before
    assert chart_src(page) != chart_before
    shot(page, "explore-after-steps")

    # the map's colour can be switched
    page.get_by_role("button", name="consent refusals / 1,000").click()
    page.get_by_text("consent refusals / 1,000").first.wait_for()

    # another browser session has its own model, still at day 0
    other = browser.new_page()
    try:
        other.set_default_timeout(TIMEOUT_MS)
        other.goto(server + "/")
        other.locator(".sfb-status").wait_for()
        assert "Day 0 of" in status(other)
    finally:
        other.close()
    assert "Day 62 of" in status(page)

    # a bad lever value gives a message, not a traceback
    days = page.get_by_label("Intake meeting days (mon-fri, comma-separated)")
    days.fill("tue, someday")
    days.press("Enter")
    page.get_by_role("button", name="Reset").click()
    error = page.locator(".sfb-error")
    error.wait_for()
    assert "intake meeting days" in error.inner_text()
    assert "Traceback" not in page.locator("body").inner_text()
    shot(page, "explore-bad-lever")
    requests.assert_local()


def test_compare_page_runs_paired_replications(server, page):
    page.set_default_timeout(TIMEOUT_MS)
    requests = Requests(page)
    page.goto(server + "/")
    page.locator(".sfb-status").wait_for()
    # the reform is the current levers: the duty to assist
    tick(page, "Duty to assist (Bufetat queues families instead of refusing them)")
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("duty to assist: yes").wait_for()
    page.get_by_role("tab", name="Compare").click()
    page.get_by_role("button", name="Run comparison").wait_for()
    page.wait_for_url("**/compare")
    shot(page, "compare-initial")

    page.get_by_role("button", name="Run comparison").click()
    table = page.locator("table.sfb-compare-table")
    table.wait_for(timeout=120_000)
    text = table.inner_text()
    assert "admissions" in text and "95 % CI low" in text
    assert page.locator(".sfb-compare-results img").count() >= 1
    shot(page, "compare-results")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download runs (CSV)").click()
    path = download_info.value.path()
    header = Path(path).read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("baseline_scenario,reform_scenario,arm,seed,year")
    requests.assert_local()


OPEN_WEBSOCKET = """url => new Promise(done => {
    const ws = new WebSocket(url);
    ws.onopen = () => { ws.close(); done("open"); };
    ws.onerror = () => done("refused");
})"""


class Elsewhere(http.server.BaseHTTPRequestHandler):
    """Another site on this machine: a blank page (its origin is not the app's)."""

    def do_GET(self) -> None:  # noqa: N802 - the handler's name
        body = b"<!doctype html><p>elsewhere</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_only_the_apps_own_pages_can_open_its_websocket(server, page):
    """Cross-site WebSocket hijacking: a page from another origin (another site on this machine)
    cannot open the app's kernel websocket (the app refuses it); the app's own page can."""
    page.set_default_timeout(TIMEOUT_MS)
    kernel = f"/jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}"
    channel = server.replace("http://", "ws://") + kernel
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere) as other:
        threading.Thread(target=other.serve_forever, daemon=True).start()
        elsewhere = f"http://localhost:{other.server_address[1]}"
        try:
            page.goto(elsewhere + "/")
            assert page.evaluate(OPEN_WEBSOCKET, channel) == "refused"
        finally:
            other.shutdown()
    page.goto(server + "/")
    page.locator(".sfb-status").wait_for()
    assert page.evaluate(OPEN_WEBSOCKET, channel) == "open"
    log = (ARTIFACTS / "server.log").read_text(encoding="utf-8")
    assert f"refused websocket {kernel.split('?')[0]!r}: Origin {elsewhere!r}" in log


# --- the side panel, the map, saving and uploading scenario files ---------------------------
class Console:
    """Console errors and uncaught page errors of a page."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def assert_none(self, when: str) -> None:
        assert not self.errors, f"console errors {when}: {self.errors}"


DEVELOPER_CONTROLS = ("Play Interval", "Render Interval", "Use Threads")
"""The labels of Mesa SolaraViz's developer controls (mesa/visualization/solara_viz.py)."""

BOXES = """selector => [...document.querySelectorAll(selector)]
    .filter(e => e.offsetParent !== null)
    .map(e => { const r = e.getBoundingClientRect();
                return {name: (e.innerText || e.className).slice(0, 60), x: r.x, y: r.y,
                        w: r.width, h: r.height}; })"""

OVERLAPS = """selector => {
    // under the panel, the visible children (in the page's flow) of every element: no two
    // overlap
    const shown = e => e.offsetParent !== null
        && ["static", "relative"].includes(getComputedStyle(e).position);
    const name = e => (e.innerText || e.className.toString() || e.tagName).slice(0, 50);
    const found = [];
    const walk = el => {
        const kids = [...el.children].filter(shown)
            .map(e => [e, e.getBoundingClientRect()])
            .filter(([e, r]) => r.width > 0 && r.height > 0);
        for (let i = 0; i < kids.length; i++) {
            for (let j = i + 1; j < kids.length; j++) {
                const [a, ra] = kids[i], [b, rb] = kids[j];
                const dx = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
                const dy = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
                if (dx > 1 && dy > 1) found.push([name(a), name(b)]);
            }
        }
        kids.forEach(([e]) => walk(e));
    };
    document.querySelectorAll(selector).forEach(walk);
    return found;
}"""


def assert_side_panel_fits(page, panel: str) -> None:
    """The panel stays inside the drawer, the drawer left of the page's content, and no two
    elements of the panel that sit side by side or one below the other overlap."""
    drawer = page.locator("nav.v-navigation-drawer").bounding_box()
    main = page.locator(".v-content.solara-content-main").first
    padding = main.evaluate("e => parseFloat(getComputedStyle(e).paddingLeft)")
    left = main.bounding_box()["x"] + padding
    assert drawer["x"] + drawer["width"] <= left + 1, "the side panel covers the page"
    boxes = page.evaluate(BOXES, panel)
    assert boxes, f"no {panel} on the page"
    for box in boxes:
        assert box["x"] + box["w"] <= drawer["x"] + drawer["width"] + 1, box
    assert page.evaluate(OVERLAPS, panel) == []


MAP_PIXELS = """() => {
    const img = document.querySelector('.sfb-map img');
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    canvas.getContext('2d').drawImage(img, 0, 0);
    return canvas.toDataURL('image/png');
}"""
"""The map as the browser shows it, as a PNG data URL (the img's src is a blob URL)."""


def viridis_share(page) -> float:
    """Share of the map's pixels in viridis colours (the municipalities' colour scale): areas
    cover several times what the dots did."""
    import base64
    import io

    import matplotlib
    import numpy as np
    from matplotlib.image import imread

    src = page.evaluate(MAP_PIXELS)
    assert src.startswith("data:image/png;base64,"), src[:40]
    image = imread(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))[..., :3].reshape(-1, 3)
    lut = matplotlib.colormaps["viridis"](np.linspace(0, 1, 256))[:, :3]
    nearest = np.min(((image[:, None, :] - lut[None, :, :]) ** 2).sum(-1), axis=1)
    return float((nearest < 0.002).mean())


def test_explore_side_panel_sliders_controls_map_and_console(server, page):
    page.set_default_timeout(TIMEOUT_MS)
    console = Console(page)
    page.goto(server + "/")
    page.locator(".sfb-status").wait_for()
    page.locator(".sfb-map img").first.wait_for()
    page.locator(".sfb-lever-information_campaign .v-slider").wait_for()

    # every slider has a usable width and shows its value and unit in its label
    sliders = page.locator(".sfb-sidebar .v-slider")
    assert sliders.count() == 4
    for i in range(sliders.count()):
        box = sliders.nth(i).bounding_box()
        assert box["width"] > 200 and box["height"] > 10, box
    labels = page.locator(".sfb-sidebar .sfb-lever-label").all_inner_texts()
    assert labels == [
        "Co-payment: ×1.0 the Ministry's rates",
        "Residential units per centre: ×1.0 today's",
        "Information campaign: 0% of the familiarity gap closed",
        "Run length: 2 years",
    ]
    # the information campaign's slider can be used: two steps to the right are 10 %
    campaign = page.locator(".sfb-lever-information_campaign [role=slider]")
    campaign.focus()
    campaign.press("ArrowRight")
    campaign.press("ArrowRight")
    page.get_by_text("Information campaign: 10% of the familiarity gap closed").wait_for()
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("campaign: 10%").wait_for()

    # Mesa's developer controls are not drawn; the run controls are
    body = page.locator("body").inner_text()
    for label in DEVELOPER_CONTROLS:
        assert label not in body
    for name in ("Reset", "▶", "Step"):
        assert page.get_by_role("button", name=name).count() == 1
    assert_side_panel_fits(page, ".sfb-sidebar")

    # the map draws areas (cells, labelled as such), not dots
    caption = page.locator(".sfb-map-caption").inner_text()
    assert "cells around each municipality's travel point" in caption
    assert "not municipal boundaries" in caption
    src = page.locator(".sfb-map img").first.get_attribute("src") or ""
    assert viridis_share(page) > 0.04, "the map's municipalities cover too little of it"
    console.assert_none("on load")

    page.get_by_role("button", name="Step").click()
    page.get_by_text("Day 31 of").wait_for()
    page.wait_for_function(
        "before => document.querySelector('.sfb-map img').src !== before", arg=src
    )
    assert viridis_share(page) > 0.04
    assert_side_panel_fits(page, ".sfb-sidebar")
    shot(page, "explore-side-panel")
    console.assert_none("after Step")


def test_save_levers_then_upload_them_in_compare(server, page, tmp_path):
    page.set_default_timeout(TIMEOUT_MS)
    console = Console(page)
    requests = Requests(page)
    page.goto(server + "/")
    page.locator(".sfb-status").wait_for()
    tick(page, "Duty to assist (Bufetat queues families instead of refusing them)")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Save levers (TOML)").click()
    saved = tmp_path / "my_levers.toml"
    saved.write_bytes(Path(download_info.value.path()).read_bytes())
    text = saved.read_text(encoding="utf-8")
    assert 'baseline = "baseline"' in text and "duty_to_assist = true" in text

    # the saved file runs with `sfbsim run --scenario FILE`
    out = tmp_path / "run"
    command = [str(Path(sys.executable).parent / "sfbsim"), "run", "--scenario", str(saved)]
    command += ["--years", "1", "--out", str(out), "--quiet"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (out / "manifest.json").exists()

    page.get_by_role("tab", name="Compare").click()
    page.get_by_role("button", name="Run comparison").wait_for()
    picker = page.locator(".sfb-upload input[type=file]")

    # a bad file gives a message, never a traceback
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[levers]\ncopay_multiplier = "half"\nwings = 2\n')
    picker.set_input_files(str(bad))
    error = page.locator(".sfb-upload-error")
    error.wait_for()
    assert "bad.toml" in error.inner_text() and "copay_multiplier" in error.inner_text()
    assert "wings: unknown key" in error.inner_text()
    assert "Traceback" not in page.locator("body").inner_text()
    shot(page, "compare-bad-upload")

    # the saved file becomes the reform and runs in the comparison
    picker.set_input_files(str(saved))
    page.locator(".sfb-upload-ok").wait_for()
    assert page.locator(".sfb-upload-error").count() == 0
    page.get_by_text("uploaded: my_levers.toml").first.wait_for()
    smallest_fixed_comparison(page)
    assert_side_panel_fits(page, ".sfb-compare-controls")
    page.get_by_role("button", name="Run comparison").click()
    table = page.locator("table.sfb-compare-table")
    table.wait_for(timeout=180_000)
    results = page.locator(".sfb-compare-results").inner_text()
    assert "uploaded: my_levers.toml compared with baseline" in results
    assert "intake_refusals" in table.inner_text()
    shot(page, "compare-uploaded")
    assert_side_panel_fits(page, ".sfb-compare-controls")
    console.assert_none("in Compare")
    requests.assert_local()


def map_fraction(number: str) -> tuple[float, float]:
    """Where a municipality's travel point (inside its area) is on the map, as shares of the
    picture's width and height: the map drawn the way the page draws it."""
    from sfbsim.viz.explore import ExploreRun, map_figure, map_png, map_position

    run = ExploreRun()
    figure = map_figure(run)
    map_png(figure)
    row = run.municipality_frame().set_index("kommunenummer").loc[number]
    return map_position(figure, row["lon"], row["lat"])


def test_click_a_municipality_to_explain_it_and_split_compare_by_pathway(server, page):
    page.set_default_timeout(TIMEOUT_MS)
    console = Console(page)
    requests = Requests(page)
    page.goto(server + "/")
    page.locator(".sfb-status").wait_for()
    hint = page.locator(".sfb-explain-hint")
    hint.wait_for()
    assert "Click a municipality" in hint.inner_text()
    page.get_by_role("button", name="Step").click()
    page.get_by_text("Day 31 of").wait_for()
    page.get_by_role("button", name="Step").click()
    page.get_by_text("Day 62 of").wait_for()

    # a click on Trondheim's area explains its cases so far, as sfbsim explain does
    x, y = map_fraction("5001")
    picture = page.locator(".sfb-map img.sfb-map-image")
    box = picture.bounding_box()
    picture.click(position={"x": x * box["width"], "y": y * box["height"]})
    title = page.locator(".sfb-explain-title")
    title.wait_for()
    assert "Trondheim" in title.inner_text() and "(5001)" in title.inner_text()
    assert "day 62" in title.inner_text()
    explain = page.locator(".sfb-explain").inner_text()
    assert "had " in explain and "cases over the run" in explain and "First choices:" in explain
    assert page.locator(".sfb-explain .sfb-case").count() >= 1
    assert page.locator(".sfb-explain table.sfb-explain-table").count() == 1
    assert "national" in page.locator("table.sfb-explain-table").inner_text()
    assert page.locator(".sfb-explain-hint").count() == 0
    shot(page, "explore-explain")
    console.assert_none("after a click on the map")

    # Compare with the split by pathway (opt-in)
    page.get_by_role("tab", name="Compare").click()
    page.get_by_role("button", name="Run comparison").wait_for()
    smallest_fixed_comparison(page)
    tick(page, "Split by pathway")
    page.get_by_role("button", name="Run comparison").click()
    split = page.locator("table.sfb-pathway-table")
    split.wait_for(timeout=240_000)
    text = split.inner_text()
    assert "referrals" in text and "total" in text and "bed_days" in text
    caption = page.locator(".sfb-pathway-caption").inner_text()
    assert "parts add up" in caption and "run-to-run noise only" in caption
    assert page.locator(".sfb-pathways img").count() == 1
    shot(page, "compare-pathways")
    console.assert_none("in Compare with the split by pathway")

    # Break down by region: a row per region and outcome (sfbsim compare --by region), no rerun
    page.locator(".sfb-break-down").get_by_role("button", name="region", exact=True).click()
    grouped = page.locator("table.sfb-grouped-table")
    grouped.wait_for()
    rows = grouped.locator("tbody tr")
    assert rows.filter(has=page.locator("td", has_text="nord")).count() >= 1
    assert "note" in grouped.locator("thead").inner_text()
    assert "--by municipality" in page.locator(".sfb-grouped-caption").inner_text()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download table by region (CSV)").click()
    header = Path(download_info.value.path()).read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("scenario,outcome,scope,group,region,baseline_mean")
    # the outcome filter: only the chosen outcome's rows, one per region
    all_rows = rows.count()
    page.locator(".sfb-grouped-outcomes .v-select__slot").click()
    page.locator(
        ".v-menu__content .v-list-item", has_text=re.compile(r"^\s*admissions\s*$")
    ).click()
    page.keyboard.press("Escape")
    page.locator(".sfb-grouped-count", has_text="1 of").wait_for()
    outcome_cells = grouped.locator("tbody tr td:nth-child(2)")
    assert 1 < outcome_cells.count() < all_rows
    assert set(outcome_cells.all_inner_texts()) == {"admissions"}
    grouped.scroll_into_view_if_needed()
    shot(page, "compare-by-region")
    console.assert_none("in Compare broken down by region")
    requests.assert_local()
