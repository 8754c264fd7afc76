#!/usr/bin/env bash
# The noise ceiling of a landscape: its best N classes trained again with another seed (every
# child of the landscape has seed 1), then how the two seeds agree: the rank correlation over
# those classes and how many of one seed's top 10 stay in the other's. A rule judged against
# one seed's top 10 cannot be asked to recall more than a second full training does.
#   bash bench/landscape/reseed.sh LANDSCAPE.csv.gz N SEED OUT.csv [BUILD_DIR] -- TRAIN_FLAGS...
# TRAIN_FLAGS are the landscape's child as `actsearch train` takes it, for example
#   bash bench/landscape/reseed.sh bench/landscape/fashion-mnist-resnet8-900.csv.gz 20 2 \
#     seed2.csv -- --model resnet8 --dataset fashion-mnist --profile quick --steps 900
# Rows already in OUT.csv are kept (a run can be resumed).
set -euo pipefail
[ $# -ge 5 ] || { echo "usage: $0 LANDSCAPE.csv.gz N SEED OUT.csv [BUILD_DIR] -- TRAIN_FLAGS" >&2; exit 2; }
landscape="$1" n="$2" seed="$3" out="$4"
shift 4
build=build/cpu
if [ "$1" != -- ]; then build="$1"; shift; fi
[ "$1" = -- ] || { echo "$0: expected -- before the train flags" >&2; exit 2; }
shift
[ -s "$out" ] || echo "fingerprint,seed,validation_accuracy" >"$out"
# The landscape's best N classes by their final result, best first.
zcat "$landscape" | python3 -c '
import csv, sys
rows = [r for r in csv.DictReader(sys.stdin) if r["step"] == r["steps"]]
rows.sort(key=lambda r: -float(r["validation_accuracy"]))
for r in rows[:int(sys.argv[1])]:
    print(r["fingerprint"] + "\t" + r["expression"])' "$n" |
  while IFS=$'\t' read -r fingerprint expression; do
    grep -q "^$fingerprint,$seed," "$out" && continue
    accuracy="$("$build/cli/actsearch" train --expr "$expression" --seed "$seed" --quiet \
      --format json "$@" | python3 -c 'import json, sys
r = json.load(sys.stdin); print(r["validation_accuracy"] if r["status"] == "done" else 0)')"
    echo "$fingerprint,$seed,$accuracy" >>"$out"
    echo "$expression: $accuracy" >&2
  done
# How the two seeds agree over these classes.
python3 - "$landscape" "$out" "$seed" <<'PY'
import csv, gzip, sys
first = {r["fingerprint"]: float(r["validation_accuracy"])
         for r in csv.DictReader(gzip.open(sys.argv[1], "rt")) if r["step"] == r["steps"]}
second = {r["fingerprint"]: float(r["validation_accuracy"])
          for r in csv.DictReader(open(sys.argv[2])) if r["seed"] == sys.argv[3]}
classes = sorted(second, key=lambda f: -first[f])
def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    rank = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            rank[order[k]] = (i + j) / 2
        i = j + 1
    return rank
a = ranks([first[f] for f in classes])
b = ranks([second[f] for f in classes])
n = len(classes)
mean = (n - 1) / 2
cov = sum((x - mean) * (y - mean) for x, y in zip(a, b))
var = (sum((x - mean) ** 2 for x in a) * sum((y - mean) ** 2 for y in b)) ** 0.5
top = min(10, n)
kept = len(set(classes[:top]) & set(sorted(classes, key=lambda f: -second[f])[:top]))
print(f"{n} classes, seed 1 against seed {sys.argv[3]}: rank correlation {cov / var:.2f}; "
      f"{kept} of seed 1's top {top} are in seed {sys.argv[3]}'s top {top} among them")
print(f"seed 1 accuracies {min(first[f] for f in classes):.4f}..{max(first[f] for f in classes):.4f}, "
      f"mean absolute change {sum(abs(first[f] - second[f]) for f in classes) / n:.4f}")
PY
