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
# MTEST_ARGS: more `meson test` arguments; SKIP_TESTS: test names left out;
# NINJA_TARGETS: what to build (default all).
run_suite() {
  local name=$1 dir=$2
  shift 2
  echo "== $name ($dir)"
  # Listed first: a stage that fails to configure or build has no log and
  # counts as failed in the summary line (never a stale log of a past run).
  logs+=("$dir/meson-logs/testlog.json")
  rm -f "$dir/meson-logs/testlog.json"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { tail -30 "$dir.setup.log"; return 1; }
  fi
  ninja -C "$dir" ${NINJA_TARGETS:-} >"$dir.ninja.log" 2>&1 || { tail -40 "$dir.ninja.log"; return 1; }
  local rc=0 args=(${MTEST_ARGS:-})
  if [ -n "${SKIP_TESTS:-}" ]; then
    mapfile -t -O ${#args[@]} args < <(meson test -C "$dir" --list --no-rebuild 2>/dev/null |
      grep -v '^ninja' | grep -vxF -f <(tr ' ' '\n' <<<"$SKIP_TESTS"))
  fi
  meson test -C "$dir" --print-errorlogs --num-processes 2 "${args[@]}" || rc=$?
  # Backstop for reports from forked Criterion workers (see tests/meson.build).
  if grep -sqE 'ERROR: (Address|Leak)Sanitizer|runtime error:|definitely lost in' \
      "$dir/meson-logs/testlog.txt" || [ -n "$(find "$dir/memory-reports" -type f -size +0 2>/dev/null)" ]; then
    echo "== $name: memory errors reported"
    find "$dir/memory-reports" -type f -size +0 -exec head -n 60 {} + 2>/dev/null
    rc=1
  fi
  return $rc
}

run_suite native build -Dbuildtype=debugoptimized -Dwerror=true -Dmpi=auto || fail=1

# ASan + UBSan, every report fatal, leaks included (docs/reliability.md). The
# installed example links the sanitized library without the runtime: left out.
SKIP_TESTS=installed-example run_suite asan build-asan -Db_sanitize=address,undefined \
  -Dbuildtype=debug -Dbenchmarks=disabled -Dc_args=-fno-sanitize-recover=all || fail=1

# 30 s of libFuzzer per target (docs/fuzzing.md), when clang has libFuzzer.
if printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
    clang -fsanitize=fuzzer -x c - -o /dev/null >/dev/null 2>&1; then
  CC=clang MTEST_ARGS="--suite fuzz --no-rebuild" NINJA_TARGETS="$(printf 'tests/fuzz/fuzz_%s ' \
    idx checkpoint args resume options tape flags)" run_suite fuzz build-fuzz -Db_sanitize=address,undefined \
    -Db_lundef=false -Dc_args='-D__FP_FAST_FMA -fno-sanitize-recover=all' -Dbenchmarks=disabled ||
    fail=1
else
  echo "== fuzz: skipped (clang with libFuzzer is missing: scripts/install-deps.sh)"
fi

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
