#!/usr/bin/env bash
# Build nginx for wasm32-wasi from Debian's nginx source package into corpora/fetched/nginx.wasm.
#
#   scripts/build-nginx.sh          build (or rebuild) corpora/fetched/nginx.wasm
#
# Steps: install the Debian packages it needs (clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32,
# and dpkg-dev for `apt-get source`, which also brings make and patch), add a deb-src entry for
# the machine's Debian archive if there is none, download the source package into
# target/nginx-build/src/, check the upstream tarball against the sha256 pinned below, unpack it
# afresh into target/nginx-build/, apply the port in corpora/src/nginx/ (patch + shim files),
# configure it with corpora/src/nginx/configure-wasi and build it with clang-14 + wasi-libc.
# Debian's own patches are not applied: the build is the pinned upstream tarball plus the port,
# so it does not change with each Debian revision (see corpora/src/nginx/README.md). Nothing is
# downloaded when the pinned tarball is already there.
#
# Must run as root (or with sudo available) to install packages and add the deb-src entry.
# The output is reproducible: same toolchain, same bytes, whatever the checkout's path.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

NGINX_VERSION=1.22.1
# sha256 of Debian bookworm's nginx_1.22.1.orig.tar.gz (the same in every 1.22.1-9+deb12uN revision)
ORIG_SHA256=9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31
# html/random-64k.bin: sha256("wasm-prof nginx 0") .. sha256("wasm-prof nginx 2047")
RANDOM_64K_SHA256=8ac76425c03981db1415fbc6d86c9b47cbe500c471985c427f3f668fba214d0d

port=corpora/src/nginx
build=target/nginx-build
orig="$build/src/nginx_${NGINX_VERSION}.orig.tar.gz"
tree="$build/nginx-$NGINX_VERSION"
out=corpora/fetched/nginx.wasm
packages=(clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 dpkg-dev)
deb_src_file=/etc/apt/sources.list.d/wasm-prof-deb-src.sources

export DEBIAN_FRONTEND=noninteractive

die() {
    echo "build-nginx: $*" >&2
    exit 1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root to run $1: rerun as root"
    fi
}

apt_updated=no
apt_update() {
    if [ "$apt_updated" = no ]; then
        echo "build-nginx: apt-get update"
        as_root apt-get update -q >/dev/null || die "apt-get update failed: check /etc/apt/sources.list*"
        apt_updated=yes
    fi
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# --- packages -----------------------------------------------------------------------------

missing=()
for pkg in "${packages[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -ne 0 ]; then
    apt_update
    echo "build-nginx: installing ${missing[*]}"
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
fi

# --- source package -------------------------------------------------------------------------

# deb-src twins of the machine's Debian archives: of the deb822 stanzas in sources.list.d/*.sources
# and of the one-line "deb" entries in sources.list{,.d/*.list} whose URI names a Debian archive
# (deb.debian.org, security.debian.org, a mirror's /debian path, ...).
deb822_deb_src() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v RS= '
            /(^|\n)Types:[^\n]*(^|[ \t])deb([ \t]|\n|$)/ &&
            /(^|\n)URIs:[^\n]*debian/ &&
            !/(^|\n)Enabled:[ \t]*no/ {
                n = split($0, line, "\n")
                for (i = 1; i <= n; i++) {
                    if (line[i] ~ /^#/) continue
                    if (line[i] ~ /^Types:/) line[i] = "Types: deb-src"
                    print line[i]
                }
                print ""
            }' "$f"
    done
}

oneline_deb_src() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" && /debian/ { $1 = "deb-src"; print }' "$f"
    done
}

has_deb_src() {
    grep -qsE '^[[:space:]]*deb-src[[:space:]].*debian' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        || cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v RS= '
               /(^|\n)Types:[^\n]*deb-src/ && /(^|\n)URIs:[^\n]*debian/ && !/(^|\n)Enabled:[ \t]*no/ { found = 1 }
               END { exit !found }'
}

source_versions() {
    apt-cache showsrc nginx 2>/dev/null | sed -n 's/^Version: //p' | sort -Vr | uniq
}

download_source() {
    if ! has_deb_src; then
        local deb822 oneline header
        deb822="$(deb822_deb_src)"
        oneline="$(oneline_deb_src)"
        [ -n "$deb822$oneline" ] \
            || die "no Debian \"deb\" entry in /etc/apt/sources.list*: add a deb-src entry for your Debian mirror"
        header="# deb-src twins of this machine's Debian deb entries (added by scripts/build-nginx.sh)"
        if [ -n "$deb822" ]; then
            echo "build-nginx: adding $deb_src_file"
            printf '%s\n%s\n' "$header" "$deb822" | as_root tee "$deb_src_file" >/dev/null
        fi
        if [ -n "$oneline" ]; then
            echo "build-nginx: adding ${deb_src_file%.sources}.list"
            printf '%s\n%s\n' "$header" "$oneline" | as_root tee "${deb_src_file%.sources}.list" >/dev/null
        fi
        apt_update
    fi
    local versions v
    versions="$(source_versions)"
    if [ -z "$versions" ]; then
        apt_update
        versions="$(source_versions)"
    fi
    [ -n "$versions" ] || die "apt-cache showsrc nginx finds nothing: check the deb-src entries in /etc/apt"

    mkdir -p "$build/src"
    # Newest revision first; a mirror may lack the newest one's files (404), so fall back to
    # older ones: they share the upstream tarball. Running as root, apt cannot hand the download
    # to its _apt user (it warns and downloads as root): say so up front instead.
    for v in $versions; do
        echo "build-nginx: apt-get source --download-only nginx=$v"
        if (cd "$build/src" && apt-get -q -o APT::Sandbox::User=root source --download-only "nginx=$v" >/dev/null 2>&1) \
            && [ -f "$orig" ]; then
            return 0
        fi
    done
    [ -f "$orig" ] || die "apt-get source could not download nginx_${NGINX_VERSION}.orig.tar.gz (tried: $(echo $versions))"
}

if [ ! -f "$orig" ] || [ "$(sha256 "$orig")" != "$ORIG_SHA256" ]; then
    rm -f "$orig"
    download_source
fi
got="$(sha256 "$orig")"
[ "$got" = "$ORIG_SHA256" ] \
    || die "$orig has sha256 $got, expected $ORIG_SHA256: Debian's nginx source changed; check it, then update NGINX_VERSION/ORIG_SHA256 in scripts/build-nginx.sh"

# --- docroot ----------------------------------------------------------------------------------

bin="$port/html/random-64k.bin"
if [ ! -f "$bin" ]; then
    echo "build-nginx: generating $bin"
    for i in $(seq 0 2047); do
        printf 'wasm-prof nginx %d' "$i" | sha256sum | cut -c1-64
    done | tr -d '\n' | tr a-f A-F | basenc --base16 -d > "$bin.tmp"
    mv "$bin.tmp" "$bin"
fi
[ "$(sha256 "$bin")" = "$RANDOM_64K_SHA256" ] || die "$bin is not the expected file: delete it and rerun"

# --- build ------------------------------------------------------------------------------------

echo "build-nginx: unpacking $orig into $tree"
rm -rf "$tree"
tar -xzf "$orig" -C "$build"
[ -d "$tree" ] || die "$orig did not unpack into $tree"

patch -d "$tree" -p1 --quiet --no-backup-if-mismatch < "$port/nginx-wasi.patch" \
    || die "$port/nginx-wasi.patch does not apply to nginx $NGINX_VERSION"
cp "$port/ngx_wasi_config.h" "$port/ngx_wasi.c" "$tree/src/os/unix/"

echo "build-nginx: configuring"
(cd "$tree" && CC=clang-14 sh "$root/$port/configure-wasi") > "$build/configure.log" 2>&1 \
    || die "configure-wasi failed: see $build/configure.log"

echo "build-nginx: compiling"
make -C "$tree" -f objs/Makefile -j"$(nproc)" binary > "$build/make.log" 2>&1 \
    || die "make failed: see $build/make.log"

mkdir -p "$(dirname "$out")"
cp "$tree/objs/nginx.wasm" "$out.tmp"
mv "$out.tmp" "$out"
printf '%-40s %8d bytes  sha256 %.16s\n' "$out" "$(stat -c %s "$out")" "$(sha256 "$out")"
