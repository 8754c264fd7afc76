#!/usr/bin/env bash
# Installs PyPI's torch wheel (CUDA LibTorch 2.x) into .venv-cuda, once.
#   --print-prefix   print the CMake prefix path of its LibTorch (installing first if needed)
# ACTSEARCH_TORCH_VERSION picks the wheel (default below: the version CI builds against).
set -euo pipefail
cd "$(dirname "$0")/.."
version="${ACTSEARCH_TORCH_VERSION:-2.15.0}"
venv=.venv-cuda
python="$venv/bin/python"
if ! "$python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$version')" \
    2>/dev/null; then
  echo "setup-cuda-torch: installing torch==$version into $venv (about 5 GB)" >&2
  python3 -m venv "$venv"
  "$python" -m pip install -q --disable-pip-version-check "torch==$version" >&2
fi
if [ "${1:-}" = "--print-prefix" ]; then
  "$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null
fi
