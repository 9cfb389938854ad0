#!/usr/bin/env bash
# Flat memory of the streaming commands (issue 14): `s2s translate` and `s2s score` read their
# input a chunk (--chunk lines) at a time, `s2s caption` a batch (--batch-size images) at a time,
# and write as they go, so their peak resident memory must not depend on the input's length. This
# runs each on a small input (one chunk or batch) and on one FACTOR times larger, and prints the
# peak RSS of both (GNU time's %M), their ratio and whether it is within 10%. Tiny models are
# trained here first (the end-to-end tests' digit-reversal and square-captioning recipes), so it
# runs anywhere, in a minute or two on 2 cores.
# Usage: scripts/bench-memory.sh
# Environment: BUILD_DIR (build), CHUNK (100: --chunk of translate and score), BATCH (32: caption
#   --batch-size), FACTOR (100), THREADS (2), BEAM (5), KEEP (set: keep the scratch folder).
set -euo pipefail
cd "$(dirname "$0")/.."
s2s=$(realpath "${BUILD_DIR:-build}")/s2s
here=$(pwd)
chunk=${CHUNK:-100} batch=${BATCH:-32} factor=${FACTOR:-100} threads=${THREADS:-2}
beam=${BEAM:-5}
[[ -x $s2s ]] || { echo "bench-memory: no $s2s (build first, or set BUILD_DIR)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench-memory: needs GNU time (/usr/bin/time)" >&2; exit 1; }

work=$(mktemp -d)
trap '[[ -n ${KEEP:-} ]] && echo "kept $work" || rm -rf "$work"' EXIT
cd "$work"

# Digit strings and their reversals, as tests/translate_test.sh makes them.
gen() { awk -v n="$1" -v seed="$2" 'BEGIN { srand(seed); for (i = 0; i < n; ++i) {
  len = 2 + int(rand() * 7); s = ""; r = "";
  for (j = 0; j < len; ++j) { d = int(rand() * 10); s = s (j ? " " : "") d; r = d (j ? " " : "") r }
  print s "\t" r } }'; }
gen 1000 1 >train.tsv
cat >translate.yaml <<'YAML'
data: {train: train.tsv, batch_tokens: 256, max_length: 20}
vocab: {size: 16}
encoder: {embed_size: 16, hidden_size: 32, layers: 1, dropout: 0.0}
decoder: {embed_size: 16, hidden_size: 32, dropout: 0.0}
train: {max_steps: 200, valid_every: 0, log_every: 100, learning_rate: 0.01, warmup_steps: 20,
        label_smoothing: 0.0, patience: 0}
YAML
python3 "$here/tests/make_caption_images.py" data >/dev/null
cat >caption.yaml <<'YAML'
task: caption
data: {train: data/train.tsv, batch_tokens: 160, max_length: 12}
image: {channels: 1, height: 16, width: 16}
vocab: {type: word, size: 40}
image_encoder: {channels: [8, 16], output_size: 16, dropout: 0.0}
decoder: {embed_size: 16, hidden_size: 32, dropout: 0.0}
train: {max_steps: 200, valid_every: 0, log_every: 100, learning_rate: 0.01, warmup_steps: 20,
        label_smoothing: 0.0, patience: 0}
caption: {beam_size: 2, max_length: 10}
YAML
echo "training the tiny models..."
"$s2s" train -r translate.yaml -o translate >translate.log 2>&1 ||
  { echo "bench-memory: training failed:" >&2; tail -3 translate.log >&2; exit 1; }
"$s2s" train -r caption.yaml -o caption >caption.log 2>&1 ||
  { echo "bench-memory: caption training failed:" >&2; tail -3 caption.log >&2; exit 1; }

# Inputs: one chunk (batch) and FACTOR of them. Images are hard links to the 8 test images.
small_lines=$chunk large_lines=$((chunk * factor))
small_images=$batch large_images=$((batch * factor))
gen "$small_lines" 2 >small.tsv
gen "$large_lines" 3 >large.tsv
cut -f1 small.tsv >small.src
cut -f1 large.tsv >large.src
test_images=(data/test/*.png)
for size in small large; do
  count=$small_images
  [[ $size == large ]] && count=$large_images
  mkdir "images.$size"
  for ((i = 0; i < count; ++i)); do
    ln "${test_images[i % ${#test_images[@]}]}" "$(printf 'images.%s/%07d.png' "$size" "$i")"
  done
done

peak() {  # peak NAME COMMAND...: runs it; prints its peak RSS (KiB), seconds and output lines
  local name=$1; shift
  /usr/bin/time -f '%M %e' -o "time.$name" "$@" -o "out.$name" 2>"log.$name" ||
    { echo "bench-memory: $name failed:" >&2; tail -3 "log.$name" >&2; exit 1; }
  echo "$(tail -1 "time.$name") $(wc -l <"out.$name")"
}

echo "machine: $(nproc) cores; --chunk $chunk, --batch-size $batch, $threads threads, beam $beam"
printf '\n%-10s %9s %9s %12s %12s %7s %8s %8s\n' command small large "small (MiB)" "large (MiB)" \
  ratio "large s" "flat"
flat_all=1
row() {  # row COMMAND SMALL_COUNT LARGE_COUNT SMALL_RESULT LARGE_RESULT
  local kib_s kib_l secs_l lines_s lines_l
  read -r kib_s _ lines_s <<<"$4"
  read -r kib_l secs_l lines_l <<<"$5"
  [[ $lines_s -ge $2 && $lines_l -ge $3 ]] ||
    { echo "bench-memory: $1 wrote $lines_s and $lines_l lines" >&2; exit 1; }
  local ratio flat
  ratio=$(awk -v a="$kib_s" -v b="$kib_l" 'BEGIN { printf "%.3f", b / a }')
  flat=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.10 ? "yes" : "NO") }')
  [[ $flat == yes ]] || flat_all=0
  printf '%-10s %9d %9d %12.1f %12.1f %7s %8.1f %8s\n' "$1" "$2" "$3" \
    "$(awk -v k="$kib_s" 'BEGIN { print k / 1024 }')" \
    "$(awk -v k="$kib_l" 'BEGIN { print k / 1024 }')" "$ratio" "$secs_l" "$flat"
}

common=(--threads "$threads")
declare -A result
for size in small large; do
  result[translate_$size]=$(peak "translate.$size" "$s2s" translate -m translate/model \
    -i "$size.src" --chunk "$chunk" --beam "$beam" "${common[@]}")
  result[score_$size]=$(peak "score.$size" "$s2s" score -m translate/model -i "$size.tsv" \
    --chunk "$chunk" "${common[@]}")
  result[caption_$size]=$(peak "caption.$size" "$s2s" caption -m caption/model "images.$size" \
    --batch-size "$batch" "${common[@]}")
done
row translate "$small_lines" "$large_lines" "${result[translate_small]}" "${result[translate_large]}"
row score "$small_lines" "$large_lines" "${result[score_small]}" "${result[score_large]}"
row caption "$small_images" "$large_images" "${result[caption_small]}" "${result[caption_large]}"
echo
if [[ $flat_all == 1 ]]; then
  echo "flat: every large input's peak RSS is within 10% of its small input's"
else
  echo "NOT flat: some command's peak RSS grew more than 10% with a ${factor}x input"
fi
