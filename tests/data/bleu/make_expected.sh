#!/usr/bin/env bash
# Prints sacreBLEU's own scores for the files here, the expected values of tests/bleu_test.cc.
# Needs Python's sacrebleu (2.x), e.g. on the lent GPU machine, whose image has it.
set -euo pipefail
cd "$(dirname "$0")"
sacrebleu() { python3 -m sacrebleu "$@"; }
sacrebleu --version
sacrebleu ref1.txt -i hyp.txt -f text
sacrebleu ref1.txt ref2.txt -i hyp.txt -f text
sacrebleu ref1.txt -i hyp.txt -f text -lc
sacrebleu nomatch4.ref -i nomatch4.hyp -f text
sacrebleu ref1.txt -i hyp.txt -f text -w 2
python3 - <<'PY'
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
t = Tokenizer13a()
for line in open("hyp.txt", encoding="utf-8"):
    print(t(line.rstrip("\n")))
PY
