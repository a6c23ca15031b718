# The two commands a newcomer needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean bench calibration validation

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

## calibration: fit the 2025 priors (configs/calibration/2025.toml) to the fit window and
## write the posterior the baseline draws from (configs/posterior/2025.toml + .parquet),
## then the rolling-origin calibration (fitted to June only); ~30 min each on 2 cores.
## Run it again whenever the model's numbers change, then `make validation`.
CAL := results/calibration-2025
calibration: $(STAMP)
	$(BIN)/rareshock calibrate configs/calibration/2025.toml --out $(CAL) --overwrite \
	    --export configs/posterior/2025.toml
	$(BIN)/rareshock calibrate configs/calibration/2025.toml --out $(CAL)-to-june --overwrite \
	    --set 'calibration.fit_months=["2025-01", "2025-04", "2025-05", "2025-06"]'
	rm -rf docs/calibration/2025 && mkdir -p docs/calibration/2025
	cp $(CAL)/calibration.md $(CAL)/generations.csv docs/calibration/2025/
	cp -r $(CAL)/plots docs/calibration/2025/

## validation: regenerate docs/validation.md (queueing theory, conservation, back-test,
## rolling origin from the two calibrations above)
validation: $(STAMP)
	$(BIN)/rareshock validate-model --calibrations $(CAL)-to-june $(CAL)

lint: $(STAMP)
	$(BIN)/ruff check sim tests

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
