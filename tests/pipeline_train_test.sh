#!/usr/bin/env bash
# End-to-end tests of model parallelism (train.parallel.model, docs/scale-out.md) through the real
# binary, on the digit-reversal task: `mpirun -np 2` with 2 pipeline stages (the encoder on rank
# 0, the decoder on rank 1) and 4 micro-batches equals one process on the same batches after 20
# steps to 1e-5 relative, with dropout (against train.workers 4, which cuts the same shards with
# the same dropout streams) and without (against the whole batch on one thread), with a control
# that shows the comparison can fail; `-np 4` (2 stages x 2 replicas) equals one process with
# two batches an update; a run resumes across placements both ways; each stage's
# computing, waiting and sending times are reported; SIGTERM to the decoder's rank stops both
# with a checkpoint; a hung stage is named; the options' mistakes are refused; `s2s translate
# --stages 2` (rank 0 encodes, rank 1 searches) writes what one process writes. Skipped (exit 77)
# without mpirun or in a build without MPI.
# Usage: pipeline_train_test.sh PATH_TO_S2S
set -u
s2s=$1
. "$(cd "$(dirname "$0")" && pwd)/check_lib.sh"
mpi_loopback "$s2s"  # skips without MPI; mpi=(mpirun ... -np 2 ...)

digit_pairs 600 1 6 > train.tsv
cat > tiny.yaml <<'YAML'
data: {train: train.tsv, batch_tokens: 128, max_length: 20, pool_size: 200}
vocab: {size: 16}
encoder: {embed_size: 16, hidden_size: 32, layers: 1, dropout: 0.2}
decoder: {embed_size: 16, hidden_size: 32, dropout: 0.2}
train: {max_steps: 20, valid_every: 0, log_every: 5, learning_rate: 0.01, warmup_steps: 4,
        label_smoothing: 0.1, patience: 0, threads: 1}
YAML
"$s2s" train -r tiny.yaml -o vocab --train.max_steps 1 >vocab.log 2>&1
check "vocabulary run exits 0" [ $? -eq 0 ]
common=(-r tiny.yaml --vocab.model vocab/vocab.model)
pipe=(--train.parallel.mode sync --train.parallel.model.stages 2 --train.parallel.model.micro_batches 4)
nodrop=(--encoder.dropout 0 --decoder.dropout 0)

# 1. Equality: 2 stages x 4 micro-batches = one process on the same batches.
"${mpi[@]}" "$s2s" train "${common[@]}" "${pipe[@]}" -o pipe >pipe.log 2>&1
check "mpirun -np 2 with 2 stages exits 0" [ $? -eq 0 ]
check "the pipeline is described" grep -q "pipeline: 2 stages (encoder | decoder and output layer; rank r is stage r % 2) x 1 replica, 4 micro-batches" pipe.log
check "stage 1 reports its times" grep -Eq "pipeline stage 1 of 2 \(encoder\): computing [0-9.]+ s, waiting for other stages [0-9.]+ s, for its sends to be taken [0-9.]+ s \([0-9]+% idle\); sent [0-9.]+ MiB" pipe.log
check "stage 2 reports its times" grep -Eq "pipeline stage 2 of 2 \(decoder and output layer\): computing" pipe.log
"$s2s" train "${common[@]}" -o workers --train.workers 4 >workers.log 2>&1
check "one process with 4 workers exits 0" [ $? -eq 0 ]
echo -n "with dropout, 2 stages x 4 micro-batches vs 1 process x 4 shards: "
compare_models pipe/model/model.safetensors workers/model/model.safetensors 1e-5
check "with dropout: 2 stages equal one process to 1e-5" [ $? -eq 0 ]
"${mpi[@]}" "$s2s" train "${common[@]}" "${nodrop[@]}" "${pipe[@]}" -o pipe0 >pipe0.log 2>&1
"$s2s" train "${common[@]}" "${nodrop[@]}" -o whole0 --train.workers 1 >whole0.log 2>&1
echo -n "without dropout, 2 stages x 4 micro-batches vs 1 process, whole batches: "
compare_models pipe0/model/model.safetensors whole0/model/model.safetensors 1e-5
check "without dropout: 2 stages equal the whole batch on one thread to 1e-5" [ $? -eq 0 ]
"$s2s" train "${common[@]}" -o workers21 --train.workers 4 --train.max_steps 21 >workers21.log 2>&1
echo -n "(control) 2 stages after 20 steps vs 1 process after 21: "
compare_models pipe/model/model.safetensors workers21/model/model.safetensors 1e-5
check "the comparison can fail: one more step differs" [ $? -ne 0 ]

# ... and combined with data parallelism: mpirun -np 4 = 2 stages x 2 replicas, each stage's
#     replicas summing their gradients, equals one process with 2 batches an update.
mpi4=("${mpi[@]}")
mpi4[3]=4
"${mpi4[@]}" "$s2s" train "${common[@]}" "${pipe[@]}" -o pipe4 >pipe4.log 2>&1
check "mpirun -np 4 with 2 stages exits 0" [ $? -eq 0 ]
check "2 stages x 2 replicas is described" grep -q "pipeline: 2 stages .* x 2 replicas, 4 micro-batches" pipe4.log
"$s2s" train "${common[@]}" -o workers2 --train.workers 4 --train.parallel.accumulate 2 >workers2.log 2>&1
echo -n "2 stages x 2 replicas vs 1 process x 2 batches x 4 shards: "
compare_models pipe4/model/model.safetensors workers2/model/model.safetensors 1e-5
check "2 stages x 2 replicas equal one process with the doubled batch to 1e-5" [ $? -eq 0 ]
echo -n "(control) 2 stages x 2 replicas vs 1 process x 1 batch: "
compare_models pipe4/model/model.safetensors workers/model/model.safetensors 1e-5
check "the comparison can fail: half the batch differs" [ $? -ne 0 ]

# ... and with the output layer on a stage of its own: mpirun -np 3, stages 3.
pipe3=(--train.parallel.mode sync --train.parallel.model.stages 3 --train.parallel.model.micro_batches 4)
mpi3=("${mpi[@]}")
mpi3[3]=3
"${mpi3[@]}" "$s2s" train "${common[@]}" "${pipe3[@]}" -o pipe3 >pipe3.log 2>&1
check "mpirun -np 3 with 3 stages exits 0" [ $? -eq 0 ]
check "3 stages are described" grep -q "pipeline: 3 stages (encoder | decoder | output layer" pipe3.log
check "the output layer's stage reports its times" grep -q "pipeline stage 3 of 3 (output layer): computing" pipe3.log
echo -n "with dropout, 3 stages x 4 micro-batches vs 1 process x 4 shards: "
compare_models pipe3/model/model.safetensors workers/model/model.safetensors 1e-5
check "3 stages equal one process to 1e-5" [ $? -eq 0 ]
"$s2s" train "${common[@]}" -o p3to1 --resume --train.workers 4 >/dev/null 2>&1  # nothing to resume: refused
"${mpi3[@]}" "$s2s" train "${common[@]}" "${pipe3[@]}" -o p3to1 --train.max_steps 10 >r5.log 2>&1
"$s2s" train "${common[@]}" -o p3to1 --resume --train.workers 4 >r6.log 2>&1
check "resume 3 stages -> 1 process exits 0" [ $? -eq 0 ]
echo -n "resumed 3 stages -> 1 process vs uninterrupted: "
compare_models p3to1/model/model.safetensors workers/model/model.safetensors 1e-5
check "resumed 3 stages -> 1 process equals the uninterrupted run" [ $? -eq 0 ]

# ... and with the encoder split after its first layer too: mpirun -np 4, stages 4 (a 2-layer
#     encoder: its first layer | its upper layer | decoder | output layer).
pipe4s=(--train.parallel.mode sync --train.parallel.model.stages 4 --train.parallel.model.micro_batches 4)
deep=(--encoder.layers 2)
"${mpi4[@]}" "$s2s" train "${common[@]}" "${deep[@]}" "${pipe4s[@]}" -o pipe4s >pipe4s.log 2>&1
check "mpirun -np 4 with 4 stages exits 0" [ $? -eq 0 ]
check "4 stages are described" grep -q "pipeline: 4 stages (encoder's first layer | its upper layers | decoder | output layer" pipe4s.log
check "the encoder's upper stage reports its times" grep -q "pipeline stage 2 of 4 (encoder's upper layers): computing" pipe4s.log
"$s2s" train "${common[@]}" "${deep[@]}" -o deep_workers --train.workers 4 >deep_workers.log 2>&1
echo -n "with dropout, 4 stages x 4 micro-batches vs 1 process x 4 shards: "
compare_models pipe4s/model/model.safetensors deep_workers/model/model.safetensors 1e-5
check "4 stages equal one process to 1e-5" [ $? -eq 0 ]
"${mpi4[@]}" "$s2s" train "${common[@]}" "${deep[@]}" "${pipe4s[@]}" -o p4to1 --train.max_steps 10 >r7.log 2>&1
"$s2s" train "${common[@]}" "${deep[@]}" -o p4to1 --resume --train.workers 4 >r8.log 2>&1
check "resume 4 stages -> 1 process exits 0" [ $? -eq 0 ]
echo -n "resumed 4 stages -> 1 process vs uninterrupted: "
compare_models p4to1/model/model.safetensors deep_workers/model/model.safetensors 1e-5
check "resumed 4 stages -> 1 process equals the uninterrupted run" [ $? -eq 0 ]
"${mpi4[@]}" "$s2s" train "${common[@]}" "${pipe4s[@]}" -o bad6 >bad6.log 2>&1
check "4 stages with a 1-layer encoder: refused" grep -q "needs encoder.layers 2 or more, got 1" bad6.log

# 2. Resume across placements: a checkpoint is the ordinary, unsplit one.
"${mpi[@]}" "$s2s" train "${common[@]}" "${pipe[@]}" -o p2to1 --train.max_steps 10 >r1.log 2>&1
"$s2s" train "${common[@]}" -o p2to1 --resume --train.workers 4 >r2.log 2>&1
check "resume 2 stages -> 1 process exits 0" [ $? -eq 0 ]
echo -n "resumed 2 stages -> 1 process vs uninterrupted: "
compare_models p2to1/model/model.safetensors workers/model/model.safetensors 1e-5
check "resumed 2 stages -> 1 process equals the uninterrupted run" [ $? -eq 0 ]
"$s2s" train "${common[@]}" -o p1to2 --train.workers 4 --train.max_steps 10 >r3.log 2>&1
"${mpi[@]}" "$s2s" train "${common[@]}" "${pipe[@]}" -o p1to2 --resume >r4.log 2>&1
check "resume 1 process -> 2 stages exits 0" [ $? -eq 0 ]
echo -n "resumed 1 process -> 2 stages vs uninterrupted: "
compare_models p1to2/model/model.safetensors workers/model/model.safetensors 1e-5
check "resumed 1 process -> 2 stages equals the uninterrupted run" [ $? -eq 0 ]
"$s2s" translate -m p1to2/model -i <(cut -f1 train.tsv | head -5) >translated.txt 2>/dev/null
check "the model folder is an ordinary one: translate reads it" [ "$(wc -l <translated.txt)" -eq 5 ]

# Decoding across stages: rank 0 encodes, rank 1 searches and writes; the same translations.
cut -f1 train.tsv | head -150 > src.txt
"$s2s" translate -m pipe/model -i src.txt -o one.txt --batch-size 7 --chunk 40 2>one.err
check "translate in one process exits 0" [ $? -eq 0 ]
"${mpi[@]}" "$s2s" translate -m pipe/model -i src.txt -o two.txt --batch-size 7 --chunk 40 --stages 2 2>two.err
check "translate --stages 2 under mpirun exits 0" [ $? -eq 0 ]
check "translate --stages 2: the same 150 translations" cmp -s one.txt two.txt
"${mpi[@]}" "$s2s" translate -m pipe/model -i src.txt -o beam1.txt --beam 1 --stages 2 2>/dev/null
"$s2s" translate -m pipe/model -i src.txt -o beam1_one.txt --beam 1 2>/dev/null
check "translate --stages 2 --beam 1: the same as one process" cmp -s beam1.txt beam1_one.txt
"$s2s" translate -m pipe/model -i src.txt -o never.txt --stages 2 2>stages.err
check "translate --stages 2 without mpirun: a usage error, no output" [ $? -eq 2 -a ! -e never.txt ]
check "... saying how to run it" grep -q "runs under .mpirun -np 2." stages.err

# 3. Faults, as in sync training.
long=("${common[@]}" "${pipe[@]}" --train.max_steps 100000 --train.log_every 1)
"${mpi[@]}" "$s2s" train "${long[@]}" -o term >term.log 2>&1 &
job=$!
wait_for_step term.log
kill -TERM "$(rank_pid $job 1)"
wait $job
check "SIGTERM to the decoder's rank: the job exits 0" [ $? -eq 0 ]
check "SIGTERM to the decoder's rank: stopped as interrupted" grep -q "interrupted by a signal" term.log
"$s2s" train "${common[@]}" -o term --resume --train.workers 4 --train.max_steps 100000 --train.max_steps "$(( $(grep -o 'stopped at step [0-9]*' term.log | grep -o '[0-9]*$') + 2 ))" >term2.log 2>&1
check "... and its checkpoint resumes in one process" [ $? -eq 0 ]
"${mpi[@]}" "$s2s" train "${long[@]}" -o hang --train.parallel.timeout 2 >hang.log 2>&1 &
job=$!
wait_for_step hang.log
hung=$(rank_pid $job 1)
kill -STOP "$hung"
start=$SECONDS
wait $job
status=$?
kill -KILL "$hung" 2>/dev/null
check "a hung stage: the job fails (status $status)" [ $status -ne 0 ]
check "a hung stage: within seconds ($((SECONDS - start)) s)" [ $((SECONDS - start)) -lt 60 ]
check "a hung stage: the error names rank 1" grep -Eq "rank 1 (sent no memory gradient|did not take|of 2 did not reach|of 2 does not answer)" hang.log

# 4. What the options refuse, before any work.
"$s2s" train "${common[@]}" -o bad1 --train.parallel.model.stages 2 >bad1.log 2>&1
check "stages without sync mode: exit 1" [ $? -eq 1 ]
check "... naming the key" grep -q "train.parallel.model.stages needs train.parallel.mode sync" bad1.log
"$s2s" train "${common[@]}" -o bad2 --train.parallel.model.stages 5 >bad2.log 2>&1
check "5 stages: refused" grep -q "train.parallel.model.stages must be 1, 2 (encoder | decoder), 3" bad2.log
mpi3=("${mpi[@]}")
mpi3[3]=3
"${mpi3[@]}" "$s2s" train "${common[@]}" "${pipe3[@]}" --decoder.embed_size 32 --decoder.tie_embeddings true -o bad5 >bad5.log 2>&1
check "3 stages with tied output embeddings: refused" grep -q "decoder.tie_embeddings shares its weight" bad5.log
"${mpi[@]}" "$s2s" train "${common[@]}" "${pipe[@]}" --train.workers 2 -o bad3 >bad3.log 2>&1
check "stages with train.workers 2: refused" grep -q "set train.workers 1" bad3.log
mpi1=("${mpi[@]}")
mpi1[3]=1
"${mpi1[@]}" "$s2s" train "${common[@]}" "${pipe[@]}" -o bad4 >bad4.log 2>&1
check "2 stages on 1 rank: refused" grep -q "needs a multiple of that many ranks (one a stage, per replica), got 1" bad4.log
check "... before anything is written" [ ! -e bad4 ]

if [ "$failures" -eq 0 ]; then echo "pipeline_train_test: all $passed passed"; else echo "pipeline_train_test: $failures failed"; exit 1; fi
