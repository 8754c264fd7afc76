#!/usr/bin/env bash
# What evaluating a child on the validation split during its budget costs (early stopping's
# evaluations): the same child trained with no evaluation before its end, and with one every
# N steps, alternately, R times each; median wall seconds and their ratio. The rows marked
# "averaged" judge averaged weights at those evaluations (--evaluate-averaged: a second pass,
# BatchNorm statistics recomputed first, and the average kept up to date every step).
#   bash bench/evaluation_overhead.sh [BUILD_DIR] [R] -- [actsearch train flags]
# defaults: build/cpu, 3, and the landscape's child (ResNet-8 on Fashion-MNIST, 300 steps at
# batch 128, 1,000 validation images) evaluated every 15 steps and every 100.
set -euo pipefail
build="${1:-build/cpu}"
repeats="${2:-3}"
shift $(($# < 2 ? $# : 2))
[ "${1:-}" = "--" ] && shift
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--model resnet8 --steps 300 --validation 1000 --expr relu)
seconds() {  # the run's wall seconds, from its JSON result
  "$build/cli/actsearch" train "${flags[@]}" "$@" --format json --quiet |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["wall_seconds"])'
}
declare -A runs
for _ in $(seq "$repeats"); do
  for every in none 100 100-averaged 15 15-averaged; do
    case "$every" in
      none) runs[$every]+="$(seconds) " ;;
      *-averaged) runs[$every]+="$(seconds --evaluate-every "${every%-averaged}" --evaluate-averaged) " ;;
      *) runs[$every]+="$(seconds --evaluate-every "$every") " ;;
    esac
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
base="$(median "${runs[none]}")"
echo "child: actsearch train ${flags[*]}; medians of $repeats runs each, alternating"
printf '%-26s %10s %8s\n' "validation evaluations" "seconds" "ratio"
for every in none 100 100-averaged 15 15-averaged; do
  m="$(median "${runs[$every]}")"
  label="every ${every%-averaged} steps"
  [ "$every" != "${every%-averaged}" ] && label+=", averaged"
  [ "$every" = none ] && label="at the end only"
  printf '%-26s %10.2f %8.3f\n' "$label" "$m" "$(python3 -c "print($m / $base)")"
done
