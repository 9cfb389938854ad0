#!/usr/bin/env bash
# kill -9 chaos test of s2s train: a tiny run that checkpoints every 4 steps is killed with
# SIGKILL at pseudo-random moments (a seeded schedule), a third of them while a checkpoint is
# being written, and resumed after each kill. After every kill, each checkpoint folder a resume
# could pick must verify (s2s verify); the model the run finally ends with must be
# byte-identical to an uninterrupted run's. Under 30 s on the 2-core machine.
# Usage: chaos_train_test.sh PATH_TO_S2S [SEED]
set -u
s2s=$1
seed=${2:-14}
. "$(cd "$(dirname "$0")" && pwd)/check_lib.sh"

digit_pairs 1000 1 6 > train.tsv
cat > tiny.yaml <<'YAML'
data: {train: train.tsv, batch_tokens: 256, max_length: 20}
vocab: {size: 16}
encoder: {embed_size: 16, hidden_size: 32, layers: 1, dropout: 0.1}
decoder: {embed_size: 16, hidden_size: 32, dropout: 0.1}
train: {max_steps: 300, valid_every: 0, save_every: 4, keep_checkpoints: 2, log_every: 50,
        learning_rate: 0.01, warmup_steps: 10, label_smoothing: 0.0, patience: 0, threads: 1}
YAML

start=$(date +%s.%N)
"$s2s" train -r tiny.yaml -o whole >whole.log 2>&1
check "the uninterrupted run exits 0" [ $? -eq 0 ]
seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
echo "uninterrupted run: $seconds s"

# The kill moments: seeded fractions of an uninterrupted run's time, so the schedule scales with
# the machine. The first start is killed early (setup, vocabulary training, first steps); every
# third start the moment a checkpoint write is under way; the others a random moment after the
# start has saved a checkpoint of its own, so that every run makes progress and is resumed.
read -r -a delays <<<"$(awk -v seed="$seed" -v span="$seconds" 'BEGIN { srand(seed);
  printf "%.3f ", 0.05 + rand() * 0.1 * span;
  for (i = 1; i < 12; ++i) printf "%.3f ", rand() * 0.05 * span }')"

# Every step-N folder with a marker is one that --resume may pick: each must verify.
check_pickable() {
  local folder bad=0
  for folder in chaos/checkpoints/step-*; do
    case $folder in *.*) continue ;; esac  # step-N.tmp, .old, .deleting: never picked
    [ -e "$folder/.complete" ] || continue
    "$s2s" verify "$folder" >/dev/null 2>&1 || { echo "unverifiable: $folder"; bad=1; }
  done
  return $bad
}

# A checkpoint --resume can start from exists: a step-N folder (not step-N.tmp) with its marker.
has_checkpoint() {
  local f
  for f in chaos/checkpoints/step-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]/.complete; do
    [ -e "$f" ] && return 0
  done
  return 1
}

# True while a checkpoint (or the model folder) is being written by this start: its temporary
# folder exists and changed after started.stamp (a leftover of an earlier kill is older).
writing() {
  local d
  for d in chaos/checkpoints/step-*.tmp chaos/model.tmp; do
    [ -d "$d" ] && [ "$d" -nt started.stamp ] && return 0
  done
  return 1
}

kills=0 mid_write=0 starts=0 finished=0
for attempt in $(seq 0 11); do
  args=()
  has_checkpoint && args=(--resume)
  touch started.stamp
  "$s2s" train -r tiny.yaml -o chaos "${args[@]}" >>chaos.log 2>&1 &
  pid=$!
  starts=$((starts + 1))
  if [ "$attempt" -eq 0 ]; then
    sleep "${delays[0]}"
  elif [ $((attempt % 3)) -eq 2 ]; then
    # Targeted: spin (shell builtins only, no forks) until a checkpoint write is under way.
    while kill -0 "$pid" 2>/dev/null && ! writing; do :; done
  else
    while kill -0 "$pid" 2>/dev/null && ! [ chaos/checkpoints/latest -nt started.stamp ]; do
      sleep 0.01
    done
    sleep "${delays[$attempt]}"
  fi
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rc=$?
  if [ "$rc" -eq 137 ]; then
    kills=$((kills + 1))
    writing && mid_write=$((mid_write + 1))
  elif [ "$rc" -eq 0 ]; then
    finished=1
    break
  else
    check "attempt $attempt: the run ended with exit $rc, neither killed nor done" false
  fi
  check "after kill $kills: every checkpoint a resume could pick verifies" check_pickable
  [ "$kills" -ge 8 ] && break
done
if [ "$finished" -eq 0 ]; then
  args=()
  has_checkpoint && args=(--resume)
  "$s2s" train -r tiny.yaml -o chaos "${args[@]}" >>chaos.log 2>&1
  check "the last resume runs to the end" [ $? -eq 0 ]
  starts=$((starts + 1))
fi
resumes=$(grep -c "resumed from" chaos.log)
fallbacks=$(grep -c "is unusable" chaos.log)
echo "chaos (seed $seed): $kills kills ($mid_write while a checkpoint was being written)," \
  "$starts starts, $resumes resumed from a checkpoint, $fallbacks fell back past one"
check "at least 5 kills (got $kills)" [ "$kills" -ge 5 ]
check "at least one kill while a checkpoint was being written (got $mid_write)" [ "$mid_write" -ge 1 ]
check "at least 5 resumes from a checkpoint (got $resumes)" [ "$resumes" -ge 5 ]
check "the final model equals the uninterrupted run's, byte for byte" \
  cmp -s chaos/model/model.safetensors whole/model/model.safetensors
"$s2s" verify chaos/model >/dev/null 2>&1
check "the final model folder verifies" [ $? -eq 0 ]

echo "chaos_train_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
