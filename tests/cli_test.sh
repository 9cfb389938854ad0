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
grep -q "^BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:s2s-[0-9.]* = 94.6 " /tmp/s2s_cli_out.$$ ||
  fail "s2s bleu: unexpected output: $(cat /tmp/s2s_cli_out.$$)"
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

rm -f /tmp/s2s_cli_out.$$ /tmp/s2s_cli_err.$$
if [ "$failures" -ne 0 ]; then echo "$failures CLI check(s) failed"; exit 1; fi
echo "all CLI checks passed"
