#!/usr/bin/env bash
# Builds actsearch. Usage: deploy/build.sh [cpu|cuda]
#   cpu   against Debian's libtorch-dev 1.13 (the default), in build/cpu
#   cuda  against the LibTorch inside PyPI's torch wheel (2.x, CUDA), in build/cuda; the wheel
#         is installed into .venv-cuda by deploy/setup-cuda-torch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
flavor="${1:-cpu}"
jobs="${ACTSEARCH_JOBS:-$(nproc)}"
extra=()
case "$flavor" in
  cpu) ;;
  cuda)
    prefix="$(deploy/setup-cuda-torch.sh --print-prefix)"
    extra+=("-DCMAKE_PREFIX_PATH=$prefix")
    # No GPU here: build for Hopper (H100/H200) unless told otherwise.
    extra+=("-DTORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}")
    cuda_root="${CUDA_HOME:-/usr/local/cuda}"
    command -v nvcc >/dev/null || export PATH="$cuda_root/bin:$PATH"
    extra+=("-DCUDAToolkit_ROOT=$cuda_root" "-DCUDA_TOOLKIT_ROOT_DIR=$cuda_root")
    ;;
  *) echo "usage: deploy/build.sh [cpu|cuda]" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavor" -G Ninja -DCMAKE_BUILD_TYPE=Release "${extra[@]}" >/dev/null
cmake --build "build/$flavor" -j "$jobs"
