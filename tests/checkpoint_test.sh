#!/usr/bin/env bash
# End-to-end tests of checkpoint and model-folder integrity through the real binary, on the
# digit-reversal task of train_test.sh: `s2s verify` names a damaged file and exits 1; a model
# folder with a flipped bit is refused by translate; a folder written before manifests still
# loads; a damaged model.safetensors, optimizer.safetensors, state.yaml or completion marker in
# the latest checkpoint makes --resume fall back to the one before, and the resumed run then
# ends byte-identical to the uninterrupted run; no usable checkpoint at all is a clear error.
# Usage: checkpoint_test.sh PATH_TO_S2S
set -u
s2s=$1
. "$(cd "$(dirname "$0")" && pwd)/check_lib.sh"

digit_pairs 2000 1 6 > train.tsv
cat > tiny.yaml <<'YAML'
data: {train: train.tsv, batch_tokens: 512, max_length: 20}
vocab: {size: 16}
encoder: {embed_size: 32, hidden_size: 64, layers: 1, dropout: 0.1}
decoder: {embed_size: 32, hidden_size: 64, dropout: 0.1}
train: {max_steps: 60, valid_every: 0, save_every: 20, keep_checkpoints: 3, log_every: 20,
        learning_rate: 0.01, warmup_steps: 10, label_smoothing: 0.0, patience: 0}
YAML
# flip FILE OFFSET: inverts the lowest bit of one byte (a negative offset counts from the end).
flip() {
  python3 -c 'import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[o] ^= 1
open(p, "wb").write(b)' "$1" "$2"
}

# The uninterrupted run: checkpoints at steps 20, 40 and 60, then the model folder.
"$s2s" train -r tiny.yaml -o whole >whole.log 2>&1
check "train exits 0" [ $? -eq 0 ]
ck=whole/checkpoints

# 1. s2s verify: one line per file, exit 0 on a good folder.
"$s2s" verify whole/model >verify.out 2>verify.err
check "verify a model folder: exit 0" [ $? -eq 0 ]
check "verify: one ok line per file (marker, config, model, vocab)" \
  [ "$(grep -c '^ok' verify.out)" -eq 4 -a "$(wc -l <verify.out)" -eq 4 ]
"$s2s" verify $ck/step-000000020 $ck/step-000000060 >verify2.out 2>&1
check "verify two checkpoints: exit 0" [ $? -eq 0 ]
check "verify: a checkpoint lists its optimizer state" grep -q "^ok.$ck/step-000000060/optimizer.safetensors" verify2.out
check "verify: a checkpoint lists its state.yaml" grep -q "^ok.$ck/step-000000020/state.yaml" verify2.out

# 2. A flipped bit in the tensor data of a model folder: verify and translate name the file.
cp -r whole/model damaged_model
flip damaged_model/model.safetensors -5
"$s2s" verify damaged_model >verify3.out 2>verify3.err
check "verify a damaged model: exit 1" [ $? -eq 1 ]
check "verify: the damaged file is named DAMAGED" grep -q "^DAMAGED.damaged_model/model.safetensors" verify3.out
check "verify: the other files are ok" [ "$(grep -c '^ok' verify3.out)" -eq 3 ]
printf '1 2 3\n' | "$s2s" translate -m damaged_model >never.hyp 2>translate.err
check "translate with a damaged model: exit 1, one line" [ $? -eq 1 -a "$(wc -l <translate.err)" -eq 1 ]
check "translate: the error names model.safetensors" grep -q "damaged_model/model.safetensors' is damaged" translate.err
check "translate: no output" [ ! -s never.hyp ]
"$s2s" verify no_such_folder >/dev/null 2>missing.err
check "verify a missing folder: exit 1" [ $? -eq 1 ]
check "verify a missing folder: the error names it" grep -q "no_such_folder" missing.err

# 3. A folder written before manifests (an empty marker): loads, verify says unverified.
cp -r whole/model old_model
: > old_model/.complete
"$s2s" verify old_model >verify4.out 2>verify4.err
check "verify an old folder: exit 0" [ $? -eq 0 ]
check "verify an old folder: says unverified" grep -q "unverified" verify4.err
printf '1 2 3\n' | "$s2s" translate -m old_model >old.hyp 2>/dev/null
check "translate with an old folder: exit 0" [ $? -eq 0 ]
check "translate with an old folder: one line" [ "$(wc -l <old.hyp)" -eq 1 ]

# 4. Each kind of damage in the latest checkpoint (step 60): resume uses step 40, says why, and
# the run it finishes equals the uninterrupted run byte for byte.
for file in model.safetensors optimizer.safetensors state.yaml .complete; do
  rm -rf run && cp -r whole run && rm -rf run/model
  flip run/checkpoints/step-000000060/$file 30
  "$s2s" train -r tiny.yaml -o run --resume >resume.log 2>&1
  check "$file damaged: resume exits 0" [ $? -eq 0 ]
  check "$file damaged: the warning names it" grep -q "step-000000060 is unusable.*step-000000060/$file" resume.log
  check "$file damaged: step 40 is used" grep -q "resumed from .*step-000000040 at step 40" resume.log
  check "$file damaged: the final model equals the uninterrupted run's" cmp -s run/model/model.safetensors whole/model/model.safetensors
  "$s2s" verify run/checkpoints/step-* >/dev/null 2>&1
  check "$file damaged: afterwards every checkpoint verifies" [ $? -eq 0 ]
done

# 5. No usable checkpoint: one clear error line, exit 1.
rm -rf run && cp -r whole run
for step in 20 40 60; do flip run/checkpoints/step-0000000$step/state.yaml 3; done
"$s2s" train -r tiny.yaml -o run --resume >none.log 2>&1
check "no usable checkpoint: exit 1" [ $? -eq 1 ]
check "no usable checkpoint: a clear error" grep -q "error: --resume: no usable checkpoint in 'run'" none.log
check "no usable checkpoint: each is named" [ "$(grep -c 'state.yaml.* is damaged' none.log)" -eq 3 ]

echo "checkpoint_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
