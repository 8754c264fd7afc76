#!/usr/bin/env bash
# Training-step cost of the re-evaluation modes against plain ReLU on the same network, side by
# side in one run: ResNet-20 (or MODEL_DEPTH) at batch 128 through build/cpu/bench/train_bench,
# ROUNDS rounds of every spec in turn, each round a fresh process per spec.
#
#   bench/mode_step_cost.sh            # defaults: ROUNDS=5 STEPS=20 WARMUP=3 CHANNELS_LAST=1
#   SPECS="relu sugar:bsilu pwlu:warmup=0" DEVICE=cuda CPP_BENCH=build/gpu/bench/train_bench \
#     bench/mode_step_cost.sh
#
# The first spec is the reference. PWLU specs run with warmup=0 so that every timed step is a
# step of the aligned unit, not of the warm-up's statistics phase. Prints a table: each spec's
# median over rounds of its per-round median step time, the rounds' range, and the ratio to the
# reference. Exit code 1 if any run fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS="${ROUNDS:-5}"
STEPS="${STEPS:-20}"
WARMUP="${WARMUP:-3}"
CHANNELS_LAST="${CHANNELS_LAST:-1}"
DEVICE="${DEVICE:-cpu}"
SPECS="${SPECS:-relu sugar:bsilu sugar:nelu pwlu:warmup=0 pwlu:layer:warmup=0 swish}"
cpp_bench="${CPP_BENCH:-build/cpu/bench/train_bench}"

[[ -x "$cpp_bench" ]] || { echo "error: $cpp_bench is not built (deploy/build.sh cpu)" >&2; exit 1; }
args=(--steps "$STEPS" --warmup "$WARMUP" --device "$DEVICE")
[[ "$CHANNELS_LAST" == 1 ]] && args+=(--channels-last)

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for ((round = 1; round <= ROUNDS; round++)); do
  for spec in $SPECS; do
    echo "== round $round/$ROUNDS: $spec" >&2
    if ! line="$("$cpp_bench" --activation "$spec" "${args[@]}" | tail -n 1)"; then
      echo "!! $spec failed" >&2
      exit 1
    fi
    printf '%s\t%s\n' "$spec" "$line" >>"$results"
  done
done

python3 - "$results" "$SPECS" <<'PYTHON'
import json
import statistics
import sys

steps = {}
first = None
with open(sys.argv[1]) as lines:
    for line in lines:
        spec, payload = line.rstrip("\n").split("\t", 1)
        run = json.loads(payload)
        first = first or run
        steps.setdefault(spec, []).append(run["median_step_ms"])
specs = sys.argv[2].split()
reference = statistics.median(steps[specs[0]])
print(f"\nResNet-{first['depth']} training step, batch {first['batch']}, device={first['device']}, "
      f"channels_last={first['channels_last']}, threads={first['threads']}, LibTorch {first['torch']}, "
      f"median of {first['steps']} steps, median of {len(steps[specs[0]])} rounds")
print(f"{'spec':<24} {'ms/step':>9} {'range':>13} {'vs ' + specs[0]:>9}")
for spec in specs:
    values = steps[spec]
    median = statistics.median(values)
    print(f"{spec:<24} {median:9.1f} {min(values):6.0f}-{max(values):<6.0f} {median / reference:8.2f}x")
PYTHON
