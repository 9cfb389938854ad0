#!/usr/bin/env bash
# End-to-end tests of the s2s binary: help, version, and the one-line errors with exit code 2 for
# an unknown command or option. Usage: cli_test.sh PATH_TO_S2S
set -u
s2s=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_exit() {  # expect_exit CODE DESCRIPTION -- COMMAND...
  local want=$1 what=$2; shift 3
  "$@" >/tmp/s2s_cli_out.$$ 2>/tmp/s2s_cli_err.$$; local got=$?
  [ "$got" -eq "$want" ] || fail "$what: exit $got, expected $want"
}

expect_exit 0 "s2s --help" -- "$s2s" --help
grep -q "version" /tmp/s2s_cli_out.$$ || fail "s2s --help does not list 'version'"

expect_exit 0 "s2s version" -- "$s2s" version
for field in "s2s " "compiler:" "blas:" "cuda:" "mpi:" "threads:"; do
  grep -q "^$field" /tmp/s2s_cli_out.$$ || fail "s2s version does not print '$field'"
done

expect_exit 2 "unknown command" -- "$s2s" frobnicate
[ "$(wc -l </tmp/s2s_cli_err.$$)" -eq 1 ] || fail "unknown command: not exactly one line on stderr"
grep -q "frobnicate" /tmp/s2s_cli_err.$$ || fail "unknown command: message does not name it"

expect_exit 2 "unknown option" -- "$s2s" version --no-such-flag
[ "$(wc -l </tmp/s2s_cli_err.$$)" -eq 1 ] || fail "unknown option: not exactly one line on stderr"
grep -q -- "--no-such-flag" /tmp/s2s_cli_err.$$ || fail "unknown option: message does not name it"

expect_exit 2 "no command" -- "$s2s"
expect_exit 0 "s2s version --help" -- "$s2s" version --help

data=$(dirname "$0")/data/bleu
expect_exit 0 "s2s bleu" -- "$s2s" bleu "$data/hyp.txt" "$data/ref1.txt" "$data/ref2.txt"
grep -q "^BLEU = 94.6[0-9] 100.0/97.4/94.1/91.7 (BP = 0.988 ratio = 0.989 hyp_len = 86 ref_len = 87)$" /tmp/s2s_cli_out.$$ ||
  fail "s2s bleu: unexpected output: $(cat /tmp/s2s_cli_out.$$)"
expect_exit 0 "s2s bleu -f text" -- "$s2s" bleu -f text "$data/hyp.txt" "$data/ref1.txt" "$data/ref2.txt"
grep -q "^BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:s2s-[0-9.]* = 94.6 " /tmp/s2s_cli_out.$$ ||
  fail "s2s bleu -f text: unexpected output: $(cat /tmp/s2s_cli_out.$$)"
expect_exit 0 "s2s bleu -b from stdin" -- sh -c "\"$s2s\" bleu -b -w 2 - \"$data/ref1.txt\" < \"$data/hyp.txt\""
[ "$(cat /tmp/s2s_cli_out.$$)" = "71.87" ] || fail "s2s bleu -b: got '$(cat /tmp/s2s_cli_out.$$)'"
printf 'good line\nbad \377 line\n' > /tmp/s2s_cli_bad.$$
expect_exit 1 "s2s bleu on invalid UTF-8" -- "$s2s" bleu /tmp/s2s_cli_bad.$$ "$data/ref1.txt"
grep -q "s2s_cli_bad.$$:2: invalid UTF-8" /tmp/s2s_cli_err.$$ || fail "invalid UTF-8: $(cat /tmp/s2s_cli_err.$$)"
[ "$(wc -l </tmp/s2s_cli_err.$$)" -eq 1 ] || fail "invalid UTF-8: not exactly one line on stderr"
expect_exit 1 "s2s bleu with mismatched lengths" -- "$s2s" bleu "$data/nomatch4.hyp" "$data/ref1.txt"
grep -q "has 10 lines" /tmp/s2s_cli_err.$$ || fail "mismatch: $(cat /tmp/s2s_cli_err.$$)"
expect_exit 1 "s2s bleu on a missing file" -- "$s2s" bleu /nonexistent "$data/ref1.txt"
expect_exit 2 "s2s bleu without references" -- "$s2s" bleu "$data/hyp.txt"
rm -f /tmp/s2s_cli_bad.$$

# s2s vocab: train, encode, decode round trip; bad input is exit 1, one line, no partial files.
vd=$(mktemp -d /tmp/s2s_cli_vocab.XXXXXX)
awk 'BEGIN { split("the a house is big and small dog cat runs sleeps in garden today we go home from street over quickly", w, " ");
             x = 12345; for (i = 0; i < 400; i++) { n = 3 + i % 7; s = "";
               for (j = 0; j < n; j++) { x = (x * 1103515245 + 12345) % 2147483648; s = s (j ? " " : "") w[1 + int(x / 65536) % 21] }
               print s } }' > "$vd/train.txt"
paste "$vd/train.txt" "$vd/train.txt" > "$vd/corpus.tsv"
expect_exit 0 "s2s vocab train" -- "$s2s" vocab train --input "$vd/train.txt" --model-prefix "$vd/m" --size 40
[ -s "$vd/m.model" ] && [ -s "$vd/m.vocab" ] || fail "s2s vocab train: no m.model/m.vocab"
[ "$(wc -l <"$vd/m.vocab")" -eq 40 ] || fail "s2s vocab train: m.vocab does not list 40 pieces"
expect_exit 0 "s2s vocab encode --ids" -- "$s2s" vocab encode -m "$vd/m.model" -i "$vd/train.txt" -o "$vd/ids.txt" --ids
expect_exit 0 "s2s vocab decode" -- "$s2s" vocab decode -m "$vd/m.model" -i "$vd/ids.txt" -o "$vd/back.txt"
cmp -s "$vd/train.txt" "$vd/back.txt" || fail "s2s vocab: decode(encode(text)) differs from the text"
expect_exit 0 "s2s vocab encode (pieces)" -- "$s2s" vocab encode -m "$vd/m.model" -i "$vd/train.txt" -o "$vd/pieces.txt"
[ "$(wc -l <"$vd/pieces.txt")" -eq 400 ] || fail "s2s vocab encode: not one line per input line"
head -1 "$vd/pieces.txt" | grep -q "^▁" || fail "s2s vocab encode: pieces do not start with ▁"
expect_exit 0 "s2s vocab encode | decode through pipes" -- sh -c \
  "head -5 \"$vd/train.txt\" | \"$s2s\" vocab encode -m \"$vd/m.model\" --ids | \"$s2s\" vocab decode -m \"$vd/m.model\""
[ "$(cat /tmp/s2s_cli_out.$$)" = "$(head -5 "$vd/train.txt")" ] || fail "s2s vocab: pipe round trip differs"
expect_exit 0 "s2s vocab train on both sides of a TSV" -- "$s2s" vocab train --input "$vd/corpus.tsv:source" \
  --input "$vd/corpus.tsv:target" --model-prefix "$vd/joint" --size 40 --type bpe --seed 3 --threads 1
[ -s "$vd/joint.model" ] || fail "s2s vocab train (TSV): no joint.model"
printf 'good line\nbad \377 line\n' > "$vd/bad.txt"
expect_exit 1 "s2s vocab train on invalid UTF-8" -- "$s2s" vocab train --input "$vd/train.txt" --input "$vd/bad.txt" --model-prefix "$vd/bad" --size 40
grep -q "bad.txt:2: invalid UTF-8" /tmp/s2s_cli_err.$$ || fail "vocab invalid UTF-8: $(cat /tmp/s2s_cli_err.$$)"
[ "$(wc -l </tmp/s2s_cli_err.$$)" -eq 1 ] || fail "vocab invalid UTF-8: not exactly one line on stderr"
ls "$vd" | grep -q "^bad\.\(model\|vocab\)" && fail "vocab invalid UTF-8: a partial model was left behind"
expect_exit 1 "s2s vocab train on a TSV line without a tab" -- "$s2s" vocab train --input "$vd/train.txt:source" --model-prefix "$vd/bad" --size 40
grep -q "train.txt:1: expected" /tmp/s2s_cli_err.$$ || fail "vocab TSV without tab: $(cat /tmp/s2s_cli_err.$$)"
[ "$(wc -l </tmp/s2s_cli_err.$$)" -eq 1 ] || fail "vocab TSV without tab: not exactly one line on stderr"
expect_exit 1 "s2s vocab train with a vocabulary too large" -- "$s2s" vocab train --input "$vd/train.txt" --model-prefix "$vd/bad" --size 5000
[ "$(wc -l </tmp/s2s_cli_err.$$)" -eq 1 ] || fail "vocab too large: not exactly one line on stderr: $(cat /tmp/s2s_cli_err.$$)"
ls "$vd" | grep -q "^bad\.\(model\|vocab\)" && fail "s2s vocab train: files left behind after failures: $(ls "$vd")"
printf '5 6\n7 x9\n' > "$vd/badids.txt"
expect_exit 1 "s2s vocab decode of a bad id" -- "$s2s" vocab decode -m "$vd/m.model" -i "$vd/badids.txt" -o "$vd/out.txt"
grep -q "badids.txt:2:" /tmp/s2s_cli_err.$$ || fail "vocab bad id: $(cat /tmp/s2s_cli_err.$$)"
[ -e "$vd/out.txt" ] && fail "s2s vocab decode: partial output left behind"
ls "$vd" | grep -q "\.tmp\." && fail "s2s vocab: temporary files left behind: $(ls "$vd")"
ln -s ids.txt "$vd/link.txt"  # a link (like /dev/stdout) is written through, not replaced
expect_exit 0 "s2s vocab encode -o LINK" -- "$s2s" vocab encode -m "$vd/m.model" -i "$vd/train.txt" -o "$vd/link.txt"
[ -L "$vd/link.txt" ] || fail "s2s vocab encode -o LINK replaced the symbolic link"
cmp -s "$vd/ids.txt" "$vd/pieces.txt" || fail "s2s vocab encode -o LINK did not write through the link"
expect_exit 1 "s2s vocab encode with a missing model" -- "$s2s" vocab encode -m "$vd/none.model" -i "$vd/train.txt"
[ "$(wc -l </tmp/s2s_cli_err.$$)" -eq 1 ] || fail "vocab missing model: not exactly one line on stderr"
expect_exit 2 "s2s vocab train --type foo" -- "$s2s" vocab train --input "$vd/train.txt" --model-prefix "$vd/x" --size 60 --type foo
[ "$(wc -l </tmp/s2s_cli_err.$$)" -eq 1 ] || fail "vocab --type foo: not exactly one line on stderr"
expect_exit 2 "s2s vocab train without --size" -- "$s2s" vocab train --input "$vd/train.txt" --model-prefix "$vd/x"
expect_exit 2 "s2s vocab with an unknown command" -- "$s2s" vocab frob
expect_exit 0 "s2s vocab train --help" -- "$s2s" vocab train --help
rm -rf "$vd"

rm -f /tmp/s2s_cli_out.$$ /tmp/s2s_cli_err.$$
if [ "$failures" -ne 0 ]; then echo "$failures CLI check(s) failed"; exit 1; fi
echo "all CLI checks passed"
