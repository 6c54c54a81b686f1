#!/usr/bin/env bash
# Set-up for `make demo` / `make test`: a .venv with tracegrad installed editable, and
# Graphviz's `dot`. Two levels: `setup.sh runtime` (make demo) installs tracegrad's runtime
# dependencies only; `setup.sh dev` (make test, make setup; the default) adds every extra, the
# development tools and Chromium (the player's browser test). Idempotent and silent when
# nothing is missing; says what it installs, and prints the one command to run when it
# cannot install something.
set -euo pipefail
cd "$(dirname "$0")/.."

LEVEL=${1:-dev}
case "$LEVEL" in
  runtime) SPEC='.' ;;
  dev) SPEC='.[dev]' ;;
  *) echo "setup: unknown level '$LEVEL' (runtime or dev)" >&2; exit 2 ;;
esac
PYTHON=${PYTHON:-python3}
VENV=.venv
# One stamp per level; the dev install includes the runtime one, so it stamps both.
STAMP=$VENV/.installed-$LEVEL

as_root() {  # run a command as root: directly, or through passwordless sudo; else fail
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

apt_install() {  # apt_install PACKAGE...: install Debian packages, or say how to
  if command -v apt-get >/dev/null 2>&1 && as_root true; then
    echo "setup: installing $* with apt-get" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    return 1
  fi
}

if ! command -v "$PYTHON" >/dev/null 2>&1 ||
   ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "setup: tracegrad needs Python >= 3.10 as '$PYTHON' (set PYTHON=/path/to/python3.x)" >&2
  exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    # Debian ships venv/ensurepip separately.
    pyver=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt_install "python${pyver}-venv" || apt_install python3-venv || {
      echo "setup: cannot create a venv: run 'sudo apt-get install python3-venv' and retry" >&2
      exit 1
    }
    "$PYTHON" -m venv "$VENV"
  fi
fi

if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  if [ "$LEVEL" = dev ]; then
    echo "setup: installing tracegrad, its extras and its dev tools into $VENV (a few minutes the first time)" >&2
  else
    echo "setup: installing tracegrad and its runtime dependencies into $VENV" >&2
  fi
  log=$(mktemp)
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e "$SPEC" >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: pip install failed (output above)" >&2
    exit 1
  fi
  rm -f "$log"
  touch "$STAMP"
  if [ "$LEVEL" = dev ]; then touch "$VENV/.installed-runtime"; fi
fi

if ! command -v dot >/dev/null 2>&1; then
  apt_install graphviz || {
    echo "setup: Graphviz's dot is missing: run 'sudo apt-get install graphviz' (macOS: 'brew install graphviz')" >&2
    # Rendering needs it and its tests would fail: stop here rather than half-run.
    exit 1
  }
fi

# The player's browser test drives a real headless Chromium (Debian's package; no browser is
# downloaded at run time). Without it that test is skipped with its reason (CI fails instead).
if [ "$LEVEL" = dev ] && ! command -v chromium >/dev/null 2>&1 &&
   ! command -v chromium-browser >/dev/null 2>&1; then
  apt_install chromium || echo "setup: Chromium is missing, so the player's browser test is skipped: run 'sudo apt-get install chromium'" >&2
fi

# The notebooks run in a kernel named tracegrad: this .venv's Python, registered inside the
# .venv (no file outside it), so nbmake, `make notebooks` and `make lab` all find it.
if [ "$LEVEL" = dev ] && [ ! -f "$VENV/share/jupyter/kernels/tracegrad/kernel.json" ]; then
  "$VENV/bin/python" -m ipykernel install --sys-prefix --name tracegrad \
    --display-name "Python (tracegrad)" >/dev/null
fi
