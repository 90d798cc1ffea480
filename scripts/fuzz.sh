#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for SECONDS
# (default 60) from the seed corpus in tests/fuzz/corpus/<target>. Crashes are written to
# build-fuzz/crashes/; turn each into a regression test. Long runs: scripts/fuzz.sh 1800
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
if ! command -v clang++ >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang libclang-rt-dev >/dev/null
fi
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
      -DFLOWD_FUZZ=ON -DFLOWD_BUILD_TESTS=OFF "-DFLOWD_SANITIZE=address;undefined" >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_flow_loader fuzz_expression fuzz_line_framer
mkdir -p build-fuzz/crashes
status=0
for target in fuzz_flow_loader fuzz_expression fuzz_line_framer; do
  work=build-fuzz/corpus/$target
  mkdir -p "$work"
  echo "fuzz: $target for ${seconds}s"
  if ! ./build-fuzz/tests/fuzz/$target "$work" tests/fuzz/corpus/$target -max_total_time="$seconds" \
       -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/crashes/$target- \
       2>build-fuzz/$target.log; then
    echo "fuzz: $target FOUND A CRASH (see build-fuzz/$target.log and build-fuzz/crashes/)"; tail -40 build-fuzz/$target.log
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::new_units_added" build-fuzz/$target.log | sed "s/^/fuzz: $target /"
  fi
done
exit $status
