#!/usr/bin/env bash
# Regenerate, by command, every results folder the README quotes and the figures it shows
# (docs/*.png). Run it through `make docs`; run it again whenever the model's numbers change
# (after `make calibration`), then copy the numbers from the files each step names.
#
#   docs/regenerate.sh [STEP ...]      # default: every step, in the order below
#
# Environment:
#   N=4        replications per scenario (default: each config's own, 200, as the README says;
#              the 2026 steps: N26)
#   N26=200    replications of the 2026 steps when N is not given (default 100, as the README)
#   J=2        workers (default: every core)
#   RESUME=1   keep the folders that are complete with these replications, continue the
#              unfinished ones (default: every folder is run again, --overwrite)
#   RS=...     the rareshock command (default: .venv/bin/rareshock)
#
# Steps (each prints where its numbers are; a comparison's README table is DIR/readme.md):
#   baseline       results/baseline (the worked example, plots, report; summary.txt, firms.txt),
#                  the ripple lags (ripple.csv),
#                  docs/shortfall_by_sector.png, exports_monthly.png, network_baseline.png
#   fixed          results/baseline-fixed: the same seeds with the parameters fixed
#   compare-2025   results/compare-2025 and docs/compare_2025.png
#   responses      results/compare-responses: each response switched off, paired
#   backtests      results/backtest-*: the baseline and other buyers' responses switched off,
#                  back-tested against 2025 (100 replications each; backtest.md)
#   2026           results/compare-2026: the questions of late 2026
#   october        results/compare-2026-october: the October measures, part by part
#   front-running  results/compare-front-running: the 2026 expiry with and without
#   branches       results/2026-branches: the branch itself uncertain
#   tiers          results/compare-defence-first and results/gaming (the supply tiers' section)
#   feedstock      results/compare-defence-feedstock: defence from makers outside China
#                  (readme.md; peaks.txt: the price indices' 2025 peaks, firms' medians)
#   optimize       results/optimize-*: the three bundled decisions at their configured size
#                  (optimize.md; wall.txt, the wall time in seconds); N and J are not applied
#   screenshot     docs/report_run.png and docs/explore_*.png, the app's timings in
#                  results/explore-timings.txt (needs chromium; skipped with a message
#                  without it)
#
# Comparisons reuse a run that is already on disk with the same seed and replications
# (results/baseline, results/compare-2026/<scenario>): the numbers are those of running the
# config again (shared seeds), at a fraction of the cost.
set -euo pipefail
cd "$(dirname "$0")/.."

RS=${RS:-.venv/bin/rareshock}
PYTHON=${PYTHON:-$(dirname "$RS")/python}
N=${N:-}
J=${J:-}
RESUME=${RESUME:-}
ALL=(baseline fixed compare-2025 responses backtests 2026 october front-running branches tiers
     feedstock optimize screenshot)
STEPS=("$@")
[ ${#STEPS[@]} -eq 0 ] && STEPS=("${ALL[@]}")

# The 2026 scenarios (twice the horizon, about 2.5x a 2025 replication's work) run with
# N26 replications (the README's 2026 figures: 100) unless N is given.
N26=${N26:-100}

# The options of every run and comparison: -n N (if given) and -j J (if given).
opts() {
    OPTS=()
    if [ -n "$N" ]; then OPTS+=(-n "$N"); fi
    if [ -n "$J" ]; then OPTS+=(-j "$J"); fi
}
if [ -n "$RESUME" ]; then MODE=(--resume); else MODE=(--overwrite); fi
S=configs/scenarios

say() { printf '\n== %s\n' "$*" >&2; }

# The README's tables from a folder (docs/readme_tables.py), into a file beside its numbers.
tables() { "$PYTHON" docs/readme_tables.py "$@"; }

# The replications a run of CONFIG makes here: N, or the config's own.
planned() {
    if [ -n "$N" ]; then echo "$N"; else
        "$PYTHON" -c 'import sys, sim; print(sim.load_config(sys.argv[1]).runs.replications)' "$1"
    fi
}

# True if FOLDER holds a complete run (or comparison) of REPS replications.
complete() {
    "$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
from pathlib import Path
folder, reps = Path(sys.argv[1]), int(sys.argv[2])
for name in ("compare.json", "manifest.json"):
    if (folder / name).exists():
        m = json.loads((folder / name).read_text())
        ok = m.get("state") == "complete" and m.get("replications") == reps
        sys.exit(0 if ok else 1)
sys.exit(1)
EOF
}

# FOLDER if it holds a complete run like CONFIG's (same replications), else CONFIG.
run_or_config() {
    if complete "$1" "$(planned "$2")"; then echo "$1"; else echo "$2"; fi
}

# rareshock run CONFIG into OUT, unless RESUME finds it complete.
run() {
    local config=$1 out=$2; shift 2
    opts
    if [ -n "$RESUME" ] && complete "$out" "$(planned "$config")"; then
        say "$out is complete: kept"; return
    fi
    "$RS" run "$config" --out "$out" "${OPTS[@]}" "${MODE[@]}" -q "$@"
}

# rareshock compare SOURCES... into OUT, unless RESUME finds it complete.
compare() {
    local out=$1; shift
    opts
    if [ -n "$RESUME" ] && complete "$out" "$(planned configs/baseline.toml)"; then
        say "$out is complete: kept"; tables compare "$out" > "$out/readme.md"; return
    fi
    local mode=(--overwrite)
    [ -n "$RESUME" ] && mode=()  # an unfinished comparison is continued
    "$RS" compare "$@" --out "$out" "${OPTS[@]}" "${mode[@]}" -q
    tables compare "$out" > "$out/readme.md"
}

step_baseline() {
    say "baseline -> results/baseline (summary.txt: the worked example; ripple.csv)"
    run configs/baseline.toml results/baseline
    "$RS" summary results/baseline > results/baseline/summary.txt
    cp results/baseline/plots/shortfall_by_sector.png docs/shortfall_by_sector.png
    cp results/baseline/plots/exports_monthly.png docs/exports_monthly.png
    cp results/baseline/plots/network.png docs/network_baseline.png
    arcs results/baseline > results/baseline/ripple.csv
    tables firms results/baseline > results/baseline/firms.txt
}

# Per arc: the ripple lag (median, P5, P95 over the replications that have one) and the
# bullwhip ratio (median), from DIR/arcs.
arcs() {
    "$PYTHON" - "$1" <<'EOF'
import sys
import sim
a = sim.Results(sys.argv[1]).arcs
g = a.groupby(["supplier", "customer", "material"])
out = g["ripple_lag_days"].describe(percentiles=[0.05, 0.5, 0.95])[
    ["count", "5%", "50%", "95%"]].round(1)
out["bullwhip_p50"] = g["bullwhip"].median().round(2)
out["fill_rate_mean"] = g["fill_rate"].mean().round(3)
print(out.to_csv())
EOF
}

step_fixed() {
    say "the same seeds, parameters fixed -> results/baseline-fixed (summary.txt)"
    run configs/baseline.toml results/baseline-fixed --set 'uncertain=[]' --no-plots
    "$RS" summary results/baseline-fixed > results/baseline-fixed/summary.txt
    tables spread results/baseline results/baseline-fixed > results/baseline-fixed/spread.md
}

step_compare-2025() {
    say "2025 scenarios -> results/compare-2025 (compare.md), docs/compare_2025.png"
    compare results/compare-2025 "$(run_or_config results/baseline configs/baseline.toml)" \
        $S/general-licences.toml $S/embargo.toml $S/no-controls.toml
    cp results/compare-2025/plots/compare.png docs/compare_2025.png
}

step_responses() {
    say "each response off -> results/compare-responses (compare.md)"
    compare results/compare-responses "$(run_or_config results/baseline configs/baseline.toml)" \
        $S/without-resourcing.toml $S/without-deferred-demand.toml \
        $S/without-ordering-ahead.toml $S/passive-firms.toml
}

step_backtests() {
    say "back-tests, other buyers' responses on and off -> results/backtest-*"
    local c
    for c in configs/baseline.toml $S/without-ordering-ahead.toml $S/without-deferred-demand.toml; do
        "$RS" backtest "$c" -n 100 --out "results/backtest-$(basename "$c" .toml)" --overwrite \
            ${J:+-j "$J"} > /dev/null
    done
}

step_2026() {
    local N=${N:-$N26}
    say "late 2026 -> results/compare-2026 (compare.md)"
    compare results/compare-2026 $S/2026-suspension-extended.toml \
        $S/2026-october-measures.toml $S/2026-nd-pr.toml
}

EXTENDED=results/compare-2026/2026-suspension-extended

step_october() {
    local N=${N:-$N26}
    say "the October measures, part by part -> results/compare-2026-october (compare.md)"
    compare results/compare-2026-october \
        "$(run_or_config $EXTENDED $S/2026-suspension-extended.toml)" \
        $S/2026-october-lapse.toml $S/2026-october-content.toml \
        $S/2026-october-military.toml $S/2026-october-caution.toml \
        "$(run_or_config results/compare-2026/2026-october-measures \
            $S/2026-october-measures.toml)"
}

step_front-running() {
    local N=${N:-$N26}
    say "the 2026 expiry without front-running -> results/compare-front-running (compare.md)"
    compare results/compare-front-running \
        "$(run_or_config $EXTENDED $S/2026-suspension-extended.toml)" \
        $S/2026-extended-without-front-running.toml
}

step_branches() {
    local N=${N:-$N26}
    say "the branch uncertain -> results/2026-branches (summary.txt, branches.csv)"
    run $S/2026-branches.toml results/2026-branches --no-plots
    "$RS" summary results/2026-branches > results/2026-branches/summary.txt
    "$PYTHON" - results/2026-branches > results/2026-branches/branches.csv <<'EOF'
import sys
import sim
p = sim.Results(sys.argv[1]).table("parameters")
col = next(c for c in p.columns if "branch" in c)
print(p[col].value_counts().rename("replications").to_csv())
EOF
}

step_feedstock() {
    say "defence from makers outside China -> results/compare-defence-feedstock"
    compare results/compare-defence-feedstock \
        "$(run_or_config results/baseline configs/baseline.toml)" $S/defence-feedstock.toml
    { tables peaks "$(run_or_config results/baseline configs/baseline.toml)"
      tables peaks results/compare-defence-feedstock/defence-feedstock
    } > results/compare-defence-feedstock/peaks.txt
}

step_tiers() {
    say "allocation and shortage gaming -> results/compare-defence-first, results/gaming"
    compare results/compare-defence-first \
        "$(run_or_config results/baseline configs/baseline.toml)" $S/defence-first.toml
    local gaming=()
    for f in us_auto_ev us_auto_ice jp_automaker in_two_wheeler us_defence_prime; do
        gaming+=(--set "firms.$f.ordering.cut_inflation=1.5")
    done
    run configs/baseline.toml results/gaming "${gaming[@]}" --no-plots
    "$RS" summary results/gaming > results/gaming/summary.txt
    arcs results/gaming > results/gaming/ripple.csv
}

step_optimize() {
    say "the bundled decisions -> results/optimize-* (optimize.md, wall.txt)"
    local c name start
    for c in configs/optimize/*.toml; do
        name=$(basename "$c" .toml)
        start=$(date +%s)
        "$RS" optimize "$c" -o "results/optimize-$name" --overwrite ${J:+-j "$J"} -q
        echo $(( $(date +%s) - start )) > "results/optimize-$name/wall.txt"
    done
}

step_screenshot() {
    local exe=${RARESHOCK_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
    if [ -z "$exe" ]; then
        say "no chromium: docs/report_run.png NOT regenerated (apt-get install chromium)"
        return
    fi
    say "the top of results/baseline/report.html -> docs/report_run.png"
    "$PYTHON" - "$exe" results/baseline/report.html docs/report_run.png <<'EOF'
import sys
from pathlib import Path
from playwright.sync_api import sync_playwright
exe, page_file, shot = sys.argv[1:]
with sync_playwright() as pw:
    b = pw.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
    page = b.new_page(viewport={"width": 640, "height": 1075})
    page.goto(Path(page_file).resolve().as_uri(), wait_until="load")
    page.screenshot(path=shot)
    b.close()
EOF
    say "rareshock explore's three views -> docs/explore_*.png (and the app's timings)"
    "$PYTHON" docs/explore_screens.py "$RS" | tee results/explore-timings.txt
}

for s in "${STEPS[@]}"; do
    case " ${ALL[*]} " in *" $s "*) ;; *) echo "docs/regenerate.sh: unknown step '$s' (steps: ${ALL[*]})" >&2; exit 2 ;; esac
done
for s in "${STEPS[@]}"; do
    start=$SECONDS
    "step_$s"
    say "$s: $((SECONDS - start)) s"
done
