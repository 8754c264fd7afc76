#!/usr/bin/env bash
# Everything a GPU machine can tell us that CI cannot: builds actsearch against the CUDA
# LibTorch of an installed PyTorch 2.x, runs the whole test suite (tests/gpu_test.cc included,
# which CI skips), measures ResNet-20 training throughput on the GPU side by side with PyTorch
# eager and torch.compile on the same GPU, and trains real children on it.
#
#   bench/gpu_session.sh build|test|throughput|train|all
#
# Environment:
#   PYTHON       the Python whose torch to build against and compare with (default python3)
#   BUILD_DIR    default build/gpu
#   CMAKE_ARGS   extra arguments for cmake (e.g. where Boost or SQLite are)
#   CIFAR_DIR    a cifar-10-batches-bin folder for `train` (skipped when unset)
#   TRAIN_STEPS  steps per child for `train` (default 2000)
# The other dependencies (gRPC, Protobuf, Boost, SQLite, GoogleTest, zlib) must be installed;
# deploy/install-deps.sh does it on Debian 12.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
BUILD_DIR="${BUILD_DIR:-build/gpu}"
read -r -a cmake_args <<<"${CMAKE_ARGS:-}"

build() {
  local prefix
  prefix="$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DTORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}" \
    "${cmake_args[@]}" >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)"
}

run_tests() {
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  "$BUILD_DIR/tests/gpu_test"
  ctest --test-dir "$BUILD_DIR" -j "$(nproc)" --output-on-failure
}

throughput() {
  for bf16 in 1 0; do
    DEVICE=cuda BF16="$bf16" STEPS="${STEPS:-100}" WARMUP="${WARMUP:-20}" \
      CPP_BENCH="$BUILD_DIR/bench/train_bench" DEBIAN_PYTHON= VENV_PYTHON="$PYTHON" \
      bench/resnet_throughput.sh
  done
}

train() {
  if [[ -z "${CIFAR_DIR:-}" ]]; then
    echo "CIFAR_DIR not set; skipping the training runs" >&2
    return 0
  fi
  for activation in relu 'x * sigmoid(beta * x)' beta; do
    "$BUILD_DIR/actsearch" train --expr "$activation" --dataset "cifar10:$CIFAR_DIR" \
      --profile paper --steps "${TRAIN_STEPS:-2000}" --device cuda --format json || true
  done
}

case "${1:-all}" in
  build) build ;;
  test) run_tests ;;
  throughput) throughput ;;
  train) train ;;
  all) build && run_tests && throughput && train ;;
  *) echo "usage: bench/gpu_session.sh build|test|throughput|train|all" >&2; exit 2 ;;
esac
