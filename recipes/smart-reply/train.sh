#!/usr/bin/env bash
# The whole smart-reply recipe after prepare.sh: pretraining (pretrain.yaml, 18 minutes at most),
# fine-tuning from it (finetune.yaml, 10 minutes at most), lambda and the TF-IDF weight tuned on
# dev.tsv by the 1-of-100 ranking test and saved into the model folder, then the ranking test on
# test.tsv (report.json next to the model). ABLATION=1 also trains finetune.yaml from scratch
# (the pretrained vocabulary, fresh weights) and tests it (the "no pretraining" row of
# README.md's table).
#
#   recipes/smart-reply/train.sh [DATA_DIR] [RUNS_DIR]   (defaults recipes/smart-reply/data, runs)
# The s2s binary is $S2S, else build/s2s of this checkout. Existing runs are kept (delete to redo).
# TRAIN_OPTIONS: more options for every `s2s train` (e.g. "--decoder.word_dropout 0.3").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${1:-$here/data}"
runs="${2:-$root/runs}"
s2s="${S2S:-$root/build/s2s}"
[ -x "$s2s" ] || { echo "train: no s2s binary at $s2s (build it, or set S2S)" >&2; exit 1; }
[ -f "$data/pretrain.tsv" ] || { echo "train: run recipes/smart-reply/prepare.sh first" >&2; exit 1; }
# The recipes name data/...: point them at DATA_DIR.
overrides=(--data.valid "$data/dev.pairs.tsv")
read -r -a extra <<<"${TRAIN_OPTIONS:-}"
overrides+=("${extra[@]}")
reply=(--responses "$data/responses.tsv" --max-message-words 100 --max-tokens 12
  --idf-from "$data/train.tsv")

if [ ! -f "$runs/reply-pretrain/model/.complete" ]; then
  "$s2s" train -r "$here/pretrain.yaml" -o "$runs/reply-pretrain" --data.train "$data/pretrain.tsv" \
    "${overrides[@]}"
fi
if [ ! -f "$runs/reply/model/.complete" ]; then
  "$s2s" train -r "$here/finetune.yaml" -o "$runs/reply" --init-from "$runs/reply-pretrain/model" \
    --data.train "$data/train.pairs.tsv" "${overrides[@]}"
fi
models=("$runs/reply/model")
if [ "${ABLATION:-0}" = 1 ]; then
  if [ ! -f "$runs/reply-scratch/model/.complete" ]; then
    # The pretrained model's vocabulary, not its weights: the ablation isolates the pretraining.
    "$s2s" train -r "$here/finetune.yaml" -o "$runs/reply-scratch" \
      --vocab.model "$runs/reply-pretrain/model/vocab.model" \
      --data.train "$data/train.pairs.tsv" "${overrides[@]}"
  fi
  models+=("$runs/reply-scratch/model")
fi
for model in "${models[@]}"; do
  echo "== $model: lambda and TF-IDF weight on dev.tsv"
  "$s2s" reply -m "$model" "${reply[@]}" --tune "$data/dev.tsv" --save
  echo "== $model: the 1-of-100 ranking test on test.tsv"
  "$s2s" reply -m "$model" "${reply[@]}" --evaluate "$data/test.tsv" --ranking-only \
    --report "$model/../report.json"
  echo "== $model: the same with lambda 0 (log P(r | m) alone)"
  "$s2s" reply -m "$model" "${reply[@]}" --evaluate "$data/test.tsv" --ranking-only --lambda 0
done
