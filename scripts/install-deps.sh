#!/usr/bin/env bash
# Installs the Debian 12 packages regrad needs to build, test, benchmark and
# run the study. Idempotent: only what is missing is installed. Needs root
# (or sudo).
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc g++ libsleef-dev libcriterion-dev libbenchmark-dev
      zlib1g-dev gnuplot-nox dataset-fashion-mnist libopenblas-dev python3
      valgrind clang libclang-rt-14-dev libsimde-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
