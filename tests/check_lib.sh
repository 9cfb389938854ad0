# Sourced by the end-to-end shell tests: a scratch folder that becomes the working directory
# (removed on exit unless KEEP_WORK is set), `check DESCRIPTION COMMAND...`, which runs the
# command and counts it in $passed or, printing "FAIL: DESCRIPTION", in $failures, and
# `digit_pairs`, the corpus of the tests' tiny translation models.
work=$(mktemp -d)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
cd "$work"
failures=0
passed=0
check() {  # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then
    passed=$((passed + 1))
    return 0
  fi
  echo "FAIL: $what"
  failures=$((failures + 1))
  return 1
}

# digit_pairs N SEED LONGEST: N lines "d d d<TAB>d d d", a source of 2 to LONGEST random digits and
# its reversal; the same lines for the same arguments (awk's srand).
digit_pairs() {
  awk -v n="$1" -v seed="$2" -v longest="$3" 'BEGIN { srand(seed); for (i = 0; i < n; ++i) {
    len = 2 + int(rand() * (longest - 1)); s = ""; r = "";
    for (j = 0; j < len; ++j) { d = int(rand() * 10); s = s (j ? " " : "") d; r = d (j ? " " : "") r }
    print s "\t" r } }'
}
