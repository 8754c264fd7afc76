#!/usr/bin/env bash
# Everything a GPU machine can tell us that CI cannot, in one run of about 8 minutes on a lent
# H100/H200 (16 cores): builds actsearch against the CUDA LibTorch of the machine's PyTorch 2.x,
# runs the GPU tests (tests/gpu_test.cc, and the CUDA tests of the activation and kernel
# suites, which CI skips), then measures, side by side in one run:
#   - the activations' forward + backward as ratios to ReLU (bench/activation_bench: the
#     generated kernels of searched expressions, SUGAR and PWLU, against LibTorch operators);
#   - ResNet-20 training steps: the C++ worker eager and as a CUDA graph, against PyTorch eager
#     and torch.compile on the same GPU (bench/resnet_throughput.sh), bf16, channels-last;
#   - a whole child: `actsearch train` for 10K steps at batch 128, data load and final
#     evaluation included, with and without the CUDA graph (on CIFAR_DIR, or on random data
#     in CIFAR-10's format and size);
#   - K children at once on the GPU (K = 1, 4, 8; K_STEPS steps each, default 1000),
#     without and with MPS: children per hour against one at a time.
#
#   bench/gpu_session.sh deps                 # here, before: .device-deps/ (Debian packages)
#   bench/gpu_session.sh build|test|bench|all # on the GPU machine
#
# The lent machine has PyTorch, CMake, Ninja and the CUDA toolkit but none of our Debian
# packages: `deps` downloads them (about 32 MB of .deb files) into .device-deps/, which the
# device run carries; `build` unpacks them under /tmp and builds against them. A machine with
# the packages installed (deploy/install-deps.sh) needs no `deps`.
#
# Environment:
#   PYTHON       the Python whose torch to build against and compare with (default python3)
#   BUILD_DIR    default build/gpu
#   OUT          where the three logs go: build.log, test.log, bench.log (default
#                build/gpu/session; the device tool sets it)
#   CIFAR_DIR    a cifar-10-batches-bin folder for the child runs (random images when unset)
#   CHILD_STEPS  steps of each child run (default 10000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
BUILD_DIR="${BUILD_DIR:-build/gpu}"
OUT="${OUT:-$BUILD_DIR/session}"
DEPS_DIR=.device-deps
DEPS_ROOT=/tmp/actsearch-deps
# The packages the build needs beyond a compiler, CMake and PyTorch (deploy/install-deps.sh
# lists the same for a Debian machine), with the libraries they need at run time.
DEBIAN_PACKAGES=(
  libgrpc++-dev libgrpc++1.51 libgrpc-dev libgrpc29 protobuf-compiler protobuf-compiler-grpc
  libprotobuf-dev libprotobuf32 libprotoc32 libprotobuf-lite32 libabsl-dev libabsl20220623
  libre2-dev libre2-9 libc-ares2 libc-ares-dev libsqlite3-dev libsqlite3-0 libboost1.74-dev
  libboost-dev libboost-program-options1.74-dev libboost-program-options1.74.0
  libboost-program-options-dev nlohmann-json3-dev libgtest-dev libgmock-dev googletest
  zlib1g-dev libssl-dev libssl3
)

deps() {
  mkdir -p "$DEPS_DIR"
  (cd "$DEPS_DIR" && apt-get download "${DEBIAN_PACKAGES[@]}")
  du -sh "$DEPS_DIR"
}

# Unpacks the carried packages under $DEPS_ROOT (never over /) and points the build and the
# programs at them.
use_carried_deps() {
  compgen -G "$DEPS_DIR/*.deb" >/dev/null || return 0
  if [[ ! -d "$DEPS_ROOT" ]]; then
    for deb in "$DEPS_DIR"/*.deb; do dpkg -x "$deb" "$DEPS_ROOT"; done
  fi
  export PATH="$DEPS_ROOT/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$DEPS_ROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  extra_prefix=";$DEPS_ROOT/usr"
}

torch_lib_dir() { "$PYTHON" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))'; }

build() {
  extra_prefix=""
  use_carried_deps
  local prefix
  prefix="$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix$extra_prefix" -DTORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}" \
    >/dev/null
  # Only what the session runs: the whole tree would take twice as long.
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target gpu_test activation_test kernel_source_test \
    activation_bench train_bench actsearch
}

run_tests() {
  use_carried_deps
  export LD_LIBRARY_PATH="$(torch_lib_dir):${LD_LIBRARY_PATH:-}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  local status=0
  "$BUILD_DIR/tests/gpu_test" || status=1
  "$BUILD_DIR/activation/activation_test" --gtest_filter='*Cuda*' || status=1
  "$BUILD_DIR/activation/kernel_source_test" || status=1
  return $status
}

# CIFAR-10's binary files filled with random images and labels: the real thing's size and
# shape, for timing a child where the data set cannot travel (its accuracy means nothing).
random_cifar() {
  local dir=/tmp/cifar-random/cifar-10-batches-bin
  if [[ ! -f "$dir/test_batch.bin" ]]; then
    mkdir -p "$dir"
    "$PYTHON" - "$dir" <<'PYTHON'
import os, sys
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    records = bytearray(os.urandom(10000 * 3073))
    records[::3073] = bytes(b % 10 for b in records[::3073])  # a label, then 3072 pixels
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(records)
PYTHON
  fi
  echo "$dir"
}

child() {  # child NAME ARGS...: one `actsearch train` run, timed from start to exit
  local name="$1"
  shift
  local dataset="cifar10:${CIFAR_DIR:-$(random_cifar)}"
  local start end
  start="$(date +%s.%N)"
  "$BUILD_DIR/actsearch" train --dataset "$dataset" --profile paper \
    --steps "${CHILD_STEPS:-10000}" --device cuda --format json --quiet "$@" || true
  end="$(date +%s.%N)"
  echo "child $name: $(python3 -c "print(f'{$end - $start:.1f}')") s from start to exit"
}

# K children at once on the GPU, as `actsearch worker --per-device K` trains them: the
# aggregate children per hour against one at a time (K = 1), without and with MPS.
children_per_hour() {
  local dataset="cifar10:${CIFAR_DIR:-$(random_cifar)}" steps="${K_STEPS:-1000}"
  for k in 1 4 8; do
    local start end
    start="$(date +%s.%N)"
    for ((i = 0; i < k; i++)); do
      "$BUILD_DIR/actsearch" train --dataset "$dataset" --profile paper --steps "$steps" \
        --device cuda --seed "$i" --format json --quiet --threads 2 >/dev/null &
    done
    wait
    end="$(date +%s.%N)"
    python3 -c "w = $end - $start; print(f'K={$k}${MPS_LABEL:-}: {w:.1f} s, {$k * 3600 / w:.0f} children/h of $steps steps')"
  done
}

bench() {
  use_carried_deps
  export LD_LIBRARY_PATH="$(torch_lib_dir):${LD_LIBRARY_PATH:-}"
  for layout in --channels-last ""; do
    "$BUILD_DIR/bench/activation_bench" --device cuda --rounds 100 $layout
  done
  STEPS=50 WARMUP=10 DEVICE=cuda BF16=1 CPP_BENCH="$BUILD_DIR/bench/train_bench" \
    DEBIAN_PYTHON= VENV_PYTHON="$PYTHON" bench/resnet_throughput.sh
  child relu-graph --expr relu
  child relu-eager --expr relu --no-cuda-graph
  child swish-graph --expr 'x * sigmoid(beta * x)'
  children_per_hour
  if command -v nvidia-cuda-mps-control >/dev/null && nvidia-cuda-mps-control -d; then
    MPS_LABEL=" (MPS)" children_per_hour
    echo quit | nvidia-cuda-mps-control
  else
    echo "no MPS on this machine"
  fi
}

mkdir -p "$OUT"
case "${1:-all}" in
  deps) deps ;;
  build) build ;;
  test) run_tests ;;
  bench) bench ;;
  all)
    build 2>&1 | tee "$OUT/build.log" | tail -5
    run_tests 2>&1 | tee "$OUT/test.log" | grep -E "^\[  (PASSED|FAILED|SKIPPED) |FAILED TEST" || true
    bench 2>&1 | tee "$OUT/bench.log"
    ;;
  *) echo "usage: bench/gpu_session.sh deps|build|test|bench|all" >&2; exit 2 ;;
esac
