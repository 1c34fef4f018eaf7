#!/bin/sh
# The library boundary: libregrad.so exports exactly the functions that
# include/regrad.h and include/regrad_dist.h declare (each must carry
# RG_API to be exported), nothing else: no kernel bodies, no internal
# helpers. Arguments: the shared library and the source directory.
set -u
lib=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TW]$/ { print $3 }' | sort >"$tmp/exported"
# Every function declared at the start of a line (static inline helpers aside).
cat "$src/include/regrad.h" "$src/include/regrad_dist.h" | grep -v '^static\|^typedef' |
  sed -n 's/^[A-Za-z][^(]*[ *]\(rg_[a-z0-9_]*\)(.*/\1/p' | sort >"$tmp/declared"
echo "$(wc -l <"$tmp/exported") exported, $(wc -l <"$tmp/declared") declared"
status=0
if [ -s "$tmp/exported" ] && comm -23 "$tmp/exported" "$tmp/declared" | grep -q .; then
  echo "exported but not declared in the public headers:"
  comm -23 "$tmp/exported" "$tmp/declared"
  status=1
fi
if comm -13 "$tmp/exported" "$tmp/declared" | grep -q .; then
  echo "declared but not exported (RG_API missing, or not defined):"
  comm -13 "$tmp/exported" "$tmp/declared"
  status=1
fi
exit $status
