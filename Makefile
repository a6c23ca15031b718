# The two commands a newcomer needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What is installed: the project alone (`make run`), or with its dev extra (tests, lint).
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed

.PHONY: run test test-long test-fast hostile lint clean bench calibration calibration-npe validation docs

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUN_STAMP)

## test: create .venv, install the project with its dev extra, run the test suite (all but
## the nine `long` tests, see test-long) on TEST_WORKERS processes (pytest-xdist; `auto`:
## one per core; about 6 min on a clean clone on 2 cores) and list its fifteen slowest tests
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not long" --durations=15

## test-long: the nine longest tests `make test` leaves out (marked `long`: a wheel install,
## process kills, the small validation report, a calibration recovering a known rate, two
## small CLI calibrations on 1 and 2 workers read by three tests;
## about 4 min)
test-long: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m long

## test-fast: the tests that run in-process (none marked `slow`, `browser` or `subprocess`:
## tests/conftest.py gives the last two), on TEST_WORKERS processes; about a minute on 2
## cores, for the edit-test loop. `make test` stays the suite that counts.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not slow and not browser and not subprocess"

## hostile: every case of the hostile probe (tests/hostile), calibrations included (~10
## min); prints a table of outcomes by class
hostile: $(STAMP)
	$(BIN)/python -m tests.hostile.run

## run: create .venv, install the project (without the dev extra), simulate the bundled
## baseline scenario
run: $(RUN_STAMP)
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
## then the rolling-origin calibration (fitted to June only); ~30-40 min each on 2 cores.
## Run it again whenever the model's numbers change, then `make validation`.
CAL := results/calibration-2025
calibration: $(STAMP)
	$(BIN)/rareshock calibrate configs/calibration/2025.toml --out $(CAL) --overwrite \
	    --export configs/posterior/2025.toml
	$(BIN)/rareshock calibrate configs/calibration/2025.toml --out $(CAL)-to-june --overwrite \
	    --set 'calibration.fit_months=["2025-04", "2025-05", "2025-06"]'
	rm -rf docs/calibration/2025 && mkdir -p docs/calibration/2025
	cp $(CAL)/calibration.md $(CAL)/generations.csv docs/calibration/2025/
	cp -r $(CAL)/plots docs/calibration/2025/

## calibration-npe: the same fit by neural posterior estimation, with its simulation-based
## calibration check on 200 synthetic datasets (configs/calibration/2025-npe.toml), twice:
## with another seed first, then with the baseline's, whose calibration.md says whether the
## two agree (--agree-with); ~27 min each on 2 cores, into docs/calibration/2025-npe/ beside
## the ABC fit. The baseline does not draw from it.
calibration-npe: $(STAMP)
	$(BIN)/rareshock calibrate configs/calibration/2025-npe.toml --out $(CAL)-npe-seed2 \
	    --overwrite --set runs.seed=2026
	$(BIN)/rareshock calibrate configs/calibration/2025-npe.toml --out $(CAL)-npe --overwrite \
	    --agree-with $(CAL)-npe-seed2
	rm -rf docs/calibration/2025-npe && mkdir -p docs/calibration/2025-npe
	cp $(CAL)-npe/calibration.md $(CAL)-npe/sbc.csv $(CAL)-npe/sbc_ranks.csv \
	    $(CAL)-npe/agreement.csv docs/calibration/2025-npe/
	cp -r $(CAL)-npe/plots docs/calibration/2025-npe/

## validation: regenerate docs/validation.md (queueing theory, conservation, back-test,
## rolling origin from the two calibrations above)
validation: $(STAMP)
	$(BIN)/rareshock validate-model --calibrations $(CAL)-to-june $(CAL)

## docs: regenerate every results folder the README quotes and its figures (docs/*.png), by
## command (docs/regenerate.sh says which file holds which number); ~75 min on 2 cores
## (the optimize step alone ~35).
## Run it whenever the model's numbers change (after `make calibration`), then update the
## README from the files it names. N=4 for a quick check (N26= the 2026 steps, default 100),
## J= workers, STEPS="baseline 2026" for some steps only, RESUME=1 to keep complete folders
## and continue unfinished ones.
docs: $(STAMP)
	N="$(N)" N26="$(N26)" J="$(J)" RESUME="$(RESUME)" RS=$(BIN)/rareshock docs/regenerate.sh $(STEPS)

lint: $(STAMP)
	$(BIN)/ruff check sim tests

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
