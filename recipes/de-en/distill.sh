#!/usr/bin/env bash
# Sequence-level knowledge distillation (Kim & Rush 2016) of a small de-en student: the teacher
# translates the training sources greedily (every sentence pair and every 4th phrase: the
# student's data is the teacher's output, not the dictionary's), the student (student.yaml)
# trains on those pairs with the teacher's vocabulary for MINUTES minutes, and is quantized to
# int8. Prints the student's size and test BLEU, fp32 and int8.
# Usage: recipes/de-en/distill.sh TEACHER_MODEL [OUTPUT_DIR]   (default runs/student)
# Environment: S2S (default build/s2s), MINUTES (default 20), THREADS (default 2).
# Needs recipes/de-en/prepare.sh's data. Speed: scripts/bench-decode.sh OUTPUT_DIR/run/model ...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
teacher=$(realpath "${1:?usage: distill.sh TEACHER_MODEL [OUTPUT_DIR]}")
out=${2:-runs/student}
s2s=$(realpath "${S2S:-build/s2s}")
minutes=${MINUTES:-20} threads=${THREADS:-2}
data=$here/data
[[ -f $data/train.tsv ]] || { echo "distill: no $data/train.tsv: run recipes/de-en/prepare.sh" >&2; exit 1; }
[[ -f $teacher/model.safetensors ]] || { echo "distill: $teacher is not a model folder" >&2; exit 1; }
mkdir -p "$out"
out=$(realpath "$out")

# 1. The sources: every sentence pair (the hour recipe's rule) and every 4th other pair.
awk -F'\t' '{ s = $1; sub(/ +$/, "", s); last = substr(s, length(s)); n = split(s, w, " ")
  if ((n >= 3 && (last == "." || last == "?" || last == "!")) || NR % 4 == 0) print $1 }' \
  "$data/train.tsv" > "$out/distill.de"
echo "distill: $(wc -l < "$out/distill.de") sources"
# 2. The teacher's greedy translations (its shortlist, if it has one, off: the teacher as it is).
"$s2s" translate -m "$teacher" -i "$out/distill.de" -o "$out/distill.en" --beam 1 \
  --batch-size 64 --threads "$threads" --shortlist off --profile 2> "$out/teacher.log" ||
  { tail -3 "$out/teacher.log" >&2; exit 1; }
grep '^translate:' "$out/teacher.log" || true
paste "$out/distill.de" "$out/distill.en" | awk -F'\t' 'NF == 2 && $2 != ""' > "$out/distill.tsv"
# 3. The student.
"$s2s" train -r "$here/student.yaml" -o "$out/run" --data.train "$out/distill.tsv" \
  --vocab.model "$teacher/vocab.model" --train.max_minutes "$minutes" --train.threads "$threads"
# 4. int8.
rm -rf "$out/model-int8"
"$s2s" quantize -m "$out/run/model" -o "$out/model-int8"
cut -f1 "$data/test.tsv" > "$out/test.de"; cut -f2 "$data/test.tsv" > "$out/test.en"
for m in "$out/run/model" "$out/model-int8"; do
  for beam in 1 5; do
    "$s2s" translate -m "$m" -i "$out/test.de" -o "$out/test.hyp" --beam "$beam" --threads "$threads" 2>/dev/null
    echo "$(basename "$m") beam $beam: test $("$s2s" bleu "$out/test.hyp" "$out/test.en")"
  done
  echo "$(basename "$m"): model.safetensors $(stat -c %s "$m/model.safetensors") bytes"
done
