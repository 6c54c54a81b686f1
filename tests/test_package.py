"""The distribution as pip installs it: the wheel's top-level names, a non-editable install in
a fresh venv running ``python -m tracegrad --version`` (no network, no numpy needed), the
extras each error names, and another package named ``autograd`` found first (HIPS autograd)
reported in one line by the command, ``import nn`` and ``import viz``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"autograd", "nn", "viz", "tracegrad"}
# What a build of the source tree does not need (and must not pick up).
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    ".venv-*",
    "runs",
)


def run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    """A subprocess with a timeout, so a hang is a failure."""
    return subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=300, **kwargs
    )


def clean_env(**extra: str) -> dict:
    """The environment without anything that would point Python at this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    return {**env, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of a copy of this source tree (so the build leaves nothing in the checkout)."""
    tmp = tmp_path_factory.mktemp("wheel")
    shutil.copytree(ROOT, tmp / "src", ignore=NOT_SOURCE)
    done = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            ".",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            tmp / "dist",
        ],
        cwd=tmp / "src",
        env=clean_env(),
    )
    assert done.returncode == 0, done.stderr
    (built,) = (tmp / "dist").glob("tracegrad-*.whl")
    return built


def wheel_metadata(wheel: Path) -> tuple[list[str], dict]:
    """The wheel's file names and its METADATA headers."""
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        return names, Parser().parsestr(zf.read(meta).decode("utf-8"))


@pytest.mark.slow
def test_the_wheel_holds_exactly_the_four_packages(wheel):
    names, _ = wheel_metadata(wheel)
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == PACKAGES  # no bare cli module, nothing else
    with zipfile.ZipFile(wheel) as zf:
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = zf.read(entry_points).decode()
    assert re.search(r"^tracegrad\s*=\s*tracegrad\.cli:main$", scripts, re.M), scripts


@pytest.mark.slow
def test_a_fresh_non_editable_install_runs_python_m_tracegrad_version(wheel, tmp_path):
    """Installed with --no-deps into a new venv: --version needs neither numpy nor the
    checkout, the console script is there, and no top-level cli module is."""
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", "--without-pip", venv]).returncode == 0
    python = venv / "bin" / "python"
    done = run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", wheel],
        env=clean_env(),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    _, meta = wheel_metadata(wheel)
    env = clean_env()
    for argv in (
        [python, "-m", "tracegrad", "--version"],
        [venv / "bin" / "tracegrad", "--version"],
    ):
        done = run(argv, cwd=tmp_path, env=env)
        assert (done.returncode, done.stdout, done.stderr) == (
            0,
            f"tracegrad {meta['Version']}\n",
            "",
        )
    where = run(
        [python, "-c", "import tracegrad; print(tracegrad.__version__, tracegrad.__file__)"],
        cwd=tmp_path,
        env=env,
    )
    version, location = where.stdout.split()
    assert version == meta["Version"] and Path(location).is_relative_to(venv)
    assert (
        "No module named 'cli'" in run([python, "-c", "import cli"], cwd=tmp_path, env=env).stderr
    )
    # Without its dependencies the engine cannot run: the command says so in one line.
    done = run([python, "-m", "tracegrad", "check", "x", "x=1"], cwd=tmp_path, env=env)
    assert done.returncode == 1 and done.stderr == "tracegrad: No module named 'numpy'\n"


@pytest.mark.slow
def test_each_extra_an_error_names_exists_and_brings_its_package(wheel):
    """Every `pip install tracegrad[...]` in the code names a declared extra; the extras hold
    what the issue asks: hypothesis, TensorBoard's writer and viewer, Pillow."""
    _, meta = wheel_metadata(wheel)
    extras = set(meta.get_all("Provides-Extra"))
    named = set()
    for path in [*ROOT.glob("autograd/**/*.py"), *ROOT.glob("nn/*.py"), *ROOT.glob("viz/*.py")]:
        named |= set(re.findall(r"pip install tracegrad\[(\w+)\]", path.read_text("utf-8")))
    assert {"testing", "tensorboard", "digits"} <= named and named <= extras, (named, extras)
    wanted = {
        "testing": {"hypothesis"},
        "tensorboard": {"tensorboardx", "tensorboard"},
        "gif": {"pillow"},
        "digits": {"scikit-learn"},
    }
    for extra, packages in wanted.items():
        requires = {
            re.split(r"[<>=!~ ;\[]", r)[0].lower()
            for r in meta.get_all("Requires-Dist")
            if f'extra == "{extra}"' in r
        }
        assert requires == packages, (extra, requires)


def test_strategies_without_hypothesis_name_the_extra():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "try:\n    from autograd.testing import strategies\n"
        "except ImportError as err:\n    print(err)\n"
    )
    done = run([sys.executable, "-c", code])
    assert done.stdout == (
        "autograd.testing.strategies needs hypothesis: pip install tracegrad[testing]\n"
    )


# ---------------------------------------------------------------- another autograd first


@pytest.fixture
def foreign_autograd(tmp_path) -> tuple[dict, Path]:
    """An environment whose ``import autograd`` finds a stand-in for HIPS autograd."""
    package = tmp_path / "site" / "autograd"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        '"""Not ours: HIPS autograd."""\ndef grad(f):\n    return f\n'
    )
    return {**os.environ, "PYTHONPATH": str(tmp_path / "site")}, package / "__init__.py"


def fix_is_said(message: str, where: Path) -> bool:
    return (
        f"found another package at {where} (HIPS autograd?)" in message
        and "use a virtual environment without it" in message
        and "`pip uninstall autograd` and then reinstall tracegrad" in message
    )


@pytest.mark.parametrize("package", ["nn", "viz"])
def test_import_says_in_one_line_that_autograd_is_not_ours(foreign_autograd, package, tmp_path):
    env, where = foreign_autograd
    code = f"try:\n    import {package}\nexcept ImportError as err:\n    print(err)\n"
    done = run([sys.executable, "-c", code], env=env, cwd=tmp_path)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 1, done.stdout + done.stderr
    assert done.stdout.startswith(f"{package} needs tracegrad's autograd, but 'import autograd'")
    assert fix_is_said(done.stdout, where)


def test_the_command_says_in_one_line_that_autograd_is_not_ours(foreign_autograd, tmp_path):
    env, where = foreign_autograd
    script = Path(sys.executable).parent / "tracegrad"
    for argv in (
        [script, "check", "x", "x=1"],
        [sys.executable, "-m", "tracegrad", "graph", "x", "x=1", "-o", tmp_path / "g.dot"],
    ):
        done = run(argv, env=env, cwd=tmp_path)
        assert done.returncode == 1 and done.stdout == "", done.stderr
        assert len(done.stderr.splitlines()) == 1 and fix_is_said(done.stderr, where)
    assert not (tmp_path / "g.dot").exists()
    version = run([script, "--version"], env=env, cwd=tmp_path)  # needs no engine
    assert version.returncode == 0 and version.stdout.startswith("tracegrad ")
