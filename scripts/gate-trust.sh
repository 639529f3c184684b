#!/usr/bin/env bash
# How far the regression gates can be trusted (README, "How far the gates can be trusted"):
# N trials each of
#   deterministic gate, two identical builds      (an alarm is a false alarm)
#   deterministic gate, a build with extra work   (an alarm is a catch)
#   wall-clock gate, the same two cases           (gate wall-clock --runs RUNS: the two builds
#                                                  in turn, sample by sample, in one run)
# The slow build is a TEST-ONLY build (cargo feature experiment-slowdown) in which
# WASM_PROF_EXPERIMENT_SLOWDOWN=codegen:KSTEPS adds fixed work to the codegen phase
# (1700 thousand loop steps: about 2.9 ms, +9.9% of the embedded workload's 29 ms codegen on 2
# cores, measured 2026-11-30).
#
#   scripts/gate-trust.sh [TRIALS [KSTEPS [RUNS]]]     defaults: 20 1700 10
#   GATES=deterministic scripts/gate-trust.sh          one gate only (or GATES=wall-clock)
#
# Prints one line per trial and the counts; leaves the reports in $WORK (default a temporary
# directory, printed). Takes about 25 minutes with the defaults on 2 cores (10 for GATES=wall-clock).
set -euo pipefail
cd "$(dirname "$0")/.."

trials="${1:-20}"
ksteps="${2:-1700}"
runs="${3:-10}"
work="${WORK:-$(mktemp -d)}"
mkdir -p "$work/slow"
echo "gate-trust: reports in $work"

cargo build --release --quiet -p wasm-prof --features experiment-slowdown
cp target/release/wasm-prof "$work/slow/wasm-prof"
cargo build --release --quiet -p wasm-prof
# Copies, so that builds during the experiment change nothing in it.
bin="$work/wasm-prof"
cp target/release/wasm-prof "$bin"
# A second build of the same revision, in a worktree of its own.
"$bin" gate deterministic --against HEAD >/dev/null 2>&1 || true
built="target/gate-baseline/wasm-prof-$(git rev-parse HEAD | cut -c1-12)"
[ -x "$built" ] || { echo "gate-trust: the build of HEAD ($built) is missing" >&2; exit 1; }
same="$work/wasm-prof-same"
cp "$built" "$same"
slowdown="codegen:$ksteps"

# verdict CMD...: runs a gate, prints alarm (3), quiet (0), or fails the script.
verdict() {
    local rc=0
    "$@" >/dev/null 2>>"$work/errors.log" || rc=$?
    case "$rc" in
        0) echo quiet ;;
        3) echo alarm ;;
        *) echo "gate-trust: \`$*\` failed ($rc); see $work/errors.log" >&2; exit 1 ;;
    esac
}

count() { grep -c "$1" "$2" || true; }

gates="${GATES:-deterministic wall-clock}"
for i in $(seq "$trials"); do
    [[ " $gates " == *" deterministic "* ]] || break
    same_verdict=$(verdict "$bin" gate deterministic --against-bin "$same" \
        --export-json "$work/det-same-$i.json")
    slow_verdict=$(WASM_PROF_EXPERIMENT_SLOWDOWN=$slowdown verdict "$bin" gate deterministic \
        --bin "$work/slow/wasm-prof" --against-bin "$same" --export-json "$work/det-slow-$i.json")
    echo "$i deterministic identical=$same_verdict slow=$slow_verdict" | tee -a "$work/det.log"
done
for i in $(seq "$trials"); do
    [[ " $gates " == *" wall-clock "* ]] || break
    same_verdict=$(verdict "$bin" gate wall-clock --against-bin "$same" --runs "$runs" \
        --export-json "$work/wall-same-$i.json")
    slow_verdict=$(WASM_PROF_EXPERIMENT_SLOWDOWN=$slowdown verdict "$bin" gate wall-clock \
        --bin "$work/slow/wasm-prof" --against-bin "$same" --runs "$runs" \
        --export-json "$work/wall-slow-$i.json")
    echo "$i wall-clock identical=$same_verdict slow=$slow_verdict" | tee -a "$work/wall.log"
done
touch "$work/det.log" "$work/wall.log"
echo "deterministic: $(count identical=alarm "$work/det.log")/$trials false alarms, \
$(count slow=alarm "$work/det.log")/$trials slowdowns caught"
echo "wall-clock:    $(count identical=alarm "$work/wall.log")/$trials false alarms, \
$(count slow=alarm "$work/wall.log")/$trials slowdowns caught"
