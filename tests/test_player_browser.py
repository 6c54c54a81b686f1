"""The saved player in a real headless Chromium: next, previous and the slider change the frame
shown and the chain-rule text under it, and the page fetches nothing from outside.

Chromium is driven through its DevTools protocol (``--remote-debugging-port``) with
websocket-client; the browser is Debian's package, nothing is downloaded. Clicks and key
presses are real input events (``Input.dispatch*``), not JavaScript calls of the handlers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

import viz

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
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
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

    def shown(self) -> tuple[int, str, str]:
        """(index of the visible frame, its chain-rule text as rendered, the step counter)."""
        return tuple(
            self.evaluate(
                "(() => { const frames = [...document.querySelectorAll('.tg-frame')];"
                " const k = frames.findIndex(f => f.offsetParent !== null);"
                " const visible = frames.filter(f => f.offsetParent !== null).length;"
                " if (visible !== 1) return [-visible, '', ''];"
                " return [k, frames[k].querySelector('pre').innerText,"
                " document.querySelector('.tg-count').innerText]; })()"
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
    root = small_neuron()
    texts = [str(step) for step in root.backward_steps()]
    root.zero_grad()
    page = viz.step_through(root).save(tmp_path / "player.html")
    n = len(texts)
    assert n >= 5
    browser.call("Network.enable")
    browser.open(page.as_uri())

    def expect(k):
        want = (k, texts[k], f"step {k + 1} / {n}")
        deadline = time.monotonic() + 5.0  # input events are acknowledged asynchronously
        while browser.shown() != want and time.monotonic() < deadline:
            time.sleep(0.02)
        assert browser.shown() == want

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
    # the page loaded nothing but itself (its still picture is inline, a data: URL)
    requested = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert [url for url in requested if not url.startswith("data:image/png;base64,")] == [
        page.as_uri()
    ]
