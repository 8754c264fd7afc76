#!/usr/bin/env bash
# Rebuilds bench/landscape/fashion-mnist-resnet8.csv.gz with the project itself: an exhaustive
# search of fashion-mnist-resnet8.textproto's space (every class trained to the end, validation
# recorded every 15 steps), then its curves exported for bench/landscape_replay.
#   bash bench/landscape/regenerate.sh [BUILD_DIR]   (default build/cpu; about an hour, 2 cores)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build/cpu}"
db="$(mktemp -d)/landscape.db"
"$build/cli/actsearch" local --config "$here/fashion-mnist-resnet8.textproto" --db "$db" \
  --workers 1 --progress-seconds 60
bash "$here/export.sh" "$db" "$here/fashion-mnist-resnet8.csv.gz"
