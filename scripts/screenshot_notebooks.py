"""Screenshot what a reader sees of a committed notebook, without running any of its cells.

The notebooks are committed with their outputs so that they read well without being run. Two
places show those outputs without trusting them, and each shows less than a trusted notebook
does, so an output that looks fine after running can read as `<graphviz.graphs.Digraph>` or
as a heap of markup there. This script takes PNG screenshots of both, with headless Chromium
(Debian's /usr/bin/chromium, driven through its DevTools protocol), to check by eye that the
committed outputs render:

- "html": the notebook exported by nbconvert's HTMLExporter as `jupyter nbconvert --to html`
  does (outputs as they are: inline SVG, HTML, scripts), one full-page screenshot.
- "codehost": the notebook exported by nbconvert's HTMLExporter with sanitize_html=True, as
  code hosts and nbviewer-like tools render it. That exporter shows PNG, and SVG as an <img>,
  and passes HTML outputs and markdown through bleach with a short list of allowed tags: any
  other tag (script, style, svg, and also h1 and p: jupyter/nbconvert#2016) is escaped and
  shows as text. So headings and paragraphs of markdown cells read as `<h2 ...>...</h2><p>`
  here although code hosts render markdown properly: judge the outputs, not the markdown. One
  full-page screenshot; the page is loaded offline (its CDN scripts, MathJax, are blocked).
- "lab": JupyterLab 4, started headless on a copy of the notebook in a temporary directory with
  fresh Jupyter config and data directories, so the notebook is untrusted (nothing here runs
  `jupyter trust`; the script checks the server marks no cell trusted) and nothing in the repo
  changes. An untrusted notebook shows no SVG (its text/plain instead) and sanitized HTML
  (no scripts, styles or inline SVG). The notebook is opened, no cell is run (the kernel
  starts, as it does for a reader, and stays idle), and the view is screenshot page by page as
  it is scrolled from top to bottom (windowing off, so every cell is rendered).

    .venv/bin/python scripts/screenshot_notebooks.py notebooks/02_step_through_a_neuron.ipynb \\
        --out /tmp/shots                       # both modes
    .venv/bin/python scripts/screenshot_notebooks.py notebooks/*.ipynb --mode codehost

writes /tmp/shots/02_step_through_a_neuron.codehost.png and .lab-1.png, .lab-2.png, ... (older
.lab-*.png of the same notebook in --out are removed first), in a window --width pixels wide
(1280 by default). Then look at them. Needs the
chromium package and JupyterLab in the venv (`.venv/bin/pip install jupyterlab`) for "lab".
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import nbformat

WAIT = 120.0  # seconds for a program to start or a page to render (a limit on a slow box)
WIDTH = 1280  # CSS pixels, a laptop's browser window (--width)
LAB_HEIGHT = 1000  # the height of one JupyterLab screenshot
OVERLAP = 60  # pixels repeated between consecutive JupyterLab screenshots, so no line is cut


class Browser:
    """One headless Chromium with a fresh profile and a DevTools connection to its page."""

    def __init__(self, program: str, profile: Path) -> None:
        self.socket = None
        self.process = subprocess.Popen(
            [
                program,
                "--headless",
                "--no-sandbox",  # we run as root
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--window-size={WIDTH},{LAB_HEIGHT}",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",  # any free port; Chromium writes it to a file
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helper processes go down with it
        )
        try:
            port_file = profile / "DevToolsActivePort"
            deadline = time.monotonic() + WAIT
            while not (port_file.exists() and port_file.read_text().strip()):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Chromium did not open its DevTools port")
                time.sleep(0.05)
            port = int(port_file.read_text().split()[0])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=WAIT) as r:
                page = next(t for t in json.load(r) if t["type"] == "page")
            import websocket

            self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=WAIT)
        except BaseException:
            self.close()
            raise
        self.next_id = 0
        self.call("Network.enable")  # needed for Network.setBlockedURLs

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            # anything else is an event (Network.*, Page.*) arriving meanwhile: not needed here

    def evaluate(self, expression: str):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, height: int, blocked: list[str]) -> None:
        """Load url in a window WIDTH x height, never fetching a URL that matches blocked."""
        self.call("Network.setBlockedURLs", urls=blocked)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'", url)

    def wait_for(self, condition: str, what: str, required: bool = True) -> bool:
        """Wait until the JavaScript condition holds; on timeout raise, or say so if not
        required and return False."""
        deadline = time.monotonic() + WAIT
        while not self.evaluate(condition):
            if time.monotonic() > deadline:
                if required:
                    raise RuntimeError(f"timed out waiting for {what}")
                print(f"  note: gave up waiting for {what}", file=sys.stderr)
                return False
            time.sleep(0.1)
        return True

    def screenshot(self, path: Path, full_height: int | None = None) -> None:
        """The viewport, or the whole page down to full_height pixels."""
        params: dict = {"format": "png"}
        if full_height is not None:
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "width": WIDTH, "height": full_height, "scale": 1}
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        if self.socket is not None:
            try:  # asked to close, Chromium ends its helpers itself (a SIGTERM leaves zombies)
                self.socket.send(json.dumps({"id": 0, "method": "Browser.close"}))
                self.process.wait(timeout=10)
            except Exception:  # closed already, or slow: the group is ended below either way
                pass
            self.socket.close()
        stop_process_group(self.process)


def stop_process_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process group we started (by its id), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is pid (read from /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if int(after_name[1]) == pid:  # the fields after "(name)" are: state, ppid, ...
            children.append(int(stat.parent.name))
    return children


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- code host ----------------------------------------------------------------------------


def shoot_codehost(
    browser: Browser, notebook: Path, out: Path, work: Path, mode: str = "codehost"
) -> list[Path]:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(sanitize_html=mode == "codehost").from_filename(str(notebook))
    page = work / f"{notebook.stem}.{mode}.html"
    page.write_text(body, encoding="utf-8")
    # offline: the page's CDN scripts (MathJax) are blocked rather than waited for
    browser.open(page.as_uri(), height=LAB_HEIGHT, blocked=["http://*", "https://*"])
    browser.evaluate("document.fonts.ready.then(() => true)")
    height = browser.evaluate("document.documentElement.scrollHeight")
    shot = out / f"{notebook.stem}.{mode}.png"
    browser.screenshot(shot, full_height=height)
    return [shot]


# --- untrusted JupyterLab -----------------------------------------------------------------

# JupyterLab settings for a quiet, complete view: no news or update toasts over the notebook,
# and every cell rendered (no windowing), so each screenshot shows all that is in view.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

# The element of the open notebook that scrolls (JupyterLab 4: the windowed panel's outer box).
NOTEBOOK_SCROLLER = "document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')"


class LabServer:
    """JupyterLab serving one temporary directory, with its own config, data and runtime
    directories (a fresh trust database: every notebook in it is untrusted)."""

    def __init__(self, root: Path, home: Path) -> None:
        if importlib.util.find_spec("jupyterlab") is None:
            raise SystemExit(
                f"JupyterLab is not installed for {sys.executable}: "
                "run `.venv/bin/pip install jupyterlab`, or use --mode codehost"
            )
        self.root = root
        self.token = base64.b32encode(os.urandom(15)).decode().lower()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        for name, sub in [
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
            ("IPYTHONDIR", "ipython"),
        ]:
            env[name] = str(home / sub)
        for name, settings in LAB_SETTINGS.items():
            path = home / "lab-settings" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings))
        self.log = open(home / "jupyterlab.log", "wb")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                f"--port={self.port}",
                "--ip=127.0.0.1",
                f"--ServerApp.token={self.token}",
                f"--ServerApp.root_dir={root}",
                "--allow-root",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + WAIT
        while True:
            try:
                self.api("GET", "status")
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    log = (home / "jupyterlab.log").read_text(errors="replace")
                    tail = "\n".join(log.splitlines()[-20:])
                    raise RuntimeError(f"JupyterLab did not start; its log ends:\n{tail}") from None
                time.sleep(0.2)

    def api(self, method: str, path: str):
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            body = response.read()
        return json.loads(body) if body else None

    def trusted_code_cells(self, name: str) -> int:
        """How many code cells the server marks trusted when it sends the notebook to the page
        (it checks the notebook's signature against its trust database)."""
        cells = self.api("GET", f"contents/{name}?content=1")["content"]["cells"]
        return sum(c["cell_type"] == "code" and c["metadata"].get("trusted") for c in cells)

    def shut_down_kernels_of(self, name: str) -> None:
        """End the sessions (and so the kernels) the page opened for notebook name."""
        for session in self.api("GET", "sessions"):
            if session["path"] == name:
                self.api("DELETE", f"sessions/{session['id']}")

    def close(self) -> None:
        # The server starts kernels in sessions of their own: note them, ask the server to
        # shut down (it stops its kernels), and end any kernel left behind, by its id.
        kernels = child_pids(self.process.pid) if self.process.poll() is None else []
        if self.process.poll() is None:
            try:
                self.api("POST", "shutdown")
                self.process.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                pass
        stop_process_group(self.process)
        for pid in kernels:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass  # already ended with the server, as it should
        self.log.close()


def shoot_lab(browser: Browser, server: LabServer, notebook: Path, out: Path) -> list[Path]:
    shutil.copy(notebook, server.root / notebook.name)
    if server.trusted_code_cells(notebook.name):
        raise RuntimeError(f"{notebook.name} is trusted by the temporary server: not a fair view")
    cells = nbformat.read(notebook, as_version=4).cells
    n_cells = max(len(cells), 1)  # JupyterLab shows an empty notebook with one blank cell
    n_markdown = sum(c.cell_type == "markdown" for c in cells)
    # /doc opens the notebook in single-document mode (no tab bar, side panels closed);
    # ?reset skips restoring a workspace
    browser.open(
        f"{server.url}/doc/tree/{notebook.name}?reset&token={server.token}",
        height=LAB_HEIGHT,
        blocked=["https://*"],  # the page is served by http://127.0.0.1; nothing else is needed
    )
    browser.wait_for(
        f"document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length === {n_cells}"
        f" && document.querySelectorAll('.jp-MarkdownCell.jp-mod-rendered').length"
        f" === {n_markdown} && !!({NOTEBOOK_SCROLLER})",
        f"JupyterLab to render the {n_cells} cells of {notebook.name}",
    )
    # the toolbar's kernel indicator goes idle once the kernel has started (it runs nothing)
    browser.wait_for(
        "!!document.querySelector('.jp-Notebook-ExecutionIndicator[data-status=\"idle\"]')",
        "the kernel to start",
        required=False,
    )
    # rendering done means the notebook stops growing: wait for its height to hold for 1 s
    last, steady_since = -1, time.monotonic()
    deadline = time.monotonic() + WAIT
    while time.monotonic() - steady_since < 1.0 and time.monotonic() < deadline:
        height = browser.evaluate(f"({NOTEBOOK_SCROLLER}).scrollHeight")
        if height != last:
            last, steady_since = height, time.monotonic()
        time.sleep(0.1)
    browser.evaluate("document.fonts.ready.then(() => true)")
    if browser.evaluate("!!document.querySelector('.jp-Dialog')"):
        print(f"  note: a JupyterLab dialog is open over {notebook.name}", file=sys.stderr)
    # JupyterLab's own word on trust (its status-bar item, hidden but kept up to date)
    trust = browser.evaluate("document.querySelector('.jp-StatusItem-trust')?.title")
    print(f"  {notebook.name} in JupyterLab: {trust or 'trust status not found'}")

    for old in out.glob(f"{notebook.stem}.lab-*.png"):
        old.unlink()
    shots = []
    top = 0
    while True:
        # the notebook scrolls past its end into blank space: stop once its last cell is shown
        at, view, last_cell_shown = browser.evaluate(
            f"(() => {{ const s = {NOTEBOOK_SCROLLER}; s.scrollTop = {top};"
            " const cells = s.querySelectorAll('.jp-Cell');"
            " const bottom = cells[cells.length - 1].getBoundingClientRect().bottom;"
            " return [s.scrollTop, s.clientHeight,"
            " bottom <= s.getBoundingClientRect().bottom]; })()"
        )
        time.sleep(0.3)  # let the scrolled view paint
        shot = out / f"{notebook.stem}.lab-{len(shots) + 1}.png"
        browser.screenshot(shot)
        shots.append(shot)
        at_the_end = at < top  # the notebook could not scroll as far as asked
        if last_cell_shown or at_the_end or len(shots) >= 100:
            server.shut_down_kernels_of(notebook.name)  # a quiet box for the next notebook
            return shots
        top = at + view - OVERLAP


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    global WIDTH  # the Browser's window and screenshots read it
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help=".ipynb files")
    parser.add_argument("--out", type=Path, required=True, help="directory for the PNGs")
    parser.add_argument("--mode", choices=["html", "codehost", "lab", "both"], default="both")
    parser.add_argument("--width", type=int, default=WIDTH, help="window width in CSS pixels")
    args = parser.parse_args()
    WIDTH = args.width
    for notebook in args.notebooks:
        if not notebook.is_file():
            parser.error(f"no such notebook: {notebook}")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium is missing: install Debian's chromium package (apt)")
    if importlib.util.find_spec("websocket") is None:
        raise SystemExit("websocket-client is missing: install the project's dev extra")
    args.out.mkdir(parents=True, exist_ok=True)
    # a SIGTERM unwinds like Ctrl-C, so the server and the browser are stopped either way
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nbshots-")))
        started = time.monotonic()
        browser = Browser(chromium, work / "chromium-profile")
        stack.callback(browser.close)
        print(f"chromium started in {time.monotonic() - started:.1f} s")
        server = None
        if args.mode in ("lab", "both"):
            started = time.monotonic()
            (work / "notebooks").mkdir()
            server = LabServer(work / "notebooks", work / "jupyter")
            stack.callback(server.close)
            print(f"jupyterlab started in {time.monotonic() - started:.1f} s")
        for notebook in args.notebooks:
            modes = ["codehost", "lab"] if args.mode == "both" else [args.mode]
            for mode in modes:
                started = time.monotonic()
                if mode in ("codehost", "html"):
                    shots = shoot_codehost(browser, notebook, args.out, work, mode)
                else:
                    shots = shoot_lab(browser, server, notebook, args.out)
                took = time.monotonic() - started
                names = ", ".join(s.name for s in shots)
                print(f"{notebook.name} {mode}: {took:.1f} s -> {names}")
        print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
