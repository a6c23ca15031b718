# The two commands a newcomer needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean bench

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## test: create .venv, install the project with its dev extra, run the test suite
test: $(STAMP)
	$(BIN)/python -m pytest -q

## run: create .venv, install, simulate the bundled baseline scenario
run: $(STAMP)
	$(BIN)/rareshock run configs/baseline.toml --resume

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

## bench: the performance benchmarks of issue #5 (minutes); writes docs/benchmarks.md
bench: $(BENCH_STAMP)
	$(BIN)/python tests/benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check sim tests

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
