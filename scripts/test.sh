#!/usr/bin/env bash
# Installs the dependencies, builds s2s (Release, warnings as errors) and runs the whole test
# suite. Where nvcc exists the main build includes the CUDA backend (its tests skip without a
# GPU), and a second, CPU-only configuration is built and its suite run too: the CPU-only stubs
# of every CUDA entry point stay complete, and the tests of what a CPU-only build says (which
# CMake option enables CUDA) run where nvcc exists. Exits non-zero on any failure.
# Environment: BUILD_DIR (default build), JOBS (default nproc), S2S_SKIP_CPU_ONLY=1.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_WERROR=ON
cmake --build "$build" --parallel "$jobs"
ctest --test-dir "$build" --output-on-failure --parallel "$jobs"

if "$build/s2s" version | grep -q '^cuda: *on' && [ -z "${S2S_SKIP_CPU_ONLY:-}" ]; then
  echo "== CPU-only configuration (S2S_CUDA=OFF): build and test"
  cmake -S . -B "$build-cpu" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_WERROR=ON -DS2S_CUDA=OFF \
    -DS2S_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build-cpu" --parallel "$jobs"
  "$build-cpu/s2s" version | grep '^cuda:'
  ctest --test-dir "$build-cpu" --output-on-failure --parallel "$jobs"
fi
