#!/usr/bin/env bash
# End-to-end tests of the fast-inference commands through the real binary, on a briefly trained
# digit-reversal model. s2s quantize: a smaller folder that verifies, translations equal to the
# float model's on (nearly) every line and independent of the batching, scores close to the float
# ones, clear refusals (quantizing twice, training or averaging from int8, a folder that is not a
# model) with no partial folder left behind. s2s shortlist: the folder still verifies, the
# shortlist is applied (it raises the scores of the same outputs), --shortlist off is byte for byte
# the folder without one, and a damaged shortlist is refused by name.
# Usage: fast_inference_test.sh PATH_TO_S2S
set -u
s2s=$1
. "$(cd "$(dirname "$0")" && pwd)/check_lib.sh"

train_digit_model 600
m=run/model

# 1. The int8 folder: written, verified, smaller.
"$s2s" quantize -m $m -o int8 2>quantize.err
check "quantize exits 0" [ $? -eq 0 ]
check "quantize reports what it did" grep -q "matrices .* int8" quantize.err
"$s2s" verify int8 >/dev/null 2>&1
check "the int8 folder verifies against its manifest" [ $? -eq 0 ]
check "the int8 folder has config and vocabulary" [ -f int8/config.yaml -a -f int8/vocab.model ]
float_bytes=$(stat -c %s $m/model.safetensors)
int8_bytes=$(stat -c %s int8/model.safetensors)
# Biases stay float and the header is a larger share of a tiny file, so the bound is looser than
# the ~26% of a real model (scripts/bench-decode.sh).
check "model.safetensors shrinks to <= 40% ($float_bytes -> $int8_bytes bytes)" [ $((int8_bytes * 100)) -le $((float_bytes * 40)) ]

# 2. Translation: the float model's output on nearly every line, independent of the batching.
"$s2s" translate -m $m -i test.src -o float.hyp --beam 5 2>/dev/null
check "float translate exits 0" [ $? -eq 0 ]
for b in 1 7 64; do
  "$s2s" translate -m int8 -i test.src -o int8_b$b.hyp --beam 5 --batch-size $b 2>/dev/null
  check "int8 translate --batch-size $b exits 0" [ $? -eq 0 ]
done
check "int8: 80 output lines" [ "$(wc -l <int8_b1.hyp)" -eq 80 ]
check "int8: batch 1 == batch 7" cmp -s int8_b1.hyp int8_b7.hyp
check "int8: batch 1 == batch 64" cmp -s int8_b1.hyp int8_b64.hyp
same=$(paste -d'\t' float.hyp int8_b1.hyp | awk -F'\t' '$1 == $2' | wc -l)
check "int8 equals float on >= 76 of 80 lines ($same)" [ "$same" -ge 76 ]
ref_ok=$(paste -d'\t' <(cut -f2 test.tsv) int8_b1.hyp | awk -F'\t' '$1 == $2' | wc -l)
check "int8 reverses >= 70 of 80 digit strings ($ref_ok)" [ "$ref_ok" -ge 70 ]
"$s2s" translate -m int8 -i test.src -o greedy.hyp --beam 1 2>/dev/null
check "int8 greedy exits 0 with 80 lines" [ $? -eq 0 -a "$(wc -l <greedy.hyp)" -eq 80 ]

# 3. Scores of the same pairs: close to the float model's.
"$s2s" score -m $m -i test.tsv > float.scores 2>/dev/null
check "score float exits 0" [ $? -eq 0 ]
"$s2s" score -m int8 -i test.tsv > int8.scores 2>/dev/null
check "score int8 exits 0" [ $? -eq 0 ]
worst=$(paste -d'\t' <(cut -f1 float.scores) <(cut -f1 int8.scores) |
  awk -F'\t' '{ d = $1 - $2; if (d < 0) d = -d; if (d > w) w = d } END { printf "%.4f", w + 0 }')
check "int8 scores within 0.5 nats of float (worst $worst)" awk -v w="$worst" 'BEGIN { exit !(w <= 0.5) }'

# 4. Refusals, each named, nothing half-written.
"$s2s" quantize -m int8 -o twice 2>twice.err
check "quantizing an int8 folder fails (exit 1)" [ $? -eq 1 ]
check "... saying it is int8 already" grep -q "int8 model already" twice.err
check "... and leaves no folder" [ ! -e twice -a ! -e twice.tmp ]
"$s2s" quantize -m nowhere -o out 2>nowhere.err
check "quantizing a missing folder fails by name" [ $? -eq 1 ]
check "... naming it" grep -q "nowhere" nowhere.err
"$s2s" quantize -m $m 2>usage.err
check "quantize without -o: usage error (exit 2)" [ $? -eq 2 ]
"$s2s" train -r tiny.yaml -o finetune --init-from int8 --train.max_steps 5 >finetune.log 2>&1
check "training from an int8 model fails (exit 1)" [ $? -eq 1 ]
check "... saying why" grep -q "int8 weights" finetune.log
"$s2s" average int8 int8 -o avg 2>avg.err
check "averaging int8 folders fails" [ $? -eq 1 -a ! -e avg ]
printf 'garbage' > int8_broken.bin
cp -r int8 damaged && cp int8_broken.bin damaged/model.safetensors
"$s2s" translate -m damaged -i test.src -o never.hyp 2>damaged.err
check "a damaged int8 folder is refused" [ $? -eq 1 -a ! -e never.hyp ]
check "... naming the damaged file" grep -q "model.safetensors" damaged.err

# 5. The lexical shortlist.
cp -r $m plain
cp -r $m listed
"$s2s" shortlist -m listed -i train.tsv -k 3 --frequent 0 2>shortlist.err
check "shortlist exits 0" [ $? -eq 0 ]
check "shortlist reports what it wrote" grep -q "3 candidates for each of" shortlist.err
check "the folder holds shortlist.safetensors" [ -f listed/shortlist.safetensors ]
"$s2s" verify listed >/dev/null 2>&1
check "the folder with a shortlist still verifies" [ $? -eq 0 ]
"$s2s" translate -m plain -i test.src --beam 5 --normalize 0 --scores > plain.out 2>/dev/null
check "translate without a shortlist: 80 lines" [ $? -eq 0 -a "$(wc -l <plain.out)" -eq 80 ]
"$s2s" translate -m listed -i test.src --beam 5 --normalize 0 --scores --shortlist off > off.out 2>/dev/null
check "--shortlist off exits 0" [ $? -eq 0 ]
check "--shortlist off == no shortlist, byte for byte" cmp -s plain.out off.out
"$s2s" translate -m listed -i test.src --beam 5 --normalize 0 --scores > on.out 2>/dev/null
check "translate with the shortlist exits 0" [ $? -eq 0 ]
same=$(paste -d'\t' <(awk -F' [|][|][|] ' '{ print $1 }' plain.out) <(awk -F' [|][|][|] ' '{ print $1 }' on.out) | awk -F'\t' '$1 == $2' | wc -l)
check "the shortlist keeps >= 76 of 80 translations ($same)" [ "$same" -ge 76 ]
# Renormalized over fewer pieces, the same output can only score higher: proof that it is applied.
higher=$(paste -d'\t' <(awk -F' [|][|][|] ' '{ print $1 "\t" $2 }' plain.out) <(awk -F' [|][|][|] ' '{ print $1 "\t" $2 }' on.out) |
  awk -F'\t' '$1 == $3 && $4 > $2 + 1e-6 { h++ } $1 == $3 && $4 < $2 - 1e-4 { bad++ } END { print (bad ? -1 : h + 0) }')
check "shortlist scores are higher on some lines and lower on none ($higher)" [ "$higher" -gt 0 ]
"$s2s" quantize -m listed -o listed8 2>/dev/null
check "quantize keeps the shortlist" [ $? -eq 0 -a -f listed8/shortlist.safetensors ]
"$s2s" translate -m listed8 -i test.src -o listed8.hyp --beam 5 2>/dev/null
check "int8 + shortlist translates" [ $? -eq 0 -a "$(wc -l <listed8.hyp)" -eq 80 ]
"$s2s" translate -m listed -i test.src --shortlist maybe >/dev/null 2>&1
check "--shortlist maybe: usage error (exit 2)" [ $? -eq 2 ]
"$s2s" shortlist -m listed -i nowhere.tsv 2>missing.err
check "a missing corpus fails by name" [ $? -eq 1 ]
check "... naming it" grep -q "nowhere.tsv" missing.err
"$s2s" shortlist -m listed -i train.tsv -k 0 2>k0.err
check "-k 0 is refused" [ $? -ne 0 ]
head -c 100 listed/shortlist.safetensors > cut.bin && cp cut.bin listed/shortlist.safetensors
"$s2s" translate -m listed -i test.src -o never2.hyp 2>cut.err
check "a truncated shortlist is refused" [ $? -eq 1 -a ! -e never2.hyp ]
check "... naming it" grep -q "shortlist.safetensors" cut.err

echo "fast_inference_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
