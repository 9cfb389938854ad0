#!/usr/bin/env bash
# Scale-out benchmark: training throughput (target tokens/s) of the de-en base recipe for a fixed
# wall-clock time per configuration, and where the time goes (data, compute, waiting for the
# other rank, all-reduce, optimizer update), from the trainer's own timers:
#   1 process x 2 threads          (one batch, OpenBLAS threading inside each GEMM)
#   1 process, 2 workers           (train.workers 2, the default on 2 threads: each batch in 2
#                                   shards on 2 threads with 1 math thread each, gradients
#                                   summed: the same update)
#   1 process x 1 thread           (the unit the scaling is measured against)
#   sync: mpirun -np 2, 1 thread each (gradients all-reduced every update)
#   async: 2 replica threads x 1 math thread, one parameter store
#   pipe2mM: mpirun -np 2, 1 thread each, the model in 2 pipeline stages (encoder | decoder and
#            output layer), each batch in M micro-batches (not in the default CONFIGS); its
#            lines say each stage's computing and idle time and the MiB it sent
# Validation is off; the tokens/s are the means of the log intervals after the first (start-up
# excluded). Around the runs, sgemm 2048^3 through ops::gemm (bench/s2s_bench, 2 threads) gives
# the machine's ceiling in the same run; each configuration's achieved GFLOP/s is its tokens/s x
# MFLOP_PER_TOKEN (51.3 for the base and hour recipes' shapes: docs/scale-out.md) and its share
# of that sgemm rate. Needs a build with MPI and bench, and the prepared corpus
# (recipes/de-en/prepare.sh).
# Environment: BUILD_DIR (default build), DATA_DIR (default recipes/de-en/data), VOCAB (a
# SentencePiece model, default /work/runs/hour/vocab.model; "" trains one per run),
# SECONDS_PER_RUN (default 45), CONFIGS (default "threads2 workers2 threads1 sync2 async2"),
# MFLOP_PER_TOKEN (default 51.3).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
s2s=$root/${BUILD_DIR:-build}/s2s
data=${DATA_DIR:-$root/recipes/de-en/data}
vocab=${VOCAB-/work/runs/hour/vocab.model}
if [[ -n $vocab && ! -f $vocab ]]; then
  echo "bench-scaleout: no vocabulary $vocab; each run trains its own (set VOCAB to skip that)"
  vocab=
fi
seconds=${SECONDS_PER_RUN:-45}
configs=${CONFIGS:-threads2 workers2 threads1 sync2 async2}
mflop=${MFLOP_PER_TOKEN:-51.3}
bench=$root/${BUILD_DIR:-build}/bench/s2s_bench
[[ -x $s2s ]] || { echo "no $s2s: build first" >&2; exit 1; }
[[ -f $data/train.tsv ]] || { echo "no $data/train.tsv: run recipes/de-en/prepare.sh" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mpi=(mpirun --oversubscribe -np 2 --mca btl self,vader)
[[ $(id -u) = 0 ]] && mpi+=(--allow-run-as-root)
common=(-r "$root/recipes/de-en/base.yaml" --data.train "$data/train.tsv" --data.valid "$data/dev.tsv"
        --data.shuffle_buffer 20000 --train.valid_every 0 --train.log_every 3 --train.max_steps 0
        --train.max_minutes "$(awk -v s="$seconds" 'BEGIN { print s / 60 }')")
[[ -n $vocab ]] && common+=(--vocab.model "$vocab")

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load before: $(uptime | sed 's/.*load average/load average/')"
sgemm() {  # GFLOP/s of ops::gemm at 2048^3 on 2 threads
  if [[ ! -x $bench ]]; then echo 0; return; fi
  "$bench" --benchmark_filter='BM_OpsSgemm/2048' --benchmark_min_time=2 2>/dev/null |
    awk '/BM_OpsSgemm/ { for (i = 1; i <= NF; ++i) if ($i ~ /^GFLOP\/s=/) { v = $i;
         sub("GFLOP/s=", "", v); m = 1; if (v ~ /k\/s$/) m = 1000; sub(/k?\/s$/, "", v);
         print v * m } }'
}
sgemm_before=$(sgemm)
echo "sgemm 2048^3 (ops::gemm, 2 threads): $sgemm_before GFLOP/s"
printf '%-10s %10s %8s %8s %7s  %s\n' config "tgt tok/s" updates "GFLOP/s" "/sgemm" \
  "where the time goes (whole run)"
for config in $configs; do
  log=$work/$config.log
  case $config in
    threads2) "$s2s" train "${common[@]}" -o "$work/$config" --train.threads 2 \
                --train.workers 1 >"$log" 2>&1 ;;
    workers2) "$s2s" train "${common[@]}" -o "$work/$config" --train.threads 2 \
                --train.workers 2 >"$log" 2>&1 ;;
    threads1) "$s2s" train "${common[@]}" -o "$work/$config" --train.threads 1 >"$log" 2>&1 ;;
    sync2) "${mpi[@]}" "$s2s" train "${common[@]}" -o "$work/$config" --train.threads 1 \
             --train.parallel.mode sync >"$log" 2>&1 ;;
    async2) "$s2s" train "${common[@]}" -o "$work/$config" --train.threads 2 \
              --train.parallel.mode async --train.parallel.replicas 2 >"$log" 2>&1 ;;
    pipe2m*) "${mpi[@]}" "$s2s" train "${common[@]}" -o "$work/$config" --train.threads 1 \
               --train.parallel.mode sync --train.parallel.model.stages 2 \
               --train.parallel.model.micro_batches "${config#pipe2m}" >"$log" 2>&1 ;;
    *) echo "unknown config $config" >&2; exit 1 ;;
  esac
  lines=$(grep '^step ' "$log" || true)
  rate=$(sed -n 's/.* \([0-9]*\) tgt tok\/s.*/\1/p' <<<"$lines" | tail -n +2 |
         awk '{ s += $1; n++ } END { if (n) printf "%.0f", s / n; else print "-" }')
  steps=$( (grep -o 'training stopped at step [0-9]*' "$log" || true) | awk '{ print $NF }')
  times=$( (grep -o 'over the run: .*' "$log" | sed 's/over the run: //') || true)
  gflops=$(awk -v r="$rate" -v m="$mflop" 'BEGIN { if (r == "-") print "-"; else printf "%.1f", r * m / 1000 }')
  share=$(awk -v g="$gflops" -v s="$sgemm_before" 'BEGIN { if (g == "-" || s <= 0) print "-"; else printf "%.0f%%", 100 * g / s }')
  printf '%-10s %10s %8s %8s %7s  %s\n' "$config" "$rate" "${steps:-?}" "$gflops" "$share" "${times:--}"
  (grep -h "all-reduce:" "$log" || true) | head -1 | sed 's/^/           /'
  (grep -h "^pipeline stage" "$log" || true) | sed 's/^/           /'
  (tail -1 <<<"$lines" | grep -o 'staleness.*' || true) | sed 's/^/           /'
  if [[ -z $lines ]]; then echo "           (no log line; the end of $log:)"; tail -3 "$log"; fi
done
echo "sgemm 2048^3 after the runs: $(sgemm) GFLOP/s (the share above is against the first)"
echo "load after: $(uptime | sed 's/.*load average/load average/')"
