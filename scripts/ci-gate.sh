#!/usr/bin/env bash
# Deterministic regression gate: measures that do not flake on a shared machine, compared
# against the committed baseline reports/baselines/ci-gate.json.
#
#   scripts/ci-gate.sh              measure, write reports/ci-gate.json, compare; exit 3 on a
#                                   regression, 1 on an error, 0 otherwise
#   scripts/ci-gate.sh --update     measure and rewrite the baseline (commit it)
#   scripts/ci-gate.sh --self-test  test the comparison logic only
#
# Measures, on the embedded workload (corpora/wasm/workload.wasm) with blake3 keys: code and
# artifact bytes after a cold sample, and callgrind instruction counts (Ir) of one cold, one
# cached and one no-cache `wasm-prof sample` (loading only: `--no-execute`), compiled on one
# thread (`--sequential`) so that
# counts repeat; the cached sample hits a settled entry (see below). Every sample runs under
# valgrind, priming included: valgrind reports its own
# CPU features, which changes the engine fingerprint and with it the cache key.
#
# Uses target/release/wasm-prof (or $WASM_PROF_BIN), building it only when it is missing.
# Needs valgrind (scripts/install-deps.sh installs it) and python3. Takes about 20 s.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
gate=(python3 "$here/ci_gate.py")

mode=check
case "${1:-}" in
    "") ;;
    --update) mode=update ;;
    --self-test) exec "${gate[@]}" self-test ;;
    *)
        echo "ci-gate: unknown argument $1 (expected --update or --self-test)" >&2
        exit 1
        ;;
esac

if ! command -v valgrind >/dev/null 2>&1; then
    echo "ci-gate: valgrind is missing: run scripts/install-deps.sh" >&2
    exit 1
fi

bin="${WASM_PROF_BIN:-$root/target/release/wasm-prof}"
if [ ! -x "$bin" ]; then
    echo "ci-gate: $bin is missing; building it"
    (cd "$root" && cargo build --release --quiet -p wasm-prof)
fi
if [ -n "$(find "$root/runtime" "$root/bench-suite/src" -name '*.rs' -newer "$bin" -print -quit)" ]; then
    echo "ci-gate: warning: $bin is older than the sources; run cargo build --release first" >&2
fi

module="$root/corpora/wasm/workload.wasm"
hash=blake3
baseline="$root/reports/baselines/ci-gate.json"
current="$root/reports/ci-gate.json"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
valgrind --version >"$work/valgrind-version"

# measure NAME SAMPLE-ARGS...: one sample under callgrind; its record goes to NAME.json.
measure() {
    local name="$1"
    shift
    if ! valgrind --tool=callgrind --callgrind-out-file="$work/$name.callgrind" \
        "$bin" sample --hash "$hash" --module "$module" "$@" \
        >"$work/$name.json" 2>"$work/$name.err"; then
        cat "$work/$name.err" >&2
        echo "ci-gate: the $name sample failed under valgrind (its output is above)" >&2
        exit 1
    fi
    echo "ci-gate: measured $name"
}

measure cold --path cold --cache-dir "$work/cache" --sequential --no-execute
# A hit on an entry younger than two seconds checksums the whole code image; an older one is
# vouched for by the verification record the first such hit writes. Settle the entry and hit it
# once, unmeasured, so the measured hit always takes the second path.
sleep 2.2
measure settle --path cached --cache-dir "$work/cache" --no-execute
measure cached --path cached --cache-dir "$work/cache" --no-execute
measure nocache --path nocache --disable-cache --sequential --no-execute

if [ "$mode" = update ]; then
    "${gate[@]}" collect "$work" --module "$module" --hash "$hash" --out "$baseline"
    cat "$baseline"
    echo "ci-gate: wrote the baseline $baseline: commit it"
    exit 0
fi
"${gate[@]}" collect "$work" --module "$module" --hash "$hash" --out "$current"
"${gate[@]}" compare "$baseline" "$current"
