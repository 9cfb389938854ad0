#!/usr/bin/env bash
# End-to-end tests of scale-out training through the real binary, on the digit-reversal task of
# train_test.sh: `mpirun -np 2` sync training equals one process with the doubled batch
# (train.parallel.accumulate 2) to 1e-5 relative, with and without dropout, also with
# train.workers 2 a rank (and one process's 2 workers its whole batch); a run resumes from a
# checkpoint with a different process count; SIGTERM to one rank stops every rank cleanly; a hung rank (SIGSTOP)
# or a dead one (SIGKILL) ends the job with an error naming it; mode none under mpirun is
# refused; async training with 2 replicas learns the task; the transport's errors (NCCL on the
# CPU, an unknown transport, CUDA without a usable GPU). Skipped (exit 77) without mpirun or
# in a build without MPI.
# Usage: mpi_train_test.sh PATH_TO_S2S
set -u
s2s=$1
. "$(cd "$(dirname "$0")" && pwd)/check_lib.sh"
# Loopback runs in a container: allow root, oversubscribe the 2 cores, shared memory transport.
mpi_loopback "$s2s"  # skips without MPI; mpi=(mpirun ... -np 2 ...)

digit_pairs 600 1 6 > train.tsv
digit_pairs 30 2 6 > dev.tsv
cat > tiny.yaml <<'YAML'
data: {train: train.tsv, batch_tokens: 128, max_length: 20, pool_size: 200}
vocab: {size: 16}
encoder: {embed_size: 16, hidden_size: 32, layers: 1, dropout: 0.0}
decoder: {embed_size: 16, hidden_size: 32, dropout: 0.0}
train: {max_steps: 8, valid_every: 0, log_every: 2, learning_rate: 0.01, warmup_steps: 4,
        label_smoothing: 0.1, patience: 0, threads: 1}
YAML
# One vocabulary for every run.
"$s2s" train -r tiny.yaml -o vocab --train.max_steps 1 >vocab.log 2>&1
check "vocabulary run exits 0" [ $? -eq 0 ]
common=(-r tiny.yaml --vocab.model vocab/vocab.model)

# 1. Two ranks with batch b = one process with the doubled batch (2 batches per update).
"${mpi[@]}" "$s2s" train "${common[@]}" -o sync --train.parallel.mode sync >sync.log 2>&1
check "mpirun -np 2 sync exits 0" [ $? -eq 0 ]
check "sync names the transport" grep -q "sync data parallelism: MPI .*2 ranks" sync.log
check "only rank 0 logs (one line per logged step)" [ "$(grep -c '^step 8 ' sync.log)" -eq 1 ]
"$s2s" train "${common[@]}" -o single --train.parallel.accumulate 2 >single.log 2>&1
check "single process, accumulate 2, exits 0" [ $? -eq 0 ]
echo -n "2 ranks vs 1 process x 2 batches: "
compare_models sync/model/model.safetensors single/model/model.safetensors 1e-5
check "2 ranks equal 1 process with the doubled batch to 1e-5" [ $? -eq 0 ]
"$s2s" train "${common[@]}" -o half >half.log 2>&1
echo -n "(control) 2 ranks vs 1 process x 1 batch: "
compare_models sync/model/model.safetensors half/model/model.safetensors 1e-5
check "the comparison can fail: one batch per update differs" [ $? -ne 0 ]

# ... and with train.workers: each rank's batch in 2 shards on 2 threads, the same update; one
#     process with 2 workers equals one process with its whole batch.
"${mpi[@]}" "$s2s" train "${common[@]}" -o sync_workers --train.parallel.mode sync --train.workers 2 \
  >sync_workers.log 2>&1
check "mpirun -np 2 sync with 2 workers a rank exits 0" [ $? -eq 0 ]
echo -n "2 ranks x 2 workers vs 1 process x 2 batches: "
compare_models sync_workers/model/model.safetensors single/model/model.safetensors 1e-5
check "2 ranks x 2 workers equal 1 process with the doubled batch to 1e-5" [ $? -eq 0 ]
"$s2s" train "${common[@]}" -o half_workers --train.workers 2 >half_workers.log 2>&1
check "1 process with 2 workers exits 0" [ $? -eq 0 ]
echo -n "1 process x 2 workers vs 1 process x 1 batch: "
compare_models half_workers/model/model.safetensors half/model/model.safetensors 1e-5
check "2 workers equal the whole batch on one thread to 1e-5" [ $? -eq 0 ]

# ... with dropout too: each batch's masks come from a stream keyed by its place in the data.
drop=(--encoder.dropout 0.2 --decoder.dropout 0.2)
"${mpi[@]}" "$s2s" train "${common[@]}" "${drop[@]}" -o sync_drop --train.parallel.mode sync >sync_drop.log 2>&1
"$s2s" train "${common[@]}" "${drop[@]}" -o single_drop --train.parallel.accumulate 2 >single_drop.log 2>&1
echo -n "with dropout, 2 ranks vs 1 process x 2 batches: "
compare_models sync_drop/model/model.safetensors single_drop/model/model.safetensors 1e-5
check "with dropout: 2 ranks equal 1 process with the doubled batch" [ $? -eq 0 ]

# 2. Resume with a different N: 2 ranks for 4 steps, then 1 process (accumulate 2) to 8, and the
#    other way round; both end where the uninterrupted run ends.
"${mpi[@]}" "$s2s" train "${common[@]}" -o n2to1 --train.parallel.mode sync --train.max_steps 4 >r1.log 2>&1
"$s2s" train "${common[@]}" -o n2to1 --resume --train.parallel.accumulate 2 >r2.log 2>&1
check "resume 2 ranks -> 1 process exits 0" [ $? -eq 0 ]
echo -n "resumed 2 -> 1 vs uninterrupted: "
compare_models n2to1/model/model.safetensors single/model/model.safetensors 1e-5
check "resumed with N 2 -> 1 equals the uninterrupted run" [ $? -eq 0 ]
"$s2s" train "${common[@]}" -o n1to2 --train.parallel.accumulate 2 --train.max_steps 4 >r3.log 2>&1
"${mpi[@]}" "$s2s" train "${common[@]}" -o n1to2 --resume --train.parallel.mode sync >r4.log 2>&1
check "resume 1 process -> 2 ranks exits 0" [ $? -eq 0 ]
echo -n "resumed 1 -> 2 vs uninterrupted: "
compare_models n1to2/model/model.safetensors single/model/model.safetensors 1e-5
check "resumed with N 1 -> 2 equals the uninterrupted run" [ $? -eq 0 ]

long=("${common[@]}" --train.parallel.mode sync --train.max_steps 100000 --train.log_every 1)

# 3. SIGTERM to rank 1 alone: every rank stops at the same step, rank 0 saves, exit 0.
"${mpi[@]}" "$s2s" train "${long[@]}" -o term >term.log 2>&1 &
job=$!
wait_for_step term.log
kill -TERM "$(rank_pid $job 1)"
wait $job
check "SIGTERM to rank 1: the job exits 0" [ $? -eq 0 ]
check "SIGTERM to rank 1: stopped as interrupted" grep -q "interrupted by a signal" term.log
check "SIGTERM to rank 1: rank 0 saved a checkpoint" test -f term/checkpoints/latest

# 4. A hung rank (SIGSTOP): rank 0 names it after train.parallel.timeout and ends the job.
"${mpi[@]}" "$s2s" train "${long[@]}" -o hang --train.parallel.timeout 2 >hang.log 2>&1 &
job=$!
wait_for_step hang.log
hung=$(rank_pid $job 1)
kill -STOP "$hung"
start=$SECONDS
wait $job
status=$?
kill -KILL "$hung" 2>/dev/null
check "a hung rank: the job fails (status $status)" [ $status -ne 0 ]
check "a hung rank: within seconds ($((SECONDS - start)) s)" [ $((SECONDS - start)) -lt 60 ]
# Stopped before the step's header: rank 0 misses its header; stopped inside the all-reduce: it
# does not answer rank 0's probe. Either way it is named.
check "a hung rank: the error names rank 1" grep -Eq "rank 1 of 2 (did not reach the step|does not answer)" hang.log

# 5. A dead rank (SIGKILL): the job ends, naming it.
"${mpi[@]}" "$s2s" train "${long[@]}" -o dead --train.parallel.timeout 5 >dead.log 2>&1 &
job=$!
wait_for_step dead.log
kill -KILL "$(rank_pid $job 1)"
start=$SECONDS
wait $job
status=$?
check "a dead rank: the job fails (status $status)" [ $status -ne 0 ]
check "a dead rank: within seconds ($((SECONDS - start)) s)" [ $((SECONDS - start)) -lt 60 ]
check "a dead rank: rank 1 is named" grep -Eq "rank 1( |$)|rank 1 with PID" dead.log

# 6. Two processes that are not told to cooperate would write one folder twice: refused.
"${mpi[@]}" "$s2s" train "${common[@]}" -o refused >refused.log 2>&1
check "mpirun with mode none fails" [ $? -ne 0 ]
check "... saying to set sync" grep -q "set --train.parallel.mode sync" refused.log

# 7. Async: 2 replica threads reach the task's target loss, 1.0 nats/token (uniform guessing is
#    2.8; one process gets there in about 250 updates, stale gradients make async a little slower).
"$s2s" train "${common[@]}" -o async --train.parallel.mode async --train.parallel.replicas 2 \
  --train.parallel.max_staleness 8 --train.max_steps 500 --train.log_every 50 --train.threads 2 \
  >async.log 2>&1
check "async exits 0" [ $? -eq 0 ]
check "async logs staleness" grep -q "staleness mean" async.log
loss=$(grep -o "^step [0-9]* .*| loss [0-9.]*" async.log | tail -1 | awk '{print $NF}')
check "async loss ${loss:-?} < 1.0" awk -v l="${loss:-9}" 'BEGIN { exit !(l < 1.0) }'

# 8. The transport (train.parallel.transport): NCCL carries CUDA buffers only, and a build or a
#    machine that cannot run it says what is missing before training (one process, no mpirun).
"$s2s" train "${common[@]}" -o nccl_cpu --train.parallel.mode sync \
  --train.parallel.transport nccl >nccl_cpu.log 2>&1
check "transport nccl on the CPU fails" [ $? -ne 0 ]
check "... saying it sums CUDA buffers" grep -q "nccl sums CUDA buffers" nccl_cpu.log
"$s2s" train "${common[@]}" -o pigeon --train.parallel.mode sync \
  --train.parallel.transport pigeon >pigeon.log 2>&1
check "an unknown transport fails" [ $? -ne 0 ]
check "... naming the choices" grep -q "must be auto, mpi or nccl, got 'pigeon'" pigeon.log
"$s2s" train "${common[@]}" -o nccl_gpu --train.parallel.mode sync --train.device cuda \
  >nccl_gpu.log 2>&1
status=$?
if [ $status -eq 0 ]; then  # a GPU and NCCL here: one rank trained over NCCL
  check "sync on cuda: NCCL is the transport" grep -q "sync data parallelism: NCCL" nccl_gpu.log
else  # CPU-only build, no GPU, or no libnccl: one line saying which
  check "sync on cuda without a usable GPU/NCCL says why" \
    grep -Eq "built without CUDA|needs a CUDA device|libnccl" nccl_gpu.log
fi

echo "$passed passed, $failures failed"
if [ "$failures" -ne 0 ]; then
  for f in *.log; do echo "== $f"; tail -5 "$f"; done
fi
[ "$failures" -eq 0 ]
