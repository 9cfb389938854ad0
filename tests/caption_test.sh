#!/usr/bin/env bash
# End-to-end test of the caption job through the real binary: `s2s train` with task: caption
# learns where a square is in tiny gray images, `s2s caption` names it for unseen images (TSV,
# JSONL, n-best, attention maps), and a folder of bad files (empty, text named .jpg, truncated,
# 1x1, 10000x10000, not an image) gets one error record each while the rest are captioned.
# Usage: caption_test.sh PATH_TO_S2S
set -u
s2s=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"

python3 "$here/make_caption_images.py" data
cat > tiny.yaml <<'YAML'
task: caption
data: {train: data/train.tsv, valid: data/test.tsv, batch_tokens: 160, max_length: 12}
image: {channels: 1, height: 16, width: 16}
vocab: {type: word, size: 40}
image_encoder: {channels: [8, 16], output_size: 16, dropout: 0.0}
decoder: {embed_size: 16, hidden_size: 32, dropout: 0.0}
train: {max_steps: 300, valid_every: 150, log_every: 100, learning_rate: 0.01, warmup_steps: 20,
        label_smoothing: 0.0, patience: 0, valid_metric: cider}
caption: {beam_size: 2, max_length: 10}
YAML
"$s2s" train -r tiny.yaml -o run >train.log 2>&1
check "caption training exits 0" [ $? -eq 0 ]
check "validation reports CIDEr-D" grep -q "cider [0-9]" train.log
m=run/model

"$s2s" caption -m $m data/test -o test.tsv 2>/dev/null
check "caption exits 0" [ $? -eq 0 ]
check "8 captions, in sorted path order" [ "$(cut -f1 test.tsv | tr '\n' ' ')" = "$(ls data/test/*.png | tr '\n' ' ')" ]
right=0
for i in 0 1 2 3 4 5 6 7; do
  place=$(awk -F'\t' -v n="$(printf 'test/%03d.png' $i)" '$1 == n { sub("a square in the ", "", $2); print $2; exit }' data/test.tsv)
  grep -q "$(printf '%03d' $i).png	.*$place" test.tsv && right=$((right + 1))
done
check "the square's place is named in 8 of 8 captions (got $right)" [ "$right" -eq 8 ]
"$s2s" eval captions test.tsv data/test.tsv > eval.txt 2>&1
check "s2s eval captions scores them" grep -q "CIDEr" eval.txt
"$s2s" caption -m $m data/test --format jsonl --n-best 2 --beam 2 -o nbest.jsonl --attention-maps maps 2>/dev/null
check "jsonl n-best: 16 records with path, caption, score, rank" [ "$(grep -c '^{"path":"[^"]*","caption":"[^"]*","score":-\?[0-9.]*,"rank":[12]}$' nbest.jsonl)" -eq 16 ]
check "an attention map per image" [ "$(ls maps/*.attention.png | wc -l)" -eq 8 ]

"$s2s" caption -m $m data/bad --format jsonl -o bad.jsonl 2>bad.err
check "bad files: exit 1" [ $? -eq 1 ]
check "bad files: one record per file (7)" [ "$(wc -l <bad.jsonl)" -eq 7 ]
for f in empty.png text.jpg truncated.png huge.png notes.txt; do
  check "bad files: $f has an error record" grep -q "\"path\":\"data/bad/$f\",\"error\":\"data/bad/$f" bad.jsonl
  check "bad files: $f is named on stderr" grep -q "$f" bad.err
done
check "bad files: good.png is captioned" grep -q '"path":"data/bad/good.png","caption":"[a-z ]*top left' bad.jsonl
check "bad files: the 1x1 image is captioned (it is an image)" grep -q '"path":"data/bad/tiny.png","caption"' bad.jsonl
"$s2s" caption -m $m nowhere 2>/dev/null
check "a missing path: exit 1" [ $? -eq 1 ]
"$s2s" caption -m $m data/test -o never.tsv --n-best 5 >/dev/null 2>&1
check "--n-best over the beam: usage error, no output" [ $? -eq 2 -a ! -e never.tsv ]

echo "caption_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
