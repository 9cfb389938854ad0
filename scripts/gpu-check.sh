#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: runs the whole test suite (the CUDA cases included) and the
# CUDA benchmarks, and prints a short table last. Uses the binaries packed by gpu-bundle.sh in
# .gpu/ when present (the lent machine has no Debian toolchain), else builds with S2S_CUDA=ON.
# Writes full logs to $OUT (or ./gpu-check-out) for the record.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-check-out}
mkdir -p "$out"
if [ ! -f .gpu/s2s-gpu.tar.xz ]; then  # a machine with the Debian toolchain: build here
  BUILD_DIR=build-gpu scripts/gpu-bundle.sh >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
fi
bin=$(mktemp -d)
tar -C "$bin" -xJf .gpu/s2s-gpu.tar.xz
cublas=$(ls /usr/local/cuda/lib64/libcublas.so.13 2>/dev/null ||
         find / -name 'libcublas.so.13' -not -path '/proc/*' 2>/dev/null | head -n 1)
export S2S_TEST_DATA_DIR="$bin/data"
export LD_LIBRARY_PATH="$bin/lib:$(dirname "${cublas:-/usr/local/cuda/lib64/x}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader | tee "$out/gpu.txt"
"$bin/s2s" version | tee "$out/version.txt"

"$bin/s2s_tests" --gtest_brief=1 >"$out/tests.log" 2>&1
tests_rc=$?
cuda_passed=$("$bin/s2s_tests" --gtest_filter='*cuda*' --gtest_brief=0 2>&1 | tee "$out/cuda_tests.log" | grep -c '^\[       OK \]')
cuda_skipped=$(grep -c '^\[  SKIPPED \]' "$out/cuda_tests.log")

"$bin/s2s_bench" --benchmark_filter='Cuda' --benchmark_min_time=0.5 \
  --benchmark_format=console --benchmark_out="$out/bench.json" --benchmark_out_format=json \
  >"$out/bench.log" 2>&1
bench_rc=$?

echo
echo "== gpu-check summary =="
printf '%-40s %s\n' "whole suite" "$( [ $tests_rc -eq 0 ] && echo passed || echo "FAILED (see tests.log)")"
printf '%-40s %s\n' "CUDA test cases passed / skipped" "$cuda_passed / $cuda_skipped"
grep -E '^BM_' "$out/bench.log" | awk '{ for (i = 1; i <= NF; ++i) if ($i ~ /GFLOP\/s=/) r = $i; printf "%-40s %s\n", $1, r }'
[ $tests_rc -eq 0 ] && [ $bench_rc -eq 0 ]
