#!/usr/bin/env bash
# Installs every Debian package s2s builds, tests or benchmarks with. Idempotent: packages that
# are already present cost one dpkg query, and apt-get runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libeigen3-dev libopenblas-dev libxxhash-dev
  libdnnl-dev  # oneDNN: the int8 products of quantized models (s2s quantize)
  libsentencepiece-dev sentencepiece libicu-dev
  libopencv-dev libyaml-cpp-dev libboost-program-options-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenmpi-dev openmpi-bin
  time  # GNU time: peak memory in scripts/bench-memory.sh and bench-reply.sh
  python3 python3-onnx python3-numpy
  # the Python package (python/): bindings, headers, an offline pip into a venv, its tests
  pybind11-dev python3-dev python3-venv python3-pip python3-setuptools python3-wheel python3-pytest
  # s2s serve: HTTP, the web page's charts, and the headless browser its tests drive
  libcpp-httplib-dev libjs-chart.js chromium fonts-dejavu-core curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
