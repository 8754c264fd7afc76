#!/usr/bin/env bash
# Replays a 900-step landscape (evaluations every 100 steps) with the rules of
# docs/benchmarks.md's 900-step tables, one row each; further flags go to landscape_replay (for
# example --truth SEED.csv):
#   bash bench/landscape/replay-900.sh bench/landscape/fashion-mnist-resnet8-900.csv.gz \
#     [BUILD_DIR] [REPLAY_FLAGS...]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 LANDSCAPE.csv.gz [BUILD_DIR] [REPLAY_FLAGS...]" >&2; exit 2; }
landscape="$1"
shift
build=build/cpu
if [ $# -ge 1 ] && [ "${1#--}" = "$1" ]; then build="$1"; shift; fi
exec "$build/bench/landscape_replay" --landscape "$landscape" --rungs '' --seeds 101 --workers 8 \
  --method 'median, grace 300=evaluate_every: 100 median { grace_steps: 300 }' \
  --method 'median, grace 500=evaluate_every: 100 median { grace_steps: 500 }' \
  --method 'median, grace 700=evaluate_every: 100 median { grace_steps: 700 }' \
  --method 'ASHA eta 3 from 100=asha { eta: 3 min_steps: 100 }' \
  --method 'ASHA eta 3 from 300=asha { eta: 3 min_steps: 300 }' \
  --method 'ASHA eta 2 from 100=asha { eta: 2 min_steps: 100 }' \
  --method 'ASHA eta 2 from 200=asha { eta: 2 min_steps: 200 }' \
  --method 'ASHA eta 2 from 400=asha { eta: 2 min_steps: 400 }' \
  --method 'Hyperband eta 3 from 100, 3 brackets=asha { eta: 3 min_steps: 100 brackets: 3 }' \
  --method 'Hyperband eta 3 from 100, 2 brackets=asha { eta: 3 min_steps: 100 brackets: 2 }' \
  "$@"
