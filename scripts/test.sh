#!/usr/bin/env bash
# The project's whole test suite, as CI runs it: installs what is missing, fetches the real
# corpus and builds nginx.wasm, runs every test in release mode (the spec suite and the corpus
# compile slowly in debug builds) and the unsafe core's unit tests in debug mode, then the
# deterministic regression gate. A missing corpus module fails its tests; set
# WASM_PROF_SKIP_CORPUS=1 to skip the fetched corpus deliberately.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/fetch-corpus.sh
scripts/build-nginx.sh
cargo build --release --workspace --all-targets
cargo test --release --workspace
# The unsafe core's unit tests once more in a debug build, where std checks the
# preconditions of its unsafe functions (overlapping copies, alignment, ...).
cargo test --lib -p wasm-prof-vm -p wasm-prof-environ -p wasm-prof-cache
scripts/ci-gate.sh
