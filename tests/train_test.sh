#!/usr/bin/env bash
# End-to-end tests of s2s train and s2s translate through the real binary, on a tiny synthetic
# task (reversing digit strings): it trains to exact accuracy in seconds; an interrupted
# (SIGTERM) and resumed run ends with the same parameters as an uninterrupted one; bad corpus
# lines are skipped or fatal with file:line; a damaged checkpoint falls back to the one before.
# Usage: train_test.sh PATH_TO_S2S
set -u
s2s=$1
. "$(cd "$(dirname "$0")" && pwd)/check_lib.sh"

# Digit strings and their reversals; a seeded awk generator keeps the data identical everywhere.
digit_pairs 2000 1 6 > train.tsv
digit_pairs 30 2 6 > dev.tsv
cut -f1 dev.tsv > dev.src
cut -f2 dev.tsv > dev.ref
cat > tiny.yaml <<'YAML'
data: {train: train.tsv, valid: dev.tsv, batch_tokens: 512, max_length: 20}
vocab: {size: 16}
encoder: {embed_size: 32, hidden_size: 64, layers: 1, dropout: 0.0}
decoder: {embed_size: 32, hidden_size: 64, dropout: 0.0}
train: {max_steps: 500, valid_every: 250, log_every: 100, learning_rate: 0.01, warmup_steps: 50,
        label_smoothing: 0.0, patience: 0}
YAML

# 1. Trains to exact accuracy.
"$s2s" train -r tiny.yaml -o run >train.log 2>&1
check "train exits 0" [ $? -eq 0 ]
check "the model folder is complete" test -f run/model/model.safetensors -a -f run/model/config.yaml -a -f run/model/vocab.model
"$s2s" translate -m run/model -i dev.src -o dev.hyp 2>translate.err
check "translate exits 0" [ $? -eq 0 ]
check "one output line per input line" [ "$(wc -l <dev.hyp)" -eq 30 ]
correct=$(paste dev.hyp dev.ref | awk -F'\t' '$1 == $2' | wc -l)
check "every dev string reversed exactly (got $correct/30)" [ "$correct" -eq 30 ]
bleu=$("$s2s" bleu -b dev.hyp dev.ref)
check "BLEU 100 (got $bleu)" [ "$bleu" = "100.00" ]
printf '3 1 4\n\n5 9\n' | "$s2s" translate -m run/model > stdin.hyp
check "stdin to stdout, empty line kept" [ "$(sed -n 2p stdin.hyp)" = "" -a "$(sed -n 1p stdin.hyp)" = "4 1 3" ]

# 2. SIGTERM saves a checkpoint and exits 0; resuming ends where the uninterrupted run ends.
common=(--train.max_steps 400 --train.valid_every 0 --train.save_every 0
        --encoder.dropout 0.1 --decoder.dropout 0.1)
"$s2s" train -r tiny.yaml -o whole "${common[@]}" >whole.log 2>&1
"$s2s" train -r tiny.yaml -o split "${common[@]}" >split1.log 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "^step" split1.log 2>/dev/null && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"
check "SIGTERM: exit 0" [ $? -eq 0 ]
check "SIGTERM: a checkpoint was saved" test -f split/checkpoints/latest
check "SIGTERM: stopped early ($(grep -o 'stopped at step [0-9]*' split1.log))" grep -q "interrupted by a signal" split1.log
"$s2s" train -r tiny.yaml -o split "${common[@]}" >split2.log 2>&1
check "a second run into the same folder without --resume is refused" [ $? -eq 1 ]
"$s2s" train -r tiny.yaml -o split --resume "${common[@]}" >split3.log 2>&1
check "resume exits 0" [ $? -eq 0 ]
check "resumed parameters equal the uninterrupted run's" cmp -s whole/model/model.safetensors split/model/model.safetensors

# 3. A damaged latest checkpoint is refused with a clear message; the one before it is used.
"$s2s" train -r tiny.yaml -o damaged --train.max_steps 40 --train.valid_every 0 --train.save_every 20 >d1.log 2>&1
latest=damaged/checkpoints/$(cat damaged/checkpoints/latest)
truncate -s 100 "$latest/model.safetensors"
"$s2s" train -r tiny.yaml -o damaged --resume --train.max_steps 60 --train.valid_every 0 --train.save_every 20 >d2.log 2>&1
check "resume past a damaged checkpoint exits 0" [ $? -eq 0 ]
check "the damaged checkpoint is named" grep -q "step-000000040 is unusable" d2.log
check "the previous checkpoint is used" grep -q "resumed from .*step-000000020 at step 20" d2.log

# 4. Bad corpus lines: skipped and reported with file:line, or fatal with one line.
{ head -50 train.tsv; echo "no tab here"; printf 'a\tb\tc\n'; printf '\t9 9\n'; printf '1 2\t\377\n'; tail -50 train.tsv; } > bad.tsv
"$s2s" train -r tiny.yaml -o bad --data.train bad.tsv --train.max_steps 5 --train.valid_every 0 >bad.log 2>&1
check "bad lines skipped: exit 0" [ $? -eq 0 ]
for n in 51 52 53 54; do check "bad line $n reported" grep -q "bad.tsv:$n" bad.log; done
"$s2s" train -r tiny.yaml -o bad2 --data.train bad.tsv --data.on_bad_line fail --train.max_steps 5 >bad2.log 2>&1
check "on_bad_line fail: exit 1" [ $? -eq 1 ]
check "on_bad_line fail: one error line naming bad.tsv:51" [ "$(grep -c 'error' bad2.log)" -eq 1 -a "$(grep -c 'error: bad.tsv:51' bad2.log)" -eq 1 ]

# 5. Mistakes are one-line errors.
"$s2s" translate -m nowhere -i dev.src >/dev/null 2>err.log
check "translate with a missing model: exit 1, one line" [ $? -eq 1 -a "$(wc -l <err.log)" -eq 1 ]
"$s2s" train -r tiny.yaml -o x --encoder.hiden_size 3 >/dev/null 2>err.log
check "unknown recipe key: exit 1" [ $? -eq 1 ]
check "unknown recipe key: the error names it" grep -q "encoder.hiden_size" err.log
"$s2s" train -r tiny.yaml --dump-config > dumped.yaml
check "--dump-config prints the effective recipe" grep -q "hidden_size: 64" dumped.yaml

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
