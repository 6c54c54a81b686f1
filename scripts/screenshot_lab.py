"""The README's still of the lab: the moons lab (bench/bench_lab.py's configuration) saved,
opened in headless Chromium at 1280 px wide, moved to the backward phase of a recorded step
with real clicks and key presses, and screenshot.

    python scripts/screenshot_lab.py            # writes docs/lab_moons.png
    python scripts/screenshot_lab.py OUT.png
    python scripts/screenshot_lab.py --fit      # with "fit the graph to the page" ticked

Chromium is Debian's package, driven over the DevTools protocol by the player test's driver
(tests/test_player_browser.py); nothing is downloaded.
"""

from __future__ import annotations

import base64
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from test_player_browser import Browser  # noqa: E402

import nn  # noqa: E402
import viz  # noqa: E402

OUT = REPO / "docs" / "lab_moons.png"


def moons_lab() -> viz.lab:
    X, y = nn.datasets.moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=1)
    return viz.lab(model, X, 2 * y - 1, loss="hinge",
                   optimizer=nn.SGD(model.parameters(), lr=0.1, momentum=0.9), steps=100,
                   collapse=2, seed=0)  # fmt: skip


def main(out: Path = OUT, fit: bool = False) -> Path:
    program = shutil.which("chromium") or shutil.which("chromium-browser")
    if program is None:
        raise SystemExit("no Chromium here (scripts/setup.sh installs Debian's package)")
    with tempfile.TemporaryDirectory() as tmp:
        page = moons_lab().save(Path(tmp) / "moons_lab.html")
        browser = Browser(program, Path(tmp) / "profile")
        try:
            browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                         deviceScaleFactor=1, mobile=False)  # fmt: skip
            browser.open(page.as_uri())
            count = "document.querySelector('.lab-count').textContent"
            # step 31 of 100 (the slider, moved with the keyboard), then its backward phase,
            # a few nodes in: the chain rule of a neuron's box under the graph
            browser.evaluate("document.querySelector('.lab-slider').focus()")
            browser.key("Home", 36)
            for _ in range(30):
                browser.key("ArrowRight", 39)
            # trace the point whose loss is the largest at that step (a misclassified one: the
            # chain rule then carries gradients, where a point past the margin has none)
            lab = "document.querySelector('.tg-lab').tgLab"
            worst = browser.evaluate(
                f"(() => {{ const X = {lab}.points(), Y = {lab}.labels(); let best = 0, top = -1;"
                f" X.forEach((x, i) => {{ const s = {lab}.state(30, x.concat([Y[i]]));"
                f" const v = s.values[s.values.length - 1];"
                f" if (v > top) {{ top = v; best = i; }} }}); return X[best]; }})()"
            )
            x, y = browser.evaluate(f"{lab}.pixel({worst[0]}, {worst[1]})")
            for kind in ("mousePressed", "mouseReleased"):
                browser.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                             clickCount=1)  # fmt: skip
            browser.click(".lab-phase-prev")  # the slider lands at the end of the backward
            browser.click(".lab-phase-next")  # phase: back to the forward, on to backward
            for _ in range(6):
                browser.click(".lab-next")
            deadline = time.monotonic() + 10
            while "step 31 / 100 · backward, node 7 /" not in browser.evaluate(count):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the page shows {browser.evaluate(count)!r}")
                time.sleep(0.05)
            if fit:  # the whole graph scaled to its column
                browser.click(".lab-fit-box")
                time.sleep(0.3)
            height = browser.evaluate(
                "Math.ceil(document.querySelector('.tg-lab').getBoundingClientRect().bottom) + 8"
            )
            png = browser.call("Page.captureScreenshot", format="png",
                               clip={"x": 0, "y": 0, "width": 1280, "height": height,
                                     "scale": 1})["data"]  # fmt: skip
        finally:
            browser.close()
    out.write_bytes(base64.b64decode(png))
    return out


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--fit"]
    print(main(Path(args[0]) if args else OUT, fit="--fit" in sys.argv))
