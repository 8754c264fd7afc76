#!/usr/bin/env bash
# ResNet-20 CIFAR training throughput, side by side in one run: our C++ worker against plain
# PyTorch, for ReLU and Swish.
#
#   bench/resnet_throughput.sh        # defaults: STEPS=30 WARMUP=5 CHANNELS_LAST=1 ROUNDS=1
#   STEPS=50 WARMUP=10 CHANNELS_LAST=0 bench/resnet_throughput.sh
#   DEVICE=cuda BF16=1 CPP_BENCH=build/gpu/bench/train_bench DEBIAN_PYTHON= \
#     VENV_PYTHON=python3 bench/resnet_throughput.sh   # on a GPU (see bench/gpu_session.sh)
#
# CPP_BENCH, DEBIAN_PYTHON and VENV_PYTHON name the programs (an empty one skips its variants);
# BASELINE names the variant the ratios are taken against (debian-eager, or venv-eager when
# there is no Debian PyTorch).
# Variants, each run for activation relu and then swish, ROUNDS times over (interleaved, so
# that a machine whose speed drifts touches every variant alike):
#   cpp           build/cpu/bench/train_bench (LibTorch 1.13); skipped with a note if not built
#   cpp-unfused   the same with --unfused-batch-norm: BatchNorm and ReLU as separate operators,
#                 as PyTorch runs them (CPU only)
#   cpp-graph     the same with --cuda-graph: the worker's step captured as a CUDA graph (GPU
#                 only)
#   debian-eager  /usr/bin/python3 bench/pytorch_resnet20.py            (Debian python3-torch 1.13)
#   debian-eager-malloc  the same with the C++ worker's allocator settings given to glibc
#                 through MALLOC_*_ variables (worker/allocator_settings.h; CPU only): what
#                 PyTorch gains from them, for a like-for-like comparison
#   venv-eager    .venv-cuda/bin/python bench/pytorch_resnet20.py       (PyPI torch 2.x, on CPU)
#   venv-compile  .venv-cuda/bin/python bench/pytorch_resnet20.py --compile
# Each prints one JSON line; the table at the end gives each one's median step time (with
# several rounds, the median over rounds of each round's median, and the range), images/s,
# its images/s as a ratio to debian-eager's with the same activation (the PyTorch build that
# LibTorch 1.13 corresponds to), and its swish step time over its relu step time.
# All variants use every core (their default thread count). Progress and warnings go to
# stderr. A variant that fails is reported and left out of the table; the script then exits 1.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

STEPS="${STEPS:-30}"
ROUNDS="${ROUNDS:-1}"
WARMUP="${WARMUP:-5}"
CHANNELS_LAST="${CHANNELS_LAST:-1}"
DEVICE="${DEVICE:-cpu}"
BF16="${BF16:-0}"
cpp_bench="${CPP_BENCH-build/cpu/bench/train_bench}"
debian_python="${DEBIAN_PYTHON-/usr/bin/python3}"
venv_python="${VENV_PYTHON-.venv-cuda/bin/python}"
pytorch_script=bench/pytorch_resnet20.py
if [[ -n "$debian_python" ]]; then
  export BASELINE="${BASELINE:-debian-eager}"
else
  export BASELINE="${BASELINE:-venv-eager}"
fi

common_args=(--steps "$STEPS" --warmup "$WARMUP" --device "$DEVICE")
if [[ "$CHANNELS_LAST" == 1 ]]; then
  common_args+=(--channels-last)
fi
if [[ "$BF16" == 1 ]]; then
  common_args+=(--bf16)
fi

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
failures=0

# run VARIANT COMMAND...: appends "VARIANT<TAB>JSON" to $results, or counts a failure.
run() {
  local variant="$1"
  shift
  echo "== $variant: $*" >&2
  local output status=0
  output="$("$@")" || status=$?
  # The JSON line is the last one on stdout.
  local json_line="${output##*$'\n'}"
  if ((status == 0)) && [[ -n "$json_line" ]]; then
    printf '%s\t%s\n' "$variant" "$json_line" >>"$results"
  else
    echo "!! $variant failed (exit code $status); left out of the table" >&2
    failures=$((failures + 1))
  fi
}

for ((round = 1; round <= ROUNDS; round++)); do
  for activation in relu swish; do
    args=(--activation "$activation" "${common_args[@]}")
    if [[ -n "$cpp_bench" && -x "$cpp_bench" ]]; then
      run cpp "$cpp_bench" "${args[@]}"
      if [[ "$DEVICE" == cpu ]]; then
        run cpp-unfused "$cpp_bench" "${args[@]}" --unfused-batch-norm
      else
        run cpp-graph "$cpp_bench" "${args[@]}" --cuda-graph
      fi
    else
      echo "!! C++ bench '$cpp_bench' not built; skipping the C++ variant" >&2
    fi
    if [[ -n "$debian_python" ]]; then
      run debian-eager "$debian_python" "$pytorch_script" "${args[@]}"
      if [[ "$DEVICE" == cpu ]]; then
        run debian-eager-malloc env MALLOC_MMAP_THRESHOLD_=33554432 \
          MALLOC_TRIM_THRESHOLD_=1073741824 "$debian_python" "$pytorch_script" "${args[@]}"
      fi
    fi
    if [[ -n "$venv_python" ]]; then
      run venv-eager "$venv_python" "$pytorch_script" "${args[@]}"
      run venv-compile "$venv_python" "$pytorch_script" "${args[@]}" --compile
    fi
  done
done

python3 - "$results" <<'PYTHON'
import json
import os
import sys

BASELINE = os.environ["BASELINE"]

runs = {}
with open(sys.argv[1]) as lines:
    for line in lines:
        variant, payload = line.rstrip("\n").split("\t", 1)
        run = json.loads(payload)
        runs.setdefault((variant, run["activation"]), []).append(run)
if not runs:
    sys.exit("no results to show")

# One record per (variant, activation): the median round, with the range of the rounds.
records = []
for (variant, _), rounds in runs.items():
    rounds.sort(key=lambda r: r["median_step_ms"])
    middle = dict(rounds[(len(rounds) - 1) // 2], variant=variant, rounds=len(rounds))
    middle["range"] = (f"{rounds[0]['median_step_ms']:.0f}-{rounds[-1]['median_step_ms']:.0f}"
                       if len(rounds) > 1 else "")
    records.append(middle)

by_key = {(r["variant"], r["activation"]): r for r in records}


def ratio(numerator, denominator):
    return f"{numerator / denominator:.2f}" if denominator else "-"


def print_table(header, rows):
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        # Text columns left-aligned, numbers right-aligned.
        print("  ".join(str(cell).ljust(width) if i < 4 else str(cell).rjust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))).rstrip())


first = records[0]
print(f"\nResNet-{first['depth']} training, batch {first['batch']}, "
      f"device={first.get('device', 'cpu')}, bf16={first.get('bf16', False)}, "
      f"channels_last={first['channels_last']}, threads={first['threads']}, "
      f"median of {first['steps']} steps, median of {first['rounds']} round(s)")
print_table(
    ["variant", "impl", "torch", "activation", "ms/step", "rounds' range", "images/s",
     f"vs {BASELINE}", "swish/relu"],
    [[r["variant"], r["impl"], r["torch"], r["activation"], f"{r['median_step_ms']:.1f}",
      r["range"],
      f"{r['images_per_second']:.1f}",
      ratio(r["images_per_second"],
            by_key.get((BASELINE, r["activation"]), {}).get("images_per_second")),
      # Swish's step time over ReLU's, shown once per variant, on its swish row.
      ratio(r["median_step_ms"], by_key.get((r["variant"], "relu"), {}).get("median_step_ms"))
      if r["activation"] == "swish" else ""]
     for r in sorted(records, key=lambda r: r["activation"])])
PYTHON

if ((failures > 0)); then
  echo "!! $failures run(s) failed; see above" >&2
  exit 1
fi
