#!/usr/bin/env bash
# Install the Debian packages the project needs, only those that are missing.
# Idempotent; runs `apt-get update` only when something has to be installed.
# Must run as root (or with sudo available); needs no TTY.
set -euo pipefail

# redis-server: the remote cache tier's tests start their own servers.
# linux-perf: the profiling tests record guest code with `perf record` and read it back.
packages=(clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 valgrind redis-server linux-perf)
export DEBIAN_FRONTEND=noninteractive

missing=()
for pkg in "${packages[@]}"; do
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
        echo "install-deps: $pkg already installed"
    else
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: nothing to do"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo -n)
    else
        echo "install-deps: need root to install ${missing[*]}: rerun as root" >&2
        exit 1
    fi
fi

echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
