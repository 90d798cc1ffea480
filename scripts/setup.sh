#!/usr/bin/env bash
# Sets up a fresh Debian machine for flowd and builds it: installs the Debian packages that are
# missing (nothing is downloaded from anywhere else), then configures and builds into build/.
# (openssl: the command that makes test certificates and the tls-chat example's; telnet and
# netcat-openbsd: the clients the README and the examples talk to flowd with.)
#   scripts/setup.sh            packages + build/flowd only: what serving a flow needs, built first
#   scripts/setup.sh --tests    packages + everything in build/: flowd, the test suite, tools, benchmarks
#   FLOWD_BUILD_DIR=dir FLOWD_CMAKE_ARGS="..." scripts/setup.sh    another build directory/options
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(--target flowd)
case "${1:-}" in
  "") ;;
  --tests) targets=() ;;
  *) echo "usage: scripts/setup.sh [--tests]" >&2; exit 2 ;;
esac

packages=(cmake ninja-build g++ pkg-config nlohmann-json3-dev libboost-dev libspdlog-dev libfmt-dev
          libgtest-dev libgmock-dev libssl-dev openssl python3 python3-jsonschema
          clang libclang-rt-dev libbenchmark-dev telnet netcat-openbsd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build_dir=${FLOWD_BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${FLOWD_CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
if ((${#targets[@]})); then
  echo "setup: built $build_dir/flowd (scripts/setup.sh --tests builds the test suite too)"
else
  echo "setup: built $build_dir/flowd, the test suite, tools and benchmarks"
fi
