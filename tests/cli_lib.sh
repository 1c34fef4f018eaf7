# Shared by the command-line test scripts (sourced): a scratch directory
# $work removed on exit, failures counted, and run/status keeping a
# command's stdout, stderr and exit status in $work.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

run() {
  "$@" >"$work/out" 2>"$work/err"
  echo $? >"$work/rc"
}
status() { cat "$work/rc"; }
