#!/usr/bin/env bash
# All set-up, then the full test suite, in both build configurations:
#   cpu   Debian's libtorch 1.13: build and run every test;
#   cuda  PyPI's CUDA LibTorch 2.x: build (CUDA code compiles and links) and run the tests on
#         the CPU, so GPU builds never break unseen. Set ACTSEARCH_SKIP_CUDA=1 to skip it.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
export CTEST_OUTPUT_ON_FAILURE=1
jobs="${ACTSEARCH_JOBS:-$(nproc)}"

deploy/build.sh cpu
ctest --test-dir build/cpu -j "$jobs"

if [ "${ACTSEARCH_SKIP_CUDA:-0}" != 1 ]; then
  deploy/build.sh cuda
  ctest --test-dir build/cuda -j "$jobs"
fi
