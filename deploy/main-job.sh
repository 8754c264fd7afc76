#!/usr/bin/env bash
# All set-up, then the main job on a default that needs no download: real Fashion-MNIST from
# Debian's package. Until the search itself lands (controller and workers), the main job is the
# most complete thing that runs end to end: a look at the search space, then children trained
# for the paper's Figure 3 winner (Swish), ReLU and a degenerate candidate, each recorded in a
# results database, and the leaderboard read back from it. About 4 minutes on 2 CPU cores
# once built.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh cpu
actsearch=build/cpu/cli/actsearch
db="${ACTSEARCH_DB:-results/main-job.db}"
mkdir -p "$(dirname "$db")"
export OMP_PROC_BIND="${OMP_PROC_BIND:-true}"  # keep the two OpenMP threads on their own cores

echo "== the 1-unit search space, screened and deduplicated"
"$actsearch" space count --units 1 --distinct
echo
echo "== a random sample of the 2-unit space ($("$actsearch" space count --units 2) candidates)"
"$actsearch" space sample --units 2 --count 5 --accepted --seed 7
echo
for expression in 'x * sigmoid(beta * x)' 'relu(x)' 'beta'; do
  echo "== training ResNet-20 on Fashion-MNIST with: $expression"
  "$actsearch" space eval "$expression" --points -2,0,2 | sed -n 3p  # its screening verdict
  status=0
  "$actsearch" train --expr "$expression" --dataset fashion-mnist --profile quick \
    --db "$db" --search-name "main job" || status=$?
  [ "$status" -le 4 ] || exit "$status"  # 3 (diverged) and 4 (timed out) are outcomes
  echo
done
echo "== leaderboard of $db"
"$actsearch" leaderboard --db "$db"
