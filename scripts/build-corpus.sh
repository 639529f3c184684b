#!/usr/bin/env bash
# Build the project's own C programs to wasm32-wasi with Debian's clang-14 + wasi-libc.
#
#   scripts/build-corpus.sh           build corpora/wasm/workload.wasm and corpora/wasm/wasi-tests/*.wasm
#   scripts/build-corpus.sh --check   also build the workload natively (cc) and compare its
#                                     output with corpora/src/workload/expected-output.txt
#
# Needs: clang-14, lld-14 (wasm-ld), wasi-libc, libclang-rt-14-dev-wasm32 (scripts/install-deps.sh).
# The output is reproducible: sources are passed as paths relative to the repository root,
# no debug info is emitted (libc's is stripped at link time) and only the `name` section,
# `producers` and `target_features` custom sections remain, so a rebuild gives the same bytes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

CC_WASM="${CC_WASM:-clang-14}"
if ! command -v "$CC_WASM" >/dev/null 2>&1; then
    echo "build-corpus: $CC_WASM is missing: run scripts/install-deps.sh (needs clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32)" >&2
    exit 1
fi
if [ ! -f /usr/lib/wasm32-wasi/libc.a ]; then
    echo "build-corpus: wasi-libc is missing (/usr/lib/wasm32-wasi/libc.a): run scripts/install-deps.sh" >&2
    exit 1
fi

# -ffile-prefix-map keeps the checkout path out of anything the compiler records;
# --strip-debug drops DWARF (libc.a carries some) but keeps the name section for backtraces.
CFLAGS=(--target=wasm32-wasi --sysroot=/usr -O2 -std=c11 -Wall -Wextra -Werror
        -ffp-contract=off "-ffile-prefix-map=$root=.")
LDFLAGS=(-Wl,--strip-debug)

build() { # build OUT SRC...
    local out="$1"; shift
    mkdir -p "$(dirname "$out")"
    "$CC_WASM" "${CFLAGS[@]}" "$@" "${LDFLAGS[@]}" -o "$out.tmp"
    mv "$out.tmp" "$out"
    printf '%-40s %8d bytes  sha256 %.16s\n' "$out" "$(stat -c %s "$out")" \
        "$(sha256sum "$out" | cut -d' ' -f1)"
}

build corpora/wasm/workload.wasm corpora/src/workload/*.c
for src in corpora/src/wasi-tests/*.c; do
    name="$(basename "$src" .c)"
    build "corpora/wasm/wasi-tests/$name.wasm" "$src"
done

if [ "${1:-}" = "--check" ]; then
    cc="${CC:-cc}"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    "$cc" -std=c11 -O2 -ffp-contract=off -o "$tmp/workload" corpora/src/workload/*.c -lm
    if "$tmp/workload" | cmp -s - corpora/src/workload/expected-output.txt; then
        echo "native workload output matches corpora/src/workload/expected-output.txt"
    else
        echo "build-corpus: native workload output differs from expected-output.txt" >&2
        exit 1
    fi
fi
