# The two commands of the README. Both do their set-up first (scripts/setup.sh: a .venv with
# tracegrad editable, Graphviz's dot), which is silent when nothing is missing: make demo
# installs only what the demo needs (the runtime dependencies), make test everything else.
PYTHON ?= python3
BIN := .venv/bin

.PHONY: setup setup-runtime demo test lint bench clean

setup:
	@PYTHON=$(PYTHON) scripts/setup.sh dev

setup-runtime:
	@PYTHON=$(PYTHON) scripts/setup.sh runtime

demo: setup-runtime
	@$(BIN)/tracegrad demo xor --svg xor_graph.svg

# Every test: unit and property tests, doctests, and the notebooks (nbmake executes them).
test: setup
	@$(BIN)/python -m pytest -q -n 2 --nbmake --doctest-modules tests autograd nn viz tracegrad notebooks

lint: setup
	@$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	@$(BIN)/python bench/bench_engine.py --rounds 3
	@$(BIN)/python bench/bench_moons.py
	@$(BIN)/python bench/bench_tensor.py --repeats 7

clean:
	rm -rf .venv .pytest_cache .hypothesis .ruff_cache *.egg-info bench/.venv-micrograd
