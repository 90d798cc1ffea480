#!/usr/bin/env bash
# Builds flowd and its tests with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ and
# runs the whole suite there (the integration tests exec build-asan/flowd). Any report fails the run.
#   scripts/sanitize.sh            ASan + UBSan
#   scripts/sanitize.sh thread     ThreadSanitizer, in build-tsan/
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-address}
if [ "$kind" = thread ]; then dir=build-tsan; san="thread"; else dir=build-asan; san="address;undefined"; fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DFLOWD_SANITIZE=$san" >/dev/null
cmake --build "$dir" -j "$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
ctest --test-dir "$dir" --output-on-failure -j2 --timeout 300
