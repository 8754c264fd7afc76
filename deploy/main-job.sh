#!/usr/bin/env bash
# All set-up, then the main job on a default that needs no download: a real search on
# Fashion-MNIST from Debian's package. `actsearch local` starts a controller on loopback and two
# worker processes; the random strategy proposes candidates of a small 1-unit space, the
# workers train ResNet-20 children with them (150 steps each), and the search ends with its
# leaderboard. Running it again on the same database resumes (or re-reports) the search.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh cpu
actsearch=build/cpu/cli/actsearch
db="${ACTSEARCH_DB:-results/main-job.db}"
config="${ACTSEARCH_CONFIG:-docs/configs/fashion-mnist-random.textproto}"
mkdir -p "$(dirname "$db")"

echo "== the 1-unit search space, screened and deduplicated"
"$actsearch" space count --units 1 --distinct
echo
echo "== a search: $config"
"$actsearch" local --config "$config" --db "$db" --workers 2 --progress-seconds 30
