#!/usr/bin/env bash
# Decoding benchmark: translates a test split with greedy decoding and with beam search on the
# same batch size and threads, alternating ROUNDS times (so foreign load hits both alike), and
# prints per search the fastest round's sentences/s, output pieces/s, GEMM share of the time
# (s2s translate --profile) and BLEU, then beam time per sentence / greedy time per sentence.
# Usage: scripts/bench-decode.sh MODEL_DIR TEST_TSV_OR_SRC [REF]
# Environment: BUILD_DIR (default build), BEAM (5), BATCH (32), THREADS (2), ROUNDS (3).
# For the de-en recipe: scripts/bench-decode.sh runs/hour/model recipes/de-en/data/test.tsv
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: bench-decode.sh MODEL_DIR TEST_TSV_OR_SRC [REF]}
test=${2:?usage: bench-decode.sh MODEL_DIR TEST_TSV_OR_SRC [REF]}
s2s=${BUILD_DIR:-build}/s2s
beam=${BEAM:-5} batch=${BATCH:-32} threads=${THREADS:-2} rounds=${ROUNDS:-3}
[[ -x $s2s ]] || { echo "bench-decode: no $s2s (build first, or set BUILD_DIR)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ $test == *.tsv ]]; then
  cut -f1 "$test" >"$work/src"; cut -f2 "$test" >"$work/ref"
else
  cp "$test" "$work/src"; cp "${3:?a .src test file needs REF}" "$work/ref"
fi

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"
echo "test: $(wc -l <"$work/src") sentences; batch $batch, $threads threads"
for round in $(seq "$rounds"); do
  for k in 1 "$beam"; do
    "$s2s" translate -m "$model" -i "$work/src" -o "$work/hyp.$k" --beam "$k" --batch-size "$batch" \
      --threads "$threads" --profile 2>"$work/log.$k.$round"
  done
done

printf '\n%-8s %10s %12s %13s %11s %10s %8s\n' search seconds sentences/s "out pieces/s" "GEMM share" "select" BLEU
for k in 1 "$beam"; do
  best=$(for r in $(seq "$rounds"); do
    awk '/^translate:/ { print $5, FILENAME }' "$work/log.$k.$r"; done | sort -n | head -1 | cut -d' ' -f2)
  bleu=$("$s2s" bleu -b "$work/hyp.$k" "$work/ref")
  awk -v k="$k" -v bleu="$bleu" '
    /^translate:/ { secs = $5; sps = $7; pps = $9 }
    $1 == "gemm" { gemm = $3 }
    $1 == "beam_select" { sel = $3 }
    END { printf "%-8s %10.2f %12.1f %13.0f %11s %10s %8s\n", (k == 1 ? "greedy" : "beam " k),
          secs, sps, pps, gemm, (sel == "" ? "-" : sel), bleu }' "$best"
  echo "$k $(awk '/^translate:/ { print $5 }' "$best")" >>"$work/times"
done
awk 'NR == 1 { g = $2 } NR == 2 { printf "\nbeam/greedy time per sentence: %.2f\n", $2 / g }' "$work/times"
echo; echo "profile of the fastest beam round:"; sed -n '/^profile/,$p' "$best"
