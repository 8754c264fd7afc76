#!/usr/bin/env bash
# Installs every Debian 12 package actsearch needs. Idempotent and non-interactive; skips apt
# entirely when everything is already installed. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev
  libboost-dev libboost-program-options-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libsqlite3-dev sqlite3 zlib1g-dev
  openssl  # the tests make TLS certificates
  nlohmann-json3-dev
  libjs-chart.js  # the dashboard draws with it
  gnuplot-nox     # `actsearch plot` draws with it
  libopenblas0-openmp  # replaces the reference BLAS under Debian's libtorch (LSTM, linear layers)
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  dataset-fashion-mnist
  python3 python3-venv python3-pip
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
