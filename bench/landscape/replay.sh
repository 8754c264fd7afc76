#!/usr/bin/env bash
# Replays a landscape with the rules of docs/benchmarks.md's tables for its budget, one row
# each: a 900-step landscape evaluated every 100 steps, or a 300-step one evaluated every 30
# (averaged.sh's). Further flags go to landscape_replay (for example --truth SEED.csv):
#   bash bench/landscape/replay.sh LANDSCAPE.csv.gz [BUILD_DIR] [REPLAY_FLAGS...]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 LANDSCAPE.csv.gz [BUILD_DIR] [REPLAY_FLAGS...]" >&2; exit 2; }
landscape="$1"
shift
build=build/cpu
if [ $# -ge 1 ] && [ "${1#--}" = "$1" ]; then build="$1"; shift; fi
budget="$(zcat "$landscape" | python3 -c '
import csv, sys
print(max(int(r["steps"]) for r in csv.DictReader(sys.stdin)))')"
case "$budget" in
  900) methods=(
    'median, grace 300=evaluate_every: 100 median { grace_steps: 300 }'
    'median, grace 500=evaluate_every: 100 median { grace_steps: 500 }'
    'median, grace 700=evaluate_every: 100 median { grace_steps: 700 }'
    'ASHA eta 3 from 100=asha { eta: 3 min_steps: 100 }'
    'ASHA eta 3 from 300=asha { eta: 3 min_steps: 300 }'
    'ASHA eta 2 from 100=asha { eta: 2 min_steps: 100 }'
    'ASHA eta 2 from 200=asha { eta: 2 min_steps: 200 }'
    'ASHA eta 2 from 400=asha { eta: 2 min_steps: 400 }'
    'Hyperband eta 3 from 100, 3 brackets=asha { eta: 3 min_steps: 100 brackets: 3 }'
    'Hyperband eta 3 from 100, 2 brackets=asha { eta: 3 min_steps: 100 brackets: 2 }') ;;
  300) methods=(
    'median (defaults)=median {}'
    'median, grace 150=median { grace_steps: 150 }'
    'median, grace 210=median { grace_steps: 210 }'
    'ASHA eta 3 from 30=asha { eta: 3 min_steps: 30 }'
    'ASHA eta 2 from 30=asha { eta: 2 min_steps: 30 }'
    'ASHA eta 3 from 60=asha { eta: 3 min_steps: 60 }'
    'ASHA eta 2 from 60=asha { eta: 2 min_steps: 60 }'
    'ASHA eta 3 from 90=asha { eta: 3 min_steps: 90 }'
    'Hyperband eta 3 from 30, 3 brackets=asha { eta: 3 min_steps: 30 brackets: 3 }') ;;
  *) echo "$0: $landscape: a budget of $budget steps; the rules here are for 300 or 900" >&2
     exit 2 ;;
esac
flags=()
for method in "${methods[@]}"; do flags+=(--method "$method"); done
exec "$build/bench/landscape_replay" --landscape "$landscape" --rungs '' --seeds 101 --workers 8 \
  "${flags[@]}" "$@"
