# Sourced by the end-to-end shell tests: a scratch folder that becomes the working directory
# (removed on exit unless KEEP_WORK is set), and `check DESCRIPTION COMMAND...`, which runs the
# command and counts it in $passed or, printing "FAIL: DESCRIPTION", in $failures.
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
