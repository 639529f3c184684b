#!/usr/bin/env bash
# Deterministic regression gate, as CI runs it: `wasm-prof gate deterministic` measures code
# and artifact bytes and callgrind instruction counts of cold, cached and no-cache loading of
# the embedded workload, and compares them with reports/baselines/ci-gate.json when that was
# measured with the same valgrind, CPU features and module — otherwise with a build of the
# revision that last changed it, measured here and now. Exit 3 on a regression, 0 when none,
# 1 on an error (never 0 because nothing was comparable).
#
#   scripts/ci-gate.sh                 judge; also writes reports/ci-gate.json (current) and
#                                      reports/ci-gate.html
#   scripts/ci-gate.sh --update        measure and rewrite the baseline (commit it)
#   scripts/ci-gate.sh ARGS...         any other `gate deterministic` options (--against REV)
#
# Uses target/release/wasm-prof (or $WASM_PROF_BIN), building it when it is missing. Needs
# valgrind (scripts/install-deps.sh installs it). About 25 s; a baseline build adds a few
# minutes (only the workspace's crates compile; dependencies are shared).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bin="${WASM_PROF_BIN:-$root/target/release/wasm-prof}"
if [ ! -x "$bin" ]; then
    echo "ci-gate: $bin is missing; building it"
    cargo build --release --quiet -p wasm-prof
fi
if [ -n "$(find runtime bench-suite/src -name '*.rs' -newer "$bin" -print -quit)" ]; then
    echo "ci-gate: warning: $bin is older than the sources; run cargo build --release first" >&2
fi

if [ "${1:-}" = --update ]; then
    exec "$bin" gate deterministic "$@"
fi
exec "$bin" gate deterministic --save reports/ci-gate.json --export-html reports/ci-gate.html "$@"
