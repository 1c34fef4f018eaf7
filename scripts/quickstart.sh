#!/usr/bin/env bash
# First command for a newcomer: installs what is missing, builds regrad and
# runs the main job on the built-in default data (Fashion-MNIST).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build -Dbuildtype=debugoptimized >/dev/null
ninja -C build >/dev/null
build/tools/regrad info
build/tools/regrad study --quick --out study-out
echo "report: $(pwd)/study-out/report.md"
