#!/usr/bin/env bash
# Builds s2s with CUDA here and packs what the lent GPU machine needs into .gpu/s2s-gpu.tar.gz
# (.gpu/ is git-ignored): the test and benchmark binaries, the s2s binary, and every shared
# library they load that is not part of the C/C++ runtime (OpenBLAS, ICU, SentencePiece,
# yaml-cpp, Boost, ...), since that machine has none of Debian's packages. Compressed, because
# what travels to the device machine is limited to 64 MiB. The GPU machine brings its own CUDA
# driver, cuBLAS and cuDNN. VOCAB_MODEL=path/vocab.model adds the prepared de-en data and that
# vocabulary for a GPU training run. Then, with the device tool:  run  carry=[".gpu"]
#   command: scripts/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-gpu}
if [ -z "${NO_BUILD:-}" ]; then  # NO_BUILD=1: pack what $build already holds
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_CUDA=ON >/dev/null
  cmake --build "$build" --parallel "$(nproc)"
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/lib" .gpu
# libs2s_image_dnn.so (OpenCV's dnn, dlopened by the frozen-CNN encoder) goes next to them.
cp "$build/s2s" "$build/tests/s2s_tests" "$build/bench/s2s_bench" "$build/libs2s_image_dnn.so" \
  "$stage/"
cp -r tests/data "$stage/data"
# The de-en data and a vocabulary, when prepared here, for a GPU training-throughput run.
if [ -f recipes/de-en/data/train.tsv ] && [ -n "${VOCAB_MODEL:-}" ]; then
  mkdir -p "$stage/de-en"
  cp recipes/de-en/data/train.tsv recipes/de-en/base.yaml "$stage/de-en/"
  cp "$VOCAB_MODEL" "$stage/de-en/vocab.model"
fi
# Everything ldd resolves except the runtime every Linux has (and which must match its kernel).
ldd "$stage/s2s" "$stage/s2s_tests" "$stage/s2s_bench" "$stage/libs2s_image_dnn.so" |
  awk '$3 ~ /^\// {print $1, $3}' | sort -u |
  while read -r name path; do
    case "$name" in
      libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libgcc_s.so*|libstdc++.so*|ld-linux*) ;;
      libcuda.so*|libcublas*|libcudnn*) ;;  # the GPU machine's own
      *) cp -L "$path" "$stage/lib/$name" ;;
    esac
  done
tar -C "$stage" -czf .gpu/s2s-gpu.tar.gz .
ls -la .gpu/s2s-gpu.tar.gz
