"""The saved player in a real headless Chromium: next, previous and the slider change the frame
shown and the chain-rule text under it, and the page fetches nothing from outside.

Chromium is driven through its DevTools protocol (``--remote-debugging-port``) with
websocket-client; the browser is Debian's package, nothing is downloaded. Clicks and key
presses are real input events (``Input.dispatch*``), not JavaScript calls of the handlers.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

import viz
from autograd import Value, topological_order
from viz.graph import fmt

WAIT = 30.0  # seconds for the browser to start or a page to load (a limit, never asserted)


class Browser:
    """One headless Chromium and a DevTools connection to its page."""

    def __init__(self, program: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [
                program,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",  # any free port; Chromium writes it to a file
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helper processes go down with it
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + WAIT
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=WAIT) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        import websocket

        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=WAIT)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)  # an event (Network.*, Page.*) arriving meanwhile

    def evaluate(self, expression: str):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + WAIT
        while self.evaluate("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not finish loading")
            time.sleep(0.05)

    def click(self, selector: str) -> None:
        """A real mouse click at the middle of the element."""
        x, y = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def key(self, name: str, code: int) -> None:
        for kind in ("rawKeyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=name, code=name,
                      windowsVirtualKeyCode=code)  # fmt: skip

    def shown(self) -> tuple:
        """What the player shows: the step counter, the chain-rule text under the picture,
        the nodes outlined in red and in orange (their SVG titles, n0, n1, ... as drawn:
        the computed stroke of each node's outline) and the grad text of the red node."""
        return tuple(
            self.evaluate(
                "(() => { const red = [], orange = []; let grad = '';"
                " for (const g of document.querySelectorAll('.tg-picture g.node')) {"
                "   const title = g.querySelector('title');"
                "   const stroke = getComputedStyle(title.nextElementSibling).stroke;"
                "   if (stroke === 'rgb(220, 38, 38)') {"
                "     red.push(title.textContent);"
                "     const texts = g.querySelectorAll('text');"
                "     grad = texts[texts.length - 1].textContent; }"
                "   if (stroke === 'rgb(245, 158, 11)') orange.push(title.textContent); }"
                " return [document.querySelector('.tg-count').innerText,"
                " document.querySelector('.tg-text').innerText,"
                " red.sort().join(' '), orange.sort().join(' '), grad]; })()"
            )
        )

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the group we started, by its id
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def browser(chromium, tmp_path):
    b = Browser(chromium, tmp_path / "profile")
    yield b
    b.close()


def test_the_saved_player_steps_through_the_frames_in_a_real_browser(
    browser, dot_program, tmp_path, small_neuron
):
    # what each step must show, from a pass over a twin graph (nodes are numbered n0, n1,
    # ... in topological order in both)
    twin = small_neuron()
    nodes = [id(n) for n in topological_order(twin)]
    want = []
    for step in twin.backward_steps():
        red = f"n{nodes.index(id(step.node))}"
        orange = " ".join(sorted(f"n{nodes.index(id(p))}" for p in step.node.parents))
        want.append((str(step), red, orange, f"grad {fmt(step.upstream)}"))
    root = small_neuron()
    page = viz.step_through(root).save(tmp_path / "player.html")
    n = len(want)
    assert n >= 5
    browser.call("Network.enable")
    browser.open(page.as_uri())

    def expect(k):
        text, red, orange, grad = want[k]
        wanted = (f"step {k + 1} / {n}", text, red, orange, grad)
        deadline = time.monotonic() + 5.0  # input events are acknowledged asynchronously
        while browser.shown() != wanted and time.monotonic() < deadline:
            time.sleep(0.02)
        assert browser.shown() == wanted

    # the picture is drawn whole, scaled to the window's width: no horizontal scrolling
    natural, svg_width, window_width, page_width = browser.evaluate(
        "(() => { const svg = document.querySelector('.tg-picture svg');"
        " return [svg.viewBox.baseVal.width * 4 / 3, svg.getBoundingClientRect().right,"
        " window.innerWidth, document.documentElement.scrollWidth]; })()"
    )
    assert natural > window_width >= svg_width and page_width <= window_width
    expect(0)
    browser.click(".tg-next")
    expect(1)
    browser.click(".tg-next")
    expect(2)
    browser.click(".tg-prev")
    expect(1)
    browser.click(".tg-prev")
    browser.click(".tg-prev")  # stops at the first frame
    expect(0)
    # the slider: focus it (as Tab would), then move it with real key presses
    browser.evaluate("document.querySelector('.tg-slider').focus()")
    browser.key("End", 35)
    expect(n - 1)
    browser.click(".tg-next")  # stops at the last frame
    expect(n - 1)
    browser.evaluate("document.querySelector('.tg-slider').focus()")
    browser.key("ArrowLeft", 37)
    expect(n - 2)
    browser.key("Home", 36)
    expect(0)
    # a click on the slider's track moves it there
    x, y, width = browser.evaluate(
        "(() => { const r = document.querySelector('.tg-slider').getBoundingClientRect();"
        " return [r.x, r.y + r.height / 2, r.width]; })()"
    )
    for kind in ("mousePressed", "mouseReleased"):
        browser.call(
            "Input.dispatchMouseEvent",
            type=kind,
            x=x + width - 2,
            y=y,
            button="left",
            clickCount=1,
        )
    expect(n - 1)
    # a click on the picture shows it full size, scrolled to the step's node (the first
    # step's, the root, is at the right end); a second click fits it to the width again
    browser.evaluate("document.querySelector('.tg-slider').focus()")
    browser.key("Home", 36)
    expect(0)

    def picture_state():
        return browser.evaluate(
            "(() => { const box = document.querySelector('.tg-picture').getBoundingClientRect();"
            " const svg = document.querySelector('.tg-picture svg').getBoundingClientRect();"
            " const red = [...document.querySelectorAll('.tg-picture g.node')].find(g =>"
            "   getComputedStyle(g.querySelector('title').nextElementSibling).stroke"
            "   === 'rgb(220, 38, 38)').getBoundingClientRect();"
            " return [svg.width, box.left, box.right, red.left, red.right]; })()"
        )

    browser.click(".tg-picture")
    width, left, right, red_left, red_right = picture_state()
    assert width == pytest.approx(natural, abs=2)
    assert left <= red_left < red_right <= right  # the root in view, not behind a scroll
    browser.click(".tg-picture")
    assert picture_state()[0] <= window_width
    expect(0)
    # the page loaded nothing but itself (its still picture is inline, a data: URL)
    requested = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert [url for url in requested if not url.startswith("data:image/png;base64,")] == [
        page.as_uri()
    ]


def _run_notebooks():
    """scripts/run_notebooks.py as a module (its keep_what_a_reader_sees)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "scripts" / "run_notebooks.py"
    spec = importlib.util.spec_from_file_location("run_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _output_page(tmp_path: Path, root, name: str, committed: bool) -> Path:
    """A notebook of one cell showing viz.draw(root), exported as `jupyter nbconvert --to html`
    does (JupyterLab's stylesheet and output markup): its output as the kernel gives it, or
    as committed notebooks keep it (scripts/run_notebooks.py)."""
    nbformat = pytest.importorskip("nbformat")
    nbconvert = pytest.importorskip("nbconvert")
    from IPython.core.formatters import DisplayFormatter

    bundle, _ = DisplayFormatter().format(viz.draw(root))
    data = {k: base64.b64encode(v).decode() if isinstance(v, bytes) else v
            for k, v in bundle.items()}  # fmt: skip
    nb = nbformat.v4.new_notebook()
    output = nbformat.v4.new_output("display_data", data)
    nb.cells.append(nbformat.v4.new_code_cell("viz.draw(root)", outputs=[output]))
    if committed:
        _run_notebooks().keep_what_a_reader_sees(nb)
        assert set(nb.cells[0].outputs[0].data) == {"image/png", "text/plain"}
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    page = tmp_path / f"{name}.html"
    page.write_text(body, encoding="utf-8")
    return page


@pytest.mark.parametrize("form", ["live", "committed"])
def test_a_wide_graph_in_a_narrow_output_is_scaled_down_whole(browser, dot_program, tmp_path, form):
    # viz.draw's output in nbconvert's HTML, in a window narrower than the graph: as the
    # kernel gives it ("live": the HTML form, an <img> of the SVG) and as committed notebooks
    # keep it (the PNG alone); and a small graph at its natural size, not blown up
    x = Value(0.5, label="x")
    y = x
    for _ in range(12):
        y = (y * 1.5).tanh()
    y.label = "y"
    y.backward()
    small = Value(2.0, label="a") * 3
    small.backward()
    window = 700
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=window,
        height=800,
        deviceScaleFactor=1,
        mobile=False,
    )

    def shown(root, name):
        browser.open(_output_page(tmp_path, root, name, form == "committed").as_uri())
        return browser.evaluate(
            "new Promise(done => {"
            " const img = document.querySelector('.jp-OutputArea-output img');"
            " const measure = () => { const r = img.getBoundingClientRect();"
            "  const area = img.closest('.jp-OutputArea-output').getBoundingClientRect();"
            "  done([r.left, r.right, r.width, r.height, img.naturalWidth, img.naturalHeight,"
            "   area.left, area.right, document.documentElement.scrollWidth]); };"
            " img.complete ? measure() : img.onload = measure; })"
        )

    left, right, width, height, natural_w, natural_h, area_left, area_right, page_width = shown(
        y, "wide"
    )
    assert natural_w > 2 * window  # the graph is much wider than the window ...
    assert area_left <= left and right <= area_right + 0.5  # ... and drawn inside its output
    assert width == pytest.approx(area_right - area_left, abs=1)  # at the output's width
    assert height == pytest.approx(width * natural_h / natural_w, rel=0.02)  # aspect kept
    assert page_width <= window  # nothing to scroll sideways
    _, _, width, height, natural_w, natural_h, *_ = shown(small, "small")
    assert natural_w < window * 0.7  # narrower than the output
    assert (width, height) == (pytest.approx(natural_w, abs=1), pytest.approx(natural_h, abs=1))
