"""The lab's saved page in a real headless Chromium (as the player's test drives it, real
input events over the DevTools protocol): play advances the phases, the backward phase
shows autograd's own str(step), a click on a point traces that sample, live training lowers
the loss on moons, an added point changes the regions, no console error and no request
beyond the page itself. Screenshots are written next to the page for a person to look at."""

from __future__ import annotations

import base64
import time

import pytest

# the player's DevTools driver and its ``browser`` fixture
from test_player_browser import browser as browser  # noqa: F401

import nn
import viz

WAIT = 10.0


def until(condition, what, seconds=WAIT):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.03)


def click_at(browser, x, y):
    for kind in ("mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


def screenshot(browser, path):
    png = browser.call("Page.captureScreenshot", format="png")["data"]
    path.write_bytes(base64.b64decode(png))


def count(browser):
    return browser.evaluate("document.querySelector('.lab-count').textContent")


def rule(browser):
    return browser.evaluate("document.querySelector('.lab-rule').textContent")


def errors(browser):
    bad = []
    for e in browser.events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            bad.append(params["exceptionDetails"])
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            bad.append(params)
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            bad.append(params["entry"])
    return bad


def open_page(browser, page):
    browser.call("Network.enable")
    browser.call("Runtime.enable")
    browser.call("Log.enable")
    browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=1000,
                 deviceScaleFactor=1, mobile=False)  # fmt: skip
    browser.open(page.as_uri())
    until(lambda: browser.evaluate("!!document.querySelector('.tg-lab').tgLab"), "the page")


def requested(browser):
    return [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]


@pytest.fixture
def xor_lab():
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    lab = viz.lab(model, X, y, loss="binary_crossentropy",
                  optimizer=nn.SGD(model.parameters(), lr=0.5), steps=6, sample=1)  # fmt: skip
    return lab


def test_play_goes_through_the_three_phases_and_backward_shows_str_step(
    browser, xor_lab, tmp_path, dot_program
):
    page = xor_lab.save(tmp_path / "xor.html")
    open_page(browser, page)
    texts = xor_lab.records[0]["texts"]
    assert count(browser).startswith("step 1 / 6 · forward, node 1 / ")
    browser.click(".lab-phase-next")
    until(lambda: "backward" in count(browser), "the backward phase")
    assert rule(browser) == texts[0]
    for k in range(1, 4):
        browser.click(".lab-next")
        until(lambda k=k: f"backward, node {k + 1} /" in count(browser), f"backward node {k}")
        assert rule(browser) == texts[k]
    # the same texts at a later step (the recorded weights of step 4)
    browser.evaluate("document.querySelector('.lab-slider').focus()")
    browser.key("End", 35)
    until(lambda: count(browser).startswith("step 6 / 6"), "the last step")
    last = xor_lab.records[-1]["texts"]
    assert rule(browser) == last[-1]
    browser.key("Home", 36)
    until(lambda: count(browser).startswith("step 1 / 6"), "the first step")
    browser.click(".lab-phase-prev")
    browser.click(".lab-phase-prev")
    until(lambda: "forward, node 1 /" in count(browser), "the first phase")
    browser.click(".lab-play")
    seen = set()

    def phases():
        text = count(browser)
        seen.add((text.split(" · ")[0], text.split(" · ")[1].split(",")[0]))
        return ("step 2 / 6", "forward") in seen

    until(phases, "play to reach step 2", seconds=30)
    browser.click(".lab-play")  # pause
    assert {("step 1 / 6", p) for p in ("forward", "backward", "update")} <= seen
    screenshot(browser, tmp_path / "xor.png")
    assert errors(browser) == []
    assert requested(browser) == [page.as_uri()]


def test_clicking_a_point_traces_it(browser, xor_lab, tmp_path, dot_program):
    page = xor_lab.save(tmp_path / "xor.html")
    open_page(browser, page)
    browser.click(".lab-phase-next")  # backward: the chain rule of sample 1, at its 4th node
    for _ in range(3):
        browser.click(".lab-next")
    until(lambda: "backward, node 4 /" in count(browser), "the backward phase")
    before = rule(browser)
    assert browser.evaluate("document.querySelector('.tg-lab').tgLab.sample()") == 1
    x, y = browser.evaluate("document.querySelector('.tg-lab').tgLab.pixel(1, 1)")  # X[3]
    click_at(browser, x, y)
    until(lambda: browser.evaluate("document.querySelector('.tg-lab').tgLab.sample()") == 3,
          "sample 3 traced")  # fmt: skip
    assert rule(browser) != before
    # the page's numbers for sample 3 are the Python graph's (autograd's str(step) there)
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    from autograd import Value

    root = nn.losses.bce([model([Value(X[3][0], "x0"), Value(X[3][1], "x1")])],
                         [Value(float(y[3]), "y")])  # fmt: skip
    assert rule(browser) == [str(s) for s in root.backward_steps()][3]
    screenshot(browser, tmp_path / "xor-sample3.png")
    assert errors(browser) == []


@pytest.fixture
def moons_lab():
    X, y = nn.datasets.moons(60, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 8, 1], seed=1)
    return viz.lab(model, X, 2 * y - 1, loss="hinge",
                   optimizer=nn.Adam(model.parameters(), lr=0.02), steps=10, collapse=2,
                   seed=0)  # fmt: skip


def test_live_training_lowers_the_loss_on_moons(browser, moons_lab, tmp_path, dot_program):
    page = moons_lab.save(tmp_path / "moons.html")
    open_page(browser, page)
    lab_js = "document.querySelector('.tg-lab').tgLab"
    recorded = browser.evaluate(f"{lab_js}.recorded")
    assert recorded == 10
    browser.click(".lab-train")
    until(lambda: browser.evaluate(f"{lab_js}.losses().length") >= recorded + 150,
          "150 live steps", seconds=60)  # fmt: skip
    browser.click(".lab-train")  # pause
    losses = browser.evaluate(f"{lab_js}.losses()")[recorded:]
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.8 * first, (first, last)
    assert "(live)" in count(browser)
    screenshot(browser, tmp_path / "moons-live.png")
    assert errors(browser) == []
    assert requested(browser) == [page.as_uri()]


def regions_after_live_steps(browser, page, add_point):
    open_page(browser, page)
    lab_js = "document.querySelector('.tg-lab').tgLab"
    if add_point:
        n = len(browser.evaluate(f"{lab_js}.points()"))
        # far from every point: the middle of the top edge of the data
        x, y = browser.evaluate(f"{lab_js}.pixel(0.5, 1.3)")
        click_at(browser, x, y)
        until(lambda: len(browser.evaluate(f"{lab_js}.points()")) == n + 1, "the new point")
    for _ in range(8):
        browser.click(".lab-one")
    until(lambda: browser.evaluate(f"{lab_js}.losses().length") == 18, "8 live steps")
    return browser.evaluate("document.querySelector('.lab-data').toDataURL()")


def test_an_added_point_changes_the_regions(browser, moons_lab, tmp_path, dot_program):
    page = moons_lab.save(tmp_path / "moons.html")
    without = regions_after_live_steps(browser, page, add_point=False)
    with_point = regions_after_live_steps(browser, page, add_point=True)
    assert without != with_point
    screenshot(browser, tmp_path / "moons-added.png")
    assert errors(browser) == []


def test_a_collapsed_graph_s_edge_labels_follow_the_step(browser, moons_lab, tmp_path, dot_program):
    # an edge between two boxes that stands for one edge carries that edge's local gradient:
    # at step 1 what draw wrote for the traced sample, later the page's own numbers
    import html
    import re

    from viz._lab_page import _graph

    svg = _graph(moons_lab)[0]
    drawn = dict(
        re.findall(
            r'class="edge">\s*<title>(s\d+&#45;&gt;s\d+)</title>.*?>([^<>]+)</text>', svg, re.S
        )  # fmt: skip
    )
    drawn = {html.unescape(title): html.unescape(text) for title, text in drawn.items()}
    page = moons_lab.save(tmp_path / "moons.html")
    open_page(browser, page)
    shown = (
        "(() => { const out = {}; document.querySelectorAll('.lab-graph g.edge').forEach((g) =>"
        " { const t = g.querySelector('text'); if (t) out[g.querySelector('title').textContent]"
        " = t.textContent; }); return out; })()"
    )
    at_first = browser.evaluate(shown)
    single = [t for t in at_first if not drawn.get(t, "×").startswith("×")]
    assert len(single) > 20  # the labels dot placed (it leaves out those that would overlap)
    assert {t: at_first[t] for t in single} == {t: drawn[t] for t in single}
    browser.evaluate("document.querySelector('.lab-slider').focus()")
    browser.key("End", 35)
    until(lambda: count(browser).startswith("step 10 / 10"), "the last step")
    at_last = browser.evaluate(shown)
    assert sum(at_last[t] != at_first[t] for t in single) > len(single) // 2
    assert errors(browser) == []
