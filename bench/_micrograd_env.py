"""A private venv holding micrograd 0.1.0 from PyPI, the engine the benchmarks compare against.

micrograd lives in its own venv (bench/.venv-micrograd, git-ignored) because its top-level
package must not share an environment with ours, and because the benchmark wants exactly the
released 0.1.0, run as users run it.

    >>> from _micrograd_env import micrograd_python
    >>> python = micrograd_python()   # first call creates the venv (a few seconds), then instant
    >>> python.endswith("python")
    True
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MICROGRAD_VERSION = "0.1.0"
VENV_DIR = Path(__file__).resolve().parent / ".venv-micrograd"


def _venv_python(venv: Path) -> Path:
    # Windows venvs keep their interpreter in Scripts\, every other platform in bin/.
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True)


def _has_micrograd(python: Path) -> bool:
    if not python.exists():
        return False
    probe = "import importlib.metadata as m; print(m.version('micrograd'))"
    done = _run([str(python), "-c", probe])
    return done.returncode == 0 and done.stdout.strip() == MICROGRAD_VERSION


def micrograd_python(venv: Path = VENV_DIR) -> str:
    """Return the path of a python that can ``from micrograd.engine import Value``.

    Creates ``venv`` with ``python -m venv`` and installs ``micrograd==0.1.0`` into it the
    first time; later calls only check that it is there. Prints nothing; a failed step raises
    ``RuntimeError`` carrying the failing command's output.

    >>> micrograd_python()  # doctest: +SKIP
    '/.../bench/.venv-micrograd/bin/python'
    """
    python = _venv_python(venv)
    if _has_micrograd(python):
        return str(python)
    steps = []
    if not python.exists():
        steps.append([sys.executable, "-m", "venv", str(venv)])
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    steps.append([*pip, f"micrograd=={MICROGRAD_VERSION}"])
    for cmd in steps:
        done = _run(cmd)
        if done.returncode != 0:
            raise RuntimeError(
                f"setting up micrograd's venv failed: {' '.join(cmd)}\n{done.stdout}{done.stderr}"
            )
    if not _has_micrograd(python):
        raise RuntimeError(f"micrograd {MICROGRAD_VERSION} is still missing from {venv}")
    return str(python)


if __name__ == "__main__":
    print(micrograd_python())
