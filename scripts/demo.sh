#!/usr/bin/env bash
# The first thing to run on a fresh machine: installs the dependencies, builds s2s, shows what
# it was built with, and runs the main job. Until the translation recipe lands (issue 3) the main
# job is the CPU benchmark of the numerical core: the LSTM layer against the machine's sgemm peak.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --parallel "$(nproc)"
"$build/s2s" version
echo
BUILD_DIR="$build" scripts/bench.sh
