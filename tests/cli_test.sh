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

rm -f /tmp/s2s_cli_out.$$ /tmp/s2s_cli_err.$$
if [ "$failures" -ne 0 ]; then echo "$failures CLI check(s) failed"; exit 1; fi
echo "all CLI checks passed"
