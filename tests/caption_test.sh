#!/usr/bin/env bash
# End-to-end test of the caption job through the real binary: `s2s train` with task: caption
# learns where a square is in tiny gray images, `s2s caption` names it for unseen images (TSV,
# JSONL, n-best, attention maps), and a folder of bad files (empty, text named .jpg, truncated,
# 1x1, 10000x10000, not an image) gets one error record each while the rest are captioned; the
# captions do not depend on the batch size, and an interrupted, resumed training run ends with
# the bytes of an uninterrupted one.
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
# Each map decodes (signature, chunk CRCs, zlib stream, filters) as a picture of one 128-pixel
# panel per word of the best caption and </s> (16-pixel images shown 8x), up to 6 panels a row,
# each over a 22-pixel label; no panel is blank. Where attention peaks is checked through the API
# (tests/api/captioner_test.cc), which has the weights themselves. With OTHER_DIR: its maps show
# the same pictures to within one step of the colour map (2 of 255 after the 50% blend) on under
# 0.1% of the values: batched and unbatched attention weights differ in their last float bits,
# which can cross an 8-bit rounding boundary.
maps_decode() {  # maps_decode NBEST_JSONL MAPS_DIR [OTHER_DIR]
  TESTS_DIR=$here python3 - "$1" "$2" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["TESTS_DIR"])
from png_decode import decode
maps = 0
for line in open(sys.argv[1]):
    record = json.loads(line)
    if record["rank"] != 1:
        continue
    path = os.path.join(sys.argv[2], os.path.basename(record["path"]) + ".attention.png")
    width, height, channels, rows = decode(path)
    panels = len(record["caption"].split()) + 1
    if channels != 3:
        sys.exit(f"{path}: expected RGB, got {channels} channels")
    columns = min(6, panels)
    expected = (columns * 128, -(-panels // columns) * (128 + 22))
    if (width, height) != expected:
        sys.exit(f"{path}: {width}x{height}, expected {expected[0]}x{expected[1]} for {panels} panels")
    for u in range(panels):
        x0, y0 = (u % columns) * 128, (u // columns) * 150
        values = {bytes(rows[y][3 * x0:3 * (x0 + 128)]) for y in range(y0, y0 + 128)}
        if len(values) < 2:
            sys.exit(f"{path}: panel {u} is blank")
    if len(sys.argv) > 3:
        other = os.path.join(sys.argv[3], os.path.basename(path))
        width2, height2, _, rows2 = decode(other)
        if (width2, height2) != (width, height):
            sys.exit(f"{other}: {width2}x{height2}, {path}: {width}x{height}")
        diffs = [abs(p - q) for a, b in zip(rows, rows2) for p, q in zip(a, b) if p != q]
        if diffs and (max(diffs) > 2 or len(diffs) > 0.001 * 3 * width * height):
            sys.exit(f"{other}: {len(diffs)} values differ from {path}, by up to {max(diffs)}")
    maps += 1
print(f"{maps} maps decoded")
sys.exit(0 if maps == 8 else f"{maps} maps, expected 8")
PY
}
check "the attention maps decode, one panel per word and </s>" maps_decode nbest.jsonl maps

# Batch invariance: one image per batch, or three, gives the default batch's bytes.
for batch in 1 3; do
  "$s2s" caption -m $m data/test --batch-size $batch -o test.b$batch.tsv 2>/dev/null
  check "--batch-size $batch: exit 0" [ $? -eq 0 ]
  check "--batch-size $batch: the same captions and scores, byte for byte" cmp -s test.tsv test.b$batch.tsv
  "$s2s" caption -m $m data/test --format jsonl --n-best 2 --beam 2 --batch-size $batch \
    -o nbest.b$batch.jsonl --attention-maps maps.b$batch 2>/dev/null
  check "--batch-size $batch: the same n-best records" cmp -s nbest.jsonl nbest.b$batch.jsonl
  check "--batch-size $batch: the same attention maps (to one colour-map step)" \
    maps_decode nbest.jsonl maps maps.b$batch
done

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

# Resume exactness: SIGTERM saves a checkpoint; the resumed run ends with the parameters and
# optimizer state of an uninterrupted run, and the same model. Dropout, crop augmentation (random
# streams of the step), batch norm's running statistics and validation all cross the resume.
common=(--train.max_steps 200 --train.valid_every 50 --train.save_every 0 --train.log_every 10
        --image_encoder.dropout 0.1 --decoder.dropout 0.1 --image.augment.min_crop_scale 0.8)
"$s2s" train -r tiny.yaml -o whole "${common[@]}" >whole.log 2>&1
check "uninterrupted caption run exits 0" [ $? -eq 0 ]
"$s2s" train -r tiny.yaml -o split "${common[@]}" >split1.log 2>&1 &
pid=$!
for _ in $(seq 500); do grep -q "^step 60" split1.log 2>/dev/null && break; sleep 0.02; done
kill -TERM "$pid"
wait "$pid"
check "SIGTERM: exit 0" [ $? -eq 0 ]
check "SIGTERM: stopped early ($(grep -o 'stopped at step [0-9]*' split1.log))" grep -q "interrupted by a signal" split1.log
"$s2s" train -r tiny.yaml -o split --resume "${common[@]}" >split2.log 2>&1
check "resume exits 0" [ $? -eq 0 ]
check "the run was resumed ($(grep -o 'resumed from [^ ]* at step [0-9]*' split2.log))" grep -q "resumed from .* at step" split2.log
for file in checkpoints/step-000000200/model.safetensors checkpoints/step-000000200/optimizer.safetensors \
            model/model.safetensors; do
  check "resumed $file equals the uninterrupted run's" cmp -s whole/$file split/$file
done

echo "caption_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
