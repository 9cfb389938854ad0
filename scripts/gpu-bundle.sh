#!/usr/bin/env bash
# Builds s2s with CUDA here and packs what the lent GPU machine needs into .gpu/s2s-gpu.tar.xz
# (.gpu/ is git-ignored): the test and benchmark binaries, the s2s binary, and every shared
# library they load that is not part of the C/C++ runtime (OpenBLAS, ICU, SentencePiece,
# yaml-cpp, Boost, ...), since that machine has none of Debian's packages. Compressed, because
# what travels to the device machine is limited to 64 MiB. The GPU machine brings its own CUDA
# driver, cuBLAS and cuDNN. Then, with the device tool:  run  carry=[".gpu"]
#   command: scripts/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-gpu}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_CUDA=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/lib" .gpu
cp "$build/s2s" "$build/tests/s2s_tests" "$build/bench/s2s_bench" "$stage/"
cp -r tests/data "$stage/data"
# Everything ldd resolves except the runtime every Linux has (and which must match its kernel).
ldd "$stage/s2s" "$stage/s2s_tests" "$stage/s2s_bench" | awk '$3 ~ /^\// {print $1, $3}' | sort -u |
  while read -r name path; do
    case "$name" in
      libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libgcc_s.so*|libstdc++.so*|ld-linux*) ;;
      libcuda.so*|libcublas*|libcudnn*) ;;  # the GPU machine's own
      *) cp -L "$path" "$stage/lib/$name" ;;
    esac
  done
tar -C "$stage" -cJf .gpu/s2s-gpu.tar.xz .
ls -la .gpu/s2s-gpu.tar.xz
