#!/usr/bin/env bash
# The project's whole test suite, as CI runs it: installs what is missing, fetches the real
# corpus, runs every test in release mode (the spec suite and the corpus compile slowly in
# debug builds), then the deterministic regression gate.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/fetch-corpus.sh
export WASM_PROF_REQUIRE_CORPUS=1
cargo build --release --workspace --all-targets
cargo test --release --workspace
scripts/ci-gate.sh --self-test
scripts/ci-gate.sh
