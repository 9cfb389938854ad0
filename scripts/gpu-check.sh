#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: runs the whole test suite (the CUDA cases included), the CUDA
# cases again under compute-sanitizer, the CUDA benchmarks, and (when the bundle carries the
# de-en data) a short GPU training run for its throughput; prints a short table last. Uses the
# bundle packed by scripts/gpu-bundle.sh (.gpu/s2s-gpu.tar.gz) when present, since the lent GPU
# machine has no Debian toolchain; else builds one first. Logs go to $OUT (or ./gpu-check-out).
# Sized to finish in about 5 minutes on one H100.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-check-out}
mkdir -p "$out"
if [ ! -f .gpu/s2s-gpu.tar.gz ]; then  # a machine with the Debian toolchain: build here
  BUILD_DIR=build-gpu scripts/gpu-bundle.sh >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
fi
bin=$(mktemp -d)
tar -C "$bin" -xzf .gpu/s2s-gpu.tar.gz
cublas=$(ls /usr/local/cuda/lib64/libcublas.so.13 2>/dev/null ||
         find / -name 'libcublas.so.13' -not -path '/proc/*' 2>/dev/null | head -n 1)
# NCCL (dlopen'ed by the NCCL communicator; 200 MB, so never in the bundle): the machine's own,
# if it has one; without it the NCCL tests skip, saying so.
nccl=$(ls /usr/local/cuda/lib64/libnccl.so.2 2>/dev/null ||
       find / -name 'libnccl.so.2' -not -path '/proc/*' 2>/dev/null | head -n 1)
export S2S_TEST_DATA_DIR="$bin/data"
export LD_LIBRARY_PATH="$bin/lib:$(dirname "${cublas:-/usr/local/cuda/lib64/x}")${nccl:+:$(dirname "$nccl")}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader | tee "$out/gpu.txt"
"$bin/s2s" version | tee "$out/version.txt"

# 1. The whole suite, then the CUDA cases on their own (counted).
timeout 240 "$bin/s2s_tests" --gtest_brief=1 >"$out/tests.log" 2>&1
tests_rc=$?
timeout 120 "$bin/s2s_tests" --gtest_filter='*cuda*' >"$out/cuda_tests.log" 2>&1
cuda_passed=$(grep -c '^\[       OK \]' "$out/cuda_tests.log")
cuda_failed=$(grep -c '^\[  FAILED  \].*cuda' "$out/cuda_tests.log")
cuda_skipped=$(grep -c '^\[  SKIPPED \]' "$out/cuda_tests.log")
# The NCCL communicator on one GPU (a single rank; several ranks need several GPUs).
nccl_passed=$(grep -c '^\[       OK \] Cuda/NcclTest' "$out/cuda_tests.log")
nccl_skipped=$(grep -c '^\[  SKIPPED \] Cuda/NcclTest' "$out/cuda_tests.log")

# 2. Memory errors and races in the kernels (parity tests only: they run every kernel).
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
memcheck="not run (no compute-sanitizer)"
if [ -n "$sanitizer" ]; then
  timeout 150 "$sanitizer" --tool memcheck --error-exitcode 9 "$bin/s2s_tests" \
    --gtest_filter='Devices/Parity*cuda*:Devices/ModelParity*cuda*' >"$out/memcheck.log" 2>&1
  case $? in 0) memcheck="clean" ;; 9) memcheck="ERRORS (memcheck.log)" ;; 124) memcheck="timed out" ;; *) memcheck="failed (memcheck.log)" ;; esac
fi

# 3. sacreBLEU's own scores for the BLEU test corpus, next to ours.
python3 -m sacrebleu --version >/dev/null 2>&1 &&
  { bash "$bin/data/bleu/make_expected.sh" >"$out/sacrebleu.txt" 2>&1
    for f in "hyp.txt ref1.txt" "hyp.txt ref1.txt ref2.txt" "nomatch4.hyp nomatch4.ref"; do
      (cd "$bin/data/bleu" && "$bin/s2s" bleu -f text $f) ; done >"$out/s2s_bleu.txt" 2>&1; }

# 4. Benchmarks: cuBLAS sgemm ceiling.
timeout 60 "$bin/s2s_bench" --benchmark_filter='Cuda' --benchmark_min_time=0.5 \
  --benchmark_out="$out/bench.json" --benchmark_out_format=json >"$out/bench.log" 2>&1
bench_rc=$?

# 5. GPU training throughput on the de-en base recipe, if the bundle carries its data.
train_rate="not run (no de-en data in the bundle)"
if [ -f "$bin/de-en/train.tsv" ]; then
  timeout 150 "$bin/s2s" train -r "$bin/de-en/base.yaml" -o "$bin/run" --train.device cuda \
    --vocab.model "$bin/de-en/vocab.model" --data.train "$bin/de-en/train.tsv" \
    --data.valid '""' --train.max_steps 400 --train.log_every 100 --train.valid_every 0 \
    >"$out/train_gpu.log" 2>&1
  train_rate=$(grep '^step [34]00 ' "$out/train_gpu.log" | grep -o '[0-9]* tgt tok/s' | tr '\n' ' ')
  [ -n "$train_rate" ] || train_rate="failed (train_gpu.log)"
fi

echo
echo "== gpu-check summary =="
printf '%-44s %s\n' "whole suite" "$([ $tests_rc -eq 0 ] && echo passed || echo "FAILED (rc $tests_rc, tests.log)")"
printf '%-44s %s\n' "CUDA cases passed / failed / skipped" "$cuda_passed / $cuda_failed / $cuda_skipped"
printf '%-44s %s\n' "NCCL single-rank tests passed / skipped" "$nccl_passed / $nccl_skipped (${nccl:-no libnccl.so.2 found}; why: cuda_tests.log)"
printf '%-44s %s\n' "compute-sanitizer memcheck (parity tests)" "$memcheck"
grep -E '^BM_' "$out/bench.log" | awk '{ r = ""; for (i = 1; i <= NF; ++i) if ($i ~ /GFLOP\/s=/) r = $i; printf "%-44s %s\n", $1, r }'
printf '%-44s %s\n' "de-en base training on the GPU (steps 300, 400)" "$train_rate"
[ -f "$out/sacrebleu.txt" ] && { echo "-- sacreBLEU:"; grep -E '^BLEU|^[0-9]' "$out/sacrebleu.txt"; echo "-- s2s:"; cat "$out/s2s_bleu.txt"; }
grep -E '^\[  FAILED  \]' "$out/tests.log" | head -20
[ $tests_rc -eq 0 ] && [ $bench_rc -eq 0 ]
