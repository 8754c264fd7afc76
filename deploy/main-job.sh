#!/usr/bin/env bash
# All set-up, then the main job on a default that needs no download. Until the search itself
# lands, that is a tour of the search space: its size, screening and dedup of the whole
# 1-unit space, the paper's Figure 3 functions evaluated, and a few samples of the 2-unit space.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh cpu
actsearch=build/cpu/cli/actsearch

echo "== the 1-unit space: every candidate screened and deduplicated"
"$actsearch" space count --units 1 --distinct
echo
echo "== the 2-unit space: size and a random sample of accepted candidates"
"$actsearch" space count --units 2
"$actsearch" space sample --units 2 --count 8 --accepted --seed 7
echo
echo "== the top functions of the paper's Figure 3, at x = -2, 0, 2"
for expression in 'x * sigmoid(beta * x)' 'max(x, sigmoid(x))' 'cos(x) - x' 'min(x, sin(x))' \
    'atan(x)^2 - x' 'max(x, tanh(x))' 'sinc(x) + x' 'x * asinh(x)^2'; do
  "$actsearch" space eval "$expression" --points -2,0,2
  echo
done
