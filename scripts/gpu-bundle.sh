#!/usr/bin/env bash
# Builds s2s with CUDA here and packs what the lent GPU machine needs into .gpu/ (git-ignored):
# the test and benchmark binaries, the s2s binary, and the Debian libraries that machine lacks
# (OpenBLAS and its Fortran runtime, Boost.Program_options). The GPU machine brings its own CUDA
# driver, cuBLAS and cuDNN. Then, with the device tool:  run  carry=[".gpu"]
#   command: scripts/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-gpu}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_CUDA=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"
rm -rf .gpu && mkdir -p .gpu/lib
cp "$build/s2s" "$build/tests/s2s_tests" "$build/bench/s2s_bench" .gpu/
for lib in libopenblas.so.0 libgfortran.so.5 libquadmath.so.0 libboost_program_options.so.1.74.0; do
  path=$(ldd .gpu/s2s .gpu/s2s_tests | awk -v l="$lib" '$1 == l {print $3; exit}')
  [ -n "$path" ] && cp -L "$path" .gpu/lib/
done
du -sh .gpu
