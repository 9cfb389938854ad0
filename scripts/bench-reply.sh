#!/usr/bin/env bash
# Smart reply benchmark (issue 6). Two parts:
#  1. speed: the same `s2s reply` batch job (k 3, batch 64, 2 threads by default) over the same
#     messages, ranked by the exact trie search and by forced decoding of every response
#     (--exhaustive), alternating ROUNDS times; prints the fastest round's messages/s of each,
#     their ratio, and whether the two outputs are identical (they must be: both rank exactly).
#  2. memory: streams LINES text lines (default 1,000,000: the messages cycled) through the job
#     from a pipe and prints its peak resident memory next to a run of LINES/100 lines; flat
#     means streaming (the job holds one chunk of threads x batch messages at a time).
# Usage: scripts/bench-reply.sh MODEL_DIR RESPONSES MESSAGES
#   MESSAGES: a message<TAB>reply file (escaped, as `s2s reply-data training` writes) or text.
# Environment: BUILD_DIR (build), MESSAGES_N (512), BATCH (64), THREADS (2), K (3), ROUNDS (2),
#   LINES (1000000; 0 skips part 2), MAX_WORDS (100: --max-message-words), EXTRA (more options),
#   MEMORY_MODEL and MEMORY_RESPONSES (part 2 with another model and set, e.g. a tiny one, so
#   that a million lines take minutes, not hours: memory use does not depend on the input).
# For the smart-reply recipe:
#   scripts/bench-reply.sh runs/reply/model recipes/smart-reply/data/responses.tsv \
#     recipes/smart-reply/data/test.tsv
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bench-reply.sh MODEL_DIR RESPONSES MESSAGES"
model=${1:?$usage} responses=${2:?$usage} messages=${3:?$usage}
s2s=${BUILD_DIR:-build}/s2s
n=${MESSAGES_N:-512} batch=${BATCH:-64} threads=${THREADS:-2} k=${K:-3} rounds=${ROUNDS:-2}
lines=${LINES:-1000000} max_words=${MAX_WORDS:-100}
[[ -x $s2s ]] || { echo "bench-reply: no $s2s (build first, or set BUILD_DIR)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One message per line (the escaped \n of the pairs file kept as text: a line is a message).
cut -f1 "$messages" | sed 's/\\[nt]/ /g' | awk 'length($0) > 0' >"$work/pool"
[[ -s $work/pool ]] || { echo "bench-reply: no messages in $messages" >&2; exit 1; }
awk -v n="$n" '{ m[NR] = $0 } END { for (i = 0; i < n; ++i) print m[i % NR + 1] }' \
  "$work/pool" >"$work/messages"

run() {  # run OUTPUT [OPTIONS...]: prints wall seconds
  local out=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$s2s" reply -m "$model" --responses "$responses" --k "$k" --batch-size "$batch" \
    --threads "$threads" --max-message-words "$max_words" ${EXTRA:-} "$@" \
    -i "$work/messages" -o "$out" 2>"$work/log" ||
    { echo "bench-reply: s2s reply failed:" >&2; tail -3 "$work/log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
}

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"
echo "responses: $(grep -vc '^#' "$responses"); messages: $n; k $k, batch $batch, $threads threads"
best_trie=1e30 best_forced=1e30
for round in $(seq "$rounds"); do
  t=$(run "$work/trie.jsonl")
  best_trie=$(echo "$best_trie $t" | awk '{ print ($2 < $1 ? $2 : $1) }')
  t=$(run "$work/forced.jsonl" --exhaustive)
  best_forced=$(echo "$best_forced $t" | awk '{ print ($2 < $1 ? $2 : $1) }')
done
same=$(python3 - "$work/trie.jsonl" "$work/forced.jsonl" <<'EOF'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
texts = lambda r: [s["text"] for s in r.get("suggestions", [])]
diff = sum(texts(x) != texts(y) or x.get("triggered") != y.get("triggered") for x, y in zip(a, b))
gap = max((abs(s["score"] - t["score"]) for x, y in zip(a, b)
           for s, t in zip(x.get("suggestions", []), y.get("suggestions", []))), default=0)
print(f"{len(a) - diff} of {len(a)} messages identical, largest score difference {gap:.4f}"
      if len(a) == len(b) else f"DIFFERENT record counts {len(a)} and {len(b)}")
EOF
)
printf '\n%-34s %10s %12s\n' ranking seconds messages/s
printf '%-34s %10.2f %12.1f\n' "trie search (exact best-first)" "$best_trie" \
  "$(echo "$n $best_trie" | awk '{ print $1 / $2 }')"
printf '%-34s %10.2f %12.1f\n' "forced decoding of every response" "$best_forced" \
  "$(echo "$n $best_forced" | awk '{ print $1 / $2 }')"
echo "$best_trie $best_forced" | awk '{ printf "trie search speed-up: %.1fx\n", $2 / $1 }'
echo "suggestions and triggering, trie vs forced: $same"

[[ $lines -gt 0 ]] || exit 0
peak() {  # peak LINES: streams LINES messages through a pipe; prints peak RSS (KiB) and seconds
  local count=$1
  awk -v n="$count" '{ m[NR] = $0 } END { for (i = 0; i < n; ++i) print m[i % NR + 1] }' \
    "$work/pool" | /usr/bin/time -f '%M %e' -o "$work/time.$count" \
    "$s2s" reply -m "${MEMORY_MODEL:-$model}" --responses "${MEMORY_RESPONSES:-$responses}" \
    --k "$k" --batch-size "$batch" \
    --threads "$threads" --max-message-words "$max_words" ${EXTRA:-} -i - -o - 2>/dev/null |
    wc -l >"$work/out.$count"
  echo "$(cat "$work/time.$count") $(cat "$work/out.$count")"
}
small=$((lines / 100))
echo
echo "memory: model ${MEMORY_MODEL:-$model}, responses ${MEMORY_RESPONSES:-$responses}"
printf '%-12s %16s %10s %14s\n' lines "peak RSS (MiB)" seconds "output lines"
for count in "$small" "$lines"; do
  read -r kib secs out < <(peak "$count")
  printf '%-12s %16.1f %10.1f %14s\n' "$count" "$(echo "$kib" | awk '{ print $1 / 1024 }')" \
    "$secs" "$out"
done
