#!/usr/bin/env bash
# The test command: builds regrad and runs every suite; on a machine prepared
# by .ci/arm64-setup.sh also the aarch64 build under qemu. Ends with the line
# "N passed, N failed, N skipped" and exits non-zero on any failure.
# Options: --no-arm64 skips the aarch64 suites.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
arm64=1
[ "${1:-}" = --no-arm64 ] && arm64=0
fail=0
logs=()

# run_suite NAME DIR [meson setup args...]: configure once, build, test.
run_suite() {
  local name=$1 dir=$2
  shift 2
  echo "== $name ($dir)"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { tail -30 "$dir.setup.log"; return 1; }
  fi
  ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -40 "$dir.ninja.log"; return 1; }
  local rc=0
  meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
  logs+=("$dir/meson-logs/testlog.json")
  return $rc
}

run_suite native build -Dbuildtype=debugoptimized -Dwerror=true || fail=1

if [ $arm64 = 1 ] && [ -f cross/sysroot-arm64.ini ] && command -v qemu-aarch64 >/dev/null; then
  run_suite arm64 build-arm64 --cross-file cross/sysroot-arm64.ini \
    --cross-file cross/aarch64-linux-gnu.ini -Dwerror=true || fail=1
elif [ $arm64 = 1 ]; then
  echo "== arm64: skipped (run 'sudo bash .ci/arm64-setup.sh' to enable the aarch64 suites)"
fi

python3 - "${logs[@]}" <<'PY'
import json, sys
count = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        count["failed"] += 1
        continue
    for line in lines:
        result = json.loads(line)["result"]
        key = "passed" if result in ("OK", "EXPECTEDFAIL") else "skipped" if result == "SKIP" else "failed"
        count[key] += 1
print(f'{count["passed"]} passed, {count["failed"]} failed, {count["skipped"]} skipped')
PY
[ $fail = 0 ]
