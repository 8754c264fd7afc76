#!/usr/bin/env bash
# A landscape's classes trained again with `actsearch train --evaluate-averaged`: each
# evaluation during the budget measures both the current weights and their running average
# (early_stopping's averaged_weights, docs/early-stopping.md), so that one training gives two
# landscapes of the same children for bench/landscape_replay:
#   OUT-current.csv.gz   the current weights' accuracy at each evaluation (what a search judges
#                        by default), and the result;
#   OUT-averaged.csv.gz  the averaged weights' accuracy at each evaluation, and the same result
#                        (a child's result is its own weights' either way).
#   bash bench/landscape/averaged.sh LANDSCAPE.csv.gz EVERY OUT [BUILD_DIR] -- TRAIN_FLAGS...
# EVERY is the steps between evaluations; TRAIN_FLAGS the landscape's child as `actsearch train`
# takes it, with its seed. JOBS trainings run at once (default 2, one thread each); LIMIT=N
# trains only the landscape's best N classes (by its results), and the landscapes written hold
# only those. Trainings already in OUT.jsonl are kept (a run can be resumed).
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 LANDSCAPE.csv.gz EVERY OUT [BUILD_DIR] -- TRAIN_FLAGS" >&2; exit 2; }
landscape="$1" every="$2" out="$3"
shift 3
build=build/cpu
if [ "$1" != -- ]; then build="$1"; shift; fi
[ "$1" = -- ] || { echo "$0: expected -- before the train flags" >&2; exit 2; }
shift
jobs="${JOBS:-2}"
touch "$out.jsonl"
merge_parts() {  # the per-job files into OUT.jsonl (a job may have had nothing to train)
  local part
  for part in "$out".jsonl.*; do
    [ -e "$part" ] || continue
    cat "$part" >>"$out.jsonl"
    rm "$part"
  done
}
merge_parts  # what an interrupted run trained counts as done
# The landscape's classes, best first (its best LIMIT), into OUT.classes; those with no
# training in OUT.jsonl yet into OUT.todo.
zcat "$landscape" | python3 -c '
import csv, json, sys
done = {json.loads(line)["fingerprint"] for line in open(sys.argv[1]) if line.strip()}
last = {}
for r in csv.DictReader(sys.stdin):
    last[r["fingerprint"]] = r
chosen = sorted(last.values(), key=lambda r: -float(r["validation_accuracy"]))
chosen = chosen[:int(sys.argv[2])] if sys.argv[2] else chosen
with open(sys.argv[1][:-len(".jsonl")] + ".classes", "w") as classes:
    for r in chosen:
        print(r["fingerprint"], file=classes)
        if r["fingerprint"] not in done:
            print(r["fingerprint"] + "\t" + r["expression"])' "$out.jsonl" "${LIMIT:-}" >"$out.todo"
train_part() {  # trains every jobs-th class from the part-th on, appending to OUT.jsonl.part
  local part="$1" i=0 fingerprint expression
  shift
  while IFS=$'\t' read -r fingerprint expression; do
    i=$((i + 1))
    [ $(((i - 1) % jobs)) -eq "$part" ] || continue
    "$build/cli/actsearch" train --expr "$expression" --evaluate-every "$every" \
      --evaluate-averaged --threads 1 --quiet --format json "$@" |
      python3 -c 'import json, sys
r = json.load(sys.stdin); r["fingerprint"] = sys.argv[1]; print(json.dumps(r))' \
        "$fingerprint" >>"$out.jsonl.$part" || true  # a diverged child exits 3: still recorded
    echo "$expression" >&2
  done <"$out.todo"
}
for part in $(seq 0 $((jobs - 1))); do train_part "$part" "$@" & done
wait
merge_parts
rm "$out.todo"
# The two landscapes, in export.sh's layout.
python3 - "$out" <<'PY'
import csv, gzip, io, json, sys
out = sys.argv[1]
chosen = set(open(out + ".classes").read().split())
runs = sorted((r for r in (json.loads(line) for line in open(out + ".jsonl") if line.strip())
               if r["fingerprint"] in chosen), key=lambda r: r["fingerprint"])
for name in ("current", "averaged"):
    rows = []
    for r in runs:
        current = {step: accuracy for step, accuracy in r["current_weights_curve"]}
        for step, _loss, accuracy in r["learning_curve"]:
            if accuracy is None or step >= r["steps"]:
                continue
            rows.append((r["fingerprint"], r["activation"], r["steps"], step,
                         current[step] if name == "current" else accuracy))
        result = r["validation_accuracy"] if r["status"] == "done" else 0
        rows.append((r["fingerprint"], r["activation"], r["steps"], r["steps"], result))
    # mtime 0: the same trainings give the same bytes.
    with gzip.GzipFile(f"{out}-{name}.csv.gz", "wb", mtime=0) as packed, \
         io.TextIOWrapper(packed, newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["fingerprint", "expression", "steps", "step", "validation_accuracy"])
        w.writerows(rows)
    print(f"{out}-{name}.csv.gz: {len(runs)} classes")
PY
rm "$out.classes"
