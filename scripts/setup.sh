#!/usr/bin/env bash
# Installs the Debian packages ecgtrain needs (only the missing ones), then configures and builds.
#
#   scripts/setup.sh                      release build in build/
#   scripts/setup.sh --sanitize           address+undefined sanitizer build in build-sanitize/
#   scripts/setup.sh --tsan               thread sanitizer build in build-tsan/ (without OpenMP)
#   scripts/setup.sh --werror             treat warnings as errors (CI)
#   scripts/setup.sh --builddir DIR       build somewhere else
#   scripts/setup.sh --fuzz               also install clang, libFuzzer and LLVM's OpenMP (tests/fuzz/run.sh)
#
# Safe to run again: it installs nothing that is present and reuses an existing build directory.
set -euo pipefail

cd "$(dirname "$0")/.."

builddir=build
sanitize=0
tsan=0
werror=false
fuzz=0
while [ $# -gt 0 ]; do
    case "$1" in
        --sanitize) sanitize=1; builddir=build-sanitize ;;
        --tsan) tsan=1; builddir=build-tsan ;;
        --werror) werror=true ;;
        --builddir) shift; builddir="$1" ;;
        --fuzz) fuzz=1 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
[ "${ECG_WERROR:-0}" = 1 ] && werror=true

packages=(gcc pkg-config meson ninja-build libopenblas-dev libfftw3-dev libhdf5-dev libyaml-dev
          libcunit1-dev zlib1g-dev python3-yaml libexpat1-dev jq libxml2-utils libmicrohttpd-dev curl
          help2man python3-h5py libopenmpi-dev openmpi-bin)
[ $fuzz = 1 ] && packages+=(clang libclang-rt-14-dev libomp-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Instrumented builds get spurious -Wformat-truncation warnings from GCC 12, so -Werror is for
# the release build only.
[ $sanitize = 1 ] || [ $tsan = 1 ] && werror=false
buildtype=release
# ThreadSanitizer sees only instrumented code: libgomp is not, so its threads' hand-offs would look like
# races; without OpenMP our loops run serially and every thread left is one we start (docs/reliability.md).
# Debug information puts file and line in its reports.
[ $tsan = 1 ] && buildtype=debugoptimized
opts=("--buildtype=$buildtype" "-Dwerror=$werror")
[ $sanitize = 1 ] && opts+=(-Db_sanitize=address,undefined -Db_lundef=false)
[ $tsan = 1 ] && opts+=(-Db_sanitize=thread -Db_lundef=false -Dopenmp=disabled)
# Quiet on success; the whole log on failure.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
quiet() { "$@" >"$log" 2>&1 || { cat "$log" >&2; echo "setup: failed: $*" >&2; exit 1; }; }
if [ -f "$builddir/build.ninja" ]; then
    quiet meson configure "$builddir" "${opts[@]}"
else
    rm -rf "$builddir"
    quiet meson setup "$builddir" "${opts[@]}"
fi
quiet ninja -C "$builddir"
echo "setup: built in $builddir/"
