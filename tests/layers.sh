#!/bin/sh
# The layer map of docs/internals.md, held: each folder may include only the
# headers its row allows ("quoted" includes; system headers are free).
# Argument: the source directory. Prints every include that breaks a rule.
set -u
cd "$1" || exit 2
status=0

# check FILES... -- ALLOWED: each quoted include of FILES must match the
# extended regular expression ALLOWED (whole name).
check() {
  files=""
  while [ "$1" != -- ]; do files="$files $1"; shift; done
  allowed=$2
  for f in $files; do
    [ -f "$f" ] || continue
    grep -Ho '^#include "[^"]*"' "$f" | sed 's/#include "\(.*\)"/\1/' |
      while IFS=: read -r file inc; do
        if ! echo "$inc" | grep -qxE "$allowed"; then
          echo "$file includes \"$inc\" (allowed: $allowed)"
        fi
      done
  done
}

# Kernel contract: the slot list and signatures, and the public enums.
kernel='kernels\.(h|def)|regrad\.h'
# What an ISA body may use: its folder's vocabulary, the shared bodies, the
# GEMM helpers, the Philox constants; never the tape or the library.
isa='isa\.h|vec\.h|vmath\.h|philox\.h|gemm_[a-z_]+\.h|table\.inc|algo/[a-z_]+\.h|core/philox\.h'

out=$( {
  check src/kernels.h src/isa.h src/table.inc src/gemm_*.h -- "$kernel|gemm_[a-z_]+\.h"
  check src/algo/* -- 'algo/[a-z_]+\.h'
  check src/scalar/* src/avx2/* src/avx512/* src/neon/* -- "$isa"
  check src/core/* -- "core/[a-z_]+\.h|$kernel|ops/ops\.h|regrad_dist\.h"
  check src/ops/* -- 'core/internal\.h|ops/[a-z_]+\.(h|def)|regrad\.h'
  check src/data/* -- 'core/(internal|bytes|cpu|philox)\.h|data/[a-z_]+\.h|io/file\.h'
  check src/io/* -- 'core/(internal|bytes)\.h|io/[a-z_]+\.h'
  check src/train/* -- 'core/(internal|bytes)\.h|data/data\.h|train/[a-z_]+\.h'
  check src/distributed/* -- 'core/internal\.h|distributed/[a-z_]+\.h|regrad(_dist)?\.h'
  # The CLI is a user of the public API: its own headers and regrad*.h.
  check tools/*.c tools/*.h tools/study/* -- \
    "regrad(_dist)?\.h|$(cd tools && ls *.h study/*.h | sed 's,study/,,' | tr '\n' '|' |
      sed 's/\./\\./g; s/|$//')"
} )
if [ -n "$out" ]; then
  echo "$out"
  status=1
fi
echo "$(cat src/*/* src/*.h tools/*.c tools/study/*.c 2>/dev/null | grep -c '^#include "') quoted includes checked"
exit $status
