# The two commands of the README. Both do their set-up first (scripts/setup.sh: a .venv with
# tracegrad editable, Graphviz's dot), which is silent when nothing is missing: make demo
# installs only what the demo needs (the runtime dependencies), make test everything else.
PYTHON ?= python3
BIN := .venv/bin

.PHONY: setup setup-runtime demo test lint bench clean notebooks lab

setup:
	@PYTHON=$(PYTHON) scripts/setup.sh dev

setup-runtime:
	@PYTHON=$(PYTHON) scripts/setup.sh runtime

demo: setup-runtime
	@$(BIN)/tracegrad demo xor --svg xor_graph.svg

# Every test: unit and property tests, doctests, and the notebooks (nbmake executes them).
test: setup
	@$(BIN)/python -m pytest -q -n 2 --nbmake --doctest-modules tests autograd nn viz tracegrad notebooks

# Rebuild every notebook from its jupytext source (notebooks/NN_name.py), executed, as the
# committed .ipynb beside it. One: make notebooks NOTEBOOKS=notebooks/03_xor.py
NOTEBOOKS ?= notebooks/[0-9][0-9]_*.py
notebooks: setup
	@$(BIN)/python scripts/run_notebooks.py $(NOTEBOOKS)

# JupyterLab in the .venv, on the notebooks, with the tracegrad kernel (as root, as in a
# container, JupyterLab wants to be told that is meant).
lab: setup
	@$(BIN)/python -c 'import jupyterlab' 2>/dev/null || \
		$(BIN)/python -m pip install --disable-pip-version-check -q jupyterlab
	@$(BIN)/jupyter lab --notebook-dir=notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root)

lint: setup
	@$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	@$(BIN)/python bench/bench_engine.py --rounds 3
	@$(BIN)/python bench/bench_moons.py
	@$(BIN)/python bench/bench_tensor.py --repeats 7
	@$(BIN)/python bench/bench_scopes.py
	@$(BIN)/python bench/bench_lab.py

clean:
	rm -rf .venv .pytest_cache .hypothesis .ruff_cache *.egg-info bench/.venv-micrograd
