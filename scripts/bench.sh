#!/usr/bin/env bash
# Builds s2s_bench (Release, in build-bench; reused if present) and runs the micro-benchmarks,
# then prints name, GFLOP/s and ratio (LSTM rate / sgemm 2048^3 rate of the same run). On a
# machine shared with other work, trust BM_LstmVsSgemmInterleaved's ratio (fastest of each,
# interleaved) over BM_LstmForwardBackward's (averages taken a minute apart).
# Environment: BUILD_DIR (default build-bench), MIN_TIME (seconds per benchmark, default 3),
# S2S_THREADS (default 2), FILTER (a --benchmark_filter regex, default all).
# Extra arguments go to s2s_bench. The run takes about a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build-bench}
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target s2s_bench >/dev/null

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$build/bench/s2s_bench" --benchmark_min_time="${MIN_TIME:-3}" \
  --benchmark_filter="${FILTER:-.}" "$@" 2>&1 | tee "$out" >&2

echo
grep '^Load Average' "$out" || true  # foreign load skews single runs: see the header
printf '%-40s %12s %8s\n' benchmark GFLOP/s ratio
awk '/^BM_/ {
  name = $1; sub("/real_time$", "", name); gflops = "-"; ratio = "-"
  for (i = 2; i <= NF; ++i) {
    if ($i ~ /^GFLOP\/s=/) {  # Google Benchmark prints rates with SI prefixes: 1.2k/s = 1200
      v = $i; sub("GFLOP/s=", "", v); sub("/s$", "", v); scale = 1
      if (v ~ /k$/) scale = 1e3; else if (v ~ /M$/) scale = 1e6; else if (v ~ /m$/) scale = 1e-3
      sub("[kMm]$", "", v); gflops = sprintf("%.1f", v * scale)
    }
    if ($i ~ /^ratio=/) { v = $i; sub("ratio=", "", v); ratio = sprintf("%.3f", v) }
  }
  printf "%-40s %12s %8s\n", name, gflops, ratio
}' "$out"
