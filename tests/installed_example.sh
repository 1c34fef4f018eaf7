#!/bin/sh
# Installs the library into a staging directory and builds examples/two_layer.c
# against it through `pkg-config regrad`, then runs it (it fails unless the
# net learns). Arguments: the build directory and the source directory.
set -eu
build=$1 src=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >/dev/null
pc=$(find "$stage" -name regrad.pc | head -n 1)
[ -n "$pc" ] || { echo "regrad.pc was not installed"; exit 1; }
[ -n "$(find "$stage" -path '*/man1/regrad.1*')" ] || { echo "regrad(1) was not installed"; exit 1; }
[ -n "$(find "$stage" -path '*/bin/regrad')" ] || { echo "the regrad command was not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$stage"
cc -std=c11 -Wall -Wextra -Werror -o "$stage/two_layer" "$src/examples/two_layer.c" \
  $(pkg-config --cflags --libs regrad) -lm
libdir=$(dirname "$(find "$stage" -name 'libregrad.so' | head -n 1)")
LD_LIBRARY_PATH="$libdir" "$stage/two_layer"
