#!/usr/bin/env bash
# The first thing to run on a fresh Debian machine: installs the dependencies, builds s2s,
# prepares the German->English recipe (the Ding dictionary from Debian's trans-de-en package),
# trains for a bounded time, translates the test split and prints its BLEU and a few examples.
#   scripts/demo.sh [--minutes N] [--output DIR]     (default: 10 minutes, runs/demo-<time>)
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=10
output=runs/demo-$(date +%Y%m%d-%H%M%S)
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --output) output=$2; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --parallel "$(nproc)" --target s2s
s2s=$build/s2s
"$s2s" version
echo

data=recipes/de-en/data
recipes/de-en/prepare.sh "$data"
echo
echo "== training for $minutes minute(s) (recipes/de-en/hour.yaml) into $output"
"$s2s" train --recipe recipes/de-en/hour.yaml --output "$output" --train.max_minutes "$minutes"

echo
# Greedy (--beam 1), as the README's table of test BLEU and its sentences/s figure are; the
# examples below use the model's own search (translate.beam_size: beam 5).
echo "== translating the test split ($(wc -l <"$data/test.tsv") sentences, greedy: --beam 1)"
cut -f1 "$data/test.tsv" > "$output/test.de"
cut -f2 "$data/test.tsv" > "$output/test.en"
start=$(date +%s.%N)
"$s2s" translate -m "$output/model" -i "$output/test.de" -o "$output/test.hyp" --batch-size 64 \
  --beam 1
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$(wc -l <"$output/test.de")" \
  'BEGIN { printf "%d sentences in %.1f s (%.1f sentences/s, greedy)\n", n, e - s, n / (e - s) }'
echo "test BLEU (greedy):"
"$s2s" bleu "$output/test.hyp" "$output/test.en"

show() {  # show FILE_TSV: German, the model's English (its default search: beam 5), the reference
  cut -f1 "$1" > "$output/show.de"
  "$s2s" translate -m "$output/model" -i "$output/show.de" -o "$output/show.hyp"
  paste "$output/show.de" "$output/show.hyp" <(cut -f2 "$1") |
    awk -F'\t' '{ printf "  DE:  %s\n  s2s: %s\n  ref: %s\n\n", $1, $2, $3 }'
}
echo
echo "== five short phrases (from the training data: dev and test hold sentences only)"
awk -F'\t' 'NR % 50000 == 7 && split($1, w, " ") >= 2 && split($1, w, " ") <= 4' "$data/train.tsv" |
  head -5 > "$output/phrases.tsv"
show "$output/phrases.tsv"
echo "== five sentences from the dev split"
awk 'NR % 40 == 1' "$data/dev.tsv" | head -5 > "$output/sentences.tsv"
show "$output/sentences.tsv"
echo "The model is in $output/model; translate with: $s2s translate -m $output/model"
