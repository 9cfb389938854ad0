#!/usr/bin/env bash
# Installs the dependencies, builds s2s (Release, warnings as errors) and runs the whole test
# suite. Exits non-zero on any failure. BUILD_DIR (default build) and JOBS may be set.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_WERROR=ON
cmake --build "$build" --parallel "$jobs"
ctest --test-dir "$build" --output-on-failure --parallel "$jobs"
